import { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdCluster } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeFeed, EtcdStore, isStoreError, type ChangeEvent } from '../src/index.js';

const P = '/calico/resources/v3/projectcalico.org';

async function nextMatching(it: AsyncIterator<ChangeEvent>, pred: (e: ChangeEvent) => boolean, ms = 15_000): Promise<ChangeEvent> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error('timed out waiting for feed event');
    const r = await Promise.race([it.next(), new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), left))]);
    if (r === 'timeout') throw new Error('timed out waiting for feed event');
    if (r.done) throw new Error('feed ended');
    if (pred(r.value)) return r.value;
  }
}

describe('EtcdStore against a real etcd', () => {
  let etcd: EtcdCluster;
  let client: Etcd3;
  let store: EtcdStore;
  beforeAll(async () => {
    etcd = await startEtcd();
    client = new Etcd3({ hosts: etcd.endpoints });
    store = new EtcdStore(client);
  });
  afterAll(async () => {
    client?.close();
    await etcd?.destroy();
  });

  it('reads everything under the prefix at one revision, and the past', async () => {
    await etcd.etcdctl(['put', `${P}/ippools/a`, '{"a":1}']);
    await etcd.etcdctl(['put', `${P}/ippools/b`, '{"b":1}']);
    await etcd.etcdctl(['put', '/elsewhere/x', 'no']);
    const s1 = await store.snapshot();
    expect(s1.entries.map((e) => e.key)).toEqual([`${P}/ippools/a`, `${P}/ippools/b`]);
    await etcd.etcdctl(['del', `${P}/ippools/a`]);
    expect((await store.snapshot()).entries).toHaveLength(1);
    expect((await store.snapshot(s1.revision)).entries).toHaveLength(2);
  });

  it('commits several writes all-or-nothing on mod revisions', async () => {
    const b = (await store.get(`${P}/ippools/b`))!;
    const ok = await store.commit([
      { type: 'put', key: `${P}/ippools/b`, value: '{"b":2}', expectedModRevision: b.modRevision },
      { type: 'put', key: `${P}/ippools/c`, value: '{"c":1}', expectedModRevision: 0 },
    ]);
    expect(ok.succeeded).toBe(true);
    // A stale revision on one op fails the whole transaction: c2 must not appear.
    const stale = await store.commit([
      { type: 'put', key: `${P}/ippools/b`, value: '{"b":3}', expectedModRevision: b.modRevision },
      { type: 'put', key: `${P}/ippools/c2`, value: '{}', expectedModRevision: 0 },
    ]);
    expect(stale.succeeded).toBe(false);
    expect(await store.get(`${P}/ippools/c2`)).toBeUndefined();
    expect((await store.get(`${P}/ippools/b`))?.value).toBe('{"b":2}');
    // "must not exist" fails for an existing key.
    expect((await store.commit([{ type: 'put', key: `${P}/ippools/c`, value: 'x', expectedModRevision: 0 }])).succeeded).toBe(false);
    expect(await store.putIfChanged(`${P}/nodes/n1`, '{"n":1}')).toBe(true);
    expect(await store.putIfChanged(`${P}/nodes/n1`, '{"n":1}')).toBe(false);
  });

  it('the change feed reports changes, then resyncs after a compaction and after etcd restarts', async () => {
    const ac = new AbortController();
    const start = (await store.snapshot()).revision;
    const it = changeFeed(() => new Etcd3({ hosts: etcd.endpoints }), P, { fromRevision: start + 1, signal: ac.signal, retryMs: 100 })[Symbol.asyncIterator]();
    try {
      await etcd.etcdctl(['put', `${P}/ippools/d`, '{}']);
      const ev = await nextMatching(it, (e) => e.type === 'change');
      expect(ev).toMatchObject({ type: 'change', keys: [`${P}/ippools/d`] });

      // etcd restart mid-watch: disconnected, then resync once it is back.
      await etcd.stop();
      await nextMatching(it, (e) => e.type === 'disconnected');
      await etcd.startStopped();
      await nextMatching(it, (e) => e.type === 'resync');
      await etcd.etcdctl(['put', `${P}/ippools/e`, '{}']);
      await nextMatching(it, (e) => e.type === 'change' && e.keys.includes(`${P}/ippools/e`));
    } finally {
      ac.abort();
    }

    // A feed asked to start at a compacted revision is canceled by etcd → resync.
    const rev = (await store.snapshot()).revision;
    await etcd.etcdctl(['put', `${P}/ippools/f`, '{}']);
    await etcd.etcdctl(['put', `${P}/ippools/f`, '{"v":2}']);
    await etcd.etcdctl(['compaction', String(rev + 2)]);
    const ac2 = new AbortController();
    const it2 = changeFeed(() => new Etcd3({ hosts: etcd.endpoints }), P, { fromRevision: rev, signal: ac2.signal, retryMs: 100 })[Symbol.asyncIterator]();
    try {
      const ev = await nextMatching(it2, (e) => e.type === 'resync');
      expect(ev).toMatchObject({ type: 'resync', reason: expect.stringMatching(/canceled|compact/i) });
      await etcd.etcdctl(['put', `${P}/ippools/g`, '{}']);
      await nextMatching(it2, (e) => e.type === 'change' && e.keys.includes(`${P}/ippools/g`));
    } finally {
      ac2.abort();
    }
    // Reading a compacted revision is NOT_FOUND, not a crash.
    const err = await store.snapshot(rev).catch((e: unknown) => e);
    expect(isStoreError(err, 'NOT_FOUND')).toBe(true);
  });

  it('a fence lets only one of two writers that read the same snapshot commit', async () => {
    const snap = await store.snapshot();
    const guard = '/natfleet/guards/test';
    const a = await store.commit([{ type: 'put', key: `${P}/ippools/fa`, value: '{}', expectedModRevision: 0 }, { type: 'fence', key: guard, notModifiedAfter: snap.revision }]);
    const b = await store.commit([{ type: 'put', key: `${P}/ippools/fb`, value: '{}', expectedModRevision: 0 }, { type: 'fence', key: guard, notModifiedAfter: snap.revision }]);
    expect([a.succeeded, b.succeeded]).toEqual([true, false]);
    expect(await store.get(`${P}/ippools/fb`)).toBeUndefined();
  });

  it('requests etcd refuses are INVALID (not retryable), not UNAVAILABLE', async () => {
    const future = await store.snapshot(1_000_000).catch((e: unknown) => e);
    expect(isStoreError(future, 'INVALID')).toBe(true);
    const { MAX_TXN_OPS } = await import('../src/index.js');
    const tooMany = Array.from({ length: MAX_TXN_OPS + 1 }, (_, i) => ({ type: 'put' as const, key: `/big/${i}`, value: 'x' }));
    const err = await store.commit(tooMany).catch((e: unknown) => e);
    expect(isStoreError(err, 'INVALID')).toBe(true);
    expect((err as { recoverable: boolean }).recoverable).toBe(false);
  });

  it('reports UNAVAILABLE when etcd is down', async () => {
    const dead = new EtcdStore(new Etcd3({ hosts: 'http://127.0.0.1:1', dialTimeout: 300 }));
    const err = await dead.snapshot().catch((e: unknown) => e);
    expect(isStoreError(err, 'UNAVAILABLE')).toBe(true);
    dead.client.close();
  });
});
