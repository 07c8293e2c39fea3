/**
 * `natctl rollout status|pause|resume|abort|promote` (history and undo live in
 * history-commands.ts). status shows the fleet (every expected node's applied version)
 * and, when the API reports a staged rollout, its policy/phase line and waves table; it
 * exits 0 only when every expected node applied the desired version, ROLLOUT_ABORTED when
 * that version's rollout was halted, rolled back or aborted (the fleet will not converge
 * by itself), ROLLOUT_INCOMPLETE otherwise. The controls write one command each through
 * the API (202); the rollout controller applies it at its next step.
 */
import type { Command } from 'commander';
import type { ApiClient } from './client.js';
import { CliError } from './client.js';
import type { Io } from './cli.js';
import { EXIT } from './exit-codes.js';
import { healthFailureText, rolloutLine, rolloutTable } from './format.js';
import { carriesRevision, progressText } from './rollout-gate.js';
import { isStaged, stagedBlock, stagedFailures, stagedLine } from './staged-format.js';

export interface RolloutCommandContext {
  io: Io;
  client: () => ApiClient;
  /** Sets the exit code run() resolves to. */
  setCode: (code: number) => void;
  parseDuration: (raw: string) => number;
}

type Json = Record<string, any>;

/** ` a (failed: …), b (silent (last applied v3, heartbeat 47s ago))`: every counted node not in sync; '' when none. */
export function behindNames(r: Json, ignoreSilent: boolean | undefined): string {
  const out: string[] = [];
  for (const n of r.nodes as Json[]) {
    if (n.status === 'in-sync' || (ignoreSilent && n.status === 'silent')) continue;
    if (n.status === 'silent') {
      const hb = n.heartbeatAgeSeconds === null ? 'never reported' : `heartbeat ${Math.round(n.heartbeatAgeSeconds)}s ago`;
      out.push(`${n.node} (silent (last applied ${n.appliedVersion ? `v${n.appliedVersion}` : 'nothing'}, ${hb}))`);
    } else if (n.status === 'failed') {
      const health = n.error ? '' : healthFailureText(n);
      out.push(`${n.node} (failed${n.errorCode ? `: ${n.errorCode}` : ''}${n.error ? `: ${n.error}` : ''}${health ? `: ${health}` : ''})`);
    } else {
      out.push(`${n.node} (behind: applied ${n.appliedVersion ? `v${n.appliedVersion}` : 'nothing'})`);
    }
  }
  return out.length > 0 ? ` ${out.join(', ')}` : '';
}

/**
 * True while the staged rollout of the desired version is progressing or paused: once its
 * last wave is admitted every node runs it, but its gates and bake may still roll it back,
 * so it is not complete until the controller completed it.
 */
export function stagedUnderWay(r: Json): boolean {
  const s = r.staged;
  if (!isStaged(s) || r.desired === null || r.desired === undefined) return false;
  return (s.phase === 'progressing' || s.phase === 'paused') && Number(s.candidate?.version) >= Number(r.desired.version);
}

/** The message of a rollout that will not converge: the reason and every failing node. */
export function abortedText(r: Json): string {
  const failures = stagedFailures(r.staged);
  return `rollout aborted: v${r.staged?.candidate?.version ?? r.desired?.version} ${r.staged?.phase ?? 'aborted'}: ${r.abortedReason ?? 'no reason recorded'}${failures.length ? `\n  failing: ${failures.join('\n  failing: ')}` : ''}`;
}

interface StatusFlags {
  watch?: boolean;
  timeout: string;
  interval: string;
  minVersion?: string;
  ignoreSilent?: boolean;
  expectNodes?: string;
  output: string;
}

