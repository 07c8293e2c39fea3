/**
 * Wave membership: which nodes a wave picks. Pure and order-independent: the fleet is
 * sorted by name first, percentages order nodes by sha256(name, candidate version), so a
 * restarted controller (or an enforcer deciding locally) picks the same nodes. Never reads
 * a clock or randomness; node:crypto's hash is used as a pure function.
 */
import { createHash } from 'node:crypto';
import type { FleetNode, RolloutPolicy, WaveSpec } from './types.js';

/**
 * A node's position in [0, 1) for a candidate version: the first 48 bits of
 * sha256("<name>\0<version>"). The same node lands elsewhere for the next version, so the
 * canary burden rotates across the fleet.
 */
export function nodeRank(name: string, version: number): number {
  const h = createHash('sha256').update(`${name}\0${version}`).digest();
  return h.readUIntBE(0, 6) / 2 ** 48;
}

/**
 * The nodes one wave picks out of `remaining` (nodes not in an earlier wave), sorted by
 * name. A selector keeps the matching nodes; a percent then keeps ceil(percent/100 × those)
 * with the lowest rank (ties by name). `last` takes everything left,
 * whatever the wave says. Empty `remaining` → [].
 */
export function pickWave(spec: WaveSpec, remaining: readonly FleetNode[], version: number, last: boolean): string[] {
  let picked: FleetNode[] = spec.selector && !last ? remaining.filter((n) => spec.selector!(n.labels)) : [...remaining];
  if (spec.percent !== undefined && !last) {
    const count = Math.min(picked.length, Math.ceil((spec.percent / 100) * picked.length));
    picked = picked
      .map((n) => ({ n, r: nodeRank(n.name, version) }))
      .sort((a, b) => a.r - b.r || cmp(a.n.name, b.n.name))
      .slice(0, count)
      .map((x) => x.n);
  }
  return picked.map((n) => n.name).sort(cmp);
}

/**
 * The whole partition of `fleet` into the policy's waves for a candidate version: each node
 * is in the first wave that picks it, the last wave takes everyone left. Node names must be
 * unique (with duplicates, the first in fleet order counts). The result has one (possibly empty) list per wave.
 */
export function planWaves(policy: RolloutPolicy, fleet: readonly FleetNode[], version: number): string[][] {
  return policy.waves.map(() => []).reduce<string[][]>((acc, _, i) => {
    const taken = new Set(acc.flat());
    acc.push(pickWave(policy.waves[i]!, remainingNodes(fleet, taken), version, i === policy.waves.length - 1));
    return acc;
  }, []);
}

/** Fleet minus `taken`, de-duplicated by name and sorted by name (so input order never matters). */
export function remainingNodes(fleet: readonly FleetNode[], taken: ReadonlySet<string>): FleetNode[] {
  const byName = new Map<string, FleetNode>();
  for (const n of fleet) if (!taken.has(n.name) && !byName.has(n.name)) byName.set(n.name, n);
  return [...byName.values()].sort((a, b) => cmp(a.name, b.name));
}

/** Code-unit order, independent of locale. */
export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
