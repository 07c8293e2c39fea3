/**
 * The OpenAPI 3.1 document served at /openapi.json, generated from the route table
 * (schemas/route-table.ts and the entries beside the rollout and RolloutPolicy handlers)
 * and the TypeBox schemas in schemas/ — the one source that also types the routes and
 * checks their answers. A schema with a `title` becomes a component and is referenced by
 * `$ref`. Pure: builds a fresh document per call, never registers routes.
 */
import type { TSchema } from '@sinclair/typebox';
import { ROLLOUT_POLICY_ROUTES } from './rollout-policy-routes.js';
import { ROLLOUT_ROUTES } from './rollout-openapi.js';
import { API_ROUTES } from './schemas/api-routes.js';
import { ErrorBody } from './schemas/common.js';
import { DASHBOARD_ROUTE_DOCS } from './schemas/dashboard-doc.js';
import type { ParamDoc, RouteDoc } from './schemas/route-table.js';

/** Every documented route, in document order. */
export const ALL_ROUTES: readonly RouteDoc[] = [...API_ROUTES, ...ROLLOUT_ROUTES, ...ROLLOUT_POLICY_ROUTES, ...DASHBOARD_ROUTE_DOCS];
export { isUndocumentedRoute } from './schemas/dashboard-doc.js';

type Json = Record<string, unknown>;

/** `/v1/:plural/:name` → `/v1/{plural}/{name}`. */
export const openApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Collects titled schemas as components while converting (TypeBox symbols dropped). */
class ComponentSet {
  readonly schemas: Record<string, Json> = {};
  private readonly seen = new Map<string, string>();

  ref(schema: TSchema): Json {
    return this.walk(JSON.parse(JSON.stringify(schema)), undefined) as Json;
  }

  private walk(node: unknown, root: string | undefined): unknown {
    if (Array.isArray(node)) return node.map((n) => this.walk(n, undefined));
    if (node === null || typeof node !== 'object') return node;
    const o = node as Json;
    const title = o['title'];
    if (typeof title === 'string' && title !== root) {
      const text = JSON.stringify(o);
      const known = this.seen.get(title);
      // Two different schemas under one title would make one $ref lie about the other.
      if (known !== undefined && known !== text) throw new Error(`two different schemas are titled ${title}`);
      if (known === undefined) {
        this.seen.set(title, text);
        this.schemas[title] = this.walk(o, title) as Json;
      }
      return { $ref: `#/components/schemas/${title}` };
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, k === 'properties' || k === 'patternProperties' ? this.walkMap(v) : this.walk(v, undefined)]));
  }

  /** A properties map: its keys are names, not schema keywords. */
  private walkMap(v: unknown): unknown {
    if (v === null || typeof v !== 'object') return v;
    return Object.fromEntries(Object.entries(v as Json).map(([k, s]) => [k, this.walk(s, undefined)]));
  }
}

const AUTH_NOTE: Record<RouteDoc['auth'], string> = { none: 'No token.', read: 'Read or write token.', write: 'Write token.' };

function operation(r: RouteDoc, c: ComponentSet): Json {
  const param = (d: ParamDoc): Json => ({ name: d.name, in: d.in, ...(d.in === 'path' || d.required ? { required: true } : {}), schema: c.ref(d.schema), ...(d.description ? { description: d.description } : {}) });
  const body = r.body
    ? {
        requestBody: {
          required: r.body.required,
          ...(r.body.description ? { description: r.body.description } : {}),
          content: {
            ...(r.body.json ? { 'application/json': { schema: c.ref(r.body.json) } } : {}),
            ...(r.body.yaml ? { 'application/yaml': { schema: { type: 'string', description: 'The same as YAML: one or more documents' } } } : {}),
          },
        },
      }
    : {};
  const responses = Object.fromEntries(
    Object.entries(r.responses).map(([status, d]) => {
      const ct = d.contentType ?? 'application/json';
      return [status, { description: d.description, content: { [ct]: { schema: d.schema ? c.ref(d.schema) : { type: 'string' } } } }];
    }),
  );
  return {
    operationId: `${r.method.toLowerCase()}${openApiPath(r.url).replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ? ch.toUpperCase() : ''))}`,
    tags: [r.tag],
    summary: r.summary.length > 120 ? `${r.summary.slice(0, r.summary.search(/[.;:(]|$/)).slice(0, 117)}` : r.summary,
    description: `${r.summary}\n\n${AUTH_NOTE[r.auth]}`,
    ...(r.auth === 'none' ? { security: [] } : {}),
    ...(r.params?.length ? { parameters: r.params.map(param) } : {}),
    ...body,
    responses,
  };
}

/** The OpenAPI document of `routes` (default: every route the API serves). */
export function openApiDocument(routes: readonly RouteDoc[] = ALL_ROUTES): Json {
  const c = new ComponentSet();
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const path = openApiPath(r.url);
    paths[path] = { ...paths[path], [r.method.toLowerCase()]: operation(r, c) };
  }
  c.ref(ErrorBody);
  return {
    openapi: '3.1.0',
    info: {
      title: 'natfleet API',
      version: '1',
      description:
        'Calico-compatible IP pools and NAT settings in; rollout status, history and explain out. Bodies are JSON or YAML; every error is `{code, message, issues?}` (Error). Authenticate with `Authorization: Bearer <token>`: read tokens see, write tokens may change. The reference page is at /docs.',
    },
    security: [{ bearer: [] }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: c.schemas },
  };
}

let served: string | undefined;

/**
 * GET /openapi.json's body: the default document as JSON text, built once per process (a
 * build takes tens of ms of CPU and the route needs no token, so it must not be per request).
 */
export function openApiJson(): string {
  served ??= JSON.stringify(openApiDocument());
  return served;
}
