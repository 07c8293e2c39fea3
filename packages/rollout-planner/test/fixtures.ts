import type { FleetNode, GateObservation, Observations, PlanInput, RolloutPolicy, VersionRef } from '../src/index.js';

export const V1: VersionRef = { version: 1, digest: 'sha256:one' };
export const V2: VersionRef = { version: 2, digest: 'sha256:two' };
export const V3: VersionRef = { version: 3, digest: 'sha256:three' };

export function fleetOf(n: number): FleetNode[] {
  return Array.from({ length: n }, (_, i) => ({ name: `node-${String(i).padStart(2, '0')}`, labels: { zone: i % 2 === 0 ? 'a' : 'b', canary: i < 2 ? 'true' : 'false' } }));
}

/** canary label → 50% of the rest → everyone left. */
export const policy: RolloutPolicy = {
  waves: [
    { name: 'canary', selector: (l) => l['canary'] === 'true', selectorText: "canary == 'true'", bakeMs: 1000 },
    { name: 'half', percent: 50, bakeMs: 1000 },
    { name: 'rest', percent: 100, bakeMs: 1000 },
  ],
  onFailure: 'rollback',
  progressDeadlineMs: 10_000,
};

export const ack = (v: VersionRef): GateObservation => ({ appliedVersion: v.version });

export function acked(nodes: readonly string[], v: VersionRef, extra: Observations = {}): Observations {
  return { ...Object.fromEntries(nodes.map((n) => [n, ack(v)])), ...extra };
}

export function input(over: Partial<PlanInput>): PlanInput {
  return { policy, fleet: fleetOf(10), candidate: V2, state: null, initialStable: V1, observations: {}, now: 0, ...over };
}
