// Messages on the bundle subject that the compiler did not publish — garbage, forgeries,
// genuine bundles re-published under altered headers — must never decide what it
// publishes: it takes version and content only from bundles its own key signed, fences on
// the subject's real last seq, and reports each foreign message once.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bundleContentDigest, decodeBundle, encodeBundle, generateSigningKeyPair, loadSigningKey, sealBundle, type Bundle } from '@natfleet/bundle';
import type { StoredBundle } from '@natfleet/bus';
import { compileBundle } from '@natfleet/compiler-core';
import { DEFAULT_KEY_PREFIX } from '@natfleet/model';
import { AsyncQueue, type ChangeEvent, type StoreSnapshot } from '@natfleet/store';
import {
  BundlePublisher,
  CompilerMetrics,
  ForeignMessageTracker,
  LeaderPipeline,
  WarningTracker,
  judgeMessage,
  ownKeys,
  subjectState,
  type Candidate,
  type ForeignMessage,
} from '../src/index.js';
import { SignedSubject, memoryLogger } from './fakes.js';

const CLUSTER = 'test';
const P = DEFAULT_KEY_PREFIX;
const key = loadSigningKey(generateSigningKeyPair().privateKeyPem);
const intruder = loadSigningKey(generateSigningKeyPair().privateKeyPem);
const keys = ownKeys(key);
const live = new AbortController().signal;
const HUGE = 9_007_199_254_740_000; // a header version no etcd revision will reach

const pool = (name: string, cidr: string): string =>
  JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, natOutgoing: true } });
const bundleOf = (version: number, cidr = `10.${version % 250}.0.0/16`): Bundle =>
  compileBundle({ entries: [{ key: `${P}/ippools/p`, value: pool('p', cidr) }] }, version, { cluster: CLUSTER, prefix: P, key }).bundle;
const candidate = (b: Bundle): Candidate => ({ version: b.version, digest: b.digest, contentDigest: bundleContentDigest(b), data: encodeBundle(b) });
const stored = (seq: number, data: Uint8Array, version: number, digest: string): StoredBundle => ({ seq, time: new Date(1_000 + seq), data, version, digest, contentDigest: '' });
const storedBundle = (seq: number, b: Bundle): StoredBundle => stored(seq, encodeBundle(b), b.version, b.digest);
/** Sealed by another key but claiming ours: what a forger without the private key can do. */
const forgedUnderOurKeyId = (version: number): Uint8Array => {
  const f = sealBundle({ ...bundleOf(version, '0.0.0.0/0') }, intruder);
  return encodeBundle({ ...f, signature: { keyId: key.keyId, sig: f.signature.sig } });
};
const garbage = new Uint8Array([0x00, 0xff, 0x13, 0x37]);

describe('judgeMessage: only our signed bundles under truthful headers count', () => {
  const judge = (m: StoredBundle) => judgeMessage(m, { trustedKeys: keys, cluster: CLUSTER });

  it('a bundle we published is genuine, with version and content digest from its body', () => {
    const b = bundleOf(7);
    expect(judge(storedBundle(1, b))).toEqual({ type: 'genuine', version: 7, digest: b.digest, contentDigest: bundleContentDigest(b) });
  });

  it.each([
    ['garbage bytes', () => stored(1, garbage, 8, 'x'), 'MALFORMED'],
    ['a forged signature under our key id', () => stored(1, forgedUnderOurKeyId(8), 8, 'x'), 'BAD_SIGNATURE'],
    ['a bundle signed by another key', () => storedBundle(1, sealBundle(bundleOf(8), intruder)), 'UNKNOWN_KEY'],
    ['a body changed after sealing', () => stored(1, encodeBundle({ ...bundleOf(8), sourceRevision: 99 }), 8, 'x'), 'BAD_DIGEST'],
    ['our bundle for another cluster', () => storedBundle(1, sealBundle({ ...bundleOf(8), cluster: 'other' }, key)), 'WRONG_CLUSTER'],
    ['our bundle re-published with a huge header version', () => stored(1, encodeBundle(bundleOf(8)), HUGE, bundleOf(8).digest), 'HEADER_MISMATCH'],
    ['our bundle re-published under another digest header', () => stored(1, encodeBundle(bundleOf(8)), 8, 'sha256:other'), 'HEADER_MISMATCH'],
  ])('%s → foreign %s', (_what, make, reason) => {
    expect(judge(make())).toMatchObject({ type: 'foreign', reason, detail: expect.any(String) });
  });
});

