/**
 * explain(): what one node does to one flow (src → dst) under a bundle, and why. The
 * decision is read from the bundle's sets only — exactly what the node enforces — and,
 * when the compile's pools are given, the pools that produced those sets are named.
 * Pure; throws ExplainInputError for addresses that are not IPs.
 */
import { effectiveSettings, type BundleBody, type NatSettings } from '@natfleet/bundle';
import { formatCidr, longestPrefixMatch, parseCidr, tryParseIp, type Cidr, type IpAddress } from '@natfleet/model';
import { ExplainInputError } from './errors.js';
import type { ResolvedPool } from './pool-resolution.js';

export type NatDecision = 'masquerade' | 'snat' | 'none';

export interface PoolRef {
  name: string;
  cidr: string;
  natOutgoing: boolean;
  disabled: boolean;
}

export interface Explanation {
  decision: NatDecision;
  /** The SNAT source address, when decision is 'snat'. */
  snatAddress?: string;
  /** One sentence an operator can read. */
  reason: string;
  source: { address: string; masqueradeCidr?: string; pool?: PoolRef };
  destination: { address: string; noNatCidr?: string; hostAddress?: string; pool?: PoolRef };
  /** The node's effective settings and where they came from. */
  settings: NatSettings;
  settingsFrom: 'default' | `node.${string}`;
  /** Conditions the bundle cannot see (e.g. the egress interface). Empty when none. */
  conditions: string[];
}

/** The CIDR in a sorted, minimal (non-overlapping) list containing `ip`, by binary search. */
function findIn(list: readonly string[], ip: IpAddress): string | undefined {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = parseCidr(list[mid]!);
    const first = c.network;
    const last = c.network + (1n << BigInt((c.family === 4 ? 32 : 128) - c.prefix)) - 1n;
    if (ip.value < first) hi = mid - 1;
    else if (ip.value > last) lo = mid + 1;
    else return list[mid];
  }
  return undefined;
}

const poolRef = (p: ResolvedPool | undefined): PoolRef | undefined =>
  p && { name: p.name, cidr: p.cidrText, natOutgoing: p.natOutgoing, disabled: p.disabled };

function requireIp(text: string, field: 'src' | 'dst'): IpAddress {
  const ip = tryParseIp(text);
  if (!ip) throw new ExplainInputError(field, `${field}: ${JSON.stringify(text)} is not an IP address`);
  return ip;
}

/**
 * Explains the NAT decision for a flow from `src` to `dst` leaving node `node`.
 * `pools` (from compile()) adds the deciding pools by name; without it only CIDRs are given.
 */
export function explain(bundle: BundleBody, node: string, src: string, dst: string, pools: readonly ResolvedPool[] = []): Explanation {
  const s = requireIp(src, 'src');
  const d = requireIp(dst, 'dst');
  const settings = effectiveSettings(bundle, node);
  const settingsFrom = Object.hasOwn(bundle.nodes, node) ? (`node.${node}` as const) : ('default' as const);
  const fam = s.family === 4 ? 'v4' : 'v6';
  const srcAddr = formatCidr({ family: s.family, network: s.value, prefix: s.family === 4 ? 32 : 128 } as Cidr).split('/')[0]!;
  const dstAddr = formatCidr({ family: d.family, network: d.value, prefix: d.family === 4 ? 32 : 128 } as Cidr).split('/')[0]!;
  const masqueradeCidr = findIn(bundle.fleet[fam].masquerade, s);
  const sameFamily = s.family === d.family;
  const noNatCidr = sameFamily ? findIn(bundle.fleet[fam].noNat, d) : undefined;
  const hostAddress =
    sameFamily && settings.exclusions === 'IPPoolsAndHostIPs' ? findIn(bundle.fleet.hostAddresses[fam], d) : undefined;
  const srcPool = poolRef(longestPrefixMatch(s, pools.map((p) => ({ ...p.cidr, p }))) ?.p);
  const dstPool = poolRef(longestPrefixMatch(d, pools.map((p) => ({ ...p.cidr, p })))?.p);
  const conditions = settings.interfaceFilter ? [`only for traffic leaving through an interface matching "${settings.interfaceFilter}"`] : [];

  let decision: NatDecision = 'none';
  let snatAddress: string | undefined;
  let reason: string;
  if (!sameFamily) {
    reason = `source is IPv${s.family} and destination IPv${d.family}: no NAT applies across families`;
  } else if (!masqueradeCidr) {
    reason = srcPool
      ? `source ${srcAddr} is in pool "${srcPool.name}" (${srcPool.cidr}) which has natOutgoing: false`
      : `source ${srcAddr} is not in any natOutgoing pool`;
  } else if (noNatCidr) {
    reason = `destination ${dstAddr} is inside ${dstPool ? `pool "${dstPool.name}" (${dstPool.cidr}${dstPool.disabled ? ', disabled' : ''})` : noNatCidr}, an internal range: not NATed`;
  } else if (hostAddress) {
    reason = `destination ${dstAddr} is a fleet host address and ${settingsFrom} sets natOutgoingExclusions: IPPoolsAndHostIPs: not NATed`;
  } else {
    const snat = settings.natOutgoingAddress;
    const snatFamily = snat ? (snat.includes(':') ? 6 : 4) : undefined;
    if (snat && snatFamily === s.family) {
      decision = 'snat';
      snatAddress = snat;
    } else {
      decision = 'masquerade';
    }
    const via = srcPool ? `pool "${srcPool.name}" (${srcPool.cidr}) has natOutgoing: true` : `source is in ${masqueradeCidr}`;
    reason =
      decision === 'snat'
        ? `${via} and ${dstAddr} is outside every pool: SNAT to ${snat} (natOutgoingAddress from ${settingsFrom})`
        : `${via} and ${dstAddr} is outside every pool: masqueraded to the node's address`;
  }
  return {
    decision,
    ...(snatAddress ? { snatAddress } : {}),
    reason,
    source: { address: srcAddr, ...(masqueradeCidr ? { masqueradeCidr } : {}), ...(srcPool ? { pool: srcPool } : {}) },
    destination: {
      address: dstAddr,
      ...(noNatCidr ? { noNatCidr } : {}),
      ...(hostAddress ? { hostAddress } : {}),
      ...(dstPool ? { pool: dstPool } : {}),
    },
    settings,
    settingsFrom,
    conditions,
  };
}
