/**
 * Deciding whether and how to publish one compiled bundle, for one leadership term.
 *
 * The subject is the truth: at the start of a term the publisher reads it — the last
 * sequence, and the newest bundle that verifies against the compiler's key (version,
 * content digest; see published-state.ts: headers are unsigned and never trusted) — and
 * from then on publishes with `expectedLastSubjectSequence` = the last seq it knows. If
 * anyone else published meanwhile (a deposed leader still finishing, a second replica, or
 * a message that is not a bundle of ours at all), JetStream refuses the write
 * (PUBLISH_FENCED); the publisher re-reads the subject and decides again. Foreign
 * messages move the fence but never the content decision, so they cannot make it skip.
 * With version = etcd revision and a deterministic compile, versions of genuine bundles
 * on the subject strictly increase and one version never has two different bodies.
 *
 * Never: compiles, reads etcd, or decides leadership (the term's AbortSignal does).
 */
import type { JetStreamClient } from 'nats';
import { createPublicKey } from 'node:crypto';
import type { SigningKey, TrustedKeys } from '@natfleet/bundle';
import { BusError, bundleHistory, isBusError, publishBundle, type PublishBundleInput, type PublishResult } from '@natfleet/bus';
import { CompilerError, abortReason } from './errors.js';
import type { SkipReason } from './metrics.js';
import { MessageJudge, subjectState, type ForeignMessage, type SubjectState } from './published-state.js';

/**
 * What the subject holds, as far as publishing goes. `seq` is the subject's last sequence
 * whoever wrote it: the fence for the next publish (0 = the subject is empty). `version`,
 * `digest` and `contentDigest` are those of the newest bundle this compiler's key signed
 * (0 / '' when there is none, e.g. only foreign messages are left).
 */
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
  /**
   * The subject's last seq and newest genuine bundle, plus the foreign messages it holds;
   * undefined when the subject is empty. Throws BusError UNAVAILABLE when NATS cannot answer.
   */
  latest(): Promise<SubjectState | undefined>;
  /** Publishes with msg-id = digest; BusError PUBLISH_FENCED when the subject moved past `expectedLastSubjectSequence`. */
  publish(input: Omit<PublishBundleInput, 'cluster'>): Promise<PublishResult>;
}

/** The keys a compiler recognises its own bundles by: its signing key's public half. */
export function ownKeys(key: SigningKey): TrustedKeys {
  return new Map([[key.keyId, createPublicKey(key.privateKey)]]);
}

/**
 * The real stream. `latest()` reads every stored message of the subject (a few: the
 * stream keeps a short history per subject) and judges each by its signed body against
 * `trustedKeys`; verdicts are cached per message.
 */
export function natsBundleChannel(js: JetStreamClient, cluster: string, trustedKeys: TrustedKeys): BundleChannel {
  const judge = new MessageJudge({ trustedKeys, cluster });
  return {
    latest: async () => {
      let messages;
      try {
        messages = await bundleHistory(js, cluster);
      } catch (err) {
        if (isBusError(err)) throw err;
        throw new BusError('UNAVAILABLE', `reading the bundle subject: ${(err as Error).message}`, true, { cause: err });
      }
      judge.retainOnly(messages);
      return messages.length === 0 ? undefined : subjectState(messages, (m) => judge.judge(m));
    },
    publish: (input) => publishBundle(js, { ...input, cluster }),
  };
}

export type PublishDecision = { type: 'publish' } | { type: 'skip'; reason: Exclude<SkipReason, 'fenced'> };

/**
 * Pure rule: publish only a revision newer than the newest genuine bundle (else `stale`)
 * whose enforced content differs from it (else `unchanged`). No genuine bundle on the
 * subject (empty, or only foreign messages) → publish.
 */
export function decidePublish(last: PublishedState, candidate: Pick<Candidate, 'version' | 'contentDigest'>): PublishDecision {
  const known = last.digest !== '';
  if (known && candidate.version <= last.version) return { type: 'skip', reason: 'stale' };
  if (known && candidate.contentDigest === last.contentDigest) return { type: 'skip', reason: 'unchanged' };
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
    /** Told every foreign message on the subject at each re-read (the service reports new ones once). */
    private readonly onForeign?: (foreign: readonly ForeignMessage[]) => void,
  ) {}

  /** The newest bundle as last read or published; undefined before the first {@link refresh}. */
  get state(): PublishedState | undefined {
    return this.last;
  }

  /** Re-reads the subject (last seq, newest genuine bundle). Throws BusError UNAVAILABLE when NATS cannot answer. */
  async refresh(): Promise<PublishedState> {
    const read = await this.channel.latest();
    this.onForeign?.(read?.foreign ?? []);
    this.last = read ? { seq: read.seq, version: read.version, digest: read.digest, contentDigest: read.contentDigest } : NOTHING_PUBLISHED;
    return this.last;
  }

  /** True when a snapshot at `revision` cannot be newer than the newest genuine bundle (skip the compile). */
  isStale(revision: number): boolean {
    return this.last !== undefined && this.last.digest !== '' && revision <= this.last.version;
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
