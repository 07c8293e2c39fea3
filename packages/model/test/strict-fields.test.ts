// Strict decoding: typo probes for every NAT-relevant field, misplaced fields, Calico's
// deprecated v1 fields, and the warn policy that keeps the resource.
import { describe, expect, it } from 'vitest';
import { RESOURCE_FIELDS } from '../src/calico-fields.js';
import { fieldProblems, nearestName, validateFelixConfiguration, validatePool, validateResources, parseResources } from '../src/index.js';
import { felix, node, pool } from './helpers.js';

/** Typos an operator makes: swapped letters, a dropped letter, snake and kebab case. (Letter case alone is no typo to Calico: see below.) */
function typosOf(field: string): string[] {
  const out = new Set<string>();
  const mid = Math.floor(field.length / 2);
  out.add(field.slice(0, mid - 1) + field[mid]! + field[mid - 1]! + field.slice(mid + 1)); // swap
  out.add(field.slice(0, mid) + field.slice(mid + 1)); // drop one letter
  const words = field.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(' ');
  if (words.length > 1) {
    out.add(words.join('_'));
    out.add(words.join('-'));
  }
  out.delete(field);
  return [...out];
}

const POOL_NAT_FIELDS: Record<string, unknown> = {
  natOutgoing: true, disabled: true, allowedUses: ['Workload'], blockSize: 24, ipipMode: 'Always', vxlanMode: 'Never',
  nodeSelector: 'all()', namespaceSelector: "team == 'a'", disableBGPExport: true, assignmentMode: 'Manual',
};
const FELIX_NAT_FIELDS: Record<string, unknown> = {
  natOutgoingAddress: '192.0.2.1', natPortRange: '32768:65535', natOutgoingExclusions: 'IPPoolsAndHostIPs',
  iptablesNATOutgoingInterfaceFilter: 'eth+', natOutgoingInterfaceFilter: 'eth*', natOutgoingFullyRandom: false,
};

describe('typo probes', () => {
  for (const [field, value] of Object.entries(POOL_NAT_FIELDS)) {
    for (const typo of typosOf(field)) {
      if (typo === 'nat-outgoing') continue; // Calico's own deprecated v1 field: its own message, below
      it(`IPPool spec.${typo} → did you mean ${field}?`, () => {
        const r = validatePool(pool({ cidr: '10.0.0.0/16', [typo]: value }));
        expect(r.ok).toBe(false);
        if (r.ok) return;
        expect(r.issues.map((i) => [i.path, i.reason])).toEqual([[`spec.${typo}`, `unknown field (did you mean ${field}?)`]]);
      });
    }
  }
  for (const [field, value] of Object.entries(FELIX_NAT_FIELDS)) {
    for (const typo of typosOf(field)) {
      it(`FelixConfiguration spec.${typo} → did you mean ${field}?`, () => {
        const r = validateFelixConfiguration(felix({ [typo]: value }));
        expect(r.ok).toBe(false);
        if (r.ok) return;
        expect(r.issues.map((i) => [i.path, i.reason])).toEqual([[`spec.${typo}`, `unknown field (did you mean ${field}?)`]]);
      });
    }
  }
  it('the issue texts the operator sees', () => {
    const r = validatePool(pool({ cidr: '10.0.0.0/16', natOutgoign: true }));
    expect(r.ok ? '' : `${r.issues[0]!.path}: ${r.issues[0]!.reason}`).toBe('spec.natOutgoign: unknown field (did you mean natOutgoing?)');
    const f = validateFelixConfiguration(felix({ natOutgoingAdress: '192.0.2.1' }));
    expect(f.ok ? '' : `${f.issues[0]!.path}: ${f.issues[0]!.reason}`).toBe('spec.natOutgoingAdress: unknown field (did you mean natOutgoingAddress?)');
  });
});

