// Messages on natfleet.bundle.<cluster> that the compiler did not publish, against real
// etcd, nats-server, a real compiler process, a real enforcer running nft in a network
// namespace, and the API: the unsigned Natfleet-Version header of a re-published or forged
// message must never make the compiler skip a write, the enforcer must apply the next
// genuine bundle, and every API view keeps answering, flagging what it skipped.
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { RolloutService, TokenSet, ResourceService, buildApp } from '@natfleet/api';
import { decodeBundle, encodeBundle, generateSigningKeyPair, loadSigningKey, sealBundle, type Bundle } from '@natfleet/bundle';
import { HDR_DIGEST, HDR_VERSION, bundleHistory, bundleSubject } from '@natfleet/bus';
import { EtcdStore } from '@natfleet/store';
import { startEtcd, waitUntil, type EtcdCluster, type ServiceProcess } from '@natfleet/testkit';
import { Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import { headers as natsHeaders } from 'nats';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestKeys, etcdRevision, metric as compilerMetric, nodeKey, poolJson, poolKey, startCompiler } from './compiler-helpers.js';
import { CLUSTER, NODE, metric as enforcerMetric, startEnforcer, startWorld, stopWorld, waitApplied, waitStatus, type World } from './enforcer-world.js';
import { checkApiResponses } from './api-harness.js';

const READ = 'read-token-0123456789';
const HUGE = 9_007_199_254_740_000; // a header version no etcd revision will reach
let genuineAtForgedVersion = true; // set by (b): whether the genuine write landed at the version its forgery claimed

