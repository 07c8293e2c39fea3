// The enforcer under the deployment's NATS permissions (the same users the local stack and
// deploy/nats/natfleet-auth.conf use): as `enforcer-node-1` it can read bundles and write
// its own status key, and that is all it needs — replies come to its own inbox prefix, the
// only one it may subscribe to. The password comes from the environment. A node named as on
// EKS (dots) runs the same way. (Every allow and deny per role: packages/local-stack/test.)
import { join } from 'node:path';
import { decodeNodeStatus } from '@natfleet/bus';
import { compilerPermissions, enforcerPermissions, enforcerUser, renderAuthorization } from '@natfleet/local-stack';
import { waitUntil, type ServiceProcess } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiled, NODE, podPools, publish, startEnforcer, startWorld, stopWorld, waitApplied, type World } from './enforcer-world.js';

const DOTTED = 'ip-10-0-0-5.ec2.internal';

describe('enforcer: runs with the least-privilege NATS user of its node', () => {
  let w: World;
  let enforcer: ServiceProcess | undefined;

  beforeAll(async () => {
    const natsConfig = renderAuthorization([
      { user: 'compiler', password: 'compiler-secret', permissions: compilerPermissions() },
      { user: `enforcer-${NODE}`, password: 'enforcer-secret', permissions: enforcerPermissions(NODE) },
      { user: enforcerUser(DOTTED), password: 'dotted-secret', permissions: enforcerPermissions(DOTTED) },
      // The test itself sets up, publishes and reads statuses with kv.get (direct get), which no natfleet role needs.
      { user: 'test-admin', password: 'admin-secret', permissions: { publish: ['>'], subscribe: ['>'] } },
    ]);
    w = await startWorld({ natsConfig, user: 'test-admin', password: 'admin-secret' });
  }, 120_000);
  afterAll(async () => stopWorld(w, enforcer), 60_000);

  it('follows bundles and reports its status; credentials from NATFLEET_NATS_USER/PASSWORD', async () => {
    await publish(w, compiled(w, podPools(true), 3));
    enforcer = await startEnforcer(w, [], 'readyz', { NATFLEET_NATS_USER: `enforcer-${NODE}`, NATFLEET_NATS_PASSWORD: 'enforcer-secret' });
    await waitApplied(w, 3);
    await publish(w, compiled(w, podPools(false), 4));
    await waitApplied(w, 4);
    const denied = enforcer.logs().filter((l) => /permission/i.test(JSON.stringify(l)));
    expect(denied).toEqual([]);
    expect(enforcer.tail(200)).not.toContain('enforcer-secret');
  });

  it('a wrong password keeps it enforcing, unready, and saying why', async () => {
    await enforcer!.stop();
    enforcer = await startEnforcer(w, [], 'healthz', { NATFLEET_NATS_USER: `enforcer-${NODE}`, NATFLEET_NATS_PASSWORD: 'wrong' });
    type Ready = { checks: Record<string, { ok: boolean }> };
    await waitUntil('saved bundle handled', async () => (await enforcer!.getJson<Ready>('/readyz')).body.checks.restore?.ok === true);
    const res = await enforcer.getJson<Ready>('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.checks.nats?.ok).toBe(false);
    expect(res.body.checks.bundle?.ok).toBe(true); // the saved bundle is in force
    await waitUntil('the refusal logged', () => enforcer!.logs().some((l) => l.level === 50 && /NATS refused the credentials/.test(String(l.msg))), { timeoutMs: 10_000 }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}:\n${enforcer!.tail(20)}`);
    });
  });

  it('a dotted (EKS) node name gets its own user, inbox and key', async () => {
    await enforcer!.stop();
    enforcer = await startEnforcer(w, ['--node-name', DOTTED, '--state-dir', join(w.dir, 'state-dotted')], 'readyz', { NATFLEET_NATS_USER: enforcerUser(DOTTED), NATFLEET_NATS_PASSWORD: 'dotted-secret' });
    await waitUntil('the dotted node applied v4', async () => {
      const e = await w.kv.get(DOTTED);
      const s = e?.operation === 'PUT' ? decodeNodeStatus(e.value) : undefined;
      return s?.node === DOTTED && s.state === 'applied' && s.appliedVersion === 4;
    }, { timeoutMs: 30_000 });
    expect(enforcer.logs().filter((l) => /permission/i.test(JSON.stringify(l)))).toEqual([]);
  });
});
