// The OpenAPI document: valid (swagger-parser), every body and response a real schema
// (no bare objects but the listed free-form ones), every route fastify registers
// documented (and nothing documented that is not served), the reference page rendered
// from it, and the response check failing on an answer that does not match.
import SwaggerParser from '@apidevtools/swagger-parser';
import { Type } from '@sinclair/typebox';
import type { EtcdStore } from '@natfleet/store';
import Fastify from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { apiReferenceHtml, registerApiReference } from '../src/api-reference.js';
import { TokenSet } from '../src/auth.js';
import { ALL_ROUTES, isUndocumentedRoute, openApiDocument, openApiJson, openApiPath } from '../src/openapi.js';
import { ResourceService } from '../src/resource-service.js';
import type { NodeService } from '../src/node-service.js';
import type { Rollout, RolloutService } from '../src/rollout-service.js';
import { checkResponses, responseValidator } from '../src/schemas/response-check.js';
import type { RouteDoc } from '../src/schemas/route-table.js';
import { FakeStore } from './fake-store.js';

const READ = 'viewer-read-token-0123456789';
const WRITE = 'alice-write-token-0123456789';

/**
 * Schemas that are free-form on purpose (JSON pointer in the document → why). Everything
 * else that is `type: object` must name its properties (or its map values).
 */
const FREE_FORM: Record<string, string> = {
  '/components/schemas/ResourcesBody/anyOf/0/properties/spec': "a write body's spec: validated by the model package (422 listing every problem), not by this schema; Calico keeps unknown fields",
};

type Json = Record<string, unknown>;

/** JSON pointers of `type: object` schemas with neither properties nor typed map values. */
function bareObjects(node: unknown, at = ''): string[] {
  if (Array.isArray(node)) return node.flatMap((n, i) => bareObjects(n, `${at}/${i}`));
  if (node === null || typeof node !== 'object') return [];
  const o = node as Json;
  const here = o.type === 'object' && (o.properties === undefined || Object.keys(o.properties as Json).length === 0) && o.patternProperties === undefined && typeof o.additionalProperties !== 'object' ? [at] : [];
  return [...here, ...Object.entries(o).flatMap(([k, v]) => bareObjects(v, `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`))];
}

/** `METHOD /url` of every route in fastify's printRoutes tree (HEAD left out: fastify adds it to every GET). */
function registeredRoutes(tree: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:│   |    )*)[├└]── (.*?) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const path = `${stack[depth - 1] ?? ''}${m[2]}`;
    stack[depth] = path;
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push(`${method} ${path}`);
  }
  return out;
}

function fleet(): Rollout {
  return { cluster: 'default', desired: { version: 7, digest: 'sha256:d', publishedAt: '2026-01-01T00:00:00.000Z' }, evaluated: null, nodes: [], summary: { total: 0, inSync: 0, behind: 0, failed: 0, silent: 0 }, complete: false };
}

async function app() {
  const store = new FakeStore();
  const rollout = { cluster: 'default', rollout: async () => fleet(), history: async () => [] } as unknown as RolloutService;
  return buildApp({
    resources: new ResourceService(store as unknown as EtcdStore),
    rollout,
    nodes: { list: async () => ({ desired: null, items: [] }) } as unknown as NodeService,
    tokens: TokenSet.parse(`${WRITE} write alice\n${READ} read viewer\n`),
    registry: new Registry(),
    readiness: () => ({}),
    logger: pino({ level: 'silent' }),
    bodyLimit: 1 << 20,
  });
}

describe('OpenAPI document', () => {
  it('validates as OpenAPI 3.1 (swagger-parser)', async () => {
    const doc = openApiDocument();
    // validate() dereferences in place: hand it a copy.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
    expect(doc.openapi).toBe('3.1.0');
    // The validator does fail: a response without its required description.
    const broken = structuredClone(doc) as any;
    delete broken.paths['/v1/rollout'].get.responses['200'].description;
    await expect(SwaggerParser.validate(broken)).rejects.toThrow(/description/);
  });

  it('has no bare object body or response schema but the listed free-form ones', () => {
    const doc = openApiDocument();
    const bare = bareObjects(doc);
    expect(bare.filter((p) => !(p in FREE_FORM))).toEqual([]);
    // The exception list stays honest: each entry is still in the document.
    for (const p of Object.keys(FREE_FORM)) expect(bare).toContain(p);
  });

  it('types every JSON body and response with a schema, and every $ref resolves', () => {
    const doc = openApiDocument() as any;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        for (const [status, r] of Object.entries<any>(op.responses)) {
          for (const [ct, c] of Object.entries<any>(r.content ?? {})) {
            expect(c.schema, `${method} ${path} ${status} ${ct}`).toBeDefined();
            if (ct === 'application/json') expect(c.schema.type === 'object' || c.schema.$ref !== undefined, `${method} ${path} ${status}`).toBe(true);
          }
        }
      }
    }
    const refs = JSON.stringify(doc).match(/#\/components\/schemas\/[A-Za-z]+/g) ?? [];
    for (const r of new Set(refs)) expect(doc.components.schemas[r.split('/').pop()!], r).toBeDefined();
    for (const name of ['IPPool', 'FelixConfiguration', 'RolloutPolicy', 'Rollout', 'StagedRollout', 'HistoryRollout', 'Bundle', 'Explanation', 'ExplainRequest', 'Error', 'WriteResult', 'RolloutCommandAccepted', 'NodeDescription', 'VersionDetail']) {
      expect(doc.components.schemas[name], name).toBeDefined();
    }
  });

  it('documents every route fastify registers (but the dashboard asset files), and serves every documented one', async () => {
    const a = await app();
    await a.ready();
    const registered = registeredRoutes(a.printRoutes({ commonPrefix: false }));
    expect(registered.length).toBeGreaterThan(30);
    const documented = new Set(ALL_ROUTES.map((r) => `${r.method} ${r.url}`));
    expect(registered.filter((r) => !documented.has(r) && !isUndocumentedRoute(r.split(' ')[1]!))).toEqual([]);
    expect([...documented].filter((r) => !registered.includes(r))).toEqual([]);
    const doc = openApiDocument() as any;
    for (const r of ALL_ROUTES) expect(doc.paths[openApiPath(r.url)][r.method.toLowerCase()], `${r.method} ${r.url}`).toBeDefined();
    await a.close();
  });

  it('is served at /openapi.json and rendered at /docs as a self-contained page', async () => {
    const a = await app();
    const json = await a.inject({ method: 'GET', url: '/openapi.json' });
    expect(json.json()).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    const page = await a.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const html = page.body;
    for (const r of ALL_ROUTES) expect(html, r.url).toContain(`${r.method} ${openApiPath(r.url)}`);
    for (const s of ['IPPool', 'RolloutPolicy', 'StagedWave', 'Error']) expect(html).toContain(`id="schema-${s}"`);
    expect(html).toContain('<code>previewRevision</code>');
    // Nothing loaded from elsewhere: no scripts, no external links or stylesheets.
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//);
    expect(apiReferenceHtml()).toBe(html);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    await a.close();
  });

  it('the public /docs page and /openapi.json are built once per process, not per request (each build is tens of ms of CPU)', async () => {
    let renders = 0;
    const a = Fastify();
    registerApiReference(a, () => `<p>${++renders}</p>`);
    for (let i = 0; i < 3; i++) expect((await a.inject({ method: 'GET', url: '/docs' })).body).toBe('<p>1</p>');
    expect(renders).toBe(1);
    await a.close();
    expect(openApiJson()).toBe(openApiJson());
    expect(JSON.parse(openApiJson())).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });
});

