/**
 * Evaluation records on the bundle stream (subject `natfleet.evaluated.<cluster>`): publish
 * one (msg-id dedupe, fencing on the subject's last sequence) and read the newest. Payloads
 * are opaque bytes here: sealing and verifying belong to @natfleet/bundle (evaluation.ts).
 * Never logs.
 */
import type { JetStreamClient, JetStreamManager } from 'nats';
import { BUNDLE_STREAM, evaluatedSubject } from './contracts.js';
import { BusError } from './errors.js';
import type { PublishResult } from './bundles.js';

/** An evaluation message as stored. */
export interface StoredEvaluation {
  seq: number;
  time: Date;
  data: Uint8Array;
}

export interface PublishEvaluationInput {
  cluster: string;
  data: Uint8Array;
  /** JetStream dedupe id: a retried publish that had landed (a timed-out ack) is dropped. */
  msgId: string;
  /** Fencing: publish only if the subject's last stored sequence is still this one (0 = empty). */
  expectedLastSubjectSequence?: number;
}

/** Publishes an evaluation record. Throws BusError PUBLISH_FENCED / PUBLISH_FAILED. */
export async function publishEvaluation(js: JetStreamClient, input: PublishEvaluationInput): Promise<PublishResult> {
  try {
    const ack = await js.publish(evaluatedSubject(input.cluster), input.data, {
      msgID: input.msgId,
      ...(input.expectedLastSubjectSequence !== undefined ? { expect: { lastSubjectSequence: input.expectedLastSubjectSequence } } : {}),
    });
    return { seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    const msg = String((err as Error).message);
    if (/wrong last sequence/i.test(msg)) {
      throw new BusError('PUBLISH_FENCED', `evaluation subject moved on since sequence ${input.expectedLastSubjectSequence}: ${msg}`, false, { cause: err });
    }
    throw new BusError('PUBLISH_FAILED', `publishing an evaluation record: ${msg}`, true, { cause: err });
  }
}

/**
 * The newest evaluation message of `cluster`, or undefined when none was ever published
 * (or the stream predates the subject). One stored-message get, a few hundred bytes.
 * Throws BusError UNAVAILABLE.
 */
export async function latestEvaluation(jsm: JetStreamManager, cluster: string): Promise<StoredEvaluation | undefined> {
  try {
    const m = await jsm.streams.getMessage(BUNDLE_STREAM, { last_by_subj: evaluatedSubject(cluster) });
    return { seq: m.seq, time: m.time, data: m.data };
  } catch (err) {
    if (/no message found|not found/i.test(String((err as Error).message))) return undefined;
    throw new BusError('UNAVAILABLE', `reading the latest evaluation: ${(err as Error).message}`, true, { cause: err });
  }
}
