// What the parser refuses before anything recursive sees a document: nesting deeper than
// MAX_NESTING_DEPTH, YAML aliases that contain themselves, alias bombs, `__proto__` keys,
// and more resources than the caller accepts — each as a ParseError (or
// BatchTooLargeError) naming the document, never a RangeError or TypeError. Plus the
// prototype keys the field tables refuse whatever the unknown-field policy.
import { describe, expect, it } from 'vitest';
import {
  MAX_NESTING_DEPTH, isBatchTooLargeError, isParseError, parseResources, parseStoredValue, validateResources,
} from '../src/index.js';
import { V3 } from './helpers.js';

function failure(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

const poolJson = (extra: string) => `{"apiVersion":"${V3}","kind":"IPPool","metadata":{"name":"a"},"spec":{"cidr":"10.0.0.0/16"${extra}}}`;
const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('nesting depth', () => {
  it('accepts a document exactly MAX_NESTING_DEPTH deep and refuses one level more (JSON)', () => {
    // root(1) → spec(2) → x(3): the array brackets add the rest.
    expect(parseResources(poolJson(`,"x":${nest(MAX_NESTING_DEPTH - 2)}`))).toHaveLength(1);
    const e = failure(() => parseResources(poolJson(`,"x":${nest(MAX_NESTING_DEPTH - 1)}`)));
    expect(isParseError(e)).toBe(true);
    expect(e.message).toMatch(/^document 0: nested deeper than 64 levels \(at spec\.x\[0\]/);
  });

  it('refuses 100,000 levels of JSON with a ParseError naming the element of a top-level array', () => {
    const e = failure(() => parseResources(`[${poolJson('')},${poolJson(`,"x":${nest(100_000)}`)}]`));
    expect(isParseError(e)).toBe(true);
    expect(e.message).toMatch(/^document 1: nested deeper than 64 levels/);
  });

  it('refuses deep YAML, flow and block, with a ParseError', () => {
    const flow = `apiVersion: ${V3}\nkind: IPPool\nspec:\n  x: ${nest(100)}\n`;
    expect(failure(() => parseResources(flow, { format: 'yaml' })).message).toMatch(/document 0: nested deeper than 64 levels/);
    const hugeFlow = `kind: IPPool\nspec:\n  x: ${nest(100_000)}\n`;
    expect(isParseError(failure(() => parseResources(hugeFlow, { format: 'yaml' })))).toBe(true);
    const block = `---\nkind: IPPool\n---\nkind: IPPool\nspec:\n${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i + 1)}a:\n`).join('')}`;
    expect(failure(() => parseResources(block, { format: 'yaml' })).message).toMatch(/^document 1: /);
  });

  it('refuses deep stored values (etcdctl) too', () => {
    const e = failure(() => parseStoredValue('/k', poolJson(`,"x":${nest(10_000)}`)));
    expect(isParseError(e)).toBe(true);
    expect(e.message).toMatch(/^\/k: nested deeper than 64 levels/);
  });
});

describe('YAML aliases', () => {
  it('refuses an alias that refers to a node containing it', () => {
    for (const yaml of [`kind: IPPool\nspec: &a\n  x: *a\n`, `kind: IPPool\nmetadata: {name: a}\nspec:\n  x: &l [1, *l]\n`]) {
      const e = failure(() => parseResources(yaml, { format: 'yaml' }));
      expect(isParseError(e)).toBe(true);
      expect(e.message).toMatch(/document 0: a YAML alias at spec\.x.* refers to a node that contains it/);
    }
  });

  it('refuses an alias bomb (billion laughs)', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) levels.push(`${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9).fill(`*${'abcdefghi'[i - 1]}`).join(',')}]`);
    const e = failure(() => parseResources(`kind: IPPool\nspec:\n  ${levels.join('\n  ')}\n`, { format: 'yaml' }));
    expect(isParseError(e)).toBe(true);
    expect(e.message).toMatch(/document 0: invalid YAML: .*alias/i);
  });

  it('counts depth through aliases: a node anchored shallow and used deep is walked again', () => {
    // Each part nests under 64 levels; `b` puts the 50-level `a` under 20 more.
    const yaml = (over: number) => `kind: IPPool\nspec:\n  a: &x ${nest(50)}\n  b: ${'['.repeat(over)}*x${']'.repeat(over)}\n`;
    expect(failure(() => parseResources(yaml(20), { format: 'yaml' })).message).toMatch(/^document 0: nested deeper than 64 levels \(at spec\.b\[0\]/);
    expect(parseResources(yaml(5), { format: 'yaml' })).toHaveLength(1); // 3 + 5 + 50 levels
  });

  it('still accepts aliases shared by several fields', () => {
    const yaml = `apiVersion: ${V3}\nkind: IPPool\nmetadata:\n  name: a\n  labels: &l {team: x}\n  annotations: *l\nspec: {cidr: 10.0.0.0/16}\n`;
    expect(parseResources(yaml, { format: 'yaml' })[0]!.object).toMatchObject({ metadata: { labels: { team: 'x' }, annotations: { team: 'x' } } });
  });
});

describe('prototype keys', () => {
  it('refuses __proto__ anywhere, in JSON, YAML and stored values, and pollutes nothing', () => {
    const cases: Array<[string, RegExp]> = [
      ['{"__proto__":{"polluted":1},"kind":"IPPool"}', /document 0: key "__proto__" is not allowed \(at __proto__\)/],
      [poolJson(',"natOutgoing":true,"__proto__":{"polluted":1}'), /at spec\.__proto__/],
      ['{"kind":"IPPoolList","items":[{"metadata":{"labels":{"__proto__":"x"}}}]}', /at items\[0\]\.metadata\.labels\.__proto__/],
    ];
    for (const [json, re] of cases) {
      expect(failure(() => parseResources(json)).message).toMatch(re);
      expect(failure(() => parseStoredValue('/k', json)).message).toMatch(/key "__proto__" is not allowed/);
    }
    expect(failure(() => parseResources('kind: IPPool\nmetadata:\n  __proto__: {polluted: 1}\n', { format: 'yaml' })).message).toMatch(/at metadata\.__proto__/);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('makes constructor and prototype unknown fields that are errors even under --validate=warn', () => {
    for (const unknownFields of ['error', 'warn'] as const) {
      const r = validateResources(parseResources(poolJson(',"constructor":{"x":1},"prototype":2')), { unknownFields });
      expect(r.ok ? [] : r.issues.map((i) => [i.path, i.reason])).toEqual([
        ['spec.constructor', 'unknown field; "constructor" is never accepted as a field name'],
        ['spec.prototype', 'unknown field; "prototype" is never accepted as a field name'],
      ]);
    }
  });

  it('keeps constructor and prototype as label keys (data, not fields)', () => {
    const json = `{"apiVersion":"${V3}","kind":"IPPool","metadata":{"name":"a","labels":{"constructor":"x","prototype":"y"}},"spec":{"cidr":"10.0.0.0/16"}}`;
    expect(validateResources(parseResources(json)).ok).toBe(true);
  });
});

describe('maxResources', () => {
  const docs = (n: number) => Array.from({ length: n }, (_, i) => `{"kind":"IPPool","metadata":{"name":"p${i}"}}`);

  it('counts JSON array elements, List items and YAML documents', () => {
    expect(parseResources(`[${docs(3).join(',')}]`, { maxResources: 3 })).toHaveLength(3);
    const e = failure(() => parseResources(`[${docs(4).join(',')}]`, { maxResources: 3 }));
    expect(isBatchTooLargeError(e)).toBe(true);
    expect(e.message).toBe('more than 3 resources in one request; send at most 3 at a time');
    expect(isBatchTooLargeError(failure(() => parseResources(`{"kind":"List","items":[${docs(4).join(',')}]}`, { maxResources: 3 })))).toBe(true);
    expect(isBatchTooLargeError(failure(() => parseResources(docs(4).join('\n---\n'), { format: 'yaml', maxResources: 3 })))).toBe(true);
  });

  it('stops composing YAML at the first document past the limit', () => {
    // Document 5 is malformed; with a limit of 3 the parser never reaches it.
    const yaml = `${docs(5).join('\n---\n')}\n---\n: [bad`;
    expect(isParseError(failure(() => parseResources(yaml, { format: 'yaml' })))).toBe(true);
    expect(isBatchTooLargeError(failure(() => parseResources(yaml, { format: 'yaml', maxResources: 3 })))).toBe(true);
  });
});

describe('YAML block nesting (from review)', () => {
  it('block nesting bombs (compact `- - -`, `? ?`, `: :`, deep indentation) are a ParseError, twice in a row (V8 once aborted on a second stack overflow), fast', () => {
    for (const body of ['- '.repeat(2000) + 'x', '? '.repeat(2000) + 'x', ': '.repeat(2000) + 'x', Array.from({ length: 1200 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')]) {
      for (let k = 0; k < 2; k++) {
        const t0 = performance.now();
        let err: unknown;
        try { parseResources(body, { format: 'yaml' }); } catch (e) { err = e; }
        expect(isParseError(err), String(err)).toBe(true);
        expect((err as Error).message).toMatch(/nested deeper than 64 levels/);
        expect(performance.now() - t0).toBeLessThan(2000);
      }
    }
  });
  it('ordinary block YAML still parses under the block-nesting bound', () => {
    expect(parseResources('apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: a\n  labels: {a: b}\nspec:\n  cidr: 10.0.0.0/16\n  allowedUses:\n  - Workload\n').length).toBe(1);
  });
});
