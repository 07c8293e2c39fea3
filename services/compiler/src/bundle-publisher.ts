/**
 * Deciding whether and how to publish one compiled bundle, for one leadership term.
 *
 * The subject's newest message is the truth: at the start of a term the publisher reads
 * it (seq, version, content digest) and from then on publishes with
 * `expectedLastSubjectSequence` = the seq it knows. If anyone else published meanwhile
 * (a deposed leader still finishing, a second replica), JetStream refuses the write
 * (PUBLISH_FENCED); the publisher re-reads the newest message and decides again. With
 * version = etcd revision and a deterministic compile, that makes versions on the
 * subject strictly increase and never gives one version two different bodies.
 *
 * Never: compiles, reads etcd, or decides leadership (the term's AbortSignal does).
 */
import type { JetStreamClient, JetStreamManager } from 'nats';
import { isBusError, latestBundle, publishBundle, type PublishBundleInput, type PublishResult } from '@natfleet/bus';
import { CompilerError, abortReason } from './errors.js';
import type { SkipReason } from './metrics.js';

/** What the newest bundle on the subject is. `seq` 0 = the subject is empty. */
export interface PublishedState {
  seq: number;
  version: number;
  digest: string;
  contentDigest: string;
}

export const NOTHING_PUBLISHED: PublishedState = Object.freeze({ seq: 0, version: 0, digest: '', contentDigest: '' });

/** A bundle ready to go: body compiled and sealed, bytes encoded. */
export interface Candidate {
  version: number;
  digest: string;
  contentDigest: string;
  data: Uint8Array;
}

/** The stream as the publisher needs it; the real one is {@link natsBundleChannel}. */
export interface BundleChannel {
  /** The newest bundle's index headers, or undefined when the subject is empty. */
  latest(): Promise<PublishedState | undefined>;
  /** Publishes with msg-id = digest; BusError PUBLISH_FENCED when the subject moved past `expectedLastSubjectSequence`. */
  publish(input: Omit<PublishBundleInput, 'cluster'>): Promise<PublishResult>;
}

export function natsBundleChannel(js: JetStreamClient, jsm: JetStreamManager, cluster: string): BundleChannel {
  return {
    latest: async () => {
      const b = await latestBundle(jsm, cluster);
      return b && { seq: b.seq, version: b.version, digest: b.digest, contentDigest: b.contentDigest };
    },
    publish: (input) => publishBundle(js, { ...input, cluster }),
  };
}

export type PublishDecision = { type: 'publish' } | { type: 'skip'; reason: Exclude<SkipReason, 'fenced'> };

/**
 * Pure rule: publish only a revision newer than the newest bundle (else `stale`) whose
 * enforced content differs from it (else `unchanged`). Nothing published yet → publish.
 */
export function decidePublish(last: PublishedState, candidate: Pick<Candidate, 'version' | 'contentDigest'>): PublishDecision {
  if (last.seq > 0 && candidate.version <= last.version) return { type: 'skip', reason: 'stale' };
  if (last.seq > 0 && candidate.contentDigest === last.contentDigest) return { type: 'skip', reason: 'unchanged' };
  return { type: 'publish' };
}

export type PublishOutcome =
  | { type: 'published'; seq: number; /** JetStream already held this digest (our timed-out retry, or a peer's identical bundle). */ duplicate: boolean }
  | { type: 'skipped'; reason: SkipReason };

export class BundlePublisher {
  private last: PublishedState | undefined;

  constructor(
    private readonly channel: BundleChannel,
    /** Re-reads after PUBLISH_FENCED before giving up on this candidate (a newer trigger will come). */
    private readonly maxFencedRetries = 5,
  ) {}

  /** The newest bundle as last read or published; undefined before the first {@link refresh}. */
  get state(): PublishedState | undefined {
    return this.last;
  }

  /** Re-reads the subject's newest bundle. Throws BusError UNAVAILABLE when NATS cannot answer. */
  async refresh(): Promise<PublishedState> {
    this.last = (await this.channel.latest()) ?? NOTHING_PUBLISHED;
    return this.last;
  }

  /** True when a snapshot at `revision` cannot be newer than what the subject holds (skip the compile). */
  isStale(revision: number): boolean {
    return this.last !== undefined && this.last.seq > 0 && revision <= this.last.version;
  }

  /**
   * Publishes `candidate` if {@link decidePublish} says so, fenced on the newest known seq.
   * Throws CompilerError LEADERSHIP_LOST when `term` aborted before the write, and BusError
   * PUBLISH_FAILED / UNAVAILABLE when NATS fails (the caller retries; the next attempt
   * re-reads the subject first, since a timed-out publish may have landed).
   */
  async publish(candidate: Candidate, term: AbortSignal): Promise<PublishOutcome> {
    let fenced = 0;
    for (;;) {
      const last = this.last ?? (await this.refresh());
      const decision = decidePublish(last, candidate);
      if (decision.type === 'skip') return { type: 'skipped', reason: fenced > 0 ? 'fenced' : decision.reason };
      if (term.aborted) throw new CompilerError('LEADERSHIP_LOST', `not publishing v${candidate.version}: ${abortReason(term)}`);
      try {
        const res = await this.channel.publish({
          data: candidate.data,
          version: candidate.version,
          digest: candidate.digest,
          contentDigest: candidate.contentDigest,
          expectedLastSubjectSequence: last.seq,
        });
        if (res.duplicate) {
          // The ack names the earlier copy, which may not be the newest message: re-read.
          await this.refresh();
        } else {
          this.last = { seq: res.seq, version: candidate.version, digest: candidate.digest, contentDigest: candidate.contentDigest };
        }
        return { type: 'published', seq: res.seq, duplicate: res.duplicate };
      } catch (err) {
        this.last = undefined;
        if (!isBusError(err, 'PUBLISH_FENCED')) throw err;
        if (++fenced > this.maxFencedRetries) return { type: 'skipped', reason: 'fenced' };
      }
    }
  }
}
