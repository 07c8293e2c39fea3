/**
 * The leader's pipeline for one term: list at a revision, then watch from the next one;
 * debounce changes; on each due batch read one consistent snapshot, compile, sign and
 * publish (or skip). The change feed is only a trigger — every compile starts from a
 * fresh snapshot, so a resync (compaction, reconnect) is just one more trigger and no
 * event needs to be applied incrementally.
 *
 * While etcd or NATS fail, the last bundle stays on the stream (enforcers keep it), the
 * pipeline reports itself unhealthy, and it retries with backoff. It stops when the
 * term's AbortSignal aborts; a publish is never started after that.
 *
 * After every evaluation whose result is known to be enforced by the newest bundle
 * (published now, skipped as unchanged, or that very revision already published) it
 * notes `{revision, bundleVersion}` to the evaluation recorder (evaluation-recorder.ts), so
 * a write that changed nothing enforced still resolves (DESIGN.md §9).
 *
 * Never: campaigns, touches the node registry, or creates clients — all arrive as deps,
 * so tests can drive it with fakes.
 */
import { bundleContentDigest, encodeBundle, sealBundle, type SigningKey } from '@natfleet/bundle';
import { DecodeCache, compile } from '@natfleet/compiler-core';
import { parseResourceKey } from '@natfleet/model';
import type { ChangeEvent, StoreSnapshot } from '@natfleet/store';
import type { Logger } from '@natfleet/service-kit';
import { decidePublish, type BundlePublisher } from './bundle-publisher.js';
import { Debouncer, type Batch, type DebouncerOptions } from './debouncer.js';
import { abortReason, isCompilerError } from './errors.js';
import type { Evaluated } from './evaluation-recorder.js';
import type { CompilerMetrics } from './metrics.js';
import { WarningTracker } from './warning-tracker.js';

export interface PipelineDeps {
  snapshot: () => Promise<StoreSnapshot>;
  /** Change events from `fromRevision` on, until `signal` aborts. */
  feed: (fromRevision: number, signal: AbortSignal) => AsyncIterable<ChangeEvent>;
  publisher: BundlePublisher;
  key: SigningKey;
  cluster: string;
  prefix: string;
  debounce: DebouncerOptions;
  metrics: CompilerMetrics;
  logger: Logger;
  /** Shared across terms, so a re-elected leader does not report known warnings again. */
  warnings: WarningTracker;
  /** Retry backoff after a failed cycle (ms). Default 200 → 5000. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Told each evaluated revision and the bundle enforcing it (an EvaluationRecorder); none = not recorded. */
  evaluations?: { note(e: Evaluated): void };
  /**
   * The term's rollout controller (rollout-controller.ts): told the newest bundle after
   * every publish or skip, and wrapped around the publish of a NEW bundle, which it runs
   * only once the admission on the stream reflects whether a RolloutPolicy exists
   * (throwing fails the cycle, which is retried). None = no staged rollouts.
   */
  rollout?: {
    noteCandidate(ref: { version: number; digest: string }): void;
    /**
     * Runs the publish of a NEW bundle once the admission reflects whether a policy exists, with the controller's steps held off meanwhile.
     * `current`: the newest bundle on the stream before it (a new term's first publish comes before any noteCandidate).
     */
    guardPublish<T>(publish: () => Promise<T>, current?: { version: number; digest: string }): Promise<T>;
  };
}

/** What /readyz shows for the leader. */
export interface PipelineHealth {
  /** The etcd watch is live (false while etcd is unreachable or the watch is being re-made). */
  watchLive: boolean;
  /** The last cycle read, compiled and published-or-skipped without error. */
  lastCycleOk: boolean;
  detail: string;
}

export class LeaderPipeline {
  private readonly state: PipelineHealth = { watchLive: false, lastCycleOk: false, detail: 'starting' };
  private failures = 0;
  private reportedBehind = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * While cycles fail, no cycle starts before this time (ms epoch), whatever triggers it:
   * etcd changes arriving during the backoff wait for the retry (which reads a fresh
   * snapshot, so none is lost) instead of each hitting a failing NATS and logging.
   */
  private nextAttemptAt = 0;
  /** Each compile re-validates only the etcd entries that changed since the previous one. */
  private readonly decodeCache = new DecodeCache();

  constructor(private readonly deps: PipelineDeps) {}

  get health(): Readonly<PipelineHealth> {
    return this.state;
  }

