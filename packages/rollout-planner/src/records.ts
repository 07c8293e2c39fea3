/**
 * What the rollout controller keeps in etcd (DESIGN.md §10: "state in etcd", so a new
 * leader resumes where the old one was) and what operators write for it, with tolerant
 * decoders (etcd values may be written by anyone with etcdctl: a malformed one decodes to
 * undefined, never throws). Keys live under natfleet's own prefix, never Calico's:
 *
 *   <prefix>/rollout/state              RolloutStateRecord  (written by the leader only)
 *   <prefix>/rollout/commands/<id>      RolloutCommandRecord (written by the API; the leader
 *                                       deletes each once it took effect or was dropped)
 *   <prefix>/rollout/outcomes/<version> RolloutOutcomeRecord (one per candidate that ended:
 *                                       completed, aborted, halted, rolled back, superseded;
 *                                       history reads them; the newest 100 are kept)
 *
 * Pure: types, key names and JSON decoding only.
 */
import type { GateFailure, RolloutState, VersionRef } from './types.js';

/** `<prefix>/rollout/state`. */
export const rolloutStateKey = (prefix: string): string => `${prefix}/rollout/state`;
/** `<prefix>/rollout/commands/` — one key per pending operator command. */
export const rolloutCommandKeyPrefix = (prefix: string): string => `${prefix}/rollout/commands/`;
/** `<prefix>/rollout/outcomes/` — one key per ended candidate, named by its zero-padded version (so keys sort by version). */
export const rolloutOutcomeKeyPrefix = (prefix: string): string => `${prefix}/rollout/outcomes/`;
export const rolloutOutcomeKey = (prefix: string, version: number): string => `${rolloutOutcomeKeyPrefix(prefix)}${String(version).padStart(20, '0')}`;

/** Per admitted node, how it stands against the current candidate's gates (for status views). */
export interface NodeGateResult {
  node: string;
  /** Index of the admitted wave the node is in. */
  wave: number;
  result: 'passed' | 'pending' | 'failed';
  /** When failed: which gate, its code and detail; when pending: what is awaited. */
  gate?: 'ack' | 'nack' | 'health' | 'webhook';
  code?: string;
  detail?: string;
}

/** One line of the rollout's event log (newest last, at most 50 kept). */
export interface RolloutEventRecord {
  at: string;
  type: string;
  message: string;
}

export interface RolloutStateRecord {
  cluster: string;
  /** Name of the RolloutPolicy in force at the last step; '' = none (every node admitted at once). */
  policy: string;
  /** Wave names, bakes and selectors of that policy (for status views), in order. */
  waves: { name: string; bakeMs: number; selector?: string; percent?: number }[];
  progressDeadlineMs: number;
  onFailure: 'halt' | 'rollback';
  /** The planner's state (plain JSON). */
  state: RolloutState;
  /** Gate results of every admitted node at the last step. */
  gates: NodeGateResult[];
  /** The candidate was admitted everywhere at once by `apply --immediate` (a final wave named `immediate`). */
  immediate: boolean;
  /** When this candidate's rollout started (ISO 8601). */
  startedAt: string;
  events: RolloutEventRecord[];
  /** Replica id of the leader that wrote it. */
  leader: string;
  updatedAt: string;
}

export type RolloutCommandType = 'pause' | 'resume' | 'abort' | 'promote' | 'immediate';
export const ROLLOUT_COMMAND_TYPES: readonly RolloutCommandType[] = ['pause', 'resume', 'abort', 'promote', 'immediate'];

export interface RolloutCommandRecord {
  type: RolloutCommandType;
  /**
   * pause/resume/abort/promote: the candidate version the operator acted on — a command for
   * another candidate (a newer bundle superseded it meanwhile) is dropped, never applied to
   * a rollout the operator did not see. immediate: the revision of the write it came with;
   * it applies to the first candidate at or past it.
   */
  version: number;
  /** Who asked (API token name or "etcdctl"), for the event log and history. */
  by: string;
  at: string;
  reason?: string;
}

export type RolloutOutcome = 'completed' | 'aborted' | 'halted' | 'rolled-back' | 'superseded';

export interface RolloutOutcomeRecord {
  version: number;
  digest: string;
  outcome: RolloutOutcome;
  policy: string;
  /** Skipped the waves (`apply --immediate`). */
  immediate: boolean;
  /** Human-readable why (a condition message). */
  reason: string;
  /** Failing nodes and their gate, code and detail (halted / rolled back). */
  failures: GateFailure[];
  waves: { name: string; nodes: string[] }[];
  stable: VersionRef | null;
  startedAt: string;
  endedAt: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** A RolloutStateRecord from an etcd value, or undefined when it is not one. */
export function decodeStateRecord(text: string): RolloutStateRecord | undefined {
  const v = parse(text);
  if (!isObj(v) || !isObj(v.state) || !isObj(v.state.candidate) || typeof v.state.phase !== 'string' || !Array.isArray(v.state.admitted)) return undefined;
  if (typeof v.policy !== 'string' || !Array.isArray(v.waves) || !Array.isArray(v.gates) || !Array.isArray(v.events)) return undefined;
  return v as unknown as RolloutStateRecord;
}

/** A RolloutCommandRecord from an etcd value, or undefined when it is not one. */
export function decodeCommandRecord(text: string): RolloutCommandRecord | undefined {
  const v = parse(text);
  if (!isObj(v) || !ROLLOUT_COMMAND_TYPES.includes(v.type as RolloutCommandType) || !Number.isSafeInteger(v.version) || (v.version as number) < 0) return undefined;
  return { type: v.type as RolloutCommandType, version: v.version as number, by: typeof v.by === 'string' ? v.by : '', at: typeof v.at === 'string' ? v.at : '', ...(typeof v.reason === 'string' ? { reason: v.reason } : {}) };
}

/** A RolloutOutcomeRecord from an etcd value, or undefined when it is not one. */
export function decodeOutcomeRecord(text: string): RolloutOutcomeRecord | undefined {
  const v = parse(text);
  if (!isObj(v) || !Number.isSafeInteger(v.version) || typeof v.outcome !== 'string' || !Array.isArray(v.failures) || !Array.isArray(v.waves)) return undefined;
  return v as unknown as RolloutOutcomeRecord;
}