describe('messages the compiler did not publish neither stall publishing nor break the API', () => {
  let w: World;
  let etcd: EtcdCluster;
  let client: Etcd3;
  let keys: TestKeys;
  let compiler: ServiceProcess | undefined;
  let enforcer: ServiceProcess | undefined;
  let app: FastifyInstance;
  const intruder = loadSigningKey(generateSigningKeyPair().privateKeyPem);
  let compilerKeyId = '';

  beforeAll(async () => {
    [w, etcd] = await Promise.all([startWorld(), startEtcd()]);
    client = new Etcd3({ hosts: etcd.endpoints });
    keys = new TestKeys();
    compilerKeyId = [...keys.trusted.keys()][0]!;
    // The enforcer trusts the compiler's key (next to the world's own keys).
    appendFileSync(w.keysFile, createPublicKey(readFileSync(keys.keyFile, 'utf8')).export({ type: 'spki', format: 'pem' }).toString());
    compiler = await startCompiler({ etcdEndpoints: etcd.endpoints, natsUrl: w.nats.url, keys, extraArgs: ['--cluster', CLUSTER] });
    enforcer = await startEnforcer(w);
    await etcd.etcdctl(['put', poolKey('pod-v4'), poolJson('pod-v4', '10.65.0.0/24')]);
    // Quiet from here on: the node is registered, so only the test writes to etcd.
    await waitUntil('node registered', async () => (await client.get(nodeKey(NODE)).string()) !== null, { timeoutMs: 30_000 });
    const b = await newestGenuine();
    await waitApplied(w, (await waitForBundle('pool and node in a bundle', (x) => x.version >= (b?.version ?? 0) && x.fleet.v4.masquerade.includes('10.65.0.0/24'))).version, 30_000);
    const store = new EtcdStore(client);
    app = await buildApp({
      resources: new ResourceService(store),
      rollout: new RolloutService({ js: w.nc.jetstream(), jsm: await w.nc.jetstreamManager(), store, cluster: CLUSTER, silentAfterMs: 30_000, trustedKeys: keys.trusted }),
      tokens: TokenSet.parse(`${READ} read\n`),
      registry: new Registry(),
      readiness: () => ({}),
      logger: pino({ level: 'silent' }),
      bodyLimit: 64 * 1024,
    });
    // Every answer must match the OpenAPI document (app.close() rejects otherwise).
    checkApiResponses(app);
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    await compiler?.stop();
    client?.close();
    await stopWorld(w, enforcer);
    await etcd?.destroy();
    keys?.destroy();
  }, 60_000);

  /** The newest message on the subject whose signature verifies (what an enforcer applies). */
  async function newestGenuine(): Promise<Bundle | undefined> {
    for (const m of (await bundleHistory(w.js, CLUSTER)).reverse()) {
      try {
        return decodeBundle(m.data, { trustedKeys: keys.trusted });
      } catch {
        // not the compiler's
      }
    }
    return undefined;
  }

  async function waitForBundle(what: string, pred: (b: Bundle) => boolean): Promise<Bundle> {
    let found: Bundle | undefined;
    await waitUntil(what, async () => {
      const b = await newestGenuine();
      if (b && pred(b)) found = b;
      return found !== undefined;
    }, { timeoutMs: 20_000, intervalMs: 50 });
    return found!;
  }

  /** A publish by anyone allowed on the subject: any bytes, any headers, its own msg-id. */
  async function publishRaw(data: Uint8Array, version: number, digest: string, msgID: string): Promise<number> {
    const h = natsHeaders();
    h.set(HDR_VERSION, String(version));
    h.set(HDR_DIGEST, digest);
    return (await w.js.publish(bundleSubject(CLUSTER), data, { msgID, headers: h })).seq;
  }

  /** Writes a pool and waits until the compiler's bundle for exactly that write is enforced. */
  async function writeAndExpectEnforced(name: string, cidr: string, expectedRevision?: number): Promise<Bundle> {
    const res = await client.put(poolKey(name)).value(poolJson(name, cidr, { natOutgoing: false })).exec();
    const revision = Number(res.header.revision);
    // The rollout controller's own state writes move etcd's revision too: the write may land
    // past the version the forgery claimed; at or past it, the genuine bundle must win.
    if (expectedRevision !== undefined) expect(revision).toBeGreaterThanOrEqual(expectedRevision);
    const b = await waitForBundle(`bundle v${revision} with ${cidr}`, (x) => x.version >= revision);
    expect(b.version).toBeGreaterThanOrEqual(revision);
    expect(b.fleet.v4.noNat).toContain(cidr);
    expect(b.signature.keyId).toBe(compilerKeyId);
    await waitApplied(w, b.version);
    return b;
  }

  /** What the enforcer noted last as not a genuine bundle (its /status), or null. */
  const lastUnverified = async (): Promise<{ code: string; seq: number; headerVersion: number } | null> =>
    (await enforcer!.getJson<{ lastUnverified: { code: string; seq: number; headerVersion: number } | null }>('/status')).body.lastUnverified;

  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${READ}` } });
    return { status: res.statusCode, body: res.json() as any };
  };

  it('(a) a genuine bundle re-published with a huge Natfleet-Version header: the next write is still published and enforced', async () => {
    const current = (await newestGenuine())!;
    const replay = (await bundleHistory(w.js, CLUSTER)).at(-1)!;
    expect(replay.digest).toBe(current.digest);
    await publishRaw(replay.data, HUGE, current.digest, 'replay-huge');
    await writeAndExpectEnforced('after-replay', '10.70.0.0/16');
    // And every write after that, too.
    await writeAndExpectEnforced('after-replay-2', '10.80.0.0/16');
  });

  it('(b) a forgery claiming the next version does not swallow that write', async () => {
    const next = (await etcdRevision(etcd)) + 1;
    const base = (await newestGenuine())!;
    const forged = sealBundle({ ...base, version: next, sourceRevision: next, fleet: { ...base.fleet, v4: { masquerade: ['0.0.0.0/0'], noNat: [] } } }, intruder);
    const data = encodeBundle({ ...forged, signature: { keyId: compilerKeyId, sig: forged.signature.sig } });
    await publishRaw(data, next, forged.digest, forged.digest);
    // The enforcer refuses it (and keeps its rules), noting it but reporting no failure at v<next>…
    await waitUntil(`forged v${next} refused`, async () => (await lastUnverified())?.headerVersion === next, { timeoutMs: 15_000, intervalMs: 50 });
    expect(await lastUnverified()).toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(await enforcerMetric(enforcer!, 'natfleet_enforcer_rejections_total', { code: 'BAD_SIGNATURE' })).toBe(1);
    expect(await waitStatus(w, 'still applied', (s) => s.appliedVersion === base.version)).toMatchObject({ state: 'applied', failedVersion: 0, errorCode: '' });
    // …and the compiler publishes the real v<next>, which the enforcer applies.
    const b = await writeAndExpectEnforced('after-forgery', '10.90.0.0/16', next);
    expect(b.fleet.v4.masquerade).not.toContain('0.0.0.0/0');
    genuineAtForgedVersion = b.version === next;
  });

  it('(c) garbage and a bad signature on the subject: every API view answers 200 and flags them; the compiler counts and logs each once', async () => {
    const genuine = (await newestGenuine())!;
    const garbageSeq = await publishRaw(new Uint8Array([0x00, 0xff, 0x13, 0x37, 0x42]), HUGE + 1, 'sha256:garbage', 'garbage-1');

    // History: every message listed, newest (the garbage) first, the bad ones flagged.
    const history = await get('/v1/bundles');
    expect(history.status).toBe(200);
    const items = history.body.items as { seq: number; version: number; invalid?: { code: string } }[];
    expect(items[0]).toMatchObject({ seq: garbageSeq, version: HUGE + 1, invalid: { code: 'MALFORMED', message: expect.any(String) } });
    const flagged = items.filter((i) => i.invalid).map((i) => i.invalid!.code);
    expect(flagged.sort()).toEqual(['BAD_SIGNATURE', 'HEADER_MISMATCH', 'MALFORMED']);
    expect(items.find((i) => !i.invalid)).toMatchObject({ version: genuine.version, digest: genuine.digest });

    // One bundle: the genuine one, also under a version a forgery claimed too.
    const one = await get(`/v1/bundles/${genuine.version}`);
    expect(one.status).toBe(200);
    expect(one.body.digest).toBe(genuine.digest);
    const forgedVersion = items.find((i) => i.invalid?.code === 'BAD_SIGNATURE')!.version;
    const sameVersion = await get(`/v1/bundles/${forgedVersion}`);
    // The genuine write usually lands at the version the forgery claimed; when the rollout
    // controller's state write moved etcd's revision first, no genuine bundle has that
    // version and the forgery alone must not be served.
    expect(sameVersion.status).toBe(genuineAtForgedVersion ? 200 : 404);
    if (genuineAtForgedVersion) expect(sameVersion.body.fleet.v4.masquerade).not.toContain('0.0.0.0/0');
    expect((await get(`/v1/bundles/${HUGE + 1}`)).status).toBe(404);

    // Explain and rollout use the newest genuine bundle.
    const ex = await app.inject({ method: 'POST', url: '/v1/explain', headers: { authorization: `Bearer ${READ}`, 'content-type': 'application/json' }, payload: JSON.stringify({ src: '10.65.0.5', dst: '198.51.100.1', node: NODE }) });
    expect(ex.statusCode).toBe(200);
    expect(ex.json()).toMatchObject({ version: genuine.version, decision: 'masquerade' });
    // The enforcer refuses the garbage and notes it, still enforcing the genuine bundle; the
    // garbage's header version is unsigned, so the node is neither failed nor unready, and
    // the rollout stays complete (before: failed at v9e12 until an unrelated write).
    await waitUntil('garbage refused', async () => (await lastUnverified())?.seq === garbageSeq, { timeoutMs: 15_000, intervalMs: 50 });
    expect(await lastUnverified()).toMatchObject({ code: 'MALFORMED', headerVersion: HUGE + 1 });
    expect((await enforcer!.getJson<{ checks: Record<string, { ok: boolean }> }>('/readyz')).status).toBe(200);
    expect(await waitStatus(w, 'still applied', (s) => s.appliedVersion === genuine.version)).toMatchObject({ state: 'applied', failedVersion: 0, errorCode: '' });
    const rollout = await get('/v1/rollout');
    expect(rollout.status).toBe(200);
    expect(rollout.body).toMatchObject({ desired: { version: genuine.version, digest: genuine.digest }, complete: true });
    expect(rollout.body.nodes.find((n: { node: string }) => n.node === NODE)).toMatchObject({ status: 'in-sync', appliedVersion: genuine.version, appliedDigest: genuine.digest, errorCode: '' });
    const status = await get('/v1/status/ippools');
    expect(status.status).toBe(200);
    expect(status.body.version).toBe(genuine.version);

    // The compiler sees the garbage at its next publish (fenced on it) and publishes anyway;
    // the node applies it and the rollout is complete again.
    const after = await writeAndExpectEnforced('after-garbage', '10.110.0.0/16');
    const done = await get('/v1/rollout');
    expect(done.body).toMatchObject({ desired: { version: after.version }, complete: true });
    expect(done.body.nodes.find((n: { node: string }) => n.node === NODE)).toMatchObject({ status: 'in-sync', errorCode: '' });
    for (const reason of ['HEADER_MISMATCH', 'BAD_SIGNATURE', 'MALFORMED']) {
      expect(await compilerMetric(compiler!, 'natfleet_compiler_foreign_messages_total', `reason="${reason}"`), reason).toBe(1);
    }
    const warned = compiler!.logs().filter((l) => l['level'] === 40 && typeof l['reason'] === 'string' && l['headerVersion'] !== undefined);
    expect(warned.map((l) => [l['reason'], l['headerVersion']])).toEqual([
      ['HEADER_MISMATCH', HUGE],
      ['BAD_SIGNATURE', expect.any(Number)],
      ['MALFORMED', HUGE + 1],
    ]);
    expect(warned.find((l) => l['reason'] === 'MALFORMED')!['seq']).toBe(garbageSeq);

    // Without trusted keys the API still skips garbage (digest-only checks).
    const digestOnly = new RolloutService({ js: w.nc.jetstream(), jsm: await w.nc.jetstreamManager(), store: new EtcdStore(client), cluster: CLUSTER, silentAfterMs: 30_000 });
    expect((await digestOnly.history()).filter((i) => 'invalid' in i).map((i) => ('invalid' in i ? i.invalid.code : ''))).toContain('MALFORMED');
  });

  it('(d) a reinstalled node gets the newest genuine bundle although the newest message on the subject is garbage', async () => {
    const genuine = (await newestGenuine())!;
    const garbageSeq = await publishRaw(new Uint8Array([0x13, 0x37, 0x00]), HUGE + 2, 'sha256:garbage-2', 'garbage-2');
    await waitUntil('garbage noted', async () => (await lastUnverified())?.seq === garbageSeq, { timeoutMs: 15_000, intervalMs: 50 });
    // Reinstall: stopped, state dir wiped, started again with nothing saved.
    await enforcer?.stop();
    rmSync(w.stateDir, { recursive: true, force: true });
    enforcer = await startEnforcer(w, [], 'healthz');
    // Before the fix it stayed at v0: the latest message and the last-per-subject consumer only offered the garbage.
    // Its own /status (the KV still holds what the previous incarnation wrote until the first write).
    type Local = { appliedVersion: number; appliedDigest: string; state: string; errorCode: string; reported: { appliedVersion: number } | null };
    let local: Local | undefined;
    await waitUntil(`v${genuine.version} applied and reported by the new process`, async () => {
      local = (await enforcer!.getJson<Local>('/status')).body;
      return local.appliedVersion === genuine.version && local.reported?.appliedVersion === genuine.version;
    }, { timeoutMs: 20_000, intervalMs: 50 }).catch((err: Error) => {
      throw new Error(`${err.message}; last /status: ${JSON.stringify(local)}`);
    });
    expect(local).toMatchObject({ appliedDigest: genuine.digest, state: 'applied', errorCode: '' });
    expect(enforcer.logs().some((l) => l.msg === 'the newest message on the subject is not a genuine bundle: offering the newest genuine one instead')).toBe(true);
    await enforcer.waitReady('readyz', 20_000);
    const rollout = await get('/v1/rollout');
    expect(rollout.body).toMatchObject({ desired: { version: genuine.version }, complete: true });
  });
});
