/**
 * The real Nft: runs the `nft` binary (inside a network namespace via `ip netns exec`
 * when asked), one process per operation, with the transaction text on stdin, a timeout
 * that kills it, and stderr translated into typed errors at this boundary.
 *
 * Must never name any table but `inet natfleet` in the commands it builds itself
 * (read and delete); apply and check run only the text they are handed, which is ours.
 * `generation()` runs perl, not nft: a fixed read-only netlink request (nft-generation.ts).
 * The fallback when libnftables cannot be loaded (lib-nft.ts, create-nft.ts).
 * Never logs, never retries: the enforcer owns the retry policy.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { isNftNotFoundError, NftCommandError, NftError, nftErrorFromFailure, NftTimeoutError, NftUnavailableError, type NftOperation } from './errors.js';
import { LIST_MARKER_COMMAND, parseMarkerListing } from './marker.js';
import { GENERATION_PROGRAM, parseGeneration } from './nft-generation.js';
import { TABLE_FAMILY, TABLE_NAME, type Nft } from './nft.js';
import { parseTableListing, parseTerseListing, type TableState } from './table-state.js';

export interface RealNftOptions {
  /** Run nft inside this named network namespace (`ip netns exec <netns> nft …`). Default: the current namespace. */
  netns?: string;
  /** The nft binary: a path, or a name looked up in PATH then /usr/local/sbin, /usr/sbin, /sbin. Default `nft`. */
  nftPath?: string;
  /** The ip binary (only used with `netns`), found like nft. Default `ip`. */
  ipPath?: string;
  /** The perl binary, for `generation()` only, found like nft. Default `perl`. */
  perlPath?: string;
  /** Kill nft and reject with NftTimeoutError after this long. Default 10 000 ms. */
  timeoutMs?: number;
}

export const DEFAULT_NFT_TIMEOUT_MS = 10_000;

/** Debian puts nft and ip in /usr/sbin, which a service's PATH may lack. */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];
type Binary = 'nft' | 'ip' | 'perl';
const DEBIAN_PACKAGE: Readonly<Record<Binary, string>> = { nft: 'nftables', ip: 'iproute2', perl: 'perl-base' };
/** stderr kept for errors: nft prints the whole offending line, which can be megabytes long. */
const MAX_STDERR = 64 * 1024;
const NETNS_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

interface RunResult {
  stdout: string;
  stderr: string;
}

/** Throws NftUnavailableError (reason `netns`) when `netns` is not a plain namespace name (ours to pass to `ip netns exec` or open under /run/netns). */
export function assertNetnsName(netns: string): void {
  if (!NETNS_NAME.test(netns)) throw new NftUnavailableError('netns', `invalid network namespace name ${JSON.stringify(netns)}`);
}

/** Nft backed by the nft binary. Stateless apart from its options and `close()`: safe to share. */
export class RealNft implements Nft {
  readonly backend = 'cli' as const;
  private readonly timeoutMs: number;
  private closed = false;

  /** Throws NftUnavailableError (reason `netns`) when `netns` is not a plain namespace name. */
  constructor(private readonly options: RealNftOptions = {}) {
    if (options.netns !== undefined) assertNetnsName(options.netns);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_NFT_TIMEOUT_MS;
  }

  async applyTransaction(text: string): Promise<void> {
    await this.run('apply', 'nft', ['-f', '-'], text);
  }

  async check(text: string): Promise<void> {
    await this.run('check', 'nft', ['-c', '-f', '-'], text);
  }

  /** `nft list set inet natfleet marker`; resolves undefined when the table or the set is missing or holds no commented element. */
  async readMarker(): Promise<string | undefined> {
    try {
      const { stdout } = await this.run('read', 'nft', LIST_MARKER_COMMAND.split(' '));
      return parseMarkerListing(stdout);
    } catch (err) {
      if (isNftNotFoundError(err)) return undefined;
      throw err;
    }
  }

  /**
   * The terse listing plus the marker as `comment` (two nft processes, run side by side);
   * resolves undefined when the table does not exist; other failures reject.
   */
  async readTable(): Promise<TableState | undefined> {
    const [terse, marker] = await Promise.allSettled([this.run('read', 'nft', ['-t', 'list', 'table', TABLE_FAMILY, TABLE_NAME]), this.readMarker()]);
    if (terse.status === 'rejected') {
      if (isNftNotFoundError(terse.reason)) return undefined;
      throw terse.reason;
    }
    if (marker.status === 'rejected') throw marker.reason;
    const state = parseTerseListing(terse.value.stdout);
    return marker.value === undefined ? state : { ...state, comment: marker.value };
  }

