/**
 * Fetching the bundle an admission names when this node does not hold it (e.g. a rollback
 * to a stable version it never ran, or an admission that arrived before its bundle): the
 * wait (reported as TARGET_UNAVAILABLE while it lasts), the fetch through the daemon's
 * callback (the stream's kept history), verification (version AND digest must be the
 * admitted ones), and the back-off while it is absent.
 *
 * Runs beside the enforcer loop, never inside it, and never touches nft: a found bundle is
 * handed to `onFound`, and the loop applies it.
 */
import type { Bundle } from '@natfleet/bundle';
import type { Logger } from '@natfleet/service-kit';
import type { TargetWait } from './enforcer-status.js';
import type { EnforcerMetrics } from './metrics.js';

export interface TargetFetcherOptions {
  /** The raw message bytes of the bundle, or undefined when not there; absent = never fetch (wait for the feed). */
  fetchBundle?: ((ref: { version: number; digest: string }) => Promise<Uint8Array | undefined>) | undefined;
  /** The core's verification (signature, cluster, size); throws when not genuine. */
  verify: (data: Uint8Array) => Bundle;
  /** First pause after an absent or failed fetch; doubles up to `maxFactor` times. */
  retryIntervalMs: number;
  maxFactor: number;
  logger: Logger;
  metrics: EnforcerMetrics;
  /** A verified bundle that is the awaited one (called asynchronously). */
  onFound: (bundle: Bundle) => void;
}

type Wait = TargetWait & { attempts: number; nextAt: number };

export class TargetFetcher {
  private wait: Wait | undefined;
  private fetching = false;

  constructor(private readonly o: TargetFetcherOptions) {}

  /** The wait in progress, if any (for status and readiness). */
  get waiting(): TargetWait | undefined {
    return this.wait;
  }

  /** When the next fetch is due (epoch ms); Infinity when nothing to fetch or one is running. */
  get dueAt(): number {
    return this.wait && !this.fetching ? this.wait.nextAt : Infinity;
  }

  /**
   * Starts waiting for `version`/`digest` (the first fetch due at once). False when that
   * wait is already in progress (nothing changed).
   */
  await(version: number, digest: string, inForce: number): boolean {
    if (this.wait && this.wait.version === version && this.wait.digest === digest) return false;
    this.wait = {
      code: 'TARGET_UNAVAILABLE',
      version,
      digest,
      message: `the admission names v${version} (${digest}) for this node, which it does not hold: fetching it from the stream`,
      since: new Date().toISOString(),
      attempts: 0,
      nextAt: Date.now(),
    };
    this.o.logger.warn({ version, digest, inForce }, 'admitted bundle not held: fetching it; the table stays as it is');
    return true;
  }

  /** Ends the wait (the bundle is held now, or the target changed). True when one was in progress. */
  clear(): boolean {
    const had = this.wait !== undefined;
    this.wait = undefined;
    return had;
  }

  /** Fetches once (in the background); a miss schedules the next try with back-off. `done` is called after either. */
  start(done: () => void): void {
    const w = this.wait;
    if (!w || this.fetching) return;
    w.attempts++;
    const fetchBundle = this.o.fetchBundle;
    if (!fetchBundle) {
      w.nextAt = Infinity; // nothing to fetch with: a bundle from the feed ends the wait
      return;
    }
    this.fetching = true;
    const ref = { version: w.version, digest: w.digest };
    const attempt = async (): Promise<Bundle | undefined> => {
      const data = await fetchBundle(ref);
      if (!data) {
        this.o.metrics.targetFetches.inc({ result: 'absent' });
        return undefined;
      }
      const bundle = this.o.verify(data);
      if (bundle.version !== ref.version || bundle.digest !== ref.digest) throw new Error(`fetched v${bundle.version} (${bundle.digest}), not the admitted v${ref.version} (${ref.digest})`);
      this.o.metrics.targetFetches.inc({ result: 'found' });
      return bundle;
    };
    void attempt()
      .catch((err: unknown) => {
        this.o.metrics.targetFetches.inc({ result: 'error' });
        this.o.logger.warn({ err, version: ref.version, attempt: w.attempts }, 'fetching the admitted bundle failed');
        return undefined;
      })
      .then((bundle) => {
        this.fetching = false;
        if (bundle && this.wait === w) {
          this.o.logger.info({ version: bundle.version, digest: bundle.digest, attempts: w.attempts }, 'admitted bundle fetched from the stream history');
          this.o.onFound(bundle);
        } else if (this.wait === w) {
          const delay = this.o.retryIntervalMs * Math.min(2 ** (w.attempts - 1), this.o.maxFactor);
          w.nextAt = Date.now() + delay;
          if (w.attempts === 1 || w.attempts % 10 === 0) this.o.logger.warn({ version: ref.version, digest: ref.digest, attempts: w.attempts, retryInMs: delay }, 'admitted bundle not found in the stream history: trying again');
        }
        done();
      });
  }
}
