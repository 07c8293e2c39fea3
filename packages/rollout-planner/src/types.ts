/**
 * Data shapes of the staged-rollout planner (DESIGN.md §10). Everything here except a
 * policy's selector functions is plain JSON: a RolloutState survives JSON.stringify/parse
 * unchanged, so a restarted controller resumes from what it persisted.
 */

/** Node labels, as on the Calico Node resource. */
export type Labels = Readonly<Record<string, string>>;

/** A label-selector predicate (the selector parser lives elsewhere; the planner takes a function). */
export type NodeSelector = (labels: Labels) => boolean;

export interface FleetNode {
  readonly name: string;
  readonly labels: Labels;
}

/** A compiled bundle the rollout is about. */
export interface VersionRef {
  readonly version: number;
  readonly digest: string;
}

/**
 * One wave: a selector, a percent, or both (as the RolloutPolicy resource allows). It
 * considers the nodes not in an earlier wave, keeps those the selector matches (all of them
 * without a selector), then, with a percent, ceil(percent% of those) ordered by
 * hash(node name, candidate version) — see membership.ts.
 */
export interface WaveSpec {
  /** Shown in conditions, events and the admission. */
  readonly name: string;
  /** How long every gate must have held after the wave was admitted before the next wave is. */
  readonly bakeMs: number;
  readonly selector?: NodeSelector;
  /** Canonical selector text (descriptive only). */
  readonly selectorText?: string;
  /** In [0, 100]. */
  readonly percent?: number;
  /** This wave's own webhook gate (the RolloutPolicy wave's `gates`); absent = policy.webhook. */
  readonly webhook?: boolean;
}

export interface RolloutPolicy {
  /** Ordered, at least one. The LAST wave always takes every node left, whatever it selects. */
  readonly waves: readonly WaveSpec[];
  /** halt: keep the admitted nodes on the candidate; rollback: admitted nodes go back to stable. */
  readonly onFailure: 'halt' | 'rollback';
  /** How long the current wave may wait for its gates (ACK, health, webhook) before it fails. */
  readonly progressDeadlineMs: number;
  /** When true, a node passes only once the webhook said 'pass' for it (a wave's own `webhook` overrides it for its nodes). */
  readonly webhook?: boolean;
}

/** What the enforcers (and the optional webhook) reported for one node, about the current candidate. */
export interface GateObservation {
  /** Bundle version the node has applied (ACKed). */
  readonly appliedVersion: number | null;
  readonly nack?: { readonly code: string; readonly message: string };
  readonly healthFailed?: { readonly code: string; readonly output: string };
  readonly webhook?: 'pass' | 'fail';
  /** When webhook is 'fail': what the webhook answered (status, body, timeout), for the failure detail. */
  readonly webhookDetail?: string;
}

export type Observations = Readonly<Record<string, GateObservation>>;

export type OperatorCommand =
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  | { readonly type: 'abort' }
  /** Skip the remaining bakes; gates still apply. */
  | { readonly type: 'promote' }
  /** Admit every remaining node now as one final wave; gates still apply. */
  | { readonly type: 'immediate' };

export type Phase = 'progressing' | 'paused' | 'halted' | 'rolled-back' | 'completed' | 'aborted';

export type ConditionType = 'Progressing' | 'Paused' | 'Completed' | 'Aborted';

/** Argo-style condition: one per type, reason is a stable CamelCase word, message is for humans. */
export interface Condition {
  readonly type: ConditionType;
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}

export interface AdmittedWave {
  /** Index into policy.waves (or -1 for the wave admitted by the `immediate` command). */
  readonly index: number;
  readonly name: string;
  /** Sorted node names, fixed when the wave was admitted. */
  readonly nodes: readonly string[];
  readonly admittedAt: number;
}

export interface RolloutState {
  readonly candidate: VersionRef;
  readonly stable: VersionRef | null;
  readonly phase: Phase;
  /** Index of the wave currently admitted last (-1 before the first admission). */
  readonly waveIndex: number;
  /** When the current wave was admitted (or its clock restarted by resume); null before any. */
  readonly waveStartedAt: number | null;
  readonly admitted: readonly AdmittedWave[];
  /** Set by the promote command: remaining bakes are skipped. */
  readonly promoted: boolean;
  /** Everyone (present and future nodes) gets the candidate: no policy, or completed. */
  readonly everyone: boolean;
  readonly pausedAt: number | null;
  readonly conditions: readonly Condition[];
}

export interface GateFailure {
  readonly node: string;
  readonly gate: 'nack' | 'health' | 'webhook';
  readonly code: string;
  readonly detail: string;
}

export type RolloutEvent =
  | { readonly type: 'Started'; readonly candidate: VersionRef }
  | { readonly type: 'Superseded'; readonly previous: VersionRef; readonly candidate: VersionRef }
  | { readonly type: 'WaveAdmitted'; readonly wave: number; readonly name: string; readonly nodes: readonly string[] }
  | { readonly type: 'WavePassed'; readonly wave: number; readonly name: string }
  | { readonly type: 'Completed'; readonly candidate: VersionRef }
  | { readonly type: 'Failed'; readonly reason: 'GateFailed' | 'ProgressDeadlineExceeded'; readonly action: 'halt' | 'rollback'; readonly failures: readonly GateFailure[]; readonly pending: readonly string[] }
  | { readonly type: 'Paused' }
  | { readonly type: 'Resumed' }
  | { readonly type: 'Aborted' }
  | { readonly type: 'Promoted'; readonly full: boolean };

/**
 * What the controller publishes (signed) for the enforcers. `everyone` means every node,
 * including ones that join later, runs `version`; otherwise the nodes in `waves` run it and
 * every other node keeps `stable`.
 */
export interface Admission {
  readonly version: number;
  readonly digest: string;
  readonly everyone: boolean;
  readonly waves: readonly { readonly name: string; readonly nodes: readonly string[] }[];
  readonly stable: VersionRef | null;
}

export interface PlanInput {
  /** null: no RolloutPolicy — everyone is admitted at once, no gates. */
  readonly policy: RolloutPolicy | null;
  readonly fleet: readonly FleetNode[];
  /** The newest compiled bundle. A different one than state.candidate supersedes it. */
  readonly candidate: VersionRef;
  /** The persisted state from the previous step; null on the very first step. */
  readonly state: RolloutState | null;
  /** Used only when state is null: the version every node runs today. */
  readonly initialStable?: VersionRef | null;
  readonly observations: Observations;
  readonly commands?: readonly OperatorCommand[];
  /** Milliseconds since the epoch; the planner never reads a clock. */
  readonly now: number;
}

export interface PlanResult {
  readonly state: RolloutState;
  /** 'unchanged' when the admission equals the one implied by the input state. */
  readonly admission: Admission | 'unchanged';
  readonly events: readonly RolloutEvent[];
}
