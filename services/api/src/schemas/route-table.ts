/**
 * The route table: every route the API serves, with its summary, who may call it, its
 * parameters, body and responses as schemas from this folder. openapi.ts renders it as
 * the OpenAPI document, api-reference.ts as the reference page, response-check.ts
 * validates answers against it. Data and the types that describe it only — no routes are
 * registered here, and nothing here changes what a route does.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { ErrorBody } from './common.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ParamDoc {
  name: string;
  in: 'path' | 'query';
  schema: TSchema;
  description?: string;
  required?: boolean;
}

export interface ResponseDoc {
  description: string;
  /** The JSON body's schema; absent when `contentType` is not JSON. */
  schema?: TSchema;
  /** Default application/json. */
  contentType?: string;
}

export interface RouteDoc {
  method: HttpMethod;
  /** In fastify's form (`/v1/:plural/:name`); openapi.ts writes `{plural}`. */
  url: string;
  summary: string;
  /** none: no token; read: a read or write token; write: a write token. */
  auth: 'none' | 'read' | 'write';
  tag: string;
  params?: ParamDoc[];
  body?: { required: boolean; json?: TSchema; yaml?: boolean; description?: string };
  responses: Record<string, ResponseDoc>;
}

export const ErrorResponse = (description: string): ResponseDoc => ({ description, schema: ErrorBody });

/** The errors every /v1 route can answer with, by who may call it (plus its own). */
export function standardErrors(auth: RouteDoc['auth'], own: Record<string, string> = {}): Record<string, ResponseDoc> {
  const e: Record<string, string> = {
    '400': 'Malformed request, URL or query parameter (BAD_REQUEST, PARSE_FAILED)',
    ...(auth !== 'none' ? { '401': 'Missing or unknown bearer token (UNAUTHORIZED)' } : {}),
    ...(auth === 'write' ? { '403': 'Token may only read (FORBIDDEN)' } : {}),
    '404': 'Not found (NOT_FOUND)',
    '500': 'Internal error (INTERNAL; logged, never a stack trace)',
    '503': 'etcd or NATS unavailable (UNAVAILABLE; Retry-After says when to retry)',
    ...own,
  };
  return Object.fromEntries(Object.entries(e).map(([code, d]) => [code, ErrorResponse(d)]));
}

export const WRITE_ERRORS = {
  '409': 'Exists already, or resourceVersion is stale; nothing was written (ALREADY_EXISTS, CONFLICT)',
  '413': 'Body too large (PAYLOAD_TOO_LARGE), or more than 1,000 resources in one request (BATCH_TOO_LARGE)',
  '415': 'Content-Type is not JSON or YAML (UNSUPPORTED_MEDIA_TYPE)',
  '422': 'Validation failed; the problems are listed in issues (the first 100; message gives the total)',
};

export const q = (name: string, schema: TSchema, description?: string): ParamDoc => ({ name, in: 'query', schema, ...(description ? { description } : {}) });
export const p = (name: string, schema: TSchema, description?: string): ParamDoc => ({ name, in: 'path', required: true, schema, ...(description ? { description } : {}) });
export const json = (description: string, schema: TSchema): ResponseDoc => ({ description, schema });
