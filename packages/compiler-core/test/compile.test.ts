import { encodeBundle, generateSigningKeyPair, loadSigningKey, decodeBundle, loadTrustedKeys } from '@natfleet/bundle';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile, compileBundle, type SnapshotEntry } from '../src/index.js';
import { felixEntry, nodeEntry, poolEntry, rawEntry } from './fixtures.js';

const C = { cluster: 'default' };
const sets = (entries: SnapshotEntry[]) => compile({ entries }, 7, C).body.fleet;

describe('NAT semantics (DESIGN.md §3)', () => {
  it('natOutgoing pool: masqueraded sources; every pool is a no-NAT destination', () => {
    const f = sets([
      poolEntry('default-ipv4-ippool', { cidr: '192.168.0.0/16', natOutgoing: true }),
      poolEntry('bgp-peered', { cidr: '10.10.0.0/16' }),
      poolEntry('no-nat-corp', { cidr: '172.16.0.0/12', disabled: true }),
      poolEntry('v6', { cidr: 'fd00:10::/48', natOutgoing: true }),
    ]);
    expect(f.v4).toEqual({ masquerade: ['192.168.0.0/16'], noNat: ['10.10.0.0/16', '172.16.0.0/12', '192.168.0.0/16'] });
    expect(f.v6).toEqual({ masquerade: ['fd00:10::/48'], noNat: ['fd00:10::/48'] });
  });

  it('a disabled pool with natOutgoing still masquerades (disabled only stops IPAM, as in Felix)', () => {
    const f = sets([poolEntry('old', { cidr: '10.1.0.0/16', natOutgoing: true, disabled: true })]);
    expect(f.v4.masquerade).toEqual(['10.1.0.0/16']);
  });

  it('LoadBalancer pools take part in neither set', () => {
    const f = sets([
      poolEntry('lb', { cidr: '10.96.0.0/20', allowedUses: ['LoadBalancer'], natOutgoing: false, blockSize: 26 }),
      poolEntry('w', { cidr: '10.1.0.0/16', natOutgoing: true }),
    ]);
    expect(f.v4).toEqual({ masquerade: ['10.1.0.0/16'], noNat: ['10.1.0.0/16'] });
  });

  it('adjacent pools merge into minimal CIDRs', () => {
    const f = sets([poolEntry('a', { cidr: '10.0.0.0/24', natOutgoing: true }), poolEntry('b', { cidr: '10.0.1.0/24', natOutgoing: true })]);
    expect(f.v4).toEqual({ masquerade: ['10.0.0.0/23'], noNat: ['10.0.0.0/23'] });
  });

  it('overlapping pools (written with etcdctl) resolve by longest prefix, with a warning', () => {
    const { body } = compile(
      {
        entries: [
          poolEntry('outer-nat', { cidr: '10.0.0.0/16', natOutgoing: true }),
          poolEntry('inner-routed', { cidr: '10.0.128.0/17', natOutgoing: false }),
          poolEntry('innermost-nat', { cidr: '10.0.255.0/24', natOutgoing: true }),
        ],
      },
      3,
      C,
    );
    expect(body.fleet.v4.masquerade).toEqual(['10.0.0.0/17', '10.0.255.0/24']);
    expect(body.fleet.v4.noNat).toEqual(['10.0.0.0/16']);
    expect(body.warnings.map((w) => [w.key.split('/').pop(), w.code])).toEqual([
      ['inner-routed', 'OVERLAP'],
      ['innermost-nat', 'OVERLAP'],
    ]);
  });

  it('a duplicate CIDR keeps the first pool by name and warns about the other', () => {
    const { body } = compile(
      { entries: [poolEntry('b-routed', { cidr: '10.2.0.0/16' }), poolEntry('a-nat', { cidr: '10.2.0.0/16', natOutgoing: true })] },
      3,
      C,
    );
    expect(body.fleet.v4.masquerade).toEqual(['10.2.0.0/16']);
    expect(body.warnings).toEqual([expect.objectContaining({ key: expect.stringContaining('b-routed'), code: 'DUPLICATE_CIDR' })]);
  });
});

