// The enforcer recovers on its own: someone flushing or deleting its table is repaired
// within seconds; a crashed enforcer restarted on a node whose table is gone re-enforces
// the saved bundle while NATS is still down (fail static) and reports once NATS is back;
// NATS restarting does not lose bundles published afterwards; a tampered saved bundle is
// refused and the node converges from NATS instead.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ServiceProcess } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiled, liveTable, metric, nodeStatus, podPools, publish, startEnforcer, startWorld, stopWorld, waitApplied, waitStatus, type World } from './enforcer-world.js';

describe('enforcer: drift repair, fail-static restart, NATS outages', () => {
  let w: World;
  let enforcer: ServiceProcess | undefined;
  let version = 1;
  let comment = '';

  beforeAll(async () => {
    w = await startWorld();
    enforcer = await startEnforcer(w);
    const b = compiled(w, podPools(true), version);
    await publish(w, b);
    await waitApplied(w, version);
    comment = `natfleet v${version} ${b.digest}`;
  }, 120_000);
  afterAll(async () => stopWorld(w, enforcer), 60_000);

  const masqueraded = async (): Promise<void> => {
    expect(await w.topo.probe(w.server, 4, { timeoutMs: 3_000 })).toEqual({ ok: true, peer: w.topo.nodeExternal.v4 });
  };

  it.each([
    ['flushes its chain', 'flush chain inet natfleet postrouting'],
    ['deletes its table', 'delete table inet natfleet'],
    ['flushes its table', 'flush table inet natfleet'],
    ['adds a rule to its chain', 'add rule inet natfleet postrouting ip saddr 10.65.0.0/24 accept'],
  ])('someone %s → repaired within a few seconds and counted', async (_what, command) => {
    const before = (await nodeStatus(w))!.driftRepairs;
    const t0 = Date.now();
    await w.topo.node.nft(command);
    const s = await waitStatus(w, 'drift repaired', (x) => x.driftRepairs === before + 1, 10_000);
    const repairMs = Date.now() - t0;
    expect(s.state).toBe('applied');
    expect((await liveTable(w))?.comment).toBe(comment);
    await masqueraded();
    expect(await metric(enforcer!, 'natfleet_enforcer_drift_repairs_total')).toBe(before + 1);
    console.info(`drift (${command}) repaired and reported in ${repairMs} ms`);
  });

  it('killed enforcer + NATS down + table deleted → a restarted enforcer re-applies from disk, then reports when NATS is back', async () => {
    await enforcer!.kill();
    enforcer = undefined;
    await w.nats.stop();
    await w.topo.node.nft('delete table inet natfleet');
    expect(await liveTable(w)).toBeUndefined();

    const t0 = Date.now();
    const startedAt = new Date().toISOString();
    enforcer = await startEnforcer(w, [], 'healthz');
    // Fail static: the saved bundle is in force although the control plane is unreachable.
    await waitUntilTable(comment);
    console.info(`fail-static re-apply ${Date.now() - t0} ms after process start (NATS down)`);
    await masqueraded();
    const ready = await enforcer.getJson<{ ready: boolean; checks: Record<string, { ok: boolean }> }>('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.nats?.ok).toBe(false);
    expect(ready.body.checks.bundle?.ok).toBe(true);
    expect(enforcer.logs().some((l) => l.msg === 'bundle applied' && l.reason === 'restore')).toBe(true);

    await w.nats.startStopped();
    const t1 = Date.now();
    const s = await waitStatus(w, 'reported by the new process after NATS came back', (x) => x.heartbeatAt > startedAt && x.state === 'applied', 30_000);
    console.info(`status seen ${Date.now() - t1} ms after NATS was back`);
    expect(s.appliedVersion).toBe(version);
    await enforcer.waitReady('readyz', 30_000);
  });

  it('NATS stops and starts again; a bundle published afterwards is applied', async () => {
    await w.nats.stop();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await metric(enforcer!, 'natfleet_enforcer_nats_connected')).toBe(0);
    await masqueraded(); // rules stay in force meanwhile
    await w.nats.startStopped();
    const b = compiled(w, podPools(true), ++version);
    await publish(w, b);
    const t0 = Date.now();
    await waitApplied(w, version, 30_000);
    console.info(`after NATS restart: publish acked → applied reported in ${Date.now() - t0} ms`);
    comment = `natfleet v${version} ${b.digest}`;
    expect((await liveTable(w))?.comment).toBe(comment);
    expect(await metric(enforcer!, 'natfleet_enforcer_nats_connected')).toBe(1);
  });

  it('a bundle published while the enforcer is stopped is applied when it starts (latest per subject)', async () => {
    await enforcer!.stop();
    enforcer = undefined;
    const b = compiled(w, podPools(true), ++version);
    await publish(w, b);
    const startedAt = new Date().toISOString();
    enforcer = await startEnforcer(w);
    await waitStatus(w, `v${version} applied after start`, (x) => x.heartbeatAt > startedAt && x.appliedVersion === version && x.state === 'applied');
    comment = `natfleet v${version} ${b.digest}`;
    expect((await liveTable(w))?.comment).toBe(comment);
    // The saved (older) bundle was still in force, so it was adopted without a swap; then the newest was applied.
    const events = enforcer.logs().filter((l) => l.msg === 'bundle applied' || l.msg === 'saved bundle already in force');
    expect(events.map((l) => [l.msg, l.version])).toEqual([
      ['saved bundle already in force', version - 1],
      ['bundle applied', version],
    ]);
  });

  it('a tampered saved bundle is refused at start (not applied); the node converges from NATS', async () => {
    await enforcer!.kill();
    enforcer = undefined;
    const file = join(w.stateDir, 'bundle.json');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { fleet: { v4: { masquerade: string[] } } };
    saved.fleet.v4.masquerade = ['0.0.0.0/0'];
    writeFileSync(file, JSON.stringify(saved));
    await w.topo.node.nft('delete table inet natfleet');
    const startedAt = new Date().toISOString();
    enforcer = await startEnforcer(w, [], 'healthz');
    // From NATS (the latest bundle), not from the tampered file.
    await waitStatus(w, `v${version} applied by the new process`, (x) => x.heartbeatAt > startedAt && x.state === 'applied' && x.appliedVersion === version, 30_000);
    const refused = enforcer.logs().find((l) => typeof l.msg === 'string' && l.msg.startsWith('saved bundle refused'));
    expect(refused).toMatchObject({ code: 'BAD_DIGEST' });
    expect(enforcer.logs().some((l) => l.msg === 'bundle applied' && l.reason === 'restore')).toBe(false);
    expect(await metric(enforcer, 'natfleet_enforcer_rejections_total', { code: 'BAD_DIGEST' })).toBe(1);
    expect((await liveTable(w))?.comment).toBe(comment);
    // The good bundle replaced the tampered file.
    expect(JSON.parse(readFileSync(file, 'utf8')).fleet.v4.masquerade).toEqual(['10.65.0.0/24']);
  });

  async function waitUntilTable(expected: string): Promise<void> {
    const end = Date.now() + 15_000;
    while ((await liveTable(w))?.comment !== expected) {
      if (Date.now() > end) throw new Error(`table comment never became ${expected}; enforcer log:\n${enforcer?.tail(30)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
});
