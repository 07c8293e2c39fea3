// Parsing JSON and YAML inputs and stored etcd values; etcd key helpers.
import { describe, expect, it } from 'vitest';
import {
  ParseError, isParseError, kindKeyPrefix, parseResourceKey, parseResources, parseStoredValue, resourceKey,
} from '../src/index.js';

function parseFailure(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (e) {
    if (isParseError(e)) return e;
    throw e;
  }
  throw new Error('expected a ParseError');
}

const poolJson = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'a' }, spec: { cidr: '10.0.0.0/16' } };

describe('parseResources', () => {
  it('parses a single JSON object', () => {
    expect(parseResources(JSON.stringify(poolJson), { source: 'a.json' })).toEqual([{ docIndex: 0, source: 'a.json', object: poolJson }]);
  });

  it('parses a JSON array, one document per element', () => {
    const out = parseResources(JSON.stringify([poolJson, { ...poolJson, metadata: { name: 'b' } }]));
    expect(out.map((r) => [r.docIndex, (r.object['metadata'] as { name: string }).name])).toEqual([[0, 'a'], [1, 'b']]);
  });

  it('expands a JSON List and fills kind/apiVersion of typed list items', () => {
    const list = { apiVersion: 'projectcalico.org/v3', kind: 'IPPoolList', items: [{ metadata: { name: 'x' }, spec: { cidr: '10.0.0.0/16' } }] };
    const [item] = parseResources(JSON.stringify(list));
    expect(item).toEqual({ docIndex: 0, itemIndex: 0, object: { ...list.items[0], kind: 'IPPool', apiVersion: 'projectcalico.org/v3' } });
  });

  it('parses a single YAML document', () => {
    const out = parseResources('apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: a\nspec:\n  cidr: 10.0.0.0/16\n');
    expect(out).toEqual([{ docIndex: 0, object: poolJson }]);
  });

  it('parses multi-document YAML, skipping empty documents but keeping indexes', () => {
    const yaml = `---
# nothing here
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: a}
spec: {cidr: 10.0.0.0/16, natOutgoing: true}
---
---
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: default}
spec: {natPortRange: "1024:2048"}
`;
    const out = parseResources(yaml, { format: 'yaml' });
    expect(out.map((r) => [r.docIndex, r.object['kind']])).toEqual([[1, 'IPPool'], [3, 'FelixConfiguration']]);
    expect((out[0]!.object['spec'] as Record<string, unknown>)['natOutgoing']).toBe(true);
  });

  it('expands kind: List in YAML', () => {
    const yaml = `apiVersion: v1
kind: List
items:
- {apiVersion: projectcalico.org/v3, kind: IPPool, metadata: {name: a}, spec: {cidr: 10.0.0.0/16}}
- {apiVersion: projectcalico.org/v3, kind: Node, metadata: {name: n1}}
`;
    const out = parseResources(yaml);
    expect(out.map((r) => [r.docIndex, r.itemIndex, r.object['kind'], r.object['apiVersion']])).toEqual([
      [0, 0, 'IPPool', 'projectcalico.org/v3'],
      [0, 1, 'Node', 'projectcalico.org/v3'],
    ]);
  });

  it('keeps YAML 1.2 semantics: yes/on stay strings', () => {
    const [r] = parseResources('kind: IPPool\nspec: {natOutgoing: yes, disabled: on}\n');
    expect(r!.object['spec']).toEqual({ natOutgoing: 'yes', disabled: 'on' });
  });

  it('returns [] for empty or blank input', () => {
    expect(parseResources('')).toEqual([]);
    expect(parseResources('  \n\t')).toEqual([]);
    expect(parseResources('---\n---\n', { format: 'yaml' })).toEqual([]);
    expect(parseResources('{"kind":"List","items":[]}')).toEqual([]);
  });

  it('reports malformed JSON with line and column', () => {
    const err = parseFailure(() => parseResources('{\n  "kind": "IPPool",\n  "spec": {"cidr": tru}\n}', { source: 'p.json' }));
    expect(err.code).toBe('PARSE_FAILED');
    expect(err.documentIndex).toBe(0);
    expect([err.line, err.column]).toEqual([3, 20]);
    expect(err.source).toBe('p.json');
    expect(err.message).toMatch(/^p\.json: document 0: line 3, column 20: invalid JSON/);
  });

  it('reports truncated JSON at the end', () => {
    const err = parseFailure(() => parseResources('[{"kind": "IPPool"}'));
    expect([err.line, err.column]).toEqual([1, 20]);
  });

  it('reports malformed YAML naming the document index and position', () => {
    const yaml = 'kind: IPPool\nmetadata: {name: a}\n---\nkind: IPPool\nspec:\n  cidr: [10.0.0.0/16\n';
    const err = parseFailure(() => parseResources(yaml));
    expect(err.documentIndex).toBe(1);
    expect(err.line).toBeGreaterThanOrEqual(6);
    expect(err.message).toContain('document 1');
  });

  it('rejects duplicate YAML keys', () => {
    const err = parseFailure(() => parseResources('kind: IPPool\nkind: Node\n'));
    expect([err.documentIndex, err.line]).toEqual([0, 2]);
  });

  it('rejects documents that are not objects', () => {
    expect(parseFailure(() => parseResources('---\nkind: IPPool\n---\n- a\n- b\n')).documentIndex).toBe(1);
    expect(parseFailure(() => parseResources('[1]')).message).toContain('got a number');
    expect(parseFailure(() => parseResources('{"kind":"List","items":{}}')).message).toContain('items must be an array');
    expect(parseFailure(() => parseResources('just a string')).message).toContain('got a string');
  });
});

