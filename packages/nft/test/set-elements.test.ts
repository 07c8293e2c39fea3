// Set elements in the read-back (full listing), their comparison by covered addresses,
// the generation helpers, and FakeNft's generation. Pure: no nft here (see
// real-generation.test.ts for the kernel).
import { describe, expect, it } from 'vitest';
import {
  compareElements,
  compareTableState,
  elementRange,
  expectedTableContents,
  expectedTableState,
  FakeNft,
  formatAddress,
  nextGeneration,
  parseAddress,
  parseGeneration,
  parseTableListing,
  parseTerseListing,
  renderTable,
  renderTransaction,
} from '../src/index.js';
import { digestFor, makeBundle, V4_POOLS, V6_POOLS } from './fixtures.js';

// Captured from `nft list table inet natfleet` (nft 1.0.6) after someone added a range
// and a commented element: two elements per line for IPv4, one for IPv6, a /32 and a
// /128 printed bare, adjacent prefixes kept apart, an empty set without an elements line.
const REAL_FULL = `table inet natfleet {
	comment "natfleet v1 x"
	set masq_v4 {
		type ipv4_addr
		flags interval
		elements = { 0.0.0.0/8, 10.0.0.0/26,
			     10.0.0.64/26, 10.0.1.5,
			     10.0.2.0/24, 172.16.0.1-172.16.0.9,
			     172.17.0.1 comment "hi, {there}", 192.168.0.0/16 }
	}

	set masq_v6 {
		type ipv6_addr
		flags interval
		elements = { ::1,
			     2001:db8::/64,
			     2001:db9::1-2001:db9::5,
			     fd00::/8 }
	}

	set nonat_v6 {
		type ipv6_addr
		flags interval
	}

	chain postrouting {
		type nat hook postrouting priority srcnat + 10; policy accept;
		ip saddr @masq_v4 counter packets 0 bytes 0 masquerade comment "nf:v4:all:00000000"
	}
}
`;

// Captured from `nft list table inet natfleet` (nft 1.0.6) with the issue-16 layout, after
// someone added a commented element: hash-set elements two per line for IPv4, one for
// IPv6 (compressed), the marker element with its comment, `==` before lookups.
const REAL_FULL_HASH = `table inet natfleet {
	comment "natfleet"
	set marker {
		type mark
		elements = { 0x0000000c comment "natfleet v12 sha256:abababababababababababababababababababababababababababababababab" }
	}

	set masq_v4_24 {
		type ipv4_addr
		elements = { 10.65.0.0, 10.65.1.0,
			     10.65.2.0, 10.65.9.0 comment "hi, {there}" }
	}

	set masq_v6_64 {
		type ipv6_addr
		elements = { 2001:db8::,
			     fd00:65::,
			     fd00:65:0:1:: }
	}

	chain postrouting {
		type nat hook postrouting priority srcnat + 10; policy accept;
		meta nfproto ipv4 jump nat_v4 comment "nf:v4:jump:2d28f8f9"
	}

	chain nat_v4 {
		ip saddr & 255.255.255.0 == @masq_v4_24 goto masq_v4_do comment "nf:v4:masq:3a82b7e9"
	}
}
`;

