/**
 * The two operations every "one record per change, newest wins" subject of the bundle
 * stream needs (evaluation records, admissions): a publish with msg-id dedupe, fenced on the
 * subject's last stored sequence, and a read of the subject's newest stored message.
 * Opaque bytes; callers name what the record is for their error messages. Never logs.
 */
import type { JetStreamClient, JetStreamManager } from 'nats';
import { BUNDLE_STREAM } from './contracts.js';
import { BusError } from './errors.js';
import type { PublishResult } from './bundles.js';

export interface FencedPublishInput {
  data: Uint8Array;
  /** JetStream dedupe id: a retried publish that had landed (a timed-out ack) is dropped. */
  msgId: string;
  /** Fencing: publish only if the subject's last stored sequence is still this one (0 = empty). */
  expectedLastSubjectSequence?: number;
}

/** Publishes `input` on `subject`. Throws BusError PUBLISH_FENCED (`what` subject moved on) / PUBLISH_FAILED. */
export async function publishFenced(js: JetStreamClient, subject: string, what: string, input: FencedPublishInput): Promise<PublishResult> {
  try {
    const ack = await js.publish(subject, input.data, {
      msgID: input.msgId,
      ...(input.expectedLastSubjectSequence !== undefined ? { expect: { lastSubjectSequence: input.expectedLastSubjectSequence } } : {}),
    });
    return { seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    const msg = String((err as Error).message);
    if (/wrong last sequence/i.test(msg)) {
      throw new BusError('PUBLISH_FENCED', `${what} subject moved on since sequence ${input.expectedLastSubjectSequence}: ${msg}`, false, { cause: err });
    }
    throw new BusError('PUBLISH_FAILED', `publishing an ${what}: ${msg}`, true, { cause: err });
  }
}

/**
 * The newest stored message on `subject`, or undefined when there is none (or the stream
 * predates the subject). One stored-message get. Throws BusError UNAVAILABLE.
 */
export async function latestOnSubject(jsm: JetStreamManager, subject: string, what: string): Promise<{ seq: number; time: Date; data: Uint8Array } | undefined> {
  try {
    const m = await jsm.streams.getMessage(BUNDLE_STREAM, { last_by_subj: subject });
    return { seq: m.seq, time: m.time, data: m.data };
  } catch (err) {
    if (/no message found|not found/i.test(String((err as Error).message))) return undefined;
    throw new BusError('UNAVAILABLE', `reading the latest ${what}: ${(err as Error).message}`, true, { cause: err });
  }
}