describe('parseStoredValue', () => {
  it('decodes JSON bytes and sets resourceVersion from the mod revision', () => {
    const key = '/calico/resources/v3/projectcalico.org/ippools/a';
    const r = parseStoredValue(key, new TextEncoder().encode(JSON.stringify(poolJson)), { modRevision: 42n });
    expect(r).toEqual({ docIndex: 0, source: key, object: { ...poolJson, metadata: { name: 'a', resourceVersion: '42' } } });
  });

  it('fails with the key as source for bad bytes, bad JSON, empty values and non-objects', () => {
    const key = '/calico/resources/v3/projectcalico.org/ippools/bad';
    const bad = [new Uint8Array([0xff, 0xfe]), '{"kind": ', '', '"x"', 'kind: IPPool'];
    for (const value of bad) {
      const err = parseFailure(() => parseStoredValue(key, value));
      expect(err.source).toBe(key);
      expect(err).toBeInstanceOf(ParseError);
    }
  });
});

describe('etcd keys', () => {
  it('builds Calico keys per kind', () => {
    expect(resourceKey('IPPool', 'a')).toBe('/calico/resources/v3/projectcalico.org/ippools/a');
    expect(resourceKey('FelixConfiguration', 'default')).toBe('/calico/resources/v3/projectcalico.org/felixconfigurations/default');
    expect(resourceKey('Node', 'n1', '/test/')).toBe('/test/nodes/n1');
    expect(kindKeyPrefix('IPPool', '/x')).toBe('/x/ippools/');
  });

  it('parses keys back, rejecting foreign or malformed ones', () => {
    expect(parseResourceKey('/calico/resources/v3/projectcalico.org/nodes/n1')).toEqual({ kind: 'Node', name: 'n1' });
    expect(parseResourceKey('/t/ippools/a', '/t')).toEqual({ kind: 'IPPool', name: 'a' });
    expect(parseResourceKey('/t/ippools/a', '/u')).toBeUndefined();
    expect(parseResourceKey('/t/bgppeers/a', '/t')).toBeUndefined();
    expect(parseResourceKey('/t/ippools/', '/t')).toBeUndefined();
    expect(parseResourceKey('/t/ippools/a/b', '/t')).toBeUndefined();
  });
});

describe('YAML top-level lists (calicoctl accepts them)', () => {
  it('expands a sequence of resources, each labelled with its position', () => {
    const yaml = [
      '- apiVersion: projectcalico.org/v3',
      '  kind: IPPool',
      '  metadata: {name: a}',
      '  spec: {cidr: 10.0.0.0/16}',
      '- apiVersion: projectcalico.org/v3',
      '  kind: FelixConfiguration',
      '  metadata: {name: default}',
      '  spec: {natPortRange: "1024:2048"}',
      '---',
      '- {apiVersion: projectcalico.org/v3, kind: IPPool, metadata: {name: b}, spec: {cidr: 10.1.0.0/16}}',
    ].join('\n');
    const items = parseResources(yaml);
    expect(items.map((i) => [i.docIndex, i.itemIndex, i.object['kind']])).toEqual([
      [0, 0, 'IPPool'],
      [0, 1, 'FelixConfiguration'],
      [1, 0, 'IPPool'],
    ]);
  });
  it('refuses a list element that is not a resource, naming the document', () => {
    expect(() => parseResources('- apiVersion: projectcalico.org/v3\n- 42\n')).toThrow(/document 0: expected a resource object/);
  });
});