describe('parseTableListing', () => {
  it('reads the issue-16 layout: multi-line hash-set elements, the marker element and its comment', () => {
    expect(parseTableListing(REAL_FULL_HASH)).toEqual({
      comment: 'natfleet v12 sha256:abababababababababababababababababababababababababababababababab',
      sets: ['marker', 'masq_v4_24', 'masq_v6_64'],
      chains: ['postrouting', 'nat_v4'],
      ruleIds: ['nf:v4:jump:2d28f8f9', 'nf:v4:masq:3a82b7e9'],
      elements: {
        marker: ['0x0000000c'],
        masq_v4_24: ['10.65.0.0', '10.65.1.0', '10.65.2.0', '10.65.9.0'],
        masq_v6_64: ['2001:db8::', 'fd00:65::', 'fd00:65:0:1::'],
      },
    });
  });

  it('reads every element of real nft output with interval sets (foreign or older tables), annotations dropped, and the rest like the terse parse', () => {
    const state = parseTableListing(REAL_FULL);
    expect(state.elements).toEqual({
      masq_v4: ['0.0.0.0/8', '10.0.0.0/26', '10.0.0.64/26', '10.0.1.5', '10.0.2.0/24', '172.16.0.1-172.16.0.9', '172.17.0.1', '192.168.0.0/16'],
      masq_v6: ['::1', '2001:db8::/64', '2001:db9::1-2001:db9::5', 'fd00::/8'],
      nonat_v6: [],
    });
    const { elements: _, ...rest } = state;
    expect(rest).toEqual(parseTerseListing(REAL_FULL));
    expect(rest).toEqual({ sets: ['masq_v4', 'masq_v6', 'nonat_v6'], chains: ['postrouting'], ruleIds: ['nf:v4:all:00000000'] }); // a table comment is not the marker
  });

  it('parses our own rendered table (one elements line) back to the bundle CIDRs', () => {
    const b = makeBundle({ v4: V4_POOLS, v6: V6_POOLS, settings: { exclusions: 'IPPoolsAndHostIPs' }, hostAddresses: { v4: ['192.0.2.1/32'], v6: [] } });
    const state = parseTableListing(renderTable(b, 'n'));
    expect(state.elements).toEqual({ ...expectedTableContents(b, 'n').elements, marker: ['0x0000000c'] });
    expect(compareTableState(expectedTableContents(b, 'n'), state)).toEqual([]);
  });

  it('the terse parse has no elements; empty text has none either', () => {
    expect(parseTerseListing(REAL_FULL).elements).toBeUndefined();
    expect(parseTableListing('')).toEqual({ sets: [], chains: [], ruleIds: [], elements: {} });
  });
});

