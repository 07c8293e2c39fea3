// The leader pipeline driven with an in-memory etcd, change feed and stream: list then
// watch, debounce, compile, fence, skip unchanged, survive etcd failures, stop on term end.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeBundle, generateSigningKeyPair, loadSigningKey, loadTrustedKeys } from '@natfleet/bundle';
import { compile } from '@natfleet/compiler-core';
import { DEFAULT_KEY_PREFIX } from '@natfleet/model';
import { AsyncQueue, StoreError, type ChangeEvent, type StoreSnapshot } from '@natfleet/store';
import { BundlePublisher, CompilerMetrics, LeaderPipeline, WarningTracker, type Evaluated } from '../src/index.js';
import { FakeSubject, memoryLogger } from './fakes.js';

const pair = generateSigningKeyPair();
const key = loadSigningKey(pair.privateKeyPem);
const trustedKeys = loadTrustedKeys([pair.publicKeyPem]);
const P = DEFAULT_KEY_PREFIX;
const pool = (name: string, cidr: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name, ...extra }, spec: { cidr, natOutgoing: true } });

/** etcd as the pipeline sees it: revisions, a snapshot, and change feeds. */
class FakeEtcd {
  revision = 1;
  readonly kvs = new Map<string, { value: string; mod: number }>();
  readonly feeds: { from: number; queue: AsyncQueue<ChangeEvent> }[] = [];
  failSnapshots = 0;

  put(key: string, value: string): number {
    this.revision++;
    this.kvs.set(key, { value, mod: this.revision });
    for (const f of this.feeds) f.queue.push({ type: 'change', revision: this.revision, keys: [key] });
    return this.revision;
  }

  emit(e: ChangeEvent): void {
    for (const f of this.feeds) f.queue.push(e);
  }

  snapshot = async (): Promise<StoreSnapshot> => {
    await Promise.resolve();
    if (this.failSnapshots > 0) {
      this.failSnapshots--;
      throw new StoreError('UNAVAILABLE', 'reading snapshot: connection refused', true);
    }
    return { revision: this.revision, entries: [...this.kvs].map(([k, v]) => ({ key: k, value: v.value, modRevision: v.mod, createRevision: v.mod })) };
  };

  feed = (from: number, signal: AbortSignal): AsyncIterable<ChangeEvent> => {
    const queue = new AsyncQueue<ChangeEvent>();
    signal.addEventListener('abort', () => queue.close(), { once: true });
    this.feeds.push({ from, queue });
    return queue;
  };
}

function setup(etcd = new FakeEtcd(), subject = new FakeSubject()) {
  const notes: Evaluated[] = [];
  const metrics = new CompilerMetrics({ withProcessMetrics: false });
  const { logger, lines } = memoryLogger();
  const term = new AbortController();
  const pipeline = new LeaderPipeline({
    snapshot: etcd.snapshot,
    feed: etcd.feed,
    publisher: new BundlePublisher(subject),
    key,
    cluster: 'test',
    prefix: P,
    debounce: { quietMs: 5, maxDelayMs: 20 },
    metrics,
    logger,
    warnings: new WarningTracker(),
    retryMs: 10,
    maxRetryMs: 40,
    evaluations: { note: (e) => notes.push(e) },
  });
  const done = pipeline.run(term.signal);
  const latest = () => {
    const m = subject.last;
    return m && decodeBundle(m.data, { trustedKeys });
  };
  return { etcd, subject, metrics, lines, term, pipeline, done, latest, notes };
}

const settle = { timeout: 5_000, interval: 5 };

