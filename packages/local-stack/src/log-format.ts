/**
 * Human-readable log lines for the local stack: a daemon's pino JSON line (or a
 * nats-server text line, or anything else a daemon printed) becomes
 * `HH:MM:SS WARN  [enforcer node-1] message key=value…`. Owns parsing a log line into an
 * entry (time, level, text) and rendering it. Pure: never reads files, never logs.
 */

/** pino's numeric levels. */
export const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
export type LevelName = keyof typeof LEVELS;

/** One parsed log line. `time` is epoch ms, undefined when the line carries none. */
export interface LogEntry {
  time: number | undefined;
  level: number;
  msg: string;
  /** The remaining fields, rendered as key=value (pino lines only). */
  fields: Record<string, unknown>;
}

/** Fields every pino line of a natfleet daemon carries that add nothing on screen. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service', 'v']);

const NATS_LEVELS: Record<string, number> = { TRC: 10, DBG: 20, INF: 30, WRN: 40, ERR: 50, FTL: 60 };
/** `[1234] 2026/12/02 16:01:15.123456 [INF] message` (nats-server with logtime). */
const NATS_LINE = /^\[\d+\] (\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))? \[([A-Z]{3})\] (.*)$/;

/**
 * Parses one line. A JSON object with a numeric `level` is a pino line; a nats-server line
 * gets its level and time from its prefix; anything else is kept verbatim at
 * `fallbackLevel` with no time. An empty line gives undefined.
 */
export function parseLogLine(line: string, fallbackLevel: number = LEVELS.info): LogEntry | undefined {
  const text = line.trimEnd();
  if (text === '') return undefined;
  if (text.startsWith('{')) {
    try {
      const o = JSON.parse(text) as Record<string, unknown>;
      if (o && typeof o === 'object' && typeof o.level === 'number') {
        const t = typeof o.time === 'number' ? o.time : typeof o.time === 'string' ? Date.parse(o.time) : NaN;
        const fields: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(o)) if (!HIDDEN.has(k)) fields[k] = v;
        return { time: Number.isFinite(t) ? t : undefined, level: o.level, msg: typeof o.msg === 'string' ? o.msg : '', fields };
      }
    } catch {
      // not JSON after all: kept verbatim below
    }
  }
  const m = NATS_LINE.exec(text);
  if (m && NATS_LEVELS[m[8]!] !== undefined) {
    const ms = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
    const time = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms).getTime();
    return { time, level: NATS_LEVELS[m[8]!]!, msg: m[9]!, fields: {} };
  }
  return { time: undefined, level: fallbackLevel, msg: text, fields: {} };
}

/** `WARN ` style names, padded to 5; unknown numbers render as `L<n>`. */
export function levelLabel(level: number): string {
  const name = (Object.keys(LEVELS) as LevelName[]).find((k) => LEVELS[k] === level);
  return (name ? name.toUpperCase() : `L${level}`).padEnd(5);
}

/** A level name or number from the user (`warn`, `40`); undefined when it is neither. */
export function parseLevel(s: string): number | undefined {
  const k = s.trim().toLowerCase();
  if (k in LEVELS) return LEVELS[k as LevelName];
  return /^\d+$/.test(k) ? Number(k) : undefined;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** `HH:MM:SS` in local time; eight spaces when the time is unknown. */
export function clock(time: number | undefined): string {
  if (time === undefined) return ' '.repeat(8);
  const d = new Date(time);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/**
 * Bound fields that repeat on every line of a daemon and say nothing the label does not:
 * the stack's one cluster, the compiler's replica id, the enforcer's node (in its label).
 */
const hiddenFor = (label: string, k: string, v: unknown): boolean =>
  k === 'cluster' || k === 'replica' || (k === 'node' && typeof v === 'string' && label.endsWith(` ${v}`));

/** A value as it reads in key=value: bare when it has no space, quote or `=`; else JSON. Digests shortened to 12 hex digits. */
function renderValue(v: unknown): string {
  if (typeof v === 'string' && /^sha256:[0-9a-f]{64}$/.test(v)) return `${v.slice(0, 'sha256:'.length + 12)}…`;
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v !== null && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') {
    // pino's serialized error: its message is what a reader needs on one line (the stack stays in the file)
    const e = v as { message: string; code?: unknown };
    return JSON.stringify(e.code !== undefined ? `${String(e.code)}: ${e.message}` : e.message);
  }
  return JSON.stringify(v) ?? String(v);
}

/** The entry as one screen line: `HH:MM:SS LEVEL [label] msg key=value…` (the log file keeps every field in full). */
export function formatEntry(e: LogEntry, label: string): string {
  const kv = Object.entries(e.fields).filter(([k, v]) => !hiddenFor(label, k, v)).map(([k, v]) => `${k}=${renderValue(v)}`);
  return [`${clock(e.time)} ${levelLabel(e.level)} [${label}]`, e.msg, ...kv].filter((s) => s !== '').join(' ');
}

/** parseLogLine + formatEntry; undefined for an empty line. */
export function formatLine(line: string, label: string): string | undefined {
  const e = parseLogLine(line);
  return e && formatEntry(e, label);
}

/**
 * What the supervisor writes for a line a daemon printed: a pino line unchanged; anything
 * else (a stack trace, a Node warning) wrapped as a pino line with the daemon's name, at
 * warn when it came from stderr and info from stdout, so every log file is JSON lines.
 */
export function toLogRecord(line: string, label: string, stream: 'stdout' | 'stderr', now: number): string {
  if (isPinoLine(line)) return line.trim();
  return JSON.stringify({ level: stream === 'stderr' ? LEVELS.warn : LEVELS.info, time: new Date(now).toISOString(), service: label, msg: line.trimEnd(), stream });
}

/** True for a JSON object line with a numeric `level` (what pino writes). */
export function isPinoLine(line: string): boolean {
  const t = line.trim();
  if (!t.startsWith('{')) return false;
  try {
    const o = JSON.parse(t) as { level?: unknown } | null;
    return o !== null && typeof o === 'object' && typeof o.level === 'number';
  } catch {
    return false;
  }
}

/** A supervisor message about a daemon, as a pino line for that daemon's log file. */
export function supervisorRecord(level: LevelName, msg: string, now: number): string {
  return JSON.stringify({ level: LEVELS[level], time: new Date(now).toISOString(), service: 'natfleet-local', msg });
}
