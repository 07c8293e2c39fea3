/**
 * `npm run logs -- [daemon] [-f] [-n lines]`: the local stack's log files pretty-printed
 * (log-format.ts). Without a daemon, every file merged by time; with one, that file only;
 * -f then prints new lines as they are appended (polling sizes; a file that shrank was
 * rotated and is read again from its start). Reads files only: never signals or writes.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { LocalStackError } from './errors.js';
import { formatEntry, parseLogLine, type LogEntry } from './log-format.js';
import { daemonLabel, daemonName, knownDaemons, logFile } from './log-files.js';

export interface LogsOptions {
  stateDir: string;
  daemon?: string;
  follow: boolean;
  /** Lines printed before following (the newest, after merging). */
  lines: number;
  out: (line: string) => void;
  /** Follow poll interval (default 250 ms). */
  pollMs?: number;
  /** Resolves to stop following (default: never). */
  until?: Promise<void>;
}

/**
 * The daemons to show: all known ones, or the one named (as `enforcer-node-1`,
 * `"enforcer node-1"` or just `node-1`). Throws LocalStackError UNKNOWN_DAEMON listing the
 * known names, or NO_LOGS when the stack never wrote a log.
 */
export function selectDaemons(known: readonly string[], wanted: string | undefined): string[] {
  if (known.length === 0) throw new LocalStackError('NO_LOGS', 'no logs yet: start the stack with `npm start`');
  if (wanted === undefined) return [...known];
  const name = daemonName(wanted);
  const hit = known.find((d) => d === name) ?? known.find((d) => d === `enforcer-${name}`);
  if (!hit) throw new LocalStackError('UNKNOWN_DAEMON', `unknown daemon ${JSON.stringify(wanted)}; known: ${known.join(', ')}`);
  return [hit];
}

interface Timed {
  entry: LogEntry;
  label: string;
  /** Order of arrival, to keep lines of equal (or unknown) time in file order. */
  seq: number;
}

/**
 * Parses a file's text into entries; a line without a time takes the previous line's
 * (so a stack trace stays under its message). Empty text gives [].
 */
export function entriesOf(text: string, label: string, seqStart = 0): Timed[] {
  const out: Timed[] = [];
  let last: number | undefined;
  for (const line of text.split('\n')) {
    const entry = parseLogLine(line);
    if (!entry) continue;
    if (entry.time === undefined) entry.time = last;
    else last = entry.time;
    out.push({ entry, label, seq: seqStart + out.length });
  }
  return out;
}

/** Entries of several files in time order (stable: equal times keep file order); the newest `n`. */
export function mergeNewest(perFile: readonly Timed[][], n: number): Timed[] {
  const all = perFile.flatMap((f) => f.slice(-n));
  all.sort((a, b) => (a.entry.time ?? 0) - (b.entry.time ?? 0) || a.seq - b.seq);
  return n > 0 ? all.slice(-n) : [];
}

/** Prints, then (with follow) keeps printing until `until` resolves. */
export async function showLogs(o: LogsOptions): Promise<void> {
  const daemons = selectDaemons(knownDaemons(o.stateDir), o.daemon);
  const offsets = new Map<string, number>();
  const perFile = daemons.map((d, i) => {
    const text = readFileSync(logFile(o.stateDir, d), 'utf8');
    offsets.set(d, Buffer.byteLength(text));
    return entriesOf(text, daemonLabel(d), i * 1e9);
  });
  for (const t of mergeNewest(perFile, o.lines)) o.out(formatEntry(t.entry, t.label));
  if (!o.follow) return;
  const partial = new Map<string, string>();
  let done = false;
  void o.until?.then(() => (done = true));
  while (!done) {
    await new Promise((r) => setTimeout(r, o.pollMs ?? 250));
    // New daemons (a file appeared) join when following everything.
    const names = o.daemon === undefined ? knownDaemons(o.stateDir) : daemons;
    for (const d of names) {
      const file = logFile(o.stateDir, d);
      let size: number;
      try {
        size = statSync(file).size;
      } catch {
        continue;
      }
      let from = offsets.get(d) ?? 0;
      if (size < from) from = 0; // rotated or truncated: read the new file from its start
      if (size === from) {
        offsets.set(d, from);
        continue;
      }
      const buf = Buffer.alloc(size - from);
      const fd = openSync(file, 'r');
      try {
        readSync(fd, buf, 0, buf.length, from);
      } finally {
        closeSync(fd);
      }
      offsets.set(d, size);
      const text = (partial.get(d) ?? '') + buf.toString('utf8');
      const cut = text.lastIndexOf('\n');
      partial.set(d, text.slice(cut + 1));
      for (const t of entriesOf(text.slice(0, cut + 1), daemonLabel(d))) o.out(formatEntry(t.entry, t.label));
    }
  }
}
