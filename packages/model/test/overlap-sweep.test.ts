// Property test: batch overlap reporting (a sort + nesting-stack sweep) against a
// brute-force model. Every pool that overlaps an earlier batch pool (other name) gets
// exactly one issue naming the earliest such pool; every pool that overlaps stored pools
// (other name, not replaced by the batch) gets one naming the first stored one. Small
// regions make nesting, equal CIDRs and shared names common.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RawResource, cidrsOverlap, formatCidr, makeCidr, parseCidr, validateResources } from '../src/index.js';
import { pool } from './helpers.js';

const RUNS = { numRuns: 300 };

/** A masked CIDR in 10.20.0.0/16 (/16-/24) or fd00::/112 (/112-/120), as text. */
const inRegion = (family: 4 | 6, base: bigint, basePrefix: number, bits: number): fc.Arbitrary<string> =>
  fc.integer({ min: basePrefix, max: basePrefix + 8 }).chain((p) =>
    fc.integer({ min: 0, max: 2 ** (p - basePrefix) - 1 }).map((block) => formatCidr(makeCidr(family, base + BigInt(block) * 2n ** BigInt(bits - p), p))),
  );
const cidrArb = fc.oneof(inRegion(4, 0x0a140000n, 16, 32), inRegion(6, 0xfd000000000000000000000000000000n, 112, 128));
// Few names, so pools sharing a name (one pool being replaced, never an overlap) are common.
const nameArb = fc.constantFrom('a', 'b', 'c', 'd');
const poolsArb = fc.array(fc.record({ name: nameArb, cidr: cidrArb }), { maxLength: 14 });

const raw = (pools: readonly { name: string; cidr: string }[]): RawResource[] =>
  pools.map((p, docIndex) => ({ docIndex, object: pool({ cidr: p.cidr, disabled: true }, { name: p.name }) }));

function overlapIssues(r: ReturnType<typeof validateResources>): string[] {
  return (r.ok ? [] : r.issues).filter((i) => i.reason.startsWith('overlaps with IPPool(')).map((i) => `${i.resource}: ${i.reason}`).sort();
}

describe('batch overlap sweep against brute force', () => {
  it('generates the CIDRs it claims to (masked, parseable)', () => {
    fc.assert(
      fc.property(cidrArb, (c) => {
        expect(formatCidr(parseCidr(c, { strict: true }))).toBe(c);
      }),
      RUNS,
    );
  });

  it('reports each pool overlapping an earlier one once, naming the earliest', () => {
    fc.assert(
      fc.property(poolsArb, (pools) => {
        const expected: string[] = [];
        pools.forEach((p, i) => {
          const j = pools.findIndex((q, k) => k < i && q.name !== p.name && cidrsOverlap(parseCidr(q.cidr), parseCidr(p.cidr)));
          if (j >= 0) expected.push(`IPPool/${p.name}: overlaps with IPPool(${pools[j]!.name}) CIDR ${pools[j]!.cidr} (document ${j})`);
        });
        expect(overlapIssues(validateResources(raw(pools)))).toEqual(expected.sort());
      }),
      RUNS,
    );
  });

  it('reports each pool overlapping stored pools once, naming the first stored one', () => {
    const storedArb = fc.uniqueArray(fc.record({ name: fc.constantFrom('s1', 's2', 's3', 's4', 's5', 'a', 'b'), cidr: cidrArb }), { maxLength: 8, selector: (s) => s.name });
    fc.assert(
      fc.property(fc.uniqueArray(fc.record({ name: nameArb, cidr: cidrArb }), { maxLength: 8, selector: (p) => p.name }), storedArb, (pools, stored) => {
        const batchNames = new Set<string>(pools.map((p) => p.name));
        const standing = stored.filter((s) => !batchNames.has(s.name));
        const expected: string[] = [];
        pools.forEach((p, i) => {
          const j = pools.findIndex((q, k) => k < i && cidrsOverlap(parseCidr(q.cidr), parseCidr(p.cidr)));
          if (j >= 0) expected.push(`IPPool/${p.name}: overlaps with IPPool(${pools[j]!.name}) CIDR ${pools[j]!.cidr} (document ${j})`);
          const s = standing.find((q) => cidrsOverlap(parseCidr(q.cidr), parseCidr(p.cidr)));
          if (s) expected.push(`IPPool/${p.name}: overlaps with IPPool(${s.name}) CIDR ${s.cidr}`);
        });
        const existing = stored.map((s) => pool({ cidr: s.cidr }, { name: s.name }));
        expect(overlapIssues(validateResources(raw(pools), { existing }))).toEqual(expected.sort());
      }),
      RUNS,
    );
  });
});
