/**
 * The kernel's conntrack statistics (/proc/net/stat/nf_conntrack), a built-in post-apply
 * health signal: a NAT change that breaks connection tracking shows up as `insert_failed`
 * (clashes, e.g. port exhaustion under masquerade) and `drop`. The file is per network
 * namespace: with a netns it is read inside it (`ip netns exec`). It has a header line of
 * column names and one line of hex counters per CPU; the counters are summed over CPUs.
 *
 * Reading only; never writes anything, never logs.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export const CONNTRACK_STAT_PATH = '/proc/net/stat/nf_conntrack';

/** The counters the health checks compare (sums over CPUs). */
export interface ConntrackSample {
  insertFailed: number;
  drop: number;
}

/** Thresholds on the growth of the counters since the apply; an absent one is not checked. */
export interface ConntrackThresholds {
  insertFailedDelta?: number | undefined;
  dropDelta?: number | undefined;
}

/** A counter grew past its threshold. */
export interface ConntrackBreach {
  code: 'CONNTRACK_INSERT_FAILED' | 'CONNTRACK_DROP';
  counter: 'insert_failed' | 'drop';
  delta: number;
  threshold: number;
  /** One line naming the counter, its delta and the threshold. */
  output: string;
}

/**
 * Parses the file's text. Throws Error when there is no header with both `insert_failed`
 * and `drop` columns or a CPU line is not hex; a file with a header and no CPU line sums
 * to zeros.
 */
export function parseConntrackStat(text: string): ConntrackSample {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const header = lines[0]?.split(/\s+/) ?? [];
  const fi = header.indexOf('insert_failed');
  const di = header.indexOf('drop');
  if (fi < 0 || di < 0) throw new Error(`${CONNTRACK_STAT_PATH}: no insert_failed and drop columns in the header ${JSON.stringify(lines[0] ?? '')}`);
  const sample = { insertFailed: 0, drop: 0 };
  for (const line of lines.slice(1)) {
    const cols = line.split(/\s+/);
    const f = cols[fi];
    const d = cols[di];
    if (f === undefined || d === undefined || !/^[0-9a-f]+$/i.test(f) || !/^[0-9a-f]+$/i.test(d)) throw new Error(`${CONNTRACK_STAT_PATH}: not a line of hex counters: ${JSON.stringify(line)}`);
    sample.insertFailed += parseInt(f, 16);
    sample.drop += parseInt(d, 16);
  }
  return sample;
}

/**
 * The first counter whose growth from `base` to `now` exceeds its threshold
 * (insert_failed checked first), or undefined when none does or none is set. A counter
 * that went down (module reloaded) counts as grown by its new value.
 */
export function conntrackBreach(base: ConntrackSample, now: ConntrackSample, t: ConntrackThresholds): ConntrackBreach | undefined {
  const delta = (a: number, b: number): number => (b >= a ? b - a : b);
  const checks = [
    { code: 'CONNTRACK_INSERT_FAILED' as const, counter: 'insert_failed' as const, d: delta(base.insertFailed, now.insertFailed), threshold: t.insertFailedDelta },
    { code: 'CONNTRACK_DROP' as const, counter: 'drop' as const, d: delta(base.drop, now.drop), threshold: t.dropDelta },
  ];
  for (const c of checks) {
    if (c.threshold === undefined || c.d <= c.threshold) continue;
    return { code: c.code, counter: c.counter, delta: c.d, threshold: c.threshold, output: `conntrack ${c.counter} grew by ${c.d} since the apply (threshold ${c.threshold})` };
  }
  return undefined;
}

/** True when at least one threshold is set. */
export const hasThreshold = (t: ConntrackThresholds): boolean => t.insertFailedDelta !== undefined || t.dropDelta !== undefined;

/**
 * Reads the file's text in `netns` (`ip netns exec <ns> cat ...`) or in the enforcer's own
 * namespace. Rejects when it cannot be read (no nf_conntrack module loaded: no file).
 */
export function readConntrackStat(netns?: string): Promise<string> {
  if (netns === undefined) return readFile(CONNTRACK_STAT_PATH, 'utf8');
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', netns, 'cat', CONNTRACK_STAT_PATH], { timeout: 5_000, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`reading ${CONNTRACK_STAT_PATH} in netns ${netns}: ${String(stderr).trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
  });
}
