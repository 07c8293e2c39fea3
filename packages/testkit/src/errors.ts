/**
 * Errors raised by the testkit. One class per condition, each with a stable `code`;
 * callers test with the predicates below, never by matching message text.
 */

export type TestkitErrorCode =
  | 'MISSING_BINARY'
  | 'NOT_ROOT'
  | 'SERVER_START_FAILED'
  | 'COMMAND_FAILED'
  | 'TIMEOUT';

export class TestkitError extends Error {
  override name = 'TestkitError';
  readonly code: TestkitErrorCode;
  constructor(code: TestkitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A required executable is not on PATH; the message names the Debian package to install. */
export class MissingBinaryError extends TestkitError {
  override name = 'MissingBinaryError';
  constructor(
    readonly binary: string,
    readonly debianPackage: string,
  ) {
    super(
      'MISSING_BINARY',
      `required binary "${binary}" not found on PATH; install the Debian package "${debianPackage}" ` +
        `(apt-get install -y ${debianPackage}) or run "npm run bootstrap"`,
    );
  }
}

/** Network namespaces and nft need root (CAP_NET_ADMIN + CAP_SYS_ADMIN). */
export class NotRootError extends TestkitError {
  override name = 'NotRootError';
  constructor(what: string) {
    super('NOT_ROOT', `${what} needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN); run the tests as root`);
  }
}

/** A server process exited or never became ready; `logTail` holds its last output lines. */
export class ServerStartError extends TestkitError {
  override name = 'ServerStartError';
  constructor(
    readonly server: string,
    reason: string,
    readonly logTail: string,
    options?: { cause?: unknown },
  ) {
    super('SERVER_START_FAILED', `${server} failed to start: ${reason}\n--- last output ---\n${logTail}`, options);
  }
}

/** A command exited non-zero (or by signal). */
export class CommandError extends TestkitError {
  override name = 'CommandError';
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout = '',
  ) {
    super('COMMAND_FAILED', `command failed (exit ${exitCode ?? 'signal'}): ${command}\n${stderr.trim()}`);
  }
}

export class TimeoutError extends TestkitError {
  override name = 'TimeoutError';
  constructor(what: string, ms: number) {
    super('TIMEOUT', `timed out after ${ms} ms: ${what}`);
  }
}

export const isTestkitError = (e: unknown): e is TestkitError => e instanceof TestkitError;
export const isMissingBinaryError = (e: unknown): e is MissingBinaryError => e instanceof MissingBinaryError;
export const isCommandError = (e: unknown): e is CommandError => e instanceof CommandError;
export const isServerStartError = (e: unknown): e is ServerStartError => e instanceof ServerStartError;
