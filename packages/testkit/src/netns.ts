/**
 * Network namespaces owned by a test: create, run commands inside, spawn long-lived
 * processes inside (stopped by PID on destroy), delete. Names carry the creating PID
 * (`nf-<pid>-<tag>-<role>`) so a later run can sweep namespaces whose creator died
 * without touching a live run's. Never touches the host's own namespace config.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { requireBinary, requireRoot } from './binaries.js';
import { ManagedProcess, pidAlive, run, type RunOptions, type RunResult } from './process.js';

const NETNS_DIR = '/run/netns';
const NAME_RE = /^nf-(\d+)-[0-9a-f]+-[a-z0-9]+$/;

/** One network namespace. */
export class Netns {
  private readonly procs: ManagedProcess[] = [];
  private destroyed = false;

  private constructor(readonly name: string) {}

  /**
   * Creates a namespace named `nf-<pid>-<tag>-<role>` with loopback up.
   * `tag` groups the namespaces of one topology (random when omitted).
   */
  static async create(role: string, tag = randomBytes(3).toString('hex')): Promise<Netns> {
    requireRoot('creating a network namespace');
    const ip = requireBinary('ip');
    const name = `nf-${process.pid}-${tag}-${role}`;
    await run(ip, ['netns', 'add', name]);
    const ns = new Netns(name);
    await ns.ip(['link', 'set', 'lo', 'up']);
    return ns;
  }

  /**
   * A handle on an existing namespace (made by another process, e.g. the local stack's
   * supervisor). destroy() on it deletes the namespace.
   */
  static attach(name: string): Netns {
    return new Netns(name);
  }

  /** Runs `command args…` inside the namespace; throws CommandError on a non-zero exit. */
  exec(command: string, args: readonly string[] = [], options: RunOptions = {}): Promise<RunResult> {
    return run(requireBinary('ip'), ['netns', 'exec', this.name, command, ...args], options);
  }

  /** `ip -n <ns> args…` */
  ip(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return run(requireBinary('ip'), ['-n', this.name, ...args], options);
  }

  /** `nft -f -` inside the namespace with `script` on stdin. */
  nft(script: string, options: RunOptions = {}): Promise<RunResult> {
    return this.exec(requireBinary('nft'), ['-f', '-'], { ...options, input: script });
  }

  /** `sysctl -w key=value` inside the namespace (namespaced keys only, e.g. forwarding). */
  async sysctl(key: string, value: string): Promise<void> {
    await this.exec('sysctl', ['-q', '-w', `${key}=${value}`]);
  }

  /**
   * Spawns a long-lived process inside the namespace. `ip netns exec` execs in place,
   * so the returned PID is the command's own; destroy() stops it by that PID.
   */
  spawn(command: string, args: readonly string[] = []): ManagedProcess {
    const proc = new ManagedProcess(requireBinary('ip'), ['netns', 'exec', this.name, command, ...args]);
    this.procs.push(proc);
    return proc;
  }

  /** Stops processes spawned here (by PID), then deletes the namespace. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all(this.procs.map((p) => p.stop(2_000)));
    await run(requireBinary('ip'), ['netns', 'del', this.name], { allowFailure: true });
  }
}

/** Names of every natfleet test namespace currently present (any creator). */
export function listTestNamespaces(): string[] {
  try {
    return readdirSync(NETNS_DIR).filter((n) => NAME_RE.test(n));
  } catch {
    return [];
  }
}


/**
 * Deletes test namespaces whose creating process no longer exists (left by a crashed
 * run). Namespaces of live processes are kept. Returns the names removed (empty when none).
 */
export async function sweepStaleNamespaces(): Promise<string[]> {
  const stale = listTestNamespaces().filter((n) => {
    const pid = Number(NAME_RE.exec(n)?.[1]);
    return pid !== process.pid && !pidAlive(pid);
  });
  for (const n of stale) await run(requireBinary('ip'), ['netns', 'del', n], { allowFailure: true });
  return stale;
}
