// IP address and CIDR values for IPv4 and IPv6.
//
// Owns: parsing (strict syntax, optional strict masking), formatting in normalised form
// (dotted quad; RFC 5952 compressed lower-case IPv6), and the pure predicates over single
// CIDRs (contains, overlaps, longest-prefix match, ranges, ordering). Set arithmetic over
// many CIDRs lives in cidr-set.ts. Never: I/O, logging, or mutable shared state; every
// `Cidr` is a frozen value whose network has no host bits.
import ipaddr from 'ipaddr.js';
import { CidrError } from './errors.js';

/** Address family: 4 or 6. */
export type IpFamily = 4 | 6;

/** One IP address as an unsigned integer of 32 or 128 bits. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

/** An IP network: `network` has every host bit clear; `prefix` is 0–32 (v4) or 0–128 (v6). */
export interface Cidr {
  readonly family: IpFamily;
  readonly network: bigint;
  readonly prefix: number;
}

/** Options for {@link parseCidr}. */
export interface ParseCidrOptions {
  /** Reject host bits (`10.0.0.1/8`). Default true; when false the network is masked. */
  readonly strict?: boolean;
  /** Accept a bare address as a /32 or /128. Default false. */
  readonly allowBareIp?: boolean;
}

/** Number of bits in an address of the family: 32 or 128. */
export function familyBits(family: IpFamily): 32 | 128 {
  return family === 4 ? 32 : 128;
}

const V4_OCTET = /^(0|[1-9]\d{0,2})$/;
const PREFIX = /^(0|[1-9]\d{0,2})$/;

function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!V4_OCTET.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return BigInt(v);
}

function parseV6(text: string): bigint | undefined {
  // Zone ids (fe80::1%eth0) name an interface, not a network: never valid in a resource.
  if (text.includes('%') || !ipaddr.IPv6.isValid(text)) return undefined;
  let v = 0n;
  for (const part of ipaddr.IPv6.parse(text).parts) v = (v << 16n) | BigInt(part);
  return v;
}

/**
 * Parses an address; `undefined` when the text is not exactly one IPv4 dotted quad (no
 * leading zeros, no shorthand such as `10.1`) or one IPv6 address (no zone id, no spaces).
 */
export function tryParseIp(text: string): IpAddress | undefined {
  if (typeof text !== 'string') return undefined;
  if (text.includes(':')) {
    const value = parseV6(text);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseV4(text);
  return value === undefined ? undefined : { family: 4, value };
}

/** Parses an address like {@link tryParseIp}; throws CidrError for anything else. */
export function parseIp(text: string): IpAddress {
  const ip = tryParseIp(text);
  if (ip === undefined) throw new CidrError(String(text), `invalid IP address ${JSON.stringify(text)}`);
  return ip;
}

/** Formats an address: dotted quad, or RFC 5952 compressed lower-case IPv6. */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    const v = Number(ip.value);
    return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const parts: number[] = new Array<number>(8);
  let v = ip.value;
  for (let i = 7; i >= 0; i--) {
    parts[i] = Number(v & 0xffffn);
    v >>= 16n;
  }
  return new ipaddr.IPv6(parts).toRFC5952String();
}

function hostMask(family: IpFamily, prefix: number): bigint {
  return (1n << BigInt(familyBits(family) - prefix)) - 1n;
}

/**
 * Builds a CIDR from its parts, clearing any host bits in `network`.
 * Throws CidrError when the prefix is not an integer within the family's width or the
 * network does not fit in the family's bits.
 */
export function makeCidr(family: IpFamily, network: bigint, prefix: number): Cidr {
  const bits = familyBits(family);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) {
    throw new CidrError(`/${prefix}`, `prefix length ${prefix} out of range 0-${bits} for IPv${family}`);
  }
  if (network < 0n || network >> BigInt(bits) !== 0n) {
    throw new CidrError(String(network), `network ${network} does not fit in IPv${family}`);
  }
  return Object.freeze({ family, network: network & ~hostMask(family, prefix), prefix });
}

/**
 * Parses `addr/prefix`. Throws CidrError on bad syntax, a prefix out of range, a bare
 * address without `allowBareIp`, or (with `strict`, the default) host bits set — that
 * error's `masked` holds the form the caller probably meant.
 */
