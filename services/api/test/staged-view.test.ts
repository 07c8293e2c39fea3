// The `staged` section of GET /v1/rollout from hand-written controller state records:
// wave states, bake left, gate results per node, and the complete/aborted verdict.
import type { RolloutStateRecord } from '@natfleet/rollout-planner';
import { C, MIN, S, T0, record } from './state-records.js';
import { describe, expect, it } from 'vitest';
import { abortReason, stagedVerdict, stagedView } from '../src/staged-view.js';

const states = (r: RolloutStateRecord, now: number) => stagedView(r, now).waves.map((w) => w.state);

describe('staged waves', () => {
  it('one row per policy wave: passed, admitted with bake left, pending; nodes with their gates', () => {
    const v = stagedView(record(), T0 + 12 * MIN);
    expect(v).toMatchObject({ policy: 'staged', phase: 'progressing', candidate: C, stable: S, paused: false, promoted: false, immediate: false });
    expect(v.waves.map((w) => [w.index, w.name, w.selector, w.percent, w.bakeMs, w.state, w.bakeRemainingMs])).toEqual([
      [0, 'canary', "rack == 'r1'", null, 5 * MIN, 'passed', null],
      [1, 'half', null, 50, 10 * MIN, 'admitted', 8 * MIN],
      [2, 'rest', null, 100, 0, 'pending', null],
    ]);
    expect(v.waves[0]!.admittedAt).toBe(new Date(T0).toISOString());
    expect(v.waves[2]!.admittedAt).toBeNull();
    expect(v.waves[1]!.nodes).toEqual([
      { node: 'n2', gate: { result: 'passed' } },
      { node: 'n3', gate: { result: 'pending', gate: 'ack', detail: 'applied v41' } },
    ]);
    expect(v.events.map((e) => e.type)).toEqual(['E4', 'E5', 'E6', 'E7', 'E8', 'E9', 'E10', 'E11', 'E12', 'E13']);
  });

  it('gates passed: baking until the bake ends (counted from admission or resume), then passed', () => {
    const r = record({ gates: [{ node: 'n1', wave: 0, result: 'passed' }, { node: 'n2', wave: 1, result: 'passed' }, { node: 'n3', wave: 1, result: 'passed' }] });
    expect(stagedView(r, T0 + 13 * MIN).waves[1]).toMatchObject({ state: 'baking', bakeRemainingMs: 7 * MIN });
    expect(stagedView(r, T0 + 25 * MIN).waves[1]).toMatchObject({ state: 'passed', bakeRemainingMs: 0 });
  });

  it('paused: the whole bake is left (resume restarts it); promoted: none', () => {
    expect(stagedView(record({ state: { phase: 'paused', pausedAt: T0 + 11 * MIN } }), T0 + 19 * MIN)).toMatchObject({ paused: true, waves: [{}, { state: 'admitted', bakeRemainingMs: 10 * MIN }, {}] });
    expect(stagedView(record({ state: { promoted: true } }), T0 + 11 * MIN)).toMatchObject({ promoted: true, waves: [{}, { state: 'admitted', bakeRemainingMs: 0 }, {}] });
  });

  it('a failed health gate fails its wave; a rolled-back record (admitted emptied) still shows the wave nodes from the gates', () => {
    const gates = [
      { node: 'n1', wave: 0, result: 'passed' as const },
      { node: 'n2', wave: 1, result: 'passed' as const },
      { node: 'n3', wave: 1, result: 'failed' as const, gate: 'health' as const, code: 'HEALTH_CHECK_FAILED', detail: 'curl: (28) timeout' },
    ];
    const conditions = [
      { type: 'Progressing' as const, status: 'False' as const, reason: 'GateFailed', message: 'n3: health HEALTH_CHECK_FAILED' },
      { type: 'Aborted' as const, status: 'True' as const, reason: 'GateFailed', message: 'candidate v42 aborted (rolled back, every node runs stable): n3: health HEALTH_CHECK_FAILED' },
    ];
    const r = record({ gates, state: { phase: 'rolled-back', admitted: [], conditions } });
    const v = stagedView(r, T0 + 12 * MIN);
    expect(v.waves.map((w) => w.state)).toEqual(['passed', 'failed', 'pending']);
    expect(v.waves[1]!.nodes).toEqual([
      { node: 'n2', gate: { result: 'passed' } },
      { node: 'n3', gate: { result: 'failed', gate: 'health', code: 'HEALTH_CHECK_FAILED', detail: 'curl: (28) timeout' } },
    ]);
    expect(v.waves[1]!.bakeRemainingMs).toBeNull();
    expect(abortReason(v)).toBe('GateFailed: candidate v42 aborted (rolled back, every node runs stable): n3: health HEALTH_CHECK_FAILED');
    // A failure in an earlier wave fails that wave, not the current one.
    const early = record({ gates: [{ ...gates[2]!, node: 'n1', wave: 0 }, gates[1]!, { node: 'n3', wave: 1, result: 'passed' }], state: { phase: 'halted', conditions } });
    expect(states(early, T0)).toEqual(['failed', 'admitted', 'pending']);
    // A deadline failure names no node: the current wave failed.
    expect(states(record({ state: { phase: 'halted', conditions } }), T0)).toEqual(['passed', 'failed', 'pending']);
  });

  it('aborted: the current wave stays admitted with no bake; completed: every wave passed; before any admission: all pending', () => {
    expect(stagedView(record({ state: { phase: 'aborted', admitted: [] } }), T0).waves.map((w) => [w.state, w.bakeRemainingMs])).toEqual([['passed', null], ['admitted', null], ['pending', null]]);
    expect(states(record({ state: { phase: 'completed', waveIndex: 2, everyone: true } }), T0)).toEqual(['passed', 'passed', 'passed']);
    expect(states(record({ state: { waveIndex: -1, waveStartedAt: null, admitted: [] }, gates: [] }), T0)).toEqual(['pending', 'pending', 'pending']);
  });

  it('an immediate wave (planner: the last index; types: -1) shows under the last policy wave, named immediate', () => {
    for (const index of [2, -1]) {
      const r = record({ immediate: true, state: { waveIndex: 2, promoted: true, admitted: [{ index: 0, name: 'canary', nodes: ['n1'], admittedAt: T0 }, { index, name: 'immediate', nodes: ['n2', 'n3'], admittedAt: T0 + MIN }] }, gates: [] });
      const v = stagedView(r, T0 + 2 * MIN);
      expect(v.immediate).toBe(true);
      expect(v.waves[2]).toMatchObject({ name: 'immediate', state: 'admitted', nodes: [{ node: 'n2', gate: null }, { node: 'n3', gate: null }] });
    }
  });

  it('no policy: no waves', () => {
    expect(stagedView(record({ policy: '', waves: [], state: { phase: 'completed', everyone: true, waveIndex: -1, admitted: [] } }), T0).waves).toEqual([]);
  });
});