  /** Runs until `term` aborts. Never throws. */
  async run(term: AbortSignal): Promise<void> {
    const debouncer = new Debouncer(this.deps.debounce);
    try {
      // List at a revision (compiling and publishing it)…
      let revision = await this.cycle(term, { firstAt: Date.now(), changes: 0 }, debouncer);
      while (revision === undefined) {
        const retry = await debouncer.wait(term); // a failed cycle schedules its retry
        if (!retry) return;
        revision = await this.cycle(term, retry, debouncer);
      }
      if (term.aborted) return;
      // …then watch from the next one, so nothing written after the list is missed.
      const feedDone = this.consumeFeed(this.deps.feed(revision + 1, term), debouncer);
      for (;;) {
        const batch = await debouncer.wait(term);
        if (!batch) break;
        await this.cycle(term, batch, debouncer);
      }
      await feedDone;
    } finally {
      debouncer.cancel();
      if (this.retryTimer) clearTimeout(this.retryTimer);
    }
  }

  private async consumeFeed(feed: AsyncIterable<ChangeEvent>, debouncer: Debouncer): Promise<void> {
    const { logger, metrics, prefix } = this.deps;
    // Live until the feed says otherwise: it reports a watch it cannot create as 'disconnected'.
    this.state.watchLive = true;
    for await (const ev of feed) {
      switch (ev.type) {
        case 'change':
          this.state.watchLive = true;
          // Other Calico resources may share the prefix; only ours can change a bundle.
          if (ev.keys.some((k) => parseResourceKey(k, prefix) !== undefined)) debouncer.trigger();
          break;
        case 'resync':
          this.state.watchLive = true;
          metrics.etcdResyncs.inc();
          logger.info({ reason: ev.reason }, 'etcd watch live again; recompiling from a fresh snapshot');
          debouncer.trigger();
          break;
        case 'disconnected':
          if (this.state.watchLive) logger.warn({ reason: ev.reason }, 'etcd watch disconnected; the last bundle stays published');
          this.state.watchLive = false;
          this.state.detail = `etcd watch disconnected: ${ev.reason}`;
          break;
      }
    }
  }

  /**
   * One snapshot → compile → publish round. Returns the snapshot's revision, or undefined
   * when no snapshot could be read. Failures after the read schedule a retry.
   */
  private async cycle(term: AbortSignal, batch: Batch, debouncer: Debouncer): Promise<number | undefined> {
    if (Date.now() + 5 < this.nextAttemptAt) return undefined; // backing off: the retry timer will flush
    try {
      return await this.cycleOnce(term, batch, debouncer);
    } catch (err) {
      // Not expected (compile never throws on bad input): keep the term alive and retry.
      this.fail(err, 'compiling', debouncer);
      return undefined;
    }
  }

