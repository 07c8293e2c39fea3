/**
 * Child processes for tests: spawn, capture the tail of their output, wait for a line,
 * stop by PID (SIGTERM, then SIGKILL). Never signals anything by name.
 *
 * One process-wide set of live children exists on purpose: if a test run dies without
 * its teardown, an `exit` hook still SIGKILLs every child it started (by PID), so no
 * etcd or nats-server outlives the run. It is the only module-level state in the testkit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CommandError, TimeoutError } from './errors.js';

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of liveChildren) {
        if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
          try {
            process.kill(c.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
    });
  }
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Lines of combined stdout/stderr kept for error messages (default 200). */
  keepLines?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A spawned child whose output is kept (tail) and can be awaited line by line. */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  private readonly lines: string[] = [];
  private readonly keep: number;
  private readonly waiters = new Set<(line: string) => void>();

  constructor(
    readonly command: string,
    readonly args: readonly string[],
    options: SpawnOptions = {},
  ) {
    this.keep = options.keepLines ?? 200;
    this.child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    track(this.child);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
      this.child.once('error', () => resolve({ code: null, signal: null }));
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        partial += chunk;
        let idx: number;
        while ((idx = partial.indexOf('\n')) >= 0) {
          this.push(partial.slice(0, idx));
          partial = partial.slice(idx + 1);
        }
      });
      stream?.on('end', () => partial && this.push(partial));
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  /** The last kept output lines, joined. Empty string when nothing was printed. */
  tail(n = 40): string {
    return this.lines.slice(-n).join('\n');
  }

  /** All kept lines (at most `keepLines`). */
  output(): readonly string[] {
    return this.lines;
  }

  /**
   * Resolves with the first line (already printed or future) matching `re`.
   * Rejects with TimeoutError after `timeoutMs`, or early if the process exits first.
   */
  waitForLine(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const onLine = (line: string): void => {
        if (re.test(line)) done(() => resolve(line));
      };
      const timer = setTimeout(() => done(() => reject(new TimeoutError(`line ${re} from ${this.command}`, timeoutMs))), timeoutMs);
      const onExit = (): void =>
        done(() => reject(new CommandError(`${this.command} ${this.args.join(' ')}`, this.child.exitCode, this.tail())));
      const done = (fn: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(onLine);
        this.child.off('exit', onExit);
        fn();
      };
      this.waiters.add(onLine);
      this.child.once('exit', onExit);
    });
  }

  /** Writes to the child's stdin. */
  write(data: string): void {
    this.child.stdin?.write(data);
  }

  /** Sends `signal` to this PID (no-op when already exited). */
  signal(signal: NodeJS.Signals): void {
    if (this.running && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, signal);
      } catch {
        // raced with exit
      }
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  async stop(graceMs = 5_000): Promise<ExitInfo> {
    if (!this.running) return this.exited;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL now; resolves when the process has exited. */
  async kill(): Promise<ExitInfo> {
    this.signal('SIGKILL');
    return this.exited;
  }

  private push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.keep) this.lines.shift();
    for (const w of [...this.waiters]) w(line);
  }
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Resolve instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/**
 * Runs a command to completion. Throws CommandError on non-zero exit (unless
 * `allowFailure`), TimeoutError (after killing it) past `timeoutMs` (default 30 s).
 */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    track(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      reject(new TimeoutError(`${command} ${args.join(' ')}`, timeoutMs));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new CommandError(`${command} ${args.join(' ')}`, null, String(err)));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code !== 0 && !options.allowFailure) {
        reject(new CommandError(`${command} ${args.join(' ')}`, code, stderr, stdout));
      } else {
        resolve({ stdout, stderr, code });
      }
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Polls `probe` every `intervalMs` until it returns true; TimeoutError after `timeoutMs`. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean> | boolean,
  { timeoutMs = 10_000, intervalMs = 25 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not ready yet
    }
    if (Date.now() > deadline) throw new TimeoutError(what, timeoutMs);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** True while a process with this PID exists (EPERM counts: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
