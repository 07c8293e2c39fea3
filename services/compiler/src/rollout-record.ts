/**
 * Building what the rollout controller persists from one planner step (pure): the
 * RolloutStateRecord (state, per-node gate results, wave specs, event log of the last 50),
 * the outcome records of candidates that ended, and one log line per planner event.
 *
 * Never: I/O, clocks (`now` is a parameter), decisions (the planner makes them).
 */
import type {
  Condition,
  FleetNode,
  GateFailure,
  NodeGateResult,
  Observations,
  RolloutEvent,
  RolloutEventRecord,
  RolloutOutcomeRecord,
  RolloutState,
  RolloutStateRecord,
} from '@natfleet/rollout-planner';
import type { PolicyInput } from './rollout-inputs.js';

/** How many event lines the state record keeps (newest last). */
export const EVENTS_KEPT = 50;

/** Per admitted node, where it stands against the candidate's gates. Nodes no longer in the fleet are left out. */
export function gateResults(state: RolloutState, obs: Observations, fleet: readonly FleetNode[], webhook: boolean | ((node: string) => boolean)): NodeGateResult[] {
  const hookFor = typeof webhook === 'function' ? webhook : () => webhook;
  const present = new Set(fleet.map((n) => n.name));
  const out: NodeGateResult[] = [];
  const version = state.candidate.version;
  state.admitted.forEach((w, wave) => {
    for (const node of w.nodes) {
      if (!present.has(node)) continue;
      const o = Object.hasOwn(obs, node) ? obs[node] : undefined;
      const hook = hookFor(node);
      if (!o) out.push({ node, wave, result: 'pending', gate: 'ack', detail: 'no status reported' });
      else if (o.nack) out.push({ node, wave, result: 'failed', gate: 'nack', code: o.nack.code, detail: o.nack.message });
      else if (o.healthFailed) out.push({ node, wave, result: 'failed', gate: 'health', code: o.healthFailed.code, detail: o.healthFailed.output });
      else if (hook && o.webhook === 'fail') out.push({ node, wave, result: 'failed', gate: 'webhook', code: 'WEBHOOK_FAILED', detail: o.webhookDetail ?? '' });
      else if (o.appliedVersion !== version) out.push({ node, wave, result: 'pending', gate: 'ack', detail: o.appliedVersion === null ? 'applied; health checks pending' : `runs v${o.appliedVersion ?? 0}` });
      else if (hook && o.webhook !== 'pass') out.push({ node, wave, result: 'pending', gate: 'webhook', detail: 'waiting for the webhook' });
      else out.push({ node, wave, result: 'passed' });
    }
  });
  return out;
}

/** One human line per planner event (also the event log's message). */
export function describeEvent(e: RolloutEvent): string {
  switch (e.type) {
    case 'Started':
      return `rollout of v${e.candidate.version} started`;
    case 'Superseded':
      return `v${e.previous.version} superseded by v${e.candidate.version}`;
    case 'WaveAdmitted':
      return `wave ${e.name} admitted: ${e.nodes.length} node(s)${e.nodes.length ? `: ${e.nodes.join(', ')}` : ''}`;
    case 'WavePassed':
      return `wave ${e.name} passed`;
    case 'Completed':
      return `v${e.candidate.version} completed: every node runs it`;
    case 'Failed':
      return `${e.reason}: ${e.action === 'halt' ? 'halted' : 'rolled back'}${e.failures.length ? `; ${e.failures.map((f) => `${f.node}: ${f.gate} ${f.code} (${f.detail})`).join('; ')}` : ''}${e.pending.length ? `; no progress from ${e.pending.join(', ')}` : ''}`;
    case 'Paused':
      return 'paused by an operator';
    case 'Resumed':
      return 'resumed by an operator';
    case 'Aborted':
      return 'aborted by an operator: every node runs stable';
    case 'Promoted':
      return e.full ? 'every remaining node admitted at once (immediate)' : 'promoted: remaining bakes skipped';
  }
}

/** Upserts a condition, keeping the planner's type order. */
export function withCondition(state: RolloutState, c: Condition): RolloutState {
  const order = ['Progressing', 'Paused', 'Completed', 'Aborted'];
  const conditions = [...state.conditions.filter((x) => x.type !== c.type), c].sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  return { ...state, conditions };
}

