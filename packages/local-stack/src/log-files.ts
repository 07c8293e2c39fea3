/**
 * Where the local stack's logs live: `<state dir>/logs/<daemon>.log`, one file per daemon
 * (`compiler-1`, `api`, `enforcer-node-1`, `nats-server`…), appended across runs and
 * restarts. A file reaching ROTATE_BYTES (when the stack starts, or while a daemon writes
 * to it) is renamed to `<daemon>.log.1` (replacing the older one): at most two
 * generations. Owns the naming and that rotation; never formats lines and never deletes anything but `.log.1` files.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Rotation threshold, checked at each stack start and at each line a daemon writes (10 MiB). */
export const ROTATE_BYTES = 10 * 1024 * 1024;

/**
 * The daemon name of a service label, as used for its file and on the `logs` command
 * line: `enforcer node-1` → `enforcer-node-1`, `compiler-1` → `compiler-1`. Whitespace
 * runs become one `-`; dots, `/` and other path characters too (never a path).
 */
export function daemonName(label: string): string {
  return label.trim().replace(/[^A-Za-z0-9_-]+/g, '-');
}

/** The label shown on screen for a daemon name: `enforcer-node-1` → `enforcer node-1`; others unchanged. */
export function daemonLabel(daemon: string): string {
  return daemon.startsWith('enforcer-') ? `enforcer ${daemon.slice('enforcer-'.length)}` : daemon;
}

export function logsDir(stateDir: string): string {
  return join(stateDir, 'logs');
}

/** `<state dir>/logs/<daemon>.log` for a label or daemon name. */
export function logFile(stateDir: string, label: string): string {
  return join(logsDir(stateDir), `${daemonName(label)}.log`);
}

/** Daemons with a log file, sorted; empty when the directory does not exist. */
export function knownDaemons(stateDir: string): string[] {
  try {
    return readdirSync(logsDir(stateDir)).filter((f) => f.endsWith('.log')).map((f) => f.slice(0, -'.log'.length)).sort();
  } catch {
    return [];
  }
}

/** Renames a log file of `limit` bytes or more to `.log.1`. Returns true when it rotated. */
export function rotateIfLarge(file: string, limit = ROTATE_BYTES): boolean {
  if (!existsSync(file) || statSync(file).size < limit) return false;
  renameSync(file, `${file}.1`);
  return true;
}

/**
 * One daemon's log file, open for appending. Whole lines only, written synchronously so a
 * supervisor killed with SIGKILL loses nothing it had received. Rotated to `.log.1` when it
 * reaches `limit` bytes, at open and while the daemon runs (a stack up for days, or a
 * daemon crash-looping with a stack trace per run, must not fill the disk): at most two
 * generations of about `limit` bytes each.
 */
export class LogFile {
  private fd: number | undefined;
  private size = 0;

  constructor(
    readonly path: string,
    private readonly limit = ROTATE_BYTES,
  ) {
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    rotateIfLarge(path, limit);
    this.open();
  }

  private open(): void {
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  /** Appends `line` and a newline (rotating first when the file is full). No-op after close(). */
  append(line: string): void {
    if (this.fd === undefined) return;
    if (this.size >= this.limit) {
      closeSync(this.fd);
      renameSync(this.path, `${this.path}.1`);
      this.open();
    }
    this.size += writeSync(this.fd, line.endsWith('\n') ? line : `${line}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
