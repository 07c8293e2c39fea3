/**
 * What a change does to the enforced NAT sets: compile the snapshot before and after and
 * compare the per-family sets, the settings and the per-node overrides. Used by dry-run,
 * `natctl diff` and rollback previews. Pure.
 */
import type { BundleBody, BundleWarning } from '@natfleet/bundle';
import { compile, type DecodeCache, type SnapshotEntry } from '@natfleet/compiler-core';
import { canonicalJson } from '@natfleet/bundle';
import { formatCidr, parseCidr, subtract } from '@natfleet/model';

export interface ListDiff {
  added: string[];
  removed: string[];
}

export interface NatDiff {
  /** True when anything a node enforces would change. */
  changed: boolean;
  v4: { masquerade: ListDiff; noNat: ListDiff };
  v6: { masquerade: ListDiff; noNat: ListDiff };
  hostAddresses: ListDiff;
  settingsChanged: boolean;
  /** Nodes whose override is added, removed or changed. */
  nodesChanged: string[];
  /** Warnings the compiler would report after the change (skipped/overlapping resources). */
  warnings: BundleWarning[];
}

function listDiff(before: readonly string[], after: readonly string[]): ListDiff {
  const b = before.map((c) => parseCidr(c));
  const a = after.map((c) => parseCidr(c));
  return { added: subtract(a, b).map(formatCidr), removed: subtract(b, a).map(formatCidr) };
}

/** Diff between two compiled bodies. */
export function diffBodies(before: BundleBody, after: BundleBody): NatDiff {
  const fam = (f: 'v4' | 'v6') => ({
    masquerade: listDiff(before.fleet[f].masquerade, after.fleet[f].masquerade),
    noNat: listDiff(before.fleet[f].noNat, after.fleet[f].noNat),
  });
  const v4 = fam('v4');
  const v6 = fam('v6');
  const hostAddresses = listDiff(
    [...before.fleet.hostAddresses.v4, ...before.fleet.hostAddresses.v6],
    [...after.fleet.hostAddresses.v4, ...after.fleet.hostAddresses.v6],
  );
  const settingsChanged = canonicalJson(before.fleet.settings) !== canonicalJson(after.fleet.settings);
  const names = new Set([...Object.keys(before.nodes), ...Object.keys(after.nodes)]);
  // Own keys only: a node named "constructor" must not find Object.prototype's member.
  const own = (o: Record<string, unknown>, n: string): unknown => (Object.hasOwn(o, n) ? o[n] : null);
  const nodesChanged = [...names].filter((n) => canonicalJson(own(before.nodes, n)) !== canonicalJson(own(after.nodes, n))).sort();
  const lists = [v4.masquerade, v4.noNat, v6.masquerade, v6.noNat, hostAddresses];
  const changed = settingsChanged || nodesChanged.length > 0 || lists.some((l) => l.added.length > 0 || l.removed.length > 0);
  return { changed, v4, v6, hostAddresses, settingsChanged, nodesChanged, warnings: after.warnings };
}

/**
 * Compiles both entry sets (version is irrelevant to a diff) and diffs them. A `cache`
 * shared across calls makes each compile re-validate only what changed.
 */
export function natDiff(before: readonly SnapshotEntry[], after: readonly SnapshotEntry[], prefix: string, cache?: DecodeCache): NatDiff {
  const opts = { cluster: 'diff', prefix, ...(cache ? { cache } : {}) };
  return diffBodies(compile({ entries: before }, 0, opts).body, compile({ entries: after }, 0, opts).body);
}
