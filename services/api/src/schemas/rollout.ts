/**
 * Schemas of the rollout surface: GET /v1/rollout (fleet view, node statuses and the
 * `staged` section from the controller's state record), the operator commands and their
 * 202 answer, and HistoryRollout (how a version's staged rollout went). The records'
 * contract is packages/rollout-planner records.ts; these schemas say what the API shows
 * of them. Data only.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Int, Nullable, Str, StringMap, Time } from './common.js';

const lit = <const T extends string>(values: readonly T[], description?: string) => Type.Union(values.map((v) => Type.Literal(v)), description ? { description } : {});

export const PHASES = ['progressing', 'paused', 'halted', 'rolled-back', 'completed', 'aborted'] as const;
export const OUTCOMES = ['completed', 'aborted', 'halted', 'rolled-back', 'superseded'] as const;

export const VersionRef = Type.Object({ version: Int(), digest: Str() });

export const NodeHealth = Type.Object(
  {
    version: Int('The applied version the checks ran against'),
    result: lit(['none', 'running', 'passed', 'failed']),
    code: Str('When failed: HEALTH_CHECK_FAILED, HEALTH_CHECK_TIMEOUT, CONNTRACK_INSERT_FAILED, CONNTRACK_DROP; else empty'),
    check: Str(),
    output: Str(),
    checkedAt: Str(),
  },
  { description: "Post-apply health checks of the node's applied version" },
);

export const RolloutNode = Type.Object(
  {
    node: Str(),
    cluster: Str(),
    labels: StringMap(),
    addresses: Type.Array(Str()),
    appliedVersion: Int('0 until the first bundle is applied'),
    appliedDigest: Str(),
    state: lit(['applied', 'failed', 'pending']),
    error: Str('Why the last bundle was refused or failed; empty when applied'),
    errorCode: Str('Stable code of error (BAD_SIGNATURE, NFT_SYNTAX, …); empty when applied'),
    failedVersion: Int(),
    appliedAt: Str(),
    applyMs: Type.Number(),
    driftRepairs: Int(),
    enforcerVersion: Str(),
    heartbeatAt: Str(),
    health: Type.Optional(NodeHealth),
    admissionRevision: Type.Optional(Int()),
    status: lit(['in-sync', 'behind', 'failed', 'silent'], 'Against the desired version'),
    heartbeatAgeSeconds: Nullable(Type.Number()),
    registered: Type.Boolean({ description: 'A Node resource exists in etcd for it' }),
  },
  { title: 'RolloutNode', description: "A node's status from the natfleet-nodes KV, classified against the desired version" },
);

const Condition = Type.Object({ type: lit(['Progressing', 'Paused', 'Completed', 'Aborted']), status: lit(['True', 'False']), reason: Str(), message: Str() });
const GateFailure = Type.Object({ node: Str(), gate: lit(['nack', 'health', 'webhook']), code: Str(), detail: Str() });
const Phase = lit(PHASES);

export const StagedWave = Type.Object(
  {
    index: Int(),
    name: Str('The policy wave name (`immediate` when apply --immediate admitted it)'),
    selector: Nullable(Str()),
    percent: Nullable(Type.Number()),
    bakeMs: Int(),
    state: lit(['pending', 'admitted', 'baking', 'passed', 'failed'], 'admitted: gates pending; baking: gates passed, bake running'),
    admittedAt: Nullable(Str()),
    bakeRemainingMs: Nullable(Type.Number({ description: 'Current wave only: ms until its bake ends (the whole bake while paused; 0 when promoted)' })),
    nodes: Type.Array(
      Type.Object({
        node: Str(),
        gate: Nullable(Type.Object({ result: lit(['passed', 'pending', 'failed']), gate: Type.Optional(lit(['ack', 'nack', 'health', 'webhook'])), code: Type.Optional(Str()), detail: Type.Optional(Str()) })),
      }),
    ),
  },
  { title: 'StagedWave' },
);

export const StagedRollout = Type.Object(
  {
    policy: Str("RolloutPolicy in force; '' = none (every node admitted at once)"),
    phase: Phase,
    candidate: VersionRef,
    stable: Nullable(VersionRef),
    // readonly in the type: staged-view.ts hands the record's own array on.
    conditions: Type.Unsafe<ReadonlyArray<Static<typeof Condition>>>(Type.Array(Condition)),
    paused: Type.Boolean(),
    promoted: Type.Boolean({ description: 'Remaining bakes are skipped' }),
    immediate: Type.Boolean({ description: 'Admitted everywhere at once by apply --immediate' }),
    startedAt: Str(),
    updatedAt: Str(),
    onFailure: lit(['halt', 'rollback']),
    waves: Type.Array(StagedWave),
    events: Type.Array(Type.Object({ at: Str(), type: Str(), message: Str() }), { description: 'The newest events, oldest first' }),
  },
  { title: 'StagedRollout', description: "The rollout controller's state record (<natfleet prefix>/rollout/state) as an operator reads it" },
);

export const Rollout = Type.Object(
  {
    cluster: Str(),
    desired: Nullable(Type.Object({ version: Int(), digest: Str(), publishedAt: Str() }), ),
    evaluated: Nullable(Type.Object({ revision: Int('The newest etcd revision the compiler evaluated'), bundleVersion: Int(), bundleDigest: Str(), evaluatedAt: Str() })),
    nodes: Type.Array(RolloutNode),
    summary: Type.Object({ total: Int(), inSync: Int(), behind: Int(), failed: Int(), silent: Int() }),
    complete: Type.Boolean({ description: 'Every expected node applied the desired version, and its rollout was not halted, rolled back or aborted (nor still progressing or paused)' }),
    staged: Nullable(StagedRollout),
    aborted: Type.Boolean({ description: "The desired version's rollout was halted, rolled back or aborted: the fleet will not converge on it by itself" }),
    abortedReason: Type.Optional(Str('Present when aborted: the Aborted condition (reason: message)')),
  },
  { title: 'Rollout' },
);
export type RolloutBody = Static<typeof Rollout>;

export const RolloutCommandRequest = Type.Object(
  {
    version: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[0-9]{1,16}$' })], { description: "The candidate version acted on (default: the state record's candidate); another is a 409" })),
    reason: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { title: 'RolloutCommandRequest', additionalProperties: false },
);

export const RolloutCommand = Type.Object(
  {
    type: lit(['pause', 'resume', 'abort', 'promote', 'immediate']),
    version: Int('The candidate acted on; for immediate, the revision of the write it came with'),
    by: Str("The API token's name"),
    at: Time(),
    reason: Type.Optional(Str()),
  },
  { title: 'RolloutCommand', description: 'A RolloutCommandRecord as stored under <natfleet prefix>/rollout/commands/<id>' },
);

export const RolloutCommandAccepted = Type.Object({ command: RolloutCommand, key: Str('The etcd key written'), revision: Int('etcd revision of the write') }, { title: 'RolloutCommandAccepted' });
export type RolloutCommandAcceptedBody = Static<typeof RolloutCommandAccepted>;

export const HistoryRollout = Type.Object(
  {
    outcome: Nullable(lit(OUTCOMES)),
    phase: Type.Optional(Phase),
    policy: Str(),
    reason: Str(),
    failures: Type.Array(GateFailure),
    immediate: Type.Boolean({ description: 'Skipped the waves (apply --immediate)' }),
    waves: Type.Array(Type.Object({ name: Str(), nodes: Type.Array(Str()) })),
    startedAt: Nullable(Str()),
    endedAt: Nullable(Str()),
  },
  { title: 'HistoryRollout', description: "How a version's staged rollout went (its outcome record), or — outcome null — where the current candidate's stands (phase)" },
);
export type HistoryRolloutBody = Static<typeof HistoryRollout>;
