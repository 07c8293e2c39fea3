// Property tests: CIDR arithmetic against brute-force models. Small address spaces (a v4
// /16 and a v6 /112, 65,536 addresses each) are modelled exactly as bitmaps; the full v6
// space is checked at every boundary address of the inputs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Cidr, type IpFamily, addressInCidr, cidrContains, cidrsOverlap, compareCidrs, formatCidr, formatIp, intersect,
  longestPrefixMatch, makeCidr, minimalCover, parseCidr, parseIp, subtract,
} from '../src/index.js';

const RUNS = { numRuns: 300 };

interface Region {
  readonly family: IpFamily;
  readonly base: bigint;
  readonly basePrefix: number;
  readonly bits: number;
}
const V4: Region = { family: 4, base: 0x0a140000n, basePrefix: 16, bits: 32 }; // 10.20.0.0/16
const V6: Region = { family: 6, base: 0x20010db8000000000000000000000000n, basePrefix: 112, bits: 128 }; // 2001:db8::/112
const SIZE = 65536;

/** A CIDR inside the region, built from (prefix, aligned block index) — no masking needed. */
function cidrIn(r: Region): fc.Arbitrary<Cidr> {
  return fc.integer({ min: r.basePrefix, max: r.bits }).chain((prefix) =>
    fc.integer({ min: 0, max: 2 ** (prefix - r.basePrefix) - 1 }).map((block) => {
      const size = 2n ** BigInt(r.bits - prefix);
      return makeCidr(r.family, r.base + BigInt(block) * size, prefix);
    }),
  );
}

/** Independent model: offset of the first address within the region and the block size. */
function span(r: Region, c: Cidr): [start: number, size: number] {
  return [Number(c.network - r.base), 2 ** (r.bits - c.prefix)];
}

function bitmap(r: Region, cidrs: readonly Cidr[]): Uint8Array {
  const m = new Uint8Array(SIZE);
  for (const c of cidrs) {
    const [start, size] = span(r, c);
    expect(c.family).toBe(r.family);
    expect(start >= 0 && start + size <= SIZE).toBe(true);
    m.fill(1, start, start + size);
  }
  return m;
}

function expectSame(a: Uint8Array, b: Uint8Array): void {
  const diff = a.findIndex((v, i) => v !== b[i]);
  expect(diff).toBe(-1);
}

/** Sorted, disjoint and with no mergeable sibling pair: then every block is maximal. */
function expectMinimal(out: readonly Cidr[]): void {
  for (let i = 0; i + 1 < out.length; i++) {
    const a = out[i]!;
    const b = out[i + 1]!;
    expect(compareCidrs(a, b)).toBeLessThan(0);
    if (a.family !== b.family) continue;
    const bits = a.family === 4 ? 32 : 128;
    const aLast = a.network + 2n ** BigInt(bits - a.prefix) - 1n;
    expect(aLast < b.network).toBe(true);
    const size = 2n ** BigInt(bits - a.prefix);
    const siblings = a.prefix === b.prefix && a.prefix > 0 && b.network - a.network === size && a.network % (2n * size) === 0n;
    expect(siblings).toBe(false);
  }
}

