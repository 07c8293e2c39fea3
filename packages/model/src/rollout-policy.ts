// RolloutPolicy (apiVersion natfleet.io/v1): natfleet's own kind describing a staged
// rollout — ordered waves, the gates between them and what a failed gate does
// (DESIGN.md §10). The leader compiler's rollout controller acts on it (services/compiler
// rollout-controller.ts, through the pure @natfleet/rollout-planner).
//
// Owns: the RolloutPolicy types, its defaults, its validation (every problem at once,
// with its path; unknown fields via rollout-policy-fields.ts), Kubernetes-style duration
// strings, and its etcd key layout under natfleet's own prefix — never Calico's, so the
// compiler (which watches only Calico's prefix) never sees it. Never: I/O.
import { API_VERSION, DEFAULT_KEY_PREFIX, type ObjectMeta } from './resources.js';
import { IssueList, type JsonObject, type ResourceOrigin, type ValidationResult, failureOf, isObject, readInteger, readObject, readString, resourceLabel, resultOf, typeName } from './field-checks.js';
import { dns1123SubdomainProblem } from './name-validation.js';
import { rolloutPolicyFieldProblems } from './rollout-policy-fields.js';
import { selectorUsesGlobal, trySelector } from './selector.js';

export const NATFLEET_API_VERSION = 'natfleet.io/v1';
export const ROLLOUT_POLICY_KIND = 'RolloutPolicy';
export const ON_FAILURE_ACTIONS = ['halt', 'rollback'] as const;
export type OnFailureAction = (typeof ON_FAILURE_ACTIONS)[number];

/**
 * Root of natfleet's own resources in etcd: a sibling of Calico's DEFAULT_KEY_PREFIX, not
 * under it. The compiler reads only `<Calico prefix>/`, so nothing here is compiled.
 */
export const DEFAULT_NATFLEET_KEY_PREFIX = '/natfleet/v1';

export const ROLLOUT_POLICY_DEFAULTS = Object.freeze({ onFailure: 'rollback' as OnFailureAction, progressDeadline: '10m' });

export interface RolloutHealthCommand {
  name: string;
  /** argv, run without a shell. */
  command: string[];
  timeout: string;
}

export interface RolloutGates {
  /** Always on: a node that has not acknowledged the version has not passed. */
  ack: true;
  /** Always on: any NACK fails the wave. */
  noNack: true;
  healthChecks?: {
    commands?: RolloutHealthCommand[];
    conntrack?: { insertFailedDelta?: number; dropDelta?: number };
  };
  webhook?: { url: string; timeout: string; headers?: Record<string, string> };
}

export interface RolloutWave {
  name: string;
  /** Calico selector over node labels (global() refused). */
  selector?: string;
  /** 1–100, of the nodes not yet admitted by earlier waves. */
  percent?: number;
  bake: string;
  /** This wave's gates; absent = spec.gates. */
  gates?: RolloutGates;
}

export interface RolloutPolicySpec {
  waves: RolloutWave[];
  gates: RolloutGates;
  onFailure: OnFailureAction;
  /**
   * How long the current wave may WAIT FOR ITS GATES (ACK, health, webhook) after it was
   * admitted (or resumed) before the rollout fails. The clock stops once the gates pass:
   * the bake that follows never counts against it (planner semantics,
   * @natfleet/rollout-planner). Validation still asks for it to be longer than every
   * bake, a sanity bound only (a deadline shorter than a bake is legal for the planner).
   */
  progressDeadline: string;
}

export interface RolloutPolicy {
  apiVersion: typeof NATFLEET_API_VERSION;
  kind: typeof ROLLOUT_POLICY_KIND;
  metadata: ObjectMeta;
  spec: RolloutPolicySpec;
}

/** `<prefix>/rolloutpolicies/` — the key prefix of every stored RolloutPolicy. */
export function rolloutPolicyKeyPrefix(prefix: string = DEFAULT_NATFLEET_KEY_PREFIX): string {
  return `${prefix}/rolloutpolicies/`;
}

/** The etcd key of RolloutPolicy `name`. */
export function rolloutPolicyKey(name: string, prefix: string = DEFAULT_NATFLEET_KEY_PREFIX): string {
  return `${rolloutPolicyKeyPrefix(prefix)}${name}`;
}

/** True when natfleet's prefix lies under Calico's (then the compiler would see RolloutPolicies): a config error. */
export function natfleetPrefixOverlapsCalico(natfleetPrefix: string, calicoPrefix: string = DEFAULT_KEY_PREFIX): boolean {
  return `${natfleetPrefix}/`.startsWith(`${calicoPrefix}/`) || `${calicoPrefix}/`.startsWith(`${natfleetPrefix}/`);
}

