import { startNats, type NatsCluster } from '@natfleet/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useNatsServer } from './nats-fixture.js';
import {
  BUNDLE_STREAM,
  bundleAfter,
  bundleHistory,
  bundleSubject,
  decodeNodeStatus,
  ensureBundleStream,
  followBundles,
  isBusError,
  latestBundle,
  openNodesBucket,
  pendingNodeStatus,
  publishBundle,
  putNodeStatus,
  readNodeStatuses,
  readNodeStatusSnapshot,
  READ_CONSUMER_IDLE_MS,
  NODES_STREAM,
  watchNodeStatuses,
  type FollowEvent,
  type NodeStatus,
} from '../src/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const status = (node: string, over: Partial<NodeStatus> = {}): NodeStatus =>
  pendingNodeStatus(node, { cluster: 'c1', labels: { zone: 'a' }, addresses: ['192.0.2.1'], enforcerVersion: 'test', ...over });

describe('bus against a real nats-server', () => {
  const server = useNatsServer();
  let nc: NatsConnection;
  let nats: NatsCluster;
  beforeAll(() => {
    nc = server.nc();
    nats = server.nats();
  });

  it('creates the stream once and is idempotent; updates drifted settings', async () => {
    const jsm = await nc.jetstreamManager();
    await ensureBundleStream(jsm);
    await ensureBundleStream(jsm);
    expect((await jsm.streams.info(BUNDLE_STREAM)).config.max_msgs_per_subject).toBe(20);
    await ensureBundleStream(jsm, { historyPerSubject: 5 });
    const cfg = (await jsm.streams.info(BUNDLE_STREAM)).config;
    expect(cfg.max_msgs_per_subject).toBe(5);
    expect(cfg.duplicate_window).toBeGreaterThanOrEqual(120e9);
  });

  it('refuses to take over a foreign stream with the same name', async () => {
    const other = await startNats();
    const nc2 = await connect({ servers: other.url });
    try {
      const jsm = await nc2.jetstreamManager();
      await jsm.streams.add({ name: BUNDLE_STREAM, subjects: ['someone.else'] });
      const err = await ensureBundleStream(jsm).catch((e: unknown) => e);
      expect(isBusError(err, 'STREAM_CONFLICT')).toBe(true);
    } finally {
      await nc2.close();
      await other.destroy();
    }
  });

  it('publishes with msg-id dedupe, reads the latest, and fences stale publishers', async () => {
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    expect(await latestBundle(jsm, 'c1')).toBeUndefined();
    const p1 = await publishBundle(js, { cluster: 'c1', data: enc('b1'), version: 10, digest: 'sha256:01', contentDigest: 'c1', expectedLastSubjectSequence: 0 });
    expect(p1.duplicate).toBe(false);
    const again = await publishBundle(js, { cluster: 'c1', data: enc('b1'), version: 10, digest: 'sha256:01', contentDigest: 'c1' });
    expect(again).toEqual({ seq: p1.seq, duplicate: true });
    const latest = await latestBundle(jsm, 'c1');
    expect(latest).toMatchObject({ seq: p1.seq, version: 10, digest: 'sha256:01', contentDigest: 'c1' });
    expect(new TextDecoder().decode(latest!.data)).toBe('b1');
    // A publisher that read an older sequence is fenced off.
    const p2 = await publishBundle(js, { cluster: 'c1', data: enc('b2'), version: 11, digest: 'sha256:02', contentDigest: 'c2', expectedLastSubjectSequence: p1.seq });
    const stale = await publishBundle(js, { cluster: 'c1', data: enc('b3'), version: 12, digest: 'sha256:03', contentDigest: 'c3', expectedLastSubjectSequence: p1.seq }).catch((e: unknown) => e);
    expect(isBusError(stale, 'PUBLISH_FENCED')).toBe(true);
    expect((await latestBundle(jsm, 'c1'))?.seq).toBe(p2.seq);
    // Other clusters are separate subjects.
    expect(await latestBundle(jsm, 'c2')).toBeUndefined();
    expect(() => bundleSubject('bad.name')).toThrow(RangeError);
  });

  it('lists history oldest first', async () => {
    const h = await bundleHistory(nc.jetstream(), 'c1');
    expect(h.map((b) => b.version)).toEqual([10, 11]);
  });

  it('follows: the latest first, then new bundles as they come', async () => {
    const js = nc.jetstream();
    const ac = new AbortController();
    const seen: number[] = [];
    const done = (async () => {
      for await (const b of followBundles(js, 'c1', ac.signal)) {
        seen.push(b.version);
        if (seen.length === 3) ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    await publishBundle(js, { cluster: 'c1', data: enc('b4'), version: 14, digest: 'sha256:04', contentDigest: 'c4' });
    await publishBundle(js, { cluster: 'c2', data: enc('x'), version: 99, digest: 'sha256:99', contentDigest: 'x' });
    await publishBundle(js, { cluster: 'c1', data: enc('b5'), version: 15, digest: 'sha256:05', contentDigest: 'c5' });
    await done;
    expect(seen).toEqual([11, 14, 15]);
  });

  it('bundleAfter: the oldest bundle of the cluster at or past a sequence; undefined past the last', async () => {
    const jsm = await nc.jetstreamManager();
    const latest = (await latestBundle(jsm, 'c1'))!;
    expect((await bundleAfter(jsm, 'c1', 0))?.version).toBe(10);
    expect((await bundleAfter(jsm, 'c1', latest.seq - 1))?.version).toBe(15); // c2's v99 sits in between
    expect((await bundleAfter(jsm, 'c1', latest.seq))?.version).toBe(15);
    expect(await bundleAfter(jsm, 'c1', latest.seq + 1)).toBeUndefined();
    expect(await bundleAfter(jsm, 'nobody', 1)).toBeUndefined();
  });

  it('follow reports the consumer it created (R1, in memory, removed when idle) and keeps its idle heartbeats; an aborted signal yields nothing', async () => {
    const events: FollowEvent[] = [];
    const ac = new AbortController();
    const seen: number[] = [];
    for await (const b of followBundles(nc.jetstream(), 'c1', { signal: ac.signal, idleHeartbeatMs: 200, onEvent: (e) => events.push(e) })) {
      seen.push(b.version);
      await new Promise((r) => setTimeout(r, 1_000)); // five heartbeats: none missed
      ac.abort();
    }
    expect(seen).toEqual([15]);
    const created = events.find((e) => e.type === 'consumer_created');
    expect(created).toMatchObject({ consumer: expect.any(String) });
    expect(events.filter((e) => e.type === 'heartbeats_missed' || e.type === 'consumer_lost')).toEqual([]);
    // Left for the server to remove once idle (clients need no CONSUMER.DELETE).
    const name = created?.type === 'consumer_created' ? created.consumer : '';
    const info = await (await nc.jetstreamManager()).consumers.info(BUNDLE_STREAM, name);
    expect(info.config).toMatchObject({ num_replicas: 1, mem_storage: true, inactive_threshold: 5 * 60e9 });
    for await (const b of followBundles(nc.jetstream(), 'c1', ac.signal)) throw new Error(`yielded v${b.version} after abort`);
  });

  it('follow replaces a consumer deleted under it, resuming after the last bundle (no repeat, no gap)', async () => {
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const created: string[] = [];
    const ac = new AbortController();
    const seen: number[] = [];
    const done = (async () => {
      const onEvent = (e: FollowEvent): void => void (e.type === 'consumer_created' && created.push(e.consumer));
      for await (const b of followBundles(js, 'c1', { signal: ac.signal, idleHeartbeatMs: 200, onEvent })) {
        seen.push(b.version);
        if (seen.length === 1) {
          await jsm.consumers.delete(BUNDLE_STREAM, created[0]!);
          await publishBundle(js, { cluster: 'c1', data: enc('b6'), version: 16, digest: 'sha256:06', contentDigest: 'c6' });
        }
        if (seen.length === 2) ac.abort();
      }
    })();
    await done;
    expect(seen).toEqual([15, 16]);
    expect(created).toHaveLength(2);
  });

  it('node status: put, read all, watch changes; malformed values are skipped', async () => {
    const js = nc.jetstream();
    const kv = await openNodesBucket(js);
    const bound = await openNodesBucket(js, { bindOnly: true });
    await putNodeStatus(kv, status('node-b'));
    await putNodeStatus(bound, status('node-a', { state: 'applied', appliedVersion: 11 }));
    await kv.put('garbage', enc('{not json'));
    expect((await readNodeStatuses(js)).map((s) => [s.node, s.state])).toEqual([
      ['node-a', 'applied'],
      ['node-b', 'pending'],
    ]);
    const ac = new AbortController();
    const events: string[] = [];
    const done = (async () => {
      for await (const e of watchNodeStatuses(kv, ac.signal)) {
        events.push(e.type === 'put' ? `put:${e.status.node}:${e.status.appliedVersion}` : `del:${e.node}`);
        if (events.includes('del:node-b')) ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    await putNodeStatus(kv, status('node-a', { appliedVersion: 14, state: 'applied' }));
    await kv.delete('node-b');
    await done;
    expect(events).toEqual(expect.arrayContaining(['put:node-a:11', 'put:node-b:0', 'put:node-a:14', 'del:node-b']));
    expect((await readNodeStatuses(js)).map((s) => s.node)).toEqual(['node-a']);
    expect(decodeNodeStatus(enc('[]'))).toBeUndefined();
    await expect(putNodeStatus(kv, status('bad name'))).rejects.toThrow(RangeError);
  });

  it('a status read leaves no long-lived consumer behind (readers may not delete consumers)', async () => {
    const js = nc.jetstream();
    await putNodeStatus(await openNodesBucket(js), status('node-c'));
    const snap = await readNodeStatusSnapshot(js);
    expect(snap.seq?.get('node-c')).toBeGreaterThan(0);
    const jsm = await nc.jetstreamManager();
    const consumers = await jsm.consumers.list(NODES_STREAM).next();
    expect(consumers.length).toBeGreaterThan(0);
    // nats.js's default would be 300 s; the one-shot read asks the server to drop it after 10 s idle.
    for (const c of consumers) expect(c.config.inactive_threshold).toBeLessThanOrEqual(READ_CONSUMER_IDLE_MS * 1_000_000);
    // The history read (API /v1/bundles, the compiler's refresh) likewise.
    await bundleHistory(js, 'default');
    for (const c of await jsm.consumers.list(BUNDLE_STREAM).next()) {
      if (c.config.durable_name === undefined && c.config.deliver_policy === 'all') expect(c.config.inactive_threshold, c.name).toBeLessThanOrEqual(READ_CONSUMER_IDLE_MS * 1_000_000);
    }
  });

  it('bindOnly fails clearly when the bucket does not exist', async () => {
    const other = await startNats();
    const nc2 = await connect({ servers: other.url });
    try {
      const err = await openNodesBucket(nc2.jetstream(), { bindOnly: true }).catch((e: unknown) => e);
      expect(isBusError(err, 'UNAVAILABLE')).toBe(true);
    } finally {
      await nc2.close();
      await other.destroy();
    }
  });
});