describe('misplaced and unknown fields', () => {
  it('a spec field under metadata or at the top level says where it belongs', () => {
    const r = validatePool({ ...pool({ cidr: '10.0.0.0/16' }, { name: 'p1', natOutgoing: true }), natOutgoing: true });
    expect(r.ok ? [] : r.issues.map((i) => [i.path, i.reason])).toEqual([
      ['metadata.natOutgoing', 'unknown field here: natOutgoing belongs at spec.natOutgoing'],
      ['natOutgoing', 'unknown field here: natOutgoing belongs at spec.natOutgoing'],
    ]);
  });
  it('a field of another kind says whose it is', () => {
    const r = validatePool(pool({ cidr: '10.0.0.0/16', natOutgoingAddress: '192.0.2.1' }));
    expect(r.ok ? '' : r.issues[0]!.reason).toBe('unknown field; natOutgoingAddress is a FelixConfiguration field (spec.natOutgoingAddress), not an IPPool one');
    const f = validateFelixConfiguration(felix({ natOutgoing: true }));
    expect(f.ok ? '' : f.issues[0]!.reason).toBe('unknown field; natOutgoing is an IPPool field (spec.natOutgoing), not a FelixConfiguration one');
  });
  it('never suggests a deprecated field Calico refuses', () => {
    const r = validatePool(pool({ cidr: '10.0.0.0/16', enabled: true }));
    expect(r.ok ? '' : r.issues[0]!.reason).not.toContain('spec.ipip.');
  });
  it('stays fast and bounded on hostile input: thousands of unknown keys, a huge key', () => {
    const spec: Record<string, unknown> = { cidr: '10.0.0.0/16' };
    for (let i = 0; i < 20_000; i++) spec[`natOutgoingAddres${i}`] = i;
    spec['x'.repeat(100_000)] = 1;
    const t0 = performance.now();
    const r = validateFelixConfiguration(felix(spec));
    expect(performance.now() - t0).toBeLessThan(5_000); // was minutes: a generous bound, not a benchmark
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.issues).toHaveLength(21);
      expect(r.issues[20]!.reason).toMatch(/^and 19982 more unknown field/);
    }
  });
  it('nested structs are checked too', () => {
    const f = validateFelixConfiguration(felix({ routeTableRanges: [{ min: 1, mx: 2 }] }));
    expect(f.ok ? [] : f.issues.map((i) => [i.path, i.reason])).toEqual([['spec.routeTableRanges[0].mx', 'unknown field (did you mean max?)']]);
    const n = validateResources(parseResources(JSON.stringify(node({ addresses: [{ address: '10.0.0.1', typ: 'InternalIP' }] }))));
    expect(n.ok ? [] : n.issues.map((i) => i.path)).toEqual(['spec.addresses[0].typ']);
  });
  it('labels and annotations are free-form maps, not fields', () => {
    expect(fieldProblems('IPPool', pool({ cidr: '10.0.0.0/16' }, { name: 'a', labels: { anything: 'x' }, annotations: { 'example.com/x': 'y' } }))).toEqual([]);
  });
  it('IPPool has no status; Node does', () => {
    expect(fieldProblems('IPPool', { ...pool({ cidr: '10.0.0.0/16' }), status: {} }).map((p) => p.path)).toEqual(['status']);
    expect(fieldProblems('Node', { ...node({}), status: { podCIDRs: [] } })).toEqual([]);
  });
  it('every field of every table is accepted as written', () => {
    const fill = (shape: (typeof RESOURCE_FIELDS)['IPPool']): unknown => {
      if (shape.t === 'object') return Object.fromEntries(Object.entries(shape.fields).map(([k, v]) => [k, fill(v)]));
      if (shape.t === 'list') return [fill(shape.of)];
      if (shape.t === 'map') return { k: fill(shape.of) };
      return 'x';
    };
    for (const kind of ['IPPool', 'FelixConfiguration', 'Node'] as const) {
      const problems = fieldProblems(kind, fill(RESOURCE_FIELDS[kind])).filter((p) => !p.reason.includes('deprecated'));
      expect(problems, kind).toEqual([]);
    }
  });
});

describe('field names ignoring letter case, as Calico decodes them', () => {
  it('NatOutgoing: true is a pool WITH NAT (as calicoctl and Felix read it), with a warning to write natOutgoing', () => {
    for (const unknownFields of ['error', 'warn'] as const) {
      const r = validatePool(pool({ CIDR: '10.0.0.0/16', NatOutgoing: true }), { unknownFields });
      expect(r.ok, unknownFields).toBe(true);
      if (!r.ok) continue;
      expect(r.value.spec.natOutgoing).toBe(true);
      expect(r.value.spec.cidr).toBe('10.0.0.0/16');
      expect(r.value.spec['NatOutgoing']).toBeUndefined();
      expect(r.warnings?.map((w) => `${w.path}: ${w.reason}`)).toEqual([
        'spec.CIDR: read as cidr: Calico matches field names ignoring case; write cidr',
        'spec.NatOutgoing: read as natOutgoing: Calico matches field names ignoring case; write natOutgoing',
      ]);
    }
  });
  it('with two spellings of one field, the later wins (as in Go); map keys keep their case', () => {
    const r = validatePool(pool({ cidr: '10.0.0.0/16', natOutgoing: false, NATOUTGOING: true }, { name: 'p', labels: { Team: 'a' } }));
    expect(r.ok && r.value.spec.natOutgoing).toBe(true);
    expect(r.ok && r.value.metadata.labels).toEqual({ Team: 'a' });
  });
  it('nested structs too', () => {
    const f = validateFelixConfiguration(felix({ RouteTableRanges: [{ Min: 1, MAX: 2 }] }));
    expect(f.ok && f.value.spec['routeTableRanges']).toEqual([{ min: 1, max: 2 }]);
  });
});

