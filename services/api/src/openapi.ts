/**
 * The OpenAPI 3.1 description served at /openapi.json. Hand-written to stay small and
 * exact; resource bodies are Calico v3 resources (see projectcalico.org docs), so their
 * schemas are left open (`additionalProperties`) rather than duplicated here.
 */

import { ROLLOUT_POLICY_PATHS } from './rollout-policy-routes.js';
import { IMMEDIATE_PARAM, ROLLOUT_PATHS, ROLLOUT_SCHEMAS } from './rollout-openapi.js';

const err = { $ref: '#/components/schemas/Error' };
const resp = (description: string, schema: object = { type: 'object' }) => ({ description, content: { 'application/json': { schema } } });
const errors = {
  '400': resp('Malformed request or body', err),
  '401': resp('Missing or unknown bearer token', err),
  '403': resp('Token may only read', err),
  '404': resp('Not found', err),
  '409': resp('Exists already, or resourceVersion is stale; nothing was written', err),
  '413': resp('Body too large (PAYLOAD_TOO_LARGE), or more than 1,000 resources in one request (BATCH_TOO_LARGE)', err),
  '422': resp('Validation failed; the problems are listed in issues (the first 100; message gives the total)', err),
  '503': resp('etcd or NATS unavailable', err),
};
const validate = { name: 'validate', in: 'query', schema: { enum: ['strict', 'warn'], default: 'strict' }, description: 'Unknown or deprecated fields: strict answers 422 and stores nothing; warn stores them and lists them in `warnings`.' };
const dryRun = { name: 'dryRun', in: 'query', schema: { type: 'boolean' }, description: 'Validate and report what would change (resources and NAT sets) without writing.' };
const body = {
  required: true,
  content: {
    'application/json': { schema: { $ref: '#/components/schemas/Resources' } },
    'application/yaml': { schema: { type: 'string', description: 'One or more YAML documents, or a kind: List' } },
  },
};
const plural = { name: 'plural', in: 'path', required: true, schema: { enum: ['ippools', 'felixconfigurations'] } };
const name = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };

