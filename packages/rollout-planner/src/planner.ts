/**
 * The staged-rollout step planner (DESIGN.md §10), level-triggered like Argo Rollouts:
 * the next state is a function of (policy, fleet, candidate, persisted state, gate
 * observations, operator commands, now). A restarted controller that feeds back the last
 * persisted state makes the same decisions. Owns: wave admission, gates, bake, progress
 * deadline, halt/rollback, supersession, operator commands. Must never do I/O, read a
 * clock or use randomness; publishing the admission is the caller's job.
 */
import { RolloutPolicyError } from './errors.js';
import { describeFailures, evaluateGates } from './gates.js';
import { pickWave, remainingNodes } from './membership.js';
import type {
  Admission,
  AdmittedWave,
  Condition,
  ConditionType,
  GateFailure,
  OperatorCommand,
  PlanInput,
  PlanResult,
  RolloutEvent,
  RolloutPolicy,
  RolloutState,
  VersionRef,
} from './types.js';

type Draft = { -readonly [K in keyof RolloutState]: RolloutState[K] };

const CONDITION_ORDER: readonly ConditionType[] = ['Progressing', 'Paused', 'Completed', 'Aborted'];

/**
 * Throws RolloutPolicyError naming the first bad field: no waves, a bake or deadline that is
 * not a finite non-negative (deadline: positive) number, a percent outside [0, 100], a wave
 * with neither selector nor percent, an unknown onFailure. The deadline only runs while a
 * wave waits for its gates, so it need not exceed the bakes.
 */
export function validatePolicy(policy: RolloutPolicy): void {
  if (policy.waves.length === 0) throw new RolloutPolicyError('waves', 'at least one wave is required');
  policy.waves.forEach((w, i) => {
    if (!w.name) throw new RolloutPolicyError(`waves[${i}].name`, 'must not be empty');
    if (!Number.isFinite(w.bakeMs) || w.bakeMs < 0) throw new RolloutPolicyError(`waves[${i}].bakeMs`, 'must be a finite number >= 0');
    if (w.selector === undefined && w.percent === undefined) throw new RolloutPolicyError(`waves[${i}]`, 'needs a selector, a percent, or both');
    if (w.selector !== undefined && typeof w.selector !== 'function') throw new RolloutPolicyError(`waves[${i}].selector`, 'must be a function of labels');
    if (w.percent !== undefined && (!Number.isFinite(w.percent) || w.percent < 0 || w.percent > 100)) {
      throw new RolloutPolicyError(`waves[${i}].percent`, 'must be a number in [0, 100]');
    }
  });
  if (policy.onFailure !== 'halt' && policy.onFailure !== 'rollback') throw new RolloutPolicyError('onFailure', "must be 'halt' or 'rollback'");
  if (!Number.isFinite(policy.progressDeadlineMs) || policy.progressDeadlineMs <= 0) {
    throw new RolloutPolicyError('progressDeadlineMs', 'must be a finite number > 0');
  }
}

/** Same bundle: version and digest both equal. */
export const sameRef = (a: VersionRef, b: VersionRef): boolean => a.version === b.version && a.digest === b.digest;

/** The admission a state implies. Rolled back or aborted → no waves: every node runs stable. */
export function admissionOf(state: RolloutState): Admission {
  return {
    version: state.candidate.version,
    digest: state.candidate.digest,
    everyone: state.everyone,
    waves: state.admitted.map((w) => ({ name: w.name, nodes: [...w.nodes] })),
    stable: state.stable,
  };
}

/**
 * One planner step. Throws only RolloutPolicyError. Rules, in order:
 * 1. A candidate other than state.candidate supersedes it and restarts from the first wave
 *    (a completed candidate becomes the stable one; otherwise stable is kept).
 * 2. No policy: everyone is admitted at once and the candidate is completed (no gates),
 *    also one that was halted, rolled back or aborted under a policy since deleted.
 * 3. Operator commands, in order: pause, resume (restarts the current wave's bake and
 *    deadline clock), abort (admission drops to none), promote (skip remaining bakes),
 *    immediate (admit every remaining node now as the final wave). Commands that do not
 *    apply to the phase are ignored.
 * 4. Any admitted node failing a gate (NACK, health, webhook 'fail') fails the rollout,
 *    even while paused: halt keeps the admitted nodes, rollback drops them.
 * 5. While progressing: the current wave passes once every node present in the fleet
 *    ACKed the candidate (and webhook 'pass' when configured, per wave or for the policy) and its bake elapsed (or the
 *    rollout was promoted; an empty wave needs no bake); then the next wave is admitted,
 *    the last one completes the rollout. Waiting on gates longer than progressDeadlineMs
 *    since the wave was admitted fails the rollout.
 * Terminal phases (halted, rolled-back, aborted, completed) stay put for the same
 * candidate; only abort moves halted to aborted.
 */
