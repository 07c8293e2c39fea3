/**
 * Value parsers for settings. Each throws commander's InvalidArgumentError with the
 * reason, so a bad flag or env value fails at start with a message naming the setting.
 */
import { InvalidArgumentError } from 'commander';

/** TCP port 0–65535 (0 = pick a free one). */
export function parsePort(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n > 65535) throw new InvalidArgumentError('must be a port number 0–65535');
  return n;
}

/** Integer ≥ 1. */
export function parsePositiveInt(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Duration: `250ms`, `2s`, `1.5m`, `1h`; a bare number means milliseconds. Returns ms (≥ 0). */
export function parseDurationMs(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(raw);
  if (!m) throw new InvalidArgumentError('must be a duration like 250ms, 2s, 1m');
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
}

/** Comma-separated list, trimmed, empty items dropped. Empty string → []. */
export function parseList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `k=v,k2=v2` → record. Keys must be non-empty; an empty string gives {}. */
export function parseLabels(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of parseList(raw)) {
    const i = item.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError(`label "${item}" must be key=value`);
    out[item.slice(0, i).trim()] = item.slice(i + 1).trim();
  }
  return out;
}

/** Log level accepted by pino. */
export function parseLogLevel(raw: string): string {
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (!levels.includes(raw)) throw new InvalidArgumentError(`must be one of ${levels.join(', ')}`);
  return raw;
}
