/**
 * Bundle messages from NATS into the enforcer: the latest of this cluster's subject
 * (last-per-subject), then every new one, through a consumer of its own (followBundles:
 * R1, in memory, removed by the server when idle). Starts over after any error and after
 * every reconnect (re-reading the latest, so a node that missed bundles while cut off
 * converges at once). Hands raw bytes to `offer`; decoding, verification and ordering
 * belong to the enforcer core. Never publishes to NATS.
 *
 * Also owns noticing a stalled feed while the connection looks fine — the server hosting
 * the consumer died (the client stays connected to another cluster node and nats.js
 * waits tens of seconds), or the consumer lives but does not deliver:
 *   - the consumer asks for idle heartbeats; two missed in a row = stalled;
 *   - every `checkIntervalMs` the stream is asked for a bundle past the last delivered one
 *     (no payload travels when there is none); one still undelivered a check later = stalled.
 * A stall is logged, counted, makes /readyz fail with the reason, and starts the session
 * over at once (a new consumer from the latest bundle); the feed is ready again when a
 * bundle flows (or the new consumer has nothing to deliver).
 *
 * Not following is not ready either: until a session has a live consumer — before the
 * first one, while a consumer cannot be created (JetStream unavailable, quorum lost, no
 * stream) and after a session ends (disconnect, error) — /readyz fails with the reason.
 *
 * A forged or garbage newest message must not hide the genuine bundle from a node that
 * starts (or starts over) with nothing newer: when the latest does not verify, the kept
 * messages are walked back to the newest that does, which is offered instead (the core
 * still keeps "newest wins" among genuine ones).
 */
import { bundleAfter, bundleHistory, followBundles, latestBundle, type FollowEvent, type StoredBundle } from '@natfleet/bus';
import type { Logger, ReadinessCheck } from '@natfleet/service-kit';
import { sleep } from '@natfleet/service-kit';
import type { JetStreamManager, NatsConnection } from 'nats';
import type { IncomingBundle } from './enforcer.js';
import type { EnforcerMetrics } from './metrics.js';
import type { NatsLink } from './nats-link.js';

export interface BundleFeedOptions {
  link: NatsLink;
  cluster: string;
  offer: (msg: IncomingBundle) => void;
  /** The message's verified version, or undefined when it is not a genuine bundle (Enforcer.genuineVersion). */
  genuineVersion: (msg: IncomingBundle) => number | undefined;
  /** Version of the newest verified bundle the core holds; 0 when none (Enforcer.heldVersion). */
  heldVersion: () => number;
  /** Pause before starting over after an error (e.g. the stream does not exist yet). */
  retryMs: number;
  /** Idle heartbeat asked of the consumer, ms; two missed in a row = stalled. */
  heartbeatMs: number;
  /** Pause between "was a bundle left undelivered?" checks, ms; 0 = no checks. */
  checkIntervalMs: number;
  logger: Logger;
  metrics: EnforcerMetrics;
  /**
   * Run at the start of every follow session, before the latest bundle is read: the daemon
   * re-reads the newest admission here, so after a reconnect a node that missed admissions
   * (core delivery is at most once) knows whether a rollout holds the newest bundle back
   * before it is offered that bundle. Must not throw.
   */
  beforeSession?: (nc: NatsConnection) => Promise<void>;
}

/** Why the feed was declared stalled (the `reason` label of feed_stalls_total). */
export type StallReason = 'heartbeats_missed' | 'behind';

interface Stall {
  reason: StallReason;
  detail: string;
  since: Date;
}

/**
 * Timeout of the feed's JetStream requests. Creating a consumer normally takes
 * milliseconds; one placed on a dead server never answers, and is retried under a new name
 * after this long.
 */
export const FEED_API_TIMEOUT_MS = 2_000;

export class BundleFeed {
  private readonly stop = new AbortController();
  private loop: Promise<void> = Promise.resolve();
  private stall: Stall | undefined;
  private consumer: { name: string; server: string } | undefined;
  /** Why no session is live (undefined while one is): readiness fails with it. */
  private notFollowing: { reason: string; since: Date } | undefined = { reason: 'no consumer yet', since: new Date() };

  constructor(private readonly o: BundleFeedOptions) {}

  start(): void {
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.loop;
  }

  /** For /readyz: not ok while stalled, or while no consumer is live (before the first one too), with the reason. */
  readiness(): ReadinessCheck {
    const s = this.stall;
    if (s) return { ok: false, detail: `bundle feed stalled since ${s.since.toISOString()} (${s.reason}: ${s.detail}); re-creating the consumer` };
    const n = this.notFollowing;
    if (n) return { ok: false, detail: `not following bundles since ${n.since.toISOString()}: ${n.reason}` };
    const c = this.consumer;
    return { ok: true, detail: `following bundles (consumer ${c?.name ?? '?'} on ${c?.server || '?'})` };
  }

