/**
 * Human output for staged rollouts (the `staged` section of GET /v1/rollout, DESIGN.md
 * §10): the policy/phase line, the waves table (WAVE, NODES, STATE, BAKE LEFT, GATES) and
 * the failing nodes of a halted / rolled-back / aborted rollout; and the ROLLOUT column and
 * section of `natctl history`. Pure string building; never decides anything the
 * controller decides.
 */
import { table } from './format.js';

type Json = Record<string, any>;

/** `8m0s`, `45s`, `1h2m`, `0s`. */
export function durationText(ms: number): string {
  const s = Math.ceil(Math.max(0, ms) / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m${sec}s` : `${sec}s`;
}

/** `node-1: health HEALTH_CHECK_FAILED (curl: timeout)` for a failed gate. */
export function gateFailureText(node: string, g: Json): string {
  return `${node}: ${g.gate ?? 'gate'}${g.code ? ` ${g.code}` : ''}${g.detail ? ` (${String(g.detail).replace(/\s+/g, ' ').slice(0, 120)})` : ''}`;
}

/** The GATES cell: every failure named, else `2/3 passed, 1 pending` (`, 1 unknown` for a node without a result); '-' for a wave without nodes. */
export function gatesText(wave: Json): string {
  const nodes = (wave.nodes ?? []) as Json[];
  if (nodes.length === 0) return '-';
  const failed = nodes.filter((n) => n.gate?.result === 'failed');
  if (failed.length > 0) return failed.map((n) => gateFailureText(n.node, n.gate)).join('; ');
  const passed = nodes.filter((n) => n.gate?.result === 'passed').length;
  const pending = nodes.filter((n) => n.gate?.result === 'pending').length;
  // No result recorded (a wave a rollback or abort emptied): not known, not pending.
  const unknown = nodes.length - passed - pending;
  return `${passed}/${nodes.length} passed${pending > 0 ? `, ${pending} pending` : ''}${unknown > 0 ? `, ${unknown} unknown` : ''}`;
}

const nodesText = (wave: Json): string => {
  const names = ((wave.nodes ?? []) as Json[]).map((n) => String(n.node));
  if (names.length === 0) return '-';
  return names.length <= 3 ? names.join(',') : `${names.slice(0, 2).join(',')} +${names.length - 2}`;
};

/** The waves table; '' when the rollout has no waves (no RolloutPolicy). */
export function wavesTable(staged: Json): string {
  const waves = (staged.waves ?? []) as Json[];
  if (waves.length === 0) return '';
  return table(
    ['WAVE', 'NODES', 'STATE', 'BAKE LEFT', 'GATES'],
    waves.map((w) => [String(w.name), nodesText(w), String(w.state), w.bakeRemainingMs === null || w.bakeRemainingMs === undefined ? '-' : durationText(w.bakeRemainingMs), gatesText(w)]),
  );
}

/**
 * One line: `staged rollout of v42 (policy canary-first): progressing, wave 2/3 half; stable v40`,
 * with PAUSED / promoted / immediate when they hold. For no policy: every node at once.
 */
export function stagedLine(staged: Json): string {
  const v = `v${staged.candidate?.version}`;
  if (staged.policy === '') return `rollout of ${v}: no RolloutPolicy, every node admitted at once (${staged.phase})`;
  const waves = (staged.waves ?? []) as Json[];
  const current = [...waves].reverse().find((w) => w.state !== 'pending');
  const flags = [staged.paused ? 'PAUSED' : '', staged.promoted ? 'promoted (bakes skipped)' : '', staged.immediate ? 'immediate' : ''].filter((s) => s !== '');
  const where = current && staged.phase !== 'completed' ? `, wave ${current.index + 1}/${waves.length} ${current.name} ${current.state}` : '';
  return `staged rollout of ${v} (policy ${staged.policy}, on failure ${staged.onFailure ?? '?'}): ${staged.phase}${where}${flags.length ? ` [${flags.join(', ')}]` : ''}; stable ${staged.stable ? `v${staged.stable.version}` : 'none'}`;
}

/**
 * A rollout record worth showing: one under a RolloutPolicy or `--immediate`. Without a
 * policy every node gets each bundle at once (no waves, no gates): as before staged
 * rollouts, so the views stay as they were.
 */
export const isStaged = (r: Json | null | undefined): boolean => !!r && (r.policy !== '' || r.immediate === true);

/** The staged block of `rollout status`: line, waves table, the newest events; '' without a staged rollout (see isStaged). */
export function stagedBlock(staged: Json | null | undefined, events = 3): string {
  if (!isStaged(staged)) return '';
  staged = staged!;
  const lines = [stagedLine(staged)];
  const t = wavesTable(staged);
  if (t) lines.push(t);
  const ev = ((staged.events ?? []) as Json[]).slice(-events);
  if (ev.length > 0) lines.push('recent events:', ...ev.map((e) => `  ${e.at} ${e.type}: ${e.message}`));
  return lines.join('\n');
}

/** Every failed gate in the staged waves, as `node: gate CODE (detail)`; empty when none. */
export function stagedFailures(staged: Json | null | undefined): string[] {
  return ((staged?.waves ?? []) as Json[]).flatMap((w) => ((w.nodes ?? []) as Json[]).filter((n) => n.gate?.result === 'failed').map((n) => gateFailureText(n.node, n.gate)));
}

/** Where a history row's rollout stands: the outcome, else (no outcome record yet) the state record's phase, `(in progress)` while under way. */
function outcomeWord(r: Json): string {
  const o = r.outcome ?? r.phase;
  if (o === undefined || o === null) return 'unknown';
  if (o === 'completed' && r.immediate) return 'immediate';
  const underWay = (r.outcome === null || r.outcome === undefined) && (o === 'progressing' || o === 'paused');
  return `${o}${r.immediate ? ' (immediate)' : ''}${underWay ? ' (in progress)' : ''}`;
}

/** The ROLLOUT cell of `natctl history`: the outcome (`immediate` for a completed immediate one), the phase while under way, '' without a staged record. */
export function rolloutOutcomeText(r: Json | null | undefined): string {
  if (!isStaged(r)) return '';
  r = r!;
  const base = outcomeWord(r);
  const f = (r.failures ?? []) as Json[];
  if (f.length === 0) return base;
  return `${base}: ${gateFailureText(f[0]!.node, f[0]!)}${f.length > 1 ? ` +${f.length - 1} more` : ''}`;
}

/** The Rollout section of `natctl history VERSION`: outcome, reason, each failing node, waves. */
export function rolloutSection(r: Json | null | undefined): string[] {
  if (!r) return ['Rollout:     no record (no staged rollout recorded for this version)'];
  if (!isStaged(r)) return [`Rollout:     ${r.outcome ?? r.phase ?? 'unknown'} (no RolloutPolicy: every node at once)`];
  const head = outcomeWord(r).replace(/^immediate$/, 'completed (immediate: skipped the waves)').replace(/ \(immediate\)/, ' (immediate: skipped the waves)');
  const lines = [`Rollout:     ${head}${r.policy ? ` (policy ${r.policy})` : ''}`];
  if (r.reason) lines.push(`  Reason:    ${r.reason}`);
  const f = (r.failures ?? []) as Json[];
  if (f.length > 0) {
    lines.push(`  Failing nodes (${f.length}):`);
    for (const x of f) lines.push(`    ${x.node}: ${x.gate} ${x.code}${x.detail ? `: ${x.detail}` : ''}`);
  }
  const waves = (r.waves ?? []) as Json[];
  if (waves.length > 0) lines.push(`  Waves:     ${waves.map((w) => `${w.name}: ${((w.nodes ?? []) as string[]).join(', ') || '-'}`).join('; ')}`);
  if (r.startedAt || r.endedAt) lines.push(`  Started:   ${r.startedAt ?? '-'}${r.endedAt ? `, ended ${r.endedAt}` : ''}`);
  return lines;
}
