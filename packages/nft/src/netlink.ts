/**
 * nf_tables over raw netlink, for the worker thread (nft-worker.ts): the generation
 * (NFT_MSG_GETGEN) and a read of ONE table by dumps (GETTABLE, GETSET, GETSETELEM,
 * GETCHAIN, GETRULE) that formats set elements the way nft lists them, without nft's
 * listing. nft 1.0.6 builds its whole cache and prints every element through its
 * expression machinery: ~0.3–0.9 s at 100k elements, even for `nft -t`; the dumps and
 * their decoding here cost a fraction of that, and a read without elements (the marker's
 * only) costs the same at any table size.
 *
 * Plain JavaScript in a string, concatenated into the worker's source (which see for
 * why); it expects `s.c` (libc send/recv through koffi), `s.sock` (a NETLINK_NETFILTER
 * socket) and `s.koffi` from the worker. Read-only: it sends only GET requests. What it
 * cannot print exactly as nft would (a set of another key type, intervals, maps, element
 * flags or timeouts) it does not guess: the answer says `fallback` and LibNft reads nft's
 * listing instead. The element formats: IPv4 dotted quad, IPv6 as glibc's inet_ntop
 * (which nft uses), a mark as 0x%08x (host byte order, as nft stores it).
 */

import { MARKER_SET } from './nft.js';
import type { TableState } from './table-state.js';

/** A set as the dump found it; `elements`/`comments` only for the sets asked for. */
export interface NetlinkSet {
  name: string;
  /** Element keys as nft lists them, in nft's order (by value). */
  elements?: string[];
  /** Only for the set named `elementsOf` (the marker): per element, its comment, or null without one. */
  comments?: (string | null)[];
}

/** What `readTable` in the worker source answers. */
export type NetlinkTableRead =
  | { found: false }
  | { found: true; sets: NetlinkSet[]; chains: string[]; ruleIds: string[] }
  | { fallback: string };