export interface RecordInput {
  cluster: string;
  leader: string;
  policy: PolicyInput;
  prev: RolloutStateRecord | undefined;
  state: RolloutState;
  gates: NodeGateResult[];
  /** Event lines added by this step (planner events and the controller's own). */
  events: RolloutEventRecord[];
  /** An `immediate` command was applied in this step. */
  immediate: boolean;
  /** A new candidate's rollout started in this step. */
  started: boolean;
  now: number;
}

/** The state record after a step. Wave specs and policy come from the policy in force (kept from `prev` while it is invalid). */
export function buildRecord(i: RecordInput): RolloutStateRecord {
  const { prev, policy } = i;
  const at = new Date(i.now).toISOString();
  const sameCandidate = prev !== undefined && !i.started;
  const base =
    policy.type === 'ok'
      ? {
          policy: policy.name,
          waves: policy.model.spec.waves.map((w, k) => ({ name: w.name, bakeMs: policy.planner.waves[k]!.bakeMs, ...(w.selector !== undefined ? { selector: w.selector } : {}), ...(w.percent !== undefined ? { percent: w.percent } : {}) })),
          progressDeadlineMs: policy.planner.progressDeadlineMs,
          onFailure: policy.planner.onFailure,
        }
      : policy.type === 'invalid'
        ? { policy: policy.name, waves: prev?.waves ?? [], progressDeadlineMs: prev?.progressDeadlineMs ?? 0, onFailure: prev?.onFailure ?? ('rollback' as const) }
        : { policy: '', waves: [], progressDeadlineMs: 0, onFailure: 'rollback' as const };
  return {
    cluster: i.cluster,
    ...base,
    state: i.state,
    gates: i.gates,
    immediate: (sameCandidate && prev.immediate) || i.immediate,
    startedAt: sameCandidate ? prev.startedAt : at,
    events: [...(prev?.events ?? []), ...i.events].slice(-EVENTS_KEPT),
    leader: i.leader,
    updatedAt: at,
  };
}

/** The parts of a record whose change must be persisted (not the leader or the clock). */
export const significant = (r: RolloutStateRecord | undefined): string =>
  r === undefined ? '' : JSON.stringify([r.policy, r.waves, r.progressDeadlineMs, r.onFailure, r.state, r.gates, r.immediate, r.startedAt, r.events.length, r.events.at(-1)]);

/**
 * Outcome records for the candidates that ended in this step: the superseded one (only
 * when it was still progressing or paused: an ended one has its outcome already), and the
 * current one when it completed, halted, rolled back or was aborted.
 */
export function outcomesOf(events: readonly RolloutEvent[], prev: RolloutStateRecord | undefined, next: RolloutStateRecord, now: number): RolloutOutcomeRecord[] {
  const out: RolloutOutcomeRecord[] = [];
  const endedAt = new Date(now).toISOString();
  const s = next.state;
  // Waves as admitted before a rollback or abort emptied them.
  const waves = (s.admitted.length > 0 ? s.admitted : prev && prev.state.candidate.version === s.candidate.version ? prev.state.admitted : []).map((w) => ({ name: w.name, nodes: [...w.nodes] }));
  const reasonOf = (type: 'Aborted' | 'Completed'): string => s.conditions.find((c) => c.type === type && c.status === 'True')?.message ?? '';
  const current = (outcome: RolloutOutcomeRecord['outcome'], reason: string, failures: GateFailure[]): RolloutOutcomeRecord => ({
    version: s.candidate.version,
    digest: s.candidate.digest,
    outcome,
    policy: next.policy,
    immediate: next.immediate,
    reason,
    failures,
    waves,
    stable: s.stable,
    startedAt: next.startedAt,
    endedAt,
  });
  for (const e of events) {
    if (e.type === 'Superseded' && prev && (prev.state.phase === 'progressing' || prev.state.phase === 'paused')) {
      out.push({
        version: prev.state.candidate.version,
        digest: prev.state.candidate.digest,
        outcome: 'superseded',
        policy: prev.policy,
        immediate: prev.immediate,
        reason: `superseded by v${e.candidate.version} before it completed`,
        failures: [],
        waves: prev.state.admitted.map((w) => ({ name: w.name, nodes: [...w.nodes] })),
        stable: prev.state.stable,
        startedAt: prev.startedAt,
        endedAt,
      });
    } else if (e.type === 'Completed') out.push(current('completed', reasonOf('Completed'), []));
    else if (e.type === 'Failed') out.push(current(e.action === 'halt' ? 'halted' : 'rolled-back', reasonOf('Aborted'), [...e.failures]));
    else if (e.type === 'Aborted') out.push(current('aborted', reasonOf('Aborted'), []));
  }
  return out;
}
