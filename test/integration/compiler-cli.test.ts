// The natfleet-compiler command line as operators meet it: --help documents every
// setting with its default and env variable, bad settings fail at start naming the
// setting, and `keygen` writes a usable key pair.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadSigningKey, loadTrustedKeys } from '@natfleet/bundle';
import { makeTempDir, removeDir, run, serviceEntry } from '@natfleet/testkit';
import { afterAll, describe, expect, it } from 'vitest';

const compiler = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [serviceEntry('compiler'), ...args], { allowFailure: true, timeoutMs: 20_000, env: { PATH: process.env['PATH'], ...env } });

describe('natfleet-compiler CLI', () => {
  const dir = makeTempDir('compiler-cli');
  afterAll(() => removeDir(dir));

  it('--help lists every setting with its default and env variable', async () => {
    const { stdout, code } = await compiler(['--help']);
    expect(code).toBe(0);
    for (const [flag, env] of [
      ['--etcd-endpoints', 'NATFLEET_ETCD_ENDPOINTS'],
      ['--etcd-prefix', 'NATFLEET_ETCD_PREFIX'],
      ['--nats-url', 'NATFLEET_NATS_URL'],
      ['--nats-user', 'NATFLEET_NATS_USER'],
      ['--nats-password', 'NATFLEET_NATS_PASSWORD'],
      ['--cluster', 'NATFLEET_CLUSTER'],
      ['--signing-key-file', 'NATFLEET_SIGNING_KEY_FILE'],
      ['--debounce', 'NATFLEET_DEBOUNCE'],
      ['--max-delay', 'NATFLEET_MAX_DELAY'],
      ['--lease-ttl', 'NATFLEET_LEASE_TTL'],
      ['--replica-id', 'NATFLEET_REPLICA_ID'],
      ['--stream-replicas', 'NATFLEET_STREAM_REPLICAS'],
      ['--ops-host', 'NATFLEET_OPS_HOST'],
      ['--ops-port', 'NATFLEET_OPS_PORT'],
      ['--log-level', 'NATFLEET_LOG_LEVEL'],
    ]) {
      expect(stdout).toContain(flag);
      expect(stdout.replace(/\s+/g, ' ')).toContain(env);
    }
    const flat = stdout.replace(/\s+/g, ' ');
    for (const d of ['default: 15ms', 'default: 250ms', 'default: 5s', 'default: 9464', 'default: http://127.0.0.1:2379', 'default: nats://127.0.0.1:4222']) expect(flat).toContain(d);
    expect(stdout).toContain('keygen');
  });

  it('bad settings fail at start, naming the flag or the env variable', async () => {
    const bad = await compiler(['--signing-key-file', '/nope', '--debounce', 'soon']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--debounce/);
    const env = await compiler([], { NATFLEET_SIGNING_KEY_FILE: '/nope', NATFLEET_LEASE_TTL: '0s' });
    expect(env.code).not.toBe(0);
    expect(env.stderr).toMatch(/NATFLEET_LEASE_TTL/);
    const missingKey = await compiler(['--signing-key-file', join(dir, 'absent.key')]);
    expect(missingKey.code).not.toBe(0);
    expect(missingKey.stderr).toMatch(/--signing-key-file.*absent\.key/);
  });

  it('keygen writes signing.key (0600) and signing.pub, prints the keyId, refuses to overwrite', async () => {
    const out = join(dir, 'keys');
    const r = await compiler(['keygen', '--out', out]);
    expect(r.code).toBe(0);
    const keyId = r.stdout.trim();
    expect(keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(statSync(join(out, 'signing.key')).mode & 0o777).toBe(0o600);
    expect(loadSigningKey(readFileSync(join(out, 'signing.key'), 'utf8')).keyId).toBe(keyId);
    expect([...loadTrustedKeys([readFileSync(join(out, 'signing.pub'), 'utf8')]).keys()]).toEqual([keyId]);

    const again = await compiler(['keygen', '--out', out]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/exists.*--force/);
    const forced = await compiler(['keygen', '--out', out, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout.trim()).not.toBe(keyId);
  });
});