  /** Full listing with set elements; resolves undefined when the table does not exist; other failures reject. */
  async readTableContents(): Promise<TableState | undefined> {
    try {
      const { stdout } = await this.run('read', 'nft', ['list', 'table', TABLE_FAMILY, TABLE_NAME]);
      return parseTableListing(stdout);
    } catch (err) {
      if (isNftNotFoundError(err)) return undefined;
      throw err;
    }
  }

  /**
   * One NFT_MSG_GETGEN netlink request through perl (nft-generation.ts). Rejects with
   * NftUnavailableError (no perl, no CAP_NET_ADMIN, no netns), NftTimeoutError, or
   * NftCommandError (anything else, including output that is not a generation).
   */
  async generation(): Promise<number> {
    // A clean environment: PERL5OPT / PERL5LIB must not change what this program does.
    const { stdout, stderr } = await this.run('generation', 'perl', ['-e', GENERATION_PROGRAM], undefined, { PATH: process.env.PATH ?? '', LC_ALL: 'C' });
    const generation = parseGeneration(stdout);
    if (generation === undefined) throw new NftCommandError(0, `generation: unexpected output ${JSON.stringify(stdout.slice(0, 100))} ${stderr}`.trim());
    return generation;
  }

  /** Resolves false when the table did not exist; other failures reject. */
  async deleteTable(): Promise<boolean> {
    try {
      await this.run('delete', 'nft', ['delete', 'table', TABLE_FAMILY, TABLE_NAME]);
      return true;
    } catch (err) {
      if (isNftNotFoundError(err)) return false;
      throw err;
    }
  }

  /** Idempotent; every later call rejects with code NFT_UNAVAILABLE. There is nothing to release: each call is its own process. */
  async close(): Promise<void> {
    this.closed = true;
  }

  /** The command line for `binary` (nft or perl) with `binaryArgs`: the binary itself, or `ip netns exec <ns> <binary> …`. */
  private command(binary: 'nft' | 'perl', binaryArgs: string[]): [string, string[]] {
    const path = findBinary((binary === 'nft' ? this.options.nftPath : this.options.perlPath) ?? binary);
    assertExecutable(path, binary);
    if (this.options.netns === undefined) return [path, binaryArgs];
    const ip = findBinary(this.options.ipPath ?? 'ip');
    assertExecutable(ip, 'ip');
    return [ip, ['netns', 'exec', this.options.netns, path, ...binaryArgs]];
  }

  private run(operation: NftOperation, binary: 'nft' | 'perl', binaryArgs: string[], input?: string, env?: NodeJS.ProcessEnv): Promise<RunResult> {
    if (this.closed) return Promise.reject(new NftError('NFT_UNAVAILABLE', 'nft: closed'));
    let cmd: string;
    let args: string[];
    try {
      [cmd, args] = this.command(binary, binaryArgs);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      // Own process group, so a timeout kills nft and anything it started, by that group's id.
      const child = spawn(cmd, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
        env: env ?? { ...process.env, LC_ALL: 'C' }, // nft's errno texts are what errors.ts matches
      });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child.pid);
      }, this.timeoutMs);
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < MAX_STDERR) stderr = (stderr + d).slice(0, MAX_STDERR);
      });
      // nft may exit (or be killed) before reading all of stdin; the exit status tells what happened.
      child.stdin.on('error', () => undefined);
      child.on('error', (err: NodeJS.ErrnoException) =>
        finish(() =>
          reject(
            new NftUnavailableError('missing-binary', `cannot run ${cmd}: ${err.code ?? err.message}; install the Debian package ${DEBIAN_PACKAGE[binary]}`, '', DEBIAN_PACKAGE[binary], {
              cause: err,
            }),
          ),
        ),
      );
      child.on('close', (code, signal) =>
        finish(() => {
          if (timedOut) reject(new NftTimeoutError(operation, this.timeoutMs, stderr.trim()));
          else if (code === 0) resolve({ stdout, stderr });
          else reject(nftErrorFromFailure({ stderr, exitCode: code, signal, operation }));
        }),
      );
      child.stdin.end(input ?? '');
    });
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * A path (containing '/') as given; a bare name looked up in PATH, then the sbin
 * directories. Returns the bare name when absent (assertExecutable reports it).
 */
function findBinary(binary: string): string {
  if (binary.includes('/')) return binary;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...SBIN_DIRS];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    if (executable(candidate)) return candidate;
  }
  return binary;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function assertExecutable(path: string, binary: Binary): void {
  if (path.includes('/') && executable(path)) return;
  const pkg = DEBIAN_PACKAGE[binary];
  throw new NftUnavailableError(
    'missing-binary',
    `${binary} not found (${path.includes('/') ? path : `searched PATH and ${SBIN_DIRS.join(', ')}`}); install the Debian package ${pkg} (apt-get install ${pkg})`,
    '',
    pkg,
  );
}
