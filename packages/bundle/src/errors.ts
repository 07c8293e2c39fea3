/**
 * Errors of the bundle codec. One class, one stable `code` per rejection reason, so an
 * enforcer can report exactly why it refused a bundle (a NACK) without parsing text.
 */

export type BundleErrorCode =
  | 'MALFORMED' // not JSON / not gzip / wrong shape
  | 'TOO_LARGE' // over the size limit, compressed or inflated
  | 'UNSUPPORTED_API_VERSION'
  | 'BAD_DIGEST' // body does not hash to `digest`
  | 'UNKNOWN_KEY' // signed by a key not in the trusted set
  | 'BAD_SIGNATURE' // signature does not verify
  | 'INVALID_KEY'; // a configured key cannot be parsed

export class BundleError extends Error {
  override name = 'BundleError';
  constructor(
    readonly code: BundleErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isBundleError = (e: unknown, code?: BundleErrorCode): e is BundleError =>
  e instanceof BundleError && (code === undefined || e.code === code);