export const NETLINK_SOURCE = String.raw`
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG = { NEWTABLE: 0, GETTABLE: 1, NEWCHAIN: 3, GETCHAIN: 4, NEWRULE: 6, GETRULE: 7, NEWSET: 9, GETSET: 10, NEWSETELEM: 12, GETSETELEM: 13, NEWGEN: 15, GETGEN: 16 };
const NLMSG_ERROR = 2, NLMSG_DONE = 3;
const NLM_F_REQUEST = 1, NLM_F_DUMP = 0x300, NLM_F_DUMP_INTR = 0x10;
const NFPROTO_INET = 1;
const NESTED_MASK = 0x7fff;
// Set flags nft would print or that change what an element is: interval, map, object, timeout, concat, expr.
const SET_UNSUPPORTED = 0x4 | 0x8 | 0x10 | 0x40 | 0x80 | 0x100;
const SET_ANONYMOUS = 0x1;
const TYPE_IPADDR = 7, TYPE_IP6ADDR = 8, TYPE_MARK = 19;
const HOST_LE = require('node:os').endianness() === 'LE';

class NetlinkError extends Error {}
class Interrupted extends Error {}

/** Sends one nf_tables request (nfgenmsg + string/u32 attributes); returns its sequence number. */
function nlSend(s, msgType, flags, family, attrs) {
  let size = 20;
  const parts = attrs.map(([type, value]) => {
    const payload = typeof value === 'string' ? Buffer.from(value + '\0', 'utf8') : value;
    size += (4 + payload.length + 3) & ~3;
    return [type, payload];
  });
  const req = Buffer.alloc(size);
  const seq = (s.seq = (s.seq + 1) >>> 0);
  req.writeUInt32LE(size, 0);
  req.writeUInt16LE((NFNL_SUBSYS_NFTABLES << 8) | msgType, 4);
  req.writeUInt16LE(NLM_F_REQUEST | flags, 6);
  req.writeUInt32LE(seq, 8);
  req.writeUInt8(family, 16);
  let o = 20;
  for (const [type, payload] of parts) {
    req.writeUInt16LE(4 + payload.length, o);
    req.writeUInt16LE(type, o + 2);
    payload.copy(req, o + 4);
    o += (4 + payload.length + 3) & ~3;
  }
  if (s.c.send(s.sock, req, size, 0) < 0) throw new NetlinkError('netlink send: ' + s.c.strerror(s.koffi.errno()));
  return seq;
}

/**
 * Receives the answers to request seq: onMessage(buf, start, end) per nf_tables message
 * (start: after the nfgenmsg). A dump ends at NLMSG_DONE, a plain request after its one
 * answer. Throws NetlinkError (with .errno) on an error answer, Interrupted when the
 * ruleset changed during the dump.
 */
function nlReceive(s, seq, dump, onMessage) {
  if (!s.rbuf) s.rbuf = Buffer.alloc(256 * 1024);
  const buf = s.rbuf;
  let interrupted = false;
  for (;;) {
    const got = Number(s.c.recv(s.sock, buf, buf.length, 0));
    if (got < 0) throw new NetlinkError('netlink recv: ' + s.c.strerror(s.koffi.errno()));
    for (let off = 0; off + 16 <= got; ) {
      const len = buf.readUInt32LE(off);
      if (len < 16 || off + len > got) throw new NetlinkError('netlink: malformed message');
      const type = buf.readUInt16LE(off + 4);
      const flags = buf.readUInt16LE(off + 6);
      const next = off + ((len + 3) & ~3);
      if (buf.readUInt32LE(off + 8) !== seq) {
        off = next;
        continue;
      }
      if (flags & NLM_F_DUMP_INTR) interrupted = true;
      if (type === NLMSG_DONE) {
        if (interrupted) throw new Interrupted();
        return;
      }
      if (type === NLMSG_ERROR) {
        const errno = -buf.readInt32LE(off + 16);
        if (errno === 0) return;
        const err = new NetlinkError('netlink: ' + s.c.strerror(errno));
        err.errno = errno;
        throw err;
      }
      onMessage(buf, off + 20, off + len);
      if (!dump) return;
      off = next;
    }
  }
}

/** Calls fn(type, start, end) for every attribute in [start, end). */
function eachAttr(buf, start, end, fn) {
  for (let o = start; o + 4 <= end; ) {
    const len = buf.readUInt16LE(o);
    if (len < 4) return;
    fn(buf.readUInt16LE(o + 2) & NESTED_MASK, o + 4, o + len);
    o += (len + 3) & ~3;
  }
}

/** A NUL-terminated string attribute. */
function str(buf, start, end) {
  const nul = buf.indexOf(0, start);
  return buf.toString('utf8', start, nul >= 0 && nul < end ? nul : end);
}

/** The comment (udata TLV type 0) in a userdata attribute, or null. */
function udataComment(buf, start, end) {
  for (let o = start; o + 2 <= end; ) {
    const type = buf[o], len = buf[o + 1];
    if (type === 0) return str(buf, o + 2, Math.min(o + 2 + len, end));
    o += 2 + len;
  }
  return null;
}

function ipv4(buf, o) {
  return buf[o] + '.' + buf[o + 1] + '.' + buf[o + 2] + '.' + buf[o + 3];
}

/** glibc's inet_ntop6, which nft prints IPv6 addresses with: the first longest run (≥ 2) of zero words as ::, IPv4 tails for ::a.b.c.d and ::ffff:a.b.c.d. */
function ipv6(buf, o) {
  const w = [];
  for (let i = 0; i < 8; i++) w.push(buf.readUInt16BE(o + 2 * i));
  let bestBase = -1, bestLen = 0, curBase = -1, curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (curBase === -1) (curBase = i), (curLen = 1);
      else curLen++;
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) (bestBase = curBase), (bestLen = curLen);
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) (bestBase = curBase), (bestLen = curLen);
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) return out + ipv4(buf, o + 12);
    out += w[i].toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

function mark(buf, o) {
  return '0x' + markValue(buf, o).toString(16).padStart(8, '0');
}

function markValue(buf, o) {
  return HOST_LE ? buf.readUInt32LE(o) : buf.readUInt32BE(o);
}

/** Per key type: its length, how nft prints it, and the value nft sorts a listing by (the key as a number). */
const FORMATS = {
  [TYPE_IPADDR]: [4, ipv4, (buf, o) => buf.readUInt32BE(o)],
  [TYPE_IP6ADDR]: [16, ipv6, (buf, o) => buf.toString('hex', o, o + 16)],
  [TYPE_MARK]: [4, mark, markValue],
};

/**
 * One table read by dumps. withElements: every set's elements; else only those of the
 * set named elementsOf (the marker), the only set whose element comments are kept. Returns { found: false } when the table does not
 * exist, { fallback: why } when a set is not one this code formats like nft.
 */
function dumpTable(s, family, table, withElements, elementsOf) {
  try {
    nlReceive(s, nlSend(s, NFT_MSG.GETTABLE, 0, family, [[1, table]]), false, () => undefined);
  } catch (err) {
    if (err.errno === 2) return { found: false };
    throw err;
  }
  const sets = [];
  nlReceive(s, nlSend(s, NFT_MSG.GETSET, NLM_F_DUMP, family, [[1, table]]), true, (buf, start, end) => {
    const set = { name: '', flags: 0, keyType: 0, keyLen: 0 };
    eachAttr(buf, start, end, (type, a, b) => {
      if (type === 2) set.name = str(buf, a, b);
      else if (type === 3) set.flags = buf.readUInt32BE(a);
      else if (type === 4) set.keyType = buf.readUInt32BE(a);
      else if (type === 5) set.keyLen = buf.readUInt32BE(a);
    });
    if (!(set.flags & SET_ANONYMOUS)) sets.push(set);
  });
  const out = [];
  for (const set of sets) {
    const entry = { name: set.name };
    out.push(entry);
    if (!withElements && set.name !== elementsOf) continue;
    const format = FORMATS[set.keyType];
    if (set.flags & SET_UNSUPPORTED) return { fallback: 'set ' + set.name + ' has flags 0x' + set.flags.toString(16) };
    if (!format || format[0] !== set.keyLen) return { fallback: 'set ' + set.name + ' has key type ' + set.keyType + ' (' + set.keyLen + ' bytes)' };
    const [keyLen, print, sortKey] = format;
    const withComments = set.name === elementsOf;
    const found = [];
    let odd;
    const seq = nlSend(s, NFT_MSG.GETSETELEM, NLM_F_DUMP, family, [[1, table], [2, set.name]]);
    nlReceive(s, seq, true, (buf, start, end) => {
      eachAttr(buf, start, end, (type, a, b) => {
        if (type !== 3) return; // NFTA_SET_ELEM_LIST_ELEMENTS
        eachAttr(buf, a, b, (_t, ea, eb) => {
          let key, order, comment = null;
          eachAttr(buf, ea, eb, (et, xa, xb) => {
            if (et === 1) eachAttr(buf, xa, xb, (dt, da, db) => { if (dt === 1 && db - da === keyLen) (key = print(buf, da)), (order = sortKey(buf, da)); });
            else if (et === 6) { if (withComments) comment = udataComment(buf, xa, xb); }
            else if (et === 3 && buf.readUInt32BE(xa) !== 0) odd = 'element flags';
            else if (et !== 1 && et !== 6 && et !== 3) odd = 'element attribute ' + et;
          });
          if (key === undefined) odd = 'an element without a key of ' + keyLen + ' bytes';
          found.push({ key, order, comment });
        });
      });
    });
    if (odd) return { fallback: 'set ' + set.name + ': ' + odd };
    // nft lists a set's elements sorted by value, not in the kernel's (hash) order.
    found.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    entry.elements = found.map((e) => e.key);
    if (withComments) entry.comments = found.map((e) => e.comment);
  }
  const chains = [];
  nlReceive(s, nlSend(s, NFT_MSG.GETCHAIN, NLM_F_DUMP, family, []), true, (buf, start, end) => {
    let t, name;
    eachAttr(buf, start, end, (type, a, b) => {
      if (type === 1) t = str(buf, a, b);
      else if (type === 3) name = str(buf, a, b);
    });
    if (t === table && buf[start - 4] === family) chains.push(name);
  });
  const rulesOf = new Map(chains.map((c) => [c, []]));
  nlReceive(s, nlSend(s, NFT_MSG.GETRULE, NLM_F_DUMP, family, [[1, table]]), true, (buf, start, end) => {
    let chain, comment = null;
    eachAttr(buf, start, end, (type, a, b) => {
      if (type === 2) chain = str(buf, a, b);
      else if (type === 7) comment = udataComment(buf, a, b);
    });
    const list = rulesOf.get(chain);
    if (list) list.push(comment ?? '');
  });
  return { found: true, sets: out, chains, ruleIds: chains.flatMap((c) => rulesOf.get(c)) };
}

/** dumpTable between two equal generations (a change during the reads retries), at most 5 tries. */
function readTable(s, family, table, withElements, elementsOf) {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const before = generationOf(s);
      const result = dumpTable(s, family, table, withElements, elementsOf);
      if (generationOf(s) === before) return result;
    } catch (err) {
      if (!(err instanceof Interrupted)) throw err;
    }
  }
  return { fallback: 'the ruleset kept changing during the read' };
}

/** NFT_MSG_GETGEN: the ruleset generation id. */
function generationOf(s) {
  let generation;
  nlReceive(s, nlSend(s, NFT_MSG.GETGEN, 0, 0, []), false, (buf, start, end) => {
    eachAttr(buf, start, end, (type, a, b) => {
      if (type === 1 && b - a >= 4) generation = buf.readUInt32BE(a);
    });
  });
  if (generation === undefined) throw new NetlinkError('netlink: no NFTA_GEN_ID in the answer');
  return generation;
}
`;

/** Family number of `inet` for NETLINK_SOURCE's readTable. */
export const NFPROTO_INET = 1;

/**
 * The TableState of a dump read (`found: true`), shaped like parseTableListing's (with
 * `elements`, every set's, the marker's included) or parseTerseListing's plus the marker
 * comment (without): `comment` is the comment of the marker set's element when it holds
 * exactly one element and that has a comment.
 */
export function tableStateOf(read: Extract<NetlinkTableRead, { found: true }>, withElements: boolean): TableState {
  const state: TableState = { sets: read.sets.map((s) => s.name), chains: [...read.chains], ruleIds: [...read.ruleIds] };
  if (withElements) state.elements = Object.fromEntries(read.sets.map((s) => [s.name, s.elements ?? []]));
  const comments = read.sets.find((s) => s.name === MARKER_SET)?.comments;
  if (comments?.length === 1 && comments[0] != null) state.comment = comments[0];
  return state;
}
