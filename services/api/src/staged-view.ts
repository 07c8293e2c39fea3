/**
 * The `staged` section of GET /v1/rollout: the rollout controller's state record
 * (packages/rollout-planner records.ts, written by the leader compiler) turned into what an
 * operator reads — one row per policy wave with its state, bake left and per-node gate
 * results — and the verdict it implies for `complete` / `aborted`. Pure: the record and
 * `now` in, plain JSON out. Must never read etcd or a clock (rollout-control-service.ts
 * reads the record) and never decide anything the controller decides: it only shows what
 * the record says.
 */
import type { Condition, NodeGateResult, Phase, RolloutEventRecord, RolloutOutcomeRecord, RolloutStateRecord, VersionRef } from '@natfleet/rollout-planner';

export type WaveState = 'pending' | 'admitted' | 'baking' | 'passed' | 'failed';

export interface StagedWaveNode {
  node: string;
  /** The node's gate result at the controller's last step; null when the record has none for it. */
  gate: Omit<NodeGateResult, 'node' | 'wave'> | null;
}

export interface StagedWave {
  index: number;
  /** The policy wave's name (`immediate` when `apply --immediate` admitted it). */
  name: string;
  selector: string | null;
  percent: number | null;
  bakeMs: number;
  state: WaveState;
  /** When the wave was admitted (ISO 8601); null while pending or when the record lost it (rolled back / aborted). */
  admittedAt: string | null;
  /**
   * While the current wave is admitted or baking: ms until its bake ends (the bake runs from
   * the wave's admission, or from the last resume). Paused: the whole bake (resume restarts
   * it). 0 when promoted. null for every other wave.
   */
  bakeRemainingMs: number | null;
  nodes: StagedWaveNode[];
}

export interface StagedRollout {
  /** The RolloutPolicy in force; '' = none (every node admitted at once). */
  policy: string;
  phase: Phase;
  candidate: VersionRef;
  stable: VersionRef | null;
  conditions: readonly Condition[];
  paused: boolean;
  promoted: boolean;
  immediate: boolean;
  startedAt: string;
  /** When the controller last wrote the record. */
  updatedAt: string;
  onFailure: 'halt' | 'rollback';
  waves: StagedWave[];
  /** The newest events, oldest first (at most STAGED_EVENTS). */
  events: RolloutEventRecord[];
}

/** How many of the record's events GET /v1/rollout shows. */
export const STAGED_EVENTS = 10;

/** Phases after which the fleet will not converge on the candidate by itself. */
export const ABORTED_PHASES: ReadonlySet<Phase> = new Set(['halted', 'rolled-back', 'aborted']);

