/**
 * Errors of the enforcer. Bundle and nft failures keep the codes of @natfleet/bundle and
 * @natfleet/nft (BundleError, NftError); this file adds the conditions only the enforcer
 * knows about, each with a stable `code`, and `failureCode()`, the one place that turns
 * any thrown value into the `errorCode` reported in the node status. Callers branch on
 * codes and predicates, never on message text.
 */
import { isBundleError } from '@natfleet/bundle';
import { isNftError, type TableDifference } from '@natfleet/nft';

export type EnforcerErrorCode =
  | 'CONFIG_INVALID' // a setting is missing or malformed; names the setting
  | 'STALE_VERSION' // a verified bundle not newer than what is already enforced (replay or rollback of the stream)
  | 'WRONG_CLUSTER' // a verified bundle compiled for another cluster
  | 'HEADER_MISMATCH' // the message's Natfleet-Version header is not the signed body's version
  | 'READBACK_MISMATCH' // nft accepted the transaction but the table read back is not the one rendered
  | 'STATE_READ_FAILED' // the saved bundle cannot be read from the state dir
  | 'STATE_WRITE_FAILED' // the applied bundle cannot be saved to the state dir (fail-static copy is stale)
  | 'TARGET_UNAVAILABLE'; // the admission names a bundle this node does not hold (yet): fetching it, the table stays

/** Base class of the enforcer's own errors. */
export class EnforcerError extends Error {
  override name = 'EnforcerError';
  constructor(
    readonly code: EnforcerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A setting is missing or malformed. `setting` is the flag (and env variable) to fix. */
export class ConfigError extends EnforcerError {
  override name = 'ConfigError';
  constructor(
    readonly setting: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super('CONFIG_INVALID', `${setting}: ${reason}`, options);
  }
}

/** A correctly signed bundle whose version is not newer than the one in force. */
export class StaleBundleError extends EnforcerError {
  override name = 'StaleBundleError';
  constructor(
    readonly version: number,
    readonly currentVersion: number,
  ) {
    super('STALE_VERSION', `bundle v${version} is not newer than v${currentVersion} already enforced or pending`);
  }
}

/** A correctly signed bundle for another cluster (a cross-cluster replay or a misrouted publish). */
export class WrongClusterError extends EnforcerError {
  override name = 'WrongClusterError';
  constructor(
    readonly bundleCluster: string,
    readonly cluster: string,
  ) {
    super('WRONG_CLUSTER', `bundle is for cluster ${JSON.stringify(bundleCluster)}, this node is in ${JSON.stringify(cluster)}`);
  }
}

/** A verified admission for another cluster. */
export class AdmissionClusterError extends EnforcerError {
  override name = 'AdmissionClusterError';
  constructor(
    readonly admissionCluster: string,
    readonly cluster: string,
  ) {
    super('WRONG_CLUSTER', `admission is for cluster ${JSON.stringify(admissionCluster)}, this node is in ${JSON.stringify(cluster)}`);
  }
}

/** A message whose unsigned Natfleet-Version header disagrees with its signed body (a re-publish with a forged header). */
export class HeaderMismatchError extends EnforcerError {
  override name = 'HeaderMismatchError';
  constructor(
    readonly headerVersion: number,
    readonly bodyVersion: number,
  ) {
    super('HEADER_MISMATCH', `message header claims v${headerVersion}, its signed body is v${bodyVersion}`);
  }
}

/** nft committed something, but the read-back does not show the table we rendered. */
export class ReadBackError extends EnforcerError {
  override name = 'ReadBackError';
  constructor(readonly differences: readonly TableDifference[]) {
    super('READBACK_MISMATCH', `table read back differs from the rendered one: ${differences.map((d) => d.message).join('; ')}`);
  }
}

/** Reading or writing the saved bundle in the state dir failed. */
export class StateFileError extends EnforcerError {
  override name = 'StateFileError';
  constructor(
    code: 'STATE_READ_FAILED' | 'STATE_WRITE_FAILED',
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    const why = (options?.cause as NodeJS.ErrnoException | undefined)?.code ?? (options?.cause as Error | undefined)?.message ?? 'unknown error';
    super(code, `${code === 'STATE_READ_FAILED' ? 'cannot read' : 'cannot write'} ${path}: ${why}`, options);
  }
}

export const isEnforcerError = (e: unknown, code?: EnforcerErrorCode): e is EnforcerError =>
  e instanceof EnforcerError && (code === undefined || e.code === code);

/**
 * The stable code reported for a failure: the BundleError, NftError or EnforcerError
 * code, or `INTERNAL` for anything else (a bug; its message is still reported).
 */
export function failureCode(err: unknown): string {
  if (isBundleError(err) || isNftError(err) || isEnforcerError(err)) return err.code;
  return 'INTERNAL';
}

/** A one-line message for the node status (never empty). */
export function failureMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text.split('\n', 1)[0]?.trim() || 'unknown error';
  return line.length > 1_000 ? `${line.slice(0, 1_000)}…` : line;
}
