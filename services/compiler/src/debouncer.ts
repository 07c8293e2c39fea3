/**
 * Coalescing bursts of etcd changes into compile runs. A batch opens with its first
 * change and becomes due after `quietMs` without another change, or `maxDelayMs` after it
 * opened, whichever comes first — so a burst of 1,000 writes compiles a handful of
 * times, and a steady stream of writes still compiles every `maxDelayMs`.
 *
 * The consumer pulls: `wait()` resolves when a batch is due. Changes arriving while the
 * consumer is busy (compiling, publishing) open the next batch; nothing is lost, since
 * each compile reads a fresh snapshot and only has to know *that* something changed.
 * With `leading`, a change arriving after a quiet spell (no change and no batch for
 * `quietMs`) is due at once: an isolated write pays no debounce delay, while the writes
 * that follow it within `quietMs` are still collapsed as above.
 * Owns only timers; knows nothing of etcd or NATS.
 */

export interface DebouncerOptions {
  /** Quiet period after the last change (ms, ≥ 0). */
  quietMs: number;
  /** Longest a batch stays open, counted from its first change (ms, ≥ quietMs). */
  maxDelayMs: number;
  /** Fire the first change after a quiet spell immediately (default false). */
  leading?: boolean;
}

/** A due batch: when its first change arrived (epoch ms) and how many changes it holds. */
export interface Batch {
  firstAt: number;
  changes: number;
}

export class Debouncer {
  private firstAt: number | undefined;
  private lastAt = 0;
  private changes = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private due: Batch | undefined;
  private waiter: ((batch: Batch | undefined) => void) | undefined;

  constructor(private readonly options: DebouncerOptions) {
    if (!(options.quietMs >= 0) || !(options.maxDelayMs >= options.quietMs)) {
      throw new RangeError(`debounce needs 0 ≤ quietMs (${options.quietMs}) ≤ maxDelayMs (${options.maxDelayMs})`);
    }
  }

  /** True while a batch is open or due and not yet taken. */
  get pending(): boolean {
    return this.firstAt !== undefined || this.due !== undefined;
  }

  /** Notes one change: opens a batch or extends the open one (never past its max delay). */
  trigger(): void {
    const now = Date.now();
    const idle = !this.pending && now - this.lastAt >= this.options.quietMs;
    if (this.options.leading && idle) {
      this.firstAt = now;
      this.lastAt = now;
      this.changes = 1;
      this.fire();
      return;
    }
    if (this.firstAt === undefined) {
      this.firstAt = now;
      this.changes = 0;
    }
    this.lastAt = now;
    this.changes++;
    this.schedule(now);
  }

  /** Makes the open batch (or a new, empty one) due now: for retries and resyncs that should not wait. */
  flush(): void {
    if (this.firstAt === undefined) {
      this.firstAt = Date.now();
      this.changes = 0;
    }
    this.fire();
  }

  /**
   * Resolves with the next due batch (at once if one is already due), or undefined when
   * `signal` aborts first. One waiter at a time.
   */
  wait(signal?: AbortSignal): Promise<Batch | undefined> {
    if (this.due) {
      const b = this.due;
      this.due = undefined;
      return Promise.resolve(b);
    }
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.waiter = undefined;
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = (batch) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(batch);
      };
    });
  }

  /** Drops any open or due batch and stops the timer. */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.firstAt = undefined;
    this.due = undefined;
  }

  private schedule(now: number): void {
    if (this.timer) clearTimeout(this.timer);
    const deadline = Math.min(this.lastAt + this.options.quietMs, (this.firstAt ?? now) + this.options.maxDelayMs);
    this.timer = setTimeout(() => this.fire(), Math.max(0, deadline - now));
  }

  private fire(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.firstAt === undefined) return;
    // A batch due but not yet taken absorbs the new one: the consumer compiles once for both.
    const batch: Batch = this.due
      ? { firstAt: this.due.firstAt, changes: this.due.changes + this.changes }
      : { firstAt: this.firstAt, changes: this.changes };
    this.firstAt = undefined;
    this.changes = 0;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      this.due = undefined;
      w(batch);
    } else {
      this.due = batch;
    }
  }
}
