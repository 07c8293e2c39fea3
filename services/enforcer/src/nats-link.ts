/**
 * The enforcer's NATS connection: connects in the background (the enforcer must run,
 * fail static, while NATS is down), lets nats.js reconnect forever, starts over if the
 * connection is ever closed for good, and tells listeners when it came back so they can
 * resync. Tracks the `nats_connected` gauge. Never blocks the caller on connecting.
 */
import { connect, Events, type NatsConnection } from 'nats';
import { inboxPrefix } from '@natfleet/bus';
import type { Logger, NatsTls } from '@natfleet/service-kit';
import { sleep } from '@natfleet/service-kit';
import type { EnforcerMetrics } from './metrics.js';

export interface NatsLinkOptions {
  servers: string[];
  user?: string;
  password?: string;
  /** TLS options for nats.js (service-kit loadNatsTls); absent = plain. */
  tls?: NatsTls;
  /** Client name shown by the server (`natfleet-enforcer/<node>`). */
  name: string;
  logger: Logger;
  metrics: EnforcerMetrics;
}

/** What the link went through, tagged by `type` (for listeners and logs). */
export type LinkEvent = { type: 'connected'; server: string } | { type: 'reconnected'; server: string } | { type: 'disconnected' };

/** First-connect retries back off from 250 ms to this (after that nats.js reconnects every 500 ms). */
const MAX_CONNECT_BACKOFF_MS = 2_000;

export class NatsLink {
  private nc: NatsConnection | undefined;
  private connected = false;
  private readonly stop = new AbortController();
  private readonly listeners = new Set<(e: LinkEvent) => void>();
  private waiters: (() => void)[] = [];
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly o: NatsLinkOptions) {}

  /** Starts connecting in the background. */
  start(): void {
    this.loop = this.connectLoop();
  }

  /** True while connected (not while reconnecting). */
  get isConnected(): boolean {
    return this.connected;
  }

  /** For /readyz. */
  readiness(): { ok: boolean; detail: string } {
    return this.connected ? { ok: true, detail: `connected to ${this.nc?.getServer() ?? '?'}` } : { ok: false, detail: 'not connected to NATS' };
  }

  /** The connection once connected; undefined when the link is closing. */
  async whenConnected(): Promise<NatsConnection | undefined> {
    while (!this.stop.signal.aborted) {
      if (this.connected && this.nc) return this.nc;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return undefined;
  }

  /** Calls `listener` on every link event; returns the unsubscribe function. */
  subscribe(listener: (e: LinkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Closes the connection and stops reconnecting. */
  async close(): Promise<void> {
    this.stop.abort();
    this.release();
    const nc = this.nc;
    this.nc = undefined;
    await nc?.close().catch(() => undefined);
    await this.loop;
    this.setConnected(false);
  }

  private async connectLoop(): Promise<void> {
    for (let attempt = 0; !this.stop.signal.aborted; ) {
      let nc: NatsConnection;
      try {
        nc = await connect({
          servers: this.o.servers,
          // Replies arrive under the user's own inbox prefix, the only one it may subscribe to.
          ...(this.o.user !== undefined ? { user: this.o.user, pass: this.o.password, inboxPrefix: inboxPrefix(this.o.user) } : {}),
          ...(this.o.tls ? { tls: this.o.tls } : {}),
          name: this.o.name,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          reconnectJitter: 250,
          // Notice a silently dead server within ~30 s (the default ping is every 2 min).
          pingInterval: 10_000,
          maxPingOut: 3,
          timeout: 5_000,
        });
      } catch (err) {
        attempt++;
        const retryInMs = Math.min(125 * 2 ** attempt, MAX_CONNECT_BACKOFF_MS) + Math.floor(Math.random() * 100);
        const authFailed = (err as { isAuthError?: () => boolean }).isAuthError?.() === true;
        if (authFailed && attempt % 30 === 1) {
          // Not an outage but a setting to fix: say so loudly, and keep saying it.
          this.o.logger.error({ err, servers: this.o.servers, user: this.o.user, retryInMs }, 'NATS refused the credentials: check --nats-user / --nats-password (NATFLEET_NATS_USER / NATFLEET_NATS_PASSWORD)');
        } else if (attempt === 1) {
          // Loud once, then quiet: NATS being down is a state the enforcer is built for.
          this.o.logger.warn({ err, servers: this.o.servers, retryInMs }, 'cannot reach NATS yet: enforcing the saved bundle, retrying');
        } else this.o.logger.debug({ err, attempt, retryInMs }, 'NATS still unreachable');
        await sleep(retryInMs, this.stop.signal);
        continue;
      }
      if (this.stop.signal.aborted) {
        await nc.close().catch(() => undefined);
        return;
      }
      attempt = 0;
      this.nc = nc;
      this.o.logger.info({ server: nc.getServer() }, 'connected to NATS');
      this.setConnected(true);
      this.emit({ type: 'connected', server: nc.getServer() });
      void this.watchStatus(nc);
      const err = await nc.closed();
      this.setConnected(false);
      if (this.stop.signal.aborted) return;
      this.o.logger.warn({ err }, 'NATS connection closed for good: connecting again');
      this.nc = undefined;
      await sleep(500, this.stop.signal);
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === Events.Disconnect) {
        this.setConnected(false);
        this.o.logger.warn({ server: String(s.data) }, 'disconnected from NATS: reconnecting, rules stay in force');
        this.emit({ type: 'disconnected' });
      } else if (s.type === Events.Reconnect) {
        this.o.logger.info({ server: String(s.data) }, 'reconnected to NATS: resyncing');
        this.setConnected(true);
        this.emit({ type: 'reconnected', server: String(s.data) });
      } else if (s.type === Events.Error) {
        // Consumer clean-ups (nats.js replacing an ordered consumer, a bundle follow ending)
        // are best-effort: the enforcer's user may not delete consumers, the server drops
        // them once inactive. Not worth a warning each time.
        const ctx = s.permissionContext;
        if (ctx?.operation === 'publish' && ctx.subject.startsWith('$JS.API.CONSUMER.DELETE.')) this.o.logger.debug({ subject: ctx.subject }, 'NATS refused a consumer clean-up (expected: the server drops it when inactive)');
        else this.o.logger.warn({ error: String(s.data), ...(ctx ? { permission: ctx } : {}) }, 'NATS reported an error');
      } else if (s.type === Events.LDM) {
        this.o.logger.info({ server: String(s.data) }, 'NATS server entering lame duck mode');
      }
    }
  }

  private setConnected(connected: boolean): void {
    this.connected = connected;
    this.o.metrics.natsConnected.set(connected ? 1 : 0);
    if (connected) this.release();
  }

  private release(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private emit(e: LinkEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.o.logger.error({ err }, 'NATS link listener failed');
      }
    }
  }
}
