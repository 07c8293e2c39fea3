import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Debouncer } from '../src/index.js';

describe('Debouncer', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  /** Resolves the next batch, or 'none' if it is not due after advancing `ms`. */
  async function dueAfter(d: Debouncer, ms: number): Promise<unknown> {
    let got: unknown = 'none';
    const p = d.wait().then((b) => (got = b));
    await vi.advanceTimersByTimeAsync(ms);
    void p;
    return got;
  }

  it('a single change is due after the quiet period, not before', async () => {
    const d = new Debouncer({ quietMs: 15, maxDelayMs: 250 });
    d.trigger();
    const w = d.wait();
    let done = false;
    void w.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(14);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await w).toEqual({ firstAt: 1_000_000, changes: 1 });
  });

  it('a burst collapses into one batch that opens with its first change', async () => {
    const d = new Debouncer({ quietMs: 15, maxDelayMs: 250 });
    for (let i = 0; i < 10; i++) {
      d.trigger();
      await vi.advanceTimersByTimeAsync(5);
    }
    expect(await dueAfter(d, 15)).toEqual({ firstAt: 1_000_000, changes: 10 });
    expect(d.pending).toBe(false);
  });

  it('a steady stream still yields a batch every max delay', async () => {
    const d = new Debouncer({ quietMs: 15, maxDelayMs: 100 });
    const fired: number[] = [];
    const consume = (async () => {
      for (;;) {
        const b = await d.wait();
        if (!b) return;
        fired.push(Date.now() - 1_000_000);
      }
    })();
    for (let t = 0; t < 350; t += 10) {
      d.trigger();
      await vi.advanceTimersByTimeAsync(10);
    }
    // Changes every 10 ms never leave 15 ms quiet: batches come from the max delay alone.
    expect(fired).toEqual([100, 200, 300]);
    d.cancel();
    void consume;
  });

  it('changes while the consumer is busy open the next batch; none is lost', async () => {
    const d = new Debouncer({ quietMs: 15, maxDelayMs: 250 });
    d.trigger();
    await vi.advanceTimersByTimeAsync(20); // due, nobody waiting yet
    d.trigger(); // arrives while the consumer is "compiling"
    await vi.advanceTimersByTimeAsync(20);
    // Both are due: they are handed over as one batch, so the consumer compiles once for both.
    expect(await d.wait()).toEqual({ firstAt: 1_000_000, changes: 2 });
    expect(await dueAfter(d, 1_000)).toBe('none');
  });

  it('flush makes a batch due at once; an aborted wait resolves undefined', async () => {
    const d = new Debouncer({ quietMs: 15, maxDelayMs: 250 });
    d.flush();
    expect(await d.wait()).toEqual({ firstAt: 1_000_000, changes: 0 });
    const ac = new AbortController();
    const w = d.wait(ac.signal);
    ac.abort();
    expect(await w).toBeUndefined();
    expect(await d.wait(ac.signal)).toBeUndefined();
  });

  it('rejects a max delay shorter than the quiet period', () => {
    expect(() => new Debouncer({ quietMs: 20, maxDelayMs: 10 })).toThrow(RangeError);
  });

  it('leading: an isolated change is due at once; changes right after it are still collapsed', async () => {
    const d = new Debouncer({ quietMs: 15, maxDelayMs: 250, leading: true });
    d.trigger();
    expect(await dueAfter(d, 0)).toEqual({ firstAt: 1_000_000, changes: 1 });
    for (let i = 0; i < 5; i++) {
      d.trigger();
      await vi.advanceTimersByTimeAsync(2);
    }
    expect(await dueAfter(d, 0)).toBe('none');
    expect(await dueAfter(d, 15)).toEqual({ firstAt: 1_000_000, changes: 5 });
    // After a quiet spell the next change is immediate again.
    await vi.advanceTimersByTimeAsync(50);
    d.trigger();
    expect(await dueAfter(d, 0)).toMatchObject({ changes: 1 });
  });
});
