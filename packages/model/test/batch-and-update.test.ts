// Pool updates (immutable fields) and batch validation (duplicates, overlaps in the batch
// and against stored pools).
import { describe, expect, it } from 'vitest';
import {
  type RawResource, isValidationError, parseResources, validatePoolUpdate, validatePoolUpdateOrThrow,
  validateResources, validateResourcesOrThrow,
} from '../src/index.js';
import { felix, node, pathsOf, pool } from './helpers.js';

const raw = (objects: Array<Record<string, unknown>>): RawResource[] => objects.map((object, docIndex) => ({ docIndex, object }));

describe('validatePoolUpdate', () => {
  const stored = pool({ cidr: '10.0.0.0/16', blockSize: 26, natOutgoing: false }, { name: 'p1', resourceVersion: '5' });

  it('allows changing mutable fields', () => {
    const out = validatePoolUpdateOrThrow(stored, pool({ cidr: '10.0.0.0/16', natOutgoing: true, disabled: true }));
    expect(out.spec.natOutgoing).toBe(true);
  });

  it('treats a stored pool without blockSize as having the family default', () => {
    const old = pool({ cidr: '2001:db8::/64' });
    expect(validatePoolUpdate(old, pool({ cidr: '2001:db8::/64', blockSize: 122 })).ok).toBe(true);
  });

  it('allows re-normalising the same network (Calico cidrChangeOK)', () => {
    const old = pool({ cidr: '2001:DB8:0::/64' });
    const r = validatePoolUpdate(old, pool({ cidr: '2001:db8::/64' }));
    expect(r.ok).toBe(true);
  });

  it('rejects a cidr change, naming the field', () => {
    const r = validatePoolUpdate(stored, pool({ cidr: '10.0.0.0/15' }));
    expect(r.ok ? [] : r.issues).toEqual([
      { resource: 'IPPool/p1', path: 'spec.cidr', reason: expect.stringContaining('cannot be changed on update (was 10.0.0.0/16)'), value: '10.0.0.0/15' },
    ]);
  });

  it('rejects a blockSize change, including an implicit one via the default', () => {
    const r = validatePoolUpdate(pool({ cidr: '10.0.0.0/16', blockSize: 24 }), pool({ cidr: '10.0.0.0/16' }));
    expect(r.ok ? [] : r.issues.map((i) => [i.path, i.reason])).toEqual([['spec.blockSize', 'cannot be changed on update (was 24)']]);
  });

  it('rejects moving a LoadBalancer pool to Workload and renaming', () => {
    const old = pool({ cidr: '203.0.113.0/24', allowedUses: ['LoadBalancer'] }, { name: 'lb' });
    const r = validatePoolUpdate(old, pool({ cidr: '203.0.113.0/24', allowedUses: ['Workload'] }, { name: 'lb2' }));
    expect(pathsOf(r.ok ? [] : r.issues)).toEqual(['metadata.name', 'spec.allowedUses']);
  });

  it('collects update rules together with ordinary validation issues', () => {
    let caught: unknown;
    try {
      validatePoolUpdateOrThrow(stored, pool({ cidr: '10.1.0.1/16', blockSize: 24, natOutgoing: 'yes' }));
    } catch (e) {
      caught = e;
    }
    expect(isValidationError(caught)).toBe(true);
    const issues = isValidationError(caught) ? caught.issues : [];
    expect(pathsOf(issues)).toEqual(['spec.blockSize', 'spec.cidr', 'spec.cidr', 'spec.natOutgoing']);
  });

  it('does not treat the old pool as an overlap when existing includes it', () => {
    const r = validatePoolUpdate(stored, pool({ cidr: '10.0.0.0/16', natOutgoing: true }), { existing: [stored] });
    expect(r.ok).toBe(true);
  });
});

