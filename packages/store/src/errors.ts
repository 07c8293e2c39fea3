/**
 * Errors of the etcd boundary. etcd3 client errors are translated here, once; services
 * branch on `code`, and `recoverable` drives retry (etcd down, leader change).
 */
export type StoreErrorCode =
  | 'CONFLICT' // resourceVersion (mod revision) no longer matches
  | 'ALREADY_EXISTS'
  | 'NOT_FOUND'
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

/** Wraps an etcd3 client error as UNAVAILABLE (every etcd3 failure we see at runtime is connectivity). */
export function unavailable(what: string, err: unknown): StoreError {
  return new StoreError('UNAVAILABLE', `${what}: ${(err as Error)?.message ?? String(err)}`, true, { cause: err });
}
