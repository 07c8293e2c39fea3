/**
 * Checks the API's answers against the route table: for every JSON response, the schema
 * the table declares for its route and status (the error body for unknown routes), with
 * ajv. Used by tests (the integration harness hooks it into the app with
 * `checkResponses`); the running API never validates its own answers. Owns no routes and
 * never alters a response.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifyInstance } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { ErrorBody } from './common.js';
import { isUndocumentedRoute } from './dashboard-doc.js';
import type { RouteDoc } from './route-table.js';

export interface ResponseViolation {
  method: string;
  /** The route's URL pattern (`/v1/:plural`), or the request URL when no route matched. */
  route: string;
  status: number;
  /** What is wrong: undocumented route or status, or ajv's errors (`/path message`). */
  problem: string;
  /** The first 500 characters of the body. */
  body: string;
}

export interface ResponseValidator {
  /** The violation of one answer, or undefined when it matches (or is not JSON, or a HEAD). */
  check(method: string, route: string | undefined, status: number, contentType: string, body: string): ResponseViolation | undefined;
}

/** A validator for the answers of `routes`; compiles each schema once. */
export function responseValidator(routes: readonly RouteDoc[]): ResponseValidator {
  // Formats are annotations here (timestamps come from records the API only copies).
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  const compiled = new Map<TSchema, ValidateFunction>();
  const compile = (s: TSchema): ValidateFunction => {
    let v = compiled.get(s);
    if (!v) compiled.set(s, (v = ajv.compile(s)));
    return v;
  };
  const table = new Map(routes.map((r) => [`${r.method} ${r.url}`, r]));
  return {
    check(method, route, status, contentType, body) {
      if (method === 'HEAD' || method === 'OPTIONS' || (route !== undefined && isUndocumentedRoute(route))) return undefined;
      const v = (problem: string): ResponseViolation => ({ method, route: route ?? '(no route)', status, problem, body: body.slice(0, 500) });
      const doc = route === undefined ? undefined : table.get(`${method} ${route}`);
      let schema: TSchema | undefined;
      let declaredType = 'application/json';
      if (route === undefined) {
        if (status < 400) return v('an answer without a route');
        schema = ErrorBody;
      } else if (!doc) {
        return v('route not in the OpenAPI document');
      } else {
        const d = doc.responses[String(status)];
        if (!d) return v(`status ${status} not documented for this route`);
        schema = d.schema;
        declaredType = d.contentType ?? 'application/json';
      }
      const type = contentType.split(';')[0]!.trim();
      if (type !== declaredType && !(declaredType === 'text/plain' && type.startsWith('text/plain'))) return v(`content-type ${type || '(none)'}, documented ${declaredType}`);
      if (!schema) return undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return v('body is not JSON');
      }
      const validate = compile(schema);
      if (validate(parsed)) return undefined;
      return v((validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`).join('; '));
    },
  };
}

/**
 * Hooks the check into `app` (before it is ready): every answer is checked as it is sent
 * and violations are recorded (never thrown: the client still gets the real answer).
 * With `failOnClose`, `app.close()` rejects listing them, so a test that closes its app
 * fails on any answer that does not match its documented schema.
 */
export function checkResponses(app: FastifyInstance, routes: readonly RouteDoc[], o: { failOnClose?: boolean } = {}): { violations: ResponseViolation[]; checked: Set<string> } {
  const validator = responseValidator(routes);
  const violations: ResponseViolation[] = [];
  /** `METHOD route status` of every answer checked (what the tests exercised). */
  const checked = new Set<string>();
  app.addHook('onSend', async (req, reply, payload) => {
    const text = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
    const ct = String(reply.getHeader('content-type') ?? '');
    // Streams (SSE, static files) are not JSON answers; their content type is still checked.
    if (req.method !== 'HEAD') checked.add(`${req.method} ${req.routeOptions.url ?? '(no route)'} ${reply.statusCode}`);
    const v = validator.check(req.method, req.routeOptions.url, reply.statusCode, ct, text ?? '');
    if (v && (text !== undefined || !v.problem.startsWith('body is not JSON'))) violations.push(v);
    return payload;
  });
  if (o.failOnClose) {
    app.addHook('onClose', async () => {
      if (violations.length > 0) {
        throw new Error(`${violations.length} API answer(s) do not match the OpenAPI document:\n${violations.slice(0, 10).map((x) => `  ${x.method} ${x.route} ${x.status}: ${x.problem}\n    ${x.body}`).join('\n')}`);
      }
    });
  }
  return { violations, checked };
}
