import { describe, expect, it } from 'vitest';
import { announcementFingerprint, planNodeRegistration } from '../src/index.js';

const announce = (node: string, addresses: string[], labels: Record<string, string> = {}) => ({ node, addresses, labels });

describe('planNodeRegistration', () => {
  it('a new node becomes a Calico v3 Node with InternalIP addresses and its labels', () => {
    const plan = planNodeRegistration(announce('node-1', ['10.0.0.2', ' 10.0.0.1', '10.0.0.2', '2001:db8::1'], { zone: 'a' }), undefined);
    expect(plan.type).toBe('write');
    if (plan.type !== 'write') return;
    expect(JSON.parse(plan.value)).toEqual({
      apiVersion: 'projectcalico.org/v3',
      kind: 'Node',
      metadata: { name: 'node-1', labels: { zone: 'a' } },
      spec: {
        addresses: [
          { address: '10.0.0.1', type: 'InternalIP' },
          { address: '10.0.0.2', type: 'InternalIP' },
          { address: '2001:db8::1', type: 'InternalIP' },
        ],
      },
    });
  });

  it('nothing to write when addresses (in any order) and labels already match', () => {
    const first = planNodeRegistration(announce('n', ['10.0.0.1', '10.0.0.2'], { a: '1', b: '2' }), undefined);
    if (first.type !== 'write') throw new Error('expected write');
    expect(planNodeRegistration(announce('n', ['10.0.0.2', '10.0.0.1'], { b: '2', a: '1' }), first.value)).toEqual({ type: 'unchanged' });
    expect(planNodeRegistration(announce('n', ['10.0.0.2'], { b: '2', a: '1' }), first.value).type).toBe('write');
    expect(planNodeRegistration(announce('n', ['10.0.0.1', '10.0.0.2'], { a: '1' }), first.value).type).toBe('write');
  });

  it("keeps what others wrote: other address types, BGP settings, other metadata", () => {
    const stored = JSON.stringify({
      apiVersion: 'projectcalico.org/v3',
      kind: 'Node',
      metadata: { name: 'n', uid: 'u-1', labels: { old: 'x' } },
      spec: { bgp: { ipv4Address: '10.0.0.1/24' }, addresses: [{ address: '10.0.0.1/24', type: 'CalicoNodeIP' }, { address: '10.9.9.9', type: 'InternalIP' }] },
    });
    const plan = planNodeRegistration(announce('n', ['10.0.0.1'], { zone: 'b' }), stored);
    if (plan.type !== 'write') throw new Error('expected write');
    expect(JSON.parse(plan.value)).toEqual({
      apiVersion: 'projectcalico.org/v3',
      kind: 'Node',
      metadata: { name: 'n', uid: 'u-1', labels: { zone: 'b' } },
      spec: {
        bgp: { ipv4Address: '10.0.0.1/24' },
        addresses: [
          { address: '10.0.0.1/24', type: 'CalicoNodeIP' },
          { address: '10.0.0.1', type: 'InternalIP' },
        ],
      },
    });
  });

  it('a stored Node with fields natfleet does not know (a newer Calico, another tool) still registers, keeping them', () => {
    const stored = JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n' }, spec: { vxlanTunnelMacAddr: 'x', futureField: { a: 1 } } });
    const plan = planNodeRegistration(announce('n', ['10.0.0.7'], {}), stored);
    expect(plan.type).toBe('write');
    if (plan.type === 'write') expect(JSON.parse(plan.value).spec).toMatchObject({ vxlanTunnelMacAddr: 'x', futureField: { a: 1 } });
  });

  it('a stored value that is not a Node is replaced', () => {
    expect(planNodeRegistration(announce('n', ['10.0.0.1']), '{not json').type).toBe('write');
    expect(planNodeRegistration(announce('n', ['10.0.0.1']), '{"kind":"IPPool"}').type).toBe('write');
  });

  it('invalid names and addresses are refused with the model’s reason', () => {
    const badName = planNodeRegistration(announce('Node_1', ['10.0.0.1']), undefined);
    expect(badName).toMatchObject({ type: 'invalid', reason: expect.stringMatching(/metadata\.name/) });
    const badAddress = planNodeRegistration(announce('n', ['10.0.0.300']), undefined);
    expect(badAddress).toMatchObject({ type: 'invalid', reason: expect.stringMatching(/spec\.addresses\[0\]\.address/) });
  });

  it('fingerprints ignore order', () => {
    expect(announcementFingerprint({ addresses: ['b', 'a'], labels: { y: '1', x: '2' } })).toBe(
      announcementFingerprint({ addresses: ['a', 'b', 'a'], labels: { x: '2', y: '1' } }),
    );
  });
});

describe('NodeRegistrar re-checks etcd', () => {
  it('after recheckMs, an unchanged announcement re-reads the Node (repairs out-of-band deletes)', async () => {
    const { NodeRegistrar, CompilerMetrics } = await import('../src/index.js');
    const { pendingNodeStatus } = await import('@natfleet/bus');
    const { pino } = await import('pino');
    const { vi } = await import('vitest');
    const stored = new Map<string, { value: string; modRevision: number }>();
    const store = {
      prefix: '/calico/resources/v3/projectcalico.org',
      get: vi.fn(async (key: string) => (stored.has(key) ? { key, ...stored.get(key)!, createRevision: 1 } : undefined)),
      commit: vi.fn(async (ops: { key: string; value: string }[]) => {
        for (const op of ops) stored.set(op.key, { value: op.value, modRevision: stored.size + 2 });
        return { succeeded: true, revision: stored.size + 2 };
      }),
    };
    const make = (recheckMs: number) =>
      new NodeRegistrar({ kv: undefined as never, store: store as never, prefix: store.prefix, cluster: 'default', logger: pino({ level: 'silent' }), metrics: new CompilerMetrics(), recheckMs });
    const status = pendingNodeStatus('n1', { addresses: ['192.0.2.1'] });
    const term = new AbortController().signal;

    const cached = make(60_000);
    await cached.handle(status, term);
    stored.clear(); // someone deletes the Node behind our back
    await cached.handle(status, term);
    expect(stored.size).toBe(0); // within recheckMs: trusted, not re-read

    const rechecking = make(0);
    await rechecking.handle(status, term);
    stored.clear();
    await rechecking.handle(status, term);
    expect(stored.size).toBe(1); // re-read and re-created
  });
});
