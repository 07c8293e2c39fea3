import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FleetMetrics } from '../src/fleet-metrics.js';
import type { RolloutView } from '../src/rollout-control-routes.js';

type Summary = RolloutView['summary'];

/** A view as GET /v1/rollout answers, reduced to what the gauges read. */
function view(summary: Partial<Summary>, o: { complete?: boolean; version?: number | null; phase?: string } = {}): RolloutView {
  const s = { total: 0, inSync: 0, behind: 0, failed: 0, silent: 0, ...summary };
  s.total = s.inSync + s.behind + s.failed + s.silent;
  return {
    cluster: 'default',
    desired: o.version === null ? null : { version: o.version ?? 7, digest: 'sha256:x', publishedAt: new Date(0).toISOString() },
    evaluated: null,
    nodes: [],
    summary: s,
    complete: o.complete ?? false,
    staged: o.phase === undefined ? null : ({ phase: o.phase } as RolloutView['staged']),
    aborted: false,
  } as RolloutView;
}

const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

function setup(views: (RolloutView | Error)[]) {
  let clock = 1_000_000;
  let reads = 0;
  const registry = new Registry();
  new FleetMetrics({
    registry,
    now: () => clock,
    view: async () => {
      const v = views[Math.min(reads, views.length - 1)]!;
      reads++;
      if (v instanceof Error) throw v;
      return v;
    },
  });
  return { registry, advance: (ms: number) => (clock += ms), reads: () => reads };
}

describe('fleet metrics', () => {
  it('one view read serves every gauge and every scrape within a second', async () => {
    const f = setup([view({ inSync: 3, behind: 1, failed: 2, silent: 4 }, { version: 42, phase: 'halted' })]);
    const t = await f.registry.metrics();
    expect(f.reads()).toBe(1);
    expect(value(t, 'natfleet_fleet_nodes{status="in_sync"}')).toBe(3);
    expect(value(t, 'natfleet_fleet_nodes{status="behind"}')).toBe(1);
    expect(value(t, 'natfleet_fleet_nodes{status="failed"}')).toBe(2);
    expect(value(t, 'natfleet_fleet_nodes{status="silent"}')).toBe(4);
    expect(value(t, 'natfleet_fleet_desired_version')).toBe(42);
    expect(value(t, 'natfleet_fleet_rollout_phase{phase="halted"}')).toBe(1);
    expect(value(t, 'natfleet_fleet_rollout_phase{phase="progressing"}')).toBe(0);
    expect(value(t, 'natfleet_fleet_view_ok')).toBe(1);
    for (let i = 0; i < 5; i++) await f.registry.metrics();
    f.advance(999);
    await f.registry.metrics();
    expect(f.reads()).toBe(1);
    f.advance(1);
    await f.registry.metrics();
    expect(f.reads()).toBe(2);
  });

  it('seconds since complete: from start until first complete, 0 while complete, then from the last complete view', async () => {
    const f = setup([view({ behind: 1 }), view({ inSync: 1 }, { complete: true }), view({ failed: 1 })]);
    f.advance(30_000);
    expect(value(await f.registry.metrics(), 'natfleet_fleet_seconds_since_complete_rollout')).toBe(30);
    f.advance(5_000);
    const complete = await f.registry.metrics();
    expect(value(complete, 'natfleet_fleet_seconds_since_complete_rollout')).toBe(0);
    expect(value(complete, 'natfleet_fleet_rollout_complete')).toBe(1);
    f.advance(12_000);
    const t = await f.registry.metrics();
    expect(value(t, 'natfleet_fleet_seconds_since_complete_rollout')).toBe(12);
    expect(value(t, 'natfleet_fleet_rollout_complete')).toBe(0);
  });

  it('a failed read keeps the last values, says so, and does not trust a stale complete', async () => {
    const f = setup([view({ inSync: 2 }, { complete: true }), new Error('nats down')]);
    await f.registry.metrics();
    f.advance(10_000);
    const t = await f.registry.metrics();
    expect(value(t, 'natfleet_fleet_view_ok')).toBe(0);
    expect(value(t, 'natfleet_fleet_nodes{status="in_sync"}')).toBe(2);
    expect(value(t, 'natfleet_fleet_seconds_since_complete_rollout')).toBe(10);
  });

  it('nothing published yet: zeros, no phase, view ok', async () => {
    const t = await setup([view({}, { version: null })]).registry.metrics();
    expect(value(t, 'natfleet_fleet_desired_version')).toBe(0);
    expect(value(t, 'natfleet_fleet_nodes{status="silent"}')).toBe(0);
    expect(t).not.toMatch(/natfleet_fleet_rollout_phase\{[^}]*\} 1/);
    expect(value(t, 'natfleet_fleet_view_ok')).toBe(1);
  });

  it('a read that hangs past the timeout answers the scrape with view_ok 0', async () => {
    const registry = new Registry();
    new FleetMetrics({ registry, timeoutMs: 50, view: () => new Promise<RolloutView>(() => undefined) });
    const t0 = Date.now();
    const t = await registry.metrics();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(value(t, 'natfleet_fleet_view_ok')).toBe(0);
  });
});