const DURATION = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|ms|s|m|h)/;
const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A Go/Kubernetes duration (`30s`, `5m`, `1h30m`, `1.5h`, `500ms`) in milliseconds, or
 * `undefined` when `text` is not one. A bare number (`30`) is refused, as Go's
 * time.ParseDuration does except for "0"; "" is refused; negative durations are refused.
 */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  let rest = text;
  let ms = 0;
  if (rest === '') return undefined;
  while (rest !== '') {
    const m = DURATION.exec(rest);
    if (m === null) return undefined;
    const unit = /(ns|us|µs|ms|s|m|h)$/.exec(m[0])![1]!;
    ms += Number(m[0].slice(0, m[0].length - unit.length)) * UNIT_MS[unit]!;
    rest = rest.slice(m[0].length);
  }
  return Number.isFinite(ms) ? ms : undefined;
}

/** Reads an optional duration string at `path`; records an issue and returns undefined when it is not one or is below `minMs`. */
function readDuration(issues: IssueList, o: JsonObject, key: string, path: string, minMs: number): { text: string; ms: number } | undefined {
  const text = readString(issues, o, key, path);
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) {
    issues.add(path, `must be a duration such as 30s, 5m or 1h (got ${JSON.stringify(text)})`, text);
    return undefined;
  }
  if (ms < minMs) {
    issues.add(path, minMs > 0 ? `must be longer than 0 (got ${JSON.stringify(text)})` : `must not be negative`, text);
    return undefined;
  }
  return { text, ms };
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function readGates(issues: IssueList, parent: JsonObject, path: string): RolloutGates | undefined {
  const g = readObject(issues, parent, 'gates', path);
  if (g === undefined) return undefined;
  for (const f of ['ack', 'noNack'] as const) {
    const v = g[f];
    if (v !== undefined && v !== null && v !== true) issues.add(`${path}.${f}`, `is always on in this version: must be true or absent (got ${JSON.stringify(v)})`, v);
  }
  const out: RolloutGates = { ack: true, noNack: true };
  const hc = readObject(issues, g, 'healthChecks', `${path}.healthChecks`);
  if (hc !== undefined) {
    const health: NonNullable<RolloutGates['healthChecks']> = {};
    const cmds = hc['commands'];
    const cp = `${path}.healthChecks.commands`;
    if (cmds !== undefined && cmds !== null) {
      if (!Array.isArray(cmds)) {
        issues.add(cp, `must be an array (got ${typeName(cmds)})`, cmds);
      } else {
        const names = new Set<string>();
        health.commands = [];
        cmds.forEach((c: unknown, i) => {
          const p = `${cp}[${i}]`;
          if (!isObject(c)) {
            issues.add(p, `must be an object (got ${typeName(c)})`, c);
            return;
          }
          const name = readString(issues, c, 'name', `${p}.name`);
          if (name === undefined) {
            if (!issues.has(`${p}.name`)) issues.add(`${p}.name`, 'required');
          } else if (names.has(name)) {
            issues.add(`${p}.name`, `duplicate health check name ${JSON.stringify(name)}`, name);
          } else {
            names.add(name);
          }
          const argv = c['command'];
          if (argv === undefined || argv === null) issues.add(`${p}.command`, 'required: the argv to run, e.g. ["/usr/bin/check", "--quick"]');
          else if (!Array.isArray(argv) || argv.length === 0) issues.add(`${p}.command`, `must be a non-empty array of strings (got ${typeName(argv)})`, argv);
          else argv.forEach((a: unknown, j) => {
            if (typeof a !== 'string' || (j === 0 && a === '')) issues.add(`${p}.command[${j}]`, j === 0 ? 'must be a non-empty string (the program)' : `must be a string (got ${typeName(a)})`, a);
          });
          const timeout = readDuration(issues, c, 'timeout', `${p}.timeout`, 1);
          if (timeout === undefined && !issues.has(`${p}.timeout`)) issues.add(`${p}.timeout`, 'required: a duration such as 10s');
          if (name !== undefined && timeout !== undefined && Array.isArray(argv)) health.commands!.push({ name, command: argv as string[], timeout: timeout.text });
        });
      }
    }
    const ct = readObject(issues, hc, 'conntrack', `${path}.healthChecks.conntrack`);
    if (ct !== undefined) {
      const conntrack: { insertFailedDelta?: number; dropDelta?: number } = {};
      for (const f of ['insertFailedDelta', 'dropDelta'] as const) {
        const fp = `${path}.healthChecks.conntrack.${f}`;
        const v = readInteger(issues, ct, f, fp);
        if (v === undefined) continue;
        if (v < 0) issues.add(fp, `must be ≥ 0 (got ${v})`, v);
        else conntrack[f] = v;
      }
      health.conntrack = conntrack;
    }
    out.healthChecks = health;
  }
  const wh = readObject(issues, g, 'webhook', `${path}.webhook`);
  if (wh !== undefined) {
    const wp = `${path}.webhook`;
    const url = readString(issues, wh, 'url', `${wp}.url`);
    if (url === undefined) {
      if (!issues.has(`${wp}.url`)) issues.add(`${wp}.url`, 'required: an http or https URL');
    } else {
      let ok = false;
      try {
        const u = new URL(url);
        ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
      } catch {
        ok = false;
      }
      if (!ok) issues.add(`${wp}.url`, `must be an http or https URL (got ${JSON.stringify(url)})`, url);
    }
    const timeout = readDuration(issues, wh, 'timeout', `${wp}.timeout`, 1);
    if (timeout === undefined && !issues.has(`${wp}.timeout`)) issues.add(`${wp}.timeout`, 'required: a duration such as 10s');
    const headers = readObject(issues, wh, 'headers', `${wp}.headers`);
    const hs: Record<string, string> = {};
    if (headers !== undefined) {
      for (const [k, v] of Object.entries(headers)) {
        const hp = `${wp}.headers[${JSON.stringify(k)}]`;
        if (!HEADER_NAME.test(k)) issues.add(hp, 'invalid HTTP header name', k);
        if (typeof v !== 'string') issues.add(hp, `must be a string (got ${typeName(v)})`, v);
        else hs[k] = v;
      }
    }
    if (url !== undefined && timeout !== undefined) out.webhook = { url, timeout: timeout.text, ...(headers !== undefined ? { headers: hs } : {}) };
  }
  return out;
}