  private async run(): Promise<void> {
    let lastError = '';
    // A stall right after another, with nothing delivered in between, waits retryMs (no consumer churn).
    let stalledLastTime = false;
    while (!this.stop.signal.aborted) {
      const nc = await this.o.link.whenConnected();
      if (!nc || this.stop.signal.aborted) return;
      // One follow session per connection epoch: a reconnect, a stall (or shutdown) ends it.
      const session = new AbortController();
      const endSession = (): void => session.abort();
      this.stop.signal.addEventListener('abort', endSession, { once: true });
      const unsubscribe = this.o.link.subscribe((e) => {
        if (e.type !== 'connected') endSession();
      });
      let stalled = false;
      let interrupted = false;
      let delivered = 0;
      let watching: Promise<void> = Promise.resolve();
      const onStall = (reason: StallReason, detail: string): void => {
        if (session.signal.aborted) return;
        stalled = true;
        this.stalled(reason, detail);
        session.abort();
      };
      try {
        const jsm = await nc.jetstreamManager();
        await this.o.beforeSession?.(nc);
        if (session.signal.aborted) continue;
        const latest = await latestBundle(jsm, this.o.cluster);
        // Set when the latest did not verify and an older genuine one was offered instead:
        // the consumer then starts after the latest, so it cannot supersede that one.
        let after = 0;
        if (latest) {
          delivered = latest.seq;
          const genuine = await this.newestGenuine(nc, latest);
          if (genuine !== latest) after = latest.seq;
          if (genuine) this.hand(genuine, genuine === latest ? 'latest' : 'history');
        }
        if (this.o.checkIntervalMs > 0) watching = this.watch(jsm, () => delivered, session.signal, onStall);
        const onEvent = (e: FollowEvent): void => {
          if (session.signal.aborted) return;
          // Started after the latest (none, or one that does not verify): nothing will be delivered to prove it flows.
          if (e.type === 'consumer_created' && (!latest || after > 0)) this.resumed('the new consumer has no bundle to deliver');
          this.event(e, onStall);
        };
        const follow = { signal: session.signal, idleHeartbeatMs: this.o.heartbeatMs, onEvent, after };
        for await (const b of followBundles(nc.jetstream({ timeout: FEED_API_TIMEOUT_MS }), this.o.cluster, follow)) {
          delivered = Math.max(delivered, b.seq);
          this.hand(b, 'follow');
          this.resumed('a bundle was delivered');
          stalledLastTime = false;
          lastError = '';
        }
        if (!session.signal.aborted) throw new Error('bundle consumer ended');
      } catch (err) {
        const text = (err as Error).message;
        // Loud on a new kind of failure, quiet while it persists (e.g. waiting for the compiler to create the stream).
        if (text !== lastError) this.o.logger.warn({ err, retryInMs: this.o.retryMs }, 'following bundles failed: starting over');
        else this.o.logger.debug({ err }, 'following bundles still failing');
        lastError = text;
        this.lost(`following bundles failed: ${text}`);
      } finally {
        interrupted = session.signal.aborted;
        // A session that ended by an error already said why (above).
        if (!this.stop.signal.aborted && !this.notFollowing) this.lost(stalled ? 'stalled: re-creating the consumer' : this.o.link.isConnected ? 'session ended: starting over' : 'disconnected from NATS');
        session.abort();
        unsubscribe();
        this.stop.signal.removeEventListener('abort', endSession);
        await watching;
      }
      if (this.stop.signal.aborted) return;
      if (stalled) {
        // Start over at once: a new consumer from the latest bundle converges the node now.
        if (stalledLastTime) await sleep(this.o.retryMs, this.stop.signal);
        stalledLastTime = true;
      } else if (!interrupted) await sleep(this.o.retryMs, this.stop.signal);
    }
  }

  /** Logs what the consumer reports; missed heartbeats mean the feed is stalled. */
  private event(e: FollowEvent, onStall: (reason: StallReason, detail: string) => void): void {
    const log = this.o.logger;
    switch (e.type) {
      case 'consumer_created':
        this.consumer = { name: e.consumer, server: e.server };
        this.notFollowing = undefined;
        log.info({ consumer: e.consumer, server: e.server }, 'following bundles');
        break;
      case 'consumer_create_timeout':
        log.warn({ consumer: e.consumer, attempt: e.attempt, timeoutMs: FEED_API_TIMEOUT_MS }, 'creating the bundle consumer got no answer (its server may be down): trying again');
        break;
      case 'heartbeats_missed':
        onStall('heartbeats_missed', `${e.missed} idle heartbeats (every ${this.o.heartbeatMs} ms) missed from consumer ${this.consumer?.name ?? '?'} on ${this.consumer?.server || '?'}`);
        break;
      case 'consumer_lost':
        // followBundles replaces it by itself, resuming after the last bundle delivered;
        // not following until the replacement exists.
        this.lost(`consumer ${this.consumer?.name ?? '?'} lost (${e.reason})`);
        log.warn({ reason: e.reason, detail: e.detail, consumer: this.consumer?.name }, e.reason === 'stream_not_found' ? 'bundle stream not found' : 'bundle consumer lost: replacing it');
        break;
      case 'debug':
        log.debug({ event: e.event, detail: e.detail }, 'bundle consumer event');
        break;
    }
  }

