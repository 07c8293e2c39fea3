/**
 * The HTTP surface (fastify): /v1 resources, rollout, bundles, history, explain, rollback, plus
 * /healthz, /readyz, /metrics and /openapi.json. Bodies are JSON or YAML (one or many
 * documents); every error is `{code, message, issues?}` from the registry in errors.ts,
 * never a stack trace. Reads need a read or write token; writes need a write token.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { parseResources, type InputFormat, type UnknownFieldPolicy } from '@natfleet/model';
import type { Registry } from 'prom-client';
import { bearerToken, type Role, type TokenSet } from './auth.js';
import { ApiError, RETRY_AFTER_SECONDS, toApiError } from './errors.js';
import { flag, param, unknownFieldsOf } from './query-params.js';
import { registerHistoryRoutes, rollbackHistoryOptions, writerName } from './history-routes.js';
import { registerNodeRoutes } from './node-routes.js';
import type { NodeService } from './node-service.js';
import { openApiJson } from './openapi.js';
import { registerApiReference } from './api-reference.js';
import { MAX_BATCH_RESOURCES, type ResourceService, type WritableKind, type WriteMode } from './resource-service.js';
import type { RolloutService } from './rollout-service.js';
import { registerVersionRoute } from './version-route.js';
import { registerRolloutPolicyRoutes } from './rollout-policy-routes.js';
import { RolloutPolicyService } from './rollout-policy-service.js';
import { RolloutControlService, type WrittenCommand } from './rollout-control-service.js';
import { registerRolloutRoutes, rolloutView } from './rollout-control-routes.js';
import { registerApiMetrics } from './metrics.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import type { WriteResult } from './resource-service.js';
import type { Readiness } from '@natfleet/service-kit';
import type { Logger } from 'pino';

export interface AppDeps {
  resources: ResourceService;
  rollout: RolloutService;
  /** The node inventory (/v1/nodes); without it those routes answer 404. */
  nodes?: NodeService;
  /** RolloutPolicies (read by the compiler's rollout controller); default: natfleet's default prefix in the resources' etcd. */
  rolloutPolicies?: RolloutPolicyService;
  /** Staged-rollout records and operator commands; default: under the RolloutPolicies' natfleet prefix in the resources' etcd. */
  rolloutControl?: RolloutControlService;
  tokens: TokenSet;
  registry: Registry;
  readiness: () => Readiness;
  logger: Logger;
  /** Largest accepted request body, bytes. */
  bodyLimit: number;
}

/** What `?immediate=true` did: the command written, or why none was. */
export type ImmediateResult = ({ written: true } & WrittenCommand) | { written: false; reason: string };

// A Map, not an object literal: `/v1/constructor` or `/v1/__proto__` must not find
// Object.prototype's members.
const PLURALS: ReadonlyMap<string, WritableKind> = new Map([['ippools', 'IPPool'], ['felixconfigurations', 'FelixConfiguration']]);
const TEXT_TYPES = ['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'];

function formatOf(req: FastifyRequest): InputFormat {
  const ct = String(req.headers['content-type'] ?? '');
  return ct.includes('json') ? 'json' : ct.includes('yaml') ? 'yaml' : 'auto';
}

type WriteQuery = { dryRun?: string; validate?: string; fieldValidation?: string; immediate?: string };
const writeOptions = (q: WriteQuery): { dryRun: boolean; unknownFields: UnknownFieldPolicy } => ({ dryRun: flag(q, 'dryRun'), unknownFields: unknownFieldsOf(q) });

function bodyText(req: FastifyRequest): string {
  if (typeof req.body !== 'string' || req.body.trim() === '') throw new ApiError('BAD_REQUEST', 'request body is empty');
  return req.body;
}

/** Resources in a write or delete body, at most MAX_BATCH_RESOURCES (decoding stops past it). */
function bodyResources(req: FastifyRequest): ReturnType<typeof parseResources> {
  return parseResources(bodyText(req), { format: formatOf(req), maxResources: MAX_BATCH_RESOURCES });
}

/**
 * `version` in a rollback or explain body: an integer ≥ `min`, or a string of digits (as
 * in /v1/bundles/{version}). Arrays, booleans, fractions and other strings are a 422 —
 * `Number([1])` is 1, so nothing here goes through Number() unchecked.
 */
