// The operator controls and the staged GET /v1/rollout through the real fastify app, on an
// in-memory store (fake-store.ts) and a stub fleet view: 202 and the command record
// written, 404 / 409 refusals with nothing written, 403 for a read token, ?immediate=true
// on writes, and the OpenAPI entries. Real etcd: test/integration/rollout-operator.test.ts.
import { decodeCommandRecord, rolloutStateKey, type RolloutStateRecord } from '@natfleet/rollout-planner';
import type { EtcdStore } from '@natfleet/store';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { TokenSet } from '../src/auth.js';
import { historyRollout } from '../src/history-service.js';
import { ALL_ROUTES, openApiDocument } from '../src/openapi.js';
import { checkResponses } from '../src/schemas/response-check.js';
import { ResourceService } from '../src/resource-service.js';
import { commandBody } from '../src/rollout-control-routes.js';
import type { Rollout, RolloutService } from '../src/rollout-service.js';
import { FakeStore } from './fake-store.js';
import { T0, record } from './state-records.js';

const WRITE = 'alice-write-token-0123456789';
const READ = 'viewer-read-token-0123456789';
const PREFIX = '/natfleet/v1';
const COMMANDS = `${PREFIX}/rollout/commands/`;

function fleet(version: number, complete: boolean): Rollout {
  return { cluster: 'default', desired: { version, digest: 'sha256:c', publishedAt: new Date(T0).toISOString() }, evaluated: null, nodes: [], summary: { total: 3, inSync: complete ? 3 : 1, behind: complete ? 0 : 2, failed: 0, silent: 0 }, complete };
}

