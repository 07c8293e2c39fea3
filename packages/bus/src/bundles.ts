/**
 * Bundles on the stream: publish (msg-id dedupe + optional fencing on the subject's last
 * sequence), read the latest, list history, and follow new ones. Payloads are opaque
 * bytes here; decoding and verification belong to @natfleet/bundle.
 */
import {
  DeliverPolicy,
  headers as natsHeaders,
  type JetStreamClient,
  type JetStreamManager,
  type MsgHdrs,
  type StoredMsg,
} from 'nats';
import { BUNDLE_STREAM, HDR_CONTENT, HDR_DIGEST, HDR_VERSION, bundleSubject } from './contracts.js';
import { BusError } from './errors.js';

/** A bundle message as stored: index headers plus the raw payload. */
export interface StoredBundle {
  seq: number;
  version: number;
  digest: string;
  contentDigest: string;
  time: Date;
  data: Uint8Array;
}

export interface PublishBundleInput {
  cluster: string;
  data: Uint8Array;
  version: number;
  digest: string;
  contentDigest: string;
  /**
   * Fencing: publish only if the subject's last stored sequence is still this one (0 = the
   * subject must be empty). A publisher that lost its leadership then fails with
   * PUBLISH_FENCED instead of overwriting a newer bundle.
   */
  expectedLastSubjectSequence?: number;
}

export interface PublishResult {
  seq: number;
  /** True when JetStream dropped it as a duplicate msg-id (same digest published already). */
  duplicate: boolean;
}

/** Publishes a bundle with `Nats-Msg-Id` = digest. Throws BusError (PUBLISH_FENCED / PUBLISH_FAILED). */
export async function publishBundle(js: JetStreamClient, input: PublishBundleInput): Promise<PublishResult> {
  const h = natsHeaders();
  h.set(HDR_VERSION, String(input.version));
  h.set(HDR_DIGEST, input.digest);
  h.set(HDR_CONTENT, input.contentDigest);
  try {
    const ack = await js.publish(bundleSubject(input.cluster), input.data, {
      msgID: input.digest,
      headers: h,
      ...(input.expectedLastSubjectSequence !== undefined ? { expect: { lastSubjectSequence: input.expectedLastSubjectSequence } } : {}),
    });
    return { seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    const msg = String((err as Error).message);
    if (/wrong last sequence/i.test(msg)) {
      throw new BusError('PUBLISH_FENCED', `subject moved on since sequence ${input.expectedLastSubjectSequence}: ${msg}`, false, { cause: err });
    }
    throw new BusError('PUBLISH_FAILED', `publishing bundle v${input.version}: ${msg}`, true, { cause: err });
  }
}

function fromHeaders(seq: number, time: Date, data: Uint8Array, h: MsgHdrs | undefined): StoredBundle {
  return {
    seq,
    time,
    data,
    version: Number(h?.get(HDR_VERSION) ?? 0),
    digest: h?.get(HDR_DIGEST) ?? '',
    contentDigest: h?.get(HDR_CONTENT) ?? '',
  };
}

const fromStored = (m: StoredMsg): StoredBundle => fromHeaders(m.seq, m.time, m.data, m.header);

/** The newest bundle of `cluster`, or undefined when none was ever published. */
export async function latestBundle(jsm: JetStreamManager, cluster: string): Promise<StoredBundle | undefined> {
  try {
    return fromStored(await jsm.streams.getMessage(BUNDLE_STREAM, { last_by_subj: bundleSubject(cluster) }));
  } catch (err) {
    if (/no message found|not found/i.test(String((err as Error).message))) return undefined;
    throw new BusError('UNAVAILABLE', `reading latest bundle: ${(err as Error).message}`, true, { cause: err });
  }
}

/**
 * Stored bundles of `cluster`, oldest first (at most what the stream keeps per subject).
 * Empty when none.
 */
export async function bundleHistory(js: JetStreamClient, cluster: string): Promise<StoredBundle[]> {
  const jsm = await js.jetstreamManager();
  const last = await latestBundle(jsm, cluster);
  if (!last) return [];
  // An ordered consumer delivers from the start by default (setting DeliverPolicy.All
  // explicitly is rejected by nats.js next to its own start sequence).
  const consumer = await js.consumers.get(BUNDLE_STREAM, { filterSubjects: bundleSubject(cluster) });
  const out: StoredBundle[] = [];
  const messages = await consumer.consume();
  for await (const m of messages) {
    out.push(fromHeaders(m.seq, new Date(Math.floor(m.info.timestampNanos / 1e6)), m.data, m.headers));
    if (m.seq >= last.seq || m.info.pending === 0) break;
  }
  await messages.close();
  return out;
}

/**
 * The latest bundle of `cluster` (if any), then every new one as it is published, through an
 * ordered consumer that re-creates itself after reconnects and gaps. Ends when `signal`
 * aborts. Delivery is in stream order; callers that only want the newest should drain.
 */
export async function* followBundles(js: JetStreamClient, cluster: string, signal?: AbortSignal): AsyncGenerator<StoredBundle> {
  const consumer = await js.consumers.get(BUNDLE_STREAM, {
    filterSubjects: bundleSubject(cluster),
    deliver_policy: DeliverPolicy.LastPerSubject,
  });
  const messages = await consumer.consume();
  const stop = (): void => void messages.close();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    for await (const m of messages) {
      yield fromHeaders(m.seq, new Date(Math.floor(m.info.timestampNanos / 1e6)), m.data, m.headers);
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    await messages.close();
  }
}

