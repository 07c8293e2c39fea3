// The API against real etcd and real NATS (in-process fastify via inject): validation,
// calicoctl write semantics, optimistic concurrency, dry-run, auth, all-or-nothing YAML
// batches, Calico-style delete, rollout classification, history, explain and rollback.
import { ResourceService, RolloutService, TokenSet, buildApp } from '@natfleet/api';
import { bundleContentDigest, encodeBundle, generateSigningKeyPair, loadSigningKey } from '@natfleet/bundle';
import { ensureBundleStream, openNodesBucket, pendingNodeStatus, publishBundle, putNodeStatus, type NodeStatus } from '@natfleet/bus';
import { compileBundle } from '@natfleet/compiler-core';
import { EtcdStore } from '@natfleet/store';
import { startEtcd, startNats, type EtcdCluster, type NatsCluster } from '@natfleet/testkit';
import { Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import { connect, type NatsConnection } from 'nats';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkApiResponses } from './api-harness.js';

const P = '/calico/resources/v3/projectcalico.org';
const WRITE = 'write-token-0123456789';
const READ = 'read-token-0123456789';
const pool = (name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = {}) => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name, ...meta },
  spec,
});

describe('API against real etcd and NATS', () => {
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
    store = new EtcdStore(client);
    app = await buildApp({
      resources: new ResourceService(store),
      rollout: new RolloutService({ js: nc.jetstream(), jsm: await nc.jetstreamManager(), store, cluster: 'default', silentAfterMs: 30_000 }),
      tokens: TokenSet.parse(`${WRITE} write\n${READ} read\n`),
      registry: new Registry(),
      readiness: () => ({}),
      logger: pino({ level: 'silent' }),
      bodyLimit: 64 * 1024,
    });
    // Every answer must match the OpenAPI document (app.close() rejects otherwise).
    checkApiResponses(app);
  });
  afterAll(async () => {
    await app?.close();
    await nc?.close();
    client?.close();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
  });

  type Req = { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; body?: unknown; token?: string | null; type?: string };
  const call = async ({ method, url, body, token = WRITE, type }: Req) => {
    const res = await app.inject({
      method,
      url,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': type ?? 'application/json' } : {}),
      },
      ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    return { status: res.statusCode, body: res.json() as any };
  };
  const revision = async () => (await store.snapshot()).revision;

  describe('validation: 422 with every problem and its field path', () => {
    it.each([
      ['host bits', pool('a', { cidr: '10.0.0.1/16' }), ['spec.cidr']],
      ['block size out of range', pool('a', { cidr: '10.0.0.0/16', blockSize: 40 }), ['spec.blockSize']],
      ['pool smaller than a block', pool('a', { cidr: '10.0.0.0/28' }), ['spec.cidr']],
      ['link-local', pool('a', { cidr: 'fe80::/64' }), ['spec.cidr']],
      ['IPIP on IPv6', pool('a', { cidr: 'fd00::/64', ipipMode: 'Always' }), ['spec.ipipMode']],
      ['bad name and two bad fields', pool('Bad_Name', { cidr: '10.0.0.0/16', natOutgoing: 'yes', vxlanMode: 'Sometimes' }), ['metadata.name', 'spec.natOutgoing', 'spec.vxlanMode']],
      ['Node is not writable', { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n' }, spec: {} }, ['kind']],
      ['FelixConfiguration port range', { apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: { name: 'default' }, spec: { natPortRange: '9:1' } }, ['spec.natPortRange']],
    ])('%s', async (_n, body, paths) => {
      const before = await revision();
      const res = await call({ method: 'POST', url: '/v1/resources', body });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.issues.map((i: { path: string }) => i.path).sort()).toEqual([...paths].sort());
      expect(res.body.stack).toBeUndefined();
      expect(await revision()).toBe(before);
    });

    it('overlap with a stored pool and within a batch', async () => {
      expect((await call({ method: 'POST', url: '/v1/ippools', body: pool('stored', { cidr: '10.1.0.0/16' }) })).status).toBe(201);
      const stored = await call({ method: 'POST', url: '/v1/ippools', body: pool('inner', { cidr: '10.1.2.0/24' }) });
      expect(stored.status).toBe(422);
      expect(stored.body.issues[0]).toMatchObject({ path: 'spec.cidr', reason: expect.stringContaining('stored') });
      const batch = await call({ method: 'POST', url: '/v1/resources', body: [pool('x1', { cidr: '10.9.0.0/16' }), pool('x2', { cidr: '10.9.1.0/24' })] });
      expect(batch.status).toBe(422);
      expect(batch.body.issues).toHaveLength(1);
    });

    it('immutable cidr on replace', async () => {
      const res = await call({ method: 'PUT', url: '/v1/ippools/stored', body: pool('stored', { cidr: '10.2.0.0/16' }) });
      expect(res.status).toBe(422);
      expect(res.body.issues.map((i: { path: string }) => i.path)).toEqual(['spec.cidr']);
    });

    it('malformed YAML is a 400 naming the document', async () => {
      const res = await call({ method: 'POST', url: '/v1/resources', body: 'kind: IPPool\n---\n  : [bad', type: 'application/yaml' });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('PARSE_FAILED');
      expect(res.body.message).toMatch(/document 1/i);
    });
  });

  describe('calicoctl semantics and optimistic concurrency', () => {
    it('create fails on existing, replace fails on missing, apply does either', async () => {
      expect((await call({ method: 'POST', url: '/v1/ippools', body: pool('stored', { cidr: '10.1.0.0/16' }) })).status).toBe(409);
      expect((await call({ method: 'PUT', url: '/v1/ippools/nope', body: pool('nope', { cidr: '10.3.0.0/16' }) })).status).toBe(404);
      const applied = await call({ method: 'POST', url: '/v1/resources?mode=apply', body: [pool('stored', { cidr: '10.1.0.0/16', natOutgoing: true }), pool('new', { cidr: '10.4.0.0/16' })] });
      expect(applied.status).toBe(200);
      expect(applied.body.changes.map((c: { name: string; action: string }) => `${c.name}:${c.action}`)).toEqual(['stored:updated', 'new:created']);
      const again = await call({ method: 'POST', url: '/v1/resources?mode=apply', body: [pool('stored', { cidr: '10.1.0.0/16', natOutgoing: true })] });
      expect(again.body.changes[0].action).toBe('unchanged');
    });

    it('a stale resourceVersion gets 409 and changes nothing', async () => {
      const got = await call({ method: 'GET', url: '/v1/ippools/stored', token: READ });
      const rv = got.body.metadata.resourceVersion as string;
      expect(rv).toMatch(/^\d+$/);
      const ok = await call({ method: 'PUT', url: '/v1/ippools/stored', body: { ...got.body, spec: { ...got.body.spec, natOutgoing: false } } });
      expect(ok.status).toBe(200);
      const before = await revision();
      const stale = await call({ method: 'PUT', url: '/v1/ippools/stored', body: { ...got.body, spec: { ...got.body.spec, disabled: true } } });
      expect(stale.status).toBe(409);
      expect(stale.body.code).toBe('CONFLICT');
      expect(await revision()).toBe(before);
      expect((await call({ method: 'GET', url: '/v1/ippools/stored' })).body.spec.disabled).toBe(false);
    });

    it('dry-run reports changes and the NAT diff without writing', async () => {
      const before = await revision();
      const res = await call({ method: 'POST', url: '/v1/resources?dryRun=true', body: [pool('dry', { cidr: '192.168.0.0/16', natOutgoing: true })] });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ dryRun: true, changes: [{ name: 'dry', action: 'created' }], nat: { changed: true, v4: { masquerade: { added: ['192.168.0.0/16'], removed: [] } } } });
      expect(await revision()).toBe(before);
      expect((await call({ method: 'GET', url: '/v1/ippools/dry' })).status).toBe(404);
    });

    it('a YAML multi-document apply is all-or-nothing', async () => {
      const before = await revision();
      const bad = ['apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: y1}\nspec: {cidr: 10.20.0.0/16}', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: y2}\nspec: {cidr: 10.21.0.1/16}'].join('\n---\n');
      const res = await call({ method: 'POST', url: '/v1/resources', body: bad, type: 'application/yaml' });
      expect(res.status).toBe(422);
      expect(await revision()).toBe(before);
      const good = bad.replace('10.21.0.1/16', '10.21.0.0/16');
      const ok = await call({ method: 'POST', url: '/v1/resources', body: good, type: 'application/yaml' });
      expect(ok.status).toBe(200);
      expect(ok.body.revision).toBe(before + 1); // one transaction, one revision
      expect(ok.body.changes.map((c: { resourceVersion: string }) => c.resourceVersion)).toEqual([String(before + 1), String(before + 1)]);
    });

    it('deleting an enabled pool disables it first, then deletes it', async () => {
      const start = await revision();
      const res = await call({ method: 'DELETE', url: '/v1/ippools/y1' });
      expect(res.status).toBe(200);
      expect(res.body.changes.map((c: { action: string }) => c.action)).toEqual(['disabled', 'deleted']);
      const mid = await store.snapshot(start + 1);
      const y1 = mid.entries.find((e) => e.key === `${P}/ippools/y1`);
      expect(JSON.parse(y1!.value).spec.disabled).toBe(true);
      expect((await call({ method: 'GET', url: '/v1/ippools/y1' })).status).toBe(404);
    });
  });

  describe('defects found in review (each failed before its fix)', () => {
    it('two concurrent creates of overlapping pools: one wins, the other gets 409 and then 422 on retry', async () => {
      const a = pool('race-a', { cidr: '10.60.0.0/16' });
      const b = pool('race-b', { cidr: '10.60.1.0/24' });
      const [ra, rb] = await Promise.all([call({ method: 'POST', url: '/v1/ippools', body: a }), call({ method: 'POST', url: '/v1/ippools', body: b })]);
      const statuses = [ra.status, rb.status].sort();
      expect(statuses).toEqual([201, 409].sort()); // never both 201
      const loser = ra.status === 409 ? a : b;
      const retry = await call({ method: 'POST', url: '/v1/ippools', body: loser });
      expect(retry.status).toBe(422);
    });

    it('apply repairs a pool whose stored value is not JSON (written with etcdctl)', async () => {
      await etcd.etcdctl(['put', `${P}/ippools/broken`, '{not json']);
      const res = await call({ method: 'POST', url: '/v1/resources?mode=apply', body: pool('broken', { cidr: '10.61.0.0/16' }) });
      expect(res.status).toBe(200);
      expect(res.body.changes[0].action).toBe('updated');
      expect((await call({ method: 'GET', url: '/v1/ippools/broken' })).body.spec.cidr).toBe('10.61.0.0/16');
    });

    it('requests etcd refuses are 400 with the reason, not 503', async () => {
      const future = await call({ method: 'POST', url: '/v1/rollback', body: { version: 999_999 } });
      expect(future).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST', message: expect.stringContaining('future') } });
      const many = Array.from({ length: 130 }, (_, i) => pool(`many-${i}`, { cidr: `10.${100 + (i >> 6)}.${(i & 63) * 4}.0/22` }));
      const big = await call({ method: 'POST', url: '/v1/resources', body: many });
      expect(big).toMatchObject({ status: 400, body: { message: expect.stringContaining('at most 128') } });
    });

    it('a delete naming a resource twice is a 400', async () => {
      const body = 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: broken}\n---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: broken}\n';
      const res = await call({ method: 'POST', url: '/v1/resources/delete', body, type: 'application/yaml' });
      expect(res).toMatchObject({ status: 400, body: { message: expect.stringContaining('named twice') } });
    });

    it('the body kind must match the URL', async () => {
      const felix = { apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: { name: 'default' }, spec: {} };
      expect((await call({ method: 'PUT', url: '/v1/ippools/default', body: felix })).status).toBe(400);
      expect((await call({ method: 'POST', url: '/v1/ippools', body: felix })).status).toBe(400);
      expect((await call({ method: 'GET', url: '/v1/felixconfigurations/default' })).status).toBe(404);
    });
  });

  describe('auth and limits', () => {
    it('refuses writes without a valid write token, and reads without any token', async () => {
      const body = pool('authz', { cidr: '10.30.0.0/16' });
      expect((await call({ method: 'POST', url: '/v1/ippools', body, token: null })).status).toBe(401);
      expect((await call({ method: 'POST', url: '/v1/ippools', body, token: 'not-a-real-token-at-all' })).status).toBe(401);
      const ro = await call({ method: 'POST', url: '/v1/ippools', body, token: READ });
      expect(ro).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
      expect((await call({ method: 'GET', url: '/v1/ippools', token: null })).status).toBe(401);
      const list = await call({ method: 'GET', url: '/v1/ippools', token: READ });
      expect(list.status).toBe(200);
      expect(list.body.kind).toBe('IPPoolList');
      const names = list.body.items.map((i: { metadata: { name: string } }) => i.metadata.name) as string[];
      expect(names).toEqual([...names].sort());
      expect(names).toEqual(expect.arrayContaining(['new', 'stored', 'y2']));
      expect(list.body.items[0].metadata.resourceVersion).toMatch(/^\d+$/);
      expect((await call({ method: 'GET', url: '/v1/ippools/authz' })).status).toBe(404);
    });

    it('rejects oversized bodies and unknown media types without stack traces', async () => {
      const big = await call({ method: 'POST', url: '/v1/resources', body: 'x'.repeat(70 * 1024), type: 'application/yaml' });
      expect(big).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });
      const xml = await call({ method: 'POST', url: '/v1/resources', body: '<x/>', type: 'application/xml' });
      expect(xml.status).toBe(415);
      expect(JSON.stringify(xml.body)).not.toMatch(/at .*\.js/);
    });

    it('serves an OpenAPI document', async () => {
      const res = await call({ method: 'GET', url: '/openapi.json', token: null });
      expect(res.status).toBe(200);
      expect(res.body.openapi).toBe('3.1.0');
      expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/v1/rollout', '/v1/explain', '/v1/rollback']));
    });
  });

  describe('rollout, history, explain, rollback', () => {
    const key = loadSigningKey(generateSigningKeyPair().privateKeyPem);
    const status = (node: string, over: Partial<NodeStatus>): NodeStatus => pendingNodeStatus(node, { state: 'applied', applyMs: 1, enforcerVersion: 't', ...over });
    let v1 = 0;
    let v2 = 0;

    it('classifies nodes against the latest published bundle', async () => {
      const publish = async () => {
        const snap = await store.snapshot();
        const { bundle } = compileBundle({ entries: snap.entries }, snap.revision, { cluster: 'default', key });
        await publishBundle(nc.jetstream(), { cluster: 'default', data: encodeBundle(bundle), version: bundle.version, digest: bundle.digest, contentDigest: bundleContentDigest(bundle) });
        return bundle.version;
      };
      v1 = await publish();
      await call({ method: 'POST', url: '/v1/resources', body: [pool('late', { cidr: '172.16.0.0/16', disabled: true })] });
      v2 = await publish();
      const kv = await openNodesBucket(nc.jetstream());
      await putNodeStatus(kv, status('n-sync', { appliedVersion: v2 }));
      await putNodeStatus(kv, status('n-behind', { appliedVersion: v1 }));
      await putNodeStatus(kv, status('n-failed', { appliedVersion: v1, state: 'failed', error: 'bad signature', errorCode: 'BAD_SIGNATURE', failedVersion: v2 }));
      await putNodeStatus(kv, status('n-silent', { appliedVersion: v2, heartbeatAt: new Date(Date.now() - 120_000).toISOString() }));
      const r = await call({ method: 'GET', url: '/v1/rollout', token: READ });
      expect(r.body.desired.version).toBe(v2);
      expect(Object.fromEntries(r.body.nodes.map((n: { node: string; status: string }) => [n.node, n.status]))).toEqual({ 'n-sync': 'in-sync', 'n-behind': 'behind', 'n-failed': 'failed', 'n-silent': 'silent' });
      expect(r.body.summary).toEqual({ total: 4, inSync: 1, behind: 1, failed: 1, silent: 1 });
      expect(r.body.complete).toBe(false);
      expect(r.body.nodes.find((n: { node: string }) => n.node === 'n-failed').error).toBe('bad signature');
    });

    it('lists history newest first and serves one bundle', async () => {
      const h = await call({ method: 'GET', url: '/v1/bundles' });
      expect(h.body.items.map((b: { version: number }) => b.version)).toEqual([v2, v1]);
      const one = await call({ method: 'GET', url: `/v1/bundles/${v1}` });
      expect(one.body.version).toBe(v1);
      expect((await call({ method: 'GET', url: '/v1/bundles/999999' })).status).toBe(404);
    });

    it('explains a flow naming the deciding pools', async () => {
      const e = await call({ method: 'POST', url: '/v1/explain', body: { node: 'n-sync', src: '10.1.3.4', dst: '172.16.5.5' } });
      expect(e.status).toBe(200);
      expect(e.body).toMatchObject({ version: v2, decision: 'none', source: { pool: { name: 'stored' } }, destination: { pool: { name: 'late', disabled: true } } });
      const bad = await call({ method: 'POST', url: '/v1/explain', body: { src: 'nope', dst: '1.1.1.1' } });
      expect(bad).toMatchObject({ status: 422, body: { issues: [{ path: 'src' }] } });
    });

    it('rolls back pools to an earlier version in one transaction (new revision)', async () => {
      const before = await revision();
      const preview = await call({ method: 'POST', url: '/v1/rollback?dryRun=true', body: { version: v1 } });
      expect(preview.body.changes).toEqual([expect.objectContaining({ name: 'late', action: 'deleted' })]);
      expect(await revision()).toBe(before);
      const r = await call({ method: 'POST', url: '/v1/rollback', body: { version: v1 } });
      expect(r.status).toBe(200);
      expect(r.body.revision).toBe(before + 1);
      expect((await call({ method: 'GET', url: '/v1/ippools/late' })).status).toBe(404);
      expect(r.body.nat.v4.noNat.removed).toEqual(['172.16.0.0/16']);
      expect((await call({ method: 'POST', url: '/v1/rollback', body: { version: 0 } })).status).toBe(422);
    });
  });
});
