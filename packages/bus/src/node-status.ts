/**
 * Node status in the natfleet-nodes KV bucket: each enforcer writes its own key; the
 * compiler and API read and watch all keys. Values from other writers may be malformed,
 * so decoding never throws (undefined instead).
 */
import { DeliverPolicy, type JetStreamClient, type KV } from 'nats';
import { NODES_BUCKET } from './contracts.js';
import { BusError } from './errors.js';
import { NODE_NAME_RE, type NodeHealth, type NodeStatus } from './contracts.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * A NodeStatus for `node` in state `pending` with every other field empty, overridden by
 * `over`. For enforcers' first report and for tests; the heartbeat is now.
 */
export function pendingNodeStatus(node: string, over: Partial<NodeStatus> = {}): NodeStatus {
  return {
    node,
    cluster: 'default',
    labels: {},
    addresses: [],
    appliedVersion: 0,
    appliedDigest: '',
    state: 'pending',
    error: '',
    errorCode: '',
    failedVersion: 0,
    appliedAt: '',
    applyMs: 0,
    driftRepairs: 0,
    enforcerVersion: '',
    heartbeatAt: new Date().toISOString(),
    ...over,
  };
}

/** Writes `status` under its node name. Throws RangeError for a name KV cannot hold. */
export async function putNodeStatus(kv: KV, status: NodeStatus): Promise<void> {
  if (!NODE_NAME_RE.test(status.node)) throw new RangeError(`node name ${JSON.stringify(status.node)} must match ${NODE_NAME_RE}`);
  await kv.put(status.node, enc.encode(JSON.stringify(status)));
}

/**
 * Deregisters `node`: writes a delete marker on its key (`kv.delete`, a publish on the key's
 * own subject with `KV-Operation: DEL`, so an enforcer's permission for its key covers it;
 * never a purge, which the bucket refuses). Deleting a key that is absent or already deleted
 * succeeds. With `previousRevision` (the key's last stream sequence as read) the delete only
 * happens if nothing was written since: returns false when the key moved on (the node spoke
 * again), true when the marker was written. Throws RangeError for a name outside
 * NODE_NAME_RE and BusError UNAVAILABLE (recoverable) when NATS refuses or does not answer.
 */
export async function deleteNodeStatus(kv: KV, node: string, options: { previousRevision?: number } = {}): Promise<boolean> {
  if (!NODE_NAME_RE.test(node)) throw new RangeError(`node name ${JSON.stringify(node)} must match ${NODE_NAME_RE}`);
  try {
    await kv.delete(node, options.previousRevision !== undefined ? { previousSeq: options.previousRevision } : undefined);
    return true;
  } catch (err) {
    const msg = String((err as Error).message);
    if (options.previousRevision !== undefined && /wrong last sequence/i.test(msg)) return false;
    throw new BusError('UNAVAILABLE', `deleting ${NODES_BUCKET} key ${node}: ${msg}`, true, { cause: err });
  }
}

/** Parses a KV value; undefined for anything that is not a NodeStatus-shaped object. */
export function decodeNodeStatus(bytes: Uint8Array): NodeStatus | undefined {
  try {
    const v = JSON.parse(dec.decode(bytes)) as Partial<NodeStatus>;
    if (typeof v !== 'object' || v === null || typeof v.node !== 'string') return undefined;
    return {
      node: v.node,
      cluster: typeof v.cluster === 'string' ? v.cluster : '',
      labels: typeof v.labels === 'object' && v.labels !== null ? v.labels : {},
      addresses: Array.isArray(v.addresses) ? v.addresses.filter((a): a is string => typeof a === 'string') : [],
      appliedVersion: Number(v.appliedVersion) || 0,
      appliedDigest: typeof v.appliedDigest === 'string' ? v.appliedDigest : '',
      state: v.state === 'applied' || v.state === 'failed' ? v.state : 'pending',
      error: typeof v.error === 'string' ? v.error : '',
      errorCode: typeof v.errorCode === 'string' ? v.errorCode : '',
      failedVersion: Number(v.failedVersion) || 0,
      appliedAt: typeof v.appliedAt === 'string' ? v.appliedAt : '',
      applyMs: Number(v.applyMs) || 0,
      driftRepairs: Number(v.driftRepairs) || 0,
      enforcerVersion: typeof v.enforcerVersion === 'string' ? v.enforcerVersion : '',
      heartbeatAt: typeof v.heartbeatAt === 'string' ? v.heartbeatAt : '',
      ...(decodeHealth(v.health) ? { health: decodeHealth(v.health)! } : {}),
      ...(Number(v.admissionRevision) > 0 ? { admissionRevision: Number(v.admissionRevision) } : {}),
    };
  } catch {
    return undefined;
  }
}

