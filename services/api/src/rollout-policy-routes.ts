/**
 * /v1/rolloutpolicies: natfleet's own RolloutPolicy kind (natfleet.io/v1); the leader
 * compiler's rollout controller acts on it (DESIGN.md §10).
 *   GET    /v1/rolloutpolicies          list      POST /v1/rolloutpolicies   create
 *   GET    /v1/rolloutpolicies/:name    get       PUT  …/:name               replace
 *   DELETE /v1/rolloutpolicies/:name    delete (?resourceVersion, ?dryRun)
 * Static routes, so they win over the Calico kinds' `/v1/:plural` routes. Also their
 * route-table entries (OpenAPI, reference page, response checks). Owns HTTP shape only;
 * rollout-policy-service.ts owns the rules.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NATFLEET_API_VERSION, ROLLOUT_POLICY_KIND, parseResources, type UnknownFieldPolicy } from '@natfleet/model';
import { ApiError } from './errors.js';
import type { RolloutPolicyService } from './rollout-policy-service.js';
import { flag, param, unknownFieldsOf } from './query-params.js';
import { Type } from '@sinclair/typebox';
import { RolloutPolicy, RolloutPolicyList, RolloutPolicyWriteResult } from './schemas/resources.js';
import { WRITE_ERRORS, json, p, q, standardErrors, type RouteDoc } from './schemas/route-table.js';

type Guard = { preHandler: (req: FastifyRequest, reply: FastifyReply) => Promise<void> };
type Q = Record<string, unknown>;
type Json = Record<string, unknown>;

/** The one policy in the body (JSON or YAML); its kind, when given, must be RolloutPolicy. */
function onePolicy(req: FastifyRequest): Json {
  if (typeof req.body !== 'string' || req.body.trim() === '') throw new ApiError('BAD_REQUEST', 'request body is empty');
  const ct = String(req.headers['content-type'] ?? '');
  const items = parseResources(req.body, { format: ct.includes('json') ? 'json' : ct.includes('yaml') ? 'yaml' : 'auto', maxResources: 1 });
  if (items.length !== 1) throw new ApiError('BAD_REQUEST', 'send exactly one RolloutPolicy');
  const obj = items[0]!.object as Json;
  if (obj.kind !== undefined && obj.kind !== ROLLOUT_POLICY_KIND) throw new ApiError('BAD_REQUEST', `body kind ${JSON.stringify(obj.kind)} does not match the URL (${ROLLOUT_POLICY_KIND})`);
  return { ...obj, kind: ROLLOUT_POLICY_KIND };
}

export function registerRolloutPolicyRoutes(app: FastifyInstance, svc: RolloutPolicyService, g: { read: Guard; write: Guard }): void {
  app.get('/v1/rolloutpolicies', g.read, async () => {
    const { revision, items } = await svc.list();
    return { apiVersion: NATFLEET_API_VERSION, kind: `${ROLLOUT_POLICY_KIND}List`, metadata: { resourceVersion: String(revision) }, items };
  });
  app.get<{ Params: { name: string } }>('/v1/rolloutpolicies/:name', g.read, async (req) => svc.get(req.params.name));
  app.post<{ Querystring: Q }>('/v1/rolloutpolicies', g.write, async (req, reply) => {
    const r = await svc.write('create', onePolicy(req), { dryRun: flag(req.query, 'dryRun'), unknownFields: unknownFieldsOf(req.query) });
    return reply.code(r.dryRun ? 200 : 201).send(r);
  });
  app.put<{ Params: { name: string }; Querystring: Q }>('/v1/rolloutpolicies/:name', g.write, async (req) => {
    const obj = onePolicy(req);
    const meta = obj.metadata === undefined ? {} : obj.metadata;
    // A metadata that is not an object is left for validation to report.
    if (typeof meta === 'object' && meta !== null && !Array.isArray(meta)) {
      const m = meta as Json;
      if (m.name !== undefined && m.name !== req.params.name) throw new ApiError('BAD_REQUEST', `metadata.name ${JSON.stringify(m.name)} does not match the URL name "${req.params.name}"`);
      obj.metadata = { ...m, name: req.params.name };
    }
    return svc.write(flag(req.query, 'apply') ? 'apply' : 'replace', obj, { dryRun: flag(req.query, 'dryRun'), unknownFields: unknownFieldsOf(req.query) });
  });
  app.delete<{ Params: { name: string }; Querystring: Q }>('/v1/rolloutpolicies/:name', g.write, async (req) => {
    const rv = param(req.query, 'resourceVersion');
    return svc.delete(req.params.name, { dryRun: flag(req.query, 'dryRun'), ...(rv ? { resourceVersion: rv } : {}) });
  });
}

const dryRun = q('dryRun', Type.Boolean(), 'Validate and report what would change without writing.');
const validate = q('validate', Type.Union([Type.Literal('strict'), Type.Literal('warn')], { default: 'strict' }), 'Unknown fields: strict answers 422; warn stores the policy and lists them in `warnings`.');
const name = p('name', Type.String(), 'metadata.name');
const body = { required: true, json: RolloutPolicy, yaml: true, description: 'One RolloutPolicy (apiVersion natfleet.io/v1), JSON or YAML' };
const errors = (auth: 'read' | 'write') => standardErrors(auth, auth === 'write' ? WRITE_ERRORS : {});
const NOTE = " The leader compiler's rollout controller stages every new bundle through the waves of the first RolloutPolicy by name.";

/** Route-table entries for /v1/rolloutpolicies (openapi.ts, api-reference.ts, response-check.ts). */
export const ROLLOUT_POLICY_ROUTES: readonly RouteDoc[] = [
  { method: 'GET', url: '/v1/rolloutpolicies', tag: 'rolloutpolicies', auth: 'read', summary: `List RolloutPolicies (natfleet.io/v1, stored under natfleet's etcd prefix, not Calico's).${NOTE}`, responses: { '200': json('RolloutPolicyList', RolloutPolicyList), ...errors('read') } },
  {
    method: 'POST',
    url: '/v1/rolloutpolicies',
    tag: 'rolloutpolicies',
    auth: 'write',
    summary: `Create a RolloutPolicy (fails if it exists; metadata.resourceVersion must not be set).${NOTE}`,
    params: [dryRun, validate],
    body,
    responses: { '201': json('Written', RolloutPolicyWriteResult), '200': json('Dry run', RolloutPolicyWriteResult), ...errors('write') },
  },
  { method: 'GET', url: '/v1/rolloutpolicies/:name', tag: 'rolloutpolicies', auth: 'read', summary: 'Get one RolloutPolicy; metadata.resourceVersion is the etcd mod revision', params: [name], responses: { '200': json('RolloutPolicy', RolloutPolicy), ...errors('read') } },
  {
    method: 'PUT',
    url: '/v1/rolloutpolicies/:name',
    tag: 'rolloutpolicies',
    auth: 'write',
    summary: `Replace (fails if absent), or apply with ?apply=true (creates or updates); resourceVersion must match when set.${NOTE}`,
    params: [name, dryRun, validate, q('apply', Type.Boolean())],
    body,
    responses: { '200': json('Written', RolloutPolicyWriteResult), ...errors('write') },
  },
  { method: 'DELETE', url: '/v1/rolloutpolicies/:name', tag: 'rolloutpolicies', auth: 'write', summary: 'Delete a RolloutPolicy', params: [name, dryRun, q('resourceVersion', Type.String())], responses: { '200': json('Deleted', RolloutPolicyWriteResult), ...errors('write') } },
];
