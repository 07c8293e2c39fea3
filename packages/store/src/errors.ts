/**
 * Errors of the etcd boundary. etcd3 client errors are translated here, once; services
 * branch on `code`, and `recoverable` drives retry (etcd down, leader change).
 */
export type StoreErrorCode =
  | 'CONFLICT' // resourceVersion (mod revision) no longer matches
  | 'ALREADY_EXISTS'
  | 'NOT_FOUND'
  | 'INVALID' // etcd refused the request itself (future revision, too many ops): retrying cannot help
  | 'UNAVAILABLE'; // etcd unreachable / timed out

export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly recoverable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isStoreError = (e: unknown, code?: StoreErrorCode): e is StoreError =>
  e instanceof StoreError && (code === undefined || e.code === code);

/**
 * etcd's answers that say the request itself is wrong (gRPC INVALID_ARGUMENT /
 * OUT_OF_RANGE): a revision in the future, a transaction with too many operations or a
 * duplicate key. Anything else from the client is treated as connectivity.
 */
const INVALID_REQUEST = /future revision|too many operations|duplicate key|INVALID_ARGUMENT|OUT_OF_RANGE/i;

/** Translates an etcd3 client error: INVALID (not retryable) or UNAVAILABLE (retryable). */
export function unavailable(what: string, err: unknown): StoreError {
  const msg = (err as Error)?.message ?? String(err);
  if (INVALID_REQUEST.test(msg)) return new StoreError('INVALID', `${what}: ${msg}`, false, { cause: err });
  return new StoreError('UNAVAILABLE', `${what}: ${msg}`, true, { cause: err });
}