describe('subjectState: fence on the real last seq, decide on the newest genuine bundle', () => {
  const judge = (m: StoredBundle) => judgeMessage(m, { trustedKeys: keys, cluster: CLUSTER });

  it('foreign messages after our bundle move the fence, not the version', () => {
    const b5 = bundleOf(5);
    const s = subjectState([storedBundle(1, bundleOf(3)), storedBundle(2, b5), stored(3, encodeBundle(b5), HUGE, b5.digest), stored(4, forgedUnderOurKeyId(6), 6, 'f'), stored(5, garbage, HUGE, 'g')], judge);
    expect(s).toMatchObject({ seq: 5, version: 5, digest: b5.digest, contentDigest: bundleContentDigest(b5) });
    expect(s.foreign.map((f) => [f.seq, f.headerVersion, f.reason])).toEqual([
      [3, HUGE, 'HEADER_MISMATCH'],
      [4, 6, 'BAD_SIGNATURE'],
      [5, HUGE, 'MALFORMED'],
    ]);
  });

  it('the highest genuine version wins, even when an older genuine bundle was replayed after it', () => {
    const b3 = bundleOf(3);
    expect(subjectState([storedBundle(1, b3), storedBundle(2, bundleOf(9)), storedBundle(3, b3)], judge)).toMatchObject({ seq: 3, version: 9 });
  });

  it('only foreign messages: nothing published as far as decisions go, but fenced on the last seq', () => {
    expect(subjectState([stored(1, garbage, HUGE, 'g')], judge)).toMatchObject({ seq: 1, version: 0, digest: '', contentDigest: '' });
    expect(subjectState([], judge)).toEqual({ seq: 0, version: 0, digest: '', contentDigest: '', foreign: [] });
  });
});

describe('BundlePublisher with foreign messages on the subject', () => {
  it('a genuine bundle re-published with a huge header version: the next bundle is still published', async () => {
    const subject = new SignedSubject(keys, CLUSTER);
    const p = new BundlePublisher(subject);
    const b5 = bundleOf(5);
    await p.publish(candidate(b5), live);
    subject.injectRaw(encodeBundle(b5), { version: HUGE, digest: b5.digest }); // not deduplicated: its own msg-id
    expect(await p.publish(candidate(bundleOf(6)), live)).toEqual({ type: 'published', seq: 3, duplicate: false });
    expect(p.state).toMatchObject({ seq: 3, version: 6 });
    expect(p.isStale(7)).toBe(false);
  });

  it('a forgery claiming the next version does not swallow it; an unchanged one after it is still skipped', async () => {
    const subject = new SignedSubject(keys, CLUSTER);
    const foreign: ForeignMessage[][] = [];
    const p = new BundlePublisher(subject, 5, (f) => foreign.push([...f]));
    await p.publish(candidate(bundleOf(5)), live);
    subject.injectRaw(forgedUnderOurKeyId(6), { version: 6, digest: 'sha256:forged' });
    expect(await p.publish(candidate(bundleOf(6)), live)).toEqual({ type: 'published', seq: 3, duplicate: false });
    expect(decodeBundle(subject.last!.data, { trustedKeys: keys }).version).toBe(6);
    expect(foreign.at(-1)?.map((f) => f.reason)).toEqual(['BAD_SIGNATURE']);
    // Content decisions still work against our own newest bundle, fencing against the real last seq.
    subject.injectRaw(garbage, { version: HUGE, digest: 'g' });
    await p.refresh();
    expect(p.state).toMatchObject({ seq: 4, version: 6 });
    expect(await p.publish(candidate(bundleOf(7, '10.6.0.0/16')), live)).toEqual({ type: 'skipped', reason: 'unchanged' });
    expect(await p.publish(candidate(bundleOf(8)), live)).toEqual({ type: 'published', seq: 5, duplicate: false });
  });

  it('with only foreign messages left it publishes at once, fenced on the last of them', async () => {
    const subject = new SignedSubject(keys, CLUSTER);
    subject.injectRaw(garbage, { version: HUGE, digest: 'g' });
    const p = new BundlePublisher(subject);
    await p.refresh();
    expect(p.isStale(4)).toBe(false);
    expect(await p.publish(candidate(bundleOf(4)), live)).toEqual({ type: 'published', seq: 2, duplicate: false });
  });
});

describe('ForeignMessageTracker', () => {
  it('logs and counts each foreign message once, however often the subject is re-read', async () => {
    const metrics = new CompilerMetrics({ withProcessMetrics: false });
    const { logger, lines } = memoryLogger();
    const t = new ForeignMessageTracker();
    const m = (seq: number, reason: ForeignMessage['reason']): ForeignMessage => ({ seq, time: new Date(seq), headerVersion: HUGE, reason, detail: 'd' });
    expect(t.update([m(3, 'MALFORMED')], logger, metrics)).toHaveLength(1);
    expect(t.update([m(3, 'MALFORMED'), m(4, 'BAD_SIGNATURE')], logger, metrics).map((f) => f.seq)).toEqual([4]);
    expect(t.update([m(3, 'MALFORMED'), m(4, 'BAD_SIGNATURE')], logger, metrics)).toEqual([]);
    expect(lines.filter((l) => l['level'] === 'warn').map((l) => [l['seq'], l['reason'], l['headerVersion']])).toEqual([
      [3, 'MALFORMED', HUGE],
      [4, 'BAD_SIGNATURE', HUGE],
    ]);
    const values = (await metrics.foreignMessages.get()).values.map((v) => [v.labels.reason, v.value]);
    expect(values).toEqual([
      ['MALFORMED', 1],
      ['BAD_SIGNATURE', 1],
    ]);
  });
});

