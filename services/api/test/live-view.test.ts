import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveView, type ChangeSource } from '../src/live-view.js';

const silent = pino({ level: 'silent' });

/** A view whose reads the test resolves by hand. */
function gatedView() {
  const calls: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  const view = (): Promise<unknown> => new Promise((resolve, reject) => calls.push({ resolve, reject }));
  return { view, calls };
}

/** A source that hands its `changed` to the test. */
function handSource() {
  const s = { changed: (_why: string) => undefined as void, starts: 0, signal: undefined as AbortSignal | undefined };
  const source: ChangeSource = (signal, changed) => {
    s.starts++;
    s.changed = changed;
    s.signal = signal;
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  };
  return { source, s };
}

describe('LiveView', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('computes at start, coalesces a burst into one recompute, emits only visible changes', async () => {
    let version = 1;
    let age = 0;
    const emitted: string[] = [];
    const { source, s } = handSource();
    const live = new LiveView({ view: async () => ({ desired: { version }, nodes: [{ heartbeatAgeSeconds: ++age }] }), sources: [source], emit: (m) => emitted.push(m), logger: silent, debounceMs: 100, refreshMs: 10_000 });
    live.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(live.recomputes).toBe(1);
    expect(emitted).toHaveLength(1);
    // A burst of 20 changes within the window: one recompute; only ages moved: nothing sent.
    for (let i = 0; i < 20; i++) s.changed('node-status');
    await vi.advanceTimersByTimeAsync(99);
    expect(live.recomputes).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(live.recomputes).toBe(2);
    expect(emitted).toHaveLength(1);
    version = 2;
    s.changed('stream');
    await vi.advanceTimersByTimeAsync(100);
    expect(live.recomputes).toBe(3);
    expect(emitted).toHaveLength(2);
    expect(emitted[1]).toContain('"version":2');
    expect(live.latest).toBe(emitted[1]);
    live.stop();
    expect(s.signal?.aborted).toBe(true);
    expect(live.latest).toBeUndefined();
  });

  it('runs at most one recompute at a time; changes during one give exactly one more', async () => {
    const { view, calls } = gatedView();
    const emitted: string[] = [];
    const { source, s } = handSource();
    const live = new LiveView({ view, sources: [source], emit: (m) => emitted.push(m), logger: silent, debounceMs: 100, refreshMs: 60_000 });
    live.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    for (let i = 0; i < 5; i++) {
      s.changed('x');
      await vi.advanceTimersByTimeAsync(150);
    }
    expect(calls).toHaveLength(1); // still in flight: nothing else started
    calls[0]!.resolve({ v: 1 });
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    calls[1]!.resolve({ v: 2 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toHaveLength(2);
    expect(emitted.map((m) => /"v":(\d)/.exec(m)?.[1])).toEqual(['1', '2']);
    live.stop();
  });

  it('re-sends an unchanged view every refreshMs; a failed read is not sent and is retried', async () => {
    let fail = false;
    const emitted: string[] = [];
    const live = new LiveView({ view: async () => {
      if (fail) throw new Error('etcd down');
      return { same: true };
    }, sources: [], emit: (m) => emitted.push(m), logger: silent, debounceMs: 100, refreshMs: 10_000 });
    live.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(emitted).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10_100);
    expect(emitted).toHaveLength(2);
    fail = true;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(emitted).toHaveLength(2);
    fail = false;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(emitted).toHaveLength(3);
    live.stop();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(emitted).toHaveLength(3);
  });

  it('restarts a source that fails, with back-off, and recomputes after it (changes may have been missed)', async () => {
    let starts = 0;
    const failing: ChangeSource = async () => {
      starts++;
      throw new Error('consumer lost');
    };
    const live = new LiveView({ view: async () => ({}), sources: [failing], emit: () => undefined, logger: silent, debounceMs: 100, refreshMs: 600_000 });
    live.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(starts).toBe(1);
    expect(live.recomputes).toBe(1);
    await vi.advanceTimersByTimeAsync(1000 + 100);
    expect(starts).toBe(2);
    expect(live.recomputes).toBe(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(starts).toBe(3);
    live.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(starts).toBe(3);
  });
});

describe('LiveView stop and start', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a start while a read from before the stop still runs computes once that read ends; the stale read is not sent', async () => {
    const { view, calls } = gatedView();
    const emitted: string[] = [];
    const live = new LiveView({ view, sources: [], emit: (m) => emitted.push(m), logger: silent, debounceMs: 100, refreshMs: 60_000 });
    live.start();
    await vi.advanceTimersByTimeAsync(0);
    live.stop();
    live.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    calls[0]!.resolve({ v: 'stale' });
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(2);
    calls[1]!.resolve({ v: 'fresh' });
    await vi.advanceTimersByTimeAsync(0);
    expect(emitted).toHaveLength(1);
    expect(emitted[0]).toContain('fresh');
    live.stop();
  });
});
