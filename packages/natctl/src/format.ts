/**
 * Human output for natctl: aligned tables (calicoctl's columns for `get ippools`), write
 * results with the NAT-set diff, rollout progress and history. Pure string building.
 */
import { stringify } from 'yaml';

type Json = Record<string, any>;

/** Left-aligned columns separated by three spaces, like calicoctl. Empty rows → header only. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('   ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export type OutputFormat = 'table' | 'wide' | 'yaml' | 'json' | 'name';

/** How a list prints: `single` for `get TYPE NAME` (one object, not a List), `noHeaders` drops the header row. */
export interface ListOptions {
  single?: boolean;
  noHeaders?: boolean;
}

/**
 * Resources as calicoctl prints them. `items` may be one resource or many. With
 * `statuses` (name → the compiler's verdict), tables end with a STATUS column; a name
 * missing from it shows `Unknown`.
 */
export function formatResources(kind: string, items: Json[], format: OutputFormat, statuses?: ReadonlyMap<string, string>, options: ListOptions = {}): string {
  // A list request always prints a List (kubectl's habit), even of one item or none.
  if (format === 'json') return JSON.stringify(options.single ? items[0] : { apiVersion: 'projectcalico.org/v3', kind: `${kind}List`, items }, null, 2);
  if (format === 'name') return items.map((i) => `${kind.toLowerCase()}/${i.metadata.name}`).join('\n');
  if (format === 'yaml') return items.map((i) => stringify(i).trimEnd()).join('\n---\n');
  if (items.length === 0) return 'No resources found';
  const tableOf = (headers: string[], rows: string[][]): string => {
    // Without headers, columns are as wide as their contents only (kubectl's --no-headers).
    return options.noHeaders ? table(headers.map(() => ''), rows).split('\n').slice(1).join('\n') : table(headers, rows);
  };
  const st = (headers: string[], rows: string[][]): string =>
    statuses === undefined ? tableOf(headers, rows) : tableOf([...headers, 'STATUS'], rows.map((r, i) => [...r, statuses.get(items[i]!.metadata.name) ?? 'Unknown']));
  if (kind === 'IPPool') {
    if (format === 'wide') {
      return st(
        ['NAME', 'CIDR', 'NAT', 'IPIPMODE', 'VXLANMODE', 'DISABLED', 'DISABLEBGPEXPORT', 'SELECTOR'],
        items.map((p) => [p.metadata.name, p.spec.cidr, String(!!p.spec.natOutgoing), p.spec.ipipMode ?? 'Never', p.spec.vxlanMode ?? 'Never', String(!!p.spec.disabled), String(!!p.spec.disableBGPExport), p.spec.nodeSelector ?? 'all()']),
      );
    }
    return st(['NAME', 'CIDR', 'SELECTOR'], items.map((p) => [p.metadata.name, p.spec.cidr, p.spec.nodeSelector ?? 'all()']));
  }
  const nat = (s: Json): string[] => [s.natOutgoingAddress ?? '', s.natPortRange ?? '', s.natOutgoingExclusions ?? '', s.natOutgoingInterfaceFilter ?? s.iptablesNATOutgoingInterfaceFilter ?? '', s.natOutgoingFullyRandom === undefined ? '' : String(s.natOutgoingFullyRandom)];
  return st(['NAME', 'NATADDRESS', 'PORTRANGE', 'EXCLUSIONS', 'IFACEFILTER', 'FULLYRANDOM'], items.map((f) => [f.metadata.name, ...nat(f.spec ?? {})]));
}

const list = (xs: string[]): string => (xs.length ? xs.join(', ') : '');

/** The NAT-set part of a write result (empty string when nothing enforced changes). */
export function formatNatDiff(nat: Json): string {
  if (!nat?.changed) return 'NAT sets: no change';
  const out: string[] = ['NAT sets:'];
  for (const fam of ['v4', 'v6'] as const) {
    for (const set of ['masquerade', 'noNat'] as const) {
      const d = nat[fam][set];
      if (d.added.length) out.push(`  + ${fam} ${set}: ${list(d.added)}`);
      if (d.removed.length) out.push(`  - ${fam} ${set}: ${list(d.removed)}`);
    }
  }
  if (nat.hostAddresses?.added?.length) out.push(`  + host addresses: ${list(nat.hostAddresses.added)}`);
  if (nat.hostAddresses?.removed?.length) out.push(`  - host addresses: ${list(nat.hostAddresses.removed)}`);
  if (nat.settingsChanged) out.push('  ~ fleet NAT settings change');
  if (nat.nodesChanged?.length) out.push(`  ~ node overrides change: ${list(nat.nodesChanged)}`);
  return out.join('\n');
}