function versionOf(b: Record<string, unknown>, resource: string, min: number): number | undefined {
  const raw = b.version;
  if (raw === undefined) return undefined;
  const v = typeof raw === 'number' ? raw : typeof raw === 'string' && /^[0-9]{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (Number.isSafeInteger(v) && v >= min) return v;
  throw new ApiError('VALIDATION_FAILED', `version must be an integer ≥ ${min}`, [{ resource, path: 'version', reason: `must be a bundle version (etcd revision), an integer ≥ ${min}`, value: raw }]);
}

function jsonBody(req: FastifyRequest): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(bodyText(req));
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ApiError('PARSE_FAILED', 'request body must be a JSON object');
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimit,
    // Resource names are DNS subdomains of up to 253 characters (more when percent-encoded).
    routerOptions: { maxParamLength: 1024 },
    // Malformed URLs answer in the house shape, not fastify's own JSON.
    frameworkErrors: (err, _req, reply) => {
      const e = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? new ApiError('BAD_REQUEST', 'a path segment is too long') : new ApiError('BAD_REQUEST', `malformed URL: ${err.message}`);
      void (reply as FastifyReply).code(e.status).send(e.toJSON());
    },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(TEXT_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, req, reply) => {
    const e = toApiError(err);
    if (e.code === 'INTERNAL') deps.logger.error({ err, url: req.url }, 'internal error');
    if (e.status === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    void reply.code(e.status).send(e.toJSON());
  });
  app.setNotFoundHandler((req, reply) => void reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` }));

  const guard = (role: Role) => async (req: FastifyRequest, reply: FastifyReply) => {
    const token = bearerToken(req.headers.authorization);
    const have = token ? deps.tokens.roleOf(token) : undefined;
    if (!have) {
      void reply.header('www-authenticate', 'Bearer');
      throw new ApiError('UNAUTHORIZED', token ? 'unknown token' : 'missing bearer token');
    }
    if (role === 'write' && have !== 'write') throw new ApiError('FORBIDDEN', 'this token may only read');
  };
  const read = { preHandler: guard('read') };
  const write = { preHandler: guard('write') };
  /** Who a write is recorded as (natctl history's CHANGE column): the token's name. */
  const by = (req: FastifyRequest): string => writerName(deps.tokens, req);
  const policies = deps.rolloutPolicies ?? new RolloutPolicyService(deps.resources.store);
  const control = deps.rolloutControl ?? new RolloutControlService(deps.resources.store, policies.prefix);
  /**
   * `?immediate=true` on a write: once it committed, an `immediate` command carrying its
   * revision, so the candidate carrying it skips the waves (it cannot be in the same
   * transaction: the command must name the revision that transaction gets). Only a write
   * that changes the enforced NAT sets gets one: any other makes no bundle, and a command
   * waiting for one would skip the waves of some later, unrelated write.
   */
  const withImmediate = async (req: FastifyRequest<{ Querystring: WriteQuery }>, writeIt: () => Promise<WriteResult>): Promise<WriteResult & { immediate?: ImmediateResult }> => {
    // Parsed before writing: a misspelt flag must refuse the write, not follow it.
    const immediate = flag(req.query, 'immediate');
    const r = await writeIt();
    if (!immediate) return r;
    if (r.dryRun) return { ...r, immediate: { written: false, reason: 'dry run: no command written' } };
    if (!r.changes.some((c) => c.action !== 'unchanged') || !r.nat.changed) {
      return { ...r, immediate: { written: false, reason: 'no NAT change: no bundle will carry this write, so no immediate command was written' } };
    }
    try {
      return { ...r, immediate: { written: true, ...(await control.immediate(r.revision, by(req))) } };
    } catch (err) {
      throw new ApiError('UNAVAILABLE', `the write committed at revision ${r.revision}, but its immediate command was not written (${(err as Error).message}): the change rolls out through the waves; run natctl rollout promote to skip their bakes`, undefined, { cause: err });
    }
  };

  // Request latency and the fleet gauges (metrics.ts), before any route so every one is timed.
  registerApiMetrics(app, { registry: deps.registry, view: (now) => rolloutView(deps.rollout, control, now) });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks = deps.readiness();
    const ready = Object.values(checks).every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({ ready, checks });
  });
  app.get('/metrics', async (_req, reply) => reply.type(deps.registry.contentType).send(await deps.registry.metrics()));
  app.get('/openapi.json', async (_req, reply) => reply.type('application/json; charset=utf-8').send(openApiJson()));
  registerApiReference(app);

  /** The body's kind must be the URL's (a missing kind takes the URL's). */
  const sameKind = (bodyKind: unknown, urlKind: WritableKind): WritableKind => {
    if (bodyKind !== undefined && bodyKind !== urlKind) throw new ApiError('BAD_REQUEST', `body kind ${JSON.stringify(bodyKind)} does not match the URL (${urlKind})`);
    return urlKind;
  };

  const kindOf = (plural: string): WritableKind => {
    const k = PLURALS.get(plural);
    if (!k) throw new ApiError('NOT_FOUND', `unknown resource type "${plural}" (ippools, felixconfigurations)`);
    return k;
  };

  app.get<{ Params: { plural: string } }>('/v1/:plural', read, async (req) => {
    const kind = kindOf(req.params.plural);
    const { revision, items } = await deps.resources.list(kind);
    return { apiVersion: 'projectcalico.org/v3', kind: `${kind}List`, metadata: { resourceVersion: String(revision) }, items };
  });
  app.get<{ Params: { plural: string; name: string } }>('/v1/:plural/:name', read, async (req) => deps.resources.get(kindOf(req.params.plural), req.params.name));

  // POST /v1/<plural> = create (like calicoctl create); PUT /v1/<plural>/<name> = replace.
  app.post<{ Params: { plural: string }; Querystring: WriteQuery }>('/v1/:plural', write, async (req, reply) => {
    const kind = kindOf(req.params.plural);
    const items = bodyResources(req);
    for (const it of items) (it.object as Record<string, unknown>).kind = sameKind(it.object.kind, kind);
    const r = await withImmediate(req, () => deps.resources.write('create', items, { ...writeOptions(req.query), by: by(req) }));
    return reply.code(r.dryRun ? 200 : 201).send(r);
  });
  app.put<{ Params: { plural: string; name: string }; Querystring: WriteQuery }>('/v1/:plural/:name', write, async (req) => {
    const kind = kindOf(req.params.plural);
    const items = bodyResources(req);
    if (items.length !== 1) throw new ApiError('BAD_REQUEST', 'PUT takes exactly one resource');
    const obj = items[0]!.object as Record<string, unknown>;
    obj.kind = sameKind(obj.kind, kind);
    // A metadata that is not an object is left for validation to report.
    const meta = obj.metadata === undefined ? {} : obj.metadata;
    if (typeof meta === 'object' && meta !== null && !Array.isArray(meta)) {
      const m = meta as Record<string, unknown>;
      if (m.name !== undefined && m.name !== req.params.name) throw new ApiError('BAD_REQUEST', `metadata.name ${JSON.stringify(m.name)} does not match the URL name "${req.params.name}"`);
      obj.metadata = { ...m, name: req.params.name };
    }
    return withImmediate(req, () => deps.resources.write('replace', items, { ...writeOptions(req.query), by: by(req) }));
  });
  app.delete<{ Params: { plural: string; name: string }; Querystring: { dryRun?: string; resourceVersion?: string } }>('/v1/:plural/:name', write, async (req) => {
    const kind = kindOf(req.params.plural);
    const rv = param(req.query, 'resourceVersion');
    return deps.resources.delete([{ kind, name: req.params.name, ...(rv ? { resourceVersion: rv } : {}) }], { dryRun: flag(req.query, 'dryRun'), by: by(req) });
  });

  // Multi-kind batches (natctl apply/create/replace -f, delete -f).
  app.post<{ Querystring: WriteQuery & { mode?: string } }>('/v1/resources', write, async (req) => {
    const mode = (param(req.query, 'mode') ?? 'apply') as WriteMode;
    if (!['apply', 'create', 'replace'].includes(mode)) throw new ApiError('BAD_REQUEST', 'mode must be apply, create or replace');
    return withImmediate(req, () => deps.resources.write(mode, bodyResources(req), { ...writeOptions(req.query), by: by(req) }));
  });
  app.post<{ Querystring: { dryRun?: string } }>('/v1/resources/delete', write, async (req) => {
    // Every field a delete names must be a string: String() of an array or object would
    // turn {"name":["b"]} into "b" (and delete it) or throw on a hostile toString.
    const issues: { resource: string; path: string; reason: string }[] = [];
    const targets = bodyResources(req).map((it, i) => {
      const meta = it.object.metadata;
      const m = meta !== null && typeof meta === 'object' && !Array.isArray(meta) ? (meta as Record<string, unknown>) : undefined;
      const str = (v: unknown, path: string, required: boolean): string | undefined => {
        if (typeof v === 'string' && v !== '') return v;
        if (v === undefined || v === null || v === '') {
          if (required) issues.push({ resource: `[${i}]`, path, reason: 'required (a string)' });
          return undefined;
        }
        issues.push({ resource: `[${i}]`, path, reason: `must be a string (got ${Array.isArray(v) ? 'an array' : typeof v})` });
        return undefined;
      };
      if (meta !== undefined && m === undefined) issues.push({ resource: `[${i}]`, path: 'metadata', reason: 'must be an object' });
      const kind = str(it.object.kind, 'kind', true) ?? '';
      const name = str(m?.['name'], 'metadata.name', true) ?? '';
      const resourceVersion = str(m?.['resourceVersion'], 'metadata.resourceVersion', false);
      return { kind, name, ...(resourceVersion !== undefined ? { resourceVersion } : {}) };
    });
    if (issues.length > 0) throw new ApiError('VALIDATION_FAILED', `${issues.length} problem(s) in the request`, issues);
    return deps.resources.delete(targets, { dryRun: flag(req.query, 'dryRun'), by: by(req) });
  });

  // natctl get's STATUS column: what the compiler made of each stored resource.
  app.get<{ Params: { plural: string } }>('/v1/status/:plural', read, async (req) => {
    const kind = kindOf(req.params.plural);
    const { items } = await deps.resources.list(kind);
    return deps.rollout.resourceStatus(kind, items);
  });
  if (deps.nodes) registerNodeRoutes(app, deps.nodes, { read, write });
  registerRolloutPolicyRoutes(app, policies, { read, write });
  registerRolloutRoutes(app, { rollout: deps.rollout, control, by }, { read, write });
  registerVersionRoute(app, deps.rollout.cluster, read);
  registerDashboardRoutes(app, { tokens: deps.tokens, rollout: deps.rollout, control, logger: deps.logger }, read);
  app.get('/v1/bundles', read, async () => ({ items: await deps.rollout.history() }));
  app.get<{ Params: { version: string } }>('/v1/bundles/:version', read, async (req) => {
    // Digits only: Number() would also read '0x10', '1e3' and ' 5 '.
    const v = /^[0-9]{1,16}$/.test(req.params.version) ? Number(req.params.version) : Number.NaN;
    if (!Number.isSafeInteger(v)) throw new ApiError('BAD_REQUEST', 'version must be a non-negative integer');
    return deps.rollout.bundle(v);
  });
  app.post('/v1/explain', read, async (req) => {
    const b = jsonBody(req);
    for (const f of ['src', 'dst'] as const) if (typeof b[f] !== 'string') throw new ApiError('VALIDATION_FAILED', `${f} is required`, [{ resource: 'explain', path: f, reason: 'required (an IP address)' }]);
    if (b.node !== undefined && typeof b.node !== 'string') throw new ApiError('VALIDATION_FAILED', 'node must be a string', [{ resource: 'explain', path: 'node', reason: 'must be a node name', value: b.node }]);
    const version = versionOf(b, 'explain', 0);
    return deps.rollout.explain({ src: b.src as string, dst: b.dst as string, ...(typeof b.node === 'string' ? { node: b.node } : {}), ...(version !== undefined ? { version } : {}) });
  });
  const history = registerHistoryRoutes(app, { ...deps, control }, read);
  app.post<{ Querystring: { dryRun?: string; force?: string } }>('/v1/rollback', write, async (req) => {
    const b = jsonBody(req);
    const v = versionOf(b, 'rollback', 1);
    if (v === undefined) throw new ApiError('VALIDATION_FAILED', 'version is required', [{ resource: 'rollback', path: 'version', reason: 'required: a bundle version (etcd revision) ≥ 1' }]);
    if (b.dryRun !== undefined && typeof b.dryRun !== 'boolean') throw new ApiError('VALIDATION_FAILED', 'dryRun must be a boolean', [{ resource: 'rollback', path: 'dryRun', reason: 'must be true or false', value: b.dryRun }]);
    const o = rollbackHistoryOptions(b);
    return history.rollback(v, { ...o, dryRun: flag(req.query, 'dryRun') || b.dryRun === true, force: flag(req.query, 'force') || o.force === true, by: by(req) });
  });
  return app;
}
