/**
 * The rollout controller's inputs, turned from what etcd and the nodes bucket hold into
 * what the pure planner (@natfleet/rollout-planner) takes (DESIGN.md §10): the stored
 * RolloutPolicy (validated with the model, selectors compiled to functions, durations to
 * ms), the fleet (Calico Node resources), gate observations (node statuses) and operator
 * commands (which apply to this candidate, which are dropped).
 *
 * Pure: values in, values out. Never reads etcd or NATS, never logs, never reads a clock
 * (`now` is a parameter).
 */
import type { NodeStatus } from '@natfleet/bus';
import {
  formatIssues,
  parseDuration,
  parseSelector,
  selectorMatches,
  validateRolloutPolicy,
  type RolloutPolicy as ModelPolicy,
} from '@natfleet/model';
import {
  decodeCommandRecord,
  type FleetNode,
  type GateObservation,
  type OperatorCommand,
  type RolloutCommandRecord,
  type RolloutPolicy as PlannerPolicy,
  type VersionRef,
} from '@natfleet/rollout-planner';

/** A stored etcd entry, as much of it as the inputs need. */
export interface EntryLike {
  key: string;
  value: string;
  createRevision?: number;
}

/** The policy in force: none, a usable one, or a stored one that does not validate (hold the rollout). */
export type PolicyInput =
  | { type: 'none' }
  /** `perWaveGates`: waves whose own `gates` set other healthChecks than spec.gates (not enforced yet: spec's apply). */
  | { type: 'ok'; name: string; model: ModelPolicy; planner: PlannerPolicy; ignored: string[]; perWaveGates: string[] }
  | { type: 'invalid'; name: string; reason: string; ignored: string[] };

const nameOf = (key: string, prefix: string): string => key.slice(prefix.length);

/**
 * The policy in force among the stored RolloutPolicies under `keyPrefix`: the first by
 * name (the others are listed in `ignored`, for a warning). None stored → `none`. The first
 * one not decoding, not validating, or not convertible → `invalid` with the reason (the
 * controller holds the rollout: it never falls back to a later one, which would silently
 * pick a policy the operator did not mean).
 */