  /**
   * Every checkIntervalMs: is a bundle on the stream that this session has not delivered?
   * The same one still undelivered one check later = stalled. Failed checks are logged,
   * never a stall (the stream's own outage is not the consumer's).
   */
  private async watch(jsm: JetStreamManager, delivered: () => number, signal: AbortSignal, onStall: (reason: StallReason, detail: string) => void): Promise<void> {
    let behind: StoredBundle | undefined;
    let failing = '';
    while (!signal.aborted) {
      await sleep(this.o.checkIntervalMs, signal);
      if (signal.aborted) return;
      if (!this.o.link.isConnected) {
        behind = undefined;
        continue;
      }
      if (behind && delivered() >= behind.seq) behind = undefined;
      try {
        const next = await bundleAfter(jsm, this.o.cluster, delivered() + 1);
        if (signal.aborted) return;
        failing = '';
        if (!next || delivered() >= next.seq) continue;
        if (!behind) {
          behind = next;
          this.o.logger.debug({ seq: next.seq, version: next.version, delivered: delivered() }, 'a bundle is on the stream but not delivered yet');
          continue;
        }
        onStall('behind', `bundle v${behind.version} (seq ${behind.seq}) is on the stream but was not delivered within ${this.o.checkIntervalMs} ms (last delivered seq ${delivered()})`);
        return;
      } catch (err) {
        const text = (err as Error).message;
        if (text !== failing) this.o.logger.warn({ err }, 'cannot check the bundle stream for undelivered bundles');
        failing = text;
        behind = undefined;
      }
    }
  }

  private stalled(reason: StallReason, detail: string): void {
    const first = this.stall === undefined;
    this.o.metrics.feedStalls.inc({ reason });
    this.o.metrics.feedStalled.set(1);
    this.stall = { reason, detail, since: this.stall?.since ?? new Date() };
    const fields = { reason, detail, consumer: this.consumer?.name, server: this.consumer?.server };
    if (first) this.o.logger.warn(fields, 'bundle feed stalled: re-creating the consumer from the latest bundle');
    else this.o.logger.warn(fields, 'bundle feed still stalled: re-creating the consumer again');
  }

  /** No live consumer (any more): the newest reason, since the start of the outage. */
  private lost(reason: string): void {
    this.consumer = undefined;
    this.notFollowing = { reason, since: this.notFollowing?.since ?? new Date() };
  }

  /**
   * What to offer at session start: `latest` when it verifies; else the newest kept
   * message that verifies, when it is newer than what the core holds; else undefined when
   * the core holds something (nothing to offer), or `latest` when it holds nothing (the core
   * notes it). Never throws: a failed walk is logged and gives `latest` (the next session
   * walks again).
   */
  private async newestGenuine(nc: NatsConnection, latest: StoredBundle): Promise<StoredBundle | undefined> {
    if (this.o.genuineVersion(latest) !== undefined) return latest;
    const held = this.o.heldVersion();
    try {
      const history = await bundleHistory(nc.jetstream({ timeout: FEED_API_TIMEOUT_MS }), this.o.cluster);
      for (const b of history.reverse()) {
        if (b.seq >= latest.seq) continue;
        const v = this.o.genuineVersion(b);
        if (v === undefined) continue;
        if (v <= held) break; // the core has this (or newer): nothing to offer
        this.o.logger.warn({ latestSeq: latest.seq, latestHeaderVersion: latest.version, seq: b.seq, version: v }, 'the newest message on the subject is not a genuine bundle: offering the newest genuine one instead');
        return b;
      }
      this.o.logger.warn({ latestSeq: latest.seq, latestHeaderVersion: latest.version, held }, 'the newest message on the subject is not a genuine bundle, and no kept genuine one is newer than what is held');
      return held > 0 ? undefined : latest;
    } catch (err) {
      this.o.logger.warn({ err }, 'cannot read the kept bundles to look past a message that is not a genuine bundle');
      return latest;
    }
  }

  private resumed(why: string): void {
    const s = this.stall;
    if (!s) return;
    this.stall = undefined;
    this.o.metrics.feedStalled.set(0);
    this.o.logger.info({ reason: s.reason, stalledMs: Date.now() - s.since.getTime(), why }, 'bundle feed flowing again');
  }

  private hand(b: StoredBundle, via: 'latest' | 'history' | 'follow'): void {
    this.o.logger.debug({ seq: b.seq, version: b.version, digest: b.digest, bytes: b.data.length, via }, 'bundle message');
    this.o.offer({ seq: b.seq, version: b.version, data: b.data });
  }
}