export function parseCidr(text: string, options: ParseCidrOptions = {}): Cidr {
  const { strict = true, allowBareIp = false } = options;
  if (typeof text !== 'string') throw new CidrError(String(text), 'CIDR must be a string');
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const ip = tryParseIp(addrText);
  if (ip === undefined) throw new CidrError(text, `invalid CIDR ${JSON.stringify(text)}: bad address`);
  const bits = familyBits(ip.family);
  if (slash < 0) {
    if (!allowBareIp) throw new CidrError(text, `invalid CIDR ${JSON.stringify(text)}: missing /prefix`);
    return Object.freeze({ family: ip.family, network: ip.value, prefix: bits });
  }
  const prefixText = text.slice(slash + 1);
  if (!PREFIX.test(prefixText) || Number(prefixText) > bits) {
    throw new CidrError(text, `invalid CIDR ${JSON.stringify(text)}: prefix length must be 0-${bits}`);
  }
  const cidr = makeCidr(ip.family, ip.value, Number(prefixText));
  if (strict && cidr.network !== ip.value) {
    const masked = formatCidr(cidr);
    throw new CidrError(text, `host bits set in ${text}; did you mean ${masked}`, { masked });
  }
  return cidr;
}

/** Like {@link parseCidr} but returns `undefined` instead of throwing. */
export function tryParseCidr(text: string, options: ParseCidrOptions = {}): Cidr | undefined {
  try {
    return parseCidr(text, options);
  } catch {
    return undefined;
  }
}

/** Formats `network/prefix` in normalised form (`2001:db8::/64`). */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ family: cidr.family, value: cidr.network })}/${cidr.prefix}`;
}

/**
 * Parses and re-formats: `2001:DB8:0:0::/64` → `2001:db8::/64`. Strict by default (throws
 * CidrError on host bits); with `strict: false` the result is the masked network.
 */
export function normaliseCidr(text: string, options: ParseCidrOptions = {}): string {
  return formatCidr(parseCidr(text, options));
}

/** First and last address of the CIDR, inclusive (equal for a /32 or /128). */
export function rangeOf(cidr: Cidr): readonly [first: bigint, last: bigint] {
  return [cidr.network, cidr.network | hostMask(cidr.family, cidr.prefix)];
}

/** True when network `b` lies entirely within `a` (a CIDR contains itself); false across families. */
export function cidrContains(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family || a.prefix > b.prefix) return false;
  const shift = BigInt(familyBits(a.family) - a.prefix);
  return b.network >> shift === a.network >> shift;
}

/** True when the address lies in the CIDR; false across families. Throws CidrError for an invalid address string. */
export function addressInCidr(ip: string | IpAddress, cidr: Cidr): boolean {
  const addr = typeof ip === 'string' ? parseIp(ip) : ip;
  if (addr.family !== cidr.family) return false;
  const shift = BigInt(familyBits(cidr.family) - cidr.prefix);
  return addr.value >> shift === cidr.network >> shift;
}

/** True when the two networks share any address (CIDRs either nest or are disjoint); false across families. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** True when both describe the same network. */
export function cidrEquals(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.prefix === b.prefix && a.network === b.network;
}

/**
 * The most specific CIDR of `cidrs` containing the address, or `undefined` when none does
 * (including for an empty list). Among equal CIDRs the first wins. Linear in `cidrs`.
 * Throws CidrError for an invalid address string.
 */
export function longestPrefixMatch<C extends Cidr>(ip: string | IpAddress, cidrs: readonly C[]): C | undefined {
  const addr = typeof ip === 'string' ? parseIp(ip) : ip;
  let best: C | undefined;
  for (const c of cidrs) {
    if ((best === undefined || c.prefix > best.prefix) && addressInCidr(addr, c)) best = c;
  }
  return best;
}

/** Total order: IPv4 before IPv6, then by network, then shorter prefix first. */
export function compareCidrs(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.network !== b.network) return a.network < b.network ? -1 : 1;
  return a.prefix - b.prefix;
}

/** A sorted copy (see {@link compareCidrs}); the input is not modified. Empty in, empty out. */
export function sortCidrs<C extends Cidr>(cidrs: readonly C[]): C[] {
  return [...cidrs].sort(compareCidrs);
}