describe('bad values in etcd become warnings, the rest compiles', () => {
  it('skips invalid JSON, invalid resources, wrong kind and name mismatch', () => {
    const wrongKind = felixEntry('x', {});
    const { body } = compile(
      {
        entries: [
          poolEntry('good', { cidr: '10.5.0.0/16', natOutgoing: true }),
          rawEntry('ippools/garbage', '{not json'),
          rawEntry('ippools/empty', ''),
          poolEntry('hostbits', { cidr: '10.6.0.1/16' }),
          poolEntry('linklocal', { cidr: '169.254.0.0/16' }),
          { key: wrongKind.key.replace('felixconfigurations/x', 'ippools/x'), value: wrongKind.value },
          { key: poolEntry('other', {}).key, value: poolEntry('named-differently', { cidr: '10.7.0.0/16' }).value },
          felixEntry('default', { natPortRange: '70000:80000' }),
        ],
      },
      9,
      C,
    );
    expect(body.fleet.v4.masquerade).toEqual(['10.5.0.0/16']);
    expect(body.fleet.v4.noNat).toEqual(['10.5.0.0/16']);
    const byName = Object.fromEntries(body.warnings.map((w) => [w.key.split('/').pop(), w]));
    expect(byName.garbage?.code).toBe('INVALID_JSON');
    expect(byName.empty?.code).toBe('INVALID_JSON');
    expect(byName.hostbits).toMatchObject({ code: 'INVALID_RESOURCE', reason: expect.stringContaining('spec.cidr') });
    expect(byName.linklocal).toMatchObject({ code: 'INVALID_RESOURCE', reason: expect.stringContaining('spec.cidr') });
    expect(byName.x).toMatchObject({ code: 'INVALID_RESOURCE', reason: expect.stringContaining('kind') });
    expect(byName.other?.code).toBe('NAME_MISMATCH');
    expect(byName.default).toMatchObject({ code: 'INVALID_RESOURCE', reason: expect.stringContaining('spec.natPortRange') });
    expect(body.fleet.settings).toEqual({ fullyRandom: true, exclusions: 'IPPoolsOnly' });
  });

  it('ignores keys outside the resource prefixes and an empty snapshot compiles to empty sets', () => {
    const { body } = compile({ entries: [{ key: '/other/thing', value: 'x' }] }, 1, C);
    expect(body.fleet.v4).toEqual({ masquerade: [], noNat: [] });
    expect(body.fleet.v6).toEqual({ masquerade: [], noNat: [] });
    expect(body.warnings).toEqual([]);
    expect(body.nodes).toEqual({});
  });
});

describe('FelixConfiguration and Node', () => {
  it('default sets fleet settings; node.<name> overrides only what it sets', () => {
    const { body } = compile(
      {
        entries: [
          felixEntry('default', { natPortRange: '32768:60999', natOutgoingInterfaceFilter: 'eth*', natOutgoingFullyRandom: false }),
          felixEntry('node.edge-1', { natOutgoingAddress: '203.0.113.5' }),
          felixEntry('node.edge-2', { iptablesNATOutgoingInterfaceFilter: 'bond+', natOutgoingExclusions: 'IPPoolsAndHostIPs' }),
          felixEntry('node.quiet', { logSeverityScreen: 'Info' }),
        ],
      },
      4,
      C,
    );
    expect(body.fleet.settings).toEqual({
      portRange: { from: 32768, to: 60999 },
      interfaceFilter: 'eth*',
      fullyRandom: false,
      exclusions: 'IPPoolsOnly',
    });
    expect(body.nodes).toEqual({
      'edge-1': { natOutgoingAddress: '203.0.113.5' },
      'edge-2': { interfaceFilter: 'bond*', exclusions: 'IPPoolsAndHostIPs' },
    });
  });

  it('collects node host addresses as minimal per-family lists', () => {
    const { body } = compile(
      { entries: [nodeEntry('n1', ['192.0.2.11', '2001:db8::11']), nodeEntry('n2', ['192.0.2.10/24'])] },
      4,
      C,
    );
    expect(body.fleet.hostAddresses).toEqual({ v4: ['192.0.2.10/31'], v6: ['2001:db8::11/128'] });
  });
});

