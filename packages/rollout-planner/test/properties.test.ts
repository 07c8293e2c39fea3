/**
 * Property tests over random fleets, policies and input histories: purity, fleet-order
 * independence, wave ordering, monotone admission, and replay after a JSON "restart".
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plan, planWaves, type FleetNode, type GateObservation, type OperatorCommand, type PlanInput, type PlanResult, type RolloutPolicy, type RolloutState, type VersionRef } from '../src/index.js';

const VERSIONS: VersionRef[] = [
  { version: 2, digest: 'sha256:two' },
  { version: 3, digest: 'sha256:three' },
];

const fleetArb = fc
  .uniqueArray(fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), zone: fc.constantFrom('a', 'b', 'c') }), { selector: (n) => n.name, minLength: 0, maxLength: 25 })
  .map((xs): FleetNode[] => xs.map((x) => ({ name: x.name, labels: { zone: x.zone } })));

const waveArb = fc.oneof(
  fc.record({ name: fc.constant('sel'), zone: fc.constantFrom('a', 'b', 'c'), bakeMs: fc.integer({ min: 0, max: 3000 }) }).map(({ zone, ...w }) => ({ ...w, selector: (l: Readonly<Record<string, string>>) => l['zone'] === zone })),
  fc.record({ name: fc.constant('pct'), percent: fc.integer({ min: 0, max: 100 }), bakeMs: fc.integer({ min: 0, max: 3000 }) }),
  fc
    .record({ name: fc.constant('both'), zone: fc.constantFrom('a', 'b', 'c'), percent: fc.integer({ min: 0, max: 100 }), bakeMs: fc.integer({ min: 0, max: 3000 }) })
    .map(({ zone, ...w }) => ({ ...w, selector: (l: Readonly<Record<string, string>>) => l['zone'] === zone })),
);

const policyArb: fc.Arbitrary<RolloutPolicy> = fc.record({
  waves: fc.array(waveArb, { minLength: 1, maxLength: 4 }),
  onFailure: fc.constantFrom('halt' as const, 'rollback' as const),
  progressDeadlineMs: fc.integer({ min: 1000, max: 20_000 }),
  webhook: fc.boolean(),
});

const commandArb = (withImmediate: boolean): fc.Arbitrary<OperatorCommand[]> =>
  fc.array(
    fc.constantFrom<OperatorCommand>({ type: 'pause' }, { type: 'resume' }, { type: 'resume' }, { type: 'promote' }, { type: 'abort' }, ...(withImmediate ? [{ type: 'immediate' } as const] : [])),
    { maxLength: 1 },
  ).map((cs) => cs);

interface Step {
  readonly dt: number;
  readonly candidate: number;
  readonly outcomes: readonly number[];
  readonly commands: OperatorCommand[];
}

const stepsArb = (withImmediate: boolean) =>
  fc.array(
    fc.record({
      dt: fc.integer({ min: 0, max: 4000 }),
      candidate: fc.oneof({ arbitrary: fc.constant(0), weight: 9 }, { arbitrary: fc.constant(1), weight: 1 }),
      outcomes: fc.array(fc.nat(99), { minLength: 25, maxLength: 25 }),
      commands: fc.oneof({ arbitrary: fc.constant([] as OperatorCommand[]), weight: 8 }, { arbitrary: commandArb(withImmediate), weight: 2 }),
    }),
    { minLength: 1, maxLength: 25 },
  );

/** Mostly ACKs, sometimes silence, a stale version, a NACK, a failed health check. */
function observe(fleet: readonly FleetNode[], candidate: VersionRef, outcomes: readonly number[]): Record<string, GateObservation> {
  const obs: Record<string, GateObservation> = {};
  fleet.forEach((n, i) => {
    const o = outcomes[i % outcomes.length]!;
    if (o < 88) obs[n.name] = { appliedVersion: candidate.version, webhook: 'pass' };
    else if (o < 94) return;
    else if (o < 97) obs[n.name] = { appliedVersion: 1 };
    else if (o < 99) obs[n.name] = { appliedVersion: 1, nack: { code: 'E_NFT', message: 'rejected' } };
    else obs[n.name] = { appliedVersion: candidate.version, healthFailed: { code: 'PROBE', output: 'timeout' } };
  });
  return obs;
}

/** The input history: observations depend on the step only, never on the planner's output. */
function history(policy: RolloutPolicy | null, fleet: readonly FleetNode[], steps: readonly Step[]): Omit<PlanInput, 'state'>[] {
  let now = 1_000_000;
  return steps.map((s) => {
    now += s.dt;
    const candidate = VERSIONS[s.candidate]!;
    return { policy, fleet, candidate, initialStable: { version: 1, digest: 'sha256:one' }, observations: observe(fleet, candidate, s.outcomes), commands: s.commands, now };
  });
}

