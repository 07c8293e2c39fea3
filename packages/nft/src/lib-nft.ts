/**
 * LibNft: the Nft implementation that calls libnftables in process (through koffi, in one
 * worker thread, nft-worker.ts), so an apply or a read costs a library call instead of a
 * process (`ip netns exec … nft`): ~0.2 ms for a marker read, no fork, no exec. With
 * `netns` the worker thread enters that namespace once at start; the rest of the process
 * stays where it is.
 *
 * Calls are queued and run one at a time (the worker is single-threaded and nft contexts
 * are not shared). A call that does not answer within `timeoutMs` rejects with
 * NftTimeoutError and its worker is abandoned (terminated; a native call in progress still
 * finishes in the kernel or not, so read back): the next call starts a fresh worker.
 * Errors are typed at this boundary from the same text the CLI prints (errors.ts), so
 * callers cannot tell the backends apart by their errors.
 *
 * Must never name any table but `inet natfleet` in the commands it builds itself (read,
 * marker, delete); apply and check run only the text they are handed, which is ours.
 * Never logs, never retries.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { isNftNotFoundError, NftCommandError, NftError, nftErrorFromFailure, NftTimeoutError, NftUnavailableError, type NftOperation } from './errors.js';
import { LIST_MARKER_COMMAND, parseMarkerListing } from './marker.js';
import { NFT_WORKER_SOURCE, type NftWorkerData, type NftWorkerReply, type NftWorkerRequest } from './nft-worker.js';
import { NFPROTO_INET, tableStateOf, type NetlinkTableRead } from './netlink.js';
import { MARKER_SET, TABLE_NAME, TABLE_REF, type Nft } from './nft.js';
import { assertNetnsName, DEFAULT_NFT_TIMEOUT_MS } from './real-nft.js';
import { parseTableListing, parseTerseListing, type TableState } from './table-state.js';

export interface LibNftOptions {
  /** Enter this named network namespace (/run/netns/<netns>) in the worker thread. Default: the current namespace. */
  netns?: string;
  /** The library to load: a soname or a path. Default `libnftables.so.1` (Debian package libnftables1). */
  libraryPath?: string;
  /** Reject with NftTimeoutError and abandon the worker after this long. Default 10 000 ms. */
  timeoutMs?: number;
}

export const DEFAULT_LIBNFTABLES = 'libnftables.so.1';

/** Requests without their id (the queue numbers them). */
type Request = NftWorkerRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

interface Pending {
  id: number;
  operation: NftOperation;
  timer: NodeJS.Timeout;
  resolve: (reply: NftWorkerReply) => void;
  reject: (err: unknown) => void;
}

/** Nft backed by libnftables in a worker thread. Holds that worker: call close() when done. */
export class LibNft implements Nft {
  readonly backend = 'libnftables' as const;
  private readonly timeoutMs: number;
  private readonly workerData: NftWorkerData | NftUnavailableError;
  private worker: Worker | undefined;
  private pending: Pending | undefined;
  private nextId = 0;
  /** The end of the queue: every call starts after the previous one settled. */
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** Throws NftUnavailableError (reason `netns`) when `netns` is not a plain namespace name. Starts nothing yet. */
  constructor(options: LibNftOptions = {}) {
    if (options.netns !== undefined) assertNetnsName(options.netns);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_NFT_TIMEOUT_MS;
    const libraryPath = options.libraryPath ?? DEFAULT_LIBNFTABLES;
    try {
      const koffiPath = createRequire(import.meta.url).resolve('koffi');
      this.workerData = { koffiPath, libraryPath, ...(options.netns !== undefined && { netns: options.netns }) };
    } catch (err) {
      this.workerData = new NftUnavailableError('missing-library', 'the koffi module (the FFI for libnftables) is not installed', '', undefined, { cause: err });
    }
  }

  async applyTransaction(text: string): Promise<void> {
    await this.nft('apply', { op: 'file', text, dryRun: false });
  }

  async check(text: string): Promise<void> {
    await this.nft('check', { op: 'file', text, dryRun: true });
  }

  /** Resolves undefined when the table or the marker set is missing, or the set holds no commented element. */
  async readMarker(): Promise<string | undefined> {
    try {
      return parseMarkerListing(await this.nft('read', { op: 'run', text: LIST_MARKER_COMMAND, terse: false }));
    } catch (err) {
      if (isNftNotFoundError(err)) return undefined;
      throw err;
    }
  }

  /**
   * The table by netlink dumps without set elements (the marker's only, for `comment`):
   * the same at any table size. Like the terse listing plus readMarker, which it falls back
   * to when the dump holds a set it does not format (netlink.ts). Undefined when the table
   * does not exist.
   */
  async readTable(): Promise<TableState | undefined> {
    const read = await this.dump(false);
    if (!('fallback' in read)) return read.found ? tableStateOf(read, false) : undefined;
    let state: TableState;
    try {
      state = parseTerseListing(await this.nft('read', { op: 'run', text: `list table ${TABLE_REF}`, terse: true }));
    } catch (err) {
      if (isNftNotFoundError(err)) return undefined;
      throw err;
    }
    const marker = await this.readMarker();
    return marker === undefined ? state : { ...state, comment: marker };
  }

