/**
 * Errors of the nft layer: one class per condition, each with a stable `code`, the nft
 * stderr it came from and a `retryable` marker that drives the enforcer's retry policy.
 * Owns the translation of nft's stderr into these classes (`nftErrorFromFailure`); this
 * is the only place that reads nft message text. Callers test with the predicates below,
 * never by matching messages. Must never run nft or touch the system.
 */

export type NftErrorCode =
  | 'NFT_SYNTAX' // nft rejected the text in userspace (parse or evaluation), nothing reached the kernel
  | 'NFT_KERNEL' // the kernel refused the batch ("Could not process rule: …")
  | 'NFT_NOT_FOUND' // the table does not exist (read/delete)
  | 'NFT_TIMEOUT' // nft did not finish in time and was killed
  | 'NFT_UNAVAILABLE' // nft/ip/libnftables missing, no permission, the netns does not exist, or closed
  | 'NFT_FAILED' // nft failed in a way none of the above describes
  | 'NFT_RENDER_INVALID'; // a bundle value is not safe to render as nft text

/** What the failing nft run was doing. */
export type NftOperation = 'apply' | 'check' | 'read' | 'delete' | 'generation';

/** Base class of every error this package throws. */
export class NftError extends Error {
  override name = 'NftError';
  constructor(
    readonly code: NftErrorCode,
    message: string,
    /** nft's stderr (trimmed, at most 64 KiB); empty when nft never ran. */
    readonly stderr = '',
    /** True when repeating the same operation later may succeed. */
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * nft rejected the text before sending anything to the kernel: a parse error or an
 * evaluation error (e.g. "conflicting intervals specified"). `line`/`column`/`columnEnd`
 * are 1-based positions in the submitted text when nft printed one.
 */
export class NftSyntaxError extends NftError {
  override name = 'NftSyntaxError';
  constructor(
    message: string,
    stderr: string,
    readonly line?: number,
    readonly column?: number,
    readonly columnEnd?: number,
    options?: { cause?: unknown },
  ) {
    super('NFT_SYNTAX', message, stderr, false, options);
  }
}

/** Errno texts after which the same batch may succeed on a later try. */
const TRANSIENT = /Device or resource busy|No buffer space available|Interrupted system call|Resource temporarily unavailable|Cannot allocate memory/;

/** The kernel refused the batch; `reason` is the errno text (e.g. "Operation not supported"). */
export class NftKernelError extends NftError {
  override name = 'NftKernelError';
  constructor(
    readonly reason: string,
    stderr: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super('NFT_KERNEL', `nft: the kernel refused the transaction: ${reason}`, stderr, TRANSIENT.test(reason));
  }
}

/** The `inet natfleet` table does not exist. */
export class NftNotFoundError extends NftError {
  override name = 'NftNotFoundError';
  constructor(stderr: string) {
    super('NFT_NOT_FOUND', 'nft: table inet natfleet does not exist', stderr, false);
  }
}

/** nft ran longer than `timeoutMs` and was killed; whether a transaction committed is unknown: read back. */
export class NftTimeoutError extends NftError {
  override name = 'NftTimeoutError';
  constructor(
    readonly operation: NftOperation,
    readonly timeoutMs: number,
    stderr = '',
  ) {
    super('NFT_TIMEOUT', `nft ${operation} did not finish within ${timeoutMs} ms and was killed`, stderr, true);
  }
}

/** `missing-library`: libnftables (or koffi, the FFI that loads it) cannot be loaded. */
export type NftUnavailableReason = 'missing-binary' | 'missing-library' | 'permission' | 'netns';

/** nft cannot run here at all: binary or library missing (names the Debian package), no permission, or no such netns. */
export class NftUnavailableError extends NftError {
  override name = 'NftUnavailableError';
  constructor(
    readonly reason: NftUnavailableReason,
    message: string,
    stderr = '',
    /** Debian package that ships the missing binary or library (reason `missing-binary` / `missing-library`). */
    readonly debianPackage?: string,
    options?: { cause?: unknown },
  ) {
    super('NFT_UNAVAILABLE', message, stderr, false, options);
  }
}

/** nft exited non-zero with output none of the other classes describes. */
export class NftCommandError extends NftError {
  override name = 'NftCommandError';
  constructor(
    readonly exitCode: number | null,
    stderr: string,
    readonly signal: string | null = null,
  ) {
    super('NFT_FAILED', `nft failed (exit ${exitCode ?? signal}): ${firstLine(stderr) || 'no output'}`, stderr, true);
  }
}

/** A bundle value cannot be rendered safely (render never emits text it has not validated). */
export class NftRenderError extends NftError {
  override name = 'NftRenderError';
  constructor(
    /** Path of the offending value, e.g. `fleet.v4.masquerade[3]`. */
    readonly path: string,
    reason: string,
  ) {
    super('NFT_RENDER_INVALID', `cannot render ${path}: ${reason}`, '', false);
  }
}

export const isNftError = (e: unknown, code?: NftErrorCode): e is NftError =>
  e instanceof NftError && (code === undefined || e.code === code);
export const isNftSyntaxError = (e: unknown): e is NftSyntaxError => e instanceof NftSyntaxError;
export const isNftKernelError = (e: unknown): e is NftKernelError => e instanceof NftKernelError;
export const isNftNotFoundError = (e: unknown): e is NftNotFoundError => e instanceof NftNotFoundError;
export const isNftTimeoutError = (e: unknown): e is NftTimeoutError => e instanceof NftTimeoutError;
export const isNftUnavailableError = (e: unknown): e is NftUnavailableError => e instanceof NftUnavailableError;
export const isNftRenderError = (e: unknown): e is NftRenderError => e instanceof NftRenderError;

function firstLine(s: string): string {
  return s.trim().split('\n', 1)[0] ?? '';
}

/** `/dev/stdin:3:41-46: Error: …`, `-:3:5: Error: …` or `/path/file.nft:3:5-9: Error: …`. */
const LOCATED_ERROR = /^(?:[^:\s]+):(\d+):(\d+)(?:-(\d+))?: Error: (.*)$/m;
const ANY_ERROR = /^(?:.*?: )?Error: (.*)$/m;
const KERNEL = /Could not process rule: (.*)$/m;

/**
 * Translates a failed nft run into a typed error from its stderr and exit status.
 * Order matters: permission and namespace problems also mention errno texts that would
 * otherwise look like "not found". Never returns undefined: unknown output becomes
 * NftCommandError. "No such file or directory" means NftNotFoundError only for `read`
 * and `delete`; during `apply`/`check` it is a kernel refusal (a missing object).
 */
export function nftErrorFromFailure(failure: {
  stderr: string;
  exitCode: number | null;
  signal?: string | null;
  operation: NftOperation;
}): NftError {
  const stderr = failure.stderr.trim();
  if (/Operation not permitted|you must be root/.test(stderr)) {
    return new NftUnavailableError('permission', `nft needs root or CAP_NET_ADMIN: ${firstLine(stderr)}`, stderr);
  }
  const netns = /Cannot open network namespace "[^"]*": .*$/m.exec(stderr);
  if (netns) return new NftUnavailableError('netns', `nft: ${netns[0]}`, stderr);
  const exec = /exec of "[^"]*" failed: .*$/m.exec(stderr);
  if (exec) {
    return new NftUnavailableError('missing-binary', `nft: ${exec[0]}; install the Debian package nftables`, stderr, 'nftables');
  }
  const located = LOCATED_ERROR.exec(stderr);
  const line = located ? Number(located[1]) : undefined;
  const column = located ? Number(located[2]) : undefined;
  const kernel = KERNEL.exec(stderr);
  if ((failure.operation === 'read' || failure.operation === 'delete') && /No such file or directory/.test(stderr)) {
    return new NftNotFoundError(stderr);
  }
  if (kernel) return new NftKernelError(kernel[1]!.trim(), stderr, line, column);
  if (located) {
    const columnEnd = located[3] !== undefined ? Number(located[3]) : undefined;
    return new NftSyntaxError(`nft rejected line ${line}:${column}: ${located[4]}`, stderr, line, column, columnEnd);
  }
  const any = ANY_ERROR.exec(stderr);
  // "netlink: Error: …" without a location is a kernel conversation failure, not bad text.
  if (any && /^netlink: /m.test(stderr)) return new NftKernelError(any[1]!.trim(), stderr);
  if (any) return new NftSyntaxError(`nft rejected the input: ${any[1]}`, stderr);
  return new NftCommandError(failure.exitCode, stderr, failure.signal ?? null);
}
