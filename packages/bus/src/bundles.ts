/**
 * Bundles on the stream: publish (msg-id dedupe + optional fencing on the subject's last
 * sequence), read the latest, list history, follow new ones (reporting what the consumer
 * behind it goes through), and tell cheaply whether the stream holds a bundle past a
 * sequence. Payloads are opaque bytes here; decoding and verification belong to
 * @natfleet/bundle. Never logs: consumer trouble is handed to the caller as events.
 */
import { READ_CONSUMER_IDLE_MS } from './node-status.js';
import {
  AckPolicy,
  ConsumerDebugEvents,
  ConsumerEvents,
  DeliverPolicy,
  ErrorCode,
  headers as natsHeaders,
  nanos,
  nuid,
  type ConsumerInfo,
  type ConsumerMessages,
  type ConsumerStatus,
  type JetStreamClient,
  type JetStreamManager,
  type MsgHdrs,
  type MsgRequest,
  type NatsError,
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
 * The oldest bundle of `cluster` stored at or after stream sequence `seq`, or undefined
 * when there is none (also when the stream does not exist). Cheap when there is none: the
 * server answers a small "no message found" and no payload travels, so it can be polled to
 * ask "was anything published past what I received?". Throws BusError UNAVAILABLE.
 */
export async function bundleAfter(jsm: JetStreamManager, cluster: string, seq: number): Promise<StoredBundle | undefined> {
  // nats-server ≥ 2.9 answers `next_by_subj`; nats.js 2.29 types it only for direct gets.
  const query = { seq: Math.max(1, seq), next_by_subj: bundleSubject(cluster) } as unknown as MsgRequest;
  try {
    return fromStored(await jsm.streams.getMessage(BUNDLE_STREAM, query));
  } catch (err) {
    if (/no message found|not found/i.test(String((err as Error).message))) return undefined;
    throw new BusError('UNAVAILABLE', `reading bundles after sequence ${seq}: ${(err as Error).message}`, true, { cause: err });
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
  // One-shot: the server drops it 10 s after it goes idle (readers may not delete consumers).
  const consumer = await js.consumers.get(BUNDLE_STREAM, { filterSubjects: bundleSubject(cluster), inactive_threshold: READ_CONSUMER_IDLE_MS });
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
 * What the consumer behind followBundles reports besides bundles, translated from nats.js
 * consumer status, for the caller to log and to decide whether the feed is stalled.
 * followBundles itself replaces the consumer after `heartbeats_missed` and `consumer_lost`
 * (but `stream_not_found`: there is nothing to create it on).
 */
export type FollowEvent =
  /** A consumer exists (the first, or one replacing a lost one): its name and the server hosting it. */
  | { type: 'consumer_created'; consumer: string; server: string }
  /** Creating the consumer got no answer (the server picked for it may be dead); trying again. */
  | { type: 'consumer_create_timeout'; consumer: string; attempt: number }
  /** `missed` idle heartbeats in a row did not arrive: the consumer or its server may be gone. */
  | { type: 'heartbeats_missed'; missed: number }
  /** The server said the consumer or stream is gone, or nobody answered a pull. */
  | { type: 'consumer_lost'; reason: 'consumer_deleted' | 'consumer_not_found' | 'stream_not_found' | 'no_responders'; detail: string }
  /** Routine chatter (pull requests, expired pulls), for debug logs. */
  | { type: 'debug'; event: string; detail: string };

export interface FollowOptions {
  /** Ends the iteration (nothing is yielded if it already has). */
  signal?: AbortSignal;
  /**
   * Idle heartbeat the server sends while no bundle flows, ms (≤ 15 000, half of nats.js's
   * 30 s pull expiry). Two missed in a row give a `heartbeats_missed` event. Default:
   * nats.js's, 15 s.
   */
  idleHeartbeatMs?: number;
  /** Called with each consumer event; must not throw (a throw is ignored). */
  onEvent?: (e: FollowEvent) => void;
  /**
   * Start after this stream sequence instead of at the subject's latest message (0, the
   * default): for a caller that already read the latest itself and must not get it again.
   */
  after?: number;
}

/** Create attempts that time out before followBundles gives up (UNAVAILABLE). */
export const FOLLOW_CREATE_ATTEMPTS = 5;

const LOST: Record<string, Extract<FollowEvent, { type: 'consumer_lost' }>['reason']> = {
  [ConsumerEvents.ConsumerDeleted]: 'consumer_deleted',
  [ConsumerEvents.ConsumerNotFound]: 'consumer_not_found',
  [ConsumerEvents.StreamNotFound]: 'stream_not_found',
  [ConsumerEvents.NoResponders]: 'no_responders',
};

function followEvent(s: ConsumerStatus): FollowEvent {
  const detail = typeof s.data === 'string' ? s.data : JSON.stringify(s.data ?? null);
  if (s.type === ConsumerEvents.HeartbeatsMissed) return { type: 'heartbeats_missed', missed: Number(s.data) };
  const lost = LOST[s.type];
  if (lost) return { type: 'consumer_lost', reason: lost, detail };
  return { type: 'debug', event: s.type === ConsumerDebugEvents.DebugEvent ? 'debug' : String(s.type), detail };
}

/** Events after which the consumer is gone for good (nats.js would keep retrying it). */
function losesConsumer(e: FollowEvent): boolean {
  return e.type === 'heartbeats_missed' || (e.type === 'consumer_lost' && e.reason !== 'stream_not_found');
}

/**
 * Creates a follow consumer: what a nats.js ordered consumer would make (R1, in memory, no
 * acks, gone after 5 idle minutes), starting after stream sequence `after`, or at the
 * subject's latest message when `after` is 0. After a crash the dead server stays a
 * placement candidate for a minute or more, so a create that times out is retried at once
 * under a new name (a new draw) instead of after nats.js's 15–45 s backoff. Undefined when
 * `signal` aborted first. Throws BusError UNAVAILABLE.
 */
async function createFollowConsumer(
  jsm: JetStreamManager,
  cluster: string,
  after: number,
  signal: AbortSignal | undefined,
  tell: (e: FollowEvent) => void,
): Promise<ConsumerInfo | undefined> {
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) return undefined;
    const name = nuid.next();
    try {
      return await jsm.consumers.add(BUNDLE_STREAM, {
        name,
        filter_subject: bundleSubject(cluster),
        ...(after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 } : { deliver_policy: DeliverPolicy.LastPerSubject }),
        ack_policy: AckPolicy.None,
        max_deliver: 1,
        mem_storage: true,
        num_replicas: 1,
        inactive_threshold: nanos(5 * 60_000),
      });
    } catch (err) {
      const timedOut = (err as NatsError).code === ErrorCode.Timeout;
      if (!timedOut || attempt >= FOLLOW_CREATE_ATTEMPTS) {
        throw new BusError('UNAVAILABLE', `creating the bundle consumer (attempt ${attempt}): ${(err as Error).message}`, true, { cause: err });
      }
      // Not deleted (clients may lack CONSUMER.DELETE): if it comes to life, it is
      // removed after 5 idle minutes.
      tell({ type: 'consumer_create_timeout', consumer: name, attempt });
    }
  }
}

