/**
 * One daemon under the local stack's supervisor: spawned by PID, every output line
 * appended to its log file (pino JSON as is, anything else wrapped, log-format.ts),
 * warnings and errors shown in the foreground as they happen, and restarted with back-off
 * (backoff.ts) when it exits on its own. An intentional stop() never restarts. Owns the
 * process, its restart timer and its log file; never touches stack.json itself (the
 * `started`/`exited` callbacks do) and never signals anything but its own PID.
 */
import { ManagedProcess, type ExitInfo } from '@natfleet/testkit';
import { Backoff, seconds } from './backoff.js';
import { procCmdline } from './cleanup.js';
import { LEVELS, formatEntry, parseLogLine, supervisorRecord, toLogRecord } from './log-format.js';
import { LogFile } from './log-files.js';

export interface DaemonSpec {
  /** As shown on screen and in stack.json: `compiler-1`, `api`, `enforcer node-1`. */
  label: string;
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Said when it exits unexpectedly, after the restart delay (e.g. the enforcer's fail-static note). */
  exitNote?: string;
}

export interface DaemonHooks {
  /** A line for the foreground window. */
  say(line: string): void;
  /** Spawned (first start or restart): its PID and argv as /proc shows it. */
  started(pid: number, argv: string[], restart: boolean): void;
  /** Exited (before any restart). */
  exited(pid: number): void;
  /** Foreground threshold: lines at this level or above are shown (default warn). */
  showLevel?: number;
  backoff?: Backoff;
  now?: () => number;
}

const describeExit = (e: ExitInfo): string => (e.signal ?? (e.code === null ? 'spawn failed' : `code ${e.code}`));

export class SupervisedDaemon {
  private proc: ManagedProcess | undefined;
  private readonly file: LogFile;
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private restarts = 0;

  constructor(
    readonly spec: DaemonSpec,
    private readonly hooks: DaemonHooks,
  ) {
    this.file = new LogFile(spec.logFile);
    this.backoff = hooks.backoff ?? new Backoff();
    this.now = hooks.now ?? Date.now;
  }

  get pid(): number | undefined {
    return this.proc?.running ? this.proc.pid : undefined;
  }

  /** Spawns the daemon. No-op while it runs or after stop(). */
  start(): void {
    if (this.stopping || this.proc?.running) return;
    const restart = this.proc !== undefined;
    const startedAt = this.now();
    const proc = new ManagedProcess(this.spec.command, this.spec.args, { env: this.spec.env, keepLines: 200 });
    this.proc = proc;
    this.pipe(proc, 'stdout');
    this.pipe(proc, 'stderr');
    if (proc.pid !== undefined) {
      this.hooks.started(proc.pid, procCmdline(proc.pid) ?? [this.spec.command, ...this.spec.args], restart);
      if (restart) this.announce('info', `restarted (pid ${proc.pid})`);
    }
    void proc.exited.then((e) => this.onExit(proc, e, startedAt));
  }

  private pipe(proc: ManagedProcess, stream: 'stdout' | 'stderr'): void {
    const s = proc.child[stream];
    if (!s) return;
    let partial = '';
    s.on('data', (chunk: string | Buffer) => {
      partial += chunk.toString();
      let idx: number;
      while ((idx = partial.indexOf('\n')) >= 0) {
        this.line(partial.slice(0, idx), stream);
        partial = partial.slice(idx + 1);
      }
    });
    s.on('end', () => {
      if (partial) this.line(partial, stream);
      partial = '';
    });
  }

  private line(text: string, stream: 'stdout' | 'stderr'): void {
    if (text.trim() === '') return;
    const record = toLogRecord(text, this.spec.label, stream, this.now());
    this.file.append(record);
    const e = parseLogLine(record);
    if (e && e.level >= (this.hooks.showLevel ?? LEVELS.warn)) this.hooks.say(formatEntry(e, this.spec.label));
  }

  /** Says `msg` in the foreground and writes it to the daemon's log file. */
  private announce(level: 'info' | 'warn' | 'error', msg: string): void {
    this.file.append(supervisorRecord(level, msg, this.now()));
    this.hooks.say(`natfleet-local: ${this.spec.label} ${msg}`);
  }

  private onExit(proc: ManagedProcess, e: ExitInfo, startedAt: number): void {
    if (proc.pid !== undefined) this.hooks.exited(proc.pid);
    if (this.stopping || proc !== this.proc) return;
    const delay = this.backoff.delayAfter(this.now() - startedAt);
    this.restarts++;
    this.announce('warn', `exited (${describeExit(e)}); restarting in ${seconds(delay)}${this.spec.exitNote ? ` — ${this.spec.exitNote}` : ''}`);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, delay);
  }

  /** Restarts so far (0 for a daemon that never crashed). */
  get restartCount(): number {
    return this.restarts;
  }

  /** Stops it for good (SIGTERM, then SIGKILL after the grace): no restart; closes the log file. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.proc?.stop(graceMs);
    this.file.close();
  }

  /** SIGKILL now, no restart (the second Ctrl-C). Resolves when it exited. */
  async kill(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.proc?.kill();
    this.file.close();
  }
}
