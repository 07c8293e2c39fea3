/**
 * Recording the newest etcd revision the leader evaluated (DESIGN.md §9: "the compiler also
 * records the newest etcd revision it evaluated, so a write that changed nothing enforced
 * still resolves").
 *
 * Why: a bundle's version is the revision it was compiled at, and the pipeline skips
 * publishing a snapshot whose enforced content equals the newest bundle's. A write that
 * changes nothing enforced (`disableBGPExport`, a label) therefore never gets a bundle of
 * its own revision; a reader waiting for "version ≥ my revision" would wait forever. After
 * every evaluation — published, skipped as unchanged, or found already published — the
 * leader records `{revision, bundleVersion, bundleDigest}`: the bundle that enforces etcd's
 * state at that revision. Readers (API /v1/rollout `evaluated`, `natctl rollout status
 * --min-version`) then know the newest bundle already carries every write up to it.
 *
 * Where: one small signed message (@natfleet/bundle evaluation.ts) on
 * `natfleet.evaluated.<cluster>` in the bundle stream, read last-per-subject. Not a key in
 * natfleet-nodes: every key there is a node to the API and the compiler. The stream is
 * already readable by everyone who reads bundles; only the compiler may publish on it.
 *
 * Cost: the pipeline already debounces (a cycle at most every max-delay under a steady
 * stream of writes); here notes coalesce (only the newest pending one is sent, one publish
 * in flight), a revision not newer than the last noted is dropped, and each publish carries
 * `Nats-Msg-Id` = cluster + revision, so a retried publish that had landed is dropped by
 * JetStream. Like bundles, publishes are fenced on the subject's last sequence, so a
 * deposed leader cannot put an older revision over a newer one; a record already at or
 * past the revision (read back after a fence or at term start) ends the attempt. A failed
 * publish is retried with backoff until it lands or the term ends; it never blocks or
 * fails the pipeline (bundles keep flowing).
 *
 * Never: compiles, reads etcd, or decides leadership (the term's AbortSignal does).
 */
import type { JetStreamClient, JetStreamManager } from 'nats';
import { decodeEvaluation, encodeEvaluation, sealEvaluation, type SigningKey, type TrustedKeys } from '@natfleet/bundle';
import { isBusError, latestEvaluation, publishEvaluation, type PublishResult } from '@natfleet/bus';
import { sleep, type Logger } from '@natfleet/service-kit';
import type { CompilerMetrics } from './metrics.js';

/** One evaluation: etcd's state at `revision` is enforced by bundle `bundleVersion` (`bundleDigest`). */
export interface Evaluated {
  revision: number;
  bundleVersion: number;
  bundleDigest: string;
}

/** What the subject holds: its last seq (the fence) and the newest revision a genuine record there names (0 when none). */
export interface EvaluationSubjectState {
  seq: number;
  revision: number;
}

/** The evaluation subject as the recorder needs it; the real one is {@link natsEvaluationChannel}. */
export interface EvaluationChannel {
  /** Undefined when the subject is empty. Throws BusError UNAVAILABLE. */
  latest(): Promise<EvaluationSubjectState | undefined>;
  /** Throws BusError PUBLISH_FENCED when the subject moved past `expectedLastSubjectSequence`, PUBLISH_FAILED otherwise. */
  publish(input: { data: Uint8Array; msgId: string; expectedLastSubjectSequence: number }): Promise<PublishResult>;
}

/**
 * The real subject. `latest()` reads only the last message; it counts when it is a record
 * of this cluster signed with `trustedKeys` (the compiler's own), otherwise it only moves
 * the fence — a foreign message can never make the recorder believe a revision is recorded.
 */
export function natsEvaluationChannel(js: JetStreamClient, jsm: JetStreamManager, cluster: string, trustedKeys: TrustedKeys): EvaluationChannel {
  return {
    latest: async () => {
      const last = await latestEvaluation(jsm, cluster);
      if (!last) return undefined;
      let revision = 0;
      try {
        const e = decodeEvaluation(last.data, { trustedKeys });
        if (e.cluster === cluster) revision = e.revision;
      } catch {
        // not one of ours: it moves the fence, nothing else
      }
      return { seq: last.seq, revision };
    },
    publish: (input) => publishEvaluation(js, { cluster, ...input }),
  };
}

