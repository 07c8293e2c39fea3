/**
 * The rollout routes: GET /v1/rollout (the fleet view of rollout-service.ts plus the
 * staged section read from the controller's state record, staged-view.ts) and the
 * operator controls POST /v1/rollout/{pause,resume,abort,promote} (write token), which
 * write one RolloutCommandRecord each and answer 202 — the controller applies it at its
 * next step. Owns HTTP shape only; rollout-control-service.ts owns the rules.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import { OPERATOR_COMMANDS, type OperatorCommandType, type RolloutControlService } from './rollout-control-service.js';
import type { Rollout, RolloutService } from './rollout-service.js';
import { ABORTED_PHASES, stagedVerdict, type StagedVerdict } from './staged-view.js';
import type { RolloutBody, RolloutCommandAcceptedBody } from './schemas/rollout.js';

type Guard = { preHandler: (req: FastifyRequest, reply: FastifyReply) => Promise<void> };

/** Longest `reason` a command may carry (it lands in the event log and history). */
export const MAX_REASON_LENGTH = 1024;

/** GET /v1/rollout's answer: the fleet view, with `complete` judged against the staged rollout too. */
export type RolloutView = Rollout & StagedVerdict;

/**
 * The fleet view merged with the staged section at `now` (see stagedVerdict). A rollout
 * that ended with its admitted waves emptied (rolled back, aborted) also reads the
 * candidate's outcome record, which still names the waves' nodes and the failures.
 */
export async function rolloutView(rollout: RolloutService, control: RolloutControlService, now = Date.now()): Promise<RolloutView> {
  const [fleet, state] = await Promise.all([rollout.rollout(now), control.state()]);
  const r = state.record;
  const outcome = r && r.state.admitted.length === 0 && ABORTED_PHASES.has(r.state.phase) ? await control.outcome(r.state.candidate.version) : undefined;
  return { ...fleet, ...stagedVerdict(fleet, r, now, outcome) };
}

/**
 * A command body: empty, or a JSON object with optional `version` (an integer ≥ 1, or a
 * string of digits) and `reason` (a string). Anything else is a 400/422.
 */
export function commandBody(body: unknown): { version?: number; reason?: string } {
  if (body === undefined || body === null || (typeof body === 'string' && body.trim() === '')) return {};
  let b: unknown = body;
  if (typeof body === 'string') {
    try {
      b = JSON.parse(body);
    } catch {
      throw new ApiError('PARSE_FAILED', 'request body must be a JSON object (or empty)');
    }
  }
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new ApiError('PARSE_FAILED', 'request body must be a JSON object (or empty)');
  const o = b as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'version' && k !== 'reason');
  if (unknown.length > 0) throw new ApiError('VALIDATION_FAILED', `unknown field(s): ${unknown.join(', ')}`, unknown.map((k) => ({ resource: 'command', path: k, reason: 'unknown field (version, reason)' })));
  const out: { version?: number; reason?: string } = {};
  if (o.version !== undefined) {
    const raw = o.version;
    const v = typeof raw === 'number' ? raw : typeof raw === 'string' && /^[0-9]{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(v) || v < 1) throw new ApiError('VALIDATION_FAILED', 'version must be an integer ≥ 1', [{ resource: 'command', path: 'version', reason: 'must be the candidate bundle version (natctl rollout status shows it)', value: raw }]);
    out.version = v;
  }
  if (o.reason !== undefined) {
    if (typeof o.reason !== 'string' || o.reason.length > MAX_REASON_LENGTH) {
      throw new ApiError('VALIDATION_FAILED', `reason must be a string of at most ${MAX_REASON_LENGTH} characters`, [{ resource: 'command', path: 'reason', reason: `a string of at most ${MAX_REASON_LENGTH} characters` }]);
    }
    out.reason = o.reason;
  }
  return out;
}

export function registerRolloutRoutes(
  app: FastifyInstance,
  deps: { rollout: RolloutService; control: RolloutControlService; by: (req: FastifyRequest) => string },
  g: { read: Guard; write: Guard },
): void {
  // Typed by the schema the OpenAPI document shows (schemas/rollout.ts): the view must fit it.
  app.get('/v1/rollout', g.read, async (): Promise<RolloutBody> => rolloutView(deps.rollout, deps.control));
  for (const type of OPERATOR_COMMANDS) {
    app.post(`/v1/rollout/${type}`, g.write, async (req, reply) => {
      const body = commandBody(req.body);
      const w: RolloutCommandAcceptedBody = await deps.control.command(type as OperatorCommandType, { ...body, by: deps.by(req) });
      return reply.code(202).send(w);
    });
  }
}
