/** Errors of the local stack's commands, one stable code per condition. */
export type LocalStackErrorCode = 'UNKNOWN_NODE'; // a command named a node the stack does not simulate

export class LocalStackError extends Error {
  override name = 'LocalStackError';
  constructor(
    readonly code: LocalStackErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isLocalStackError = (e: unknown, code?: LocalStackErrorCode): e is LocalStackError =>
  e instanceof LocalStackError && (code === undefined || e.code === code);
