/**
 * The natctl program. `run(argv, io)` parses and executes one command and resolves the
 * exit code (see exit-codes.ts); nothing here calls process.exit, so tests drive it
 * in-process. Errors print one clear line, then the field list.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { formatIssues, isParseError, parseResources, validateResource, validateResources, type InputFormat } from '@natfleet/model';
import { ApiClient, CliError, resolveConnection } from './client.js';
import { getNodes, isNodeType, registerNodeCommands } from './node-commands.js';
import { EXIT, EXIT_HELP } from './exit-codes.js';
import { carriesRevision, progressText } from './rollout-gate.js';
import { registerVersionCommand } from './version-command.js';
import { formatExplanation, formatNatDiff, formatResources, formatWriteResult, rolloutLine, rolloutTable, type OutputFormat } from './format.js';
import { registerHistoryCommands } from './history-commands.js';
import { getRolloutPolicies, isRolloutPolicyType, writeRolloutPolicyFile } from './rollout-policy-commands.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Reads stdin fully (for `-f -`). */
  stdin: () => Promise<string>;
  sleep: (ms: number) => Promise<void>;
  /** stderr is a terminal: live views redraw in place instead of printing a line per change. */
  isTTY?: boolean;
  /** Asks on the terminal and resolves the line typed; present only when stdin and stderr are terminals (rollback's y/N). */
  readLine?: (prompt: string) => Promise<string>;
}

/** ` a (failed: …), b (silent (last applied v3, heartbeat 47s ago))`: every counted node not in sync; '' when none. */
function behindNames(r: any, ignoreSilent: boolean | undefined): string {
  const out: string[] = [];
  for (const n of r.nodes as any[]) {
    if (n.status === 'in-sync' || (ignoreSilent && n.status === 'silent')) continue;
    if (n.status === 'silent') {
      const hb = n.heartbeatAgeSeconds === null ? 'never reported' : `heartbeat ${Math.round(n.heartbeatAgeSeconds)}s ago`;
      out.push(`${n.node} (silent (last applied ${n.appliedVersion ? `v${n.appliedVersion}` : 'nothing'}, ${hb}))`);
    } else if (n.status === 'failed') {
      out.push(`${n.node} (failed${n.errorCode ? `: ${n.errorCode}` : ''}${n.error ? `: ${n.error}` : ''})`);
    } else {
      out.push(`${n.node} (behind: applied ${n.appliedVersion ? `v${n.appliedVersion}` : 'nothing'})`);
    }
  }
  return out.length > 0 ? ` ${out.join(', ')}` : '';
}

const TYPES: Record<string, { kind: string; plural: string }> = {
  ippool: { kind: 'IPPool', plural: 'ippools' },
  ippools: { kind: 'IPPool', plural: 'ippools' },
  felixconfiguration: { kind: 'FelixConfiguration', plural: 'felixconfigurations' },
  felixconfigurations: { kind: 'FelixConfiguration', plural: 'felixconfigurations' },
  felixconfig: { kind: 'FelixConfiguration', plural: 'felixconfigurations' },
};

function typeOf(t: string): { kind: string; plural: string } {
  const hit = TYPES[t.toLowerCase()];
  if (!hit) throw new CliError(`unknown resource type "${t}" (ippool, felixconfiguration)`, EXIT.INVALID);
  return hit;
}

function parseDuration(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  if (!m) throw new CliError(`invalid duration "${raw}" (e.g. 90s, 2m)`, EXIT.INVALID);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1_000);
}

