/**
 * The worker thread behind LibNft (lib-nft.ts): its source, run with
 * `new Worker(NFT_WORKER_SOURCE, { eval: true, workerData })`, and the messages it trades.
 * The source is plain JavaScript in a string so the same text runs whether this package
 * is loaded from src (vitest) or from dist (node): no file of its own to resolve or build.
 *
 * At start the thread, and only this thread, enters the network namespace (setns on
 * /run/netns/<name>, once), then loads libnftables through koffi, makes one nft context
 * with buffered output and error, and opens one NETLINK_NETFILTER socket for
 * NFT_MSG_GETGEN (the same request as nft-generation.ts's program) and for reading the
 * table by dumps (netlink.ts), both read-only. Then it answers one
 * request at a time; every call is synchronous, which is why it runs here and not on the
 * event loop. Transactions go through a memfd read by `nft_run_cmd_from_filename`, as
 * `nft -f -` reads /dev/stdin, so errors carry `file:line:col` like the CLI's stderr and
 * errors.ts classifies both alike. It never builds an nft command itself: it runs the
 * text it is sent. It never logs; it reports a start failure as `unavailable` on every
 * request (the parent then drops it).
 */

import { NETLINK_SOURCE, type NetlinkTableRead } from './netlink.js';

/** What the parent gives the worker at start. */
export interface NftWorkerData {
  /** Absolute path of koffi's entry point (resolved by the parent, which has the module). */
  koffiPath: string;
  /** libnftables to dlopen: a soname or a path. */
  libraryPath: string;
  /** Enter /run/netns/<netns> before anything else; undefined: stay in the process's namespace. */
  netns?: string;
}

/** One request. `text` for `run` (a command) and `file` (a transaction, read like `nft -f`). */
export type NftWorkerRequest =
  | { id: number; op: 'run'; text: string; terse: boolean }
  | { id: number; op: 'file'; text: string; dryRun: boolean }
  | { id: number; op: 'generation' }
  | { id: number; op: 'table'; family: number; table: string; withElements: boolean; elementsOf: string };

/** One answer, to the request with the same id. */
export type NftWorkerReply =
  | { id: number; type: 'nft'; rc: number; output: string; error: string }
  | { id: number; type: 'generation'; generation: number }
  | { id: number; type: 'table'; read: NetlinkTableRead }
  | { id: number; type: 'netlink-error'; error: string }
  | { id: number; type: 'unavailable'; reason: 'missing-library' | 'netns' | 'permission'; message: string };

/** Error text kept: nft prints the whole offending line, which can be megabytes long (as RealNft). */
export const MAX_ERROR_TEXT = 64 * 1024;

