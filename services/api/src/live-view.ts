/**
 * The live rollout view behind GET /v1/events: recomputed when something it is made of
 * changes, not on a timer. Change sources (change-sources.ts for NATS: the node-status
 * bucket and the bundle stream) call `changed()`; bursts are coalesced (`debounceMs`,
 * ~100 ms), at most one recompute runs at a time (a change during one schedules one more),
 * and the view is emitted only when something an operator sees changed (ages, heartbeats
 * and bake countdowns excluded: they move every second) — or every `refreshMs` (10 s)
 * regardless, so the ages shown stay true and state held outside NATS (staged-rollout
 * records in etcd) is picked up. A source that ends or fails is restarted with back-off
 * (1 s doubling to 15 s) and triggers a recompute (it may have missed changes meanwhile).
 * Owns its timers and the sources' lifetime (start/stop); never writes anything itself:
 * the emitted message goes to `emit`.
 */
import type { Logger } from 'pino';

/**
 * Runs until `signal` aborts, calling `changed(why)` whenever what it watches changes.
 * Returning or throwing before the abort counts as a failure (it is restarted).
 */
export type ChangeSource = (signal: AbortSignal, changed: (why: string) => void) => Promise<void>;

export interface LiveViewOptions {
  /** The current view (GET /v1/rollout's body). */
  view: () => Promise<unknown>;
  /** What tells the view it may have changed. */
  sources: readonly ChangeSource[];
  /** Receives the fresh view and its SSE message whenever it is to be sent. */
  emit: (message: string) => void;
  logger: Logger;
  /** Coalescing window after a change; default 100 ms. */
  debounceMs?: number;
  /** Re-send an unchanged view this often; default 10 000 ms. */
  refreshMs?: number;
}

/** Fields that change every second without anything happening: left out of the change test. */
const VOLATILE = new Set(['heartbeatAgeSeconds', 'heartbeatAt', 'bakeRemainingMs']);

/** What the change test compares: the view without its volatile fields. */
export function fingerprint(view: unknown): string {
  return JSON.stringify(view, (k, v: unknown) => (VOLATILE.has(k) ? undefined : v));
}

/** One SSE message: `event:` then the data split on newlines (JSON has none, but be exact). */
export function sseMessage(event: string, data: string): string {
  return `event: ${event}\n${data.split(/\r\n|\r|\n/).map((l) => `data: ${l}`).join('\n')}\n\n`;
}

export class LiveView {
  private readonly debounceMs: number;
  private readonly refreshMs: number;
  private abort: AbortController | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private refresh: NodeJS.Timeout | undefined;
  private inFlight = false;
  /** A change arrived while a recompute ran: run once more after it. */
  private dirty = false;
  /** The next recompute sends even an unchanged view (the periodic refresh). */
  private force = false;
  private last: { print: string; message: string; sentAt: number } | undefined;
  private failing = false;
  /** Recomputes started since `start()` (for tests and logs). */
  recomputes = 0;

  constructor(private readonly o: LiveViewOptions) {
    this.debounceMs = o.debounceMs ?? 100;
    this.refreshMs = o.refreshMs ?? 10_000;
  }

  get running(): boolean {
    return this.abort !== undefined;
  }

  /** The newest view's SSE message, when one was computed since `start()`. */
  get latest(): string | undefined {
    return this.last?.message;
  }

  /** Starts the sources and computes the view at once. Idempotent. */
  start(): void {
    if (this.abort) return;
    this.abort = new AbortController();
    this.last = undefined;
    this.recomputes = 0;
    for (const s of this.o.sources) void this.run(s, this.abort.signal);
    this.refresh = setInterval(() => {
      this.force = true;
      this.changed('refresh');
    }, this.refreshMs);
    void this.recompute();
  }

  /** Stops the sources and timers and forgets the view (a later start recomputes it). Idempotent. */
  stop(): void {
    this.abort?.abort();
    this.abort = undefined;
    clearTimeout(this.debounce);
    clearInterval(this.refresh);
    this.debounce = undefined;
    this.refresh = undefined;
    this.dirty = false;
    this.force = false;
    this.last = undefined;
  }

  /** Something the view is made of may have changed: recompute within `debounceMs`. */
  changed(_why: string): void {
    if (!this.abort) return;
    if (this.inFlight) {
      this.dirty = true;
      return;
    }
    this.debounce ??= setTimeout(() => {
      this.debounce = undefined;
      void this.recompute();
    }, this.debounceMs);
  }

  private async recompute(): Promise<void> {
    const signal = this.abort?.signal;
    if (!signal) return;
    if (this.inFlight) {
      // One from before a stop/start may still run: this one follows it.
      this.dirty = true;
      return;
    }
    this.inFlight = true;
    this.dirty = false;
    const force = this.force;
    this.force = false;
    this.recomputes++;
    try {
      const view = await this.o.view();
      if (!signal.aborted) this.send(view, force);
    } catch (err) {
      if (!signal.aborted) {
        // Said once per failure spell; the next change or refresh tries again.
        if (!this.failing) this.o.logger.warn({ err }, 'live view: reading the rollout view failed; retrying on the next change');
        this.failing = true;
        if (force) this.force = true;
      }
    } finally {
      this.inFlight = false;
    }
    if (this.dirty && this.abort) this.changed('during recompute');
  }

  private send(view: unknown, force: boolean): void {
    const print = fingerprint(view);
    const now = Date.now();
    if (force || !this.last || this.last.print !== print || now - this.last.sentAt >= this.refreshMs) {
      this.last = { print, message: sseMessage('rollout', JSON.stringify(view)), sentAt: now };
      this.o.emit(this.last.message);
    }
    if (this.failing) this.o.logger.info('live view: the rollout view reads again');
    this.failing = false;
  }

  /** Runs one source until the view stops, restarting it (with back-off) when it ends or fails. */
  private async run(source: ChangeSource, signal: AbortSignal): Promise<void> {
    let delay = 1000;
    const changed = (why: string): void => {
      if (!signal.aborted) this.changed(why);
    };
    while (!signal.aborted) {
      const started = Date.now();
      try {
        await source(signal, changed);
        if (signal.aborted) return;
        this.o.logger.warn('live view: a change source ended; restarting it');
      } catch (err) {
        if (signal.aborted) return;
        this.o.logger.warn({ err }, 'live view: a change source failed; restarting it');
      }
      if (Date.now() - started > 30_000) delay = 1000;
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 15_000);
      // It may have missed changes while down.
      changed('source restarted');
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (its listener removed either way). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    if (signal.aborted) done();
  });
}
