// What each process of the local stack gets in its environment: nats-server every password
// reference of its config, each daemon only its own NATS password, nothing else any
// password, whatever the supervisor's own environment holds.
import { readFileSync } from 'node:fs';
import { ManagedProcess, waitUntil } from '@natfleet/testkit';
import { describe, expect, it } from 'vitest';
import { childEnv, natfleetUsers, natsServerEnv, passwordEnv } from '../src/index.js';

const passwordVars = (env: NodeJS.ProcessEnv): string[] => Object.keys(env).filter((k) => /PASSWORD/.test(k)).sort();
/** A supervisor environment that already carries passwords (e.g. exported in the operator's shell). */
const parent: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin', HOME: '/root', NATFLEET_NODES: '2', NATFLEET_NATS_PASSWORD: 'leak', NATFLEET_API_PASSWORD: '"leak"', NATFLEET_ENFORCER_NODE_2_PASSWORD: '"leak"' };

describe('child process environments', () => {
  const users = natfleetUsers(['node-1', 'node-2', 'ip-10-0-0-5.ec2.internal']);
  const passwords = Object.fromEntries(users.map((u) => [u.user, `1-${u.user}`]));

  it('a daemon gets the scrubbed parent plus its own settings only', () => {
    const env = childEnv(parent, { NATFLEET_NATS_USER: 'enforcer-node-1', NATFLEET_NATS_PASSWORD: passwords['enforcer-node-1']! });
    expect(passwordVars(env)).toEqual(['NATFLEET_NATS_PASSWORD']);
    expect(env.NATFLEET_NATS_PASSWORD).toBe('1-enforcer-node-1');
    expect(env).toMatchObject({ PATH: '/usr/bin:/bin', HOME: '/root', NATFLEET_NODES: '2' });
    expect(passwordVars(childEnv(parent))).toEqual([]);
  });

  it('nats-server gets every password reference of its config, JSON-quoted, and no daemon password', () => {
    const env = natsServerEnv(parent, users, passwords);
    expect(passwordVars(env)).toEqual(users.map((u) => passwordEnv(u.user)).sort());
    expect(env.NATFLEET_ENFORCER_IP_10_0_0_5_EC2_INTERNAL_PASSWORD).toBe('"1-enforcer-ip-10-0-0-5.ec2.internal"');
    expect(env.NATFLEET_ENFORCER_NODE_2_PASSWORD).toBe('"1-enforcer-node-2"');
    expect(() => natsServerEnv(parent, users, {})).toThrow(/no password/);
  });

  it('is what the started process really holds (/proc/<pid>/environ)', async () => {
    const proc = new ManagedProcess('/bin/sleep', ['30'], { env: childEnv(parent, { NATFLEET_NATS_PASSWORD: 'mine' }) });
    try {
      await waitUntil('sleep running', () => proc.running);
      const environ = readFileSync(`/proc/${proc.pid}/environ`, 'utf8').split('\0').filter(Boolean);
      expect(environ.filter((kv) => kv.includes('PASSWORD'))).toEqual(['NATFLEET_NATS_PASSWORD=mine']);
    } finally {
      await proc.stop();
    }
  });
});
