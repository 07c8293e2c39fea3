// Event-driven drift repair: with the periodic check pushed out to 60 s, a table changed by
// someone else is repaired within seconds only because the enforcer watches `nft monitor`;
// its own transactions (recognised by PID) never trigger a check.
import type { ServiceProcess } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiled, liveTable, metric, nodeStatus, podPools, publish, startEnforcer, startWorld, stopWorld, waitApplied, waitStatus, type World } from './enforcer-world.js';

describe('enforcer: drift noticed through nft monitor', () => {
  let w: World;
  let enforcer: ServiceProcess | undefined;

  beforeAll(async () => {
    w = await startWorld();
    enforcer = await startEnforcer(w, ['--drift-interval', '60s']);
    await publish(w, compiled(w, podPools(true), 1));
    await waitApplied(w, 1);
  }, 120_000);
  afterAll(async () => stopWorld(w, enforcer), 60_000);

  it('its own applies trigger no drift check', async () => {
    for (let v = 2; v <= 5; v++) {
      await publish(w, compiled(w, podPools(v % 2 === 0), v));
      await waitApplied(w, v);
    }
    await new Promise((r) => setTimeout(r, 500)); // let any monitor event arrive
    expect(await metric(enforcer!, 'natfleet_enforcer_drift_events_total')).toBe(0);
    expect(await metric(enforcer!, 'natfleet_enforcer_drift_checks_total')).toBe(0);
  });

  it.each([
    ['deletes its table', 'delete table inet natfleet'],
    ['flushes its chain', 'flush chain inet natfleet postrouting'],
  ])('someone %s: repaired within seconds although the periodic check is 60 s away', async (_what, command) => {
    const before = (await nodeStatus(w))!.driftRepairs;
    const t0 = Date.now();
    await w.topo.node.nft(command);
    await waitStatus(w, 'drift repaired', (s) => s.driftRepairs === before + 1, 10_000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect((await liveTable(w))?.comment).toMatch(/^natfleet v5 /);
    expect(await metric(enforcer!, 'natfleet_enforcer_drift_events_total')).toBeGreaterThanOrEqual(1);
  });
});
