/**
 * The supervisor's restart back-off for one daemon: 1 s after the first crash, doubling to
 * at most 30 s while it keeps crashing, back to 1 s once a run lasted 60 s. Pure state
 * (no timers, no clock of its own): the caller passes how long the run lasted.
 */

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** A run at least this long counts as healthy: the next crash starts again at initialMs. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 };

export class Backoff {
  private nextMs: number;

  constructor(private readonly o: BackoffOptions = DEFAULT_BACKOFF) {
    if (!(o.initialMs > 0) || o.maxMs < o.initialMs) throw new RangeError(`back-off: need 0 < initialMs <= maxMs (got ${o.initialMs}, ${o.maxMs})`);
    this.nextMs = o.initialMs;
  }

  /**
   * The delay before restarting a daemon whose run lasted `ranMs`, and the step for the
   * next crash: initialMs after a run of resetAfterMs or more, else the doubled delay
   * (capped at maxMs). A negative or NaN run counts as a short one.
   */
  delayAfter(ranMs: number): number {
    if (ranMs >= this.o.resetAfterMs) this.nextMs = this.o.initialMs;
    const delay = this.nextMs;
    this.nextMs = Math.min(this.o.maxMs, this.nextMs * 2);
    return delay;
  }
}

/** `1s`, `1.5s`, `30s`: a delay as the supervisor says it. */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`;
}
