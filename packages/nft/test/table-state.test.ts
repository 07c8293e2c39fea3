import { describe, expect, it } from 'vitest';
import { compareTableState, expectedTableState, parseTerseListing, type TableState } from '../src/index.js';
import { makeBundle, V4_POOLS, V6_POOLS } from './fixtures.js';

// Captured from `nft -t list table inet natfleet` (nft 1.0.6) after applying a port-range
// bundle with an interface filter: tabs, counters, `==` before set lookups, no elements —
// so no marker comment either (the implementations read it with readMarker).
const REAL_TERSE = `table inet natfleet {
	comment "natfleet"
	set marker {
		type mark
	}

	set masq_v4_24 {
		type ipv4_addr
	}

	set nonat_v4_16 {
		type ipv4_addr
	}

	chain postrouting {
		type nat hook postrouting priority srcnat + 10; policy accept;
		oifname != "eth*" return comment "nf:inet:iface:4b3b19c7"
		meta nfproto ipv4 jump nat_v4 comment "nf:v4:jump:2d28f8f9"
	}

	chain nat_v4 {
		ip daddr & 255.255.0.0 == @nonat_v4_16 return comment "nf:v4:nonat:0718bd38"
		ip saddr & 255.255.255.0 == @masq_v4_24 goto masq_v4_do comment "nf:v4:masq:3a82b7e9"
	}

	chain masq_v4_do {
		meta l4proto { tcp, udp } counter packets 0 bytes 0 masquerade to :1024-65535 fully-random comment "nf:v4:tcpudp:cbeadc97"
		counter packets 12 bytes 720 masquerade fully-random comment "nf:v4:all:0bc7400a"
	}
}
`;

describe('parseTerseListing', () => {
  it('reads sets, chains and rule ids (chains in listing order) from real nft terse output; the table comment is not the marker', () => {
    expect(parseTerseListing(REAL_TERSE)).toEqual({
      sets: ['marker', 'masq_v4_24', 'nonat_v4_16'],
      chains: ['postrouting', 'nat_v4', 'masq_v4_do'],
      ruleIds: ['nf:inet:iface:4b3b19c7', 'nf:v4:jump:2d28f8f9', 'nf:v4:nonat:0718bd38', 'nf:v4:masq:3a82b7e9', 'nf:v4:tcpudp:cbeadc97', 'nf:v4:all:0bc7400a'],
    });
  });

  it('empty or foreign text gives an empty state without a comment', () => {
    expect(parseTerseListing('')).toEqual({ sets: [], chains: [], ruleIds: [] });
    expect(parseTerseListing('Error: No such file or directory\n')).toEqual({ sets: [], chains: [], ruleIds: [] });
  });

  it('the comment is the marker element\'s when the text lists it (our rendered text), and only when there is exactly one', () => {
    const marker = (elements: string) => `table inet natfleet {\n\tcomment "natfleet v1 old-layout"\n\tset marker {\n\t\ttype mark\n${elements}\t}\n}\n`;
    expect(parseTerseListing(marker('\t\telements = { 0x0000002a comment "natfleet v42 sha256:00" }\n')).comment).toBe('natfleet v42 sha256:00');
    expect(parseTerseListing(marker('')).comment).toBeUndefined();
    expect(parseTerseListing(marker('\t\telements = { 0x0000002a }\n')).comment).toBeUndefined();
    expect(parseTerseListing(marker('\t\telements = { 0x0000002a comment "a", 0x0000002b comment "b" }\n')).comment).toBeUndefined();
    // A table comment (the layout before issue 16 kept the version there) is never taken for the marker.
    expect(parseTerseListing('table inet natfleet {\n\tcomment "natfleet v3 sha256:00"\n}\n').comment).toBeUndefined();
  });

  it('counts rules someone added without a comment as "", ignores chain comments and multi-line elements', () => {
    const text = `table inet natfleet {
	comment "natfleet"
	set marker {
		type mark
		elements = { 0x00000003 comment "natfleet v3 sha256:00" }
	}

	set masq_v4_32 {
		type ipv4_addr
		elements = { 10.0.0.1, 10.0.0.2,
			     10.0.0.3 }
	}

	chain postrouting {
		comment "someone's chain comment"
		type nat hook postrouting priority srcnat + 10; policy accept;
		ip saddr @masq_v4_32 counter packets 0 bytes 0 masquerade comment "nf:v4:all:00000000"
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
      sets: ['marker', 'masq_v4_32'],
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
    const actual: TableState = {
      comment: 'natfleet v11 sha256:xx',
      sets: ['marker', 'masq_v4_16', 'nonat_v4_12', 'nonat_v4_16', 'masq_v6_48', 'nonat_v6_48', 'evil'],
      chains: ['postrouting', 'nat_v4', 'nat_v6', 'masq_v4_do', 'masq_v6_do', 'c2'],
      ruleIds: expected.ruleIds,
    };
    const types = compareTableState(expected, actual).map((d) => [d.type, 'name' in d ? d.name : undefined]);
    expect(types).toEqual([
      ['comment', undefined],
      ['set-missing', 'nonat_v6_108'],
      ['set-unexpected', 'evil'],
      ['chain-unexpected', 'c2'],
    ]);
    const comment = compareTableState(expected, { ...actual, comment: undefined })[0]!;
    expect(comment).toMatchObject({ type: 'comment', actual: undefined, expected: expected.comment });
    expect(comment.message).toContain('absent');
  });

  it('reports missing, extra and reordered rules', () => {
    const ids = expected.ruleIds;
    const last = ids.at(-1)!;
    const missing = compareTableState(expected, { ...expected, ruleIds: ids.slice(0, -1) });
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({ type: 'rules', actual: ids.slice(0, -1) });
    expect(missing[0]!.message).toContain(last);
    const extra = compareTableState(expected, { ...expected, ruleIds: [...ids, ''] });
    expect(extra[0]!.message).toContain('rule without comment');
    const reordered = compareTableState(expected, { ...expected, ruleIds: [ids[1]!, ids[0]!, ...ids.slice(2)] });
    expect(reordered[0]!.message).toContain('another order');
  });
});
