/**
 * A conservative clock for "is my election lease certainly still alive?".
 *
 * etcd3@1.1.2 reports a lost lease only after 2 × TTL without a keepalive answer, while
 * etcd expires it after 1 × TTL and a standby is then elected. A leader relying on
 * etcd3 alone could publish for a whole TTL next to its successor. This watchdog follows
 * the lease's own keepalive events: etcd counts a lease's TTL from when it received the
 * keepalive, which is after we sent it, so `sentAt + TTL` is a lower bound on the expiry.
 * The leader steps down `marginMs` before that bound (clock-rate slack), i.e. before any
 * standby can be elected. Stream fencing on NATS stays the second line of defence.
 *
 * Owns only timers and listeners on the lease it is given; never talks to etcd.
 */
import type { EventEmitter } from 'node:events';

export interface LeaseWatchdogOptions {
  ttlMs: number;
  /** Step down this long before the bound (default: a quarter of the TTL, at most 500 ms). */
  marginMs?: number;
}

export class LeaseWatchdog {
  /** Epoch ms before which the lease is certainly alive on the server. */
  private validUntil: number;
  private readonly sent: number[] = [];
  private readonly marginMs: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private onExpiring: ((reason: string) => void) | undefined;
  private readonly listeners: [string, () => void][];

  /**
   * Start tracking before the lease is granted: a lease granted after now expires no
   * earlier than now + TTL, so that is the first bound.
   */
  constructor(
    private readonly lease: Pick<EventEmitter, 'on' | 'off'>,
    private readonly options: LeaseWatchdogOptions,
  ) {
    this.validUntil = Date.now() + options.ttlMs;
    this.marginMs = options.marginMs ?? Math.min(500, Math.floor(options.ttlMs / 4));
    this.listeners = [
      // A new keepalive stream: answers to requests on the old one will never come.
      ['keepaliveEstablished', () => (this.sent.length = 0)],
      ['keepaliveFailed', () => (this.sent.length = 0)],
      ['keepaliveFired', () => this.sent.push(Date.now())],
      // Answers come in request order on one stream: the oldest open request is the one answered.
      ['keepaliveSucceeded', () => this.acked(this.sent.shift())],
    ];
    for (const [event, fn] of this.listeners) lease.on(event, fn);
  }

  /** Epoch ms until which this replica may act as leader (lease bound minus margin). */
  get safeUntil(): number {
    return this.validUntil - this.marginMs;
  }

  /** True when the lease is certainly alive for at least the margin. */
  get healthy(): boolean {
    return Date.now() < this.safeUntil;
  }

  /**
   * Calls `onExpiring` once, when the bound minus margin passes without a newer keepalive
   * answer (at once, asynchronously, if it already has). Used from election on.
   */
  arm(onExpiring: (reason: string) => void): void {
    this.onExpiring = onExpiring;
    this.schedule();
  }

  /** Removes the listeners and the timer; `onExpiring` will not be called. */
  stop(): void {
    this.onExpiring = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const [event, fn] of this.listeners) this.lease.off(event, fn);
  }

  private acked(sentAt: number | undefined): void {
    if (sentAt === undefined) return; // an answer we cannot date: it proves nothing
    this.validUntil = Math.max(this.validUntil, sentAt + this.options.ttlMs);
    if (this.onExpiring) this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const cb = this.onExpiring;
      if (!cb) return;
      if (Date.now() < this.safeUntil) return this.schedule(); // an answer moved the bound meanwhile
      this.onExpiring = undefined;
      this.timer = undefined;
      cb(`no lease keepalive answered for a keepalive sent in the last ${this.options.ttlMs - this.marginMs}ms`);
    }, Math.max(0, this.safeUntil - Date.now()));
  }
}
