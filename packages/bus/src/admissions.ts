/**
 * Rollout admissions on the bundle stream (subject `natfleet.admission.<cluster>`): publish
 * one (msg-id dedupe, fencing on the subject's last sequence), read the newest with one
 * stored-message get, and receive new ones on a plain core subscription — a JetStream
 * publish is delivered to core subscribers of its subject too, so enforcers need no
 * consumer for admissions (JetStream does badly with tens of thousands of consumers).
 * Core delivery is at most once: a reader re-reads the newest after every (re)connect.
 * Payloads are opaque bytes here: sealing and verifying belong to @natfleet/bundle
 * (admission.ts). Never logs.
 */
import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import { admissionSubject } from './contracts.js';
import type { PublishResult } from './bundles.js';
import { latestOnSubject, publishFenced } from './subject-records.js';

/** An admission message as stored (or, from a subscription, `seq` 0: core delivery carries none). */
export interface StoredAdmission {
  seq: number;
  data: Uint8Array;
}

export interface PublishAdmissionInput {
  cluster: string;
  data: Uint8Array;
  /** JetStream dedupe id, e.g. `<cluster>.admission.<stateRevision>`. */
  msgId: string;
  /** Fencing: publish only if the subject's last stored sequence is still this one (0 = empty). */
  expectedLastSubjectSequence?: number;
}

/** Publishes an admission. Throws BusError PUBLISH_FENCED / PUBLISH_FAILED. */
export function publishAdmission(js: JetStreamClient, input: PublishAdmissionInput): Promise<PublishResult> {
  return publishFenced(js, admissionSubject(input.cluster), 'admission', input);
}

/**
 * The newest admission message of `cluster`, or undefined when none was ever published (or
 * the stream predates the subject). Throws BusError UNAVAILABLE.
 */
export async function latestAdmission(jsm: JetStreamManager, cluster: string): Promise<StoredAdmission | undefined> {
  const m = await latestOnSubject(jsm, admissionSubject(cluster), 'admission');
  return m && { seq: m.seq, data: m.data };
}

/**
 * New admission messages of `cluster` as they are published, until `signal` aborts or the
 * connection closes (the iterable then ends). A plain subscription: needs subscribe
 * permission on the subject, creates nothing on the server. Messages published while the
 * client was disconnected are not delivered: read `latestAdmission` after a reconnect.
 */
export async function* subscribeAdmissions(nc: NatsConnection, cluster: string, signal: AbortSignal): AsyncIterable<StoredAdmission> {
  const sub = nc.subscribe(admissionSubject(cluster));
  const stop = (): void => sub.unsubscribe();
  signal.addEventListener('abort', stop, { once: true });
  try {
    if (signal.aborted) return;
    for await (const m of sub) yield { seq: 0, data: m.data };
  } finally {
    signal.removeEventListener('abort', stop);
    if (!sub.isClosed()) sub.unsubscribe();
  }
}