  /**
   * The table with every set element, by netlink dumps decoded in the worker (a fraction
   * of nft's listing time at 100k elements); nft's full listing when the dump holds a set
   * it does not format (netlink.ts). Undefined when the table does not exist.
   */
  async readTableContents(): Promise<TableState | undefined> {
    const read = await this.dump(true);
    if (!('fallback' in read)) return read.found ? tableStateOf(read, true) : undefined;
    try {
      return parseTableListing(await this.nft('read', { op: 'run', text: `list table ${TABLE_REF}`, terse: false }));
    } catch (err) {
      if (isNftNotFoundError(err)) return undefined;
      throw err;
    }
  }

  /** NFT_MSG_GETGEN on the worker's netlink socket. Rejects NftUnavailableError (permission, netns, library), NftTimeoutError or NftCommandError. */
  async generation(): Promise<number> {
    const reply = await this.call('generation', { op: 'generation' });
    if (reply.type === 'generation') return reply.generation;
    if (reply.type === 'netlink-error') throw nftErrorFromFailure({ stderr: reply.error, exitCode: null, operation: 'generation' });
    throw new NftCommandError(null, `generation: unexpected worker answer ${reply.type}`);
  }

  /** Resolves false when the table did not exist. */
  async deleteTable(): Promise<boolean> {
    try {
      await this.nft('delete', { op: 'run', text: `delete table ${TABLE_REF}`, terse: false });
      return true;
    } catch (err) {
      if (isNftNotFoundError(err)) return false;
      throw err;
    }
  }

  /**
   * Stops the worker. Idempotent; later calls reject with code NFT_UNAVAILABLE. A call in
   * flight rejects at once; its native call cannot be interrupted and may still commit,
   * so close() then does not wait for the thread to end (it may be stuck, e.g. on a file).
   */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    const busy = this.pending !== undefined;
    this.worker = undefined;
    this.pending?.reject(closedError());
    this.settle();
    if (!worker) return;
    if (busy) void worker.terminate();
    else await worker.terminate();
  }

  /** Reads `inet natfleet` by netlink dumps in the worker. */
  private async dump(withElements: boolean): Promise<NetlinkTableRead> {
    const reply = await this.call('read', { op: 'table', family: NFPROTO_INET, table: TABLE_NAME, withElements, elementsOf: MARKER_SET });
    if (reply.type === 'table') return reply.read;
    if (reply.type === 'netlink-error') throw nftErrorFromFailure({ stderr: reply.error, exitCode: null, operation: 'read' });
    throw new NftCommandError(null, `read: unexpected worker answer ${reply.type}`);
  }

  /** Runs an nft command or transaction; resolves its output, rejects with the typed error of a non-zero status. */
  private async nft(operation: NftOperation, request: Request): Promise<string> {
    const reply = await this.call(operation, request);
    if (reply.type !== 'nft') throw new NftCommandError(null, `${operation}: unexpected worker answer ${reply.type}`);
    if (reply.rc !== 0) throw nftErrorFromFailure({ stderr: reply.error, exitCode: reply.rc, operation });
    return reply.output;
  }

  /** Queues `request`; resolves the worker's answer. `unavailable` answers reject (NftUnavailableError) and drop the worker. */
  private call(operation: NftOperation, request: Request): Promise<NftWorkerReply> {
    const run = (): Promise<NftWorkerReply> =>
      new Promise<NftWorkerReply>((resolve, reject) => {
        if (this.closed) return reject(closedError());
        if (this.workerData instanceof NftUnavailableError) return reject(this.workerData);
        const worker = this.ensureWorker(this.workerData);
        const id = ++this.nextId;
        const timer = setTimeout(() => {
          this.abandon(worker);
          reject(new NftTimeoutError(operation, this.timeoutMs));
        }, this.timeoutMs);
        this.pending = { id, operation, timer, resolve, reject };
        worker.postMessage({ id, ...request } as NftWorkerRequest);
      }).then((reply) => {
        if (reply.type !== 'unavailable') return reply;
        throw new NftUnavailableError(reply.reason, `libnftables: ${reply.message}`, '', reply.reason === 'missing-library' ? 'libnftables1' : undefined);
      });
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private ensureWorker(data: NftWorkerData): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(NFT_WORKER_SOURCE, { eval: true, workerData: data });
    worker.unref(); // an idle LibNft never keeps the process alive; a call in flight has its timer
    worker.on('message', (reply: NftWorkerReply) => {
      const pending = this.pending;
      if (worker !== this.worker || pending === undefined || reply.id !== pending.id) return; // an abandoned worker's late answer
      this.settle();
      if (reply.type === 'unavailable') this.abandon(worker);
      pending.resolve(reply);
    });
    worker.on('error', (err) => this.workerGone(worker, new NftCommandError(null, `libnftables worker failed: ${err.message}`)));
    worker.on('exit', (code) => this.workerGone(worker, new NftCommandError(code, 'libnftables worker exited')));
    this.worker = worker;
    return worker;
  }

  private workerGone(worker: Worker, err: NftError): void {
    if (worker !== this.worker) return;
    this.worker = undefined;
    const pending = this.pending;
    this.settle();
    pending?.reject(err);
  }

  /** Drops `worker` (its answers are ignored from now on) and terminates it without waiting. */
  private abandon(worker: Worker): void {
    if (worker === this.worker) this.worker = undefined;
    this.settle();
    void worker.terminate();
  }

  private settle(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
  }
}

function closedError(): NftError {
  return new NftError('NFT_UNAVAILABLE', 'libnftables: closed');
}