describe('compareTableState with elements', () => {
  const b = makeBundle({ version: 3, digest: digestFor(3), v4: { masquerade: ['10.64.0.0/16', '10.66.0.0/16', '10.70.0.1/32'], noNat: ['10.64.0.0/10'] }, v6: V6_POOLS });
  const expected = expectedTableContents(b, 'n');
  const live = (edit: (t: string) => string = (t) => t) => parseTableListing(edit(renderTable(b, 'n')));

  it('equal contents: no difference; a terse read-back (no elements) is not compared', () => {
    expect(compareTableState(expected, live())).toEqual([]);
    expect(compareTableState(expected, parseTerseListing(renderTable(b, 'n')))).toEqual([]);
    expect(compareTableState(expectedTableState(b, 'n'), live((t) => t.replace(/\t\telements = \{ (?!0x).*\n/g, '')))).toEqual([]);
  });

  it('a flushed set is one `elements` difference counting what is missing', () => {
    const diffs = compareTableState(expected, live((t) => t.replace('\t\telements = { 10.64.0.0, 10.66.0.0 }\n', '')));
    expect(diffs).toEqual([
      { type: 'elements', name: 'masq_v4_16', missing: 2, unexpected: 0, message: 'set masq_v4_16: 2 of 2 elements missing (10.64.0.0, 10.66.0.0), 0 unexpected' },
    ]);
  });

  it('one element deleted or one added elsewhere is noticed; the comment and rules alone would not show it', () => {
    const deleted = live((t) => t.replace('10.64.0.0, 10.66.0.0', '10.64.0.0'));
    expect(compareTableState(expectedTableState(b, 'n'), deleted)).toEqual([]);
    expect(compareTableState(expected, deleted).map((d) => d.message)).toEqual(['set masq_v4_16: 1 of 2 elements missing (10.66.0.0), 0 unexpected']);
    const added = live((t) => t.replace('{ 10.64.0.0 }', '{ 10.64.0.0, 192.0.2.0 }'));
    expect(compareTableState(expected, added).map((d) => [d.type, 'name' in d && d.name])).toEqual([['elements', 'nonat_v4_10']]);
  });

  it('an address with host bits in a masked set never matches: it is unexpected, and its network missing', () => {
    const hostBits = live((t) => t.replace('10.64.0.0, 10.66.0.0', '10.64.0.0, 10.66.0.1'));
    expect(compareTableState(expected, hostBits)).toMatchObject([{ type: 'elements', name: 'masq_v4_16', missing: 1, unexpected: 1 }]);
  });
});

describe('parseAddress / formatAddress', () => {
  it('formats as glibc inet_ntop (what nft lists) and parses back to the same value', () => {
    const cases: [bigint, 32 | 128, string][] = [
      [0n, 32, '0.0.0.0'],
      [0x0a410300n, 32, '10.65.3.0'],
      [0xffffffffn, 32, '255.255.255.255'],
      [0n, 128, '::'],
      [1n, 128, '::1'],
      [0xfd000065000000010000000000000000n, 128, 'fd00:65:0:1::'],
      [0xfd000065000000000001000000000001n, 128, 'fd00:65::1:0:0:1'], // first of two equal runs
      [0x20010db8000000010000000000000001n, 128, '2001:db8:0:1::1'],
      [0x20010db8000100010001000100010001n, 128, '2001:db8:1:1:1:1:1:1'], // a single zero group is not compressed
      [0x20010db8000000010001000100010001n, 128, '2001:db8:0:1:1:1:1:1'],
      [0xffff0a010203n, 128, '::ffff:10.1.2.3'],
      [0x0a010203n, 128, '::10.1.2.3'],
      [0x10000n, 128, '::0.1.0.0'],
    ];
    for (const [value, bits, text] of cases) {
      expect(formatAddress(value, bits), text).toBe(text);
      expect(parseAddress(text), text).toEqual({ value, bits });
    }
  });

  it('parseAddress: plain addresses only', () => {
    for (const bad of ['', '10.0.0.0/8', '1.2.3', '010.0.0.1', 'fe80::1%eth0', '10.0.0.1-10.0.0.2', '0x0a000001']) expect(parseAddress(bad), bad).toBeUndefined();
  });
});

describe('compareElements', () => {
  const same = { missing: [], unexpected: [] };

  it('same addresses however they are written or split', () => {
    expect(compareElements(['10.0.0.0/24', '10.0.1.5/32'], ['10.0.1.5', '10.0.0.0/24'])).toEqual(same);
    expect(compareElements(['10.0.0.0/25', '10.0.0.128/25'], ['10.0.0.0/24'])).toEqual(same);
    expect(compareElements(['10.0.0.0/24'], ['10.0.0.0-10.0.0.127', '10.0.0.128/25'])).toEqual(same);
    expect(compareElements(['10.0.0.7/24'], ['10.0.0.0/24'])).toEqual(same); // host bits ignored, as nft does
    expect(compareElements(['fd00:65::/64', '::1/128'], ['::1', 'fd00:65::/64'])).toEqual(same);
    expect(compareElements(['::ffff:10.0.0.0/120'], ['::ffff:a00:0/120'])).toEqual(same);
    expect(compareElements([], [])).toEqual(same);
  });

  it('lists what is missing and what is unexpected, by element', () => {
    expect(compareElements(['10.0.0.0/24', '10.1.0.0/16'], ['10.0.0.0/25', '10.1.0.0/16', '192.0.2.1'])).toEqual({ missing: ['10.0.0.0/24'], unexpected: ['192.0.2.1'] });
    expect(compareElements(['10.0.0.0/24'], [])).toEqual({ missing: ['10.0.0.0/24'], unexpected: [] });
    expect(compareElements(['2001:db8::/32'], ['2001:db8::/33'])).toEqual({ missing: ['2001:db8::/32'], unexpected: [] });
  });

  it('text that is not an address, prefix or range always differs', () => {
    expect(compareElements(['10.0.0.0/24'], ['10.0.0.0/24', 'bogus'])).toEqual({ missing: [], unexpected: ['bogus'] });
    expect(compareElements(['10.0.0.0/33'], ['10.0.0.0/24'])).toEqual({ missing: ['10.0.0.0/33'], unexpected: ['10.0.0.0/24'] });
  });

  it('elementRange: addresses, prefixes and ranges; undefined for anything else', () => {
    expect(elementRange('10.0.0.0/8')).toEqual({ lo: 0x0a000000n, hi: 0x0affffffn });
    expect(elementRange('255.255.255.255')).toEqual({ lo: 0xffffffffn, hi: 0xffffffffn });
    expect(elementRange('0.0.0.0/0')).toEqual({ lo: 0n, hi: 0xffffffffn });
    expect(elementRange('::/0')).toEqual({ lo: 0n, hi: (1n << 128n) - 1n });
    expect(elementRange('2001:db8::1-2001:db8::5')).toEqual({ lo: 0x20010db8000000000000000000000001n, hi: 0x20010db8000000000000000000000005n });
    for (const bad of ['', '10.0.0.5-10.0.0.1', '10.0.0.1-::1', '10.0.0.0/', '10.0.0.0/x', 'fe80::1%eth0', '1.2.3', '::/129']) {
      expect(elementRange(bad), bad).toBeUndefined();
    }
  });
});

describe('generation helpers', () => {
  it('parseGeneration takes one decimal u32 line', () => {
    expect(parseGeneration('42\n')).toBe(42);
    expect(parseGeneration('4294967295\n')).toBe(0xffffffff);
    for (const bad of ['', '\n', '-1\n', '4294967296\n', '12 34\n', 'x\n', '1\n2\n']) expect(parseGeneration(bad), bad).toBeUndefined();
  });

  it('nextGeneration adds one and skips 0 when it wraps, like the kernel', () => {
    expect(nextGeneration(1)).toBe(2);
    expect(nextGeneration(0xfffffffe)).toBe(0xffffffff);
    expect(nextGeneration(0xffffffff)).toBe(1);
  });
});

describe('FakeNft generation', () => {
  it('moves by one per commit: apply, delete of a table, someone else; not on reads, checks or failures', async () => {
    const nft = new FakeNft();
    const b = makeBundle({ v4: V4_POOLS });
    expect(await nft.generation()).toBe(1);
    await nft.applyTransaction(renderTransaction(b, 'n'));
    expect(await nft.generation()).toBe(2);
    await nft.readTable();
    await nft.readTableContents();
    await nft.check(renderTransaction(b, 'n'));
    await expect(nft.applyTransaction('bogus')).rejects.toThrow();
    expect(await nft.generation()).toBe(2);
    nft.foreignCommit(); // another table
    expect(await nft.generation()).toBe(3);
    expect(compareTableState(expectedTableContents(b, 'n'), await nft.readTableContents())).toEqual([]);
    nft.foreignCommit((t) => t.replace('\t\telements = { 10.65.0.0 }\n', '')); // flush set masq_v4_16
    expect(await nft.generation()).toBe(4);
    expect((await nft.readTableContents())?.elements?.masq_v4_16).toEqual([]);
    expect(await nft.deleteTable()).toBe(true);
    expect(await nft.deleteTable()).toBe(false);
    expect(await nft.generation()).toBe(5);
  });

  it('failNextGeneration fails generation() only; failNext never reaches it', async () => {
    const nft = new FakeNft();
    nft.failNext(new Error('read failed'));
    expect(await nft.generation()).toBe(1);
    await expect(nft.readTableContents()).rejects.toThrow('read failed');
    nft.failNextGeneration(new Error('no perl'));
    await expect(nft.generation()).rejects.toThrow('no perl');
    expect(await nft.generation()).toBe(1);
  });
});