const HEALTH_RESULTS: readonly NodeHealth['result'][] = ['none', 'running', 'passed', 'failed'];

/** A NodeHealth from a decoded value, or undefined when absent or malformed. */
function decodeHealth(v: unknown): NodeHealth | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const h = v as Partial<NodeHealth>;
  if (!HEALTH_RESULTS.includes(h.result as NodeHealth['result'])) return undefined;
  const str = (x: unknown): string => (typeof x === 'string' ? x : '');
  return { version: Number(h.version) || 0, result: h.result!, code: str(h.code), check: str(h.check), output: str(h.output), checkedAt: str(h.checkedAt) };
}

/** How long the server keeps a one-shot read consumer once it is idle (ms). */
export const READ_CONSUMER_IDLE_MS = 10_000;

/** Every node's current status and the nodes whose key was deleted or purged, read at one moment. */
export interface NodeStatusSnapshot {
  /** Sorted by node name; empty when none. */
  statuses: NodeStatus[];
  /** Node names whose latest KV entry is a delete or purge marker (decommissioned). */
  deleted: string[];
  /**
   * Stream sequence of each node's latest entry (put or delete) in this read. The stream
   * orders every write of the bucket, whatever the writers' clocks say: what decides
   * "newer" between two reads. Absent for hand-made snapshots (then heartbeats decide).
   */
  seq?: ReadonlyMap<string, number>;
}

/**
 * Reads the latest status of every node (last-per-subject), with the names of deleted
 * keys. Empty when the bucket is empty. Throws BusError UNAVAILABLE past `timeoutMs`.
 * Reads the last value per key straight from the bucket's stream and stops on the
 * server's pending count — not `kv.keys()`, which was seen here to miss keys written a
 * moment before (nats.js 2.29).
 * The read may be served by a JetStream replica that has not caught up yet: callers that
 * must never go backwards merge successive reads (see MonotonicNodeStatuses).
 */
export async function readNodeStatusSnapshot(js: JetStreamClient, { timeoutMs = 5_000 }: { timeoutMs?: number } = {}): Promise<NodeStatusSnapshot> {
  const stream = `KV_${NODES_BUCKET}`;
  const jsm = await js.jetstreamManager();
  const info = await jsm.streams.info(stream);
  if (info.state.messages === 0) return { statuses: [], deleted: [], seq: new Map() };
  // A one-shot read: the server drops the consumer 10 s after it goes idle. Readers may not
  // delete consumers (NATS permissions), and nats.js's default of 5 minutes left one
  // consumer per API request behind (200 GETs, 200 consumers, each a cluster proposal).
  const consumer = await js.consumers.get(stream, { filterSubjects: `$KV.${NODES_BUCKET}.>`, deliver_policy: DeliverPolicy.LastPerSubject, inactive_threshold: READ_CONSUMER_IDLE_MS });
  const latest = new Map<string, NodeStatus | undefined>();
  const seq = new Map<string, number>();
  const messages = await consumer.consume();
  // A read must never hang a caller (an API request): past the deadline, give up loudly.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void messages.close();
  }, timeoutMs);
  try {
    for await (const m of messages) {
      const key = m.subject.slice(`$KV.${NODES_BUCKET}.`.length);
      const op = m.headers?.get('KV-Operation');
      const status = op === 'DEL' || op === 'PURGE' ? undefined : decodeNodeStatus(m.data);
      // An undecodable value is not a delete: skip it (the node keeps what was known).
      if (status !== undefined || op === 'DEL' || op === 'PURGE') {
        latest.set(key, status);
        seq.set(key, m.seq);
      }
      if (m.info.pending === 0) break;
    }
  } finally {
    clearTimeout(timer);
    await messages.close();
  }
  if (timedOut) throw new BusError('UNAVAILABLE', `reading node statuses took longer than ${timeoutMs} ms`, true);
  const statuses = [...latest.values()].filter((s): s is NodeStatus => s !== undefined).sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  const deleted = [...latest].filter(([, v]) => v === undefined).map(([k]) => k).sort();
  return { statuses, deleted, seq };
}

