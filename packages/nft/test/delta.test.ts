// renderDelta and renderRepair as text, and applied to the fake (which follows the
// kernel's element semantics). Pure: no nft here; delta-property.test.ts runs them on
// the real kernel.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Bundle, NatSettings } from '@natfleet/bundle';
import {
  expectedTableContents,
  FakeNft,
  isNftRenderError,
  markerKey,
  parseTableListing,
  renderDelta,
  renderRepair,
  renderTable,
  renderTransaction,
  tableComment,
  type TableState,
} from '../src/index.js';
import { digestFor, makeBundle, V6_POOLS } from './fixtures.js';

const bundle = (version: number, masquerade: string[], noNat: string[] = ['10.96.0.0/12'], settings: Partial<NatSettings> = {}): Bundle =>
  makeBundle({ version, digest: digestFor(version), v4: { masquerade, noNat }, v6: V6_POOLS, settings });

const LINE = /^(add|delete) element inet natfleet ([a-z0-9_]+) \{ ([^{}]+) \}$/;

describe('renderDelta', () => {
  const from = bundle(1, ['10.65.0.0/16', '10.66.0.0/16']);

  it('the marker swap first, then per set what to delete and what to add', () => {
    const to = bundle(2, ['10.66.0.0/16', '10.67.0.0/16', '10.68.0.0/16'], ['10.96.0.0/12', '10.112.0.0/12']);
    expect(renderDelta(from, to, 'n')).toBe(
      [
        `delete element inet natfleet marker { ${markerKey(1)} }`,
        `add element inet natfleet marker { ${markerKey(2)} comment "${tableComment(to)}" }`,
        'delete element inet natfleet masq_v4_16 { 10.65.0.0 }',
        'add element inet natfleet masq_v4_16 { 10.67.0.0, 10.68.0.0 }',
        'add element inet natfleet nonat_v4_12 { 10.112.0.0 }',
        '',
      ].join('\n'),
    );
  });

  it('equal contents (even the same bundle) still swap the marker, and nothing else', () => {
    const lines = (text: string | undefined) => text!.trimEnd().split('\n');
    expect(lines(renderDelta(from, bundle(2, ['10.66.0.0/16', '10.65.0.0/16']), 'n'))).toHaveLength(2);
    expect(lines(renderDelta(from, from, 'n'))).toEqual([
      `delete element inet natfleet marker { ${markerKey(1)} }`,
      `add element inet natfleet marker { ${markerKey(1)} comment "${tableComment(from)}" }`,
    ]);
  });

  it('compares masked networks: host bits or duplicates in the bundle change nothing', () => {
    expect(renderDelta(from, bundle(2, ['10.65.1.2/16', '10.66.0.0/16', '10.66.7.0/16']), 'n')!.trimEnd().split('\n')).toHaveLength(2);
  });

  it.each<[string, Bundle]>([
    ['a new prefix length', bundle(2, ['10.65.0.0/16', '10.66.0.0/16', '10.70.0.0/24'])],
    ['the last element of a prefix length gone', bundle(2, ['10.65.0.0/16', '10.66.0.0/16'], [])],
    ['a port range', bundle(2, ['10.65.0.0/16', '10.66.0.0/16'], ['10.96.0.0/12'], { portRange: { from: 1024, to: 2047 } })],
    ['an interface filter', bundle(2, ['10.65.0.0/16', '10.66.0.0/16'], ['10.96.0.0/12'], { interfaceFilter: 'eth0' })],
    [
      'host exclusions with a host address',
      makeBundle({ version: 2, digest: digestFor(2), v4: from.fleet.v4, v6: V6_POOLS, settings: { exclusions: 'IPPoolsAndHostIPs' }, hostAddresses: { v4: ['192.0.2.1/32'], v6: [] } }),
    ],
    ['a snat address', bundle(2, ['10.65.0.0/16', '10.66.0.0/16'], ['10.96.0.0/12'], { natOutgoingAddress: '203.0.113.5' })],
    ['a /0 pool', bundle(2, ['10.65.0.0/16', '10.66.0.0/16', '0.0.0.0/0'])],
  ])('undefined when the shape changes: %s', (_, to) => {
    expect(renderDelta(from, to, 'n')).toBeUndefined();
  });

  it('host exclusions without host addresses add no set: still a delta', () => {
    expect(renderDelta(from, bundle(2, ['10.65.0.0/16'], ['10.96.0.0/12'], { exclusions: 'IPPoolsAndHostIPs' }), 'n')).toBeDefined();
  });

  it('a node override changes the shape only for its node', () => {
    const to = makeBundle({ version: 2, digest: digestFor(2), v4: from.fleet.v4, v6: V6_POOLS, nodes: { b: { fullyRandom: true } } });
    expect(renderDelta(from, to, 'a')).toBeDefined();
    expect(renderDelta(from, to, 'b')).toBeUndefined();
  });

  it('throws NftRenderError when either bundle is not safe to render', () => {
    const bad = bundle(2, ['10.0.0.0/8 } ; flush ruleset']);
    for (const call of [() => renderDelta(from, bad, 'n'), () => renderDelta(bad, from, 'n')]) {
      let caught: unknown;
      try {
        call();
      } catch (err) {
        caught = err;
      }
      expect(isNftRenderError(caught)).toBe(true);
    }
  });

  it('random pairs of the same shape: well-formed lines, never empty braces, and applied to the fake it leaves what the target renders', async () => {
    // Pools drawn from a few /16s, /24s and /64s: the shape is the same whenever both draw at least one of each length.
    const v4 = fc.uniqueArray(fc.oneof(fc.integer({ min: 0, max: 40 }).map((i) => `10.${i}.0.0/16`), fc.integer({ min: 0, max: 40 }).map((i) => `10.200.${i}.0/24`)), { maxLength: 30 });
    const v6 = fc.uniqueArray(fc.integer({ min: 0, max: 0xffff }).map((i) => `fd00:${i.toString(16)}::/64`), { minLength: 1, maxLength: 20 });
    await fc.assert(
      fc.asyncProperty(v4, v6, v4, v6, async (m1, s1, m2, s2) => {
        const a = makeBundle({ version: 1, digest: digestFor(1), v4: { masquerade: m1, noNat: ['10.96.0.0/12'] }, v6: { masquerade: s1, noNat: [] } });
        const b = makeBundle({ version: 2, digest: digestFor(2), v4: { masquerade: m2, noNat: ['10.96.0.0/12'] }, v6: { masquerade: s2, noNat: [] } });
        const text = renderDelta(a, b, 'n');
        const sameShape = JSON.stringify(Object.keys(expectedTableContents(a, 'n').elements)) === JSON.stringify(Object.keys(expectedTableContents(b, 'n').elements));
        expect(text !== undefined).toBe(sameShape);
        if (text === undefined) return;
        expect(text).not.toMatch(/\{\s*\}/);
        for (const line of text.trimEnd().split('\n')) expect(line).toMatch(LINE);
        const fake = new FakeNft();
        await fake.applyTransaction(renderTransaction(a, 'n'));
        await fake.applyTransaction(text);
        expect(fake.dump()).toBe(renderTable(b, 'n'));
      }),
      { numRuns: 150 },
    );
  });
});

