/**
 * Evaluation records on the bundle stream (subject `natfleet.evaluated.<cluster>`): publish
 * one (msg-id dedupe, fencing on the subject's last sequence) and read the newest. Payloads
 * are opaque bytes here: sealing and verifying belong to @natfleet/bundle (evaluation.ts).
 * Never logs.
 */
import type { JetStreamClient, JetStreamManager } from 'nats';
import { evaluatedSubject } from './contracts.js';
import type { PublishResult } from './bundles.js';
import { latestOnSubject, publishFenced } from './subject-records.js';

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
export function publishEvaluation(js: JetStreamClient, input: PublishEvaluationInput): Promise<PublishResult> {
  return publishFenced(js, evaluatedSubject(input.cluster), 'evaluation', input);
}

/**
 * The newest evaluation message of `cluster`, or undefined when none was ever published
 * (or the stream predates the subject). One stored-message get, a few hundred bytes.
 * Throws BusError UNAVAILABLE.
 */
export function latestEvaluation(jsm: JetStreamManager, cluster: string): Promise<StoredEvaluation | undefined> {
  return latestOnSubject(jsm, evaluatedSubject(cluster), 'evaluation');
}
