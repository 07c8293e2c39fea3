/**
 * From validated pools to the per-family NAT sets of DESIGN.md §3:
 *   masquerade = addresses whose most specific pool has natOutgoing
 *   noNat      = addresses inside any pool (enabled or disabled)
 * LoadBalancer pools take part in neither (they hold service VIPs, not workloads or
 * internal ranges). Pools that slipped in overlapping (via etcdctl) are resolved by
 * longest prefix and reported; exact duplicates keep the first by key.
 * Pure; O(n log n) in the number of pools (one sort and a stack sweep per family).
 */
import type { BundleWarning, FamilySets } from '@natfleet/bundle';
import {
  compareCidrs,
  formatCidr,
  mergeRanges,
  minimalCover,
  parseCidr,
  rangeOf,
  rangeToCidrs,
  type Cidr,
  type IPPool,
  type IpFamily,
  type IpRange,
} from '@natfleet/model';
import type { Keyed } from './snapshot.js';

/** A pool as the NAT semantics see it. */
export interface ResolvedPool {
  key: string;
  name: string;
  cidr: Cidr;
  /** Normalised CIDR text. */
  cidrText: string;
  natOutgoing: boolean;
  disabled: boolean;
  /** allowedUses contains LoadBalancer (which Calico never mixes with other uses). */
  loadBalancer: boolean;
}

export interface PoolResolution {
  /** Pools that take part in NAT decisions (no LoadBalancer pools, no losing duplicates), sorted by CIDR. */
  pools: ResolvedPool[];
  v4: FamilySets;
  v6: FamilySets;
  warnings: BundleWarning[];
}

const toResolved = ({ key, name, resource }: Keyed<IPPool>): ResolvedPool => {
  const cidr = parseCidr(resource.spec.cidr);
  return {
    key,
    name,
    cidr,
    cidrText: formatCidr(cidr),
    natOutgoing: resource.spec.natOutgoing,
    disabled: resource.spec.disabled,
    loadBalancer: resource.spec.allowedUses.includes('LoadBalancer'),
  };
};

/** Sorted so that a containing pool comes right before the pools it contains (pre-order of the nesting tree). */
const byNesting = (a: ResolvedPool, b: ResolvedPool): number => compareCidrs(a.cidr, b.cidr) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * Splits one family's pools (sorted byNesting, no duplicates) into disjoint address
 * segments, each owned by its most specific pool, and returns the segments owned by
 * natOutgoing pools. CIDRs are either nested or disjoint, so a stack suffices.
 */
function masqueradeRanges(pools: readonly ResolvedPool[]): IpRange[] {
  const out: IpRange[] = [];
  const stack: { pool: ResolvedPool; last: bigint }[] = [];
  let cursor = 0n;
  const emit = (owner: ResolvedPool, first: bigint, last: bigint): void => {
    if (owner.natOutgoing && first <= last) out.push([first, last]);
  };
  const closeUntil = (limit: bigint | undefined): void => {
    while (stack.length > 0 && (limit === undefined || stack[stack.length - 1]!.last < limit)) {
      const top = stack.pop()!;
      emit(top.pool, cursor, top.last);
      cursor = top.last + 1n;
    }
  };
  for (const pool of pools) {
    const [first, last] = rangeOf(pool.cidr);
    closeUntil(first);
    const parent = stack[stack.length - 1];
    if (parent) emit(parent.pool, cursor, first - 1n);
    cursor = first;
    stack.push({ pool, last });
  }
  closeUntil(undefined);
  return mergeRanges(out);
}

function familySets(family: IpFamily, pools: readonly ResolvedPool[]): FamilySets {
  const fam = pools.filter((p) => p.cidr.family === family);
  const masquerade = masqueradeRanges(fam).flatMap(([f, l]) => rangeToCidrs(family, f, l));
  const noNat = minimalCover(fam.map((p) => p.cidr));
  return { masquerade: masquerade.map(formatCidr), noNat: noNat.map(formatCidr) };
}

/**
 * Resolves pools into NAT sets. Never throws: duplicates and overlaps become warnings.
 * Empty input gives empty sets.
 */
export function resolvePools(input: readonly Keyed<IPPool>[]): PoolResolution {
  const warnings: BundleWarning[] = [];
  const all = input.map(toResolved).sort(byNesting);
  const kept: ResolvedPool[] = [];
  for (const p of all) {
    const prev = kept[kept.length - 1];
    if (prev && compareCidrs(prev.cidr, p.cidr) === 0) {
      warnings.push({ key: p.key, code: 'DUPLICATE_CIDR', reason: `same CIDR ${p.cidrText} as pool "${prev.name}", which takes precedence; this pool is ignored` });
      continue;
    }
    kept.push(p);
  }
  // Report each pool nested inside another (nearest container), once.
  const stack: { pool: ResolvedPool; last: bigint }[] = [];
  for (const p of kept) {
    const [first, last] = rangeOf(p.cidr);
    while (stack.length && (stack[stack.length - 1]!.last < first || stack[stack.length - 1]!.pool.cidr.family !== p.cidr.family)) stack.pop();
    const parent = stack[stack.length - 1]?.pool;
    if (parent) {
      warnings.push({
        key: p.key,
        code: 'OVERLAP',
        reason: `overlaps pool "${parent.name}" (${parent.cidrText}); the longest prefix decides, so this pool's settings apply to ${p.cidrText}`,
      });
    }
    stack.push({ pool: p, last });
  }
  const pools = kept.filter((p) => !p.loadBalancer);
  return { pools, v4: familySets(4, pools), v6: familySets(6, pools), warnings };
}
