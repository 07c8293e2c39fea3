/**
 * Set elements compared by the addresses they cover, not by their text: nft lists an
 * element the way it stored it (`10.0.1.5` for a /32, `a-b` for a range that is not a
 * prefix, adjacent prefixes kept apart) and a bundle lists CIDRs, so both sides become
 * sorted, merged address ranges first. Also owns address text ↔ number (parseAddress,
 * formatAddress), which rendering uses to mask networks. Pure: never runs nft.
 */
import { isIPv6 } from 'node:net';

/** Inclusive address range; IPv4 and IPv6 never meet in one set, so one number line serves both. */
export interface AddressRange {
  lo: bigint;
  hi: bigint;
}

/** What one set holds that the other does not, as element texts. */
export interface ElementDifference {
  /** Expected elements not entirely covered by the live set. */
  missing: string[];
  /** Live elements (as nft listed them) not entirely covered by the expected set, or not addresses at all. */
  unexpected: string[];
}

/**
 * Compares the expected elements of one set (bundle CIDRs) with the live ones (nft's
 * listing: `a`, `a/len` or `a-b`, any element annotation already dropped). Equal when both
 * cover exactly the same addresses, however they are split; then both lists are empty.
 * An element that is not an address, prefix or range is always `unexpected` (or `missing`).
 */
export function compareElements(expected: readonly string[], actual: readonly string[]): ElementDifference {
  if (sameText(expected, actual)) return { missing: [], unexpected: [] };
  const exp = ranges(expected);
  const act = ranges(actual);
  if (exp.bad.length === 0 && act.bad.length === 0 && sameCoverage(exp.merged, act.merged)) return { missing: [], unexpected: [] };
  return {
    missing: [...exp.bad, ...exp.items.filter((r) => !covered(r, act.merged)).map((r) => r.text)],
    unexpected: [...act.bad, ...act.items.filter((r) => !covered(r, exp.merged)).map((r) => r.text)],
  };
}

/**
 * The common case, in linear time: nft lists each element as it was added, except that a
 * single address loses its `/32` or `/128`. Same texts (in any order) means same addresses;
 * anything else, including a duplicate, goes to the exact comparison by ranges.
 */
function sameText(expected: readonly string[], actual: readonly string[]): boolean {
  if (expected.length !== actual.length) return false;
  const want = new Set<string>();
  for (const e of expected) want.add(e.endsWith('/32') && !e.includes(':') ? e.slice(0, -3) : e.endsWith('/128') ? e.slice(0, -4) : e);
  if (want.size !== expected.length) return false;
  return actual.every((a) => want.has(a));
}

interface Parsed {
  items: (AddressRange & { text: string })[];
  bad: string[];
  merged: AddressRange[];
}

function ranges(elements: readonly string[]): Parsed {
  const items: (AddressRange & { text: string })[] = [];
  const bad: string[] = [];
  for (const text of elements) {
    const r = elementRange(text);
    if (r) items.push({ ...r, text });
    else bad.push(text);
  }
  const sorted = [...items].sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  const merged: AddressRange[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last && r.lo <= last.hi + 1n) {
      if (r.hi > last.hi) last.hi = r.hi;
    } else merged.push({ lo: r.lo, hi: r.hi });
  }
  return { items, bad, merged };
}

function sameCoverage(a: readonly AddressRange[], b: readonly AddressRange[]): boolean {
  return a.length === b.length && a.every((r, i) => r.lo === b[i]!.lo && r.hi === b[i]!.hi);
}

/** True when `r` lies inside one range of the sorted, merged `set` (binary search). */
function covered(r: AddressRange, set: readonly AddressRange[]): boolean {
  let lo = 0;
  let hi = set.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = set[mid]!;
    if (r.lo < m.lo) hi = mid - 1;
    else if (r.lo > m.hi) lo = mid + 1;
    else return r.hi <= m.hi;
  }
  return false;
}

/**
 * The addresses of one element: `addr`, `addr/len` (host bits ignored, as nft does) or
 * `addr-addr`. IPv4 maps to 0…2³²−1 and IPv6 to 0…2¹²⁸−1. Undefined for anything else,
 * including a range whose ends are of different families or in the wrong order.
 */
export function elementRange(text: string): AddressRange | undefined {
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const a = address(text.slice(0, dash));
    const b = address(text.slice(dash + 1));
    if (!a || !b || a.bits !== b.bits || a.value > b.value) return undefined;
    return { lo: a.value, hi: b.value };
  }
  const slash = text.indexOf('/');
  const a = address(slash >= 0 ? text.slice(0, slash) : text);
  if (!a) return undefined;
  if (slash < 0) return { lo: a.value, hi: a.value };
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > a.bits) return undefined;
  const hostBits = BigInt(a.bits - Number(lenText));
  const lo = (a.value >> hostBits) << hostBits;
  return { lo, hi: lo + (1n << hostBits) - 1n };
}

/**
 * An address text as a number: IPv4 (dotted quad only) as 0…2³²−1 with `bits` 32, IPv6
 * (`::` and a trailing dotted quad allowed, no zone) as 0…2¹²⁸−1 with `bits` 128.
 * Undefined for anything else, including a prefix or a range.
 */
export function parseAddress(text: string): { value: bigint; bits: 32 | 128 } | undefined {
  return address(text);
}

/**
 * The canonical text of an address value, as the kernel's listing prints it (glibc
 * `inet_ntop`): IPv4 dotted quad; IPv6 lowercase hex without leading zeros, the first
 * longest run of two or more zero groups as `::`, and `::a.b.c.d` / `::ffff:a.b.c.d` for
 * the IPv4-compatible and IPv4-mapped ranges. `value` must fit `bits` (not checked).
 */
export function formatAddress(value: bigint, bits: 32 | 128): string {
  if (bits === 32) return dotted(Number(value));
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.len < 2) best = { at: -1, len: 0 };
  if (best.at === 0 && (best.len === 6 || (best.len === 5 && groups[5] === 0xffff))) {
    return `::${best.len === 5 ? 'ffff:' : ''}${dotted(Number(value & 0xffffffffn))}`;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (best.at < 0) return hex(groups);
  return `${hex(groups.slice(0, best.at))}::${hex(groups.slice(best.at + best.len))}`;
}

/**
 * A dotted-quad IPv4 text as 0…2³²−1, without BigInt (the hot path of rendering 100k
 * pools): exactly four decimal octets 0–255 without leading zeros, as node:net's isIPv4
 * accepts them. Undefined for anything else.
 */
export function parseIPv4(text: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return undefined; // leading zero
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return undefined;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + octet;
}

/** The dotted-quad text of an IPv4 value 0…2³²−1. */
export function dotted(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

function address(text: string): { value: bigint; bits: 32 | 128 } | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return { value: BigInt(v4), bits: 32 };
  if (!isIPv6(text) || text.includes('%')) return undefined;
  return { value: ipv6Value(text), bits: 128 };
}

/** A valid IPv6 text (checked by the caller) as a 128-bit number; handles `::` and a trailing dotted quad. */
function ipv6Value(text: string): bigint {
  let groups: string[];
  const [head, tail] = text.split('::') as [string, string | undefined];
  const part = (s: string | undefined): string[] => (s ? s.split(':').flatMap(quadToGroups) : []);
  if (tail === undefined) groups = part(head);
  else {
    const h = part(head);
    const t = part(tail);
    groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function quadToGroups(g: string): string[] {
  if (!g.includes('.')) return [g];
  const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}
