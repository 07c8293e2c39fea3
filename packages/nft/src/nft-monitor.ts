/**
 * Event-driven drift detection: `nft monitor` prints every change the kernel commits, each
 * transaction ending with `# new generation N by process PID (name)`. This yields one
 * event per transaction that touched `inet natfleet`, with the PID that made it, so the
 * enforcer can re-check its table the moment someone else changes it instead of waiting
 * for its periodic check (which must list every set element and is slow on big tables).
 * Restarts `nft monitor` if it exits; ends when `signal` aborts. Never writes anything.
 */
import { spawn } from 'node:child_process';
import { TABLE_FAMILY, TABLE_NAME } from './nft.js';
import { findBinary, type RealNftOptions } from './real-nft.js';

export interface TableChange {
  generation: number;
  /** PID of the process that committed the transaction. */
  pid: number;
  /** Its name as the kernel reports it (e.g. `nft`). */
  process: string;
}

const GENERATION = /^# new generation (\d+) by process (\d+) \((.*)\)\s*$/;
const MENTION = ` ${TABLE_FAMILY} ${TABLE_NAME}`;

/**
 * Parses monitor output (chunks of text) into TableChanges. Stateful across chunks: a
 * transaction's lines and its trailer may arrive in different chunks. Pure otherwise.
 */
export class MonitorParser {
  private partial = '';
  private touched = false;

  /** Feeds a chunk; returns the transactions it completed that touched our table (often none). */
  push(chunk: string): TableChange[] {
    const out: TableChange[] = [];
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const g = GENERATION.exec(line);
      if (g) {
        if (this.touched) out.push({ generation: Number(g[1]), pid: Number(g[2]), process: g[3]! });
        this.touched = false;
      } else if (line.includes(MENTION)) {
        this.touched = true;
      }
    }
    return out;
  }
}

/** Runs `nft monitor` (in `netns` when set) and yields foreign-or-own changes to our table. */
export async function* watchTableChanges(
  target: Pick<RealNftOptions, 'netns' | 'nftPath' | 'ipPath'>,
  signal: AbortSignal,
  { restartMs = 1_000 }: { restartMs?: number } = {},
): AsyncGenerator<TableChange> {
  while (!signal.aborted) {
    const nft = findBinary(target.nftPath ?? 'nft');
    const [cmd, args] = target.netns === undefined ? [nft, ['monitor']] : [findBinary(target.ipPath ?? 'ip'), ['netns', 'exec', target.netns, nft, 'monitor']];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LC_ALL: 'C' } });
    const parser = new MonitorParser();
    const pending: TableChange[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const kick = (): void => {
      wake?.();
      wake = undefined;
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      pending.push(...parser.push(d));
      if (pending.length) kick();
    });
    child.on('close', () => {
      ended = true;
      kick();
    });
    child.on('error', () => undefined);
    const stop = (): void => {
      child.kill('SIGTERM');
      kick();
    };
    signal.addEventListener('abort', stop, { once: true });
    try {
      while (!signal.aborted && !(ended && pending.length === 0)) {
        if (pending.length === 0) await new Promise<void>((r) => (wake = r));
        while (pending.length) yield pending.shift()!;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      if (!ended) child.kill('SIGTERM');
    }
    if (!signal.aborted) await new Promise((r) => setTimeout(r, restartMs));
  }
}
