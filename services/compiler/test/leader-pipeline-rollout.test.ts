// The leader pipeline's rollout hooks: the controller is told every newest bundle, and is
// asked before each NEW bundle is published — a failing ask (a policy exists but its
// admission could not be published) holds the bundle back until a retry succeeds.
import { describe, expect, it, vi } from 'vitest';
import { generateSigningKeyPair, loadSigningKey } from '@natfleet/bundle';
import { DEFAULT_KEY_PREFIX } from '@natfleet/model';
import { AsyncQueue, type ChangeEvent, type StoreSnapshot } from '@natfleet/store';
import { BundlePublisher, CompilerMetrics, LeaderPipeline, WarningTracker } from '../src/index.js';
import { FakeSubject, memoryLogger } from './fakes.js';

const key = loadSigningKey(generateSigningKeyPair().privateKeyPem);
const P = DEFAULT_KEY_PREFIX;
const settle = { timeout: 5_000, interval: 5 };

describe('leader pipeline rollout hooks', () => {
  it('asks before every new bundle (a refusal holds it back, retried), and tells each newest bundle', async () => {
    let revision = 1;
    const kvs = new Map<string, { value: string; mod: number }>();
    const queues: AsyncQueue<ChangeEvent>[] = [];
    const put = (k: string, cidr: string): void => {
      revision++;
      kvs.set(k, { value: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: k }, spec: { cidr, natOutgoing: true } }), mod: revision });
      for (const q of queues) q.push({ type: 'change', revision, keys: [`${P}/ippools/${k}`] });
    };
    const subject = new FakeSubject();
    const order: string[] = [];
    let refuse = 0;
    const currents: number[] = [];
    const rollout = {
      noteCandidate: (ref: { version: number; digest: string }) => order.push(`note v${ref.version}`),
      guardPublish: async <T>(publish: () => Promise<T>, current?: { version: number; digest: string }): Promise<T> => {
        order.push(`ask (stored ${subject.messages.length})`);
        currents.push(current?.version ?? 0);
        if (refuse > 0) {
          refuse--;
          throw new Error('admission not published yet');
        }
        const r = await publish();
        order.push(`published (stored ${subject.messages.length})`);
        return r;
      },
    };
    const term = new AbortController();
    const pipeline = new LeaderPipeline({
      snapshot: async (): Promise<StoreSnapshot> => ({ revision, entries: [...kvs].map(([k, v]) => ({ key: `${P}/ippools/${k}`, value: v.value, modRevision: v.mod, createRevision: v.mod })) }),
      feed: (_from, signal) => {
        const q = new AsyncQueue<ChangeEvent>();
        signal.addEventListener('abort', () => q.close(), { once: true });
        queues.push(q);
        return q;
      },
      publisher: new BundlePublisher(subject),
      key,
      cluster: 'test',
      prefix: P,
      debounce: { quietMs: 5, maxDelayMs: 20 },
      metrics: new CompilerMetrics({ withProcessMetrics: false }),
      logger: memoryLogger().logger,
      warnings: new WarningTracker(),
      retryMs: 10,
      maxRetryMs: 40,
      rollout,
    });
    put('a', '10.0.0.0/16');
    const done = pipeline.run(term.signal);
    await vi.waitFor(() => expect(subject.messages).toHaveLength(1), settle);
    await vi.waitFor(() => expect(order).toContain(`note v${subject.last!.version}`), settle);
    // The new candidate is noted inside the guard, before it returns.
    expect(order.slice(0, 3)).toEqual(['ask (stored 0)', `note v${subject.last!.version}`, 'published (stored 1)']);

    // The newest bundle on the stream goes with every ask (a new term's first ask comes before any note).
    expect(currents).toEqual([0]);
    const first = subject.last!.version;
    refuse = 2;
    order.length = 0;
    put('b', '10.1.0.0/16');
    await vi.waitFor(() => expect(subject.messages).toHaveLength(2), settle);
    // Two refusals: nothing published after them; the third ask lets it through.
    expect(order.slice(0, 4)).toEqual(['ask (stored 1)', 'ask (stored 1)', 'ask (stored 1)', `note v${subject.last!.version}`]);
    await vi.waitFor(() => expect(order.at(-1)).toBe(`note v${subject.last!.version}`), settle);
    expect(currents.slice(1)).toEqual([first, first, first]);
    term.abort();
    await done;
  });
});
