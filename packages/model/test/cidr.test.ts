// Unit tests for single-CIDR operations and a few hand-checked set results.
import { describe, expect, it } from 'vitest';
import {
  CidrError, addressInCidr, cidrContains, cidrsOverlap, compareCidrs, formatCidr, formatIp, intersect, isCidrError,
  longestPrefixMatch, makeCidr, mergeRanges, minimalCover, normaliseCidr, parseCidr, parseIp, rangeOf, rangeToCidrs,
  sortCidrs, subtract, tryParseCidr, tryParseIp,
} from '../src/index.js';

const c = (s: string) => parseCidr(s, { strict: true, allowBareIp: true });
const fmt = (list: readonly Parameters<typeof formatCidr>[0][]) => list.map(formatCidr);

describe('parsing and formatting', () => {
  it('normalises IPv6 and keeps IPv4 dotted', () => {
    expect(normaliseCidr('2001:DB8:0:0::/64')).toBe('2001:db8::/64');
    expect(normaliseCidr('2001:db8:0:0:1:0:0:1/128')).toBe('2001:db8::1:0:0:1/128');
    expect(normaliseCidr('10.0.0.0/8')).toBe('10.0.0.0/8');
    expect(normaliseCidr('0.0.0.0/0')).toBe('0.0.0.0/0');
    expect(normaliseCidr('::/0')).toBe('::/0');
    expect(normaliseCidr('10.1.2.3/8', { strict: false })).toBe('10.0.0.0/8');
  });

  it('rejects host bits in strict mode and says what was meant', () => {
    let err: unknown;
    try {
      parseCidr('10.0.0.1/8');
    } catch (e) {
      err = e;
    }
    expect(isCidrError(err)).toBe(true);
    expect((err as CidrError).code).toBe('INVALID_CIDR');
    expect((err as CidrError).masked).toBe('10.0.0.0/8');
    expect((err as CidrError).message).toContain('did you mean 10.0.0.0/8');
  });

  it('handles bare addresses only when allowed', () => {
    expect(() => parseCidr('10.0.0.1')).toThrow(CidrError);
    expect(formatCidr(parseCidr('10.0.0.1', { allowBareIp: true }))).toBe('10.0.0.1/32');
    expect(formatCidr(parseCidr('::1', { allowBareIp: true }))).toBe('::1/128');
  });

  it('is strict about syntax', () => {
    for (const bad of ['10.0.0/8', '010.0.0.0/8', '10.0.0.0/08', '10.0.0.0/-1', ' 10.0.0.0/8', '10.0.0.0/8 ', '10.0.0.0/', '1::2::3/64', 'fe80::1%eth0/64', '10.0.0.0/8/8', '256.0.0.0/8', '']) {
      expect(tryParseCidr(bad, { allowBareIp: true }), bad).toBeUndefined();
    }
    expect(tryParseIp('10.1')).toBeUndefined();
    expect(() => parseIp('x')).toThrow(CidrError);
    expect(formatIp(parseIp('::ffff:10.0.0.1'))).toBe('::ffff:a00:1');
  });

  it('makeCidr masks and bounds-checks', () => {
    expect(formatCidr(makeCidr(4, 0x0a0a0a0an, 8))).toBe('10.0.0.0/8');
    expect(() => makeCidr(4, 0n, 33)).toThrow(CidrError);
    expect(() => makeCidr(4, 1n << 32n, 8)).toThrow(CidrError);
  });
});

