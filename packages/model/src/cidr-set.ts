// Set arithmetic over many CIDRs: union as a minimal CIDR list, and set difference.
//
// Owns: converting CIDR lists to merged address ranges and back into the fewest aligned
// CIDRs. Everything is sort + linear sweep (O(n log n)), fit for 100k-entry inputs.
// Never: I/O, logging, or mutating its inputs. Outputs are always sorted with
// compareCidrs (IPv4 first) and minimal: no two outputs overlap or could merge into one.
import { type Cidr, type IpFamily, compareCidrs, familyBits, makeCidr, rangeOf } from './cidr.js';

/** An inclusive address range `[first, last]` within one family. */
export type IpRange = readonly [first: bigint, last: bigint];

/**
 * Merges ranges that overlap or touch (`last + 1 === first`) into the sorted list of
 * maximal disjoint ranges. Ranges must all be of one family. Empty in, empty out.
 */
export function mergeRanges(ranges: readonly IpRange[]): IpRange[] {
  if (ranges.length === 0) return [];
  const sorted = [...ranges].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: IpRange[] = [];
  let [first, last] = sorted[0]!;
  for (let i = 1; i < sorted.length; i++) {
    const [f, l] = sorted[i]!;
    if (f <= last + 1n) {
      if (l > last) last = l;
    } else {
      out.push([first, last]);
      first = f;
      last = l;
    }
  }
  out.push([first, last]);
  return out;
}

/**
 * Splits one inclusive range into the fewest aligned CIDRs, in address order.
 * Returns [] when `first > last`. Throws CidrError when the bounds do not fit the family.
 */
export function rangeToCidrs(family: IpFamily, first: bigint, last: bigint): Cidr[] {
  const bits = familyBits(family);
  const out: Cidr[] = [];
  let cur = first;
  while (cur <= last) {
    // Largest block aligned at `cur`: its lowest set bit (or the whole space at 0) ...
    let size = cur === 0n ? 1n << BigInt(bits) : cur & -cur;
    // ... shrunk until it ends within the range.
    const remaining = last - cur + 1n;
    while (size > remaining) size >>= 1n;
    const sizeBits = size.toString(2).length - 1;
    out.push(makeCidr(family, cur, bits - sizeBits));
    cur += size;
  }
  return out;
}

function mergedRangesByFamily(cidrs: readonly Cidr[]): Map<IpFamily, IpRange[]> {
  const byFamily = new Map<IpFamily, Cidr[]>();
  for (const c of cidrs) {
    const list = byFamily.get(c.family);
    if (list === undefined) byFamily.set(c.family, [c]);
    else list.push(c);
  }
  const merged = new Map<IpFamily, IpRange[]>();
  for (const [family, list] of byFamily) {
    // Sorting the CIDRs themselves lets the sweep skip a separate range sort.
    list.sort(compareCidrs);
    const ranges: IpRange[] = [];
    for (const c of list) {
      const [f, l] = rangeOf(c);
      const prev = ranges[ranges.length - 1];
      if (prev !== undefined && f <= prev[1] + 1n) {
        if (l > prev[1]) ranges[ranges.length - 1] = [prev[0], l];
      } else {
        ranges.push([f, l]);
      }
    }
    merged.set(family, ranges);
  }
  return merged;
}

function rangesToCidrs(family: IpFamily, ranges: readonly IpRange[], out: Cidr[]): void {
  for (const [f, l] of ranges) out.push(...rangeToCidrs(family, f, l));
}

/**
 * The minimal sorted list of CIDRs whose union is exactly the union of the inputs:
 * contained CIDRs dropped, overlapping and adjacent ones merged, each merged range split
 * into the fewest aligned CIDRs. Mixed families are handled per family (IPv4 first).
 * Empty in, empty out; a single CIDR comes back as an equal CIDR.
 */
export function minimalCover(cidrs: readonly Cidr[]): Cidr[] {
  const out: Cidr[] = [];
  const merged = mergedRangesByFamily(cidrs);
  for (const family of [4, 6] as const) rangesToCidrs(family, merged.get(family) ?? [], out);
  return out;
}

/** Two-pointer difference of sorted, disjoint, non-adjacent range lists. */
function subtractRanges(cover: readonly IpRange[], remove: readonly IpRange[]): IpRange[] {
  const out: IpRange[] = [];
  let j = 0;
  for (const [start, end] of cover) {
    let cur = start;
    while (j < remove.length && remove[j]![1] < cur) j++;
    for (let k = j; k < remove.length && remove[k]![0] <= end; k++) {
      const [rf, rl] = remove[k]!;
      if (rf > cur) out.push([cur, rf - 1n]);
      if (rl + 1n > cur) cur = rl + 1n;
      if (cur > end) break;
    }
    if (cur <= end) out.push([cur, end]);
  }
  return out;
}

/**
 * The minimal sorted CIDR list covering every address in `cover` that is not in `remove`
 * (e.g. masquerade sources minus more specific non-NAT pools). Families are handled
 * separately; a family absent from `cover` yields nothing. Empty `cover` gives [];
 * empty `remove` gives `minimalCover(cover)`.
 */
export function subtract(cover: readonly Cidr[], remove: readonly Cidr[]): Cidr[] {
  const out: Cidr[] = [];
  const coverRanges = mergedRangesByFamily(cover);
  const removeRanges = mergedRangesByFamily(remove);
  for (const family of [4, 6] as const) {
    const c = coverRanges.get(family);
    if (c === undefined) continue;
    rangesToCidrs(family, subtractRanges(c, removeRanges.get(family) ?? []), out);
  }
  return out;
}

/**
 * The minimal sorted CIDR list covering the addresses present in both inputs.
 * Empty when either input is empty or they share no address.
 */
export function intersect(a: readonly Cidr[], b: readonly Cidr[]): Cidr[] {
  const out: Cidr[] = [];
  const ar = mergedRangesByFamily(a);
  const br = mergedRangesByFamily(b);
  for (const family of [4, 6] as const) {
    const x = ar.get(family) ?? [];
    const y = br.get(family) ?? [];
    const ranges: IpRange[] = [];
    let i = 0;
    let j = 0;
    while (i < x.length && j < y.length) {
      const lo = x[i]![0] > y[j]![0] ? x[i]![0] : y[j]![0];
      const hi = x[i]![1] < y[j]![1] ? x[i]![1] : y[j]![1];
      if (lo <= hi) ranges.push([lo, hi]);
      if (x[i]![1] < y[j]![1]) i++;
      else j++;
    }
    rangesToCidrs(family, ranges, out);
  }
  return out;
}