describe('validateResources', () => {
  it('accepts an empty batch and a mixed valid batch in input order', () => {
    expect(validateResources([])).toEqual({ ok: true, value: [] });
    const r = validateResourcesOrThrow(raw([pool({ cidr: '10.0.0.0/16' }), felix({ natPortRange: '80' }), node({})]));
    expect(r.map((x) => x.kind)).toEqual(['IPPool', 'FelixConfiguration', 'Node']);
  });

  // One issue per overlapping pool, not one per pair: `innermost` overlaps both `big` and
  // `inner` and is reported once, against the earliest (listing every pair is quadratic
  // for nested CIDRs: 10,000 nested pools would be 50 million issues).
  it('reports each pool that overlaps an earlier one once, naming the earliest, disabled pools included', () => {
    const r = validateResources(
      raw([
        pool({ cidr: '10.0.0.0/8', disabled: true }, { name: 'big' }),
        pool({ cidr: '192.168.0.0/16' }, { name: 'other' }),
        pool({ cidr: '10.1.0.0/16' }, { name: 'inner' }),
        pool({ cidr: '10.1.2.0/24' }, { name: 'innermost' }),
      ]),
    );
    const issues = r.ok ? [] : r.issues;
    expect(issues.map((i) => [i.resource, i.path, i.reason])).toEqual([
      ['IPPool/inner', 'spec.cidr', 'overlaps with IPPool(big) CIDR 10.0.0.0/8 (document 0)'],
      ['IPPool/innermost', 'spec.cidr', 'overlaps with IPPool(big) CIDR 10.0.0.0/8 (document 0)'],
    ]);
  });

  it('reports a pool that overlaps an earlier one only through a later, enclosing pool', () => {
    // `small` comes first and is inside `big`, which comes last: `big` is the one reported.
    const r = validateResources(raw([pool({ cidr: '10.1.2.0/24' }, { name: 'small' }), pool({ cidr: '172.16.0.0/16' }, { name: 'x' }), pool({ cidr: '10.0.0.0/8' }, { name: 'big' })]));
    expect(r.ok ? [] : r.issues.map((i) => [i.resource, i.reason])).toEqual([['IPPool/big', 'overlaps with IPPool(small) CIDR 10.1.2.0/24 (document 0)']]);
  });

  it('keeps a batch of 10,000 nested pools to one issue per pool, quickly', () => {
    const items = raw(Array.from({ length: 10_000 }, (_, i) => pool({ cidr: i % 2 === 0 ? '10.0.0.0/8' : `10.${(i >> 8) & 255}.${i & 255}.0/24` }, { name: `p${i}` })));
    const t0 = performance.now();
    const r = validateResources(items);
    expect(performance.now() - t0).toBeLessThan(15_000); // the old pairwise report ran out of memory here
    const issues = r.ok ? [] : r.issues;
    expect(issues).toHaveLength(9_999);
    expect(new Set(issues.map((i) => i.resource)).size).toBe(9_999);
    expect(issues.every((i) => i.reason === 'overlaps with IPPool(p0) CIDR 10.0.0.0/8 (document 0)')).toBe(true);
  });

  it('reports duplicate kind/name pairs', () => {
    const r = validateResources(raw([pool({ cidr: '10.0.0.0/16' }, { name: 'a' }), pool({ cidr: '10.0.0.0/16' }, { name: 'a' })]));
    const issues = r.ok ? [] : r.issues;
    expect(issues.map((i) => [i.path, i.reason])).toEqual([['metadata.name', 'duplicate IPPool/a in this batch (first in document 0)']]);
  });

  it('reports a pool overlapping several stored pools once, naming the first stored one', () => {
    const existing = [pool({ cidr: '10.0.0.0/8' }, { name: 's1' }), pool({ cidr: '10.1.0.0/16' }, { name: 's2' }), pool({ cidr: '10.1.1.0/24' }, { name: 's3' })];
    const r = validateResources(raw([pool({ cidr: '10.1.0.0/20' }, { name: 'new' })]), { existing });
    expect(r.ok ? [] : r.issues.map((i) => [i.resource, i.reason])).toEqual([['IPPool/new', 'overlaps with IPPool(s1) CIDR 10.0.0.0/8']]);
  });

  it('checks stored pools, except those the batch replaces', () => {
    const existing = [pool({ cidr: '10.0.0.0/16' }, { name: 'a' }), pool({ cidr: 'fd00::/48', disabled: true }, { name: 'b' })];
    // `a` is replaced by a batch pool of the same name; `b` still stands.
    const ok = validateResources(raw([pool({ cidr: '10.0.0.0/15' }, { name: 'a' })]), { existing });
    expect(ok.ok).toBe(true);
    const bad = validateResources(raw([pool({ cidr: 'fd00::/64' }, { name: 'c' }), pool({ cidr: '10.0.0.0/24' }, { name: 'd' })]), { existing });
    expect(bad.ok ? [] : bad.issues.map((i) => [i.resource, i.reason])).toEqual([
      ['IPPool/c', 'overlaps with IPPool(b) CIDR fd00::/48'],
      ['IPPool/d', 'overlaps with IPPool(a) CIDR 10.0.0.0/16'],
    ]);
  });

  it('collects issues from every resource and labels unnamed List items', () => {
    const yaml = `
kind: IPPoolList
apiVersion: projectcalico.org/v3
items:
- metadata: {name: ok}
  spec: {cidr: 10.0.0.0/16}
- metadata: {}
  spec: {cidr: 10.0.0.1/16}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: n1}
spec: {addresses: [{address: nope}]}
`;
    const r = validateResources(parseResources(yaml, { format: 'yaml' }));
    expect(r.ok ? [] : r.issues.map((i) => [i.resource, i.path])).toEqual([
      ['IPPool[0][1]', 'metadata.name'],
      ['IPPool[0][1]', 'spec.cidr'],
      ['IPPool[0][1]', 'spec.cidr'],
      ['Node/n1', 'spec.addresses[0].address'],
    ]);
  });

  it('still checks overlaps for a pool whose CIDR has another problem (every problem at once)', () => {
    const r = validateResources(raw([pool({ cidr: '10.0.0.0/8' }, { name: 'a' }), pool({ cidr: '10.0.0.1/16' }, { name: 'b' })]));
    expect(r.ok ? [] : r.issues.map((i) => i.reason)).toEqual([expect.stringContaining('host bits'), expect.stringContaining('overlaps with IPPool(a)')]);
  });

  it('skips overlap checks only for a pool whose CIDR does not parse', () => {
    const r = validateResources(raw([pool({ cidr: '10.0.0.0/8' }, { name: 'a' }), pool({ cidr: '10.0.0.300/16' }, { name: 'b' })]));
    expect(r.ok ? [] : r.issues.map((i) => i.reason)).toEqual([expect.stringContaining('valid CIDR')]);
  });
});
