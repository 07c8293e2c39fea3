/**
 * The OpenAPI entries of the staged-rollout surface, spread into openapi.ts: GET
 * /v1/rollout with its `staged` section, the operator commands (pause, resume, abort,
 * promote), the `?immediate=true` write parameter, and the schemas of the records they
 * show (packages/rollout-planner records.ts is the contract). Data only.
 */
import { MAX_REASON_LENGTH } from './rollout-control-routes.js';
import { OPERATOR_COMMANDS, type OperatorCommandType } from './rollout-control-service.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const resp = (description: string, schema: object) => ({ description, content: { 'application/json': { schema } } });
const err = ref('Error');
const str = { type: 'string' };
const int = { type: 'integer' };
const nullable = (schema: object) => ({ oneOf: [schema, { type: 'null' }] });

/** `?immediate=true` on create / replace / apply. */
export const IMMEDIATE_PARAM = {
  name: 'immediate',
  in: 'query',
  schema: { type: 'boolean' },
  description:
    'After the write committed, also write an `immediate` rollout command carrying its revision: the first candidate at or past it is admitted to every remaining node as one final wave named `immediate` (gates still apply). Written only when the write changes the enforced NAT sets (any other write makes no bundle); `immediate` in the answer says what was done.',
};

const COMMAND_SUMMARY: Record<OperatorCommandType, string> = {
  pause: 'Pause the staged rollout of the current candidate (applies while progressing): no further wave is admitted; gates still fail it',
  resume: "Resume a paused rollout (applies while paused); the current wave's bake and progress deadline restart",
  abort: 'Abort the rollout of the current candidate (applies while progressing, paused or halted): every node goes back to the stable version',
  promote: 'Skip the remaining bakes of the current candidate (applies while progressing or paused, once); gates still apply',
};

const commandOp = (type: OperatorCommandType) => ({
  post: {
    summary: `${COMMAND_SUMMARY[type]}. Writes one RolloutCommandRecord under <natfleet prefix>/rollout/commands/ for the rollout controller, which applies it at its next step and deletes it. Write token.`,
    requestBody: { required: false, content: { 'application/json': { schema: ref('RolloutCommandRequest') } } },
    responses: {
      '202': resp('Command written; the controller applies it', ref('RolloutCommandAccepted')),
      '400': resp('Malformed body', err),
      '401': resp('Missing or unknown bearer token', err),
      '403': resp('Token may only read', err),
      '404': resp('No staged rollout: the controller has written no state record (or it is not one)', err),
      '409': resp(`The version is not the current candidate, no RolloutPolicy applies, or the rollout is in no phase ${type} applies to; nothing was written`, err),
      '422': resp('version or reason invalid', err),
      '503': resp('etcd unavailable', err),
    },
  },
});

export const ROLLOUT_PATHS = {
  '/v1/rollout': {
    get: {
      summary:
        'Desired version (the newest valid bundle, see History); `evaluated`: the newest etcd revision the compiler evaluated and the bundle enforcing it (null before the first); per node, applied version, state, error, heartbeat; summary counts; `staged`: the staged rollout from the controller\'s state record (null when none), with every policy wave, its state, bake left and per-node gates. `complete` is true only when every expected node applied the desired version and its rollout was not halted, rolled back or aborted; `aborted` (with `abortedReason`) says the fleet will not converge on the desired version by itself.',
      responses: { '200': resp('Rollout', ref('Rollout')), '401': resp('Missing or unknown bearer token', err), '503': resp('etcd or NATS unavailable', err) },
    },
  },
  ...Object.fromEntries(OPERATOR_COMMANDS.map((t) => [`/v1/rollout/${t}`, commandOp(t)])),
} as const;

const condition = { type: 'object', required: ['type', 'status', 'reason', 'message'], properties: { type: { enum: ['Progressing', 'Paused', 'Completed', 'Aborted'] }, status: { enum: ['True', 'False'] }, reason: str, message: str } };
const versionRef = { type: 'object', required: ['version', 'digest'], properties: { version: int, digest: str } };
const gateFailure = { type: 'object', required: ['node', 'gate', 'code', 'detail'], properties: { node: str, gate: { enum: ['nack', 'health', 'webhook'] }, code: str, detail: str } };
const phase = { enum: ['progressing', 'paused', 'halted', 'rolled-back', 'completed', 'aborted'] };
const outcome = { enum: ['completed', 'aborted', 'halted', 'rolled-back', 'superseded'] };

