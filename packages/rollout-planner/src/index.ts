/**
 * @natfleet/rollout-planner — the rollout controller's pure planner (DESIGN.md §10):
 * (policy, fleet, state, gate observations, operator commands, now) → next state,
 * admission, events. No I/O, no clocks, no randomness. Also the etcd records the controller keeps (records.ts).
 */
export { plan, admissionOf, validatePolicy, sameRef, webhookFor } from './planner.js';
export { planWaves, pickWave, nodeRank, remainingNodes } from './membership.js';
export { evaluateGates, describeFailures } from './gates.js';
export type { GateVerdict } from './gates.js';
export { RolloutPolicyError, isRolloutPolicyError } from './errors.js';
export type {
  Admission,
  AdmittedWave,
  Condition,
  ConditionType,
  FleetNode,
  GateFailure,
  GateObservation,
  Labels,
  NodeSelector,
  Observations,
  OperatorCommand,
  Phase,
  PlanInput,
  PlanResult,
  RolloutEvent,
  RolloutPolicy,
  RolloutState,
  VersionRef,
  WaveSpec,
} from './types.js';
export {
  ROLLOUT_COMMAND_TYPES,
  decodeCommandRecord,
  decodeOutcomeRecord,
  decodeStateRecord,
  rolloutCommandKeyPrefix,
  rolloutOutcomeKey,
  rolloutOutcomeKeyPrefix,
  rolloutStateKey,
} from './records.js';
export type { NodeGateResult, RolloutCommandRecord, RolloutCommandType, RolloutEventRecord, RolloutOutcome, RolloutOutcomeRecord, RolloutStateRecord } from './records.js';