async function setup(state?: RolloutStateRecord | string, view: Rollout = fleet(42, false)) {
  const store = new FakeStore();
  if (state !== undefined) store.put(rolloutStateKey(PREFIX), typeof state === 'string' ? state : JSON.stringify(state));
  const rollout = { cluster: 'default', rollout: async () => view, history: async () => [] } as unknown as RolloutService;
  const app = await buildApp({
    resources: new ResourceService(store as unknown as EtcdStore),
    rollout,
    tokens: TokenSet.parse(`${WRITE} write alice\n${READ} read viewer\n`),
    registry: new Registry(),
    readiness: () => ({}),
    logger: pino({ level: 'silent' }),
    bodyLimit: 1 << 20,
  });
  // Every answer must match the OpenAPI document (staged sections of every phase, 202s, 409s).
  const { violations } = checkResponses(app, ALL_ROUTES);
  const call = async (method: 'GET' | 'POST', url: string, o: { token?: string; body?: unknown; type?: string } = {}) => {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${o.token ?? WRITE}`, ...(o.body !== undefined ? { 'content-type': o.type ?? 'application/json' } : {}) },
      ...(o.body !== undefined ? { payload: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) } : {}),
    });
    expect(violations).toEqual([]);
    return { status: res.statusCode, body: res.json() as any };
  };
  const commands = async () => (await store.list(COMMANDS)).entries.map((e) => ({ key: e.key, rec: decodeCommandRecord(e.value) }));
  return { store, app, call, commands };
}

describe('GET /v1/rollout staged section', () => {
  it('null without a state record; the fleet view unchanged', async () => {
    const { call } = await setup(undefined, fleet(42, true));
    const r = await call('GET', '/v1/rollout', { token: READ });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ desired: { version: 42 }, complete: true, staged: null, aborted: false });
  });

  it('waves with state, bake left and gates from the record', async () => {
    const { call } = await setup(record({ state: { waveStartedAt: Date.now() - 60_000 } }));
    const r = await call('GET', '/v1/rollout', { token: READ });
    expect(r.body.staged).toMatchObject({ policy: 'staged', phase: 'progressing', candidate: { version: 42 } });
    expect(r.body.staged.waves.map((w: any) => w.state)).toEqual(['passed', 'admitted', 'pending']);
    const left = r.body.staged.waves[1].bakeRemainingMs;
    expect(left).toBeGreaterThan(8 * 60_000);
    expect(left).toBeLessThanOrEqual(9 * 60_000);
    expect(r.body.staged.waves[1].nodes[1]).toEqual({ node: 'n3', gate: { result: 'pending', gate: 'ack', detail: 'applied v41' } });
  });

  it('a rolled-back record: aborted with the reason, complete false even if every node is in sync', async () => {
    const { call } = await setup(record({ state: { phase: 'rolled-back', admitted: [], conditions: [{ type: 'Aborted', status: 'True', reason: 'GateFailed', message: 'n3: health' }] } }), fleet(42, true));
    expect((await call('GET', '/v1/rollout', { token: READ })).body).toMatchObject({ complete: false, aborted: true, abortedReason: 'GateFailed: n3: health' });
  });
});

describe('POST /v1/rollout/{pause,resume,abort,promote}', () => {
  it('202 with the command; one record per call under a new key, with the token name and the candidate', async () => {
    const { call, commands } = await setup(record());
    const a = await call('POST', '/v1/rollout/pause');
    expect(a.status).toBe(202);
    expect(a.body).toMatchObject({ command: { type: 'pause', version: 42, by: 'alice' }, key: expect.stringMatching(/^\/natfleet\/v1\/rollout\/commands\/\d{15}-/) });
    const b = await call('POST', '/v1/rollout/promote', { body: { version: 42, reason: 'hotfix' } });
    expect(b.status).toBe(202);
    const list = await commands();
    expect(list.map((c) => c.key)).toEqual([a.body.key, b.body.key].sort());
    expect(list.find((c) => c.key === b.body.key)!.rec).toEqual({ type: 'promote', version: 42, by: 'alice', at: b.body.command.at, reason: 'hotfix' });
    expect(Date.parse(b.body.command.at)).not.toBeNaN();
  });

  it('409 with a clear message and nothing written: stale version, wrong phase, already promoted, no policy', async () => {
    const cases: [RolloutStateRecord, string, unknown, RegExp][] = [
      [record(), 'pause', { version: 41 }, /version 41 is not the current candidate \(v42, progressing\)/],
      [record(), 'resume', undefined, /cannot resume the rollout of v42: it is progressing \(resume applies when paused\)/],
      [record({ state: { phase: 'paused' } }), 'pause', undefined, /cannot pause .* it is paused/],
      [record({ state: { phase: 'completed' } }), 'abort', undefined, /cannot abort .* it is completed/],
      [record({ state: { phase: 'rolled-back' } }), 'promote', undefined, /cannot promote .* it is rolled-back/],
      [record({ state: { promoted: true } }), 'promote', undefined, /already promoted/],
      [record({ policy: '', waves: [] }), 'pause', undefined, /no RolloutPolicy applies/],
    ];
    for (const [rec, type, body, msg] of cases) {
      const { call, commands } = await setup(rec);
      const r = await call('POST', `/v1/rollout/${type}`, body === undefined ? {} : { body });
      expect(r.status, `${type} ${JSON.stringify(body)}`).toBe(409);
      expect(r.body.code).toBe('CONFLICT');
      expect(r.body.message).toMatch(msg);
      expect(await commands()).toEqual([]);
    }
  });

  it('each command in the phases it applies to', async () => {
    for (const [phase, type] of [['paused', 'resume'], ['halted', 'abort'], ['paused', 'abort'], ['paused', 'promote']] as const) {
      const { call, commands } = await setup(record({ state: { phase } }));
      expect((await call('POST', `/v1/rollout/${type}`)).status).toBe(202);
      expect((await commands()).map((c) => c.rec?.type)).toEqual([type]);
    }
  });

  it('404 without a state record (or with one that is not a record)', async () => {
    for (const state of [undefined, '{"not":"a record"}']) {
      const { call } = await setup(state);
      const r = await call('POST', '/v1/rollout/abort');
      expect(r.status).toBe(404);
      expect(r.body.message).toMatch(state === undefined ? /no staged rollout to abort: the rollout controller has written no state/ : /is not one the controller wrote/);
    }
  });

  it('a read token gets 403, no token 401, a bad body 400/422 — nothing written', async () => {
    const { call, commands } = await setup(record());
    for (const type of ['pause', 'resume', 'abort', 'promote']) expect((await call('POST', `/v1/rollout/${type}`, { token: READ })).status).toBe(403);
    expect((await call('POST', '/v1/rollout/pause', { token: 'nobody-token-0123456789' })).status).toBe(401);
    expect((await call('POST', '/v1/rollout/pause', { body: { version: 'x' } })).status).toBe(422);
    expect((await call('POST', '/v1/rollout/pause', { body: { versoin: 42 } })).status).toBe(422);
    expect((await call('POST', '/v1/rollout/pause', { body: '[1]' })).status).toBe(400);
    expect(await commands()).toEqual([]);
  });
});

describe('?immediate=true on writes', () => {
  const pool = (cidr: string) => ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'a' }, spec: { cidr, natOutgoing: true } });

  it('a write that changes NAT sets gets an immediate command carrying its revision', async () => {
    const { call, commands, store } = await setup();
    const r = await call('POST', '/v1/resources?mode=apply&immediate=true', { body: pool('10.0.0.0/16') });
    expect(r.status).toBe(200);
    expect(r.body.nat.changed).toBe(true);
    expect(r.body.immediate).toMatchObject({ written: true, command: { type: 'immediate', version: r.body.revision, by: 'alice' } });
    expect((await commands()).map((c) => c.rec)).toEqual([{ type: 'immediate', version: r.body.revision, by: 'alice', at: r.body.immediate.command.at }]);
    expect(await store.get('/calico/resources/v3/projectcalico.org/ippools/a')).toBeDefined();
  });

  it('create and replace routes take it too; no command for an unchanged write, a dry run, or without the flag', async () => {
    const { call, commands } = await setup();
    const c = await call('POST', '/v1/ippools?immediate=true', { body: pool('10.0.0.0/16') });
    expect(c.status).toBe(201);
    expect(c.body.immediate.written).toBe(true);
    const p = await call('POST', '/v1/resources?mode=apply&immediate=true&dryRun=true', { body: { ...pool('10.9.0.0/16'), metadata: { name: 'b' } } });
    expect(p.body.immediate).toEqual({ written: false, reason: 'dry run: no command written' });
    const same = await (async () => {
      const put = await call('POST', '/v1/resources?mode=apply&immediate=true', { body: pool('10.0.0.0/16') });
      return put.body.immediate;
    })();
    expect(same).toMatchObject({ written: false, reason: expect.stringMatching(/no NAT change/) });
    expect((await call('POST', '/v1/resources?mode=apply', { body: { ...pool('10.5.0.0/16'), metadata: { name: 'c' } } })).body.immediate).toBeUndefined();
    expect((await commands()).length).toBe(1);
  });

  it('a misspelt flag refuses the write; a read token gets 403; a failed command write says the resources landed', async () => {
    const { call, commands, store } = await setup();
    expect((await call('POST', '/v1/resources?mode=apply&immediate=yes', { body: pool('10.0.0.0/16') })).status).toBe(400);
    expect((await store.snapshot()).entries).toEqual([]);
    expect((await call('POST', '/v1/resources?mode=apply&immediate=true', { token: READ, body: pool('10.0.0.0/16') })).status).toBe(403);
    store.failCommitsUnder = COMMANDS;
    const r = await call('POST', '/v1/resources?mode=apply&immediate=true', { body: pool('10.0.0.0/16') });
    expect(r.status).toBe(503);
    expect(r.body.message).toMatch(/the write committed at revision \d+, but its immediate command was not written/);
    expect(await commands()).toEqual([]);
  });
});

describe('command bodies, history rows, OpenAPI', () => {
  it('commandBody: empty, version as number or digits, reason', () => {
    expect(commandBody(undefined)).toEqual({});
    expect(commandBody('')).toEqual({});
    expect(commandBody('{"version":"42","reason":"r"}')).toEqual({ version: 42, reason: 'r' });
    for (const bad of ['{"version":0}', '{"version":1.5}', '{"version":[42]}', '{"reason":7}', 'nope', 'null']) expect(() => commandBody(bad)).toThrow();
  });

  it('historyRollout: the outcome record wins; the state record tells about the current candidate only', () => {
    const outcome = { version: 42, digest: 'd', outcome: 'rolled-back' as const, policy: 'staged', immediate: false, reason: 'n3 failed', failures: [{ node: 'n3', gate: 'health' as const, code: 'HEALTH_CHECK_FAILED', detail: 'x' }], waves: [{ name: 'canary', nodes: ['n1'] }], stable: null, startedAt: 's', endedAt: 'e' };
    expect(historyRollout(42, outcome, record())).toEqual({ outcome: 'rolled-back', policy: 'staged', reason: 'n3 failed', failures: outcome.failures, immediate: false, waves: outcome.waves, startedAt: 's', endedAt: 'e' });
    expect(historyRollout(42, undefined, record())).toMatchObject({ outcome: null, phase: 'progressing', reason: 'wave half admitted: 2 node(s)', endedAt: null });
    expect(historyRollout(41, undefined, record())).toBeNull();
    expect(historyRollout(41, undefined, null)).toBeNull();
  });

  it('OpenAPI documents the routes, the staged fields and the command body; every $ref resolves', () => {
    const doc = openApiDocument() as any;
    for (const t of ['pause', 'resume', 'abort', 'promote']) {
      const op = doc.paths[`/v1/rollout/${t}`].post;
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['202', '403', '404', '409']));
      expect(op.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/RolloutCommandRequest' });
    }
    expect(doc.components.schemas.Rollout.properties.staged).toBeDefined();
    expect(doc.components.schemas.StagedWave.properties.state.anyOf.map((s: any) => s.const)).toEqual(['pending', 'admitted', 'baking', 'passed', 'failed']);
    expect(doc.paths['/v1/resources'].post.parameters.map((p: any) => p.name)).toContain('immediate');
    const refs = JSON.stringify(doc).match(/#\/components\/schemas\/[A-Za-z]+/g) ?? [];
    for (const r of new Set(refs)) expect(doc.components.schemas[r.split('/').pop()!], r).toBeDefined();
  });
});
