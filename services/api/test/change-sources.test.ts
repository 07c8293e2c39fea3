import { pendingNodeStatus } from '@natfleet/bus';
import type { JetStreamClient, JetStreamManager } from 'nats';
import { describe, expect, it } from 'vitest';
import { nodeStatusChanges, streamChanges } from '../src/change-sources.js';

const enc = new TextEncoder();

/** A fake ordered consumer delivering `msgs`, then waiting until closed. */
function fakeJs(msgs: { subject: string; data: Uint8Array; op?: string }[]) {
  const seen: { opts?: unknown; closed: number } = { closed: 0 };
  const js = {
    consumers: {
      get: async (_stream: string, opts: unknown) => {
        seen.opts = opts;
        let close!: () => void;
        const closed = new Promise<void>((r) => (close = r));
        return {
          consume: async () => ({
            close: async () => {
              seen.closed++;
              close();
            },
            async *[Symbol.asyncIterator]() {
              for (const m of msgs) yield { subject: m.subject, data: m.data, headers: m.op ? { get: (h: string) => (h === 'KV-Operation' ? m.op : undefined) } : undefined };
              await closed;
            },
          }),
        };
      },
    },
  } as unknown as JetStreamClient;
  return { js, seen };
}

const put = (node: string, over: Record<string, unknown>) => ({ subject: `$KV.natfleet-nodes.${node}`, data: enc.encode(JSON.stringify(pendingNodeStatus(node, over))) });

describe('nodeStatusChanges', () => {
  it('counts a write only when more than the heartbeat moved; deletes count', async () => {
    const { js, seen } = fakeJs([
      put('n1', { appliedVersion: 3, heartbeatAt: '2026-01-01T00:00:00Z' }),
      put('n1', { appliedVersion: 3, heartbeatAt: '2026-01-01T00:00:05Z' }), // heartbeat only
      put('n2', { appliedVersion: 3 }),
      put('n1', { appliedVersion: 4, heartbeatAt: '2026-01-01T00:00:10Z' }),
      put('n1', { appliedVersion: 4, heartbeatAt: '2026-01-01T00:00:15Z' }), // heartbeat only
      { subject: '$KV.natfleet-nodes.n2', data: new Uint8Array(), op: 'DEL' },
    ]);
    const ac = new AbortController();
    const why: string[] = [];
    const done = nodeStatusChanges(js)(ac.signal, (w) => why.push(w));
    await new Promise((r) => setTimeout(r, 20));
    expect(why).toEqual(['node-status', 'node-status', 'node-status', 'node-status']);
    expect(seen.opts).toMatchObject({ filterSubjects: '$KV.natfleet-nodes.>', deliver_policy: 'new' });
    ac.abort();
    await done;
    expect(seen.closed).toBeGreaterThan(0);
  });
});

describe('streamChanges', () => {
  it('says changed when the stream last sequence moves (the first read is the baseline); stops on abort', async () => {
    const seqs = [5, 5, 6, 6, 9];
    let reads = 0;
    const jsm = { streams: { info: async () => ({ state: { last_seq: seqs[Math.min(reads++, seqs.length - 1)] } }) } } as unknown as JetStreamManager;
    const ac = new AbortController();
    const why: string[] = [];
    const done = streamChanges(jsm, { pollMs: 5 })(ac.signal, (w) => why.push(w));
    while (reads < 5) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await done;
    expect(why).toEqual(['stream', 'stream']);
    const after = reads;
    await new Promise((r) => setTimeout(r, 30));
    expect(reads).toBe(after);
  });

  it('throws when the stream cannot be read (the live view restarts it)', async () => {
    const jsm = { streams: { info: async () => Promise.reject(new Error('stream not found')) } } as unknown as JetStreamManager;
    await expect(streamChanges(jsm)(new AbortController().signal, () => undefined)).rejects.toThrow(/stream not found/);
  });
});
