import { describe, expect, it } from 'vitest';
import { admissionOf, isRolloutPolicyError, plan, planWaves, type PlanResult, type RolloutState } from '../src/index.js';
import { V1, V2, V3, acked, fleetOf, input, policy } from './fixtures.js';

const names = (s: RolloutState) => s.admitted.flatMap((w) => w.nodes);
const cond = (s: RolloutState, type: string) => s.conditions.find((c) => c.type === type);

/** Starts a rollout and drives wave 0 to the point where it is admitted. */
function started(): PlanResult {
  return plan(input({ now: 0 }));
}

describe('plan: admission and waves', () => {
  it('first step admits the first wave only, and publishes an admission', () => {
    const r = started();
    expect(r.state.phase).toBe('progressing');
    expect(r.state.admitted.map((w) => w.nodes)).toEqual([['node-00', 'node-01']]);
    expect(r.admission).toEqual({ version: 2, digest: 'sha256:two', everyone: false, waves: [{ name: 'canary', nodes: ['node-00', 'node-01'] }], stable: V1 });
    expect(r.events.map((e) => e.type)).toEqual(['Started', 'WaveAdmitted']);
  });

  it('a wave waits for every ACK, then for its bake, then the next wave is admitted', () => {
    const s0 = started().state;
    const waiting = plan(input({ state: s0, now: 5000, observations: acked(['node-00'], V2) }));
    expect(waiting.admission).toBe('unchanged');
    expect(cond(waiting.state, 'Progressing')?.reason).toBe('WaitingForGates');
    const baking = plan(input({ state: s0, now: 500, observations: acked(['node-00', 'node-01'], V2) }));
    expect(baking.admission).toBe('unchanged');
    expect(cond(baking.state, 'Progressing')?.reason).toBe('Baking');
    const next = plan(input({ state: s0, now: 1000, observations: acked(['node-00', 'node-01'], V2) }));
    expect(next.state.waveIndex).toBe(1);
    expect(next.state.admitted[1]!.nodes).toHaveLength(4); // ceil(50% of 8)
    expect(next.events.map((e) => e.type)).toEqual(['WavePassed', 'WaveAdmitted']);
  });

  it('walks every wave to completion; completed means everyone, and the candidate becomes stable', () => {
    let r = started();
    const all = fleetOf(10).map((n) => n.name);
    for (let t = 1000; r.state.phase === 'progressing'; t += 1000) r = plan(input({ state: r.state, now: t, observations: acked(all, V2) }));
    expect(r.state.phase).toBe('completed');
    expect(r.state.stable).toEqual(V2);
    expect(r.admission).not.toBe('unchanged');
    expect((r.admission as { everyone: boolean }).everyone).toBe(true);
    expect(names(r.state).sort()).toEqual(all);
    expect(cond(r.state, 'Completed')?.status).toBe('True');
  });

  it('webhook, when configured, must pass too', () => {
    const p = { ...policy, webhook: true };
    const s0 = plan(input({ policy: p })).state;
    const noHook = plan(input({ policy: p, state: s0, now: 2000, observations: acked(['node-00', 'node-01'], V2) }));
    expect(noHook.state.waveIndex).toBe(0);
    const obs = { 'node-00': { appliedVersion: 2, webhook: 'pass' as const }, 'node-01': { appliedVersion: 2, webhook: 'pass' as const } };
    expect(plan(input({ policy: p, state: s0, now: 2000, observations: obs })).state.waveIndex).toBe(1);
  });

  it('without a policy everyone is admitted at once', () => {
    const r = plan(input({ policy: null }));
    expect(r.state.phase).toBe('completed');
    expect(r.admission).toMatchObject({ version: 2, everyone: true, stable: V2 });
  });

  it('deleting the policy after a rollback completes the candidate: every node runs it, and the state says so', () => {
    const failed = plan(input({ state: started().state, now: 1, observations: { 'node-00': { appliedVersion: null, nack: { code: 'NFT_SYNTAX', message: 'x' } } } })).state;
    expect(failed.phase).toBe('rolled-back');
    const r = plan(input({ policy: null, state: failed, now: 2 }));
    expect(r.state.phase).toBe('completed');
    expect(r.admission).toMatchObject({ everyone: true, version: 2 });
  });

  it('the immediate command admits everyone left as the final wave', () => {
    const r = plan(input({ state: started().state, now: 10, commands: [{ type: 'immediate' }] }));
    expect(names(r.state).sort()).toEqual(fleetOf(10).map((n) => n.name));
    expect(r.state.waveIndex).toBe(2);
    const done = plan(input({ state: r.state, now: 11, observations: acked(names(r.state), V2) }));
    expect(done.state.phase).toBe('completed'); // promoted: no bake
  });

  it('promote skips the remaining bakes but not the gates', () => {
    const s0 = started().state;
    const promoted = plan(input({ state: s0, now: 1, commands: [{ type: 'promote' }], observations: acked(['node-00'], V2) }));
    expect(promoted.state.waveIndex).toBe(0);
    const next = plan(input({ state: promoted.state, now: 2, observations: acked(['node-00', 'node-01'], V2) }));
    expect(next.state.waveIndex).toBe(1);
  });
});