/** Runs a history; `restart` round-trips the state through JSON between steps. */
function run(inputs: readonly Omit<PlanInput, 'state'>[], restart = false): PlanResult[] {
  let state: RolloutState | null = null;
  return inputs.map((i) => {
    const r = plan({ ...i, state });
    state = restart ? (JSON.parse(JSON.stringify(r.state)) as RolloutState) : r.state;
    return r;
  });
}

const shuffle = <T>(xs: readonly T[], keys: readonly number[]): T[] =>
  xs.map((x, i) => ({ x, k: keys[i % Math.max(1, keys.length)]! + i / 1000 })).sort((a, b) => a.k - b.k).map((e) => e.x);

const passes = (o: GateObservation | undefined, version: number, webhook: boolean): boolean =>
  o !== undefined && o.appliedVersion === version && !o.nack && !o.healthFailed && (!webhook || o.webhook === 'pass');

describe('rollout planner properties', () => {
  it('(1) pure: the same inputs always give the same outputs', () => {
    fc.assert(
      fc.property(policyArb, fleetArb, stepsArb(true), (policy, fleet, steps) => {
        const h = history(policy, fleet, steps);
        expect(run(h)).toEqual(run(h));
      }),
    );
  });

  it('(2) shuffled fleet order gives the same membership and decisions', () => {
    fc.assert(
      fc.property(policyArb, fleetArb, fc.array(fc.nat(1000), { minLength: 1, maxLength: 25 }), stepsArb(true), (policy, fleet, keys, steps) => {
        const shuffled = shuffle(fleet, keys);
        expect(planWaves(policy, shuffled, 2)).toEqual(planWaves(policy, fleet, 2));
        // Observations are keyed by name, so build them from the original order for both runs.
        const h = history(policy, fleet, steps);
        expect(run(h.map((i) => ({ ...i, fleet: shuffled })))).toEqual(run(h));
      }),
    );
  });

  it('(3) a wave is admitted only after every earlier wave passed its gates and bake', () => {
    fc.assert(
      fc.property(policyArb, fleetArb, stepsArb(false), (policy, fleet, steps) => {
        const h = history(policy, fleet, steps);
        const results = run(h);
        let prev: RolloutState | null = null;
        results.forEach((r, i) => {
          const inp = h[i]!;
          const fresh = prev === null || prev.candidate.version !== r.state.candidate.version;
          const before = fresh ? [] : prev!.admitted;
          const promoted = r.state.promoted;
          for (let j = Math.max(1, before.length); j < r.state.admitted.length; j++) {
            const earlier = r.state.admitted[j - 1]!;
            const present = earlier.nodes.filter((n) => fleet.some((f) => f.name === n));
            for (const n of present) expect(passes(inp.observations[n], r.state.candidate.version, policy.webhook === true)).toBe(true);
            const bake = policy.waves[earlier.index]!.bakeMs;
            if (!promoted && present.length > 0) expect(inp.now - (j - 1 === before.length - 1 ? prev!.waveStartedAt! : earlier.admittedAt)).toBeGreaterThanOrEqual(bake);
            expect(r.state.admitted[j]!.index).toBe(earlier.index + 1);
          }
          prev = r.state;
        });
      }),
    );
  });

  it('(4) admitted sets only grow for one candidate, and drop to empty on rollback or abort', () => {
    fc.assert(
      fc.property(policyArb, fleetArb, stepsArb(true), (policy, fleet, steps) => {
        const results = run(history(policy, fleet, steps));
        results.forEach((r, i) => {
          if (r.state.phase === 'rolled-back' || r.state.phase === 'aborted') {
            expect(r.state.admitted).toEqual([]);
            if (r.admission !== 'unchanged') expect(r.admission.waves).toEqual([]);
            return;
          }
          const prev = results[i - 1]?.state;
          if (!prev || prev.candidate.version !== r.state.candidate.version) return;
          expect(r.state.admitted.slice(0, prev.admitted.length)).toEqual(prev.admitted);
        });
      }),
    );
  });

  it('(5) replaying a recorded history after a JSON restart gives the same decisions', () => {
    fc.assert(
      fc.property(fc.option(policyArb, { freq: 5 }), fleetArb, stepsArb(true), (policy, fleet, steps) => {
        const h = history(policy, fleet, steps);
        expect(run(h, true)).toEqual(run(h));
      }),
    );
  });
});