export function policyInput(entries: readonly EntryLike[], keyPrefix: string): PolicyInput {
  const sorted = [...entries].filter((e) => e.key.startsWith(keyPrefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const first = sorted[0];
  if (!first) return { type: 'none' };
  const name = nameOf(first.key, keyPrefix);
  const ignored = sorted.slice(1).map((e) => nameOf(e.key, keyPrefix));
  let raw: unknown;
  try {
    raw = JSON.parse(first.value);
  } catch {
    return { type: 'invalid', name, reason: 'stored value is not JSON', ignored };
  }
  const r = validateRolloutPolicy(raw, { unknownFields: 'warn' });
  if (!r.ok) return { type: 'invalid', name, reason: formatIssues(r.issues), ignored };
  try {
    // Per-wave webhooks are enforced; per-wave health checks are not (one health block per admission).
    const specHealth = JSON.stringify(r.value.spec.gates.healthChecks ?? null);
    const perWaveGates = r.value.spec.waves.filter((w) => w.gates !== undefined && JSON.stringify(w.gates.healthChecks ?? null) !== specHealth).map((w) => w.name);
    return { type: 'ok', name: r.value.metadata.name, model: r.value, planner: toPlannerPolicy(r.value), ignored, perWaveGates };
  } catch (err) {
    return { type: 'invalid', name, reason: (err as Error).message, ignored };
  }
}

/**
 * The planner's view of a validated model policy: each wave's selector compiled to a
 * predicate over node labels, bakes and the deadline in ms, `webhook` when spec.gates has
 * one (a wave with its own `gates` gets its own webhook flag). Throws Error when a duration
 * or selector does not parse (a validated policy never does). Per-wave healthChecks are not
 * used: the admission carries spec.gates.healthChecks for every admitted node.
 */
export function toPlannerPolicy(p: ModelPolicy): PlannerPolicy {
  const ms = (text: string, what: string): number => {
    const v = parseDuration(text);
    if (v === undefined) throw new Error(`${what}: not a duration: ${JSON.stringify(text)}`);
    return v;
  };
  return {
    waves: p.spec.waves.map((w, i) => {
      const ast = w.selector !== undefined ? parseSelector(w.selector) : undefined;
      return {
        name: w.name,
        bakeMs: ms(w.bake, `spec.waves[${i}].bake`),
        ...(ast ? { selector: (labels: Readonly<Record<string, string>>) => selectorMatches(ast, labels), selectorText: w.selector! } : {}),
        ...(w.percent !== undefined ? { percent: w.percent } : {}),
        // A wave's own gates replace spec.gates for it (the model's rule): webhook or none.
        ...(w.gates !== undefined ? { webhook: w.gates.webhook !== undefined } : {}),
      };
    }),
    onFailure: p.spec.onFailure,
    progressDeadlineMs: ms(p.spec.progressDeadline, 'spec.progressDeadline'),
    ...(p.spec.gates.webhook ? { webhook: true } : {}),
  };
}

/**
 * The webhook gate of wave `waveIndex` (its own `gates` when set, else spec.gates), with its
 * timeout in ms; undefined when it has none. Without `waveIndex`: spec.gates'.
 */
export function webhookOf(p: ModelPolicy, waveIndex?: number): { url: string; timeoutMs: number; headers: Record<string, string> } | undefined {
  const own = waveIndex === undefined ? undefined : p.spec.waves[waveIndex]?.gates;
  const w = (own ?? p.spec.gates).webhook;
  if (!w) return undefined;
  return { url: w.url, timeoutMs: parseDuration(w.timeout) ?? 10_000, headers: { ...(w.headers ?? {}) } };
}

/**
 * The fleet: every Calico Node resource under `nodesPrefix` (`<calico prefix>/nodes/`),
 * named by metadata.name (the key's last segment when absent) with metadata.labels
 * (non-string values dropped). Values that are not JSON objects are skipped. Sorted by name.
 */
export function fleetOf(entries: readonly EntryLike[], nodesPrefix: string): FleetNode[] {
  const out: FleetNode[] = [];
  for (const e of entries) {
    if (!e.key.startsWith(nodesPrefix)) continue;
    let v: unknown;
    try {
      v = JSON.parse(e.value);
    } catch {
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) continue;
    const meta = (v as Record<string, unknown>)['metadata'];
    const m = typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>) : {};
    const name = typeof m['name'] === 'string' && m['name'] !== '' ? m['name'] : nameOf(e.key, nodesPrefix);
    const labels: Record<string, string> = {};
    const rawLabels = m['labels'];
    if (typeof rawLabels === 'object' && rawLabels !== null) {
      for (const [k, val] of Object.entries(rawLabels)) if (typeof val === 'string') labels[k] = val;
    }
    out.push({ name, labels });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * What one node's status says about the candidate `version`'s gates:
 * - NACK: state failed with failedVersion == version (errorCode, error).
 * - ACK: appliedVersion == version with state applied — but not while its health report
 *   for `version` is `running`, nor while a health report exists only for another version
 *   (the node applied the candidate and has not reported its checks yet): both pending,
 *   expressed as "not ACKed" (appliedVersion null).
 * - health failed for `version` → healthFailed {code, output}. 'passed' / 'none' pass; a
 *   status without `health` at all (an enforcer predating health checks) passes.
 * `webhook` is added by the caller.
 */
export function observe(s: NodeStatus, version: number): GateObservation {
  const nack = s.state === 'failed' && s.failedVersion === version ? { code: s.errorCode || 'NACK', message: s.error } : undefined;
  const h = s.health;
  const healthFailed = h && h.version === version && h.result === 'failed' ? { code: h.code || 'HEALTH_CHECK_FAILED', output: h.output } : undefined;
  const applied = s.appliedVersion === version && s.state === 'applied';
  const healthPending = h !== undefined && (h.version !== version || h.result === 'running');
  return {
    appliedVersion: applied && !healthPending ? version : applied ? null : s.appliedVersion,
    ...(nack ? { nack } : {}),
    ...(healthFailed ? { healthFailed } : {}),
  };
}

/** How long an `immediate` command waits for a candidate at or past its revision before it is dropped. */
export const IMMEDIATE_TTL_MS = 10 * 60_000;

export interface CommandEntry {
  key: string;
  record: RolloutCommandRecord;
}

/** What to do with the pending operator commands for one step. */
export interface CommandSelection {
  /** In key order (keys are written in time order by the API). */
  apply: OperatorCommand[];
  /** Keys of the commands applied: delete once the state that applied them is written. */
  consumed: string[];
  /** Commands dropped (with why): delete them too. */
  dropped: { key: string; record: RolloutCommandRecord | undefined; why: string }[];
  /** True when an `immediate` command is applied. */
  immediate: boolean;
}

/**
 * Sorts the stored commands for `candidate`: pause/resume/abort/promote apply when they
 * name its version, otherwise they are dropped (the operator acted on another candidate).
 * `immediate` applies to the first candidate at or past its revision; one still waiting
 * for such a candidate stays (neither applied nor dropped) until IMMEDIATE_TTL_MS after
 * `at` (or after `firstSeen(key)` when `at` does not parse), then it is dropped. A value
 * that does not decode is dropped. Empty input → nothing to do.
 */
export function selectCommands(entries: readonly EntryLike[], candidate: VersionRef, now: number, firstSeen: (key: string) => number): CommandSelection {
  const sel: CommandSelection = { apply: [], consumed: [], dropped: [], immediate: false };
  for (const e of [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    const record = decodeCommandRecord(e.value);
    if (!record) {
      sel.dropped.push({ key: e.key, record: undefined, why: 'not a rollout command' });
      continue;
    }
    if (record.type === 'immediate') {
      if (candidate.version >= record.version) {
        sel.apply.push({ type: 'immediate' });
        sel.consumed.push(e.key);
        sel.immediate = true;
        continue;
      }
      const at = Date.parse(record.at);
      const since = Number.isFinite(at) ? at : firstSeen(e.key);
      if (now - since > IMMEDIATE_TTL_MS) sel.dropped.push({ key: e.key, record, why: `no candidate at or past revision ${record.version} within ${IMMEDIATE_TTL_MS / 60_000} minutes` });
      continue;
    }
    if (record.version !== candidate.version) {
      sel.dropped.push({ key: e.key, record, why: `for candidate v${record.version}, not the current v${candidate.version}` });
      continue;
    }
    sel.apply.push({ type: record.type });
    sel.consumed.push(e.key);
  }
  return sel;
}
