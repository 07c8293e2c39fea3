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
import { registerRolloutCommands } from './rollout-commands.js';
import { registerVersionCommand } from './version-command.js';
import { formatExplanation, formatNatDiff, formatResources, formatWriteResult, type OutputFormat } from './format.js';
import { registerHistoryCommands } from './history-commands.js';
import { getRolloutPolicies, isRolloutPolicyFile, isRolloutPolicyType, writeRolloutPolicyFile } from './rollout-policy-commands.js';

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
      .option('--immediate', 'the change skips the staged-rollout waves: the bundle carrying it goes to every node at once (gates still apply)')
      .addOption(validateOption())
      .action(async (o: { filename: string; dryRun?: boolean; immediate?: boolean; validate: string }) => {
        const input = await readInput(o.filename, io);
        if (o.immediate && isRolloutPolicyFile(input)) throw new CliError('--immediate applies to pool and NAT config changes (they make bundles); a RolloutPolicy write makes none', EXIT.INVALID);
        const policies = await writeRolloutPolicyFile(client(), input, mode, o); // RolloutPolicy files: /v1/rolloutpolicies
        if (policies !== undefined) return void io.out(policies);
        const r = await client().request('POST', `/v1/resources?mode=${mode}${o.dryRun ? '&dryRun=true' : ''}${o.immediate ? '&immediate=true' : ''}${validateQuery(o.validate)}`, { text: input.text, type: input.type });
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

  const rollout = program.command('rollout').description('fleet rollout of NAT bundles: status, staged-rollout controls (pause, resume, abort, promote), history, undo');
  registerRolloutCommands(rollout, { io, client, setCode: (c) => (code = c), parseDuration });

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
