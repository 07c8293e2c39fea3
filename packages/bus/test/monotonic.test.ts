// Successive node-status reads merged so they never go backwards (a lagging replica).
import { describe, expect, it } from 'vitest';
import { MonotonicNodeStatuses, pendingNodeStatus } from '../src/index.js';

const at = (node: string, version: number, heartbeatAt: string) => pendingNodeStatus(node, { state: 'applied', appliedVersion: version, heartbeatAt });

describe('MonotonicNodeStatuses', () => {
  it('keeps the newer report of a node when a later read serves an older one', () => {
    const m = new MonotonicNodeStatuses();
    expect(m.merge({ statuses: [at('a', 238, '2026-01-01T00:00:10Z')], deleted: [] }).map((s) => s.appliedVersion)).toEqual([238]);
    // A lagging replica: v197 with an older heartbeat.
    expect(m.merge({ statuses: [at('a', 197, '2026-01-01T00:00:05Z')], deleted: [] }).map((s) => s.appliedVersion)).toEqual([238]);
    // A genuinely newer report wins.
    expect(m.merge({ statuses: [at('a', 240, '2026-01-01T00:00:11Z')], deleted: [] }).map((s) => s.appliedVersion)).toEqual([240]);
  });
  it('keeps a node a stale read does not list, and drops one whose key was deleted', () => {
    const m = new MonotonicNodeStatuses();
    m.merge({ statuses: [at('a', 5, '2026-01-01T00:00:10Z'), at('b', 5, '2026-01-01T00:00:10Z')], deleted: [] });
    expect(m.merge({ statuses: [at('a', 5, '2026-01-01T00:00:10Z')], deleted: [] }).map((s) => s.node)).toEqual(['a', 'b']);
    expect(m.merge({ statuses: [], deleted: ['b'] }).map((s) => s.node)).toEqual(['a']);
  });
  it('with equal heartbeats, the higher applied version wins', () => {
    const m = new MonotonicNodeStatuses();
    m.merge({ statuses: [at('a', 7, '2026-01-01T00:00:10Z')], deleted: [] });
    expect(m.merge({ statuses: [at('a', 6, '2026-01-01T00:00:10Z')], deleted: [] })[0]!.appliedVersion).toBe(7);
  });
});

describe('MonotonicNodeStatuses with stream sequences (what real reads carry)', () => {
  const snap = (entries: [string, number, number, string][], deleted: [string, number][] = []) => ({
    statuses: entries.map(([node, version, , hb]) => at(node, version, hb)),
    deleted: deleted.map(([n]) => n),
    seq: new Map([...entries.map(([n, , s]): [string, number] => [n, s]), ...deleted]),
  });
  it('a lagging read (lower sequence) never wins, whatever its heartbeat says', () => {
    const m = new MonotonicNodeStatuses();
    m.merge(snap([['a', 238, 40, '2026-01-01T00:00:10Z']]));
    expect(m.merge(snap([['a', 197, 12, '2027-01-01T00:00:00Z']]))[0]!.appliedVersion).toBe(238);
  });
  it('a writer whose clock jumped backwards (reinstalled, NTP) still moves forward', () => {
    const m = new MonotonicNodeStatuses();
    m.merge(snap([['a', 5, 10, '2027-06-01T00:00:00Z']])); // a year ahead
    expect(m.merge(snap([['a', 6, 11, '2026-06-01T00:00:00Z']]))[0]!.appliedVersion).toBe(6);
  });
  it('a decommissioned node is not brought back by a lagging read', () => {
    const m = new MonotonicNodeStatuses();
    m.merge(snap([['a', 5, 10, '2026-01-01T00:00:10Z']]));
    expect(m.merge(snap([], [['a', 11]]))).toEqual([]);
    expect(m.merge(snap([['a', 5, 10, '2026-01-01T00:00:10Z']]))).toEqual([]);
    expect(m.merge(snap([['a', 7, 12, '2026-01-01T00:00:20Z']])).map((s) => s.appliedVersion)).toEqual([7]); // re-registered later
  });
});
