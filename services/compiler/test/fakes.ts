// In-memory stand-ins for the stream and etcd, with the semantics the compiler relies on:
// JetStream msg-id dedupe and expected-last-subject-sequence fencing; etcd revisions.
import { BusError, type PublishBundleInput, type PublishResult, type StoredBundle } from '@natfleet/bus';
import type { TrustedKeys } from '@natfleet/bundle';
import type { Logger } from '@natfleet/service-kit';
import { MessageJudge, subjectState, type BundleChannel, type PublishedState, type SubjectState } from '../src/index.js';

export interface StoredMessage extends PublishedState {
  data: Uint8Array;
}

/** One subject of NATFLEET_BUNDLES. `failNext` makes the next publish fail like a NATS timeout. */
export class FakeSubject implements BundleChannel {
  readonly messages: StoredMessage[] = [];
  failNext = 0;
  publishes = 0;

  get last(): StoredMessage | undefined {
    return this.messages.at(-1);
  }

  latest(): Promise<PublishedState | undefined> {
    const m = this.last;
    return Promise.resolve(m && { seq: m.seq, version: m.version, digest: m.digest, contentDigest: m.contentDigest });
  }

  /** A publish by someone else (another replica), bypassing fencing. */
  inject(m: Omit<StoredMessage, 'seq' | 'data'>): StoredMessage {
    const stored = { ...m, seq: this.messages.length + 1, data: new Uint8Array() };
    this.messages.push(stored);
    return stored;
  }

  async publish(input: Omit<PublishBundleInput, 'cluster'>): Promise<PublishResult> {
    this.publishes++;
    await Promise.resolve();
    if (this.failNext > 0) {
      this.failNext--;
      throw new BusError('PUBLISH_FAILED', 'timeout', true);
    }
    const dup = this.messages.find((m) => m.digest === input.digest);
    if (dup) return { seq: dup.seq, duplicate: true };
    const lastSeq = this.last?.seq ?? 0;
    if (input.expectedLastSubjectSequence !== undefined && input.expectedLastSubjectSequence !== lastSeq) {
      throw new BusError('PUBLISH_FENCED', `wrong last sequence: ${lastSeq}`, false);
    }
    const stored: StoredMessage = { seq: lastSeq + 1, version: input.version, digest: input.digest, contentDigest: input.contentDigest, data: input.data };
    this.messages.push(stored);
    return { seq: stored.seq, duplicate: false };
  }
}

/**
 * One subject holding real bytes, read back the way natsBundleChannel reads the stream:
 * every message judged by its signed body (headers are only what the sender claimed).
 * `injectRaw` is a publish by anyone (msg-id of its choosing, no fencing).
 */
export class SignedSubject implements BundleChannel {
  readonly messages: (StoredBundle & { msgId: string })[] = [];
  private readonly judge: MessageJudge;
  publishes = 0;

  constructor(trustedKeys: TrustedKeys, cluster: string) {
    this.judge = new MessageJudge({ trustedKeys, cluster });
  }

  get last(): StoredBundle | undefined {
    return this.messages.at(-1);
  }

  latest(): Promise<SubjectState | undefined> {
    return Promise.resolve(this.messages.length === 0 ? undefined : subjectState(this.messages, (m) => this.judge.judge(m)));
  }

  injectRaw(data: Uint8Array, headers: { version: number; digest: string; contentDigest?: string }, msgId = `raw-${this.messages.length + 1}`): StoredBundle {
    const stored = { seq: this.messages.length + 1, time: new Date(), data, contentDigest: '', ...headers, msgId };
    this.messages.push(stored);
    return stored;
  }

  async publish(input: Omit<PublishBundleInput, 'cluster'>): Promise<PublishResult> {
    this.publishes++;
    await Promise.resolve();
    const dup = this.messages.find((m) => m.msgId === input.digest);
    if (dup) return { seq: dup.seq, duplicate: true };
    const lastSeq = this.last?.seq ?? 0;
    if (input.expectedLastSubjectSequence !== undefined && input.expectedLastSubjectSequence !== lastSeq) {
      throw new BusError('PUBLISH_FENCED', `wrong last sequence: ${lastSeq}`, false);
    }
    const { data, version, digest, contentDigest } = input;
    return { seq: this.injectRaw(data, { version, digest, contentDigest }, digest).seq, duplicate: false };
  }
}

/**
 * A logger with pino's call shapes (`log.warn(obj, msg)`, `child(bindings)`) that keeps
 * every record in memory, for assertions on log lines. Only what the compiler calls.
 */
export function memoryLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at =
      (level: string) =>
      (obj: unknown, msg?: string): void => {
        const fields = typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>) : { msg: obj };
        lines.push({ level, ...bindings, ...fields, ...(msg !== undefined ? { msg } : {}) });
      };
    const log = {
      trace: at('trace'),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      fatal: at('fatal'),
      child: (more: Record<string, unknown>) => make({ ...bindings, ...more }),
    };
    return log as unknown as Logger;
  };
  return { logger: make({}), lines };
}