describe('plan: failures', () => {
  it('a NACK with onFailure rollback drops the admission to none and marks the candidate aborted', () => {
    const obs = acked(['node-00'], V2, { 'node-01': { appliedVersion: 1, nack: { code: 'E_NFT', message: 'syntax error' } } });
    const r = plan(input({ state: started().state, now: 100, observations: obs }));
    expect(r.state.phase).toBe('rolled-back');
    expect(r.state.admitted).toEqual([]);
    expect(r.admission).toMatchObject({ waves: [], everyone: false, stable: V1 });
    const aborted = cond(r.state, 'Aborted')!;
    expect(aborted).toMatchObject({ status: 'True', reason: 'GateFailed' });
    expect(aborted.message).toContain('node-01: nack E_NFT (syntax error)');
  });

  it('a health failure with onFailure halt keeps the canaries', () => {
    const obs = acked(['node-00'], V2, { 'node-01': { appliedVersion: 2, healthFailed: { code: 'PROBE', output: 'no route' } } });
    const r = plan(input({ policy: { ...policy, onFailure: 'halt' }, state: started().state, now: 100, observations: obs }));
    expect(r.state.phase).toBe('halted');
    expect(names(r.state)).toEqual(['node-00', 'node-01']);
    expect(r.admission).toBe('unchanged');
    expect(cond(r.state, 'Aborted')?.message).toContain('node-01: health PROBE (no route)');
  });

  it('a webhook fail is a failed gate', () => {
    const obs = acked(['node-00'], V2, { 'node-01': { appliedVersion: 2, webhook: 'fail' } });
    expect(plan(input({ policy: { ...policy, webhook: true }, state: started().state, now: 1, observations: obs })).state.phase).toBe('rolled-back');
  });

  it('a webhook fail carries what the webhook answered in the failure detail', () => {
    const obs = acked(['node-00'], V2, { 'node-01': { appliedVersion: 2, webhook: 'fail', webhookDetail: 'HTTP 503: busy' } });
    const r = plan(input({ policy: { ...policy, webhook: true }, state: started().state, now: 1, observations: obs }));
    expect(r.events.find((e) => e.type === 'Failed')).toMatchObject({ failures: [{ node: 'node-01', gate: 'webhook', code: 'WEBHOOK_FAILED', detail: 'HTTP 503: busy' }] });
  });

  it('a wave\'s own webhook flag overrides the policy\'s for its nodes', () => {
    const waves = policy.waves.map((w, i) => ({ ...w, webhook: i === 1 }));
    const p = { ...policy, waves, webhook: false };
    // Wave 0 passes on ACK alone (no webhook for it)...
    const s1 = plan(input({ policy: p, state: started().state, now: 1000, observations: acked(['node-00', 'node-01'], V2) })).state;
    expect(s1.waveIndex).toBe(1);
    // ...wave 1 waits for the webhook, and its fail is a failure.
    const wave1 = s1.admitted[1]!.nodes;
    const waiting = plan(input({ policy: p, state: s1, now: 5_000, observations: acked(['node-00', 'node-01', ...wave1], V2) }));
    expect(waiting.state.waveIndex).toBe(1);
    expect(cond(waiting.state, 'Progressing')?.reason).toBe('WaitingForGates');
    const failed = plan(input({ policy: p, state: s1, now: 2000, observations: acked(['node-00', 'node-01'], V2, { [wave1[0]!]: { appliedVersion: 2, webhook: 'fail' } }) }));
    expect(failed.state.phase).toBe('rolled-back');
    // And the other way round: a wave may opt out of the policy's webhook.
    const optOut = { ...policy, webhook: true, waves: policy.waves.map((w, i) => ({ ...w, webhook: i === 0 ? false : undefined })) };
    expect(plan(input({ policy: optOut, state: started().state, now: 1000, observations: acked(['node-00', 'node-01'], V2) })).state.waveIndex).toBe(1);
  });

  it('a failure in an earlier, already passed wave still fails the rollout', () => {
    const s1 = plan(input({ state: started().state, now: 1000, observations: acked(['node-00', 'node-01'], V2) })).state;
    expect(s1.waveIndex).toBe(1);
    const r = plan(input({ state: s1, now: 1100, observations: { 'node-00': { appliedVersion: 2, healthFailed: { code: 'X', output: 'y' } } } }));
    expect(r.state.phase).toBe('rolled-back');
  });

  it('progressDeadline exceeded while waiting for ACKs fails, naming the pending nodes', () => {
    const r = plan(input({ state: started().state, now: 10_001, observations: acked(['node-00'], V2) }));
    expect(r.state.phase).toBe('rolled-back');
    expect(cond(r.state, 'Aborted')).toMatchObject({ reason: 'ProgressDeadlineExceeded' });
    expect(cond(r.state, 'Aborted')!.message).toContain('node-01');
    expect(plan(input({ state: started().state, now: 10_000, observations: acked(['node-00'], V2) })).state.phase).toBe('progressing');
  });

  it('terminal phases stay put for the same candidate', () => {
    const failed = plan(input({ state: started().state, now: 10_001 })).state;
    const again = plan(input({ state: failed, now: 99_999, observations: acked(fleetOf(10).map((n) => n.name), V2), commands: [{ type: 'resume' }] }));
    expect(again.state).toEqual(failed);
    expect(again.admission).toBe('unchanged');
  });

  it('an invalid policy throws RolloutPolicyError naming the field', () => {
    const bad = { ...policy, waves: [{ name: 'w', percent: 150, bakeMs: 0 }] };
    try {
      plan(input({ policy: bad }));
      expect.unreachable();
    } catch (e) {
      expect(isRolloutPolicyError(e)).toBe(true);
      expect((e as { field: string }).field).toBe('waves[0].percent');
    }
  });
});