async function readInput(file: string, io: Io): Promise<{ text: string; format: InputFormat; type: string }> {
  let text: string;
  try {
    text = file === '-' ? await io.stdin() : readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.INVALID);
  }
  const format: InputFormat = /\.json$/i.test(file) ? 'json' : /\.ya?ml$/i.test(file) ? 'yaml' : /^\s*[[{]/.test(text) ? 'json' : 'yaml';
  return { text, format, type: format === 'json' ? 'application/json' : 'application/yaml' };
}

/** `natctl diff` exits as `kubectl diff`: 0 no change, 1 changes, >1 an error (the usual codes, a general error 8). */
const DIFF_EXIT = { NONE: 0, CHANGES: 1, ERROR: 8 } as const;

/** A resource without the server-side metadata that never counts as a change. */
function comparable(res: { metadata: Record<string, unknown> } & Record<string, unknown>): Record<string, unknown> {
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, ...metadata } = res.metadata;
  return { ...res, metadata };
}

const show = (v: unknown): string => (v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v));

/** `path: old → new` for every leaf that differs (arrays compared whole), in key order. Empty when equal. */
export function fieldDiff(a: unknown, b: unknown, path = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => fieldDiff(a[k], b[k], path === '' ? k : `${path}.${k}`));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [`${path}: ${show(a)} → ${show(b)}`];
}

/**
 * `--validate=strict|warn`, as kubectl's: strict (default) refuses unknown and deprecated
 * fields; warn stores them anyway and prints each as a warning.
 */
function validateOption(): Option {
  return new Option('--validate <mode>', 'unknown or misspelt fields: strict refuses them, warn stores them with a warning').choices(['strict', 'warn']).default('strict');
}

const validateQuery = (mode: string): string => (mode === 'warn' ? '&validate=warn' : '');

