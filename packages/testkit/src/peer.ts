/**
 * Real-packet probes for NAT tests. A TCP server inside a namespace (the "external
 * host") answers each connection with the peer address it saw and logs it; a one-shot
 * client inside another namespace (the "pod") connects, reads that line and exits.
 * If the peer is the node's address, the pod was masqueraded; if it is the pod's own
 * address, it was not. Both run as small Node scripts so no extra package is needed.
 */
import type { ManagedProcess } from './process.js';
import type { Netns } from './netns.js';

const SERVER_SCRIPT = `
const net = require('node:net');
const srv = net.createServer((s) => {
  const peer = String(s.remoteAddress).replace(/^::ffff:/, '');
  process.stdout.write(JSON.stringify({ peer, port: s.remotePort }) + '\\n');
  s.on('error', () => {});
  s.write(peer + '\\n');
  s.on('data', (d) => s.write(d));
});
srv.listen({ port: Number(process.argv[1]), host: '::', ipv6Only: false }, () =>
  process.stdout.write(JSON.stringify({ listening: srv.address().port }) + '\\n'));
`;

const CLIENT_SCRIPT = `
const net = require('node:net');
const [host, port, localAddress, timeout] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port), ...(localAddress ? { localAddress } : {}) });
const t = setTimeout(() => { process.stdout.write('ERR ETIMEDOUT\\n'); process.exit(2); }, Number(timeout));
let buf = '';
s.on('data', (d) => {
  buf += d;
  const i = buf.indexOf('\\n');
  if (i >= 0) { clearTimeout(t); process.stdout.write('OK ' + buf.slice(0, i) + '\\n'); s.destroy(); process.exit(0); }
});
s.on('error', (e) => { clearTimeout(t); process.stdout.write('ERR ' + (e.code || e.message) + '\\n'); process.exit(2); });
`;

// Keeps ONE connection open: prints PEER <address the server saw>, then for each stdin
// line sends it and prints ECHO <line> when it comes back; CLOSED / ERR when the socket ends.
const PERSISTENT_CLIENT_SCRIPT = `
const net = require('node:net');
const readline = require('node:readline');
const [host, port, localAddress] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port), ...(localAddress ? { localAddress } : {}) });
let buf = '';
let first = true;
s.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    process.stdout.write((first ? 'PEER ' : 'ECHO ') + buf.slice(0, i) + '\\n');
    first = false;
    buf = buf.slice(i + 1);
  }
});
s.on('error', (e) => process.stdout.write('ERR ' + (e.code || e.message) + '\\n'));
s.on('close', () => { process.stdout.write('CLOSED\\n'); process.exit(3); });
readline.createInterface({ input: process.stdin }).on('line', (l) => s.write(l + '\\n')).on('close', () => s.end());
`;

/** A connection the server logged: who it saw. */
export interface SeenPeer {
  peer: string;
  port: number;
}

/** The peer-reporting TCP server running in a namespace. */
export class PeerServer {
  private constructor(
    private readonly proc: ManagedProcess,
    readonly port: number,
  ) {}

  /** Starts the server in `ns` on `port` (0 = any free port) listening on all v4 and v6 addresses. */
  static async start(ns: Netns, port = 0): Promise<PeerServer> {
    const proc = ns.spawn(process.execPath, ['-e', SERVER_SCRIPT, String(port)]);
    const line = await proc.waitForLine(/"listening"/, 10_000);
    return new PeerServer(proc, (JSON.parse(line) as { listening: number }).listening);
  }