describe('determinism', () => {
  const key = loadSigningKey(generateSigningKeyPair().privateKeyPem);
  const entries: SnapshotEntry[] = [
    poolEntry('a', { cidr: '10.0.0.0/16', natOutgoing: true }),
    poolEntry('b', { cidr: '10.0.4.0/24' }),
    poolEntry('c', { cidr: 'fd00::/48', natOutgoing: true }),
    poolEntry('d', { cidr: '172.20.0.0/16', disabled: true }),
    poolEntry('e', { cidr: '10.0.4.0/24', natOutgoing: true }),
    rawEntry('ippools/bad', 'nope'),
    felixEntry('default', { natPortRange: '1024:65535' }),
    felixEntry('node.x', { natOutgoingAddress: '198.51.100.1' }),
    felixEntry('node.a', { natOutgoingFullyRandom: false }),
    nodeEntry('x', ['198.51.100.1']),
    nodeEntry('a', ['198.51.100.2']),
  ];

  it('the same snapshot in any order gives byte-identical bundles', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const ref = Buffer.from(encodeBundle(compileBundle({ entries }, 11, { ...C, key, compiledAt: at }).bundle));
    fc.assert(
      fc.property(fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }), (shuffled) => {
        const got = Buffer.from(encodeBundle(compileBundle({ entries: shuffled }, 11, { ...C, key, compiledAt: at }).bundle));
        return got.equals(ref);
      }),
      { numRuns: 200 },
    );
  });

  it('bundles verify with the compiler public key and fail with any other', () => {
    const pair = generateSigningKeyPair();
    const { bundle } = compileBundle({ entries }, 11, { ...C, key: loadSigningKey(pair.privateKeyPem) });
    expect(decodeBundle(encodeBundle(bundle), { trustedKeys: loadTrustedKeys([pair.publicKeyPem]) }).version).toBe(11);
    const other = loadTrustedKeys([generateSigningKeyPair().publicKeyPem]);
    expect(() => decodeBundle(encodeBundle(bundle), { trustedKeys: other })).toThrow(/untrusted key/);
  });
});

describe('scale', () => {
  it('100,000 pools compile to a bundle that still fits one NATS message (1 MiB)', () => {
    const entries: SnapshotEntry[] = [];
    // Disjoint /26 pools scattered over 10.0.0.0/8 (every 3rd /26, so few merge), alternating NAT.
    for (let i = 0; i < 100_000; i++) {
      const n = i * 3;
      const cidr = `10.${(n >> 10) & 255}.${(n >> 2) & 255}.${(n & 3) * 64}/26`;
      entries.push(poolEntry(`p${i}`, { cidr, natOutgoing: i % 2 === 0 }));
    }
    const key = loadSigningKey(generateSigningKeyPair().privateKeyPem);
    const { bundle } = compileBundle({ entries }, 5, { ...C, key });
    expect(bundle.warnings).toEqual([]);
    expect(bundle.fleet.v4.masquerade).toHaveLength(50_000);
    const bytes = encodeBundle(bundle);
    expect(bytes.length).toBeLessThan(1024 * 1024);
  });
});