/** A write result: one line per resource, then the NAT diff and any compiler warnings. */
export function formatWriteResult(r: Json, verb: string): string {
  const lines = (r.changes as Json[]).map((c) => `${r.dryRun ? '(dry run) ' : ''}${c.kind}/${c.name}: ${c.action}`);
  for (const w of (r.warnings as Json[] | undefined) ?? []) lines.push(`warning: ${w.resource} ${w.path}: ${w.reason}`);
  if (!r.dryRun && r.changes.some((c: Json) => c.action !== 'unchanged')) {
    // A write that changes nothing enforced gets no bundle of its own (the compiler skips
    // unchanged content); `rollout status --min-version` still resolves it (DESIGN.md §9).
    lines.push(r.nat && !r.nat.changed ? `no NAT change: nothing to roll out (stored at revision ${r.revision})` : `${verb} at revision ${r.revision} (the bundle version that will carry it)`);
  }
  lines.push(formatNatDiff(r.nat));
  const im = r.immediate;
  if (im?.written) lines.push(`immediate: this change skips the staged-rollout waves — the bundle carrying revision ${im.command?.version ?? r.revision} goes to every node at once (gates still apply)`);
  else if (im && !im.written) lines.push(`immediate: no command written (${im.reason})`);
  if (!r.dryRun && r.nat?.changed) lines.push(`follow the rollout: natctl rollout status --watch --min-version ${r.revision}`);
  for (const w of r.nat?.warnings ?? []) lines.push(`warning: ${w.key}: ${w.code}: ${w.reason}`);
  return lines.join('\n');
}

/** One progress line for rollout status. */
export function rolloutLine(r: Json): string {
  const s = r.summary;
  if (!r.desired) return `no bundle published yet for cluster ${r.cluster} (${s.total} node(s) expected)`;
  // Writes after the bundle's own revision that changed nothing enforced: it carries them too.
  const e = r.evaluated;
  const asOf = e && e.bundleVersion === r.desired.version && e.revision > r.desired.version ? ` (current as of revision ${e.revision})` : '';
  return `version ${r.desired.version}${asOf}: ${s.inSync}/${s.total} node(s) in sync, ${s.behind} behind, ${s.failed} failed, ${s.silent} silent`;
}

/** `HEALTH_CHECK_FAILED: probe: <output>` when the node's post-apply health checks of the version it runs failed; '' otherwise. */
export function healthFailureText(n: Json): string {
  const h = n.health;
  if (!h || h.result !== 'failed' || h.version !== n.appliedVersion) return '';
  return `${h.code || 'HEALTH_CHECK_FAILED'}: ${h.check ? `${h.check}: ` : ''}${String(h.output ?? '').replace(/\s+/g, ' ').trim().slice(0, 120)}`;
}

/** Per-node rollout table (like `istioctl proxy-status`). */
export function rolloutTable(r: Json): string {
  return table(
    ['NODE', 'STATUS', 'APPLIED', 'STATE', 'HEARTBEAT', 'DRIFT', 'ERROR'],
    (r.nodes as Json[]).map((n) => [
      n.node,
      n.status,
      n.appliedVersion ? String(n.appliedVersion) : '-',
      n.state,
      n.heartbeatAgeSeconds === null ? '-' : `${n.heartbeatAgeSeconds}s ago`,
      String(n.driftRepairs ?? 0),
      n.error ? `${n.errorCode ? `${n.errorCode}: ` : ''}${n.error}${n.failedVersion ? ` (v${n.failedVersion})` : ''}` : healthFailureText(n),
    ]),
  );
}

/** explain output: the decision, the reason, then the evidence. */
export function formatExplanation(e: Json): string {
  const lines = [`${e.decision.toUpperCase()}${e.snatAddress ? ` to ${e.snatAddress}` : ''} (bundle v${e.version})`, `  ${e.reason}`];
  if (e.source.pool) lines.push(`  source pool:      ${e.source.pool.name} ${e.source.pool.cidr} natOutgoing=${e.source.pool.natOutgoing}${e.source.pool.disabled ? ' disabled' : ''}`);
  if (e.destination.pool) lines.push(`  destination pool: ${e.destination.pool.name} ${e.destination.pool.cidr}${e.destination.pool.disabled ? ' (disabled)' : ''}`);
  if (e.destination.hostAddress) lines.push(`  destination is a fleet host address (${e.destination.hostAddress})`);
  lines.push(`  settings from:    ${e.settingsFrom}`);
  for (const c of e.conditions ?? []) lines.push(`  note: ${c}`);
  return lines.join('\n');
}
