/**
 * Admission messages from NATS into the enforcer (staged rollouts, DESIGN.md §10): after
 * every (re)connect the newest stored admission (one stored-message get), then every new
 * one on a plain core subscription (no consumer per node), and the newest again every
 * `pollMs` as a safety net for core messages lost around a reconnect (core delivery is at
 * most once). Hands raw bytes to `offer`; verification and "highest stateRevision wins"
 * belong to the enforcer core, so re-reading the same admission is harmless.
 *
 * Never publishes to NATS. An admission subject that has nothing yet is normal (no rollout
 * controller has published): the node then applies every new bundle at once.
 */
import { latestAdmission, subscribeAdmissions } from '@natfleet/bus';
import type { Logger } from '@natfleet/service-kit';
import { sleep } from '@natfleet/service-kit';
import type { NatsConnection } from 'nats';
import type { NatsLink } from './nats-link.js';

export interface AdmissionFeedOptions {
  link: NatsLink;
  cluster: string;
  /** The core's Enforcer.offerAdmission. */
  offer: (data: Uint8Array) => void;
  /** Pause between re-reads of the newest admission (safety net); 0 = only after connects. */
  pollMs: number;
  /** Pause before starting over after an error. */
  retryMs: number;
  logger: Logger;
}

/** Timeout of the stored-message get. */
const GET_TIMEOUT_MS = 2_000;

export class AdmissionFeed {
  private readonly stop = new AbortController();
  private loop: Promise<void> = Promise.resolve();
  private subscribed = false;

  constructor(private readonly o: AdmissionFeedOptions) {}

  start(): void {
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.loop;
  }

  /** True while the subscription is live. */
  get isSubscribed(): boolean {
    return this.subscribed;
  }

  private async run(): Promise<void> {
    let lastError = '';
    while (!this.stop.signal.aborted) {
      const nc = await this.o.link.whenConnected();
      if (!nc || this.stop.signal.aborted) return;
      // One session per connection epoch: a disconnect (or shutdown) ends it, the next re-reads the latest.
      const session = new AbortController();
      const endSession = (): void => session.abort();
      this.stop.signal.addEventListener('abort', endSession, { once: true });
      const unsubscribe = this.o.link.subscribe((e) => {
        if (e.type !== 'connected') endSession();
      });
      let failed = false;
      try {
        // Subscribe first, then read the latest: one published in between is seen either way.
        const messages = subscribeAdmissions(nc, this.o.cluster, session.signal);
        const following = this.follow(messages);
        this.subscribed = true;
        this.o.logger.info({ cluster: this.o.cluster }, 'following admissions');
        lastError = '';
        const polling = this.poll(nc, session.signal);
        await Promise.race([following, polling]);
        if (!session.signal.aborted) throw new Error('admission subscription ended');
        await Promise.all([following, polling]);
      } catch (err) {
        failed = true;
        const text = (err as Error).message;
        if (text !== lastError) this.o.logger.warn({ err, retryInMs: this.o.retryMs }, 'following admissions failed: starting over');
        lastError = text;
      } finally {
        session.abort();
        unsubscribe();
        this.stop.signal.removeEventListener('abort', endSession);
        if (this.subscribed && !this.stop.signal.aborted) this.o.logger.warn({ connected: this.o.link.isConnected }, 'admission subscription lost: re-reading the latest when connected again');
        this.subscribed = false;
      }
      if (failed && !this.stop.signal.aborted) await sleep(this.o.retryMs, this.stop.signal);
    }
  }

  private async follow(messages: AsyncIterable<{ data: Uint8Array }>): Promise<void> {
    for await (const m of messages) {
      this.o.logger.debug({ bytes: m.data.length, via: 'subscription' }, 'admission message');
      this.o.offer(m.data);
    }
  }

  /** The latest now, then every pollMs until `signal` aborts. A failed read is logged, not fatal. */
  private async poll(nc: NatsConnection, signal: AbortSignal): Promise<void> {
    let failing = '';
    while (!signal.aborted) {
      try {
        const latest = await latestAdmission(await nc.jetstreamManager({ timeout: GET_TIMEOUT_MS }), this.o.cluster);
        if (signal.aborted) return;
        if (latest) {
          this.o.logger.debug({ seq: latest.seq, bytes: latest.data.length, via: 'latest' }, 'admission message');
          this.o.offer(latest.data);
        }
        if (failing) this.o.logger.info('reading the latest admission works again');
        failing = '';
      } catch (err) {
        const text = (err as Error).message;
        if (text !== failing) this.o.logger.warn({ err }, 'cannot read the latest admission: retrying at the next poll');
        failing = text;
      }
      if (this.o.pollMs <= 0) {
        await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
        return;
      }
      // A failed read (e.g. the first one right after a reconnect) is retried sooner than the next poll.
      await sleep(failing ? Math.min(this.o.pollMs, this.o.retryMs) : this.o.pollMs, signal);
    }
  }
}