export function openApiDocument(): object {
  return {
    openapi: '3.1.0',
    info: { title: 'natfleet API', version: '1', description: 'Calico-compatible IP pools and NAT settings in; rollout status out.' },
    security: [{ bearer: [] }],
    paths: {
      '/v1/{plural}': {
        get: { summary: 'List resources (Calico List shape)', parameters: [plural], responses: { '200': resp('List'), ...errors } },
        post: { summary: 'Create (fails if any exists; metadata.resourceVersion must not be set)', parameters: [plural, dryRun, validate, IMMEDIATE_PARAM], requestBody: body, responses: { '201': resp('Written', { $ref: '#/components/schemas/WriteResult' }), '200': resp('Dry run', { $ref: '#/components/schemas/WriteResult' }), ...errors } },
      },
      '/v1/{plural}/{name}': {
        get: { summary: 'Get one resource; metadata.resourceVersion is the etcd mod revision', parameters: [plural, name], responses: { '200': resp('Resource'), ...errors } },
        put: { summary: 'Replace (fails if absent); resourceVersion must match when set', parameters: [plural, name, dryRun, validate, IMMEDIATE_PARAM], requestBody: body, responses: { '200': resp('Written', { $ref: '#/components/schemas/WriteResult' }), ...errors } },
        delete: {
          summary: 'Delete; an enabled pool is disabled first, then deleted (as Calico does)',
          parameters: [plural, name, dryRun, { name: 'resourceVersion', in: 'query', schema: { type: 'string' } }],
          responses: { '200': resp('Deleted', { $ref: '#/components/schemas/WriteResult' }), ...errors },
        },
      },
      '/v1/resources': {
        post: {
          summary: 'Write a multi-document batch all-or-nothing (natctl apply/create/replace -f)',
          parameters: [{ name: 'mode', in: 'query', schema: { enum: ['apply', 'create', 'replace'], default: 'apply' } }, dryRun, validate, IMMEDIATE_PARAM],
          requestBody: body,
          responses: { '200': resp('Written', { $ref: '#/components/schemas/WriteResult' }), ...errors },
        },
      },
      '/v1/resources/delete': { post: { summary: 'Delete the resources named in the body', parameters: [dryRun], requestBody: body, responses: { '200': resp('Deleted', { $ref: '#/components/schemas/WriteResult' }), ...errors } } },
      '/v1/status/{plural}': { get: { summary: "The compiler's verdict on each stored resource (Active, Skipped, Shadowed by, Unknown fields), from the newest bundle", parameters: [plural], responses: { '200': resp('Statuses'), ...errors } } },
      ...ROLLOUT_PATHS,
      '/v1/version': {
        get: {
          summary: 'The API server version, the bundle apiVersion and the cluster (natctl version)',
          responses: { '200': resp('Version', { type: 'object', required: ['version', 'bundleApiVersion', 'cluster'], properties: { version: { type: 'string' }, bundleApiVersion: { type: 'string' }, cluster: { type: 'string' } } }), ...errors },
        },
      },
      '/v1/bundles': {
        get: {
          summary: 'Bundle history from the stream, newest first; messages that are not valid bundles are listed with `invalid` and used by no other view',
          responses: { '200': resp('History', { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/HistoryItem' } } } }), ...errors },
        },
      },
      '/v1/bundles/{version}': { get: { summary: 'One valid bundle by version (invalid messages never match)', parameters: [{ name: 'version', in: 'path', required: true, schema: { type: 'integer' } }], responses: { '200': resp('Bundle'), ...errors } } },
      '/v1/explain': {
        post: {
          summary: 'Why a flow is (not) NATed on a node, under the newest valid bundle or `version`',
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['src', 'dst'], properties: { src: { type: 'string' }, dst: { type: 'string' }, node: { type: 'string' }, version: { type: 'integer' } } } } } },
          responses: { '200': resp('Explanation'), ...errors },
        },
      },
      '/v1/history': {
        get: {
          summary: 'Bundle history (as /v1/bundles), each valid bundle with `change`: the resources changed since the previous one and who changed them (`via` api with the token name `by`, rollback with `rollbackOf`, etcdctl, inventory for Nodes), or `status` compacted / no-predecessor; and `rollout`: how its staged rollout went (the controller\'s outcome record: completed, aborted, halted, rolled-back, superseded, with failing nodes), null when no record tells',
          responses: { '200': resp('History with changes', { type: 'object', properties: { items: { type: 'array', items: { allOf: [{ $ref: '#/components/schemas/HistoryItem' }, { type: 'object', properties: { change: { type: 'object' }, rollout: { oneOf: [{ $ref: '#/components/schemas/HistoryRollout' }, { type: 'null' }] } } }] } } } }), ...errors },
        },
      },
      '/v1/history/{version}': {
        get: {
          summary: "One bundle against its predecessor in history: `change`, `nat` (set diff per family), `settings` (leaf diff of fleet settings and node overrides), every warning in full (`new` when the predecessor lacked it) and `rollout` (HistoryRollout, or null): its staged rollout's outcome with the failing nodes and reasons",
          parameters: [{ name: 'version', in: 'path', required: true, schema: { type: 'integer' } }],
          responses: { '200': resp('Version detail'), ...errors },
        },
      },
      '/v1/rollback': {
        post: {
          summary:
            'Restore pools and NAT config as of a bundle version in history, in one transaction, creating a new version; a version not in history is a 404 with nothing written unless `force` (then `version` is any etcd revision). `previewRevision` (the `revision` of the dry run the operator confirmed): 409 with nothing written when pools or NAT config changed since',
          parameters: [dryRun, { name: 'force', in: 'query', schema: { type: 'boolean' } }],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['version'], properties: { version: { type: 'integer' }, dryRun: { type: 'boolean' }, force: { type: 'boolean' }, previewRevision: { type: 'integer' } } } } } },
          responses: { '200': resp('Rolled back', { $ref: '#/components/schemas/WriteResult' }), ...errors },
        },
      },
      ...ROLLOUT_POLICY_PATHS,
      '/healthz': { get: { security: [], summary: 'Liveness', responses: { '200': resp('ok') } } },
      '/readyz': { get: { security: [], summary: 'Readiness (etcd and NATS reachable)', responses: { '200': resp('ready'), '503': resp('not ready') } } },
      '/metrics': { get: { security: [], summary: 'Prometheus metrics', responses: { '200': { description: 'text/plain' } } } },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string' },
            message: { type: 'string' },
            issues: { type: 'array', items: { $ref: '#/components/schemas/FieldIssue' } },
          },
        },
        HistoryItem: {
          description:
            'One message of the bundle subject. It is a valid bundle when its body decodes, its digest (and, when the API runs with --trusted-keys-file, its Ed25519 signature) verifies, it names this cluster and its Natfleet-Version/Natfleet-Digest headers match the body. Without --trusted-keys-file only the digest is checked, so a well-formed forgery is not detected: configure the keys the enforcers trust. Any other message (garbage, forged, re-published under altered headers) is listed with `invalid` — its `version` and `digest` are then what its unsigned headers claim — and is ignored by /v1/rollout, /v1/bundles/{version}, /v1/explain and /v1/status.',
          type: 'object',
          required: ['seq', 'version', 'digest', 'publishedAt'],
          properties: {
            seq: { type: 'integer', description: 'Stream sequence' },
            version: { type: 'integer' },
            digest: { type: 'string' },
            publishedAt: { type: 'string', format: 'date-time' },
            sourceRevision: { type: 'integer' },
            compiledAt: { type: 'string' },
            warnings: { type: 'integer' },
            masquerade: { type: 'object', properties: { v4: { type: 'integer' }, v6: { type: 'integer' } } },
            noNat: { type: 'object', properties: { v4: { type: 'integer' }, v6: { type: 'integer' } } },
            invalid: {
              type: 'object',
              description: 'Present only on a message that is not a valid bundle',
              required: ['code', 'message'],
              properties: {
                code: { enum: ['MALFORMED', 'TOO_LARGE', 'UNSUPPORTED_API_VERSION', 'BAD_DIGEST', 'UNKNOWN_KEY', 'BAD_SIGNATURE', 'WRONG_CLUSTER', 'HEADER_MISMATCH'] },
                message: { type: 'string' },
              },
            },
          },
        },
        FieldIssue: { type: 'object', properties: { resource: { type: 'string' }, path: { type: 'string' }, reason: { type: 'string' } } },
        Resources: { description: 'A Calico v3 resource, an array of them, or a kind: List', type: ['object', 'array'], additionalProperties: true },
        ...ROLLOUT_SCHEMAS,
        WriteResult: {
          type: 'object',
          properties: {
            immediate: { $ref: '#/components/schemas/ImmediateResult' },
            dryRun: { type: 'boolean' },
            warnings: { type: 'array', items: { $ref: '#/components/schemas/FieldIssue' }, description: 'Fields stored despite being unknown (validate=warn).' },
            revision: { type: 'integer' },
            changes: { type: 'array', items: { type: 'object', properties: { kind: { type: 'string' }, name: { type: 'string' }, action: { enum: ['created', 'updated', 'unchanged', 'disabled', 'deleted'] }, resourceVersion: { type: 'string' } } } },
            nat: { type: 'object', description: 'What the change does to the enforced NAT sets (added/removed CIDRs per family, settings, node overrides)' },
          },
        },
      },
    },
  };
}