async function status(ctx: RolloutCommandContext, o: StatusFlags): Promise<void> {
  const { io } = ctx;
  const c = ctx.client();
  const min = o.minVersion === undefined ? 0 : Number(o.minVersion);
  if (!Number.isSafeInteger(min) || min < 0) throw new CliError(`--min-version must be a version number, got "${o.minVersion}"`, EXIT.INVALID);
  const expect = o.expectNodes === undefined ? 0 : Number(o.expectNodes);
  if (!Number.isSafeInteger(expect) || (expect < 1 && o.expectNodes !== undefined)) throw new CliError(`--expect-nodes must be a positive number, got "${o.expectNodes}"`, EXIT.INVALID);
  // The newest bundle may not carry a write yet (debounce, leader change): until the
  // desired version reaches --min-version, or the compiler evaluated at or past it and
  // the desired bundle enforces that (a write that changed nothing enforced), neither
  // success nor failure is final.
  const reached = (r: Json): boolean => carriesRevision(r, min);
  const counted = (r: Json): Json[] => (r.nodes as Json[]).filter((n) => !(o.ignoreSilent && n.status === 'silent'));
  const complete = (r: Json): boolean => r.desired !== null && r.aborted !== true && !stagedUnderWay(r) && counted(r).length > 0 && counted(r).every((n) => n.status === 'in-sync') && r.summary.total >= expect;
  // A halted / rolled-back / aborted rollout is final: waiting longer changes nothing.
  const finished = (r: Json): boolean => reached(r) && (complete(r) || r.summary.failed > 0 || r.aborted === true);
  const deadline = Date.now() + ctx.parseDuration(o.timeout);
  const full = (r: Json): string => [rolloutLine(r), stagedBlock(r.staged), r.nodes.length ? rolloutTable(r) : ''].filter((s) => s !== '').join('\n');
  let r = await c.request('GET', '/v1/rollout');
  if (o.watch) {
    // A TTY gets a live view redrawn in place; a pipe or a CI log gets one line per change.
    let drawn = 0;
    let last = '';
    for (;;) {
      const view = reached(r) ? full(r) : `waiting for version ${min} (${progressText(r)})`;
      if (io.isTTY) {
        io.err(`${drawn > 0 ? `\x1b[${drawn}A\x1b[J` : ''}${view}`);
        drawn = view.split('\n').length;
      } else {
        const line = reached(r) ? `${rolloutLine(r)}${isStaged(r.staged) ? ` | ${stagedLine(r.staged)}` : ''}${behindNames(r, o.ignoreSilent)}` : view;
        if (line !== last) io.err(line);
        last = line;
      }
      if (finished(r) || Date.now() >= deadline) break;
      await io.sleep(ctx.parseDuration(o.interval));
      r = await c.request('GET', '/v1/rollout');
    }
  }
  if (o.output === 'json') io.out(JSON.stringify(r, null, 2));
  else if (!(o.watch && io.isTTY)) io.out(full(r));
  if (r.summary.total === 0) {
    io.err('rollout incomplete: no nodes are registered, so nothing enforces any version');
    ctx.setCode(EXIT.ROLLOUT_INCOMPLETE);
  } else if (r.summary.total < expect) {
    io.err(`rollout incomplete: ${r.summary.total} node(s) registered, --expect-nodes ${expect}`);
    ctx.setCode(EXIT.ROLLOUT_INCOMPLETE);
  } else if (!reached(r)) {
    io.err(`rollout incomplete: version ${min} not published yet, nor evaluated (${progressText(r)})`);
    ctx.setCode(EXIT.ROLLOUT_INCOMPLETE);
  } else if (r.aborted === true) {
    io.err(abortedText(r));
    ctx.setCode(EXIT.ROLLOUT_ABORTED);
  } else if (!complete(r)) {
    const behind = behindNames(r, o.ignoreSilent);
    const underWay = stagedUnderWay(r) ? ` the staged rollout of v${r.staged.candidate.version} is still ${r.staged.phase} (its gates or bake can still roll it back)` : '';
    io.err(`rollout incomplete:${behind || underWay || ' no nodes counted'}`);
    ctx.setCode(EXIT.ROLLOUT_INCOMPLETE);
  }
}

const CONTROLS = {
  pause: 'pause the staged rollout of the current candidate: no further wave is admitted (gates still fail it)',
  resume: "resume a paused rollout (the current wave's bake and progress deadline restart)",
  abort: 'abort the rollout of the current candidate: every node goes back to the stable version',
  promote: 'skip the remaining bakes of the current candidate (gates still apply)',
} as const;

/** A --version given on the command line: an integer ≥ 1. */
function versionFlag(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const v = /^[0-9]{1,16}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(v) || v < 1) throw new CliError(`--version must be a bundle version, got "${raw}"`, EXIT.INVALID);
  return v;
}

/** Registers status and the controls under `rollout`. */
export function registerRolloutCommands(rollout: Command, ctx: RolloutCommandContext): void {
  rollout
    .command('status')
    .description("desired version, every expected node's applied version and, with a RolloutPolicy, the staged rollout's waves; exit 0 only when every expected node applied it, 7 when its rollout was halted, rolled back or aborted")
    .option('-w, --watch', 'keep watching until the rollout completes, a node fails, it is halted / rolled back / aborted, or --timeout')
    .option('--timeout <duration>', 'with --watch: give up after this long', '120s')
    .option('--interval <duration>', 'with --watch: poll interval', '1s')
    .option('--min-version <n>', 'only count a rollout of this bundle version or newer (the revision a write printed)')
    .option('--ignore-silent', 'count only nodes with a recent heartbeat (a silent node is otherwise a failure: its rules are unknown)')
    .option('--expect-nodes <n>', 'fail unless at least this many nodes are registered')
    .option('-o, --output <format>', 'text | json', 'text')
    .action((o: StatusFlags) => status(ctx, o));
  for (const [type, description] of Object.entries(CONTROLS)) {
    rollout
      .command(type)
      .description(`${description}; the rollout controller applies it at its next step (write token)`)
      .option('--version <n>', 'the candidate version you mean (default: the current one); another is refused (exit 3)')
      .option('--reason <text>', 'why, for the event log')
      .action(async (o: { version?: string; reason?: string }) => {
        const version = versionFlag(o.version);
        const body = { ...(version !== undefined ? { version } : {}), ...(o.reason !== undefined ? { reason: o.reason } : {}) };
        const w = await ctx.client().request('POST', `/v1/rollout/${type}`, body);
        ctx.io.out(`${type} requested for the rollout of v${w.command?.version} (by ${w.command?.by}, command ${String(w.key ?? '').split('/').pop()})`);
        ctx.io.out('the rollout controller applies it at its next step: follow with natctl rollout status');
      });
  }
}
