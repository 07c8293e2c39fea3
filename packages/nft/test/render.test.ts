import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Netns } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle } from '@natfleet/bundle';
import {
  effectiveSettings,
  expectedTableContents,
  expectedTableState,
  FakeNft,
  isNftRenderError,
  markerKey,
  parseTerseListing,
  RealNft,
  renderTable,
  renderTransaction,
} from '../src/index.js';
import { makeBundle, V4_POOLS, V6_POOLS } from './fixtures.js';

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden');

/** Compares with test/golden/<name>.nft; `UPDATE_GOLDEN=1 npx vitest run` rewrites the files. */
function expectGolden(name: string, text: string): void {
  const file = join(GOLDEN_DIR, `${name}.nft`);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  if (!existsSync(file)) throw new Error(`golden file ${file} missing; run with UPDATE_GOLDEN=1`);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

const overrideBundle = makeBundle({
  v4: V4_POOLS,
  v6: V6_POOLS,
  settings: { interfaceFilter: 'eth*' },
  nodes: { 'node-b': { interfaceFilter: 'ens5', fullyRandom: true, portRange: { from: 20000, to: 29999 } } },
});

/** name → [bundle, node]: the representative cases, each a golden file. */
const CASES: Record<string, [Bundle, string]> = {
  'ipv4-only': [makeBundle({ v4: V4_POOLS }), 'node-a'],
  'ipv6-only': [makeBundle({ v6: V6_POOLS }), 'node-a'],
  'dual-stack': [makeBundle({ v4: V4_POOLS, v6: V6_POOLS }), 'node-a'],
  'snat-v4-with-v6-pools': [makeBundle({ v4: V4_POOLS, v6: V6_POOLS, settings: { natOutgoingAddress: '203.0.113.5' } }), 'node-a'],
  'snat-v6': [makeBundle({ v4: V4_POOLS, v6: V6_POOLS, settings: { natOutgoingAddress: '2001:db8::1' } }), 'node-a'],
  'port-range': [makeBundle({ v4: V4_POOLS, v6: V6_POOLS, settings: { portRange: { from: 1024, to: 65535 } } }), 'node-a'],
  'port-range-snat-v4': [
    makeBundle({ v4: V4_POOLS, v6: V6_POOLS, settings: { portRange: { from: 1024, to: 65535 }, natOutgoingAddress: '203.0.113.5' } }),
    'node-a',
  ],
  'port-range-snat-v6-fully-random': [
    makeBundle({ v4: V4_POOLS, v6: V6_POOLS, settings: { portRange: { from: 1024, to: 65535 }, natOutgoingAddress: '2001:db8::1', fullyRandom: true } }),
    'node-a',
  ],
  'fully-random': [makeBundle({ v4: V4_POOLS, v6: V6_POOLS, settings: { fullyRandom: true } }), 'node-a'],
  'interface-filter': [makeBundle({ v4: V4_POOLS, v6: V6_POOLS, settings: { interfaceFilter: 'eth*' } }), 'node-a'],
  'node-override-without': [overrideBundle, 'node-a'],
  'node-override-with': [overrideBundle, 'node-b'],
  'host-ips-excluded': [
    makeBundle({
      v4: V4_POOLS,
      v6: V6_POOLS,
      settings: { exclusions: 'IPPoolsAndHostIPs' },
      hostAddresses: { v4: ['192.0.2.10/32', '192.0.2.11/32'], v6: ['2001:db8:2::10/128'] },
    }),
    'node-a',
  ],
  'empty-pools': [makeBundle(), 'node-a'],
  // /0 (a rule without a lookup), /32 and /128 (no mask), host bits set, duplicates after masking, unsorted input.
  'prefix-lengths': [
    makeBundle({
      v4: { masquerade: ['10.65.3.7/24', '10.65.3.0/24', '10.0.0.1/32', '10.64.0.0/24'], noNat: ['0.0.0.0/0'] },
      v6: { masquerade: ['fd00:65::1/64', 'fd00:64::/64', '::/0'], noNat: ['2001:db8::1/128', 'fd00:65:0:0:1:2:3:4/80'] },
    }),
    'node-a',
  ],
  'many-elements': [
    makeBundle({
      v4: { masquerade: ['10.65.0.0/16', '10.70.0.0/16', '172.16.0.0/12'], noNat: ['10.65.0.0/16', '10.70.0.0/16', '10.96.0.0/12', '172.16.0.0/12'] },
      v6: V6_POOLS,
    }),
    'node-a',
  ],
};

describe('renderTable goldens', () => {
  it.each(Object.keys(CASES))('%s', (name) => {
    const [bundle, node] = CASES[name]!;
    expectGolden(name, renderTable(bundle, node));
  });

  it('the node override changes the output only for the node that has one', () => {
    expect(renderTable(overrideBundle, 'node-b')).not.toBe(renderTable(overrideBundle, 'node-a'));
    expect(renderTable(overrideBundle, 'node-a')).toBe(renderTable(overrideBundle, 'node-c'));
  });

  describe('every golden is valid nft (real nft -c in a throwaway netns)', () => {
    let ns: Netns;
    let nft: RealNft;
    beforeAll(async () => {
      ns = await Netns.create('golden');
      nft = new RealNft({ netns: ns.name });
    });
    afterAll(async () => ns?.destroy());

    it.each(Object.keys(CASES))('%s', async (name) => {
      const [bundle, node] = CASES[name]!;
      await nft.check(readFileSync(join(GOLDEN_DIR, `${name}.nft`), 'utf8'));
      await nft.check(renderTransaction(bundle, node));
      // The check did not create anything.
      expect(await nft.readTableContents()).toBeUndefined();
    });

    it.each(Object.keys(CASES))('%s: applied, the kernel lists exactly expectedTableContents (rule ids in order, element texts)', async (name) => {
      const [bundle, node] = CASES[name]!;
      await nft.applyTransaction(renderTransaction(bundle, node));
      const live = await nft.readTableContents();
      const expected = expectedTableContents(bundle, node);
      expect(live).toEqual({ ...expected, elements: { ...expected.elements, marker: [markerKey(bundle.version)] } });
      expect(parseTerseListing((await ns.exec('nft', ['-t', 'list', 'table', 'inet', 'natfleet'])).stdout)).toEqual({ ...expectedTableState(bundle, node), comment: undefined });
    });
  });
});

describe('renderTable properties', () => {
  const dual = makeBundle({ v4: V4_POOLS, v6: V6_POOLS, settings: { portRange: { from: 1024, to: 65535 } } });

  it('is deterministic', () => {
    expect(renderTable(dual, 'n')).toBe(renderTable(structuredClone(dual), 'n'));
  });

  it('each rule comment is nf:<scope>:<kind>:<first 8 hex of sha256 of the rule text without comment>', () => {
    const rules = renderTable(makeBundle({ v4: V4_POOLS, v6: V6_POOLS, settings: { portRange: { from: 1024, to: 65535 }, interfaceFilter: 'eth0' } }), 'n')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.includes(' comment "nf:'));
    // iface, 2 jumps, per family: nonat per prefix length, masq per prefix length, tcpudp + all.
    expect(rules).toHaveLength(3 + (2 + 1 + 2) * 2);
    for (const line of rules) {
      const m = /^(.*) comment "(nf:(v4|v6|inet):(iface|jump|nonat|hosts|masq|tcpudp|all):([0-9a-f]{8}))"$/.exec(line)!;
      expect(m).not.toBeNull();
      expect(m[5]).toBe(createHash('sha256').update(m[1]!).digest('hex').slice(0, 8));
      expect(m[1]!.startsWith('meta l4proto { tcp, udp }')).toBe(m[4] === 'tcpudp');
    }
    expect(new Set(rules.map((r) => r.slice(-25))).size).toBe(rules.length);
  });

  it('rule ids and set names depend on the prefix lengths present and the settings, not on the addresses', () => {
    const other = makeBundle({
      v4: { masquerade: ['10.1.0.0/16'], noNat: ['10.2.0.0/16', '10.112.0.0/12'] },
      v6: { masquerade: ['fd00:1::/48'], noNat: ['fd00:2::/48', 'fd00:3::/108'] },
      settings: { portRange: { from: 1024, to: 65535 } },
    });
    const { comment: _a, ...shape } = expectedTableState(other, 'n');
    const { comment: _b, ...dualShape } = expectedTableState(dual, 'n');
    expect(shape).toEqual(dualShape);
    const longer = makeBundle({ v4: { masquerade: ['10.1.0.0/24'], noNat: [] }, settings: { portRange: { from: 1024, to: 65535 } } });
    expect(expectedTableState(longer, 'n').sets).toEqual(['marker', 'masq_v4_24']);
  });

  it('the transaction is create-empty, delete, then the table', () => {
    expect(renderTransaction(dual, 'n')).toBe(`table inet natfleet {}\ndelete table inet natfleet\n${renderTable(dual, 'n')}`);
  });

  it('an interface filter of "*" means every interface: no oifname rule (nft rejects all-wildcard strings)', () => {
    const text = renderTable(makeBundle({ v4: V4_POOLS, settings: { interfaceFilter: '*' } }), 'n');
    expect(text).not.toContain('oifname');
  });

  it('without pools: the marker, the five chains and the jumps, no data set and no elements line but the marker\'s', () => {
    const s = expectedTableState(makeBundle(), 'n');
    expect(s.sets).toEqual(['marker']);
    expect(s.chains).toEqual(['postrouting', 'nat_v4', 'nat_v6', 'masq_v4_do', 'masq_v6_do']);
    expect(s.ruleIds.map((id) => id.split(':').slice(0, 3).join(':'))).toEqual(['nf:v4:jump', 'nf:v6:jump', 'nf:v4:all', 'nf:v6:all']);
    expect(renderTable(makeBundle(), 'n').match(/elements/g)).toHaveLength(1);
  });

  it('elements are the network addresses, masked, deduplicated and sorted by value; /0 is a rule without a set', () => {
    const b = makeBundle({
      v4: { masquerade: ['10.9.0.1/16', '10.10.0.0/16', '9.255.1.1/16', '10.9.200.0/16', '0.0.0.0/0'], noNat: [] },
      v6: { masquerade: ['fd00::ffff/120', '::ffff:10.1.2.3/120', 'fd00::1/120'], noNat: [] },
    });
    const c = expectedTableContents(b, 'n');
    expect(c.elements).toEqual({ masq_v4_16: ['9.255.0.0', '10.9.0.0', '10.10.0.0'], masq_v6_120: ['::ffff:10.1.2.0', 'fd00::', 'fd00::ff00'] });
    expect(renderTable(b, 'n')).toContain('\t\tgoto masq_v4_do comment "nf:v4:masq:');
    expect(renderTable(b, 'n')).toContain('ip saddr & 255.255.0.0 @masq_v4_16 goto masq_v4_do');
    expect(renderTable(b, 'n')).toContain('ip6 saddr & ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00 @masq_v6_120 goto masq_v6_do');
  });

  it('parsing the rendered text yields expectedTableState, and the fake stores exactly the rendered table (random bundles)', async () => {
    const cidr4 = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 8, max: 32 })).map(([a, len]) => `${a}.0.0.0/${len}`);
    const settings = fc.record(
      {
        natOutgoingAddress: fc.constantFrom('203.0.113.5', '2001:db8::1'),
        portRange: fc.integer({ min: 1, max: 65535 }).chain((from) => fc.integer({ min: from, max: 65535 }).map((to) => ({ from, to }))),
        fullyRandom: fc.boolean(),
        interfaceFilter: fc.constantFrom('eth0', 'eth*', '*', 'ens5.100', 'bond0:1'),
        exclusions: fc.constantFrom('IPPoolsOnly' as const, 'IPPoolsAndHostIPs' as const),
      },
      { requiredKeys: ['fullyRandom', 'exclusions'] },
    );
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(cidr4, { maxLength: 3 }), settings, fc.nat(), async (v4, s, version) => {
        const b = makeBundle({ version, v4: { masquerade: v4, noNat: v4 }, v6: V6_POOLS, settings: s });
        const expected = expectedTableState(b, 'n');
        expect(parseTerseListing(renderTable(b, 'n'))).toEqual(expected);
        const fake = new FakeNft();
        await fake.applyTransaction(renderTransaction(b, 'n'));
        expect(fake.dump()).toBe(renderTable(b, 'n'));
        expect(await fake.readTable()).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe('render never emits unvalidated text', () => {
  const bad: [string, Bundle][] = [
    ['quote in interface filter', makeBundle({ settings: { interfaceFilter: 'eth0" accept' } })],
    ['newline in interface filter', makeBundle({ settings: { interfaceFilter: 'eth0\nflush ruleset' } })],
    ['all-wildcard with prefix junk', makeBundle({ settings: { interfaceFilter: 'a*b*' } })],
    ['junk after a CIDR', makeBundle({ v4: { masquerade: ['10.0.0.0/8 } ; flush ruleset'], noNat: [] } })],
    ['v6 CIDR in the v4 set', makeBundle({ v4: { masquerade: ['fd00::/8'], noNat: [] } })],
    ['prefix too long', makeBundle({ v4: { masquerade: ['10.0.0.0/33'], noNat: [] } })],
    ['octet out of range', makeBundle({ v4: { masquerade: [], noNat: ['10.0.0.256/32'] } })],
    ['zone id in an address', makeBundle({ settings: { natOutgoingAddress: 'fe80::1%eth0' } })],
    ['text in natOutgoingAddress', makeBundle({ settings: { natOutgoingAddress: '1.2.3.4; drop' } })],
    ['inverted port range', makeBundle({ settings: { portRange: { from: 2000, to: 1000 } } })],
    ['port 0', makeBundle({ settings: { portRange: { from: 0, to: 1000 } } })],
    ['digest with a quote', makeBundle({ digest: 'sha256:" accept' })],
    ['bad host address', makeBundle({ settings: { exclusions: 'IPPoolsAndHostIPs' }, hostAddresses: { v4: ['x'], v6: [] } })],
    ['bad node override', makeBundle({ nodes: { n: { interfaceFilter: '"' } } })],
  ];
  it.each(bad)('%s → NftRenderError', (_, b) => {
    let caught: unknown;
    try {
      renderTransaction(b, 'n');
    } catch (err) {
      caught = err;
    }
    expect(isNftRenderError(caught)).toBe(true);
    expect(() => expectedTableState(b, 'n')).toThrow();
  });

  it.each(['010.0.0.0/8', '10.0.0.0/08', '10.0.0/8', '10.0.0.0.0/8', '10.0.0.0/8/8', ' 10.0.0.0/8', '10.0.0.0/', '/8', '10.0.0.0', '1.2.3.4/33', 'fd00::/8'])(
    'IPv4 CIDR %j → NftRenderError',
    (cidr) => {
      expect(() => renderTable(makeBundle({ v4: { masquerade: [cidr], noNat: [] } }), 'n')).toThrow(/fleet\.v4\.masquerade\[0\]/);
    },
  );

  it('IPv4 CIDRs are accepted exactly when they are a dotted quad (as node:net reads it) and a length 0-32 without leading zeros', () => {
    const reference = (cidr: string) => {
      const [address, len, ...rest] = cidr.split('/');
      return rest.length === 0 && len !== undefined && isIPv4(address!) && /^(?:0|[1-9]\d?)$/.test(len) && Number(len) <= 32;
    };
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789./'), maxLength: 20 }), fc.constantFrom('1.2.3.4/', '255.255.255.255/', ''), (tail, head) => {
        const cidr = `${head}${tail}`;
        let accepted = true;
        try {
          renderTable(makeBundle({ v4: { masquerade: [cidr], noNat: [] } }), 'n');
        } catch (err) {
          expect(isNftRenderError(err)).toBe(true);
          accepted = false;
        }
        expect(accepted, cidr).toBe(reference(cidr));
      }),
      { numRuns: 2000 },
    );
  });

  it('an invalid host address does not matter when host IPs are not excluded (the set is not rendered)', () => {
    expect(() => renderTable(makeBundle({ hostAddresses: { v4: ['x'], v6: [] } }), 'n')).not.toThrow();
  });
});

describe('effectiveSettings', () => {
  const b = makeBundle({
    settings: { natOutgoingAddress: '203.0.113.5', interfaceFilter: 'eth*', portRange: { from: 1024, to: 2047 } },
    nodes: { 'node-b': { fullyRandom: true, interfaceFilter: 'ens5', natOutgoingAddress: undefined } },
  });

  it('a node without an override (or an unknown node) gets the fleet settings', () => {
    expect(effectiveSettings(b, 'node-a')).toEqual(b.fleet.settings);
    expect(effectiveSettings(b, 'constructor')).toEqual(b.fleet.settings);
    expect(effectiveSettings(b, '__proto__')).toEqual(b.fleet.settings);
  });

  it('only fields present in the override replace the fleet values', () => {
    expect(effectiveSettings(b, 'node-b')).toEqual({
      natOutgoingAddress: '203.0.113.5',
      interfaceFilter: 'ens5',
      portRange: { from: 1024, to: 2047 },
      fullyRandom: true,
      exclusions: 'IPPoolsOnly',
    });
  });

  it('does not modify the bundle', () => {
    const before = structuredClone(b);
    effectiveSettings(b, 'node-b');
    expect(b).toEqual(before);
  });
});