describe('LeaderPipeline', () => {
  const terms: AbortController[] = [];
  afterEach(() => terms.splice(0).forEach((t) => t.abort()));

  it('lists at a revision, then watches from the next one and publishes each change', async () => {
    const s = setup();
    terms.push(s.term);
    s.etcd.put(`${P}/ippools/a`, pool('a', '10.1.0.0/16'));
    await vi.waitFor(() => expect(s.etcd.feeds).toHaveLength(1), settle);
    expect(s.etcd.feeds[0]!.from).toBe(s.subject.last!.version + 1);
    const rev = s.etcd.put(`${P}/ippools/b`, pool('b', '10.2.0.0/16'));
    await vi.waitFor(() => expect(s.latest()?.version).toBe(rev), settle);
    expect(s.latest()!.fleet.v4.masquerade).toEqual(['10.1.0.0/16', '10.2.0.0/16']);
    expect(s.pipeline.health).toMatchObject({ watchLive: true, lastCycleOk: true });
  });

  it('a burst becomes a few bundles; the last equals a compile of the final state; versions increase', async () => {
    const s = setup();
    terms.push(s.term);
    await vi.waitFor(() => expect(s.etcd.feeds).toHaveLength(1), settle);
    let rev = 0;
    for (let i = 0; i < 200; i++) {
      rev = s.etcd.put(`${P}/ippools/p${i % 20}`, pool(`p${i % 20}`, `10.${i % 250}.${i % 7}.0/24`));
      if (i % 25 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await vi.waitFor(() => expect(s.latest()?.version).toBe(rev), settle);
    const expected = compile({ entries: (await s.etcd.snapshot()).entries }, rev, { cluster: 'test', prefix: P }).body;
    expect(s.latest()!.fleet).toEqual(expected.fleet);
    const versions = s.subject.messages.map((m) => m.version);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
    expect(versions.length).toBeLessThan(50);
  });

  it('a write that changes nothing enforced publishes nothing; other keys under the prefix do not trigger', async () => {
    const s = setup();
    terms.push(s.term);
    s.etcd.put(`${P}/ippools/a`, pool('a', '10.1.0.0/16'));
    await vi.waitFor(() => expect(s.etcd.feeds).toHaveLength(1), settle);
    const published = s.subject.messages.length;
    s.etcd.put(`${P}/ippools/a`, pool('a', '10.1.0.0/16', { labels: { x: 'y' } }));
    await vi.waitFor(async () => expect((await s.metrics.publishSkipped.get()).values.find((v) => v.labels.reason === 'unchanged')?.value).toBe(1), settle);
    s.etcd.put(`${P}/workloadendpoints/w1`, '{}');
    await new Promise((r) => setTimeout(r, 50));
    expect((await s.metrics.publishSkipped.get()).values.find((v) => v.labels.reason === 'unchanged')?.value).toBe(1);
    expect(s.subject.messages).toHaveLength(published);
  });

  it('notes every evaluated revision with the bundle enforcing it, no-op writes and a new term included', async () => {
    const s = setup();
    terms.push(s.term);
    const v1 = s.etcd.put(`${P}/ippools/a`, pool('a', '10.1.0.0/16'));
    await vi.waitFor(() => expect(s.notes.at(-1)).toEqual({ revision: v1, bundleVersion: v1, bundleDigest: s.subject.last!.digest }), settle);
    // Nothing enforced changes (a label): no bundle, but the revision is evaluated, carried by v1.
    const noop = s.etcd.put(`${P}/ippools/a`, pool('a', '10.1.0.0/16', { labels: { x: 'y' } }));
    await vi.waitFor(() => expect(s.notes.at(-1)).toEqual({ revision: noop, bundleVersion: v1, bundleDigest: s.subject.last!.digest }), settle);
    expect(s.subject.last!.version).toBe(v1);
    // A new leader (new term) at a revision that is the newest bundle itself: evaluated too.
    s.term.abort();
    await s.done;
    const v2 = s.etcd.put(`${P}/ippools/b`, pool('b', '10.2.0.0/16'));
    const next = setup(s.etcd, s.subject);
    terms.push(next.term);
    await vi.waitFor(() => expect(next.notes.at(-1)).toMatchObject({ revision: v2, bundleVersion: v2 }), settle);
    next.term.abort();
    await next.done;
    const again = setup(s.etcd, s.subject);
    terms.push(again.term);
    await vi.waitFor(() => expect(again.notes).toEqual([{ revision: v2, bundleVersion: v2, bundleDigest: s.subject.last!.digest }]), settle);
  });

  it('while etcd fails: unhealthy, the last bundle stays, retries until it converges', async () => {
    const s = setup();
    terms.push(s.term);
    await vi.waitFor(() => expect(s.etcd.feeds).toHaveLength(1), settle);
    const before = s.subject.messages.length;
    s.etcd.failSnapshots = 3;
    s.etcd.emit({ type: 'disconnected', reason: 'etcd down' });
    await vi.waitFor(() => expect(s.pipeline.health.watchLive).toBe(false), settle);
    s.etcd.emit({ type: 'resync', reason: 'watch reconnected' });
    await vi.waitFor(() => expect(s.pipeline.health.lastCycleOk).toBe(false), settle);
    expect(s.subject.messages).toHaveLength(before);
    const rev = s.etcd.put(`${P}/ippools/c`, pool('c', '10.3.0.0/16'));
    await vi.waitFor(() => expect(s.latest()?.version).toBe(rev), settle);
    expect(s.pipeline.health).toMatchObject({ watchLive: true, lastCycleOk: true });
    expect(s.lines.filter((l) => l['level'] === 'warn' && /failed; the last bundle stays published/.test(String(l['msg'])))).toHaveLength(3);
    expect((await s.metrics.etcdResyncs.get()).values[0]?.value).toBe(1);
  });

  it('skipped resources: a bundle warning each, one log line and one count when first seen', async () => {
    const s = setup();
    terms.push(s.term);
    s.etcd.put(`${P}/ippools/bad`, '{not json');
    s.etcd.put(`${P}/ippools/good`, pool('good', '10.9.0.0/16'));
    await vi.waitFor(() => expect(s.latest()?.warnings.map((w) => w.code)).toEqual(['INVALID_JSON']), settle);
    s.etcd.put(`${P}/ippools/good2`, pool('good2', '10.30.0.0/16'));
    await vi.waitFor(() => expect(s.latest()?.fleet.v4.masquerade).toContain('10.30.0.0/16'), settle);
    expect(s.lines.filter((l) => l['msg'] === 'resource skipped or adjusted')).toEqual([
      expect.objectContaining({ level: 'warn', key: `${P}/ippools/bad`, code: 'INVALID_JSON' }),
    ]);
    expect((await s.metrics.skippedResources.get()).values).toEqual([expect.objectContaining({ labels: { code: 'INVALID_JSON' }, value: 1 })]);
  });

  it('stops when the term ends and publishes nothing afterwards', async () => {
    const s = setup();
    await vi.waitFor(() => expect(s.etcd.feeds).toHaveLength(1), settle);
    s.term.abort(new Error('lease lost'));
    await s.done;
    const count = s.subject.messages.length;
    s.etcd.put(`${P}/ippools/late`, pool('late', '10.4.0.0/16'));
    await new Promise((r) => setTimeout(r, 50));
    expect(s.subject.messages).toHaveLength(count);
  });
});
