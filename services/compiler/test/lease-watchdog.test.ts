import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseWatchdog } from '../src/index.js';

describe('LeaseWatchdog', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  /** etcd3's lease events for one keepalive round trip taking `rttMs`. */
  async function keepalive(lease: EventEmitter, rttMs: number): Promise<void> {
    lease.emit('keepaliveFired');
    await vi.advanceTimersByTimeAsync(rttMs);
    lease.emit('keepaliveSucceeded');
  }

  it('without keepalive answers, steps down a margin before creation + TTL', async () => {
    const lease = new EventEmitter();
    const w = new LeaseWatchdog(lease, { ttlMs: 2_000 });
    const expired = vi.fn();
    w.arm(expired);
    await vi.advanceTimersByTimeAsync(1_499);
    expect(expired).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(expired).toHaveBeenCalledOnce();
    expect(w.healthy).toBe(false);
  });

  it('each answer extends the bound from when its keepalive was sent, not received', async () => {
    const lease = new EventEmitter();
    const w = new LeaseWatchdog(lease, { ttlMs: 3_000, marginMs: 0 });
    const expired = vi.fn();
    w.arm(expired);
    await vi.advanceTimersByTimeAsync(1_000);
    await keepalive(lease, 900); // sent at 1000, answered at 1900 → alive until ≥ 4000
    expect(w.safeUntil).toBe(4_000);
    await vi.advanceTimersByTimeAsync(2_099);
    expect(expired).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(expired).toHaveBeenCalledOnce();
  });

  it('regular keepalives keep the term; answers lost with a broken stream prove nothing', async () => {
    const lease = new EventEmitter();
    const w = new LeaseWatchdog(lease, { ttlMs: 3_000 });
    const expired = vi.fn();
    w.arm(expired);
    for (let i = 0; i < 10; i++) {
      await keepalive(lease, 10);
      await vi.advanceTimersByTimeAsync(990);
    }
    expect(expired).not.toHaveBeenCalled();
    lease.emit('keepaliveFired');
    lease.emit('keepaliveFailed');
    lease.emit('keepaliveSucceeded'); // cannot be matched to a request: ignored
    await vi.advanceTimersByTimeAsync(3_000);
    expect(expired).toHaveBeenCalledOnce();
  });

  it('stop removes its listeners and never calls back', async () => {
    const lease = new EventEmitter();
    const w = new LeaseWatchdog(lease, { ttlMs: 1_000 });
    const expired = vi.fn();
    w.arm(expired);
    w.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(expired).not.toHaveBeenCalled();
    expect(lease.listenerCount('keepaliveSucceeded')).toBe(0);
  });
});
