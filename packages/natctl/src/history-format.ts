/**
 * Human output for history and rollback: the history table with its CHANGE column, one
 * version's detail (set and settings diff against its predecessor, warnings in full), and
 * the rollback preview and result. Pure string building.
 */
import { formatNatDiff, table } from './format.js';
import { isStaged, rolloutOutcomeText, rolloutSection } from './staged-format.js';

type Json = Record<string, any>;

/** Who made a change, as the CHANGE column says it. */
export function authorText(r: Json): string {
  switch (r.via) {
    case 'api':
      return String(r.by ?? 'api');
    case 'rollback':
      return r.forced ? `forced rollback to revision ${r.rollbackOf} (${r.by})` : `rollback of v${r.rollbackOf} (${r.by})`;
    case 'etcdctl':
      return 'etcdctl';
    case 'inventory':
      return 'node inventory';
    default:
      return 'unknown (older than the audit records read)';
  }
}

/**
 * A version's change in one line: resources grouped by author, at most `perAuthor` named
 * per author (`+N more` for the rest), e.g.
 * `IPPool/a created, IPPool/b updated by alice; IPPool/c deleted by etcdctl`.
 * '' when `change` is absent (an invalid message).
 */
export function changeText(change: Json | undefined, perAuthor = 3): string {
  if (!change) return '';
  if (change.status === 'compacted') return '(history compacted)';
  if (change.status === 'no-predecessor') return '(oldest kept: no earlier bundle)';
  const resources = (change.resources ?? []) as Json[];
  if (resources.length === 0) return '(no resource changed)';
  const groups = new Map<string, string[]>();
  for (const r of resources) {
    const who = authorText(r);
    groups.set(who, [...(groups.get(who) ?? []), `${r.kind}/${r.name} ${r.action}`]);
  }
  return [...groups]
    .map(([who, list]) => `${list.slice(0, perAuthor).join(', ')}${list.length > perAuthor ? ` (+${list.length - perAuthor} more)` : ''} by ${who}`)
    .join('; ');
}

/**
 * `natctl history`: newest first, CHANGE last (it is the widest). ROLLOUT (the staged
 * rollout's outcome: completed, immediate, aborted, halted, rolled-back with the first
 * failing node, superseded; the phase while under way) appears when any row has a staged
 * rollout (a RolloutPolicy or --immediate).
 */
export function historyTable(items: Json[]): string {
  const withRollout = items.some((b) => isStaged(b.rollout));
  const rollout = (b: Json): string[] => (withRollout ? [rolloutOutcomeText(b.rollout) || '-'] : []);
  return table(
    ['VERSION', 'PUBLISHED', 'DIGEST', 'MASQ(v4/v6)', 'NONAT(v4/v6)', 'WARNINGS', ...(withRollout ? ['ROLLOUT'] : []), 'CHANGE'],
    items.map((b) =>
      // A message on the subject that is not a usable bundle: its header version is unverified.
      b.invalid
        ? [`(${b.version})`, b.publishedAt, String(b.digest).slice(0, 19), `INVALID ${b.invalid.code}`, '-', '-', ...(withRollout ? ['-'] : []), '']
        : [String(b.version), b.publishedAt, String(b.digest).slice(0, 19), `${b.masquerade.v4}/${b.masquerade.v6}`, `${b.noNat.v4}/${b.noNat.v6}`, String(b.warnings), ...rollout(b), changeText(b.change)],
    ),
  );
}

const show = (v: unknown): string => (v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v));

/** `natctl history --version N`. */
export function formatVersionDetail(d: Json): string {
  const lines = [
    `Version:     ${d.version}`,
    `Digest:      ${d.digest}`,
    `Source:      etcd revision ${d.sourceRevision}`,
    `Compiled:    ${d.compiledAt}`,
    `Published:   ${d.publishedAt}`,
    `Compared to: ${d.previous ? `v${d.previous.version}` : 'nothing (the oldest bundle kept): sets are shown against an empty fleet'}`,
  ];
  const c = d.change ?? {};
  if (c.status === 'ok') {
    const rs = c.resources as Json[];
    lines.push(`Changes since v${c.since}:${rs.length === 0 ? ' none to pools, NAT config or nodes' : ''}`);
    for (const r of rs) lines.push(`  ${r.kind}/${r.name} ${r.action} by ${authorText(r)}`);
  } else {
    lines.push(`Changes:     ${changeText(c)}`);
  }
  lines.push(formatNatDiff(d.nat));
  if (d.settings?.length) {
    lines.push('Settings:');
    for (const s of d.settings as Json[]) lines.push(`  ${s.path}: ${show(s.before)} → ${show(s.after)}`);
  }
  const ws = (d.warnings ?? []) as Json[];
  lines.push(`Warnings (${ws.length}):${ws.length === 0 ? ' none' : ''}`);
  // `+` marks a warning the predecessor did not have.
  // A reason can span lines (a validation issue list): its continuation lines stay indented.
  for (const w of ws) lines.push(`  ${w.new ? '+ ' : ''}${w.key}: ${w.code}: ${String(w.reason).replace(/\n/g, '\n      ')}`);
  // Older APIs send no `rollout`: say nothing rather than "no record".
  if ('rollout' in d) lines.push(...rolloutSection(d.rollout));
  return lines.join('\n');
}

/** What a rollback is taken to: `v5`, or `etcd revision 5 (forced)`. */
export function rollbackTarget(r: Json): string {
  return r.rollback?.forced ? `etcd revision ${r.rollback.version} (forced)` : `v${r.rollback?.version}`;
}

/** The dry run shown before a rollback asks for confirmation. */
export function formatRollbackPreview(r: Json): string {
  const target = rollbackTarget(r);
  if (!r.changes?.length) return `Nothing to roll back: pools and NAT config already match ${target}.`;
  const lines = [`Rolling back to ${target} changes:`, ...(r.changes as Json[]).map((c) => `  ${c.kind}/${c.name}: ${c.action}`), formatNatDiff(r.nat)];
  for (const w of r.nat?.warnings ?? []) lines.push(`warning: ${w.key}: ${w.code}: ${w.reason}`);
  return lines.join('\n');
}

/** After a rollback was written: where it landed and how to follow it. */
export function formatRollbackDone(r: Json): string {
  const target = rollbackTarget(r);
  if (!r.changes?.length) return `Nothing to roll back: pools and NAT config already match ${target}.`;
  const lines = [`rolled back to ${target} at revision ${r.revision} (the bundle version that will carry it)`];
  if (r.nat?.changed) lines.push(`follow the rollout: natctl rollout status --watch --min-version ${r.revision}`);
  return lines.join('\n');
}
