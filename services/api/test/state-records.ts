// Hand-written rollout-controller state records for the API's unit tests (the shape is
// packages/rollout-planner records.ts). Not a test file itself.
import type { RolloutStateRecord } from '@natfleet/rollout-planner';

export const T0 = Date.parse('2026-12-02T10:00:00Z');
export const MIN = 60_000;
export const C = { version: 42, digest: 'sha256:c' };
export const S = { version: 40, digest: 'sha256:s' };

export type Over = Partial<Omit<RolloutStateRecord, 'state'>> & { state?: Partial<RolloutStateRecord['state']> };
/** Wave 0 (canary, n1) passed; wave 1 (half: n2, n3) admitted at T0+10m; wave 2 (rest) pending. */
export function record(over: Over = {}): RolloutStateRecord {
  const { state, ...rest } = over;
  return {
    cluster: 'default',
    policy: 'staged',
    waves: [
      { name: 'canary', bakeMs: 5 * MIN, selector: "rack == 'r1'" },
      { name: 'half', bakeMs: 10 * MIN, percent: 50 },
      { name: 'rest', bakeMs: 0, percent: 100 },
    ],
    progressDeadlineMs: 30 * MIN,
    onFailure: 'rollback',
    state: {
      candidate: C,
      stable: S,
      phase: 'progressing',
      waveIndex: 1,
      waveStartedAt: T0 + 10 * MIN,
      admitted: [
        { index: 0, name: 'canary', nodes: ['n1'], admittedAt: T0 },
        { index: 1, name: 'half', nodes: ['n2', 'n3'], admittedAt: T0 + 10 * MIN },
      ],
      promoted: false,
      everyone: false,
      pausedAt: null,
      conditions: [{ type: 'Progressing', status: 'True', reason: 'WaveAdmitted', message: 'wave half admitted: 2 node(s)' }],
      ...state,
    },
    gates: [
      { node: 'n1', wave: 0, result: 'passed' },
      { node: 'n2', wave: 1, result: 'passed' },
      { node: 'n3', wave: 1, result: 'pending', gate: 'ack', detail: 'applied v41' },
    ],
    immediate: false,
    startedAt: new Date(T0).toISOString(),
    events: Array.from({ length: 14 }, (_, i) => ({ at: new Date(T0 + i).toISOString(), type: `E${i}`, message: `event ${i}` })),
    leader: 'compiler-a',
    updatedAt: new Date(T0 + 11 * MIN).toISOString(),
    ...rest,
  };
}

