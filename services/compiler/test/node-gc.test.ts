// Decommissioning with fakes: which stored Nodes may be deleted (natfleet's alone, not a
// Node shared with Calico), the registrar deleting a Node when its key is deleted (and
// registering it anew when it speaks again), and the GC's choice of nodes: strictly
// after gcAfterMs of silence, measured from the server's stored time, never when the node
// wrote again since it was judged. The same against real servers: test/integration/node-decommission.test.ts.
import { pendingNodeStatus, type NodeStatusEvent } from '@natfleet/bus';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { CompilerMetrics, NodeCollector, NodeRegistrar, planNodeDeregistration, planNodeRegistration, silentNodes, sweepIntervalMs, type LastHeard } from '../src/index.js';

const PREFIX = '/calico/resources/v3/projectcalico.org';
const silent = pino({ level: 'silent' });

/** An etcd stand-in with mod revisions and compare-and-swap, as EtcdStore has them. */
function fakeStore() {
  const data = new Map<string, { value: string; modRevision: number }>();
  let revision = 1;
  return {
    data,
    prefix: PREFIX,
    get: vi.fn(async (key: string) => (data.has(key) ? { key, ...data.get(key)!, createRevision: 1 } : undefined)),
    list: vi.fn(async (keyPrefix: string) => ({ revision, entries: [...data].filter(([k]) => k.startsWith(keyPrefix)).map(([key, v]) => ({ key, ...v, createRevision: 1 })) })),
    commit: vi.fn(async (ops: { type: string; key: string; value?: string; expectedModRevision?: number }[]) => {
      const ok = ops.every((op) => op.expectedModRevision === undefined || (op.expectedModRevision === 0 ? !data.has(op.key) : data.get(op.key)?.modRevision === op.expectedModRevision));
      if (!ok) return { succeeded: false, revision };
      revision++;
      for (const op of ops) {
        if (op.type === 'delete') data.delete(op.key);
        else data.set(op.key, { value: op.value!, modRevision: revision });
      }
      return { succeeded: true, revision };
    }),
  };
}

/** A natfleet-nodes stand-in: a delete with previousSeq fails like JetStream when the key moved on. */
function fakeKv() {
  const seq = new Map<string, number>();
  let last = 0;
  const deleted: string[] = [];
  return {
    seq,
    deleted,
    write(node: string): number {
      seq.set(node, ++last);
      return last;
    },
    delete: vi.fn(async (node: string, opts?: { previousSeq?: number }) => {
      if (opts?.previousSeq !== undefined && seq.get(node) !== opts.previousSeq) throw new Error(`wrong last sequence: ${seq.get(node)}`);
      seq.set(node, ++last);
      deleted.push(node);
    }),
  };
}

const nodeKey = (n: string): string => `${PREFIX}/nodes/${n}`;
const put = (node: string, revision: number, storedAt: number, cluster = 'default'): NodeStatusEvent => ({
  type: 'put',
  status: pendingNodeStatus(node, { cluster, addresses: ['192.0.2.1'], heartbeatAt: new Date(storedAt).toISOString() }),
  revision,
  storedAt: new Date(storedAt),
});
const del = (node: string, revision: number): NodeStatusEvent => ({ type: 'delete', node, revision, storedAt: new Date() });