const iso = (ms: number | null | undefined): string | null => (typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/**
 * The staged section for `record` at time `now` (ms). Waves come from the record's policy
 * waves; a policy of '' has none. A wave is pending before it was admitted; the current one
 * is failed when one of its nodes failed a gate or the rollout halted / rolled back on it,
 * admitted while gates are pending, baking while its bake runs, passed otherwise; earlier
 * ones passed (failed when one of their nodes failed). A halted, rolled-back or aborted
 * rollout's current wave that did not fail stays `admitted` with no bake (it was stopped).
 * Nodes come from the admitted wave, or — when a rollback or abort emptied the admitted
 * list — from the candidate's outcome record when given (its waves as admitted, its
 * failures; nodes of earlier waves not listed as failing had passed), else from the gate
 * results recorded for that wave. Gate results are matched by node name (the compiler
 * records `wave` as the position in the admitted list, which differs from the policy
 * index after an `immediate` wave).
 */
export function stagedView(record: RolloutStateRecord, now: number, outcome?: RolloutOutcomeRecord): StagedRollout {
  const s = record.state;
  const last = record.waves.length - 1;
  // An admitted `immediate` wave may be recorded as index -1 (types.ts) or as the last wave
  // (planner.ts); s.waveIndex is the last wave then, and -1 only before any admission.
  const waveIndexOf = (i: number): number => (i < 0 ? last : i);
  const gates = new Map<string, NodeGateResult>();
  for (const g of Array.isArray(record.gates) ? record.gates : []) if (g && typeof g.node === 'string') gates.set(g.node, g);
  const admitted = new Map((Array.isArray(s.admitted) ? s.admitted : []).map((w) => [waveIndexOf(w.index), w]));
  const failedPhase = s.phase === 'halted' || s.phase === 'rolled-back';
  // A rollback or abort empties `admitted` (and so the controller's gate results): the
  // outcome record of the same candidate still has the waves and the failures.
  const ended = admitted.size === 0 && outcome !== undefined && outcome.version === s.candidate.version ? outcome : undefined;
  const endedWaves = new Map<number, string[]>();
  for (const w of ended && Array.isArray(ended.waves) ? ended.waves : []) {
    const i = w.name === 'immediate' && !record.waves.some((x) => x.name === 'immediate') ? last : record.waves.findIndex((x) => x.name === w.name);
    if (i >= 0 && Array.isArray(w.nodes)) endedWaves.set(i, [...w.nodes]);
  }
  const endedFailures = new Map((ended && Array.isArray(ended.failures) ? ended.failures : []).map((f) => [f.node, f]));
  const nodesOf = (index: number): StagedWaveNode[] => {
    const adm = admitted.get(index);
    const fromOutcome = endedWaves.get(index);
    if (!adm && fromOutcome) {
      return fromOutcome.map((node) => {
        const f = endedFailures.get(node);
        if (f) return { node, gate: { result: 'failed' as const, gate: f.gate, code: f.code, detail: f.detail } };
        return { node, gate: index < s.waveIndex ? { result: 'passed' as const } : null };
      });
    }
    const names = adm ? [...adm.nodes] : [...gates.values()].filter((g) => waveIndexOf(g.wave) === index).map((g) => g.node).sort();
    return names.map((node) => {
      const g = gates.get(node);
      return { node, gate: g ? (({ node: _n, wave: _w, ...rest }) => rest)(g) : null };
    });
  };
  const failedNodes = (nodes: StagedWaveNode[]): boolean => nodes.some((n) => n.gate?.result === 'failed');
  const perWave = record.waves.map((_w, i) => nodesOf(i));
  // A deadline failure names no node: it is the current wave's.
  const failureElsewhere = perWave.some((n, i) => i !== s.waveIndex && failedNodes(n));
  const waves = record.waves.map((spec, index): StagedWave => {
    const adm = admitted.get(index);
    const nodes = perWave[index]!;
    let state: WaveState;
    let bakeRemainingMs: number | null = null;
    if (s.phase === 'completed') state = 'passed';
    else if (index > s.waveIndex) state = 'pending';
    else if (index < s.waveIndex) state = failedNodes(nodes) ? 'failed' : 'passed';
    else if (failedNodes(nodes) || (failedPhase && !failureElsewhere)) state = 'failed';
    else if (s.phase === 'aborted' || failedPhase || nodes.some((n) => n.gate?.result !== 'passed')) state = 'admitted';
    else state = 'baking';
    if ((state === 'admitted' || state === 'baking') && s.phase !== 'aborted' && !failedPhase) {
      if (s.promoted || nodes.length === 0) bakeRemainingMs = 0;
      else if (s.phase === 'paused') bakeRemainingMs = spec.bakeMs;
      else bakeRemainingMs = Math.max(0, (s.waveStartedAt ?? adm?.admittedAt ?? now) + spec.bakeMs - now);
      // Gates passed and the bake is over: the controller passes the wave at its next step.
      if (state === 'baking' && bakeRemainingMs === 0) state = 'passed';
    }
    return {
      index,
      name: adm?.name ?? spec.name,
      selector: spec.selector ?? null,
      percent: spec.percent ?? null,
      bakeMs: spec.bakeMs,
      state,
      admittedAt: iso(adm?.admittedAt),
      bakeRemainingMs,
      nodes,
    };
  });
  return {
    policy: record.policy,
    phase: s.phase,
    candidate: s.candidate,
    stable: s.stable,
    conditions: s.conditions ?? [],
    paused: s.phase === 'paused',
    promoted: s.promoted === true,
    immediate: record.immediate === true,
    startedAt: record.startedAt,
    updatedAt: record.updatedAt,
    onFailure: record.onFailure,
    waves,
    events: (Array.isArray(record.events) ? record.events : []).slice(-STAGED_EVENTS),
  };
}

/**
 * Why the fleet will not converge on `staged`'s candidate by itself, or undefined when it
 * will (or may): the Aborted condition's message, else the phase.
 */
export function abortReason(staged: StagedRollout): string | undefined {
  if (!ABORTED_PHASES.has(staged.phase)) return undefined;
  const c = staged.conditions.find((x) => x.type === 'Aborted' && x.status === 'True');
  return c ? `${c.reason}: ${c.message}` : `rollout of v${staged.candidate.version} ${staged.phase}`;
}

/** What GET /v1/rollout adds to the fleet view (rollout-service.ts `Rollout`). */
export interface StagedVerdict {
  staged: StagedRollout | null;
  /** True while the rollout of the desired version was halted, rolled back or aborted: the fleet will not converge on it by itself. */
  aborted: boolean;
  /** Why (`aborted` only). */
  abortedReason?: string;
  complete: boolean;
}

/**
 * Merges the staged section into a fleet view. `complete` stays true only when the fleet
 * view says every expected node applied the desired version AND no halted / rolled-back /
 * aborted rollout concerns that version AND a staged rollout of that version is not still
 * progressing or paused: once the last wave is admitted every node runs the candidate,
 * but its gates (health checks, webhook, bake) may still fail it and roll every node
 * back, so it is complete only when the controller completed it. A record about an older
 * candidate than the desired version (the controller has not stepped since the newest
 * bundle) never aborts the newer one: the newer candidate supersedes it and starts from
 * the first wave.
 */
export function stagedVerdict(fleet: { desired: { version: number } | null; complete: boolean }, record: RolloutStateRecord | null, now: number, outcome?: RolloutOutcomeRecord): StagedVerdict {
  if (record === null) return { staged: null, aborted: false, complete: fleet.complete };
  const staged = stagedView(record, now, outcome);
  const reason = abortReason(staged);
  const concerns = fleet.desired === null || staged.candidate.version >= fleet.desired.version;
  if (reason !== undefined && concerns) return { staged, aborted: true, abortedReason: reason, complete: false };
  const gatesPending = concerns && staged.policy !== '' && (staged.phase === 'progressing' || staged.phase === 'paused');
  return { staged, aborted: false, complete: fleet.complete && !gatesPending };
}