  /** Every connection seen so far, oldest first (empty when none). */
  seen(): SeenPeer[] {
    return this.proc
      .output()
      .filter((l) => l.startsWith('{"peer"'))
      .map((l) => JSON.parse(l) as SeenPeer);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  async stop(): Promise<void> {
    await this.proc.stop(2_000);
  }
}

/** What a probe found: `peer` is the address the server saw, or `error` why no answer came. */
export type ProbeResult = { ok: true; peer: string } | { ok: false; error: string };

/**
 * Connects from `ns` to `host:port` (optionally from `localAddress`) and returns the
 * address the peer server saw. A refused, unroutable or unanswered connection is a
 * result (`ok: false`), not an exception: NAT tests assert on both outcomes.
 */
export async function probePeer(
  ns: Netns,
  host: string,
  port: number,
  { localAddress = '', timeoutMs = 1_500 }: { localAddress?: string; timeoutMs?: number } = {},
): Promise<ProbeResult> {
  const res = await ns.exec(process.execPath, ['-e', CLIENT_SCRIPT, host, String(port), localAddress, String(timeoutMs)], {
    allowFailure: true,
    timeoutMs: timeoutMs + 10_000,
  });
  const line = res.stdout.trim().split('\n').pop() ?? '';
  if (line.startsWith('OK ')) return { ok: true, peer: line.slice(3).trim() };
  return { ok: false, error: line.startsWith('ERR ') ? line.slice(4) : `exit ${res.code}: ${res.stderr.trim()}` };
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * One long-lived TCP connection from a namespace to a PeerServer (which echoes every
 * line), for tests that must prove an established connection survives something (e.g.
 * NAT table swaps). The client runs as a Node process inside `ns`, stopped by PID by
 * `close()` or the namespace's destroy().
 */
export class PersistentConnection {
  private constructor(
    private readonly proc: ManagedProcess,
    /** The source address the server saw for this connection. */
    readonly peer: string,
  ) {}

  /**
   * Connects from `ns` to `host:port` and waits for the server's greeting. Throws
   * TimeoutError or CommandError (with the client's output) when no connection is made.
   */
  static async open(ns: Netns, host: string, port: number, { localAddress = '', timeoutMs = 5_000 }: { localAddress?: string; timeoutMs?: number } = {}): Promise<PersistentConnection> {
    const proc = ns.spawn(process.execPath, ['-e', PERSISTENT_CLIENT_SCRIPT, host, String(port), localAddress]);
    try {
      const line = await proc.waitForLine(/^(PEER |ERR |CLOSED)/, timeoutMs);
      if (!line.startsWith('PEER ')) throw new Error(`connection to ${host}:${port} failed: ${line}`);
      return new PersistentConnection(proc, line.slice('PEER '.length).trim());
    } catch (err) {
      await proc.stop(1_000);
      throw err;
    }
  }

  /**
   * Sends `text` (one line, unique per call) over the open connection and resolves when
   * the server's echo of it arrives. Rejects when the socket closed or no echo came in time.
   */
  async echo(text: string, timeoutMs = 5_000): Promise<void> {
    if (text.includes('\n')) throw new RangeError('echo text must be one line');
    if (this.closed) throw new Error(`connection already closed: ${this.proc.tail(5)}`);
    this.proc.write(`${text}\n`);
    const line = await this.proc.waitForLine(new RegExp(`^(ECHO ${escapeRe(text)}|ERR .*|CLOSED)$`), timeoutMs);
    if (line !== `ECHO ${text}`) throw new Error(`connection broke before the echo of ${JSON.stringify(text)}: ${line}`);
  }

  /** True once the socket closed or failed (the client exits then). */
  get closed(): boolean {
    return !this.proc.running || this.proc.output().some((l) => l === 'CLOSED' || l.startsWith('ERR '));
  }

  /** Every line the client printed (PEER/ECHO/ERR/CLOSED), oldest first. */
  output(): readonly string[] {
    return this.proc.output();
  }

  /** Stops the client (by PID); the socket closes. */
  async close(): Promise<void> {
    await this.proc.stop(2_000);
  }
}

/** Shorthand for PersistentConnection.open. */
export function openPersistentConnection(
  ns: Netns,
  host: string,
  port: number,
  options: { localAddress?: string; timeoutMs?: number } = {},
): Promise<PersistentConnection> {
  return PersistentConnection.open(ns, host, port, options);
}
