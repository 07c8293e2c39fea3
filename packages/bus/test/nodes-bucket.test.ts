// The natfleet-nodes bucket against a real nats-server: created with rollups refused (so
// no writer can erase other keys with `Nats-Rollup: all`), an existing bucket fixed in
// place, otherwise the same stream nats.js would make, and dotted node names as keys.
import { startNats, type NatsCluster } from '@natfleet/testkit';
import { connect, headers, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useNatsServer } from './nats-fixture.js';
import { NODES_BUCKET, NODES_STREAM, deleteNodeStatus, openNodesBucket, pendingNodeStatus, putNodeStatus, readNodeStatusSnapshot, readNodeStatuses, watchNodeStatuses, type NodeStatusEvent } from '../src/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const DOTTED = 'ip-10-0-0-5.ec2.internal';

describe('natfleet-nodes bucket', () => {
  const server = useNatsServer();
  let nc: NatsConnection;
  let nats: NatsCluster;
  beforeAll(() => {
    nc = server.nc();
    nats = server.nats();
  });

  const rollup = (key: string, how: 'all' | 'sub'): Promise<unknown> => {
    const h = headers();
    h.set('Nats-Rollup', how);
    return nc.jetstream().publish(`$KV.${NODES_BUCKET}.${key}`, enc('{}'), { headers: h, timeout: 2_000 });
  };

  it('is the stream nats.js makes for a history-1 bucket, but refuses rollups', async () => {
    const jsm = await nc.jetstreamManager();
    await openNodesBucket(nc.jetstream());
    await nc.jetstream().views.kv('reference', { history: 1 });
    const ours = (await jsm.streams.info(NODES_STREAM)).config;
    const ref = (await jsm.streams.info('KV_reference')).config;
    const { name: _a, subjects, allow_rollup_hdrs: rollups, ...rest } = ours;
    const { name: _b, subjects: refSubjects, allow_rollup_hdrs: refRollups, ...refRest } = ref;
    expect(rest).toEqual(refRest);
    expect(subjects).toEqual([`$KV.${NODES_BUCKET}.>`]);
    expect(refSubjects).toEqual(['$KV.reference.>']);
    expect([rollups, refRollups]).toEqual([false, true]);
    await jsm.streams.delete('KV_reference');
  });

  it('a rollup on one key is refused and every other key survives; deletes still work', async () => {
    const kv = await openNodesBucket(nc.jetstream());
    for (const n of ['node-a', 'node-b', DOTTED]) await putNodeStatus(kv, pendingNodeStatus(n));
    await expect(rollup('node-a', 'all')).rejects.toThrow(/rollup not permitted/i);
    await expect(rollup('node-a', 'sub')).rejects.toThrow(/rollup not permitted/i);
    expect((await readNodeStatuses(nc.jetstream())).map((s) => s.node)).toEqual([DOTTED, 'node-a', 'node-b']);
    await kv.delete('node-b');
    expect((await readNodeStatuses(nc.jetstream())).map((s) => s.node)).toEqual([DOTTED, 'node-a']);
  });

  it('deleteNodeStatus: a delete marker (idempotent); with previousRevision only if the key did not move; the watch carries revision and server time', async () => {
    const kv = await openNodesBucket(nc.jetstream());
    const before = Date.now() - 1_000;
    await putNodeStatus(kv, pendingNodeStatus('gone-1'));
    const ac = new AbortController();
    const events: NodeStatusEvent[] = [];
    const watching = (async () => {
      for await (const e of watchNodeStatuses(kv, ac.signal)) {
        if ((e.type === 'put' ? e.status.node : e.node) !== 'gone-1') continue;
        events.push(e);
        if (e.type === 'delete') ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    const put = events.find((e) => e.type === 'put')!;
    expect(put.revision).toBeGreaterThan(0);
    expect(put.storedAt.getTime()).toBeGreaterThan(before);
    await putNodeStatus(kv, pendingNodeStatus('gone-1', { appliedVersion: 2 })); // the node spoke again
    expect(await deleteNodeStatus(kv, 'gone-1', { previousRevision: put.revision })).toBe(false);
    expect((await readNodeStatuses(nc.jetstream())).map((s) => s.node)).toContain('gone-1');
    const current = (await kv.get('gone-1'))!.revision;
    expect(await deleteNodeStatus(kv, 'gone-1', { previousRevision: current })).toBe(true);
    await watching;
    expect(events.at(-1)).toMatchObject({ type: 'delete', node: 'gone-1', revision: current + 1 });
    const snap = await readNodeStatusSnapshot(nc.jetstream());
    expect(snap.deleted).toContain('gone-1');
    expect(snap.statuses.map((s) => s.node)).not.toContain('gone-1');
    expect(await deleteNodeStatus(kv, 'gone-1')).toBe(true); // already deleted: fine
    expect(await deleteNodeStatus(kv, 'never-there')).toBe(true);
    await expect(deleteNodeStatus(kv, 'a..b')).rejects.toThrow(RangeError);
  });

  it('dotted node names are whole keys: get, watch and the status read see the full name', async () => {
    const kv = await openNodesBucket(nc.jetstream(), { bindOnly: true });
    expect((await kv.get(DOTTED))?.json<{ node: string }>().node).toBe(DOTTED);
    const ac = new AbortController();
    const seen: string[] = [];
    for await (const e of watchNodeStatuses(kv, ac.signal)) {
      if (e.type === 'put') seen.push(e.status.node);
      if (seen.length === 2) ac.abort();
    }
    expect(seen.sort()).toEqual([DOTTED, 'node-a']);
  });

  it('an existing bucket that allows rollups (made by nats.js or an older natfleet) is fixed in place, data kept', async () => {
    const other = await startNats();
    const nc2 = await connect({ servers: other.url });
    try {
      const legacy = await nc2.jetstream().views.kv(NODES_BUCKET, { history: 1 });
      await legacy.put('node-a', enc('{"node":"node-a"}'));
      const jsm = await nc2.jetstreamManager();
      expect((await jsm.streams.info(NODES_STREAM)).config.allow_rollup_hdrs).toBe(true);
      const kv = await openNodesBucket(nc2.jetstream());
      expect((await jsm.streams.info(NODES_STREAM)).config.allow_rollup_hdrs).toBe(false);
      expect((await kv.get('node-a'))?.string()).toBe('{"node":"node-a"}');
    } finally {
      await nc2.close();
      await other.destroy();
    }
  });
});
