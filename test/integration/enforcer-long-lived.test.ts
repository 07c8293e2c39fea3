// Established connections survive table changes: one TCP connection per family, opened
// through the masquerading node before the first change, echoes a line after each of 50
// bundles applied as deltas (sets changing every time) and is never closed. Also a burst of bundles
// published back to back converges on the newest.
import { openPersistentConnection, type PersistentConnection, type ServiceProcess } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiled, liveTable, metric, pool, podPools, publish, startEnforcer, startWorld, stopWorld, waitApplied, type World } from './enforcer-world.js';

const SWAPS = 50;

describe('enforcer: long-lived connections across bundle swaps', () => {
  let w: World;
  let enforcer: ServiceProcess | undefined;
  let version = 100;
  const conns: PersistentConnection[] = [];

  beforeAll(async () => {
    w = await startWorld();
    enforcer = await startEnforcer(w);
    await publish(w, compiled(w, swapEntries(0), version));
    await waitApplied(w, version);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close()));
    await stopWorld(w, enforcer);
  }, 60_000);

  /**
   * The pod's pools stay natOutgoing; an unrelated pool comes and goes and changes NAT mode,
   * so the sets change every swap. A natOutgoing /16 that never changes keeps every set in
   * place (the table has one per prefix length present), and the extras are never
   * neighbours (adjacent CIDRs merge into a new prefix length): every swap is a delta.
   */
  const swapEntries = (i: number) => [
    ...podPools(true),
    pool('keep-v4-16', { cidr: '10.99.0.0/16', natOutgoing: true }),
    ...(i % 3 === 0 ? [] : [pool(`extra-${i % 7}`, { cidr: `10.${100 + 2 * (i % 50)}.0.0/16`, natOutgoing: i % 2 === 0 })]),
    pool('v6-extra', { cidr: `fd00:${(200 + i).toString(16)}::/64`, natOutgoing: i % 2 === 1 }),
  ];

  it(`a TCP connection opened before ${SWAPS} swaps keeps working through all of them (IPv4 and IPv6)`, async () => {
    const v4 = await openPersistentConnection(w.topo.pod, w.topo.extAddress.v4, w.server.port);
    const v6 = await openPersistentConnection(w.topo.pod, w.topo.extAddress.v6, w.server.port);
    conns.push(v4, v6);
    expect(v4.peer).toBe(w.topo.nodeExternal.v4);
    expect(v6.peer).toBe(w.topo.nodeExternal.v6);
    const comments = new Set<string>();
    const latencies: number[] = [];
    const applyMs: number[] = [];
    for (let i = 1; i <= SWAPS; i++) {
      const b = compiled(w, swapEntries(i), ++version);
      const t0 = performance.now();
      await publish(w, b);
      applyMs.push((await waitApplied(w, version)).applyMs);
      latencies.push(performance.now() - t0);
      comments.add((await liveTable(w))!.comment!);
      await v4.echo(`swap-${i}-v4`);
      await v6.echo(`swap-${i}-v6`);
    }
    const pct = (xs: number[], p: number): number => Math.round([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!);
    console.info(
      `publish → applied status seen (KV polled every 25 ms): median ${pct(latencies, 0.5)} ms, p95 ${pct(latencies, 0.95)} ms; ` +
        `applyMs (render + nft + read-back): median ${pct(applyMs, 0.5)} ms, p95 ${pct(applyMs, 0.95)} ms`,
    );
    expect(comments.size).toBe(SWAPS);
    expect(v4.closed).toBe(false);
    expect(v6.closed).toBe(false);
    // One connection each, seen once by the server: never re-established.
    const seen = w.server.seen();
    expect(seen.filter((p) => p.peer === w.topo.nodeExternal.v4)).toHaveLength(1);
    expect(seen.filter((p) => p.peer === w.topo.nodeExternal.v6)).toHaveLength(1);
    expect(await metric(enforcer!, 'natfleet_enforcer_applies_total', { result: 'success' })).toBe(SWAPS + 1);
    // Since issue 16 these are deltas (the first apply is the whole-table swap).
    expect(await metric(enforcer!, 'natfleet_enforcer_applies_by_mode_total', { mode: 'delta' })).toBe(SWAPS);
  }, 180_000);

  it('a burst of bundles converges on the newest; skipped ones are counted, none fails', async () => {
    const first = version + 1;
    const burst = Array.from({ length: 20 }, (_, i) => compiled(w, swapEntries(1_000 + i), first + i));
    for (const b of burst) await publish(w, b);
    version = first + burst.length - 1;
    const s = await waitApplied(w, version);
    expect(s.appliedDigest).toBe(burst.at(-1)!.digest);
    expect((await liveTable(w))?.comment).toBe(`natfleet v${version} ${burst.at(-1)!.digest}`);
    const applied = (await metric(enforcer!, 'natfleet_enforcer_applies_total', { result: 'success' })) - (SWAPS + 1);
    const collapsed = await metric(enforcer!, 'natfleet_enforcer_bundles_skipped_total', { reason: 'collapsed' });
    expect(await metric(enforcer!, 'natfleet_enforcer_applies_total', { result: 'failure' })).toBe(0);
    expect(applied).toBeGreaterThanOrEqual(1);
    expect(applied).toBeLessThanOrEqual(burst.length);
    console.info(`burst of ${burst.length}: ${applied} transactions, ${collapsed} collapsed`);
  }, 60_000);
});
