/**
 * Bundle messages from NATS into the enforcer: the latest of this cluster's subject
 * (last-per-subject), then every new one, through an ordered consumer. Starts over after
 * any error and after every reconnect (re-reading the latest, so a node that missed
 * bundles while cut off converges at once). Hands raw bytes to `offer`; decoding,
 * verification and ordering belong to the enforcer core. Never writes to NATS.
 */
import { followBundles, latestBundle, type StoredBundle } from '@natfleet/bus';
import type { Logger } from '@natfleet/service-kit';
import { sleep } from '@natfleet/service-kit';
import type { IncomingBundle } from './enforcer.js';
import type { NatsLink } from './nats-link.js';

export interface BundleFeedOptions {
  link: NatsLink;
  cluster: string;
  offer: (msg: IncomingBundle) => void;
  /** Pause before starting over after an error (e.g. the stream does not exist yet). */
  retryMs: number;
  logger: Logger;
}

export class BundleFeed {
  private readonly stop = new AbortController();
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly o: BundleFeedOptions) {}

  start(): void {
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    let lastError = '';
    while (!this.stop.signal.aborted) {
      const nc = await this.o.link.whenConnected();
      if (!nc || this.stop.signal.aborted) return;
      // One follow session per connection epoch: a reconnect (or shutdown) ends it.
      const session = new AbortController();
      const endSession = (): void => session.abort();
      this.stop.signal.addEventListener('abort', endSession, { once: true });
      const unsubscribe = this.o.link.subscribe((e) => {
        if (e.type !== 'connected') endSession();
      });
      try {
        const latest = await latestBundle(await nc.jetstreamManager(), this.o.cluster);
        if (latest) this.hand(latest, 'latest');
        for await (const b of followBundles(nc.jetstream(), this.o.cluster, session.signal)) {
          this.hand(b, 'follow');
          lastError = '';
        }
        if (!session.signal.aborted) throw new Error('bundle consumer ended');
      } catch (err) {
        const text = (err as Error).message;
        // Loud on a new kind of failure, quiet while it persists (e.g. waiting for the compiler to create the stream).
        if (text !== lastError) this.o.logger.warn({ err, retryInMs: this.o.retryMs }, 'following bundles failed: starting over');
        else this.o.logger.debug({ err }, 'following bundles still failing');
        lastError = text;
      } finally {
        unsubscribe();
        this.stop.signal.removeEventListener('abort', endSession);
      }
      if (!session.signal.aborted) await sleep(this.o.retryMs, this.stop.signal);
    }
  }

  private hand(b: StoredBundle, via: 'latest' | 'follow'): void {
    this.o.logger.debug({ seq: b.seq, version: b.version, digest: b.digest, bytes: b.data.length, via }, 'bundle message');
    this.o.offer({ seq: b.seq, version: b.version, data: b.data });
  }
}
