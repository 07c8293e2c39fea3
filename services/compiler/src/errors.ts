/**
 * Errors of the compiler service. One class, one stable `code` per condition; callers
 * branch with {@link isCompilerError}, never on message text. etcd and NATS failures stay
 * StoreError / BusError (translated at those boundaries) and are wrapped here only when
 * the service gives them a meaning of its own (e.g. "leadership ended mid-publish").
 */

export type CompilerErrorCode =
  | 'CONFIG_INVALID' // a setting is missing or inconsistent with another (fail fast at start)
  | 'SIGNING_KEY_INVALID' // --signing-key-file cannot be read or is not an Ed25519 PKCS#8 PEM key
  | 'LEADERSHIP_LOST' // the term ended (lease lost, campaign error, shutdown): stop publishing
  | 'KEYGEN_FAILED' // `keygen` could not write its files
  | 'ROLLOUT_STATE_FENCED' // the rollout state in etcd moved since this leader read it (another leader wrote it): re-read, re-plan
  | 'ROLLOUT_ADMISSION_PENDING'; // a RolloutPolicy exists but its admission is not on the stream yet: a new bundle must wait

export class CompilerError extends Error {
  override name = 'CompilerError';
  constructor(
    readonly code: CompilerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isCompilerError = (e: unknown, code?: CompilerErrorCode): e is CompilerError =>
  e instanceof CompilerError && (code === undefined || e.code === code);

/** The reason an AbortSignal was aborted with, as text (for logs and readiness details). */
export function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r.message;
  return r === undefined ? 'aborted' : String(r);
}
