/** Errors of the local stack's commands, one stable code per condition. */
export type LocalStackErrorCode =
  | 'UNKNOWN_NODE' // a command named a node the stack does not simulate
  | 'UNKNOWN_DAEMON' // `logs` named a daemon that has no log file
  | 'NO_LOGS'; // `logs` before the stack ever ran

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