export function plan(input: PlanInput): PlanResult {
  const { policy, fleet, candidate, now } = input;
  if (policy) validatePolicy(policy);
  const events: RolloutEvent[] = [];
  const prev = input.state;
  let s: Draft;
  if (prev === null) {
    s = fresh(candidate, input.initialStable ?? null);
    events.push({ type: 'Started', candidate });
  } else if (!sameRef(prev.candidate, candidate)) {
    s = fresh(candidate, prev.phase === 'completed' ? prev.candidate : prev.stable);
    events.push({ type: 'Superseded', previous: prev.candidate, candidate });
  } else {
    s = { ...prev, admitted: [...prev.admitted], conditions: [...prev.conditions] };
  }

  if (!policy) {
    // Without a policy every node runs the newest bundle (as without staged rollouts): a
    // candidate halted, rolled back or aborted under a policy that was then deleted goes
    // everywhere too, and says so, rather than staying "aborted" while every node runs it.
    if (s.phase !== 'completed') complete(s, events, 'no RolloutPolicy: every node admitted at once');
    return finish(prev, s, events);
  }

  for (const c of input.commands ?? []) command(s, c, policy, input, events);

  if (s.phase === 'progressing' && s.admitted.length === 0) admit(s, 0, policy, input, events);

  if (s.phase === 'progressing' || s.phase === 'paused') {
    const present = new Set(fleet.map((n) => n.name));
    const all = s.admitted.flatMap((w) => w.nodes).filter((n) => present.has(n));
    const verdict = evaluateGates(all, input.observations, candidate.version, webhookFor(s, policy));
    if (verdict.failures.length > 0) fail(s, policy, 'GateFailed', verdict.failures, [], events);
  }

  while (s.phase === 'progressing') {
    const current = s.admitted[s.admitted.length - 1]!;
    const present = new Set(fleet.map((n) => n.name));
    const nodes = current.nodes.filter((n) => present.has(n));
    const { failures, pending } = evaluateGates(nodes, input.observations, candidate.version, webhookFor(s, policy));
    const started = s.waveStartedAt ?? now;
    // A wave admitted in this very step may already report failures (e.g. a NACK observed
    // before its admission was published); they fail the rollout, never pass the wave.
    if (failures.length > 0) {
      fail(s, policy, 'GateFailed', failures, [], events);
      break;
    }
    if (pending.length > 0) {
      if (now - started > policy.progressDeadlineMs) fail(s, policy, 'ProgressDeadlineExceeded', [], pending, events);
      else setCondition(s, 'Progressing', 'True', 'WaitingForGates', `wave ${current.name}: waiting for ${pending.length} node(s): ${pending.join(', ')}`);
      break;
    }
    const bakeMs = policy.waves[s.waveIndex]?.bakeMs ?? 0;
    if (!s.promoted && nodes.length > 0 && now - started < bakeMs) {
      setCondition(s, 'Progressing', 'True', 'Baking', `wave ${current.name}: gates passed, baking until ${started + bakeMs}`);
      break;
    }
    events.push({ type: 'WavePassed', wave: s.waveIndex, name: current.name });
    if (s.waveIndex >= policy.waves.length - 1) complete(s, events, `all ${policy.waves.length} wave(s) passed`);
    else admit(s, s.waveIndex + 1, policy, input, events);
  }
  return finish(prev, s, events);
}

/**
 * Whether a node's webhook gate applies: its admitted wave's own `webhook` when the wave
 * spec sets one, else the policy's. A node in no admitted wave gets the policy's.
 */
export function webhookFor(s: Pick<RolloutState, 'admitted'>, policy: RolloutPolicy): (node: string) => boolean {
  const byNode = new Map<string, boolean>();
  for (const w of s.admitted) {
    const own = policy.waves[w.index]?.webhook;
    for (const n of w.nodes) byNode.set(n, own ?? policy.webhook === true);
  }
  return (node) => byNode.get(node) ?? policy.webhook === true;
}

function fresh(candidate: VersionRef, stable: VersionRef | null): Draft {
  return {
    candidate,
    stable,
    phase: 'progressing',
    waveIndex: -1,
    waveStartedAt: null,
    admitted: [],
    promoted: false,
    everyone: false,
    pausedAt: null,
    conditions: [{ type: 'Progressing', status: 'True', reason: 'NewCandidate', message: `candidate v${candidate.version} (${candidate.digest})` }],
  };
}

function finish(prev: RolloutState | null, s: Draft, events: RolloutEvent[]): PlanResult {
  const state: RolloutState = s;
  const next = admissionOf(state);
  const admission = prev !== null && JSON.stringify(admissionOf(prev)) === JSON.stringify(next) ? 'unchanged' : next;
  return { state, admission, events };
}

