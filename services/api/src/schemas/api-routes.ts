/**
 * The route table of the Calico resources, batches, status, bundles, history, explain,
 * rollback, version, nodes and the unauthenticated endpoints (the rollout and
 * RolloutPolicy routes live beside their handlers: rollout-openapi.ts,
 * rollout-policy-routes.ts). Data only.
 */
import { Type } from '@sinclair/typebox';
import { ErrorBody, Str } from './common.js';
import { BundleHistory, Bundle, Explanation, ExplainRequest, HistoryList, NodeDeleted, NodeDescription, NodeList, RollbackRequest, VersionDetail, VersionInfo } from './history.js';
import { CalicoResource, CalicoResourceList, DeleteBody, ResourceStatuses, ResourcesBody, RollbackResult, WriteResult } from './resources.js';
import { WRITE_ERRORS, json, p, q, standardErrors, type ParamDoc, type RouteDoc } from './route-table.js';

const plural = p('plural', Type.Union([Type.Literal('ippools'), Type.Literal('felixconfigurations')]), 'The Calico kind');
const name = p('name', Str(), 'metadata.name');
const dryRun = q('dryRun', Type.Boolean(), 'Validate and report what would change (resources and NAT sets) without writing.');
const validate = q('validate', Type.Union([Type.Literal('strict'), Type.Literal('warn')], { default: 'strict' }), 'Unknown or deprecated fields: strict answers 422 and stores nothing; warn stores them and lists them in `warnings` (`fieldValidation=Strict|Warn` too).');
const version = p('version', Type.Integer({ minimum: 0 }), 'Bundle version (etcd revision), digits only');

/** `?immediate=true` on create / replace / apply. */
export const IMMEDIATE_PARAM: ParamDoc = q(
  'immediate',
  Type.Boolean(),
  'After the write committed, also write an `immediate` rollout command carrying its revision: the first candidate at or past it is admitted to every remaining node as one final wave named `immediate` (gates still apply). Written only when the write changes the enforced NAT sets; `immediate` in the answer says what was done.',
);
const resourcesBody = { required: true, json: ResourcesBody, yaml: true, description: 'JSON, or one or more YAML documents (or a kind: List)' };
const writeErrors = (auth: 'write') => standardErrors(auth, WRITE_ERRORS);
const HistoryDesc =
  'One message of the bundle subject. It is a valid bundle when its body decodes, its digest (and, with --trusted-keys-file, its Ed25519 signature) verifies, it names this cluster and its Natfleet-Version/Natfleet-Digest headers match the body; any other message is listed with `invalid` and ignored by /v1/rollout, /v1/bundles/{version}, /v1/explain and /v1/status.';

