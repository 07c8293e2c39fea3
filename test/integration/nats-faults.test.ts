// NATS faults seen by the API and the compiler (issue "Hardening", items 2 and 3), against
// real nats-server and etcd:
//   - a NATS request that times out (server paused) is a 503 with Retry-After, not a 500;
//   - rollout status orders each node's reports by the KV stream sequence (a lagging
//     replica's older read never wins; a node's clock never decides);
//   - the compiler backs off while JetStream answers 503 (no meta leader), instead of
//     retrying and logging several times a second.
import { ResourceService, RolloutService, TokenSet, buildApp } from '@natfleet/api';
import { bundleContentDigest, encodeBundle, generateSigningKeyPair, loadSigningKey } from '@natfleet/bundle';
import { ensureBundleStream, openNodesBucket, pendingNodeStatus, publishBundle, putNodeStatus } from '@natfleet/bus';
import { compileBundle } from '@natfleet/compiler-core';
import { EtcdStore } from '@natfleet/store';
import { startEtcd, startNats, type EtcdCluster, type NatsCluster } from '@natfleet/testkit';
import { Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import { connect, type NatsConnection } from 'nats';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestKeys, poolJson, poolKey, startCompiler } from './compiler-helpers.js';
import { checkApiResponses } from './api-harness.js';

const TOKEN = 'faults-token-0123456789';

describe('API under NATS faults', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let client: Etcd3;
  let nc: NatsConnection;
  let app: FastifyInstance;
  let store: EtcdStore;

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    client = new Etcd3({ hosts: etcd.endpoints });
    // A short request timeout keeps the paused-server case quick; production uses the default.
    nc = await connect({ servers: nats.url, timeout: 5_000 });
    await ensureBundleStream(await nc.jetstreamManager());
    await openNodesBucket(nc.jetstream());
    store = new EtcdStore(client);
    app = await buildApp({
      resources: new ResourceService(store),
      rollout: new RolloutService({ js: nc.jetstream({ timeout: 1_500 }), jsm: await nc.jetstreamManager({ timeout: 1_500 }), store, cluster: 'default', silentAfterMs: 30_000 }),
      tokens: TokenSet.parse(`${TOKEN} write\n`),
      registry: new Registry(),
      readiness: () => ({}),
      logger: pino({ level: 'silent' }),
      bodyLimit: 64 * 1024,
    });
    // Every answer must match the OpenAPI document (app.close() rejects otherwise).
    checkApiResponses(app);
  }, 60_000);
  afterAll(async () => {
    nats?.nodes[0]?.resume();
    await app?.close();
    await nc?.close().catch(() => undefined);
    client?.close();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
  });

  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: res.statusCode, headers: res.headers, body: res.json() as any };
  };

  it('rollout status orders a node\'s reports by the stream, not by its clock: a node whose clock jumped back still moves forward', async () => {
    const key = loadSigningKey(generateSigningKeyPair().privateKeyPem);
    await client.put(poolKey('p')).value(poolJson('p', '10.60.0.0/16'));
    const snap = await store.snapshot();
    const { bundle } = compileBundle({ entries: snap.entries }, snap.revision, { cluster: 'default', key });
    await publishBundle(nc.jetstream(), { cluster: 'default', data: encodeBundle(bundle), version: bundle.version, digest: bundle.digest, contentDigest: bundleContentDigest(bundle) });
    const kv = await openNodesBucket(nc.jetstream());
    // A report from a node whose clock runs a year ahead…
    await putNodeStatus(kv, pendingNodeStatus('n1', { state: 'applied', appliedVersion: bundle.version - 1, heartbeatAt: new Date(Date.now() + 365 * 86_400_000).toISOString() }));
    expect((await get('/v1/rollout')).body.nodes[0].appliedVersion).toBe(bundle.version - 1);
    // …then, clock fixed (or node reinstalled), its next report: newer in the stream, older by its clock.
    await putNodeStatus(kv, pendingNodeStatus('n1', { state: 'applied', appliedVersion: bundle.version, heartbeatAt: new Date().toISOString() }));
    const r = await get('/v1/rollout');
    expect(r.body.nodes[0].appliedVersion).toBe(bundle.version);
    expect(r.body.nodes[0].status).toBe('in-sync');
    // (A read served by a replica that has not caught up carries a lower stream sequence and
    // is ignored: MonotonicNodeStatuses' unit tests, packages/bus/test/monotonic.test.ts.)
  });

  it('a NATS request that times out is a 503 with Retry-After and {code, message}, not a 500', async () => {
    nats.nodes[0]!.pause();
    try {
      for (const url of ['/v1/rollout', '/v1/bundles', '/v1/status/ippools']) {
        const r = await get(url);
        expect(r.status, `${url}: ${JSON.stringify(r.body)}`).toBe(503);
        expect(r.headers['retry-after'], url).toBe('2');
        expect(r.body.code).toBe('UNAVAILABLE');
        expect(r.body.message).toMatch(/unavailable|took longer|timeout/i);
      }
    } finally {
      nats.nodes[0]!.resume();
    }
    // And it recovers by itself.
    expect((await get('/v1/rollout')).status).toBe(200);
  }, 60_000);
});

describe('compiler while JetStream answers 503', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let keys: TestKeys;

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    keys = new TestKeys();
  }, 120_000);
  afterAll(async () => {
    keys?.destroy();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
  }, 60_000);

  it('backs off (bounded retries and log lines) while every publish gets an immediate 503, even with etcd changing 10 times a second', async () => {
    const compiler = await startCompiler({ etcdEndpoints: etcd.endpoints, natsUrl: nats.url, keys, extraArgs: ['--log-level', 'info'] });
    const client = new Etcd3({ hosts: etcd.endpoints });
    const nc = await connect({ servers: nats.url });
    try {
      await client.put(poolKey('a')).value(poolJson('a', '10.61.0.0/16'));
      await compiler.proc.waitForLine(/bundle published/, 30_000);
      // No stream behind the subject: JetStream answers every publish at once with 503 (no responders).
      await (await nc.jetstreamManager()).streams.delete('NATFLEET_BUNDLES');
      const before = compiler.proc.output().length;
      const t0 = Date.now();
      for (let i = 0; Date.now() - t0 < 6_000; i++) {
        await client.put(poolKey(`b${i % 20}`)).value(poolJson(`b${i % 20}`, `10.${100 + (i % 20)}.0.0/16`));
        await new Promise((r) => setTimeout(r, 100));
      }
      const lines = compiler.proc.output().slice(before).filter((l) => /failed; the last bundle stays published, retrying/.test(l));
      // 200 ms doubling to 5 s allows ~6 attempts in 6 s; one per etcd change would be ~60.
      expect(lines.length, lines.slice(0, 5).join('\n')).toBeLessThanOrEqual(8);
      expect(lines.length).toBeGreaterThan(0);
    } finally {
      await nc.close();
      client.close();
      await compiler.stop();
    }
  }, 120_000);
});