describe('LeaderPipeline with foreign messages on the subject', () => {
  const terms: AbortController[] = [];
  afterEach(() => terms.splice(0).forEach((t) => t.abort()));
  const settle = { timeout: 5_000, interval: 5 };

  function setup() {
    let revision = 1;
    const kvs = new Map<string, { value: string; mod: number }>();
    const feeds: AsyncQueue<ChangeEvent>[] = [];
    const put = (k: string, value: string): number => {
      revision++;
      kvs.set(k, { value, mod: revision });
      for (const q of feeds) q.push({ type: 'change', revision, keys: [k] });
      return revision;
    };
    const subject = new SignedSubject(keys, CLUSTER);
    const metrics = new CompilerMetrics({ withProcessMetrics: false });
    const { logger, lines } = memoryLogger();
    const tracker = new ForeignMessageTracker();
    const term = new AbortController();
    terms.push(term);
    const pipeline = new LeaderPipeline({
      snapshot: async (): Promise<StoreSnapshot> => ({ revision, entries: [...kvs].map(([k, v]) => ({ key: k, value: v.value, modRevision: v.mod, createRevision: v.mod })) }),
      feed: (_from, signal) => {
        const q = new AsyncQueue<ChangeEvent>();
        signal.addEventListener('abort', () => q.close(), { once: true });
        feeds.push(q);
        return q;
      },
      publisher: new BundlePublisher(subject, 5, (f) => tracker.update(f, logger, metrics)),
      key,
      cluster: CLUSTER,
      prefix: P,
      debounce: { quietMs: 2, maxDelayMs: 10 },
      metrics,
      logger,
      warnings: new WarningTracker(),
      retryMs: 10,
      maxRetryMs: 40,
    });
    void pipeline.run(term.signal);
    /** The newest message that verifies (what an enforcer ends up applying). */
    const newestGenuine = (): Bundle | undefined => {
      for (const m of [...subject.messages].reverse()) {
        try {
          return decodeBundle(m.data, { trustedKeys: keys });
        } catch {
          // foreign
        }
      }
      return undefined;
    };
    return { put, subject, metrics, lines, feeds, newestGenuine };
  }

  it('huge header versions, forgeries of the next version and garbage never swallow a write', async () => {
    const s = setup();
    await vi.waitFor(() => expect(s.feeds).toHaveLength(1), settle);
    let rev = s.put(`${P}/ippools/a`, pool('a', '10.1.0.0/16'));
    await vi.waitFor(() => expect(s.newestGenuine()?.version).toBe(rev), settle);

    // (a) our own bundle re-published with a huge header version
    const last = s.subject.last!;
    s.subject.injectRaw(last.data, { version: HUGE, digest: last.digest });
    rev = s.put(`${P}/ippools/b`, pool('b', '10.2.0.0/16'));
    await vi.waitFor(() => expect(s.newestGenuine()?.version).toBe(rev), settle);

    // (b) a forgery claiming exactly the next revision
    s.subject.injectRaw(forgedUnderOurKeyId(rev + 1), { version: rev + 1, digest: 'sha256:forged' });
    rev = s.put(`${P}/ippools/c`, pool('c', '10.3.0.0/16'));
    await vi.waitFor(() => expect(s.newestGenuine()?.version).toBe(rev), settle);
    expect(s.subject.last!.version).toBe(rev);

    // garbage, then two more writes: each published, the garbage reported once
    s.subject.injectRaw(garbage, { version: HUGE, digest: 'g' });
    for (const name of ['d', 'e']) {
      rev = s.put(`${P}/ippools/${name}`, pool(name, `10.${name === 'd' ? 4 : 5}.0.0/16`));
      await vi.waitFor(() => expect(s.newestGenuine()?.version).toBe(rev), settle);
    }
    expect(s.newestGenuine()!.fleet.v4.masquerade).toEqual(['10.1.0.0/16', '10.2.0.0/15', '10.4.0.0/15']); // minimal CIDR lists
    const warned = s.lines.filter((l) => l['level'] === 'warn' && typeof l['reason'] === 'string' && l['headerVersion'] !== undefined);
    expect(warned.map((l) => l['reason'])).toEqual(['HEADER_MISMATCH', 'BAD_SIGNATURE', 'MALFORMED']);
    const counted = Object.fromEntries((await s.metrics.foreignMessages.get()).values.map((v) => [v.labels.reason, v.value]));
    expect(counted).toEqual({ HEADER_MISMATCH: 1, BAD_SIGNATURE: 1, MALFORMED: 1 });
    expect((await s.metrics.lastPublishedVersion.get()).values[0]?.value).toBe(rev);
  });
});
