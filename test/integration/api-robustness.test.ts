// API robustness (issue 12, items 9-11) against real etcd and NATS: bounded batches and
// error lists, 4xx (never 5xx, never fastify's own text) for malformed input, no
// prototype keys as routes or fields — and a fast-check fuzz over the write, rollback and
// explain endpoints asserting no 5xx and nothing stored for a rejected request. The
// memory test runs the real natfleet-api process and reads its peak RSS from /proc.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBundleStream, openNodesBucket } from '@natfleet/bus';
import { EtcdStore } from '@natfleet/store';
import { ServiceProcess, freePort, makeTempDir, removeDir, startEtcd, startNats, type EtcdCluster, type NatsCluster } from '@natfleet/testkit';
import { Etcd3 } from 'etcd3';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApi } from './api-harness.js';
import { stringify as toYaml } from 'yaml';

const WRITE = 'robust-write-token-0123456789';
const V3 = 'projectcalico.org/v3';
const pool = (name: string, spec: Record<string, unknown>) => ({ apiVersion: V3, kind: 'IPPool', metadata: { name }, spec });
/** `n` pools nested as in the issue: every other one is 10.0.0.0/8, the rest /24s inside it. */
const nestedPools = (n: number) => Array.from({ length: n }, (_, i) => ({ metadata: { name: `p${i}` }, spec: { cidr: i % 2 === 1 ? '10.0.0.0/8' : `10.${(i >> 8) & 255}.${i & 255}.0/24` } }));
const nestedList = (n: number) => JSON.stringify({ apiVersion: V3, kind: 'IPPoolList', items: nestedPools(n) });
/** Sets `key` as an own, enumerable property — `o['__proto__'] = v` would set the prototype instead. */
function own<T extends object>(o: T, key: string, value: unknown): T {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  return o;
}
const nest = (depth: number, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

describe('API robustness against real etcd and NATS', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let client: Etcd3;
  let nc: NatsConnection;
  let app: FastifyInstance;
  let store: EtcdStore;

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    client = new Etcd3({ hosts: etcd.endpoints });
    nc = await connect({ servers: nats.url });
    await ensureBundleStream(await nc.jetstreamManager());
    await openNodesBucket(nc.jetstream());
    const api = await buildTestApi({ etcd: client, js: nc.jetstream(), jsm: await nc.jetstreamManager(), cluster: 'default', tokens: `${WRITE} write\n` });
    app = api.app;
    store = api.store;
    // Something to lose: a rollback to version 1 would delete it.
    const seeded = await call({ method: 'POST', url: '/v1/ippools', body: pool('seed', { cidr: '172.31.0.0/16' }) });
    expect(seeded.status).toBe(201);
  });
  afterAll(async () => {
    await app?.close();
    await nc?.close();
    client?.close();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
  });

  type Req = { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; body?: unknown; type?: string };
  const call = async ({ method, url, body, type }: Req) => {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${WRITE}`, ...(body !== undefined ? { 'content-type': type ?? 'application/json' } : {}) },
      ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    let json: any;
    try {
      json = res.json();
    } catch {
      json = { notJson: res.body };
    }
    return { status: res.statusCode, body: json, bytes: res.body.length };
  };
  const revision = async () => (await store.snapshot()).revision;
  /** The house error shape, a 4xx, and etcd untouched. */
  const rejected = async (res: { status: number; body: any }, before: number, status?: number) => {
    if (status !== undefined) expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(status);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body).toEqual(expect.objectContaining({ code: expect.any(String), message: expect.any(String) }));
    expect(Object.keys(res.body).filter((k) => !['code', 'message', 'issues'].includes(k))).toEqual([]);
    expect(await revision()).toBe(before);
  };

  describe('item 9: one request cannot exhaust the API', () => {
    it('a 10,000-resource batch (dry run or not, JSON or YAML) is a 413 naming the limit, answered at once', async () => {
      const before = await revision();
      for (const url of ['/v1/resources?dryRun=true', '/v1/resources', '/v1/resources/delete', '/v1/ippools?dryRun=true']) {
        const t0 = performance.now();
        const res = await call({ method: 'POST', url, body: nestedList(10_000) });
        expect(performance.now() - t0).toBeLessThan(5_000);
        await rejected(res, before, 413);
        expect(res.body).toEqual({ code: 'BATCH_TOO_LARGE', message: 'more than 1000 resources in one request; send at most 1000 at a time' });
      }
      const yaml = nestedPools(10_000).map((p) => toYaml({ apiVersion: V3, kind: 'IPPool', ...p })).join('---\n');
      await rejected(await call({ method: 'POST', url: '/v1/resources?dryRun=true', body: yaml, type: 'application/yaml' }), before, 413);
    });

    it('1,000 nested pools: one issue per overlapping pool, the first 100 listed, the total in the message', async () => {
      const before = await revision();
      const t0 = performance.now();
      const res = await call({ method: 'POST', url: '/v1/resources?dryRun=true', body: nestedList(1_000) });
      const ms = performance.now() - t0;
      await rejected(res, before, 422);
      // Every pool but p0 overlaps an earlier one (one issue per pair was ~375,000 issues, 51 MB).
      expect(res.body.message).toBe('999 problem(s) in the request (the first 100 are listed; truncated: 899 more)');
      expect(res.body.issues).toHaveLength(100);
      expect(res.body.issues.slice(0, 2)).toEqual([
        { resource: 'IPPool/p1', path: 'spec.cidr', reason: 'overlaps with IPPool(p0) CIDR 10.0.0.0/24 (document 0 item 0)', value: '10.0.0.0/8' },
        { resource: 'IPPool/p2', path: 'spec.cidr', reason: 'overlaps with IPPool(p1) CIDR 10.0.0.0/8 (document 0 item 1)', value: '10.0.2.0/24' },
      ]);
      expect(res.bytes).toBeLessThan(64 * 1024);
      expect(ms).toBeLessThan(10_000);
    });

    it('exactly 1,000 resources are accepted for validation', async () => {
      const items = Array.from({ length: 1_000 }, (_, i) => ({ metadata: { name: `ok-${i}` }, spec: { cidr: `10.${100 + (i >> 8)}.${i & 255}.0/24` } }));
      const res = await call({ method: 'POST', url: '/v1/resources?dryRun=true', body: { apiVersion: V3, kind: 'IPPoolList', items } });
      // Validation passes; the write would need more etcd operations than one transaction holds.
      expect(res).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST', message: expect.stringContaining('split it into smaller batches') } });
    });
  });

  describe('item 10: malformed input is a 4xx with {code, message}', () => {
    it('JSON nested 100,000 levels inside a resource (strict and warn)', async () => {
      const before = await revision();
      // Built as text: JSON.stringify itself cannot go that deep.
      const deep = JSON.stringify(pool('deep', { cidr: '10.251.0.0/16', x: 'X' })).replace('"X"', `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
      for (const url of ['/v1/ippools', '/v1/ippools?validate=warn', '/v1/resources?validate=warn']) {
        const res = await call({ method: 'POST', url, body: deep });
        await rejected(res, before, 400);
        expect(res.body).toEqual({ code: 'PARSE_FAILED', message: 'document 0: nested deeper than 64 levels (at spec.x[0][0][0][0][0][0]…)' });
      }
      await rejected(await call({ method: 'PUT', url: '/v1/ippools/deep', body: deep }), before, 400);
    });

    it('YAML: a self-referencing alias, an alias bomb, deep flow nesting', async () => {
      const before = await revision();
      const selfRef = `apiVersion: ${V3}\nkind: IPPool\nmetadata: {name: alias}\nspec: &s\n  cidr: 10.252.0.0/16\n  x: *s\n`;
      const res = await call({ method: 'POST', url: '/v1/ippools?validate=warn', body: selfRef, type: 'application/yaml' });
      await rejected(res, before, 400);
      expect(res.body.message).toMatch(/^document 0: a YAML alias at spec\.x refers to a node that contains it/);
      const lol = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
      for (const c of 'bcdefghi') lol.push(`${c}: &${c} [${Array(9).fill(`*${String.fromCharCode(c.charCodeAt(0) - 1)}`).join(', ')}]`);
      await rejected(await call({ method: 'POST', url: '/v1/resources', body: `apiVersion: ${V3}\nkind: IPPool\nmetadata: {name: lol}\nspec:\n  ${lol.join('\n  ')}\n`, type: 'application/yaml' }), before, 400);
      const t0 = performance.now();
      await rejected(await call({ method: 'POST', url: '/v1/resources', body: `kind: IPPool\nspec:\n  x: ${'['.repeat(400_000)}${']'.repeat(400_000)}\n`, type: 'application/yaml' }), before, 400);
      expect(performance.now() - t0).toBeLessThan(3_000);
    });

    it('rollback and explain refuse a version that is not an integer ({"version":[1]} is not 1)', async () => {
      const before = await revision();
      for (const version of [[1], '1e0', 'abc', true, 1.5, -1, { n: 1 }, null, '', 2 ** 60]) {
        const rb = await call({ method: 'POST', url: '/v1/rollback', body: { version } });
        await rejected(rb, before, 422);
        expect(rb.body.issues).toEqual([expect.objectContaining({ resource: 'rollback', path: 'version' })]);
        const ex = await call({ method: 'POST', url: '/v1/explain', body: { src: '172.31.0.1', dst: '1.1.1.1', version } });
        await rejected(ex, before, 422);
      }
      await rejected(await call({ method: 'POST', url: '/v1/rollback', body: { version: 1, dryRun: 'false' } }), before, 422);
      await rejected(await call({ method: 'POST', url: '/v1/explain', body: { src: '172.31.0.1', dst: '1.1.1.1', node: ['n'] } }), before, 422);
      expect((await call({ method: 'GET', url: '/v1/ippools/seed' })).status).toBe(200);
    });

    it('malformed URLs, repeated or misspelt query flags, odd bodies', async () => {
      const before = await revision();
      await rejected(await call({ method: 'GET', url: '/v1/ippools/%E0%A4%A' }), before, 400);
      await rejected(await call({ method: 'POST', url: '/v1/resources?validate=strict&validate=warn', body: pool('q', { cidr: '10.253.0.0/16' }) }), before, 400);
      // A misspelt dryRun must not become a real write.
      await rejected(await call({ method: 'POST', url: '/v1/ippools?dryRun=yes', body: pool('q', { cidr: '10.253.0.0/16' }) }), before, 400);
      await rejected(await call({ method: 'POST', url: '/v1/ippools?dryRun=true&dryRun=false', body: pool('q', { cidr: '10.253.0.0/16' }) }), before, 400);
      await rejected(await call({ method: 'PUT', url: '/v1/ippools/q', body: { apiVersion: V3, kind: 'IPPool', metadata: 'q', spec: { cidr: '10.253.0.0/16' } } }), before, 422);
      await rejected(await call({ method: 'POST', url: '/v1/rollback', body: '[1]' }), before, 400);
      await rejected(await call({ method: 'POST', url: '/v1/resources', body: '{"kind":"IPPool"', type: 'application/json' }), before, 400);
      await rejected(await call({ method: 'POST', url: '/v1/resources', body: 'x', type: 'application/octet-stream' }), before, 415);
      await rejected(await call({ method: 'GET', url: '/v1/bundles/0x10' }), before, 400);
      // A 253-character name (the longest Calico allows) is a route parameter like any other.
      expect((await call({ method: 'GET', url: `/v1/ippools/${'a'.repeat(253)}` })).body.code).toBe('NOT_FOUND');
    });
  });

  describe('item 11: prototype keys are neither routes nor fields', () => {
    it.each(['constructor', '__proto__', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'])('/v1/%s is 404', async (name) => {
      for (const url of [`/v1/${name}`, `/v1/${name}/x`, `/v1/status/${name}`]) {
        const res = await call({ method: 'GET', url });
        expect(res, url).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
      }
      const before = await revision();
      await rejected(await call({ method: 'POST', url: `/v1/${name}`, body: pool('x', { cidr: '10.254.0.0/16' }) }), before, 404);
    });

    it('a body with "__proto__" keys is refused (even under validate=warn) and pollutes nothing', async () => {
      const before = await revision();
      const bodies = [
        own(pool('proto1', { cidr: '10.254.0.0/16' }), '__proto__', { polluted: true }),
        pool('proto2', own({ cidr: '10.254.0.0/16' }, '__proto__', { natOutgoing: true })),
        { apiVersion: V3, kind: 'IPPool', metadata: own({ name: 'proto3' }, '__proto__', { name: 'x' }), spec: { cidr: '10.254.0.0/16' } },
      ];
      for (const body of bodies) {
        for (const url of ['/v1/ippools', '/v1/ippools?validate=warn', '/v1/resources?validate=warn&mode=apply']) {
          const res = await call({ method: 'POST', url, body });
          await rejected(res, before, 400);
          expect(res.body.message).toMatch(/key "__proto__" is not allowed/);
        }
      }
      const yaml = `apiVersion: ${V3}\nkind: IPPool\nmetadata: {name: proto4}\nspec:\n  cidr: 10.254.0.0/16\n  __proto__: {natOutgoing: true}\n`;
      await rejected(await call({ method: 'POST', url: '/v1/ippools?validate=warn', body: yaml, type: 'application/yaml' }), before, 400);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(({} as Record<string, unknown>)['natOutgoing']).toBeUndefined();
    });

    it('"constructor" and "prototype" fields are unknown fields, refused under strict and warn', async () => {
      const before = await revision();
      for (const url of ['/v1/ippools', '/v1/ippools?validate=warn']) {
        const res = await call({ method: 'POST', url, body: pool('ctor', { cidr: '10.254.0.0/16', constructor: { name: 'x' }, prototype: 1 }) });
        await rejected(res, before, 422);
        expect(res.body.issues.map((i: { path: string }) => i.path)).toEqual(['spec.constructor', 'spec.prototype']);
      }
    });
  });

  describe('fuzz: mutated resources and bodies never get a 5xx, and a rejected request stores nothing', () => {
    const keyArb = fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'cidr', 'natOutgoing', 'blockSize', 'metadata', 'spec', 'kind', 'items', 'name', 'labels', ''),
      fc.string({ unit: 'binary', maxLength: 12 }),
    );
    const leafArb = fc.oneof(
      fc.constantFrom(null, true, false, 0, -0, 1e308, -1e308, 2 ** 53 + 1, 1.5, '', '10.0.0.0/8', '10.9.0.0/16', 'fe80::/64', '::/0', 'Always', 'all()', '!!', '${x}', '\u0000', '\u202e', '𝔘𝔫𝔦', 'a'.repeat(300)),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.integer(),
      fc.double({ noNaN: true }),
    );
    /** Any JSON value, built with own properties so prototype keys survive into the body. */
    const valueArb: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leafArb,
        fc.array(tie('v'), { maxLength: 4 }),
        fc.array(fc.tuple(keyArb, tie('v')), { maxLength: 4 }).map((kv) => kv.reduce<object>((o, [k, v]) => own(o, k, v), {})),
        fc.integer({ min: 50, max: 3_000 }).map((d) => nest(d)),
      ),
    })).v;
    const baseArb = fc.constantFrom<Record<string, unknown>>(
      pool('fz-a', { cidr: '10.9.0.0/16', natOutgoing: true }),
      pool('fz-b', { cidr: 'fd10::/48', blockSize: 122 }),
      { apiVersion: V3, kind: 'FelixConfiguration', metadata: { name: 'default' }, spec: { natPortRange: '1000:2000', natOutgoingExclusions: 'IPPoolsOnly' } },
    );
    /** A valid resource with one to three fields set, replaced or removed (paths into metadata and spec, or the top level). */
    const mutatedArb = fc.tuple(baseArb, fc.array(fc.tuple(fc.constantFrom('', 'metadata', 'spec'), keyArb, fc.option(valueArb, { nil: undefined })), { minLength: 1, maxLength: 3 })).map(([base, edits]) => {
      const r = structuredClone(base);
      for (const [where, key, value] of edits) {
        const target = where === '' ? r : (r[where] as Record<string, unknown> | undefined);
        if (typeof target !== 'object' || target === null) continue;
        if (value === undefined) delete target[key];
        else own(target, key, value);
      }
      return r;
    });
    const textArb = fc.oneof(
      fc.tuple(mutatedArb, fc.constantFrom('json', 'yaml', 'list', 'array')).map(([r, how]) => {
        if (how === 'yaml') {
          try {
            return { text: toYaml(r, { aliasDuplicateObjects: false }), type: 'application/yaml' };
          } catch {
            return { text: JSON.stringify(r), type: 'application/yaml' }; // too deep for yaml.stringify: JSON is YAML's flow syntax
          }
        }
        if (how === 'list') return { text: JSON.stringify({ apiVersion: V3, kind: 'List', items: [r, r] }), type: 'application/json' };
        if (how === 'array') return { text: JSON.stringify([r]), type: 'application/json' };
        return { text: JSON.stringify(r), type: 'application/json' };
      }),
      // Broken text: a valid body cut short or with bytes spliced in, and raw strings.
      fc.tuple(mutatedArb, fc.nat(), fc.string({ unit: 'binary', maxLength: 8 })).map(([r, at, junk]) => {
        const t = JSON.stringify(r);
        const i = at % (t.length + 1);
        return { text: t.slice(0, i) + junk + t.slice(i + (at % 3)), type: 'application/json' };
      }),
      fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ text: text || ' ', type: 'application/yaml' })),
      fc.constantFrom(
        'a: &a [*a]\n',
        'kind: IPPool\nspec: &s {x: *s}\n',
        '--- !!binary AAAA\n',
        'kind: IPPool\n<<: {metadata: {name: m}}\n',
        '? [a, b]\n: c\n',
        `kind: IPPool\nspec: {cidr: ${'['.repeat(5_000)}}\n`,
      ).map((text) => ({ text, type: 'application/yaml' })),
    );
    const writeUrlArb = fc.tuple(
      fc.constantFrom('/v1/resources', '/v1/resources?mode=create', '/v1/resources?mode=replace', '/v1/ippools', '/v1/felixconfigurations', '/v1/resources/delete'),
      fc.constantFrom('', 'dryRun=true', 'validate=warn', 'dryRun=1&validate=warn', 'validate=bogus', 'dryRun=maybe'),
    ).map(([path, q]) => (q ? `${path}${path.includes('?') ? '&' : '?'}${q}` : path));

    const check = async (res: { status: number; body: any }, before: number, label: string): Promise<void> => {
      expect(res.status, `${label} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`).toBeLessThan(500);
      if (res.status >= 400) {
        expect(res.body, label).toEqual(expect.objectContaining({ code: expect.any(String), message: expect.any(String) }));
        expect(await revision(), `${label}: a rejected request changed etcd`).toBe(before);
      }
    };

    it('write endpoints', async () => {
      await fc.assert(
        fc.asyncProperty(writeUrlArb, textArb, async (url, { text, type }) => {
          const before = await revision();
          await check(await call({ method: 'POST', url, body: text, type }), before, `POST ${url} ${text.slice(0, 120)}`);
        }),
        { numRuns: 250 },
      );
    });

    it('PUT, rollback and explain', async () => {
      const nameArb = fc.oneof(fc.constantFrom('fz-a', 'default', 'constructor', '__proto__', '%2e%2e', 'a'.repeat(300)), fc.string({ unit: 'grapheme', maxLength: 10 }).map(encodeURIComponent));
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.tuple(nameArb, textArb).map(([name, { text, type }]) => ({ method: 'PUT' as const, url: `/v1/ippools/${name}`, body: text, type })),
            valueArb.map((version) => ({ method: 'POST' as const, url: '/v1/rollback?dryRun=true', body: JSON.stringify(own({}, 'version', version)), type: 'application/json' })),
            fc.tuple(valueArb, valueArb).map(([version, src]) => ({ method: 'POST' as const, url: '/v1/explain', body: JSON.stringify(own(own({ dst: '1.1.1.1' }, 'src', src), 'version', version)), type: 'application/json' })),
          ),
          async (req) => {
            const before = await revision();
            await check(await call(req), before, `${req.method} ${req.url} ${req.body.slice(0, 120)}`);
          },
        ),
        { numRuns: 150 },
      );
    });
  });
});