describe('plan: supersession and operator commands', () => {
  it('a newer candidate supersedes the current one and restarts from wave 1', () => {
    const s1 = plan(input({ state: started().state, now: 1000, observations: acked(['node-00', 'node-01'], V2) })).state;
    const r = plan(input({ state: s1, candidate: V3, now: 1500 }));
    expect(r.events[0]).toEqual({ type: 'Superseded', previous: V2, candidate: V3 });
    expect(r.state.candidate).toEqual(V3);
    expect(r.state.stable).toEqual(V1);
    expect(r.state.waveIndex).toBe(0);
    expect(r.state.admitted).toHaveLength(1);
  });

  it('superseding a completed candidate makes it the stable one', () => {
    const done = plan(input({ policy: null })).state;
    expect(plan(input({ state: done, candidate: V3 })).state.stable).toEqual(V2);
  });

  it('pause stops advancing (not failure detection); resume restarts the wave clock', () => {
    const paused = plan(input({ state: started().state, now: 10, commands: [{ type: 'pause' }] }));
    expect(paused.state.phase).toBe('paused');
    expect(cond(paused.state, 'Paused')?.status).toBe('True');
    const still = plan(input({ state: paused.state, now: 50_000, observations: acked(['node-00', 'node-01'], V2) }));
    expect(still.state.phase).toBe('paused');
    expect(still.state.waveIndex).toBe(0);
    const resumed = plan(input({ state: still.state, now: 50_000, commands: [{ type: 'resume' }], observations: acked(['node-00', 'node-01'], V2) }));
    expect(resumed.state.phase).toBe('progressing');
    expect(cond(resumed.state, 'Progressing')?.reason).toBe('Baking');
    expect(plan(input({ state: resumed.state, now: 51_000, observations: acked(['node-00', 'node-01'], V2) })).state.waveIndex).toBe(1);
    const nack = { 'node-00': { appliedVersion: 1, nack: { code: 'E', message: 'm' } } };
    expect(plan(input({ state: paused.state, now: 20, observations: nack })).state.phase).toBe('rolled-back');
  });

  it('abort sends every admitted node back to stable', () => {
    const r = plan(input({ state: started().state, now: 10, commands: [{ type: 'abort' }] }));
    expect(r.state.phase).toBe('aborted');
    expect(r.admission).toMatchObject({ waves: [], stable: V1 });
    expect(cond(r.state, 'Aborted')?.reason).toBe('OperatorAborted');
  });

  it('admissionOf a fresh state lists the admitted waves by name', () => {
    expect(admissionOf(started().state).waves.map((w) => w.name)).toEqual(['canary']);
  });
});

