/**
 * What this compiler has published, judged from the stored messages' signed bodies, never
 * from their headers. Anyone who can publish on natfleet.bundle.<cluster> (a loose NATS
 * permission, a test tool, an attacker) can append a message whose unsigned
 * `Natfleet-Version` header says anything; if the compiler believed it, one forged
 * message would make it skip every later write ("stale") for good. So:
 *
 * - a message counts as ours only when its body decodes, its digest and signature verify
 *   against the compiler's own key(s), it names our cluster, and its Natfleet-Version and
 *   Natfleet-Digest headers agree with the body (a re-publish under altered headers is
 *   not one of our publishes, even though the body is genuine);
 * - the content decision (skip unchanged, never go back in version) uses the newest
 *   such bundle (highest version);
 * - the fence (expected last subject sequence) is the subject's real last sequence,
 *   whoever wrote it: JetStream checks it against every message, foreign ones included.
 *
 * Everything else is foreign: returned with a stable reason so the service can report it
 * once, and otherwise ignored. Pure apart from CPU: no NATS, no logging.
 */
import { bundleContentDigest, decodeBundle, isBundleError, type BundleErrorCode, type TrustedKeys } from '@natfleet/bundle';
import type { StoredBundle } from '@natfleet/bus';
import type { PublishedState } from './bundle-publisher.js';

/** Why a message on the subject is not one of this compiler's bundles (a metric label: keep the set small). */
export type ForeignReason = Exclude<BundleErrorCode, 'INVALID_KEY'> | 'WRONG_CLUSTER' | 'HEADER_MISMATCH';

export type MessageVerdict =
  | { type: 'genuine'; version: number; digest: string; contentDigest: string }
  | { type: 'foreign'; reason: ForeignReason; detail: string };

/** A stored message that was ignored, with what its (unverified) header claimed. */
export interface ForeignMessage {
  seq: number;
  time: Date;
  /** Natfleet-Version header as sent: unverified, for the report only. */
  headerVersion: number;
  reason: ForeignReason;
  detail: string;
}

/** What the subject holds for the publisher, plus the messages it ignored (oldest first). */
export interface SubjectState extends PublishedState {
  foreign?: readonly ForeignMessage[];
}

export interface JudgeOptions {
  trustedKeys: TrustedKeys;
  cluster: string;
  maxBytes?: number;
}

/** Judges one stored message. Never throws on bad input: every problem is a `foreign` verdict. */
export function judgeMessage(m: StoredBundle, { trustedKeys, cluster, maxBytes }: JudgeOptions): MessageVerdict {
  let bundle;
  try {
    bundle = decodeBundle(m.data, { trustedKeys, ...(maxBytes !== undefined ? { maxBytes } : {}) });
  } catch (err) {
    if (isBundleError(err) && err.code !== 'INVALID_KEY') return { type: 'foreign', reason: err.code, detail: err.message };
    return { type: 'foreign', reason: 'MALFORMED', detail: (err as Error)?.message ?? String(err) };
  }
  if (bundle.cluster !== cluster) return { type: 'foreign', reason: 'WRONG_CLUSTER', detail: `bundle is for cluster ${JSON.stringify(bundle.cluster)}, not ${JSON.stringify(cluster)}` };
  if (m.version !== bundle.version || m.digest !== bundle.digest) {
    return {
      type: 'foreign',
      reason: 'HEADER_MISMATCH',
      detail: `headers say v${m.version} ${m.digest || '(no digest)'}, the signed body is v${bundle.version} ${bundle.digest}: re-published by someone else`,
    };
  }
  return { type: 'genuine', version: bundle.version, digest: bundle.digest, contentDigest: bundleContentDigest(bundle) };
}

/**
 * Caches verdicts per stored message: a stream message never changes, and decoding a large
 * bundle (JSON parse, canonical re-hash, signature) costs milliseconds, so each message is
 * judged once however often the publisher re-reads the subject.
 */
export class MessageJudge {
  private cache = new Map<string, MessageVerdict>();

  constructor(private readonly options: JudgeOptions) {}

  judge(m: StoredBundle): MessageVerdict {
    const key = messageKey(m);
    let v = this.cache.get(key);
    if (!v) {
      v = judgeMessage(m, this.options);
      this.cache.set(key, v);
    }
    return v;
  }

  /** Forgets verdicts of messages no longer stored (call with the whole subject). */
  retainOnly(messages: readonly StoredBundle[]): void {
    const keep = new Set(messages.map(messageKey));
    for (const k of this.cache.keys()) if (!keep.has(k)) this.cache.delete(k);
  }
}

/** Seq plus store time: a stream deleted and re-created reuses sequence numbers. */
const messageKey = (m: Pick<StoredBundle, 'seq' | 'time'>): string => `${m.seq}@${m.time.getTime()}`;

/**
 * The publisher's view of the subject from all its stored messages (oldest first): fence
 * on the last message's seq; version, digest and contentDigest of the highest-version
 * genuine bundle (0 / '' when there is none); every other message listed as foreign.
 * An empty subject gives seq 0 and nothing foreign.
 */
export function subjectState(messages: readonly StoredBundle[], judge: (m: StoredBundle) => MessageVerdict): Required<SubjectState> {
  const foreign: ForeignMessage[] = [];
  let newest: Extract<MessageVerdict, { type: 'genuine' }> | undefined;
  for (const m of messages) {
    const v = judge(m);
    if (v.type === 'foreign') foreign.push({ seq: m.seq, time: m.time, headerVersion: m.version, reason: v.reason, detail: v.detail });
    else if (!newest || v.version >= newest.version) newest = v;
  }
  return {
    seq: messages.at(-1)?.seq ?? 0,
    version: newest?.version ?? 0,
    digest: newest?.digest ?? '',
    contentDigest: newest?.contentDigest ?? '',
    foreign,
  };
}