/** {@link readNodeStatusSnapshot} without the deleted names: every node's latest status, sorted by name. */
export async function readNodeStatuses(js: JetStreamClient, options: { timeoutMs?: number } = {}): Promise<NodeStatus[]> {
  return (await readNodeStatusSnapshot(js, options)).statuses;
}

/**
 * Keeps what successive status reads report from ever going backwards. A read can be
 * served by a JetStream replica that has not caught up (seen after a NATS server restart:
 * a node shown on v197 right after v238). Of two reads of one node, the entry with the
 * higher stream sequence is the newer — the stream orders every write, whatever the
 * writers' clocks say (a node whose clock jumped, a reinstalled node); only snapshots
 * without sequences fall back to heartbeats. Deletes are remembered with their sequence,
 * so a lagging read cannot bring a decommissioned node back. One instance per reader
 * process, in memory: each API replica is monotonic on its own (a client polling through
 * a load balancer can see two replicas disagree for a moment).
 */
export class MonotonicNodeStatuses {
  private readonly known = new Map<string, { status: NodeStatus | undefined; seq: number | undefined }>();

  /** Merges one read; returns every known node's newest status, sorted by name. */
  merge(read: NodeStatusSnapshot): NodeStatus[] {
    const entries: [string, NodeStatus | undefined][] = [...read.deleted.map((n): [string, undefined] => [n, undefined]), ...read.statuses.map((s): [string, NodeStatus] => [s.node, s])];
    for (const [node, status] of entries) {
      const seq = read.seq?.get(node);
      const prev = this.known.get(node);
      if (prev === undefined || isNewer({ status, seq }, prev)) this.known.set(node, { status, seq });
    }
    return [...this.known.values()]
      .map((k) => k.status)
      .filter((s): s is NodeStatus => s !== undefined)
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }
}

/** Whether `a` is a newer entry than `b` of the same node (stream sequence first; heartbeat, then version, without one). */
function isNewer(a: { status: NodeStatus | undefined; seq: number | undefined }, b: { status: NodeStatus | undefined; seq: number | undefined }): boolean {
  if (a.seq !== undefined && b.seq !== undefined) return a.seq >= b.seq;
  if (a.status === undefined) return true; // a delete without sequences: trust it
  if (b.status === undefined) return true;
  return !isOlder(a.status, b.status);
}

/** True when `a` is an older report than `b` of the same node. */
function isOlder(a: NodeStatus, b: NodeStatus): boolean {
  const ta = Date.parse(a.heartbeatAt);
  const tb = Date.parse(b.heartbeatAt);
  if (Number.isFinite(ta) && Number.isFinite(tb) && ta !== tb) return ta < tb;
  return a.appliedVersion < b.appliedVersion;
}

/**
 * One change of the bucket. `revision` is the entry's stream sequence (what
 * deleteNodeStatus's `previousRevision` compares with); `storedAt` is when the NATS
 * server stored it (server clock, not the writer's).
 */
export type NodeStatusEvent =
  | { type: 'put'; status: NodeStatus; revision: number; storedAt: Date }
  | { type: 'delete'; node: string; revision: number; storedAt: Date };

/**
 * Current values (delete markers of decommissioned nodes included), then every change, as
 * events. Undecodable values are skipped. Ends when `signal` aborts.
 */
export async function* watchNodeStatuses(kv: KV, signal?: AbortSignal): AsyncGenerator<NodeStatusEvent> {
  const iter = await kv.watch({ include: 'lastValue' as never });
  const stop = (): void => iter.stop();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    for await (const e of iter) {
      if (e.operation === 'PUT') {
        const status = decodeNodeStatus(e.value);
        if (status) yield { type: 'put', status, revision: e.revision, storedAt: e.created };
      } else {
        yield { type: 'delete', node: e.key, revision: e.revision, storedAt: e.created };
      }
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    iter.stop();
  }
}
