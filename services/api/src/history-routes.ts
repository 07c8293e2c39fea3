/**
 * The history routes: GET /v1/history (every kept bundle with what changed and by whom)
 * and GET /v1/history/{version} (its set, settings and warnings detail), plus the parsing
 * of rollback's history options and the writer's name for every audited write. Read token
 * for the views; /v1/rollback itself stays in app.ts with the other writes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, type TokenSet } from './auth.js';
import { ApiError } from './errors.js';
import { HistoryService } from './history-service.js';
import type { ResourceService } from './resource-service.js';
import type { RolloutService } from './rollout-service.js';
import type { RolloutControlService } from './rollout-control-service.js';
import type { HistoryListBody, VersionDetailBody } from './schemas/history.js';

type Guard = { preHandler: (req: FastifyRequest, reply: FastifyReply) => Promise<void> };

/** The name recorded for a write: the token's name (its role when unnamed); `api` for a request without a known token. */
export function writerName(tokens: TokenSet, req: FastifyRequest): string {
  const token = bearerToken(req.headers.authorization);
  return (token && tokens.identify(token)?.name) || 'api';
}

/**
 * `force` and `previewRevision` in a rollback body: a boolean, and an integer ≥ 1 (the
 * `revision` of the dry run the operator confirmed). Anything else is a 422.
 */
export function rollbackHistoryOptions(b: Record<string, unknown>): { force?: boolean; previewRevision?: number } {
  if (b.force !== undefined && typeof b.force !== 'boolean') {
    throw new ApiError('VALIDATION_FAILED', 'force must be a boolean', [{ resource: 'rollback', path: 'force', reason: 'must be true or false', value: b.force }]);
  }
  const p = b.previewRevision;
  if (p !== undefined && !(typeof p === 'number' && Number.isSafeInteger(p) && p >= 1)) {
    throw new ApiError('VALIDATION_FAILED', 'previewRevision must be an integer ≥ 1', [{ resource: 'rollback', path: 'previewRevision', reason: 'must be the revision a dry run answered with', value: p }]);
  }
  return { ...(b.force === true ? { force: true } : {}), ...(typeof p === 'number' ? { previewRevision: p } : {}) };
}

/** Registers the history views; returns the service, which also performs rollbacks. */
export function registerHistoryRoutes(app: FastifyInstance, deps: { resources: ResourceService; rollout: RolloutService; control?: RolloutControlService }, read: Guard): HistoryService {
  const history = new HistoryService(deps.resources, deps.rollout, deps.control);
  // Typed by the schemas the OpenAPI document shows (schemas/history.ts).
  app.get('/v1/history', read, async (): Promise<HistoryListBody> => ({ items: await history.list() }));
  app.get<{ Params: { version: string } }>('/v1/history/:version', read, async (req): Promise<VersionDetailBody> => {
    // Digits only, as /v1/bundles/{version}.
    const v = /^[0-9]{1,16}$/.test(req.params.version) ? Number(req.params.version) : Number.NaN;
    if (!Number.isSafeInteger(v)) throw new ApiError('BAD_REQUEST', 'version must be a non-negative integer');
    return history.version(v);
  });
  return history;
}