/** Admits wave k: the nodes it picks among those not admitted yet (the last wave takes all). */
function admit(s: Draft, k: number, policy: RolloutPolicy, input: PlanInput, events: RolloutEvent[], name?: string): void {
  const taken = new Set(s.admitted.flatMap((w) => w.nodes));
  const last = k === policy.waves.length - 1;
  const nodes = pickWave(policy.waves[k]!, remainingNodes(input.fleet, taken), input.candidate.version, last);
  const wave: AdmittedWave = { index: k, name: name ?? policy.waves[k]!.name, nodes, admittedAt: input.now };
  s.admitted = [...s.admitted, wave];
  s.waveIndex = k;
  s.waveStartedAt = input.now;
  events.push({ type: 'WaveAdmitted', wave: k, name: wave.name, nodes });
  setCondition(s, 'Progressing', 'True', 'WaveAdmitted', `wave ${wave.name} admitted: ${nodes.length} node(s)`);
}

function command(s: Draft, c: OperatorCommand, policy: RolloutPolicy, input: PlanInput, events: RolloutEvent[]): void {
  const active = s.phase === 'progressing' || s.phase === 'paused';
  switch (c.type) {
    case 'pause':
      if (s.phase !== 'progressing') return;
      s.phase = 'paused';
      s.pausedAt = input.now;
      events.push({ type: 'Paused' });
      setCondition(s, 'Paused', 'True', 'OperatorPaused', 'paused by an operator');
      return;
    case 'resume':
      if (s.phase !== 'paused') return;
      s.phase = 'progressing';
      s.pausedAt = null;
      // A pause must not count against the bake or the progress deadline.
      if (s.waveStartedAt !== null) s.waveStartedAt = input.now;
      events.push({ type: 'Resumed' });
      setCondition(s, 'Paused', 'False', 'OperatorResumed', 'resumed by an operator');
      return;
    case 'abort':
      if (!active && s.phase !== 'halted') return;
      s.phase = 'aborted';
      s.admitted = [];
      s.pausedAt = null;
      events.push({ type: 'Aborted' });
      setCondition(s, 'Progressing', 'False', 'OperatorAborted', 'aborted by an operator');
      setCondition(s, 'Aborted', 'True', 'OperatorAborted', `candidate v${s.candidate.version} aborted by an operator; every node runs stable`);
      return;
    case 'promote':
      if (!active || s.promoted) return;
      s.promoted = true;
      events.push({ type: 'Promoted', full: false });
      return;
    case 'immediate': {
      if (!active) return;
      const last = policy.waves.length - 1;
      if (s.waveIndex >= last) return;
      s.promoted = true;
      events.push({ type: 'Promoted', full: true });
      admit(s, last, policy, input, events, 'immediate');
      return;
    }
  }
}

function fail(
  s: Draft,
  policy: RolloutPolicy,
  reason: 'GateFailed' | 'ProgressDeadlineExceeded',
  failures: readonly GateFailure[],
  pending: readonly string[],
  events: RolloutEvent[],
): void {
  const action = policy.onFailure;
  const what = reason === 'GateFailed' ? describeFailures(failures) : `no progress within ${policy.progressDeadlineMs} ms; waiting for: ${pending.join(', ')}`;
  s.phase = action === 'halt' ? 'halted' : 'rolled-back';
  if (action === 'rollback') s.admitted = [];
  s.pausedAt = null;
  events.push({ type: 'Failed', reason, action, failures, pending });
  setCondition(s, 'Progressing', 'False', reason, what);
  const outcome = action === 'halt' ? 'halted, admitted nodes keep it' : 'rolled back, every node runs stable';
  setCondition(s, 'Aborted', 'True', reason, `candidate v${s.candidate.version} aborted (${outcome}): ${what}`);
}

function complete(s: Draft, events: RolloutEvent[], why: string): void {
  s.phase = 'completed';
  s.everyone = true;
  s.stable = s.candidate;
  s.pausedAt = null;
  events.push({ type: 'Completed', candidate: s.candidate });
  setCondition(s, 'Progressing', 'False', 'RolloutCompleted', why);
  setCondition(s, 'Completed', 'True', 'RolloutCompleted', `v${s.candidate.version} runs on every node`);
}

/** Upserts the condition of `type`; conditions stay in a fixed type order. */
function setCondition(s: Draft, type: ConditionType, status: 'True' | 'False', reason: string, message: string): void {
  const c: Condition = { type, status, reason, message };
  s.conditions = [...s.conditions.filter((x) => x.type !== type), c].sort((a, b) => CONDITION_ORDER.indexOf(a.type) - CONDITION_ORDER.indexOf(b.type));
}