export const API_ROUTES: readonly RouteDoc[] = [
  { method: 'GET', url: '/v1/:plural', tag: 'resources', auth: 'read', summary: 'List resources (Calico List shape)', params: [plural], responses: { '200': json('IPPoolList or FelixConfigurationList', CalicoResourceList), ...standardErrors('read') } },
  {
    method: 'POST',
    url: '/v1/:plural',
    tag: 'resources',
    auth: 'write',
    summary: 'Create (fails if any exists; metadata.resourceVersion must not be set)',
    params: [plural, dryRun, validate, IMMEDIATE_PARAM],
    body: resourcesBody,
    responses: { '201': json('Written', WriteResult), '200': json('Dry run', WriteResult), ...writeErrors('write') },
  },
  { method: 'GET', url: '/v1/:plural/:name', tag: 'resources', auth: 'read', summary: 'Get one resource; metadata.resourceVersion is the etcd mod revision', params: [plural, name], responses: { '200': json('The resource', CalicoResource), ...standardErrors('read') } },
  {
    method: 'PUT',
    url: '/v1/:plural/:name',
    tag: 'resources',
    auth: 'write',
    summary: 'Replace (fails if absent); resourceVersion must match when set',
    params: [plural, name, dryRun, validate, IMMEDIATE_PARAM],
    body: resourcesBody,
    responses: { '200': json('Written', WriteResult), ...writeErrors('write') },
  },
  {
    method: 'DELETE',
    url: '/v1/:plural/:name',
    tag: 'resources',
    auth: 'write',
    summary: 'Delete; an enabled pool is disabled first, then deleted (as Calico does)',
    params: [plural, name, dryRun, q('resourceVersion', Str(), 'Refuse (409) unless the stored resource has this mod revision')],
    responses: { '200': json('Deleted', WriteResult), ...writeErrors('write') },
  },
  {
    method: 'POST',
    url: '/v1/resources',
    tag: 'resources',
    auth: 'write',
    summary: 'Write a multi-document batch all-or-nothing (natctl apply/create/replace -f)',
    params: [q('mode', Type.Union([Type.Literal('apply'), Type.Literal('create'), Type.Literal('replace')], { default: 'apply' })), dryRun, validate, IMMEDIATE_PARAM],
    body: resourcesBody,
    responses: { '200': json('Written', WriteResult), ...writeErrors('write') },
  },
  {
    method: 'POST',
    url: '/v1/resources/delete',
    tag: 'resources',
    auth: 'write',
    summary: 'Delete the resources named in the body, all-or-nothing (natctl delete -f)',
    params: [dryRun],
    body: { required: true, json: DeleteBody, yaml: true },
    responses: { '200': json('Deleted', WriteResult), ...writeErrors('write') },
  },
  {
    method: 'GET',
    url: '/v1/status/:plural',
    tag: 'resources',
    auth: 'read',
    summary: "The compiler's verdict on each stored resource (Active, Skipped, Shadowed by, Unknown fields), from the newest bundle (natctl get's STATUS column)",
    params: [plural],
    responses: { '200': json('Statuses', ResourceStatuses), ...standardErrors('read') },
  },
  { method: 'GET', url: '/v1/version', tag: 'fleet', auth: 'read', summary: 'The API server version, the bundle apiVersion and the cluster (natctl version)', responses: { '200': json('Version', VersionInfo), ...standardErrors('read') } },
  { method: 'GET', url: '/v1/bundles', tag: 'history', auth: 'read', summary: `Bundle history from the stream, newest first. ${HistoryDesc}`, responses: { '200': json('History', BundleHistory), ...standardErrors('read') } },
  { method: 'GET', url: '/v1/bundles/:version', tag: 'history', auth: 'read', summary: 'One valid bundle by version (invalid messages never match)', params: [version], responses: { '200': json('Bundle', Bundle), ...standardErrors('read') } },
  {
    method: 'POST',
    url: '/v1/explain',
    tag: 'fleet',
    auth: 'read',
    summary: 'Why a flow is (not) NATed on a node, under the newest valid bundle or `version` (natctl explain)',
    body: { required: true, json: ExplainRequest },
    responses: { '200': json('Explanation', Explanation), ...standardErrors('read', { '413': 'Body too large', '415': 'Content-Type is not JSON', '422': 'src/dst not IP addresses, node or version invalid' }) },
  },
  {
    method: 'GET',
    url: '/v1/history',
    tag: 'history',
    auth: 'read',
    summary:
      "Bundle history (as /v1/bundles), each valid bundle with `change`: the resources changed since the previous one and who changed them (via api with the token name `by`, rollback with `rollbackOf`, etcdctl, inventory for Nodes), or status compacted / no-predecessor; and `rollout`: how its staged rollout went (completed, aborted, halted, rolled-back, superseded, with failing nodes), null when no record tells",
    responses: { '200': json('History with changes', HistoryList), ...standardErrors('read') },
  },
  {
    method: 'GET',
    url: '/v1/history/:version',
    tag: 'history',
    auth: 'read',
    summary: 'One bundle against its predecessor in history: `change`, `nat` (set diff per family), `settings` (leaf diff), every warning in full (`new` when the predecessor lacked it) and `rollout` (HistoryRollout, or null)',
    params: [version],
    responses: { '200': json('Version detail', VersionDetail), ...standardErrors('read') },
  },
  {
    method: 'POST',
    url: '/v1/rollback',
    tag: 'history',
    auth: 'write',
    summary:
      'Restore pools and NAT config as of a bundle version in history, in one transaction, creating a new version; a version not in history is a 404 with nothing written unless `force` (then any etcd revision). `previewRevision`: 409 with nothing written when pools or NAT config changed since that dry run',
    params: [dryRun, q('force', Type.Boolean())],
    body: { required: true, json: RollbackRequest },
    responses: { '200': json('Rolled back (or the dry run)', RollbackResult), ...writeErrors('write') },
  },
  { method: 'GET', url: '/v1/nodes', tag: 'nodes', auth: 'read', summary: 'Every expected node (registered Node resource or reporting in the KV), sorted by name, classified against the desired version', responses: { '200': json('Nodes', NodeList), ...standardErrors('read') } },
  {
    method: 'GET',
    url: '/v1/nodes/:name',
    tag: 'nodes',
    auth: 'read',
    summary: 'One node with its Node resource and the desired-vs-enforced NAT diff (natctl describe node)',
    params: [p('name', Str(), 'Node name (DNS-1123 subdomain)')],
    responses: { '200': json('Node', NodeDescription), ...standardErrors('read') },
  },
  {
    method: 'DELETE',
    url: '/v1/nodes/:name',
    tag: 'nodes',
    auth: 'write',
    summary: 'Decommission a node: delete its Node resource and its KV status',
    params: [p('name', Str(), 'Node name (DNS-1123 subdomain)')],
    responses: { '200': json('What was removed', NodeDeleted), ...standardErrors('write') },
  },
  { method: 'GET', url: '/healthz', tag: 'operations', auth: 'none', summary: 'Liveness', responses: { '200': json('Alive', Type.Object({ status: Type.Literal('ok') })) } },
  {
    method: 'GET',
    url: '/readyz',
    tag: 'operations',
    auth: 'none',
    summary: 'Readiness (etcd and NATS reachable)',
    responses: {
      '200': json('Ready', Type.Object({ ready: Type.Boolean(), checks: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean() }, { additionalProperties: true })) }, { title: 'Readiness' })),
      '503': json('Not ready', Type.Object({ ready: Type.Boolean(), checks: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean() }, { additionalProperties: true })) })),
    },
  },
  { method: 'GET', url: '/metrics', tag: 'operations', auth: 'none', summary: 'Prometheus metrics (text exposition format)', responses: { '200': { description: 'Prometheus text format', contentType: 'text/plain' } } },
  { method: 'GET', url: '/openapi.json', tag: 'operations', auth: 'none', summary: 'This OpenAPI 3.1 document', responses: { '200': json('The document', Type.Object({ openapi: Str(), info: Type.Object({ title: Str(), version: Str() }, { additionalProperties: true }), paths: Type.Record(Type.String(), Type.Unknown()) }, { additionalProperties: true })) } },
  { method: 'GET', url: '/docs', tag: 'operations', auth: 'none', summary: 'The API reference page (HTML, rendered from this document; works offline)', responses: { '200': { description: 'HTML', contentType: 'text/html' } } },
];

/** The answer of an unknown route (the not-found handler): the error body. */
export const NOT_FOUND_BODY = ErrorBody;