describe('complete and aborted', () => {
  const fleet = (version: number, complete: boolean) => ({ desired: { version }, complete });
  const rolledBack = record({ state: { phase: 'rolled-back', admitted: [], conditions: [{ type: 'Aborted', status: 'True', reason: 'GateFailed', message: 'n3 failed' }] } });

  it('no record: the fleet view decides', () => {
    expect(stagedVerdict(fleet(42, true), null, T0)).toEqual({ staged: null, aborted: false, complete: true });
  });

  it('halted / rolled back / aborted for the desired version: aborted with the reason, never complete', () => {
    for (const phase of ['halted', 'rolled-back', 'aborted'] as const) {
      const v = stagedVerdict(fleet(42, true), record({ state: { ...rolledBack.state, phase } }), T0);
      expect(v).toMatchObject({ aborted: true, abortedReason: 'GateFailed: n3 failed', complete: false });
    }
  });

  it('a record about an older candidate does not abort the newer desired version', () => {
    expect(stagedVerdict(fleet(43, false), rolledBack, T0)).toMatchObject({ aborted: false, complete: false });
    expect(stagedVerdict(fleet(43, true), rolledBack, T0)).toMatchObject({ aborted: false, complete: true });
  });

  it('progressing: complete only as the fleet view says (a node not yet admitted is behind)', () => {
    expect(stagedVerdict(fleet(42, false), record(), T0)).toMatchObject({ aborted: false, complete: false });
    expect(stagedVerdict(fleet(42, true), record({ state: { phase: 'completed', everyone: true } }), T0)).toMatchObject({ aborted: false, complete: true });
  });

  it('every node runs the candidate but its last wave is still under its gates (progressing or paused): not complete', () => {
    for (const phase of ['progressing', 'paused'] as const) {
      expect(stagedVerdict(fleet(42, true), record({ state: { phase, waveIndex: 2 } }), T0)).toMatchObject({ aborted: false, complete: false });
    }
    // No policy: the controller completes it at once; a record about an older candidate does not hold back the newer one.
    expect(stagedVerdict(fleet(42, true), record({ policy: '', waves: [], state: { phase: 'progressing' } }), T0)).toMatchObject({ complete: true });
    expect(stagedVerdict(fleet(43, true), record(), T0)).toMatchObject({ complete: true });
  });
});

describe('an ended rollout with its waves emptied', () => {
  it('takes the waves and failures from the candidate outcome record', () => {
    const r = record({ gates: [], state: { phase: 'rolled-back', admitted: [] } });
    const outcome = {
      version: 42,
      digest: 'sha256:c',
      outcome: 'rolled-back' as const,
      policy: 'staged',
      immediate: false,
      reason: 'n3 failed',
      failures: [{ node: 'n3', gate: 'health' as const, code: 'HEALTH_CHECK_FAILED', detail: 'probe failed' }],
      waves: [{ name: 'canary', nodes: ['n1'] }, { name: 'half', nodes: ['n2', 'n3'] }],
      stable: S,
      startedAt: 's',
      endedAt: 'e',
    };
    const v = stagedView(r, T0, outcome);
    expect(v.waves.map((w) => [w.state, w.nodes])).toEqual([
      ['passed', [{ node: 'n1', gate: { result: 'passed' } }]],
      ['failed', [{ node: 'n2', gate: null }, { node: 'n3', gate: { result: 'failed', gate: 'health', code: 'HEALTH_CHECK_FAILED', detail: 'probe failed' } }]],
      ['pending', []],
    ]);
    // Another version's outcome is not this rollout's.
    expect(stagedView(r, T0, { ...outcome, version: 41 }).waves[1]!.nodes).toEqual([]);
    // While the waves are still admitted, the record's own gates win.
    expect(stagedView(record(), T0, outcome).waves[1]!.nodes[1]!.gate).toEqual({ result: 'pending', gate: 'ack', detail: 'applied v41' });
  });
});