export const ROLLOUT_SCHEMAS = {
  Rollout: {
    type: 'object',
    required: ['cluster', 'desired', 'evaluated', 'nodes', 'summary', 'complete', 'staged', 'aborted'],
    properties: {
      cluster: str,
      desired: nullable({ type: 'object', properties: { version: int, digest: str, publishedAt: str } }),
      evaluated: nullable({ type: 'object', properties: { revision: int, bundleVersion: int, bundleDigest: str, evaluatedAt: str } }),
      nodes: { type: 'array', items: { type: 'object', description: 'NodeStatus with status (in-sync, behind, failed, silent), heartbeatAgeSeconds and registered', additionalProperties: true } },
      summary: { type: 'object', properties: { total: int, inSync: int, behind: int, failed: int, silent: int } },
      complete: { type: 'boolean', description: 'Every expected node applied the desired version, and its rollout was not halted, rolled back or aborted' },
      staged: nullable(ref('StagedRollout')),
      aborted: { type: 'boolean', description: "The desired version's rollout was halted, rolled back or aborted: the fleet will not converge on it by itself" },
      abortedReason: { type: 'string', description: 'Present when aborted: the Aborted condition (reason: message)' },
    },
  },
  StagedRollout: {
    type: 'object',
    description: "The rollout controller's state record (<natfleet prefix>/rollout/state) as an operator reads it",
    required: ['policy', 'phase', 'candidate', 'stable', 'conditions', 'paused', 'promoted', 'immediate', 'startedAt', 'waves', 'events'],
    properties: {
      policy: { type: 'string', description: "RolloutPolicy in force; '' = none (every node admitted at once)" },
      phase,
      candidate: versionRef,
      stable: nullable(versionRef),
      conditions: { type: 'array', items: condition },
      paused: { type: 'boolean' },
      promoted: { type: 'boolean', description: 'Remaining bakes are skipped' },
      immediate: { type: 'boolean', description: 'Admitted everywhere at once by apply --immediate' },
      startedAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
      onFailure: { enum: ['halt', 'rollback'] },
      waves: { type: 'array', items: ref('StagedWave') },
      events: { type: 'array', description: 'The newest events, oldest first', items: { type: 'object', required: ['at', 'type', 'message'], properties: { at: str, type: str, message: str } } },
    },
  },
  StagedWave: {
    type: 'object',
    required: ['index', 'name', 'selector', 'percent', 'bakeMs', 'state', 'admittedAt', 'bakeRemainingMs', 'nodes'],
    properties: {
      index: int,
      name: { type: 'string', description: 'The policy wave name (`immediate` when apply --immediate admitted it)' },
      selector: nullable(str),
      percent: nullable({ type: 'number' }),
      bakeMs: int,
      state: { enum: ['pending', 'admitted', 'baking', 'passed', 'failed'], description: 'admitted: gates pending; baking: gates passed, bake running' },
      admittedAt: nullable({ type: 'string', format: 'date-time' }),
      bakeRemainingMs: nullable({ type: 'integer', description: 'Current wave only: ms until its bake ends (the whole bake while paused: resume restarts it; 0 when promoted)' }),
      nodes: {
        type: 'array',
        items: {
          type: 'object',
          required: ['node', 'gate'],
          properties: {
            node: str,
            gate: nullable({ type: 'object', required: ['result'], properties: { result: { enum: ['passed', 'pending', 'failed'] }, gate: { enum: ['ack', 'nack', 'health', 'webhook'] }, code: str, detail: str } }),
          },
        },
      },
    },
  },
  RolloutCommandRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      version: { type: 'integer', minimum: 1, description: "The candidate version the operator acts on (default: the state record's candidate); another is a 409" },
      reason: { type: 'string', maxLength: MAX_REASON_LENGTH },
    },
  },
  RolloutCommand: {
    type: 'object',
    description: 'A RolloutCommandRecord as stored under <natfleet prefix>/rollout/commands/<id>',
    required: ['type', 'version', 'by', 'at'],
    properties: {
      type: { enum: ['pause', 'resume', 'abort', 'promote', 'immediate'] },
      version: { type: 'integer', description: 'The candidate acted on; for immediate, the revision of the write it came with' },
      by: { type: 'string', description: "The API token's name" },
      at: { type: 'string', format: 'date-time' },
      reason: str,
    },
  },
  RolloutCommandAccepted: {
    type: 'object',
    required: ['command', 'key', 'revision'],
    properties: { command: ref('RolloutCommand'), key: { type: 'string', description: 'The etcd key written' }, revision: { type: 'integer', description: 'etcd revision of the write' } },
  },
  ImmediateResult: {
    type: 'object',
    description: 'What ?immediate=true did',
    required: ['written'],
    properties: { written: { type: 'boolean' }, command: ref('RolloutCommand'), key: str, revision: int, reason: { type: 'string', description: 'Why no command was written (dry run, no NAT change)' } },
  },
  HistoryRollout: {
    type: 'object',
    description: "How a version's staged rollout went (its outcome record), or — outcome null — where the current candidate's stands",
    required: ['outcome', 'policy', 'reason', 'failures', 'immediate', 'waves', 'startedAt', 'endedAt'],
    properties: {
      outcome: nullable(outcome),
      phase: { ...phase, description: 'Only while under way (outcome null)' },
      policy: str,
      reason: str,
      failures: { type: 'array', items: gateFailure },
      immediate: { type: 'boolean', description: 'Skipped the waves (apply --immediate)' },
      waves: { type: 'array', items: { type: 'object', properties: { name: str, nodes: { type: 'array', items: str } } } },
      startedAt: nullable(str),
      endedAt: nullable(str),
    },
  },
} as const;