export async function run(argv: readonly string[], io: Io): Promise<number> {
  let code: number = EXIT.OK;
  const program = new Command('natctl')
    .description('natfleet command line: Calico-style pools in, NAT rollout status out.')
    .addOption(new Option('--api-url <url>', 'natfleet API URL (env NATFLEET_API_URL; else the config file; default http://127.0.0.1:8080)'))
    .addOption(new Option('--token <token>', 'bearer token (env NATFLEET_API_TOKEN; else the config file)'))
    .addOption(new Option('--config <file>', 'JSON config {apiUrl, token} (env NATFLEET_CONFIG; else ./.natfleet/natctl.json, ~/.config/natfleet/natctl.json)'))
    .addHelpText('after', EXIT_HELP)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  const client = (): ApiClient => {
    const g = program.opts<{ apiUrl?: string; token?: string; config?: string }>();
    return new ApiClient(resolveConnection(g, io.env, io.cwd));
  };

  for (const mode of ['apply', 'create', 'replace'] as const) {
    program
      .command(mode)
      .description(
        mode === 'apply' ? 'create or update the resources in FILE (all-or-nothing)' : mode === 'create' ? 'create the resources in FILE; fails if any exists' : 'replace the resources in FILE; fails if any is missing',
      )
      .requiredOption('-f, --filename <file>', 'YAML or JSON file, or - for stdin (multi-document and kind: List supported)')
      .option('--dry-run', 'validate and show what would change, write nothing')
      .addOption(validateOption())
      .action(async (o: { filename: string; dryRun?: boolean; validate: string }) => {
        const input = await readInput(o.filename, io);
        const policies = await writeRolloutPolicyFile(client(), input, mode, o); // RolloutPolicy files: /v1/rolloutpolicies
        if (policies !== undefined) return void io.out(policies);
        const r = await client().request('POST', `/v1/resources?mode=${mode}${o.dryRun ? '&dryRun=true' : ''}${validateQuery(o.validate)}`, { text: input.text, type: input.type });
        io.out(formatWriteResult(r, mode === 'create' ? 'created' : mode === 'replace' ? 'replaced' : 'applied'));
      });
  }

  program
    .command('delete')
    .description('delete a resource by type and name, or every resource in FILE (an enabled pool is disabled first, as Calico does)')
    .argument('[type]', 'ippool | felixconfiguration')
    .argument('[name]')
    .option('-f, --filename <file>', 'delete the resources named in FILE')
    .option('--dry-run', 'show what would change, write nothing')
    .action(async (type: string | undefined, name: string | undefined, o: { filename?: string; dryRun?: boolean }) => {
      const q = o.dryRun ? '?dryRun=true' : '';
      let r: any;
      if (o.filename) {
        const input = await readInput(o.filename, io);
        r = await client().request('POST', `/v1/resources/delete${q}`, { text: input.text, type: input.type });
      } else {
        if (!type || !name) throw new CliError('give TYPE NAME (e.g. "natctl delete ippool my-pool") or -f FILE', EXIT.INVALID);
        r = await client().request('DELETE', `/v1/${typeOf(type).plural}/${encodeURIComponent(name)}${q}`);
      }
      io.out(formatWriteResult(r, 'deleted'));
    });

  program
    .command('get')
    .description('list or show resources (columns like calicoctl)')
    .argument('<type>', 'ippools | felixconfigurations | nodes | rolloutpolicies')
    .argument('[name]')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'wide', 'yaml', 'json', 'name']).default('table'))
    .option('--no-headers', 'tables without the header row')
    .action(async (type: string, name: string | undefined, o: { output: OutputFormat; headers: boolean }) => {
      if (isRolloutPolicyType(type) || isNodeType(type)) {
        const text = isRolloutPolicyType(type) ? await getRolloutPolicies(client(), name, o.output, !o.headers) : await getNodes(client(), name, o.output, !o.headers);
        if (text === 'No resources found') io.err(text);
        else if (text !== '') io.out(text);
        return;
      }
      const t = typeOf(type);
      const c = client();
      const items = name ? [await c.request('GET', `/v1/${t.plural}/${encodeURIComponent(name)}`)] : (await c.request('GET', `/v1/${t.plural}`)).items;
      // STATUS is the compiler's verdict from the newest bundle; unknown (not guessed) when
      // the API cannot read the bundle stream. yaml/json stay plain resources, so they can
      // be applied back (backup → restore).
      let statuses: Map<string, string> | undefined;
      if (o.output === 'table' || o.output === 'wide') {
        try {
          const st = await c.request('GET', `/v1/status/${t.plural}`);
          statuses = new Map((st.items as { name: string; status: string }[]).map((x) => [x.name, x.status]));
        } catch (err) {
          if (!(err instanceof CliError)) throw err;
          statuses = new Map();
          io.err(`warning: STATUS unknown: ${err.message}`);
        }
      }
      const text = formatResources(t.kind, items, o.output, statuses, { single: name !== undefined, noHeaders: !o.headers });
      if (text === 'No resources found') io.err(text);
      else if (text !== '') io.out(text);
    });

  registerNodeCommands(program, { client, out: io.out });

  program
    .command('diff')
    .description('what applying FILE would change, field by field, and the enforced NAT sets; exit 0 no change, 1 changes, >1 error (as kubectl diff)')
    .requiredOption('-f, --filename <file>', 'YAML or JSON file, or -')
    .addOption(validateOption())
    .action(async (o: { filename: string; validate: string }) => {
      try {
        const input = await readInput(o.filename, io);
        const c = client();
        // The server validates and computes the NAT diff (dry run); the field diff compares
        // what it would store with what is stored, both normalised by the same model.
        const r = await c.request('POST', `/v1/resources?mode=apply&dryRun=true${validateQuery(o.validate)}`, { text: input.text, type: input.type });
        const local = validateResources(parseResources(input.text, { format: input.format, source: o.filename }), { unknownFields: 'warn' });
        const lines: string[] = [];
        for (const ch of r.changes as { kind: string; name: string; action: string }[]) {
          if (ch.action === 'unchanged') continue;
          if (ch.action !== 'updated' || !local.ok) {
            lines.push(`${ch.kind}/${ch.name}: ${ch.action === 'created' ? 'created' : ch.action}`);
            continue;
          }
          const plural = ch.kind === 'IPPool' ? 'ippools' : 'felixconfigurations';
          const stored = await c.request('GET', `/v1/${plural}/${encodeURIComponent(ch.name)}`);
          const wanted = local.value.find((x) => x.kind === ch.kind && x.metadata.name === ch.name);
          const old = validateResource(stored, { unknownFields: 'warn' });
          const fields = wanted && old.ok ? fieldDiff(comparable(old.value), comparable(wanted)) : [];
          lines.push(`${ch.kind}/${ch.name}: updated`, ...fields.map((f) => `  ${f}`));
        }
        io.out([...lines, formatNatDiff(r.nat)].join('\n'));
        for (const w of (r.warnings as { resource: string; path: string; reason: string }[] | undefined) ?? []) io.err(`warning: ${w.resource} ${w.path}: ${w.reason}`);
        code = lines.length > 0 ? DIFF_EXIT.CHANGES : DIFF_EXIT.NONE;
      } catch (err) {
        // kubectl diff: 1 means "differences", so an error must exit above 1.
        if (err instanceof CliError && err.exitCode <= 1) throw new CliError(err.message, DIFF_EXIT.ERROR, err.issues);
        throw err;
      }
    });

  program
    .command('validate')
    .description('validate FILE offline (Calico v3.31 rules; overlaps within the file; no API needed)')
    .requiredOption('-f, --filename <file>', 'YAML or JSON file, or -')
    .addOption(validateOption())
    .action(async (o: { filename: string; validate: string }) => {
      const input = await readInput(o.filename, io);
      let items;
      try {
        items = parseResources(input.text, { format: input.format, source: o.filename });
      } catch (err) {
        if (isParseError(err)) throw new CliError(err.message, EXIT.INVALID);
        throw err;
      }
      const r = validateResources(items, { unknownFields: o.validate === 'warn' ? 'warn' : 'error' });
      for (const w of r.warnings ?? []) io.err(`warning: ${w.resource} ${w.path}: ${w.reason}`);
      if (!r.ok) throw new CliError(`${o.filename}: ${r.issues.length} problem(s)`, EXIT.INVALID, r.issues);
      io.out(`${o.filename}: ${r.value.length} resource(s) valid${r.warnings?.length ? ` (${r.warnings.length} warning(s))` : ''}`);
    });

  program
    .command('explain')
    .description('why traffic from SRC to DST is (or is not) NATed on a node')
    .argument('<src>', 'source IP (e.g. a pod address)')
    .argument('<dst>', 'destination IP')
    .option('--node <name>', 'node whose settings apply (node.<name> FelixConfiguration)')
    .option('--version <n>', 'a bundle version from history (default: latest)')
    .option('-o, --output <format>', 'text | json', 'text')
    .action(async (src: string, dst: string, o: { node?: string; version?: string; output: string }) => {
      const e = await client().request('POST', '/v1/explain', { src, dst, ...(o.node ? { node: o.node } : {}), ...(o.version ? { version: Number(o.version) } : {}) });
      io.out(o.output === 'json' ? JSON.stringify(e, null, 2) : formatExplanation(e));
    });

  const rollout = program.command('rollout').description('fleet rollout of NAT bundles');
  rollout
    .command('status')
    .description('desired version and every expected node\'s applied version; exit 0 only when every expected node applied it')
    .option('-w, --watch', 'keep watching until the rollout completes, a node fails, or --timeout')
    .option('--timeout <duration>', 'with --watch: give up after this long', '120s')
    .option('--interval <duration>', 'with --watch: poll interval', '1s')
    .option('--min-version <n>', 'only count a rollout of this bundle version or newer (the revision a write printed)')
    .option('--ignore-silent', 'count only nodes with a recent heartbeat (a silent node is otherwise a failure: its rules are unknown)')
    .option('--expect-nodes <n>', 'fail unless at least this many nodes are registered')
    .option('-o, --output <format>', 'text | json', 'text')
    .action(async (o: { watch?: boolean; timeout: string; interval: string; minVersion?: string; ignoreSilent?: boolean; expectNodes?: string; output: string }) => {
      const c = client();
      const min = o.minVersion === undefined ? 0 : Number(o.minVersion);
      if (!Number.isSafeInteger(min) || min < 0) throw new CliError(`--min-version must be a version number, got "${o.minVersion}"`, EXIT.INVALID);
      const expect = o.expectNodes === undefined ? 0 : Number(o.expectNodes);
      if (!Number.isSafeInteger(expect) || expect < 1 && o.expectNodes !== undefined) throw new CliError(`--expect-nodes must be a positive number, got "${o.expectNodes}"`, EXIT.INVALID);
      // The newest bundle may not carry a write yet (debounce, leader change): until the
      // desired version reaches --min-version, or the compiler evaluated at or past it and
      // the desired bundle enforces that (a write that changed nothing enforced), neither
      // success nor failure is final.
      const reached = (r: any): boolean => carriesRevision(r, min);
      const counted = (r: any): any[] => (r.nodes as any[]).filter((n) => !(o.ignoreSilent && n.status === 'silent'));
      const complete = (r: any): boolean => r.desired !== null && counted(r).length > 0 && counted(r).every((n) => n.status === 'in-sync') && r.summary.total >= expect;
      const finished = (r: any): boolean => reached(r) && (complete(r) || r.summary.failed > 0);
      const deadline = Date.now() + parseDuration(o.timeout);
      let r = await c.request('GET', '/v1/rollout');
      if (o.watch) {
        // A TTY gets a live table redrawn in place; a pipe or a CI log gets one line per change.
        let drawn = 0;
        let last = '';
        for (;;) {
          const view = reached(r) ? `${rolloutLine(r)}\n${rolloutTable(r)}` : `waiting for version ${min} (${progressText(r)})`;
          if (io.isTTY) {
            io.err(`${drawn > 0 ? `\x1b[${drawn}A\x1b[J` : ''}${view}`);
            drawn = view.split('\n').length;
          } else {
            const line = reached(r) ? `${rolloutLine(r)}${behindNames(r, o.ignoreSilent)}` : view;
            if (line !== last) io.err(line);
            last = line;
          }
          if (finished(r) || Date.now() >= deadline) break;
          await io.sleep(parseDuration(o.interval));
          r = await c.request('GET', '/v1/rollout');
        }
      }
      if (o.output === 'json') io.out(JSON.stringify(r, null, 2));
      else if (!(o.watch && io.isTTY)) io.out(`${rolloutLine(r)}\n${r.nodes.length ? rolloutTable(r) : ''}`.trimEnd());
      if (r.summary.total === 0) {
        io.err('rollout incomplete: no nodes are registered, so nothing enforces any version');
        code = EXIT.ROLLOUT_INCOMPLETE;
      } else if (r.summary.total < expect) {
        io.err(`rollout incomplete: ${r.summary.total} node(s) registered, --expect-nodes ${expect}`);
        code = EXIT.ROLLOUT_INCOMPLETE;
      } else if (!reached(r)) {
        io.err(`rollout incomplete: version ${min} not published yet, nor evaluated (${progressText(r)})`);
        code = EXIT.ROLLOUT_INCOMPLETE;
      } else if (!complete(r)) {
        io.err(`rollout incomplete:${behindNames(r, o.ignoreSilent) || ' no nodes counted'}`);
        code = EXIT.ROLLOUT_INCOMPLETE;
      }
    });

  // history, rollback and their kubectl aliases (rollout history, rollout undo).
  registerHistoryCommands(program, rollout, { io, client });

  registerVersionCommand(program, { client, out: io.out, err: io.err });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? EXIT.OK : EXIT.ERROR;
    }
    if (err instanceof CliError) {
      io.err(`error: ${err.message}`);
      if (err.issues.length) io.err(formatIssues(err.issues.map((i) => ({ ...i }))).replace(/^/gm, '  '));
      return err.exitCode;
    }
    io.err(`error: ${(err as Error).message}`);
    return EXIT.ERROR;
  }
  return code;
}