describe('reading etcd leniently (warn): problems that change nothing enforced do not drop the resource', () => {
  it('a bad annotation key or assignmentMode "" is a warning, and the pool compiles', () => {
    const raw = pool({ cidr: '10.0.0.0/16', natOutgoing: true, assignmentMode: '' }, { name: 'p', annotations: { 'my annotation': 'x' }, labels: { '-bad': 'y' } });
    const strict = validatePool(raw);
    expect(strict.ok ? [] : strict.issues.map((i) => i.path).sort()).toEqual(['metadata.annotations["my annotation"]', 'metadata.labels["-bad"]', 'spec.assignmentMode']);
    const lenient = validatePool(raw, { unknownFields: 'warn' });
    expect(lenient.ok).toBe(true);
    expect(lenient.warnings?.map((w) => w.path).sort()).toEqual(['metadata.annotations["my annotation"]', 'metadata.labels["-bad"]', 'spec.assignmentMode']);
  });
});

describe("Calico's deprecated v1 fields", () => {
  it('nat-outgoing: true and ipip are refused with their own message; false and null pass, as in Calico', () => {
    const r = validatePool(pool({ cidr: '10.0.0.0/16', 'nat-outgoing': true, ipip: { enabled: true } }));
    expect(r.ok ? [] : r.issues.map((i) => [i.path, i.reason])).toEqual([
      ['spec.nat-outgoing', expect.stringContaining("deprecated v1 field, refused by Calico v3 and never read (the pool would not NAT); use spec.natOutgoing: true")],
      ['spec.ipip', expect.stringContaining('use spec.ipipMode')],
    ]);
    expect(validatePool(pool({ cidr: '10.0.0.0/16', 'nat-outgoing': false, ipip: null })).ok).toBe(true);
  });
});

describe('warn policy', () => {
  it('keeps the resource, reports every problem as a warning, and still fails on real errors', () => {
    const r = validatePool(pool({ cidr: '10.0.0.0/16', natOutgoign: true }), { unknownFields: 'warn' });
    expect(r.ok).toBe(true);
    expect(r.ok && r.value.spec['natOutgoign']).toBe(true);
    expect(r.ok && r.value.spec.natOutgoing).toBe(false);
    expect(r.warnings?.map((w) => w.path)).toEqual(['spec.natOutgoign']);
    const bad = validatePool(pool({ cidr: '10.0.0.1/16', natOutgoign: true }), { unknownFields: 'warn' });
    expect(bad.ok).toBe(false);
    expect(bad.warnings?.map((w) => w.path)).toEqual(['spec.natOutgoign']);
  });
  it('batches carry the warnings of every resource', () => {
    const items = parseResources(JSON.stringify([pool({ cidr: '10.0.0.0/16', natOutgoign: true }), felix({ natPortRnage: '1:2' })]));
    const r = validateResources(items, { unknownFields: 'warn' });
    expect(r.ok).toBe(true);
    expect(r.warnings?.map((w) => `${w.resource} ${w.path}`)).toEqual(['IPPool/p1 spec.natOutgoign', 'FelixConfiguration/default spec.natPortRnage']);
    expect(validateResources(items).ok).toBe(false);
  });
});

describe('nearestName', () => {
  it('suggests only plausible names', () => {
    expect(nearestName('natOutgoign', ['cidr', 'natOutgoing'])).toBe('natOutgoing');
    expect(nearestName('NATOUTGOING', ['natOutgoing'])).toBe('natOutgoing');
    expect(nearestName('foo', ['cidr', 'natOutgoing'])).toBeUndefined();
    expect(nearestName('xyzzy', ['disabled'])).toBeUndefined();
  });
});