export const NFT_WORKER_SOURCE = String.raw`'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');

const MAX_ERROR_TEXT = ${MAX_ERROR_TEXT};
const CLONE_NEWNET = 0x40000000;
const MFD_CLOEXEC = 1;
const AF_NETLINK = 16, SOCK_RAW = 3, SOCK_CLOEXEC = 0x80000, NETLINK_NETFILTER = 12;
const NFT_CTX_OUTPUT_TERSE = 1 << 11;

function start() {
  let koffi;
  try {
    koffi = require(workerData.koffiPath);
  } catch (err) {
    return { unavailable: { reason: 'missing-library', message: 'cannot load koffi (the FFI for libnftables): ' + err.message } };
  }
  let libc;
  try {
    libc = koffi.load('libc.so.6');
  } catch (err) {
    return { unavailable: { reason: 'missing-library', message: 'cannot load libc.so.6: ' + err.message } };
  }
  const c = {
    setns: libc.func('int setns(int fd, int nstype)'),
    memfdCreate: libc.func('int memfd_create(const char *name, unsigned int flags)'),
    socket: libc.func('int socket(int domain, int type, int protocol)'),
    send: libc.func('long send(int fd, const void *buf, size_t len, int flags)'),
    recv: libc.func('long recv(int fd, _Out_ void *buf, size_t len, int flags)'),
    close: libc.func('int close(int fd)'),
    strerror: libc.func('const char *strerror(int errnum)'),
  };
  const errnoText = () => c.strerror(koffi.errno());
  if (workerData.netns !== undefined) {
    const path = '/run/netns/' + workerData.netns;
    let fd;
    try {
      fd = fs.openSync(path, 'r');
    } catch (err) {
      return { unavailable: { reason: 'netns', message: 'Cannot open network namespace "' + workerData.netns + '": ' + (err.code === 'ENOENT' ? 'No such file or directory' : err.message) } };
    }
    const rc = c.setns(fd, CLONE_NEWNET);
    const why = rc === 0 ? '' : errnoText();
    fs.closeSync(fd);
    if (rc !== 0) {
      return { unavailable: { reason: /not permitted/.test(why) ? 'permission' : 'netns', message: 'setns to network namespace "' + workerData.netns + '" failed: ' + why } };
    }
  }
  let lib;
  try {
    lib = koffi.load(workerData.libraryPath);
  } catch (err) {
    return { unavailable: { reason: 'missing-library', message: 'cannot load ' + workerData.libraryPath + ': ' + err.message } };
  }
  let n;
  try {
    n = {
      ctxNew: lib.func('void *nft_ctx_new(uint32_t flags)'),
      bufferOutput: lib.func('int nft_ctx_buffer_output(void *ctx)'),
      bufferError: lib.func('int nft_ctx_buffer_error(void *ctx)'),
      getOutput: lib.func('const char *nft_ctx_get_output_buffer(void *ctx)'),
      getError: lib.func('const char *nft_ctx_get_error_buffer(void *ctx)'),
      setFlags: lib.func('void nft_ctx_output_set_flags(void *ctx, unsigned int flags)'),
      setDryRun: lib.func('void nft_ctx_set_dry_run(void *ctx, bool dry)'),
      runBuffer: lib.func('int nft_run_cmd_from_buffer(void *ctx, const char *buf)'),
      runFile: lib.func('int nft_run_cmd_from_filename(void *ctx, const char *filename)'),
    };
  } catch (err) {
    return { unavailable: { reason: 'missing-library', message: workerData.libraryPath + ' is not a usable libnftables: ' + err.message } };
  }
  const ctx = n.ctxNew(0);
  if (!ctx) return { unavailable: { reason: 'missing-library', message: 'nft_ctx_new failed' } };
  if (n.bufferOutput(ctx) !== 0 || n.bufferError(ctx) !== 0) return { unavailable: { reason: 'missing-library', message: 'nft_ctx_buffer_output/error failed' } };
  const sock = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  const sockError = sock < 0 ? 'netlink socket: ' + errnoText() : undefined;
  return { koffi, c, n, ctx, sock, sockError, seq: 0 };
}

/** Both buffers are read after every command: reading them is what empties them. */
function collect(s, rc) {
  const output = s.n.getOutput(s.ctx) || '';
  const error = s.n.getError(s.ctx) || '';
  return { type: 'nft', rc, output, error: error.length > MAX_ERROR_TEXT ? error.slice(0, MAX_ERROR_TEXT) : error };
}

function runCommand(s, text, terse) {
  s.n.setFlags(s.ctx, terse ? NFT_CTX_OUTPUT_TERSE : 0);
  try {
    return collect(s, s.n.runBuffer(s.ctx, text));
  } finally {
    s.n.setFlags(s.ctx, 0);
  }
}

function runFile(s, text, dryRun) {
  const fd = s.c.memfdCreate('natfleet-nft', MFD_CLOEXEC);
  if (fd < 0) return { type: 'nft', rc: -1, output: '', error: 'Error: memfd_create: ' + s.c.strerror(s.koffi.errno()) + '\n' };
  try {
    const data = Buffer.from(text, 'utf8');
    for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off);
    s.n.setDryRun(s.ctx, dryRun);
    // A new open of the memfd starts at offset 0; nft reads it like nft -f reads /dev/stdin.
    return collect(s, s.n.runFile(s.ctx, '/proc/self/fd/' + fd));
  } finally {
    s.n.setDryRun(s.ctx, false);
    s.c.close(fd); // not fs.closeSync: Node warns when a worker closes an fd that fs did not open
  }
}

function generation(s) {
  if (s.sockError) return { type: 'netlink-error', error: s.sockError };
  try {
    return { type: 'generation', generation: generationOf(s) };
  } catch (err) {
    if (err instanceof NetlinkError) return { type: 'netlink-error', error: err.message };
    throw err;
  }
}

function table(s, req) {
  if (s.sockError) return { type: 'netlink-error', error: s.sockError };
  try {
    return { type: 'table', read: readTable(s, req.family, req.table, req.withElements, req.elementsOf) };
  } catch (err) {
    if (err instanceof NetlinkError) return { type: 'netlink-error', error: err.message };
    throw err;
  }
}
${NETLINK_SOURCE}
const state = start();
parentPort.on('message', (req) => {
  let reply;
  if (state.unavailable) reply = { type: 'unavailable', ...state.unavailable };
  else if (req.op === 'run') reply = runCommand(state, req.text, req.terse);
  else if (req.op === 'file') reply = runFile(state, req.text, req.dryRun);
  else if (req.op === 'table') reply = table(state, req);
  else reply = generation(state);
  parentPort.postMessage({ id: req.id, ...reply });
});
`;
