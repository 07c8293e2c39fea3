import { describe, expect, it } from 'vitest';
import { compareTableState, expectedTableState, parseTerseListing, type TableState } from '../src/index.js';
import { makeBundle, V4_POOLS, V6_POOLS } from './fixtures.js';

// Captured from `nft -t list table inet natfleet` (nft 1.0.6) after applying a port-range
// bundle with an interface filter: tabs, counters, and no elements.
const REAL_TERSE = `table inet natfleet {
	comment "natfleet v12 sha256:abcdef"
	set masq_v4 {
		type ipv4_addr
		flags interval
	}

	set nonat_v4 {
		type ipv4_addr
		flags interval
	}

	chain postrouting {
		type nat hook postrouting priority srcnat + 10; policy accept;
		meta l4proto { tcp, udp } oifname "eth*" ip saddr @masq_v4 ip daddr != @nonat_v4 counter packets 0 bytes 0 masquerade to :1024-65535 fully-random comment "nf:v4:tcpudp:01234567"
		oifname "eth*" ip saddr @masq_v4 ip daddr != @nonat_v4 counter packets 12 bytes 720 masquerade fully-random comment "nf:v4:all:89abcdef"
	}
}
`;

describe('parseTerseListing', () => {
  it('reads comment, sets, chains and rule ids from real nft terse output', () => {
    expect(parseTerseListing(REAL_TERSE)).toEqual({
      comment: 'natfleet v12 sha256:abcdef',
      sets: ['masq_v4', 'nonat_v4'],
      chains: ['postrouting'],
      ruleIds: ['nf:v4:tcpudp:01234567', 'nf:v4:all:89abcdef'],
    });
  });

  it('empty or foreign text gives an empty state without a comment', () => {
    expect(parseTerseListing('')).toEqual({ sets: [], chains: [], ruleIds: [] });
    expect(parseTerseListing('Error: No such file or directory\n')).toEqual({ sets: [], chains: [], ruleIds: [] });
  });

  it('a table without a comment has none', () => {
    expect(parseTerseListing('table inet natfleet {\n}\n').comment).toBeUndefined();
  });

  it('counts rules someone added without a comment as "", ignores chain comments and multi-line elements', () => {
    const text = `table inet natfleet {
	comment "natfleet v3 sha256:00"
	set masq_v4 {
		type ipv4_addr
		flags interval
		elements = { 10.0.0.1, 10.0.0.2,
			     10.0.0.3 }
	}

	chain postrouting {
		comment "someone's chain comment"
		type nat hook postrouting priority srcnat + 10; policy accept;
		ip saddr @masq_v4 counter packets 0 bytes 0 masquerade comment "nf:v4:all:00000000"
		ip saddr 1.2.3.4 counter packets 0 bytes 0 accept
	}

	chain extra {
		oifname "a{b}" accept comment "tricky } brace"
	}
}
table ip other {
	comment "not ours"
}
`;
    expect(parseTerseListing(text)).toEqual({
      comment: 'natfleet v3 sha256:00',
      sets: ['masq_v4'],
      chains: ['postrouting', 'extra'],
      ruleIds: ['nf:v4:all:00000000', '', 'tricky } brace'],
    });
  });
});

describe('compareTableState', () => {
  const expected = expectedTableState(makeBundle({ v4: V4_POOLS, v6: V6_POOLS, settings: { portRange: { from: 1, to: 2 } } }), 'n');

  it('is empty when equal (set order does not matter)', () => {
    expect(compareTableState(expected, { ...expected, sets: [...expected.sets].reverse() })).toEqual([]);
  });

  it('a missing table is one difference', () => {
    expect(compareTableState(expected, undefined)).toEqual([{ type: 'table-missing', message: 'table inet natfleet does not exist' }]);
  });

  it('reports a changed comment, missing and unexpected sets and chains', () => {
    const actual: TableState = { comment: 'natfleet v11 sha256:xx', sets: ['masq_v4', 'nonat_v4', 'masq_v6', 'evil'], chains: ['postrouting', 'c2'], ruleIds: expected.ruleIds };
    const types = compareTableState(expected, actual).map((d) => [d.type, 'name' in d ? d.name : undefined]);
    expect(types).toEqual([
      ['comment', undefined],
      ['set-missing', 'nonat_v6'],
      ['set-unexpected', 'evil'],
      ['chain-unexpected', 'c2'],
    ]);
    const comment = compareTableState(expected, { ...actual, comment: undefined })[0]!;
    expect(comment).toMatchObject({ type: 'comment', actual: undefined, expected: expected.comment });
    expect(comment.message).toContain('absent');
  });

  it('reports missing, extra and reordered rules', () => {
    const [a, b, c, d] = expected.ruleIds;
    const missing = compareTableState(expected, { ...expected, ruleIds: [a!, b!, c!] });
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({ type: 'rules', actual: [a, b, c] });
    expect(missing[0]!.message).toContain(d);
    const extra = compareTableState(expected, { ...expected, ruleIds: [...expected.ruleIds, ''] });
    expect(extra[0]!.message).toContain('rule without comment');
    const reordered = compareTableState(expected, { ...expected, ruleIds: [b!, a!, c!, d!] });
    expect(reordered[0]!.message).toContain('another order');
  });
});