describe('natfleet-api as a process: a 10,000-pool batch', () => {
  const dir = makeTempDir('api-rss');
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let api: ServiceProcess;
  let port: number;

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    writeFileSync(join(dir, 'tokens'), `${WRITE} write\n`);
    port = await freePort();
    api = await ServiceProcess.start({ name: 'api', opsPort: port, args: ['--etcd-endpoints', etcd.endpoints[0]!, '--nats-url', nats.url, '--token-file', join(dir, 'tokens'), '--port', String(port), '--log-level', 'warn'] });
  });
  afterAll(async () => {
    await api?.stop();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
    removeDir(dir);
  });

  const peakRssMb = (): number => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${api.pid}/status`, 'utf8'))![1]) / 1024;

  it('answers 4xx quickly and stays under 300 MB (it grew to 5 GB and died)', async () => {
    const bodies = [
      { url: '/v1/resources?dryRun=true', text: nestedList(10_000), type: 'application/json' },
      { url: '/v1/resources', text: nestedPools(10_000).map((p) => toYaml({ apiVersion: V3, kind: 'IPPool', ...p })).join('---\n'), type: 'application/yaml' },
      { url: '/v1/resources?dryRun=true', text: nestedList(1_000), type: 'application/json' },
    ];
    for (const b of bodies) {
      expect(b.text.length).toBeLessThan(1024 * 1024);
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}${b.url}`, { method: 'POST', headers: { authorization: `Bearer ${WRITE}`, 'content-type': b.type }, body: b.text, signal: AbortSignal.timeout(60_000) });
      const ms = performance.now() - t0;
      const body = (await res.json()) as { code: string; issues?: unknown[] };
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(body.code).toMatch(/^(BATCH_TOO_LARGE|VALIDATION_FAILED)$/);
      expect(ms).toBeLessThan(10_000);
      expect(api.running).toBe(true);
      const rss = peakRssMb();
      console.log(`natfleet-api ${b.url} ${b.type} ${(b.text.length / 1024).toFixed(0)} KiB → ${res.status} ${body.code} in ${ms.toFixed(0)} ms, VmHWM ${rss.toFixed(0)} MB`);
      expect(rss).toBeLessThan(300);
    }
  });
});