describe('DecodeCache', () => {
  it('compiling through one cache over a sequence of changes gives exactly what fresh compiles give', async () => {
    const { DecodeCache } = await import('../src/index.js');
    const { canonicalJson } = await import('@natfleet/bundle');
    const entryArb = fc.record({
      i: fc.nat(15),
      kind: fc.constantFrom('pool', 'bad', 'felix', 'node'),
      nat: fc.boolean(),
      rev: fc.nat(3),
    }).map(({ i, kind, nat, rev }): SnapshotEntry => {
      const e = kind === 'pool' ? poolEntry(`p${i}`, { cidr: `10.${i}.0.0/16`, natOutgoing: nat })
        : kind === 'bad' ? rawEntry(`ippools/p${i}`, nat ? '{broken' : '{"kind":"IPPool"}')
        : kind === 'felix' ? felixEntry(i % 2 ? 'default' : `node.n${i}`, { natOutgoingFullyRandom: nat })
        : nodeEntry(`n${i}`, [`192.0.2.${i}`]);
      return { ...e, modRevision: rev };
    });
    // Each step is a whole snapshot; consecutive ones share most keys (same i) so the cache is exercised.
    fc.assert(
      fc.property(fc.array(fc.uniqueArray(entryArb, { selector: (e) => e.key, maxLength: 12 }), { minLength: 2, maxLength: 6 }), (steps) => {
        const cache = new DecodeCache();
        for (const [v, entries] of steps.entries()) {
          const cached = compile({ entries }, v + 1, { ...C, cache }).body;
          const fresh = compile({ entries }, v + 1, C).body;
          if (canonicalJson(cached) !== canonicalJson(fresh)) return false;
          if (cache.size !== new Set(entries.map((e) => e.key)).size) return false; // removed keys are dropped
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('a string and bytes of "the same" value never share a cache entry (a BOM decodes differently)', async () => {
    const { DecodeCache } = await import('../src/index.js');
    const cache = new DecodeCache();
    const a = poolEntry('a', { cidr: '10.0.0.0/16', natOutgoing: true });
    const bom = '\uFEFF' + String(a.value);
    compile({ entries: [{ ...a, value: new TextEncoder().encode(bom) }] }, 1, { ...C, cache }); // bytes: TextDecoder strips the BOM
    const asString = compile({ entries: [{ ...a, value: bom }] }, 2, { ...C, cache }).body; // string: JSON.parse sees it
    const fresh = compile({ entries: [{ ...a, value: bom }] }, 2, C).body;
    expect(asString.warnings).toEqual(fresh.warnings);
  });

  it('re-validates a changed value and re-uses unchanged ones', async () => {
    const { DecodeCache } = await import('../src/index.js');
    const cache = new DecodeCache();
    const a = poolEntry('a', { cidr: '10.0.0.0/16', natOutgoing: true });
    compile({ entries: [a] }, 1, { ...C, cache });
    const changed = compile({ entries: [{ ...a, value: poolEntry('a', { cidr: '10.0.0.0/16', natOutgoing: false }).value }] }, 2, { ...C, cache }).body;
    expect(changed.fleet.v4.masquerade).toEqual([]);
    const broken = compile({ entries: [{ ...a, value: '{' }] }, 3, { ...C, cache }).body;
    expect(broken.warnings.map((w) => w.code)).toEqual(['INVALID_JSON']);
  });
});

describe('unknown fields in etcd (read leniently, as Calico components do)', () => {
  it('a skipped resource lists its unknown fields too (the typo behind a missing field)', () => {
    const { body } = compile({ entries: [poolEntry('typo', { cidrr: '10.1.0.0/16' })] }, 7, C);
    expect(body.warnings).toEqual([expect.objectContaining({ code: 'INVALID_RESOURCE', reason: expect.stringContaining('spec.cidrr: unknown field (did you mean cidr?)') })]);
    expect(body.warnings[0]!.reason).toContain('spec.cidr: required');
  });

  it('compiles the resource and warns UNKNOWN_FIELD with each path and suggestion, cached or not', async () => {
    const { DecodeCache } = await import('../src/index.js');
    const entries = [
      poolEntry('typo', { cidr: '10.1.0.0/16', natOutgoign: true }),
      felixEntry('default', { natOutgoingAdress: '192.0.2.1', natPortRange: '1024:2048' }),
    ];
    const cache = new DecodeCache();
    for (const run of [1, 2]) {
      const { body } = compile({ entries }, 7, { ...C, cache });
      expect(body.fleet.v4.noNat, `run ${run}`).toEqual(['10.1.0.0/16']);
      expect(body.fleet.v4.masquerade).toEqual([]);
      expect(body.fleet.settings.portRange).toEqual({ from: 1024, to: 2048 });
      const w = body.warnings.filter((x) => x.code === 'UNKNOWN_FIELD');
      expect(w.map((x) => x.reason)).toEqual([
        'spec.natOutgoingAdress: unknown field (did you mean natOutgoingAddress?)',
        'spec.natOutgoign: unknown field (did you mean natOutgoing?)',
      ]);
    }
  });
});
