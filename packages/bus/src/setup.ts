/**
 * Creating or verifying the bundle stream and the nodes KV bucket at start. Only the
 * compiler (and the local stack) create; enforcers and the API bind to what exists. The
 * bucket refuses rollup headers: an enforcer may write its own key, and a `Nats-Rollup:
 * all` on that write would otherwise erase every node's status.
 */
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type KV, type StreamConfig } from 'nats';
import { ADMISSION_SUBJECT_PREFIX, BUNDLE_STREAM, BUNDLE_SUBJECT_PREFIX, EVALUATED_SUBJECT_PREFIX, NODES_BUCKET } from './contracts.js';
import { BusError } from './errors.js';

export interface StreamOptions {
  /** JetStream replicas (1 standalone, 3 in a cluster). Default 1. */
  replicas?: number;
  /** Bundles kept per cluster subject, for history and rollback views. Default 20. */
  historyPerSubject?: number;
  /** Msg-id dedupe window (ms); ≥ 2 min per DESIGN.md §5. Default 5 min. */
  duplicateWindowMs?: number;
  /** Largest bundle message accepted by the stream, bytes. Default 8 MiB. */
  maxMessageBytes?: number;
}

const ms = (n: number): number => n * 1_000_000; // nanoseconds

/** The stream config natfleet wants, for the given options. */
export function bundleStreamConfig(o: StreamOptions = {}): Partial<StreamConfig> & { name: string; subjects: string[] } {
  return {
    name: BUNDLE_STREAM,
    // Bundles, the compiler's evaluation records and rollout admissions (contracts.ts).
    subjects: [`${BUNDLE_SUBJECT_PREFIX}.>`, `${EVALUATED_SUBJECT_PREFIX}.>`, `${ADMISSION_SUBJECT_PREFIX}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: o.replicas ?? 1,
    max_msgs_per_subject: o.historyPerSubject ?? 20,
    duplicate_window: ms(o.duplicateWindowMs ?? 5 * 60_000),
    max_msg_size: o.maxMessageBytes ?? 8 * 1024 * 1024,
  };
}

/**
 * Creates the bundle stream, or updates an existing one to natfleet's settings (a stream
 * made before evaluation records existed gains `natfleet.evaluated.>`; subjects it has
 * besides natfleet's are kept). A stream of that name whose subjects do not cover
 * `natfleet.bundle.>` is a STREAM_CONFLICT (someone else's stream; natfleet will not take
 * it over).
 */
export async function ensureBundleStream(jsm: JetStreamManager, options: StreamOptions = {}): Promise<void> {
  const want = bundleStreamConfig(options);
  let existing: StreamConfig | undefined;
  try {
    existing = (await jsm.streams.info(BUNDLE_STREAM)).config;
  } catch (err) {
    if (!/stream not found/i.test(String((err as Error).message))) {
      throw new BusError('UNAVAILABLE', `cannot read stream ${BUNDLE_STREAM}: ${(err as Error).message}`, true, { cause: err });
    }
  }
  try {
    if (!existing) {
      await jsm.streams.add(want);
      return;
    }
    if (!existing.subjects?.includes(want.subjects[0]!)) {
      throw new BusError('STREAM_CONFLICT', `stream ${BUNDLE_STREAM} exists with subjects ${JSON.stringify(existing.subjects)}, not ${want.subjects[0]}`, false);
    }
    const missing = want.subjects.filter((x) => !existing.subjects?.includes(x));
    const drift =
      missing.length > 0 ||
      existing.max_msgs_per_subject !== want.max_msgs_per_subject ||
      existing.duplicate_window !== want.duplicate_window ||
      existing.max_msg_size !== want.max_msg_size ||
      existing.num_replicas !== want.num_replicas;
    if (drift) await jsm.streams.update(BUNDLE_STREAM, { ...existing, ...want, subjects: [...(existing.subjects ?? []), ...missing] });
  } catch (err) {
    if (err instanceof BusError) throw err;
    throw new BusError('STREAM_CONFLICT', `cannot create or update stream ${BUNDLE_STREAM}: ${(err as Error).message}`, false, { cause: err });
  }
}

export interface BucketOptions {
  replicas?: number;
  /** Bind only (do not create): for enforcers and the API, which may lack the permission. */
  bindOnly?: boolean;
}

/** The stream behind the natfleet-nodes bucket. */
export const NODES_STREAM = `KV_${NODES_BUCKET}`;

/**
 * The stream config of the natfleet-nodes bucket: what nats.js 2.29 creates for
 * `js.views.kv(name, { history: 1 })` on nats-server ≥ 2.9 (same subjects, limits and
 * direct get, so nats.js binds to it as to its own), except `allow_rollup_hdrs: false`.
 * Nothing in natfleet rolls up or purges keys (kv.purge() would fail; kv.delete() works).
 */
export function nodesBucketStreamConfig(o: Pick<BucketOptions, 'replicas'> = {}): Partial<StreamConfig> & { name: string; subjects: string[] } {
  return {
    name: NODES_STREAM,
    subjects: [`$KV.${NODES_BUCKET}.>`],
    retention: RetentionPolicy.Limits,
    max_msgs_per_subject: 1,
    max_msg_size: -1,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    allow_direct: true,
    num_replicas: o.replicas ?? 1,
    allow_rollup_hdrs: false,
  };
}

/**
 * Creates the bucket's stream with rollups refused, or turns rollups off on an existing one
 * (a bucket created by nats.js or an older natfleet allows them).
 */
async function ensureNodesStream(js: JetStreamClient, replicas: number | undefined): Promise<void> {
  const jsm = await js.jetstreamManager();
  let existing: StreamConfig | undefined;
  try {
    existing = (await jsm.streams.info(NODES_STREAM)).config;
  } catch (err) {
    if (!/stream not found/i.test(String((err as Error).message))) throw err;
  }
  if (!existing) await jsm.streams.add(nodesBucketStreamConfig({ ...(replicas !== undefined ? { replicas } : {}) }));
  else if (existing.allow_rollup_hdrs) await jsm.streams.update(NODES_STREAM, { ...existing, allow_rollup_hdrs: false });
}

/**
 * Opens the natfleet-nodes KV bucket: one value per node, latest only. Unless bindOnly, it
 * first creates the bucket (rollups refused) or turns rollups off on an existing one, which
 * takes STREAM.INFO, STREAM.CREATE and STREAM.UPDATE on KV_natfleet-nodes (the compiler's).
 */
export async function openNodesBucket(js: JetStreamClient, options: BucketOptions = {}): Promise<KV> {
  try {
    if (!options.bindOnly) await ensureNodesStream(js, options.replicas);
    const kv = await js.views.kv(NODES_BUCKET, {
      history: 1,
      replicas: options.replicas ?? 1,
      storage: StorageType.File,
      ...(options.bindOnly ? { bindOnly: true } : {}),
    });
    // nats.js binds without asking the server; status() fails now if the bucket is missing.
    if (options.bindOnly) await kv.status();
    return kv;
  } catch (err) {
    throw new BusError('UNAVAILABLE', `cannot open KV bucket ${NODES_BUCKET}: ${(err as Error).message}`, true, { cause: err });
  }
}
