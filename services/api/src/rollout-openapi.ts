/**
 * The route-table entries of the staged-rollout surface (rendered by openapi.ts and
 * api-reference.ts, checked by response-check.ts): GET /v1/rollout with its `staged`
 * section and the operator commands (pause, resume, abort, promote). Their schemas are in
 * schemas/rollout.ts (packages/rollout-planner records.ts is the records' contract).
 * Data only.
 */
import { OPERATOR_COMMANDS, type OperatorCommandType } from './rollout-control-service.js';
import { Rollout, RolloutCommandAccepted, RolloutCommandRequest } from './schemas/rollout.js';
import { ErrorResponse, json, standardErrors, type RouteDoc } from './schemas/route-table.js';

export { IMMEDIATE_PARAM } from './schemas/api-routes.js';

const COMMAND_SUMMARY: Record<OperatorCommandType, string> = {
  pause: 'Pause the staged rollout of the current candidate (applies while progressing): no further wave is admitted; gates still fail it',
  resume: "Resume a paused rollout (applies while paused); the current wave's bake and progress deadline restart",
  abort: 'Abort the rollout of the current candidate (applies while progressing, paused or halted): every node goes back to the stable version',
  promote: 'Skip the remaining bakes of the current candidate (applies while progressing or paused, once); gates still apply',
};

const commandRoute = (type: OperatorCommandType): RouteDoc => ({
  method: 'POST',
  url: `/v1/rollout/${type}`,
  tag: 'rollout',
  auth: 'write',
  summary: `${COMMAND_SUMMARY[type]}. Writes one RolloutCommandRecord under <natfleet prefix>/rollout/commands/ for the rollout controller, which applies it at its next step and deletes it.`,
  body: { required: false, json: RolloutCommandRequest, description: 'Optional: empty, or a JSON object' },
  responses: {
    '202': json('Command written; the controller applies it', RolloutCommandAccepted),
    ...standardErrors('write', { '422': 'version or reason invalid, or an unknown field', '413': 'Body too large', '415': 'Content-Type is not JSON' }),
    '404': ErrorResponse('No staged rollout: the controller has written no state record (or it is not one)'),
    '409': ErrorResponse(`The version is not the current candidate, no RolloutPolicy applies, or the rollout is in no phase ${type} applies to; nothing was written`),
  },
});

export const ROLLOUT_ROUTES: readonly RouteDoc[] = [
  {
    method: 'GET',
    url: '/v1/rollout',
    tag: 'rollout',
    auth: 'read',
    summary:
      "Desired version (the newest valid bundle); `evaluated`: the newest etcd revision the compiler evaluated and the bundle enforcing it (null before the first); per node, applied version, state, error, heartbeat; summary counts; `staged`: the staged rollout from the controller's state record (null when none), with every policy wave, its state, bake left and per-node gates. `complete` is true only when every expected node applied the desired version and its rollout was not halted, rolled back or aborted; `aborted` (with `abortedReason`) says the fleet will not converge on the desired version by itself.",
    responses: { '200': json('Rollout', Rollout), ...standardErrors('read') },
  },
  ...OPERATOR_COMMANDS.map(commandRoute),
];