describe('response check', () => {
  it('records nothing for answers that match, including errors and unknown routes', async () => {
    const a = await app();
    const { violations, checked } = checkResponses(a, ALL_ROUTES);
    const get = (url: string, token = READ) => a.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    expect((await get('/v1/rollout')).statusCode).toBe(200);
    expect((await get('/v1/ippools')).statusCode).toBe(200);
    expect((await get('/v1/ippools/nope')).statusCode).toBe(404);
    expect((await get('/v1/rollout', 'wrong-token-000000000000')).statusCode).toBe(401);
    expect((await get('/v1/no/such/route')).statusCode).toBe(404);
    expect((await get('/v1/nodes')).statusCode).toBe(200);
    expect((await get('/healthz')).statusCode).toBe(200);
    expect((await get('/v1/version')).statusCode).toBe(200);
    const w = await a.inject({ method: 'POST', url: '/v1/ippools?dryRun=true', headers: { authorization: `Bearer ${WRITE}`, 'content-type': 'application/json' }, payload: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.9.0.0/16', natOutgoing: true } }) });
    expect(w.statusCode).toBe(200);
    const bad = await a.inject({ method: 'POST', url: '/v1/ippools', headers: { authorization: `Bearer ${WRITE}`, 'content-type': 'application/json' }, payload: JSON.stringify({ metadata: { name: 'p' }, spec: { cidr: 'nope' } }) });
    expect(bad.statusCode).toBe(422);
    expect(violations).toEqual([]);
    expect([...checked]).toEqual(expect.arrayContaining(['GET /v1/rollout 200', 'GET /v1/:plural/:name 404', 'GET (no route) 404', 'POST /v1/:plural 422']));
    await a.close();
  });

  it('fails on a deliberately wrong schema: recorded, and close() rejects naming it', async () => {
    const wrong: RouteDoc[] = ALL_ROUTES.map((r) =>
      r.method === 'GET' && r.url === '/v1/rollout' ? { ...r, responses: { ...r.responses, '200': { description: 'wrong', schema: Type.Object({ cluster: Type.Integer(), extra: Type.String() }) } } } : r,
    );
    const a = await app();
    const { violations } = checkResponses(a, wrong, { failOnClose: true });
    const res = await a.inject({ method: 'GET', url: '/v1/rollout', headers: { authorization: `Bearer ${READ}` } });
    // The client still gets the real answer.
    expect(res.statusCode).toBe(200);
    expect(res.json().cluster).toBe('default');
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ method: 'GET', route: '/v1/rollout', status: 200 });
    expect(violations[0]!.problem).toMatch(/\/cluster must be integer/);
    expect(violations[0]!.problem).toMatch(/must have required property 'extra'/);
    await expect(a.close()).rejects.toThrow(/1 API answer\(s\) do not match the OpenAPI document:\n {2}GET \/v1\/rollout 200/);
  });

  it('flags an undocumented status, a wrong content type and an undocumented route', () => {
    const v = responseValidator(ALL_ROUTES);
    expect(v.check('GET', '/v1/rollout', 418, 'application/json', '{}')?.problem).toMatch(/status 418 not documented/);
    expect(v.check('GET', '/v1/version', 200, 'text/plain', 'x')?.problem).toMatch(/content-type text\/plain, documented application\/json/);
    expect(v.check('GET', '/v1/secret', 200, 'application/json', '{}')?.problem).toMatch(/route not in the OpenAPI document/);
    expect(v.check('GET', undefined, 404, 'application/json', '{"code":"NOT_FOUND","message":"x"}')).toBeUndefined();
    expect(v.check('GET', undefined, 404, 'application/json', '{"error":"x"}')?.problem).toMatch(/required property 'code'/);
    expect(v.check('HEAD', '/v1/rollout', 200, '', '')).toBeUndefined();
  });
});