describe('predicates', () => {
  it('contains, overlaps, membership, ranges', () => {
    expect(cidrContains(c('10.0.0.0/8'), c('10.1.0.0/16'))).toBe(true);
    expect(cidrContains(c('10.1.0.0/16'), c('10.0.0.0/8'))).toBe(false);
    expect(cidrContains(c('10.0.0.0/8'), c('10.0.0.0/8'))).toBe(true);
    expect(cidrContains(c('::/0'), c('10.0.0.0/8'))).toBe(false);
    expect(cidrsOverlap(c('10.1.0.0/16'), c('10.0.0.0/8'))).toBe(true);
    expect(cidrsOverlap(c('10.1.0.0/16'), c('10.2.0.0/16'))).toBe(false);
    expect(addressInCidr('10.255.255.255', c('10.0.0.0/8'))).toBe(true);
    expect(addressInCidr('11.0.0.0', c('10.0.0.0/8'))).toBe(false);
    expect(addressInCidr('::a00:1', c('10.0.0.0/8'))).toBe(false);
    expect(rangeOf(c('10.0.0.0/30'))).toEqual([0x0a000000n, 0x0a000003n]);
    expect(rangeOf(c('2001:db8::/127'))[1] - rangeOf(c('2001:db8::/127'))[0]).toBe(1n);
  });

  it('longest prefix match', () => {
    const list = [c('0.0.0.0/0'), c('10.0.0.0/8'), c('10.1.0.0/16'), c('10.1.2.0/24'), c('2001:db8::/32')];
    expect(formatCidr(longestPrefixMatch('10.1.2.3', list)!)).toBe('10.1.2.0/24');
    expect(formatCidr(longestPrefixMatch('10.9.0.1', list)!)).toBe('10.0.0.0/8');
    expect(formatCidr(longestPrefixMatch('8.8.8.8', list)!)).toBe('0.0.0.0/0');
    expect(formatCidr(longestPrefixMatch('2001:db8::1', list)!)).toBe('2001:db8::/32');
    expect(longestPrefixMatch('2001:db9::1', list)).toBeUndefined();
    expect(longestPrefixMatch('10.0.0.1', [])).toBeUndefined();
  });

  it('sorts by family, network, prefix', () => {
    const sorted = sortCidrs([c('2001:db8::/32'), c('10.0.0.0/16'), c('10.0.0.0/8'), c('9.0.0.0/8')]);
    expect(fmt(sorted)).toEqual(['9.0.0.0/8', '10.0.0.0/8', '10.0.0.0/16', '2001:db8::/32']);
    expect(compareCidrs(c('10.0.0.0/8'), c('10.0.0.0/8'))).toBe(0);
  });
});

describe('sets', () => {
  it('minimal cover merges adjacent, drops contained, splits ranges', () => {
    expect(fmt(minimalCover([c('10.0.0.0/25'), c('10.0.0.128/25'), c('10.0.0.5/32'), c('10.0.1.0/24')]))).toEqual(['10.0.0.0/23']);
    expect(fmt(minimalCover([c('10.0.0.1/32'), c('10.0.0.2/31'), c('10.0.0.4/31'), c('10.0.0.6/32')]))).toEqual([
      '10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/31', '10.0.0.6/32',
    ]);
    expect(fmt(minimalCover([c('2001:db8::/33'), c('2001:db8:8000::/33'), c('10.0.0.0/8')]))).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    expect(minimalCover([])).toEqual([]);
    expect(fmt(minimalCover([c('0.0.0.0/1'), c('128.0.0.0/1')]))).toEqual(['0.0.0.0/0']);
    expect(fmt(minimalCover([c('::/1'), c('8000::/1')]))).toEqual(['::/0']);
  });

  it('subtract removes more specific ranges', () => {
    expect(fmt(subtract([c('10.0.0.0/8')], [c('10.1.0.0/16')]))).toEqual([
      '10.0.0.0/16', '10.2.0.0/15', '10.4.0.0/14', '10.8.0.0/13', '10.16.0.0/12', '10.32.0.0/11', '10.64.0.0/10', '10.128.0.0/9',
    ]);
    expect(subtract([c('10.0.0.0/8')], [c('0.0.0.0/0')])).toEqual([]);
    expect(fmt(subtract([c('10.0.0.0/8'), c('fd00::/8')], [c('fd00::/9')]))).toEqual(['10.0.0.0/8', 'fd80::/9']);
    expect(subtract([], [c('10.0.0.0/8')])).toEqual([]);
    expect(fmt(subtract([c('10.0.0.0/24')], []))).toEqual(['10.0.0.0/24']);
  });

  it('intersect keeps the common part', () => {
    expect(fmt(intersect([c('10.0.0.0/8')], [c('10.1.0.0/16'), c('11.0.0.0/8')]))).toEqual(['10.1.0.0/16']);
    expect(intersect([c('10.0.0.0/8')], [c('2001:db8::/32')])).toEqual([]);
  });

  it('range helpers', () => {
    expect(mergeRanges([[5n, 9n], [1n, 4n], [20n, 30n], [25n, 26n]])).toEqual([[1n, 9n], [20n, 30n]]);
    expect(mergeRanges([])).toEqual([]);
    expect(rangeToCidrs(4, 5n, 4n)).toEqual([]);
    expect(fmt(rangeToCidrs(4, 0n, 0xffffffffn))).toEqual(['0.0.0.0/0']);
  });

  it('handles 100,000 CIDRs quickly', () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const big = Array.from({ length: 100_000 }, () => makeCidr(4, BigInt(rand()) * 2n, 20 + (rand() % 13)));
    const holes = Array.from({ length: 20_000 }, () => makeCidr(4, BigInt(rand()) * 2n, 24 + (rand() % 9)));
    const t0 = performance.now();
    const cover = minimalCover(big);
    const rest = subtract(cover, holes);
    const ms = performance.now() - t0;
    expect(cover.length).toBeGreaterThan(1000);
    expect(rest.length).toBeGreaterThan(0);
    expect(ms).toBeLessThan(5000);
  });
});