  private async cycleOnce(term: AbortSignal, batch: Batch, debouncer: Debouncer): Promise<number | undefined> {
    const { publisher, logger, metrics } = this.deps;
    const t0 = performance.now();
    let snap: StoreSnapshot;
    try {
      if (publisher.state === undefined) await publisher.refresh();
      snap = await this.deps.snapshot();
    } catch (err) {
      this.fail(err, 'reading the snapshot or the latest bundle', debouncer);
      return undefined;
    }
    if (term.aborted) return snap.revision;
    const snapshotMs = performance.now() - t0;
    const version = snap.revision;
    const log = logger.child({ version });

    if (publisher.state) metrics.lastPublishedVersion.set(publisher.state.version);
    if (publisher.isStale(version)) {
      const published = publisher.state?.version ?? 0;
      // A linearizable read never goes back in time on one etcd cluster: this etcd was
      // restored or replaced. Versions must keep increasing (enforcers refuse older ones),
      // so nothing can be published until etcd's revision passes the last version: the
      // operator advances it (deploy/README.md, "etcd restored from a backup").
      if (version < published && !this.reportedBehind) {
        this.reportedBehind = true;
        log.error({ publishedVersion: published }, 'etcd revision is behind the last published bundle (etcd restored or replaced?): not publishing until it passes it; see deploy/README.md "etcd restored from a backup"');
      }
      metrics.publishSkipped.inc({ reason: 'stale' });
      // This very revision is the newest bundle (a new term, or a retry after a failed
      // cycle): evaluated. An older revision (etcd restored) is not recorded.
      const state = publisher.state;
      if (state && state.version === version) this.deps.evaluations?.note({ revision: version, bundleVersion: state.version, bundleDigest: state.digest });
      this.succeed(`v${publisher.state?.version ?? 0} already published`);
      return version;
    }

    const tc = performance.now();
    const { body } = compile({ entries: snap.entries }, version, { cluster: this.deps.cluster, prefix: this.deps.prefix, cache: this.decodeCache });
    const contentDigest = bundleContentDigest(body);
    this.deps.warnings.update(body.warnings, log, metrics);
    metrics.bundleWarnings.set(body.warnings.length);
    const known = publisher.state;
    if (known && decidePublish(known, { version, contentDigest }).type === 'skip') {
      metrics.compileSeconds.observe((performance.now() - tc) / 1000);
      metrics.publishSkipped.inc({ reason: 'unchanged' });
      log.debug({ lastVersion: known.version }, 'nothing enforced changed: not publishing');
      this.evaluated(version, contentDigest);
      this.succeed(`v${known.version} current (v${version} unchanged)`);
      return version;
    }
    const bundle = sealBundle(body, this.deps.key);
    const data = encodeBundle(bundle);
    const compileMs = performance.now() - tc;
    metrics.compileSeconds.observe(compileMs / 1000);

    const tp = performance.now();
    try {
      const publish = async (): Promise<Awaited<ReturnType<BundlePublisher['publish']>>> => {
        const o = await publisher.publish({ version, digest: bundle.digest, contentDigest, data }, term);
        const st = publisher.state;
        if (st && st.digest !== '') this.deps.rollout?.noteCandidate({ version: st.version, digest: st.digest });
        return o;
      };
      // A policy created just before this bundle must reach the enforcers first, or they
      // would apply this bundle everywhere at once; the controller steps only before or
      // after this publish, never in the middle (it must know which bundle they took).
      const current = known && known.digest !== '' ? { version: known.version, digest: known.digest } : undefined;
      const outcome = this.deps.rollout ? await this.deps.rollout.guardPublish(publish, current) : await publish();
      if (outcome.type === 'skipped') {
        metrics.publishSkipped.inc({ reason: outcome.reason });
        log.info({ reason: outcome.reason, lastVersion: publisher.state?.version }, 'bundle not published');
      } else {
        const latencyMs = Date.now() - batch.firstAt;
        if (!outcome.duplicate) metrics.bundlesPublished.inc();
        metrics.publishLatencySeconds.observe(latencyMs / 1000);
        metrics.lastPublishedVersion.set(version);
        log.info(
          {
            digest: bundle.digest,
            seq: outcome.seq,
            duplicate: outcome.duplicate,
            warnings: body.warnings.length,
            bytes: data.length,
            changes: batch.changes,
            snapshotMs: round(snapshotMs),
            compileMs: round(compileMs),
            publishMs: round(performance.now() - tp),
            latencyMs,
          },
          'bundle published',
        );
      }
      if (publisher.state) metrics.lastPublishedVersion.set(publisher.state.version);
      this.evaluated(version, contentDigest);
      this.succeed(`v${publisher.state?.version ?? version} published`);
    } catch (err) {
      if (isCompilerError(err, 'LEADERSHIP_LOST')) {
        log.info({ reason: abortReason(term) }, 'leadership ended before publishing');
        return version;
      }
      this.fail(err, `publishing v${version}`, debouncer);
    }
    return version;
  }

  /**
   * Notes `revision` as evaluated when the newest genuine bundle enforces exactly what it
   * compiled to (same content digest, not newer than it). Nothing when it does not (fenced
   * by a newer bundle, or skipped as stale): whoever published that one records it.
   */
  private evaluated(revision: number, contentDigest: string): void {
    const state = this.deps.publisher.state;
    if (!state || state.digest === '' || state.contentDigest !== contentDigest || state.version > revision) return;
    this.deps.evaluations?.note({ revision, bundleVersion: state.version, bundleDigest: state.digest });
  }

  private succeed(detail: string): void {
    const state = this.deps.publisher.state;
    if (state && state.digest !== '') this.deps.rollout?.noteCandidate({ version: state.version, digest: state.digest });
    this.failures = 0;
    this.nextAttemptAt = 0;
    this.state.lastCycleOk = true;
    this.state.detail = detail;
  }

  private fail(err: unknown, what: string, debouncer: Debouncer): void {
    const retryInMs = this.nextRetryMs();
    this.state.lastCycleOk = false;
    this.state.detail = `${what} failed: ${(err as Error)?.message ?? String(err)}`;
    this.deps.logger.warn({ err, retryInMs }, `${what} failed; the last bundle stays published, retrying`);
    this.nextAttemptAt = Date.now() + retryInMs;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => debouncer.flush(), retryInMs);
  }

  private nextRetryMs(): number {
    const base = this.deps.retryMs ?? 200;
    const delay = Math.min(this.deps.maxRetryMs ?? 5_000, base * 2 ** this.failures);
    this.failures++;
    return delay;
  }
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

