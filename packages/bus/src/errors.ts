/**
 * Errors of the NATS boundary. NATS client errors are translated here, once, into codes
 * the services branch on; `recoverable` says whether retrying later can help.
 */
export type BusErrorCode =
  | 'STREAM_CONFLICT' // the stream exists with settings we cannot reconcile
  | 'PUBLISH_FENCED' // the subject moved on since we read it: another publisher won
  | 'PUBLISH_FAILED'
  | 'UNAVAILABLE'; // no JetStream / no connection right now

export class BusError extends Error {
  override name = 'BusError';
  constructor(
    readonly code: BusErrorCode,
    message: string,
    readonly recoverable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isBusError = (e: unknown, code?: BusErrorCode): e is BusError =>
  e instanceof BusError && (code === undefined || e.code === code);