describe('planNodeDeregistration', () => {
  it('absent, or a Node natfleet registered (metadata of any kind included): delete', () => {
    expect(planNodeDeregistration(undefined)).toEqual({ type: 'absent' });
    const ours = planNodeRegistration({ node: 'n', addresses: ['10.0.0.1', '2001:db8::1'], labels: { zone: 'a' } }, undefined);
    if (ours.type !== 'write') throw new Error('expected write');
    expect(planNodeDeregistration(ours.value)).toEqual({ type: 'delete' });
    const withMeta = JSON.parse(ours.value) as { metadata: Record<string, unknown> };
    withMeta.metadata = { ...withMeta.metadata, uid: 'u', creationTimestamp: '2026-01-01T00:00:00Z', annotations: { a: 'b' } };
    expect(planNodeDeregistration(JSON.stringify(withMeta))).toEqual({ type: 'delete' });
    expect(planNodeDeregistration(JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n' } }))).toEqual({ type: 'delete' });
  });

  it('garbage under the node key (not JSON, not a Node): delete', () => {
    expect(planNodeDeregistration('{not json')).toEqual({ type: 'delete' });
    expect(planNodeDeregistration('{"kind":"IPPool"}')).toEqual({ type: 'delete' });
    expect(planNodeDeregistration('[]')).toEqual({ type: 'delete' });
  });

  it('a Node shared with Calico (BGP, other address types, status): kept, naming what is not natfleet’s', () => {
    const calico = JSON.stringify({
      apiVersion: 'projectcalico.org/v3',
      kind: 'Node',
      metadata: { name: 'n', uid: 'u' },
      spec: { bgp: { ipv4Address: '10.0.0.1/24' }, addresses: [{ address: '10.0.0.1/24', type: 'CalicoNodeIP' }, { address: '10.0.0.1', type: 'InternalIP' }] },
      status: { podCIDRs: [] },
    });
    expect(planNodeDeregistration(calico)).toEqual({ type: 'keep', foreign: ['status', 'spec.bgp', 'spec.addresses[0] (CalicoNodeIP)'] });
  });
});

describe('silentNodes', () => {
  const heard = (storedAt: number, revision = 1): LastHeard => ({ revision, storedAt, heartbeatAt: '' });
  it('strictly longer than gcAfterMs, longest silent first; nothing known → nothing', () => {
    const last = new Map([
      ['b', heard(1_000)],
      ['a', heard(1_000)],
      ['old', heard(0)],
      ['edge', heard(5_000)],
      ['fresh', heard(9_000)],
    ]);
    expect(silentNodes(last, 10_000, 5_000).map((n) => n.node)).toEqual(['old', 'a', 'b']); // edge: exactly 5 s, not yet
    expect(silentNodes(last, 10_001, 5_000).map((n) => n.node)).toEqual(['old', 'a', 'b', 'edge']);
    expect(silentNodes(new Map(), 10_000, 5_000)).toEqual([]);
  });

  it('sweeps a tenth of the threshold, between 250 ms and 1 min', () => {
    expect(sweepIntervalMs(1_000)).toBe(250);
    expect(sweepIntervalMs(30_000)).toBe(3_000);
    expect(sweepIntervalMs(24 * 3_600_000)).toBe(60_000);
  });
});

describe('NodeRegistrar: decommissioned nodes', () => {
  const make = (store: ReturnType<typeof fakeStore>, kv: ReturnType<typeof fakeKv> = fakeKv(), gcAfterMs?: number) =>
    new NodeRegistrar({ kv: kv as never, store: store as never, prefix: PREFIX, cluster: 'default', logger: silent, metrics: new CompilerMetrics({ withProcessMetrics: false }), recheckMs: 60_000, retryMs: 5, ...(gcAfterMs !== undefined ? { gcAfterMs } : {}) });
  const term = new AbortController().signal;

  it('a deleted key deletes the Node; twice is fine; the node registers anew when it speaks again (the cache is forgotten)', async () => {
    const store = fakeStore();
    const r = make(store);
    await r.onEvent(put('n1', 1, Date.now()), term);
    expect(store.data.has(nodeKey('n1'))).toBe(true);
    await r.onEvent(del('n1', 2), term);
    expect(store.data.has(nodeKey('n1'))).toBe(false);
    store.get.mockClear();
    await r.onEvent(del('n1', 2), term); // a new term replays the marker: nothing left to delete…
    expect(store.get).not.toHaveBeenCalled(); // …and no etcd read per long-gone node (one list per recheckMs)
    expect(store.list).toHaveBeenCalledTimes(1);
    await r.onEvent(put('n1', 3, Date.now()), term); // same announcement as before, well within recheckMs
    expect(store.data.has(nodeKey('n1'))).toBe(true);
  });

  it('a shared Node is kept; another cluster’s node is left to its own compiler; a failing etcd is retried', async () => {
    const store = fakeStore();
    const r = make(store);
    const shared = JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'calico-n' }, spec: { bgp: { ipv4Address: '10.0.0.1/24' } } });
    await store.commit([{ type: 'put', key: nodeKey('calico-n'), value: shared }]);
    await r.onEvent(del('calico-n', 1), term);
    expect(store.data.get(nodeKey('calico-n'))?.value).toBe(shared);

    await store.commit([{ type: 'put', key: nodeKey('other'), value: '{"kind":"Node","metadata":{"name":"other"}}' }]);
    await r.onEvent(put('other', 2, Date.now(), 'other-cluster'), term);
    await r.onEvent(del('other', 3), term);
    expect(store.data.has(nodeKey('other'))).toBe(true);

    await r.onEvent(put('n2', 4, Date.now()), term);
    store.get.mockRejectedValueOnce(new Error('etcd unavailable'));
    await r.onEvent(del('n2', 5), term);
    expect(store.data.has(nodeKey('n2'))).toBe(false);
  });

  it('GC: only nodes silent longer than gcAfterMs, status key then Node; a node that wrote again is kept', async () => {
    const store = fakeStore();
    const kv = fakeKv();
    const metrics = new CompilerMetrics({ withProcessMetrics: false });
    const r = new NodeRegistrar({ kv: kv as never, store: store as never, prefix: PREFIX, cluster: 'default', logger: silent, metrics, retryMs: 5, gcAfterMs: 60_000 });
    const now = Date.now();
    for (const [node, age] of [['quiet', 61_000], ['alive', 1_000], ['edge', 60_000], ['racing', 70_000]] as const) {
      await r.onEvent(put(node, kv.write(node), now - age), term);
    }
    kv.write('racing'); // wrote again after the watch event was seen (its newer event is still on its way)
    const collector = (r as unknown as { collector: NodeCollector }).collector;
    expect(await collector.sweep(term, now)).toEqual(['quiet']);
    expect(kv.deleted).toEqual(['quiet']);
    expect(store.data.has(nodeKey('quiet'))).toBe(false);
    for (const n of ['alive', 'edge', 'racing']) expect(store.data.has(nodeKey(n))).toBe(true);
    expect((await metrics.registry.getSingleMetric('natfleet_compiler_nodes_collected_total')!.get()).values[0]?.value).toBe(1);
    expect(await collector.sweep(term, now)).toEqual([]); // forgotten after one attempt; the watch brings what happened
  });

  it('GC in an aborted term (no longer leader) deletes nothing', async () => {
    const kv = fakeKv();
    const store = fakeStore();
    const r = make(store, kv, 1_000);
    await r.onEvent(put('n', kv.write('n'), Date.now() - 10_000), term);
    const ended = new AbortController();
    ended.abort();
    expect(await (r as unknown as { collector: NodeCollector }).collector.sweep(ended.signal)).toEqual([]);
    expect(kv.deleted).toEqual([]);
  });
});
