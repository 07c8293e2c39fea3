/** Synthetic snapshots for benchmarks: n disjoint /26 IPv4 pools over 10.0.0.0/8, half natOutgoing. */
import type { SnapshotEntry } from '@natfleet/compiler-core';

const PREFIX = '/calico/resources/v3/projectcalico.org';

/**
 * Every third /26 is used so neighbouring pools rarely merge: the NAT sets stay about as
 * large as the pool count, the worst case for compile, bundle size and nft load.
 */
export function syntheticPools(n: number): SnapshotEntry[] {
  const entries: SnapshotEntry[] = [];
  for (let i = 0; i < n; i++) {
    const k = i * 3;
    const cidr = `10.${(k >> 10) & 255}.${(k >> 2) & 255}.${(k & 3) * 64}/26`;
    const name = `pool-${i}`;
    entries.push({
      key: `${PREFIX}/ippools/${name}`,
      value: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, natOutgoing: i % 2 === 0 } }),
    });
  }
  return entries;
}