export interface EvaluationRecorderDeps {
  channel: EvaluationChannel;
  key: SigningKey;
  cluster: string;
  logger: Logger;
  metrics: Pick<CompilerMetrics, 'lastEvaluatedRevision'>;
  /** Retry backoff after a failed publish (ms). Default 200 → 5000. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Re-reads after PUBLISH_FENCED before counting the attempt as failed. Default 5. */
  maxFencedRetries?: number;
}

/** Records evaluations for one leadership term (make a new one per term). */
export class EvaluationRecorder {
  private pending: Evaluated | undefined;
  /** The subject as last read or written by this recorder; undefined = read it first. */
  private stored: EvaluationSubjectState | undefined;
  private noted = 0;
  private draining: Promise<void> | undefined;
  private failures = 0;

  constructor(
    private readonly deps: EvaluationRecorderDeps,
    private readonly term: AbortSignal,
  ) {}

  /**
   * Records `e` soon, without waiting. Coalesced: a newer note replaces one not sent yet.
   * A revision not newer than one already noted in this term is ignored. Never throws.
   */
  note(e: Evaluated): void {
    if (this.term.aborted || e.revision <= this.noted) return;
    this.noted = e.revision;
    this.pending = e;
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /** Resolves once nothing is pending or in flight, or the term ended. Never rejects. */
  async settled(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    const { logger } = this.deps;
    while (this.pending && !this.term.aborted) {
      const e = this.pending;
      try {
        await this.write(e);
        if (this.pending === e) this.pending = undefined;
        if (this.failures > 0) logger.info({ revision: e.revision, failures: this.failures }, 'recording the evaluated revision works again');
        this.failures = 0;
      } catch (err) {
        this.failures++;
        const retryInMs = Math.min(this.deps.maxRetryMs ?? 5_000, (this.deps.retryMs ?? 200) * 2 ** Math.min(this.failures - 1, 10));
        // Once per streak (and every 10th retry) at warn: a NATS outage must not flood the log.
        const level = this.failures === 1 || this.failures % 10 === 0 ? 'warn' : 'debug';
        logger[level]({ err, revision: e.revision, retryInMs, failures: this.failures }, 'cannot record the evaluated revision yet (rollout status of writes that change nothing enforced waits for it); retrying');
        await sleep(retryInMs, this.term);
      }
    }
  }

  /** One record, fenced; returns when it is on the subject (or a record at or past it is). */
  private async write(e: Evaluated): Promise<void> {
    const { channel, cluster, key, metrics, logger } = this.deps;
    for (let fenced = 0; ; fenced++) {
      this.stored ??= (await channel.latest()) ?? { seq: 0, revision: 0 };
      const stored = this.stored;
      if (stored.revision >= e.revision || this.term.aborted) return;
      const data = encodeEvaluation(sealEvaluation({ cluster, ...e }, key));
      try {
        const res = await channel.publish({ data, msgId: `${cluster}.evaluated.${e.revision}`, expectedLastSubjectSequence: stored.seq });
        // A duplicate: this revision was recorded already (our timed-out try, or a peer's);
        // the ack names that copy, not necessarily the newest: re-read next time.
        this.stored = res.duplicate ? undefined : { seq: res.seq, revision: e.revision };
        metrics.lastEvaluatedRevision.set(e.revision);
        logger.debug({ revision: e.revision, bundleVersion: e.bundleVersion, seq: res.seq, duplicate: res.duplicate }, 'recorded the evaluated revision');
        return;
      } catch (err) {
        this.stored = undefined;
        if (!isBusError(err, 'PUBLISH_FENCED') || fenced >= (this.deps.maxFencedRetries ?? 5)) throw err;
      }
    }
  }
}
