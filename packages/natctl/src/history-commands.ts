/**
 * natctl history and rollback, with kubectl's aliases:
 *   history [VERSION|--version N] = rollout history [--revision N]
 *   rollback --to V              = rollout undo [--to-revision V]
 * A rollback first shows the dry run it will cause, then asks on a terminal (y/N); --yes
 * confirms without asking, and without a terminal it refuses (exit 2) rather than guess.
 * The confirmed write carries the preview's revision, so the API refuses it (exit 3,
 * nothing written) if pools or NAT config changed in between. Only versions in history
 * are accepted (the API answers 404, exit 4) unless --force, which takes V as an etcd
 * revision.
 */
import { Option, type Command } from 'commander';
import type { ApiClient } from './client.js';
import { CliError } from './client.js';
import type { Io } from './cli.js';
import { EXIT } from './exit-codes.js';
import { formatRollbackDone, formatRollbackPreview, formatVersionDetail, historyTable, rollbackTarget } from './history-format.js';

export interface HistoryCommandContext {
  io: Io;
  client: () => ApiClient;
}

/** A version or revision given on the command line: an integer ≥ `min`. */
function versionArg(raw: string, flag: string, min: number): number {
  const v = /^[0-9]{1,16}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(v) || v < min) throw new CliError(`${flag} must be a version number, got "${raw}"`, EXIT.INVALID);
  return v;
}

const outputOption = (): Option => new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text');

/** The answer that confirms: y or yes, any case. Anything else (including nothing) declines. */
export const confirms = (answer: string): boolean => /^\s*y(es)?\s*$/i.test(answer);

async function showHistory(ctx: HistoryCommandContext, version: string | undefined, flag: string, output: string): Promise<void> {
  const c = ctx.client();
  if (version !== undefined) {
    const d = await c.request('GET', `/v1/history/${versionArg(version, flag, 0)}`);
    ctx.io.out(output === 'json' ? JSON.stringify(d, null, 2) : formatVersionDetail(d));
    return;
  }
  const h = await c.request('GET', '/v1/history');
  ctx.io.out(output === 'json' ? JSON.stringify(h.items, null, 2) : historyTable(h.items));
}

interface RollbackFlags {
  force?: boolean;
  yes?: boolean;
  dryRun?: boolean;
}

async function rollback(ctx: HistoryCommandContext, version: number, o: RollbackFlags): Promise<void> {
  const { io } = ctx;
  const c = ctx.client();
  const body = { version, ...(o.force ? { force: true } : {}) };
  const preview = await c.request('POST', '/v1/rollback?dryRun=true', body);
  io.out(formatRollbackPreview(preview));
  if (o.dryRun) {
    io.out('(dry run: nothing was written)');
    return;
  }
  if (!preview.changes?.length) return;
  if (!o.yes) {
    if (!io.isTTY || !io.readLine) {
      throw new CliError('not rolling back: confirmation needed and natctl is not on a terminal; check the changes above and run again with --yes to apply them', EXIT.INVALID);
    }
    const answer = await io.readLine(`Roll back to ${rollbackTarget(preview)}? [y/N] `);
    if (!confirms(answer)) throw new CliError('rollback cancelled: nothing was written', EXIT.ERROR);
  }
  const r = await c.request('POST', '/v1/rollback', { ...body, previewRevision: preview.revision });
  io.out(formatRollbackDone(r));
}

/** `rollout undo` without --to-revision: the newest valid bundle before the newest one. */
async function previousVersion(ctx: HistoryCommandContext): Promise<number> {
  const h = await ctx.client().request('GET', '/v1/history');
  const valid = (h.items as { version: number; invalid?: unknown }[]).filter((b) => !b.invalid).map((b) => b.version).sort((a, b) => b - a);
  if (valid.length < 2) throw new CliError(`no earlier version in history to undo to (kept: ${valid.join(', ') || 'none'})`, EXIT.NOT_FOUND);
  return valid[1]!;
}

/** Registers history and rollback on `program` and their kubectl aliases under `rollout`. */
export function registerHistoryCommands(program: Command, rollout: Command, ctx: HistoryCommandContext): void {
  program
    .command('history')
    .description('published bundles, newest first, with their staged rollout outcome (ROLLOUT) and what changed in each and who changed it (CHANGE); VERSION (or --version N): that bundle against its predecessor, and its rollout with every failing node and reason')
    .argument('[version]', 'one bundle version in detail')
    .option('--version <n>', "one bundle: its NAT-set and settings diff against the previous one, its warnings in full, and its rollout outcome")
    .addOption(outputOption())
    .action((version: string | undefined, o: { version?: string; output: string }) => {
      if (version !== undefined && o.version !== undefined && version !== o.version) throw new CliError(`give the version once (got ${version} and --version ${o.version})`, EXIT.INVALID);
      return showHistory(ctx, version ?? o.version, version !== undefined ? 'VERSION' : '--version', o.output);
    });
  rollout
    .command('history')
    .description('same as "natctl history" (kubectl rollout history)')
    .option('--revision <n>', 'one bundle version in detail (natctl history --version)')
    .addOption(outputOption())
    .action((o: { revision?: string; output: string }) => showHistory(ctx, o.revision, '--revision', o.output));

  const rollbackFlags = (cmd: Command): Command =>
    cmd
      .option('--dry-run', 'show what would change, write nothing')
      .option('-y, --yes', 'do not ask for confirmation (needed when not on a terminal)')
      .option('--force', 'take the number as an etcd revision even if it is no bundle in history');
  rollbackFlags(
    program
      .command('rollback')
      .description('restore pools and NAT config as they were at a bundle VERSION from history (one etcd transaction; creates a new version). Shows the changes first and asks to confirm')
      .requiredOption('--to <version>', 'bundle version to restore (natctl history lists them)'),
  ).action((o: RollbackFlags & { to: string }) => rollback(ctx, versionArg(o.to, '--to', 1), o));
  rollbackFlags(
    rollout
      .command('undo')
      .description('same as "natctl rollback --to N" (kubectl rollout undo); without --to-revision, the version before the newest')
      .option('--to-revision <n>', 'bundle version to restore'),
  ).action(async (o: RollbackFlags & { toRevision?: string }) => rollback(ctx, o.toRevision === undefined ? await previousVersion(ctx) : versionArg(o.toRevision, '--to-revision', 1), o));
}