/**
 * The latest bundle of `cluster` (if any), then every new one as it is published, through a
 * consumer of its own (left to the server to remove after 5 idle minutes: clients may lack
 * CONSUMER.DELETE), re-created when lost (missed heartbeats, deleted, gone with its
 * server), resuming after the last bundle yielded. Ends when the signal aborts (nothing is
 * yielded if it already has). Delivery is in stream order; callers that only want the
 * newest should drain. The second argument may be the signal alone. Throws BusError
 * UNAVAILABLE when a consumer cannot be created.
 *
 * By default nats.js takes ~30 s (two missed 15 s heartbeats) to notice that the server
 * hosting the consumer died while the connection (to another server) stayed up: pass a
 * short `idleHeartbeatMs`. A caller that would rather start over differently (e.g. from
 * the latest bundle) aborts the signal from `onEvent` on `heartbeats_missed`.
 */
export async function* followBundles(js: JetStreamClient, cluster: string, options?: AbortSignal | FollowOptions): AsyncGenerator<StoredBundle> {
  const o: FollowOptions = options instanceof AbortSignal ? { signal: options } : (options ?? {});
  const { signal, onEvent } = o;
  if (signal?.aborted) return;
  const tell = (e: FollowEvent): void => {
    try {
      onEvent?.(e);
    } catch {
      // the caller's problem; the feed goes on
    }
  };
  const jsm = await js.jetstreamManager(false);
  let last = Math.max(0, o.after ?? 0); // stream sequence of the last bundle yielded
  for (;;) {
    const info = await createFollowConsumer(jsm, cluster, last, signal, tell);
    if (!info) return;
    const messages = await js.consumers.getPullConsumerFor(info).consume(o.idleHeartbeatMs !== undefined ? { idle_heartbeat: o.idleHeartbeatMs } : {});
    let lost = false;
    const stop = (): void => void messages.close();
    signal?.addEventListener('abort', stop, { once: true });
    if (signal?.aborted) stop();
    tell({ type: 'consumer_created', consumer: info.name, server: info.cluster?.leader ?? '' });
    void (async () => {
      for await (const s of await messages.status()) {
        const e = followEvent(s);
        tell(e);
        if (!lost && !signal?.aborted && losesConsumer(e)) {
          lost = true;
          stop();
        }
      }
    })().catch(() => undefined);
    try {
      for await (const m of messages) {
        last = m.seq;
        yield fromHeaders(m.seq, new Date(Math.floor(m.info.timestampNanos / 1e6)), m.data, m.headers);
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      await messages.close();
    }
    // Closed by the signal or by nats.js: done. Lost: a new consumer, after `last`.
    if (!lost || signal?.aborted) return;
  }
}