describe('renderRepair', () => {
  const to = bundle(5, ['10.65.0.0/16', '10.66.0.0/16'], ['10.96.0.0/12'], { exclusions: 'IPPoolsAndHostIPs' });
  const live = (edit: (t: string) => string = (t) => t): TableState => parseTableListing(edit(renderTable(to, 'n')));

  it("'' when the elements already match, also when nft spells IPv6 differently", () => {
    expect(renderRepair(live(), to, 'n')).toBe('');
    expect(renderRepair(live((t) => t.replace('fd00:65::', 'fd00:65:0::')), to, 'n')).toBe('');
  });

  it('adds what is missing and deletes what is unexpected, by value, guarded by the unchanged marker', () => {
    const drifted = live((t) => t.replace('{ 10.65.0.0, 10.66.0.0 }', '{ 10.66.0.0, 10.65.0.7, 10.65.0.7 }'));
    expect(renderRepair(drifted, to, 'n')).toBe(
      [
        `delete element inet natfleet marker { ${markerKey(5)} }`,
        `add element inet natfleet marker { ${markerKey(5)} comment "${tableComment(to)}" }`,
        'delete element inet natfleet masq_v4_16 { 10.65.0.7 }',
        'add element inet natfleet masq_v4_16 { 10.65.0.0 }',
        '',
      ].join('\n'),
    );
  });

  it.each<[string, TableState]>([
    ['a terse read (no elements)', { ...expectedTableContents(to, 'n'), elements: undefined }],
    ['another version in force', parseTableListing(renderTable(bundle(4, ['10.65.0.0/16', '10.66.0.0/16'], ['10.96.0.0/12'], { exclusions: 'IPPoolsAndHostIPs' }), 'n'))],
    ['a second marker element', live((t) => t.replace(`{ ${markerKey(5)} comment`, `{ 0x00000063, ${markerKey(5)} comment`))],
    ['the marker set flushed', live((t) => t.replace(/\t\telements = \{ 0x.*\n/, ''))],
    ['a set deleted', live((t) => t.replace(/\tset masq_v4_16 \{[^}]*\}\n\t\}\n/, ''))],
    ['a foreign set', live((t) => t.replace('\tchain postrouting', '\tset evil {\n\t\ttype ipv4_addr\n\t}\n\n\tchain postrouting'))],
    ['a rule without id', live((t) => t.replace('\tchain nat_v4 {\n', '\tchain nat_v4 {\n\t\tip saddr 1.2.3.4 accept\n'))],
    ['rules in another order', live((t) => t.replace(/(\t\tmeta nfproto ipv4 .*\n)(\t\tmeta nfproto ipv6 .*\n)/, '$2$1'))],
    ['an element that is not an address of the family', live((t) => t.replace('{ 10.65.0.0, 10.66.0.0 }', '{ 10.65.0.0, fd00::1 }'))],
  ])('undefined (only a swap repairs) for %s', (_, state) => {
    expect(renderRepair(state, to, 'n')).toBeUndefined();
  });
});