describe('planWaves', () => {
  it('each node is in exactly one wave; the last wave takes everyone left', () => {
    const p = { ...policy, waves: [...policy.waves.slice(0, 2), { name: 'none', selector: () => false, bakeMs: 0 }] };
    const waves = planWaves(p, fleetOf(10), 2);
    expect(waves.flat().sort()).toEqual(fleetOf(10).map((n) => n.name));
    expect(waves[0]).toEqual(['node-00', 'node-01']);
    expect(waves[2]).toHaveLength(4);
  });

  it('a wave with a selector and a percent takes that percent of the matching nodes', () => {
    const p = { ...policy, waves: [{ name: 'half-of-a', selector: (l: Readonly<Record<string, string>>) => l['zone'] === 'a', percent: 50, bakeMs: 0 }, { name: 'rest', percent: 100, bakeMs: 0 }] };
    const [first, rest] = planWaves(p, fleetOf(20), 2);
    expect(first).toHaveLength(5); // 10 nodes in zone a
    expect(first!.every((n) => Number(n.slice(5)) % 2 === 0)).toBe(true);
    expect(rest).toHaveLength(15);
  });

  it('percent picks differ by candidate version (rotating canaries) but are stable for one', () => {
    const p = { ...policy, waves: [{ name: 'p', percent: 30, bakeMs: 0 }, { name: 'r', percent: 100, bakeMs: 0 }] };
    expect(planWaves(p, fleetOf(50), 7)).toEqual(planWaves(p, fleetOf(50), 7));
    expect(planWaves(p, fleetOf(50), 7)[0]).toHaveLength(15);
    expect(planWaves(p, fleetOf(50), 7)[0]).not.toEqual(planWaves(p, fleetOf(50), 8)[0]);
  });
});

describe('plan: regressions found by the properties', () => {
  it('a wave admitted in the same step with a NACKing node fails instead of passing', () => {
    const p = {
      ...policy,
      onFailure: 'halt' as const,
      waves: [
        { name: 'a', selector: (l: Readonly<Record<string, string>>) => l['zone'] === 'a', bakeMs: 0 },
        { name: 'one', percent: 1, bakeMs: 0 },
        { name: 'rest', percent: 100, bakeMs: 0 },
      ],
    };
    const fleet = [{ name: 'a', labels: { zone: 'a' } }, { name: 'a0', labels: { zone: 'c' } }];
    const obs = acked(['a'], V2, { a0: { appliedVersion: 1, nack: { code: 'E_NFT', message: 'rejected' } } });
    const r = plan(input({ policy: p, fleet, observations: obs }));
    expect(r.state.phase).toBe('halted');
    expect(r.state.admitted.map((w) => w.nodes)).toEqual([['a'], ['a0']]);
    expect(r.events.filter((e) => e.type === 'WavePassed')).toHaveLength(1);
  });
});