/**
 * Validates and defaults a RolloutPolicy: apiVersion natfleet.io/v1, a DNS-1123
 * `metadata.name`, a non-empty ordered `spec.waves` (each with a selector or a percent,
 * a bake duration, unique names — defaulted to `wave-<n>`), gates (ack and noNack always
 * on), `onFailure` (default rollback) and `progressDeadline` (default 10m: how long a
 * wave may wait for its gates; the bake is not counted; still required to be longer than
 * every bake as a sanity bound). Unknown fields are errors, each with its path and the nearest known name,
 * unless `unknownFields: 'warn'`. Every problem is reported at once; never throws.
 */
export function validateRolloutPolicy(raw: unknown, options: ResourceOrigin = {}): ValidationResult<RolloutPolicy> {
  const issues = new IssueList(resourceLabel(ROLLOUT_POLICY_KIND, raw, options));
  if (!isObject(raw)) {
    issues.add('', `resource must be an object (got ${typeName(raw)})`);
    return failureOf(issues);
  }
  for (const p of rolloutPolicyFieldProblems(raw)) {
    if (options.unknownFields === 'warn' && p.refused !== true) issues.warn(p.path, p.reason, p.value);
    else issues.add(p.path, p.reason, p.value);
  }
  const apiVersion = raw['apiVersion'];
  if (apiVersion === undefined || apiVersion === null || apiVersion === '') issues.add('apiVersion', `required; must be ${NATFLEET_API_VERSION}`);
  else if (apiVersion !== NATFLEET_API_VERSION) {
    const hint = apiVersion === API_VERSION ? ` (RolloutPolicy is natfleet's own kind, not a Calico one)` : '';
    issues.add('apiVersion', `must be ${NATFLEET_API_VERSION} (got ${JSON.stringify(apiVersion)})${hint}`, apiVersion);
  }
  const kind = raw['kind'];
  if (kind === undefined || kind === null || kind === '') issues.add('kind', `required; must be ${ROLLOUT_POLICY_KIND}`);
  else if (kind !== ROLLOUT_POLICY_KIND) issues.add('kind', `must be ${ROLLOUT_POLICY_KIND} (got ${JSON.stringify(kind)})`, kind);

  const meta = readObject(issues, raw, 'metadata', 'metadata') ?? {};
  const n = meta['name'];
  if (n === undefined || n === null || n === '') issues.add('metadata.name', 'required');
  else if (typeof n !== 'string') issues.add('metadata.name', `must be a string (got ${typeName(n)})`, n);
  else {
    const problem = dns1123SubdomainProblem(n);
    if (problem !== undefined) issues.add('metadata.name', problem, n);
  }
  for (const f of ['resourceVersion', 'uid', 'creationTimestamp']) {
    const v = meta[f];
    if (v !== undefined && v !== null && typeof v !== 'string') issues.add(`metadata.${f}`, `must be a string (got ${typeName(v)})`, v);
  }
  for (const f of ['labels', 'annotations'] as const) {
    const m = readObject(issues, meta, f, `metadata.${f}`);
    if (m !== undefined) for (const [k, v] of Object.entries(m)) if (typeof v !== 'string') issues.add(`metadata.${f}[${JSON.stringify(k)}]`, `must be a string (got ${typeName(v)})`, v);
  }

  const spec = readObject(issues, raw, 'spec', 'spec');
  if (spec === undefined) {
    if (!issues.has('spec')) issues.add('spec', 'required: at least spec.waves');
    return failureOf(issues);
  }
  const gates = readGates(issues, spec, 'spec.gates') ?? { ack: true as const, noNack: true as const };
  const onFailure = readString(issues, spec, 'onFailure', 'spec.onFailure');
  if (onFailure !== undefined && !(ON_FAILURE_ACTIONS as readonly string[]).includes(onFailure)) {
    issues.add('spec.onFailure', `must be one of ${ON_FAILURE_ACTIONS.join(', ')} (got ${JSON.stringify(onFailure)})`, onFailure);
  }
  const deadline = readDuration(issues, spec, 'progressDeadline', 'spec.progressDeadline', 1) ?? (issues.has('spec.progressDeadline') ? undefined : { text: ROLLOUT_POLICY_DEFAULTS.progressDeadline, ms: parseDuration(ROLLOUT_POLICY_DEFAULTS.progressDeadline)! });

  const waves: RolloutWave[] = [];
  const rawWaves = spec['waves'];
  if (rawWaves === undefined || rawWaves === null || (Array.isArray(rawWaves) && rawWaves.length === 0)) {
    issues.add('spec.waves', 'required: at least one wave');
  } else if (!Array.isArray(rawWaves)) {
    issues.add('spec.waves', `must be an array (got ${typeName(rawWaves)})`, rawWaves);
  } else {
    const names = new Map<string, number>();
    rawWaves.forEach((w: unknown, i) => {
      const p = `spec.waves[${i}]`;
      if (!isObject(w)) {
        issues.add(p, `must be an object (got ${typeName(w)})`, w);
        return;
      }
      const given = readString(issues, w, 'name', `${p}.name`);
      const problem = given === undefined ? undefined : dns1123SubdomainProblem(given);
      if (problem !== undefined) issues.add(`${p}.name`, problem, given);
      const name = given ?? `wave-${i + 1}`;
      const prev = names.get(name);
      if (prev !== undefined) issues.add(`${p}.name`, `duplicate wave name ${JSON.stringify(name)} (also spec.waves[${prev}]${given === undefined ? '; unnamed waves are called wave-<n>' : ''})`, name);
      else names.set(name, i);

      const selector = readString(issues, w, 'selector', `${p}.selector`);
      if (selector !== undefined) {
        const r = trySelector(selector);
        if (!r.ok) issues.add(`${p}.selector`, `invalid selector: ${r.error.message}`, selector);
        else if (selectorUsesGlobal(r.ast) || selector.includes('global(')) issues.add(`${p}.selector`, 'global() is not allowed in a wave selector (it selects nodes by their labels)', selector);
      }
      const percent = readInteger(issues, w, 'percent', `${p}.percent`);
      if (percent !== undefined && (percent < 1 || percent > 100)) issues.add(`${p}.percent`, `must be between 1 and 100 (got ${percent})`, percent);
      if (selector === undefined && percent === undefined && !issues.has(`${p}.selector`) && !issues.has(`${p}.percent`)) {
        issues.add(p, 'needs a selector, a percent, or both');
      }
      const bake = readDuration(issues, w, 'bake', `${p}.bake`, 0);
      if (bake === undefined && !issues.has(`${p}.bake`)) issues.add(`${p}.bake`, 'required: how long the wave must stay healthy, e.g. 5m');
      if (bake !== undefined && deadline !== undefined && bake.ms >= deadline.ms) {
        issues.add(`${p}.bake`, `must be shorter than spec.progressDeadline (${deadline.text})`, bake.text);
      }
      const waveGates = readGates(issues, w, `${p}.gates`);
      waves.push({ name, ...(selector !== undefined ? { selector } : {}), ...(percent !== undefined ? { percent } : {}), bake: bake?.text ?? '', ...(waveGates ? { gates: waveGates } : {}) });
    });
  }
  return resultOf(issues, () => ({
    apiVersion: NATFLEET_API_VERSION,
    kind: ROLLOUT_POLICY_KIND,
    metadata: { ...(meta as ObjectMeta), name: n as string },
    spec: {
      waves,
      gates,
      onFailure: (onFailure as OnFailureAction | undefined) ?? ROLLOUT_POLICY_DEFAULTS.onFailure,
      progressDeadline: deadline!.text,
    },
  }));
}
