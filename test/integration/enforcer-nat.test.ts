// The enforcer as a real process against real NATS and real nft in the node namespace:
// it announces itself, applies published bundles, and pod → ext TCP is NATed exactly as
// the pools say, on IPv4 and IPv6. Another table in the namespace is never touched,
// and `uninstall` removes only what the enforcer owns.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, run, type ServiceProcess } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiled, liveTable, NODE, nodeStatus, pool, podPools, publish, startEnforcer, startWorld, stopWorld, waitApplied, waitStatus, type World } from './enforcer-world.js';

const OTHER_TABLE = 'table ip other_owner {\n chain out { type filter hook output priority 0; policy accept; counter comment "not natfleet"; }\n}\n';

describe('enforcer: published bundles NAT real packets', () => {
  let w: World;
  let enforcer: ServiceProcess | undefined;
  let version = 0;
  const listOther = async (): Promise<string> => (await w.topo.node.exec('nft', ['list', 'table', 'ip', 'other_owner'])).stdout;
  let otherBefore = '';

  beforeAll(async () => {
    w = await startWorld();
    // Un-NATed traffic needs a way back from ext; NATed traffic does not use it.
    await w.topo.addReturnRoute('10.65.0.0/24');
    await w.topo.addReturnRoute('fd00:65::/64');
    await w.topo.node.nft(OTHER_TABLE);
    otherBefore = await listOther();
    enforcer = await startEnforcer(w);
  }, 120_000);
  afterAll(async () => stopWorld(w, enforcer), 60_000);

  const probe = async (family: 4 | 6): Promise<string> => {
    const r = await w.topo.probe(w.server, family, { timeoutMs: 3_000 });
    if (!r.ok) throw new Error(`probe v${family} failed: ${r.error}`);
    return r.peer;
  };

  it('announces itself in natfleet-nodes before any bundle exists', async () => {
    const s = await waitStatus(w, 'announced', () => true);
    expect(s).toMatchObject({
      node: NODE,
      cluster: 'test',
      labels: { zone: 'test', rack: '1' },
      addresses: ['203.0.113.1', '2001:db8:113::1'],
      state: 'pending',
      appliedVersion: 0,
      enforcerVersion: '0.1.0',
    });
    expect(await liveTable(w)).toBeUndefined();
    const first = s.heartbeatAt;
    await waitStatus(w, 'heartbeat', (x) => x.heartbeatAt > first, 10_000);
  });

  it.each([4, 6] as const)('IPv%i: natOutgoing pool → masqueraded to the node address', async (family) => {
    const b = compiled(w, podPools(true), ++version);
    await publish(w, b);
    const s = await waitApplied(w, version);
    expect(s).toMatchObject({ appliedDigest: b.digest, error: '', errorCode: '' });
    expect(s.applyMs).toBeGreaterThan(0);
    expect((await liveTable(w))?.comment).toBe(`natfleet v${version} ${b.digest}`);
    expect(await probe(family)).toBe(family === 4 ? w.topo.nodeExternal.v4 : w.topo.nodeExternal.v6);
  });

  it.each([4, 6] as const)('IPv%i: pool without natOutgoing → not NATed (routed back)', async (family) => {
    await publish(w, compiled(w, podPools(false), ++version));
    await waitApplied(w, version);
    expect(await probe(family)).toBe(family === 4 ? w.topo.podAddress.v4 : w.topo.podAddress.v6);
  });

  it.each([4, 6] as const)('IPv%i: destination inside a disabled pool → not NATed towards that range', async (family) => {
    await publish(w, compiled(w, [...podPools(true), pool('no-nat-ext-v4', { cidr: '203.0.113.0/24', disabled: true }), pool('no-nat-ext-v6', { cidr: '2001:db8:113::/64', disabled: true })], ++version));
    await waitApplied(w, version);
    expect(await probe(family)).toBe(family === 4 ? w.topo.podAddress.v4 : w.topo.podAddress.v6);
  });

  it.each([4, 6] as const)('IPv%i: disabled pool removed → masqueraded again', async (family) => {
    await publish(w, compiled(w, podPools(true), ++version));
    await waitApplied(w, version);
    expect(await probe(family)).toBe(family === 4 ? w.topo.nodeExternal.v4 : w.topo.nodeExternal.v6);
  });

  it('/readyz and /status report the applied version', async () => {
    const ready = await enforcer!.getJson<{ ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> }>('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.bundle).toEqual({ ok: true, detail: `v${version} applied` });
    expect(ready.body.checks.nats?.ok).toBe(true);
    const status = await enforcer!.getJson<{ appliedVersion: number; natsConnected: boolean }>('/status');
    expect(status.body).toMatchObject({ appliedVersion: version, natsConnected: true });
  });

  it('never touches another table: it survives applies and drift repair', async () => {
    await w.topo.node.nft('delete table inet natfleet');
    await waitStatus(w, 'drift repaired', (s) => s.driftRepairs >= 1);
    expect(await listOther()).toBe(otherBefore);
  });

  it('uninstall deletes the natfleet table and the saved bundle only; twice is fine', async () => {
    await enforcer!.stop();
    enforcer = undefined;
    expect(existsSync(join(w.stateDir, 'bundle.json'))).toBe(true);
    const entry = join(REPO_ROOT, 'services', 'enforcer', 'dist', 'main.js');
    const args = [entry, 'uninstall', '--netns', w.topo.node.name, '--state-dir', w.stateDir, '--log-level', 'warn'];
    const first = await run(process.execPath, args);
    expect(first.stdout).toContain('deleted table inet natfleet; removed 1 state file(s)');
    expect(await liveTable(w)).toBeUndefined();
    expect(existsSync(w.stateDir)).toBe(false);
    expect(await listOther()).toBe(otherBefore);
    const second = await run(process.execPath, args);
    expect(second.stdout).toContain('table inet natfleet was not present; removed 0 state file(s)');
    // The status stays in the bucket (the control plane's record); only local state is removed.
    expect((await nodeStatus(w))?.appliedVersion).toBe(version);
  });
});