describe.each([
  ['IPv4 within 10.20.0.0/16', V4],
  ['IPv6 within 2001:db8::/112', V6],
] as const)('%s', (_name, r) => {
  const set = fc.array(cidrIn(r), { maxLength: 12 });

  it('minimalCover covers exactly the union and is minimal', () => {
    fc.assert(
      fc.property(set, (cidrs) => {
        const out = minimalCover(cidrs);
        expectSame(bitmap(r, out), bitmap(r, cidrs));
        expectMinimal(out);
        expect(minimalCover(out)).toEqual(out);
      }),
      RUNS,
    );
  });

  it('subtract is the set difference, minimal', () => {
    fc.assert(
      fc.property(set, set, (a, b) => {
        const out = subtract(a, b);
        const ma = bitmap(r, a);
        const mb = bitmap(r, b);
        expectSame(bitmap(r, out), ma.map((v, i) => (v && !mb[i] ? 1 : 0)));
        expectMinimal(out);
      }),
      RUNS,
    );
  });

  it('intersect is the set intersection, minimal', () => {
    fc.assert(
      fc.property(set, set, (a, b) => {
        const out = intersect(a, b);
        const ma = bitmap(r, a);
        const mb = bitmap(r, b);
        expectSame(bitmap(r, out), ma.map((v, i) => (v && mb[i] ? 1 : 0)));
        expectMinimal(out);
      }),
      RUNS,
    );
  });

  it('longestPrefixMatch equals brute force', () => {
    fc.assert(
      fc.property(set, fc.array(fc.integer({ min: 0, max: SIZE - 1 }), { minLength: 1, maxLength: 20 }), (cidrs, offsets) => {
        // Probe random addresses plus every input boundary.
        const probes = [...offsets, ...cidrs.flatMap((c) => { const [s, n] = span(r, c); return [s, s + n - 1]; })];
        for (const off of probes) {
          let best: Cidr | undefined;
          for (const c of cidrs) {
            const [s, n] = span(r, c);
            if (off >= s && off < s + n && (best === undefined || c.prefix > best.prefix)) best = c;
          }
          expect(longestPrefixMatch({ family: r.family, value: r.base + BigInt(off) }, cidrs)).toBe(best);
        }
      }),
      RUNS,
    );
  });

  it('overlap, containment and membership agree with ranges', () => {
    fc.assert(
      fc.property(cidrIn(r), cidrIn(r), fc.integer({ min: 0, max: SIZE - 1 }), (a, b, off) => {
        const [as, an] = span(r, a);
        const [bs, bn] = span(r, b);
        expect(cidrsOverlap(a, b)).toBe(as < bs + bn && bs < as + an);
        expect(cidrContains(a, b)).toBe(as <= bs && bs + bn <= as + an);
        expect(addressInCidr({ family: r.family, value: r.base + BigInt(off) }, a)).toBe(off >= as && off < as + an);
        expect(parseCidr(formatCidr(a))).toEqual(a);
      }),
      RUNS,
    );
  });
});

const v6Value = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });

describe('IPv6 across the whole address space', () => {
  const anyV6 = fc.tuple(v6Value, fc.integer({ min: 0, max: 128 })).map(([v, p]) => makeCidr(6, v, p));

  it('minimalCover and subtract agree with the union at every boundary address', () => {
    fc.assert(
      fc.property(fc.array(anyV6, { maxLength: 10 }), fc.array(anyV6, { maxLength: 10 }), (a, b) => {
        const rangeOf = (c: Cidr): [bigint, bigint] => [c.network, c.network + 2n ** BigInt(128 - c.prefix) - 1n];
        const inSet = (set: readonly Cidr[], v: bigint) => set.some((c) => { const [s, e] = rangeOf(c); return v >= s && v <= e; });
        const cover = minimalCover(a);
        const diff = subtract(a, b);
        expectMinimal(cover);
        expectMinimal(diff);
        const probes = [...a, ...b].flatMap((c) => { const [s, e] = rangeOf(c); return [s - 1n, s, e, e + 1n]; })
          .filter((v) => v >= 0n && v < 1n << 128n);
        for (const v of probes) {
          expect(inSet(cover, v)).toBe(inSet(a, v));
          expect(inSet(diff, v)).toBe(inSet(a, v) && !inSet(b, v));
        }
      }),
      RUNS,
    );
  });

  it('formats like the WHATWG URL serialiser (RFC 5952 compression, lower case)', () => {
    const hextets = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(hextets, (parts) => {
        const long = parts.map((p) => p.toString(16).toUpperCase().padStart(4, '0')).join(':');
        const expected = new URL(`http://[${long}]/`).hostname.slice(1, -1);
        const ip = parseIp(long);
        expect(formatIp(ip)).toBe(expected);
        expect(parseIp(formatIp(ip))).toEqual(ip);
      }),
      RUNS,
    );
  });

  it('IPv4 formats as dotted quad and round-trips', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (v) => {
        const text = [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
        expect(formatIp({ family: 4, value: BigInt(v) })).toBe(text);
        expect(parseIp(text)).toEqual({ family: 4, value: BigInt(v) });
      }),
      RUNS,
    );
  });
});
