/**
 * Every error the API can answer with, in one registry: stable code → HTTP status. Routes
 * throw ApiError (or errors of the model/store/bus boundaries, translated by `toApiError`);
 * the error handler renders `{code, message, issues?}` and never a stack trace.
 */
import { isBatchTooLargeError, isParseError, isValidationError, type FieldIssue } from '@natfleet/model';
import { isStoreError } from '@natfleet/store';
import { isBusError } from '@natfleet/bus';
import { isBundleError } from '@natfleet/bundle';

export const API_ERRORS = {
  BAD_REQUEST: 400,
  PARSE_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  BATCH_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  VALIDATION_FAILED: 422,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

/**
 * Most issues one error lists. A batch can hold hundreds of bad resources, each with
 * several problems; past this the message carries the total and `issues` the first ones,
 * so an error response stays small whatever the input.
 */
export const MAX_LISTED_ISSUES = 100;

export class ApiError extends Error {
  override name = 'ApiError';
  /** The issues listed (at most MAX_LISTED_ISSUES; the message says how many were left out). */
  readonly issues: readonly FieldIssue[] | undefined;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    issues?: readonly FieldIssue[],
    options?: { cause?: unknown },
  ) {
    const more = issues !== undefined && issues.length > MAX_LISTED_ISSUES ? issues.length - MAX_LISTED_ISSUES : 0;
    super(more > 0 ? `${message} (the first ${MAX_LISTED_ISSUES} are listed; truncated: ${more} more)` : message, options);
    this.issues = more > 0 ? issues!.slice(0, MAX_LISTED_ISSUES) : issues;
  }

  get status(): number {
    return API_ERRORS[this.code];
  }

  toJSON(): { code: ApiErrorCode; message: string; issues?: readonly FieldIssue[] } {
    return { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}) };
  }
}

/** Seconds a client should wait before retrying a 503 (sent as Retry-After). */
export const RETRY_AFTER_SECONDS = 2;

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;

/** Translates boundary errors (model, store, bus, bundle, fastify) into ApiErrors; unknown errors become INTERNAL. */
export function toApiError(err: unknown): ApiError {
  if (isApiError(err)) return err;
  if (isValidationError(err)) return new ApiError('VALIDATION_FAILED', `${err.issues.length} problem(s) in the request`, err.issues);
  if (isParseError(err)) return new ApiError('PARSE_FAILED', err.message);
  if (isBatchTooLargeError(err)) return new ApiError('BATCH_TOO_LARGE', err.message);
  if (isStoreError(err)) {
    const code = err.code === 'INVALID' ? 'BAD_REQUEST' : err.code;
    return new ApiError(code, err.message);
  }
  if (isBusError(err)) return new ApiError('UNAVAILABLE', err.message);
  // nats.js errors that escape the bus package (a request timing out while a server is
  // paused or restarting, a closed connection, JetStream answering 503): the dependency
  // is unavailable, not the API broken.
  if ((err as { name?: string })?.name === 'NatsError') {
    return new ApiError('UNAVAILABLE', `NATS is unavailable (${(err as { code?: string }).code ?? 'error'}: ${(err as Error).message}); retry shortly`, undefined, { cause: err });
  }
  if (isBundleError(err)) return new ApiError('UNAVAILABLE', `stored bundle unreadable: ${err.message}`);
  const fastifyCode = (err as { code?: string; statusCode?: number })?.code;
  if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ApiError('PAYLOAD_TOO_LARGE', 'request body too large');
  if (fastifyCode === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send application/json or application/yaml');
  if (fastifyCode === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fastifyCode === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return new ApiError('BAD_REQUEST', 'empty or invalid request body');
  }
  const status = (err as { statusCode?: number })?.statusCode;
  if (status && status >= 400 && status < 500) return new ApiError('BAD_REQUEST', (err as Error).message);
  return new ApiError('INTERNAL', 'internal error', undefined, { cause: err });
}
