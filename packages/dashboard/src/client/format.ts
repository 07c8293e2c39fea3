/**
 * Pure formatting and filtering for the pages: ages, durations, labels, the explain text
 * (the same lines as `natctl explain`), set-diff lines, the node filter and the change
 * fingerprint. Never touches the DOM or the network.
 */
import type { BundleSets, Explanation, ListDiff, NatDiff, RolloutNode } from './types.js';

/** `12s`, `3m 4s`, `2h 5m`, `1d 3h`; `-` for null, negative or not finite. */
export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** Seconds since `iso` at `nowMs`; null when `iso` is empty or unparsable (never negative). */
export function ageSeconds(iso: string, nowMs: number): number | null {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : Math.max(0, (nowMs - t) / 1000);
}

/** `850 ms`, `1.2 s`; `-` for 0 (nothing applied yet), negative or not finite. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return '-';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** `a=1, b=2` sorted by key; `` for none. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

/**
 * Nodes matching `filter`: every whitespace-separated term must occur (case-insensitive)
 * in the node's name, a `key=value` label, its status, its state or its error code. An
 * empty filter keeps every node.
 */
export function filterNodes(nodes: readonly RolloutNode[], filter: string): RolloutNode[] {
  const terms = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return [...nodes];
  return nodes.filter((n) => {
    const hay = [n.node, formatLabels(n.labels), n.status, n.state, n.errorCode].join(' ').toLowerCase();
    return terms.every((t) => hay.includes(t));
  });
}

/** explain's answer as `natctl explain` prints it: the decision, the reason, then the evidence. */
export function formatExplanation(e: Explanation): string {
  const lines = [`${e.decision.toUpperCase()}${e.snatAddress ? ` to ${e.snatAddress}` : ''} (bundle v${e.version})`, `  ${e.reason}`];
  const sp = e.source.pool;
  if (sp) lines.push(`  source pool:      ${sp.name} ${sp.cidr} natOutgoing=${sp.natOutgoing}${sp.disabled ? ' disabled' : ''}`);
  const dp = e.destination.pool;
  if (dp) lines.push(`  destination pool: ${dp.name} ${dp.cidr}${dp.disabled ? ' (disabled)' : ''}`);
  if (e.destination.hostAddress) lines.push(`  destination is a fleet host address (${e.destination.hostAddress})`);
  lines.push(`  settings from:    ${e.settingsFrom}`);
  for (const c of e.conditions ?? []) lines.push(`  note: ${c}`);
  return lines.join('\n');
}

/** `+ v4 masquerade: 10.0.0.0/8` / `- …` lines of a NAT diff, in family and set order; empty when nothing changed. */
export function natDiffLines(d: NatDiff): string[] {
  const out: string[] = [];
  const list = (label: string, l: ListDiff): void => {
    for (const c of l.added) out.push(`+ ${label}: ${c}`);
    for (const c of l.removed) out.push(`- ${label}: ${c}`);
  };
  list('v4 masquerade', d.v4.masquerade);
  list('v4 noNat', d.v4.noNat);
  list('v6 masquerade', d.v6.masquerade);
  list('v6 noNat', d.v6.noNat);
  list('host addresses', d.hostAddresses);
  if (d.settingsChanged) out.push('~ settings changed');
  for (const n of d.nodesChanged) out.push(`~ node override: ${n}`);
  return out;
}

/** The message of an API error body `{code, message}`, else `HTTP <status>`. */
export function errorText(status: number, body: unknown): string {
  if (body !== null && typeof body === 'object') {
    const b = body as { code?: unknown; message?: unknown };
    if (typeof b.message === 'string') return typeof b.code === 'string' ? `${b.code}: ${b.message}` : b.message;
  }
  return `HTTP ${status}`;
}

/**
 * A heartbeat age `serverAge` seconds read at `receivedAt` (ms, browser clock) as of `now`:
 * the server's figure plus the time since (never less than the server's); null stays null.
 * Uses only the browser's own clock, so a skew between it and the nodes does not matter.
 */
export function liveAge(serverAge: number | null, receivedAt: number, now: number): number | null {
  return serverAge === null ? null : serverAge + Math.max(0, now - receivedAt) / 1000;
}

/** The NAT sets a bundle gives every node, one row per set (empty lists kept: "none" is an answer). */
export function natSetRows(b: BundleSets): { set: string; cidrs: string[] }[] {
  return [
    { set: 'v4 masquerade', cidrs: b.fleet.v4.masquerade },
    { set: 'v4 noNat', cidrs: b.fleet.v4.noNat },
    { set: 'v6 masquerade', cidrs: b.fleet.v6.masquerade },
    { set: 'v6 noNat', cidrs: b.fleet.v6.noNat },
    { set: 'host addresses', cidrs: [...b.fleet.hostAddresses.v4, ...b.fleet.hostAddresses.v6] },
  ];
}

/** `node`'s effective NAT settings in `b`: the fleet's, overridden field by field by the node's own (none: the fleet's). */
export function effectiveSettings(b: BundleSets, node: string): Record<string, unknown> {
  return { ...b.fleet.settings, ...(Object.hasOwn(b.nodes, node) ? b.nodes[node] : {}) };
}

/** decodeURIComponent that never throws: a malformed link (`#/nodes/%E0`) shows its raw text instead of blanking the page. */
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
