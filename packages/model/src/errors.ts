// Errors raised by @natfleet/model.
//
// Owns: every error class this package throws, their stable `code`s and the predicates
// callers use to recognise them. Callers must test with the predicates or `code`, never by
// matching message text. Never: logging, or translating errors from other layers.

/** Stable codes carried by every error of this package. */
export type ModelErrorCode = 'PARSE_FAILED' | 'BATCH_TOO_LARGE' | 'VALIDATION_FAILED' | 'INVALID_CIDR' | 'INVALID_SELECTOR';

/** Base class of every error thrown by @natfleet/model. */
export class NatfleetModelError extends Error {
  override readonly name: string = 'NatfleetModelError';
  readonly code: ModelErrorCode;

  constructor(code: ModelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Where in the input a parse failure happened (all parts optional: JSON offsets may be unknown). */
export interface ParseLocation {
  /** Document index within the input (0-based; for JSON arrays, the element index). */
  readonly documentIndex?: number;
  /** 1-based line, when known. */
  readonly line?: number;
  /** 1-based column, when known. */
  readonly column?: number;
  /** File name, etcd key or other label the caller passed as `source`. */
  readonly source?: string;
}

/** Malformed JSON or YAML, a document that is not an object, or an undecodable stored value. */
export class ParseError extends NatfleetModelError {
  override readonly name = 'ParseError';
  readonly documentIndex: number | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly source: string | undefined;
  /** The parser's own description, without the location prefix. */
  readonly detail: string;

  constructor(detail: string, location: ParseLocation = {}, options?: { cause?: unknown }) {
    super('PARSE_FAILED', `${formatLocation(location)}${detail}`, options);
    this.detail = detail;
    this.documentIndex = location.documentIndex;
    this.line = location.line;
    this.column = location.column;
    this.source = location.source;
  }
}

function formatLocation(loc: ParseLocation): string {
  const parts: string[] = [];
  if (loc.source !== undefined) parts.push(loc.source);
  if (loc.documentIndex !== undefined) parts.push(`document ${loc.documentIndex}`);
  if (loc.line !== undefined) {
    parts.push(loc.column !== undefined ? `line ${loc.line}, column ${loc.column}` : `line ${loc.line}`);
  }
  return parts.length > 0 ? `${parts.join(': ')}: ` : '';
}

/**
 * An input holding more resources than the caller accepts (parseResources `maxResources`).
 * Decoding stops at the first document past the limit.
 */
export class BatchTooLargeError extends NatfleetModelError {
  override readonly name = 'BatchTooLargeError';
  /** The most resources accepted. */
  readonly limit: number;

  constructor(limit: number, options?: { cause?: unknown }) {
    super('BATCH_TOO_LARGE', `more than ${limit} resources in one request; send at most ${limit} at a time`, options);
    this.limit = limit;
  }
}

/** True for a BatchTooLargeError (code BATCH_TOO_LARGE). */
export function isBatchTooLargeError(e: unknown): e is BatchTooLargeError {
  return e instanceof BatchTooLargeError;
}

/**
 * One problem found in one field of one resource.
 * `resource` is `Kind/name`, or `Kind[docIndex]` (`Kind[docIndex][item]` inside a List) when
 * the resource has no usable name; `path` is dotted from the resource root (`spec.cidr`,
 * `spec.allowedUses[1]`).
 */
export interface FieldIssue {
  readonly resource: string;
  readonly path: string;
  readonly reason: string;
  readonly value?: unknown;
}

/** One or more resources failed validation; `issues` lists every problem found, not just the first. */
export class ValidationError extends NatfleetModelError {
  override readonly name = 'ValidationError';
  readonly issues: readonly FieldIssue[];

  constructor(issues: readonly FieldIssue[], options?: { cause?: unknown }) {
    super('VALIDATION_FAILED', formatIssues(issues), options);
    this.issues = issues;
  }
}

/** Renders issues one per line; used for ValidationError messages and handy for CLIs. */
export function formatIssues(issues: readonly FieldIssue[]): string {
  if (issues.length === 0) return 'validation failed';
  const head = issues.length === 1 ? '1 validation issue' : `${issues.length} validation issues`;
  const lines = issues.map((i) => `  - ${i.resource} ${i.path}: ${i.reason}`);
  return `${head}:\n${lines.join('\n')}`;
}

/** A string that is not a valid IP address or CIDR, or a CIDR with host bits set in strict mode. */
export class CidrError extends NatfleetModelError {
  override readonly name = 'CidrError';
  /** The rejected input text. */
  readonly input: string;
  /** For host-bits failures: the correctly masked form the caller probably meant. */
  readonly masked: string | undefined;

  constructor(input: string, message: string, options?: { cause?: unknown; masked?: string }) {
    super('INVALID_CIDR', message, options);
    this.input = input;
    this.masked = options?.masked;
  }
}

/** True for any error thrown by this package. */
export function isNatfleetModelError(e: unknown): e is NatfleetModelError {
  return e instanceof NatfleetModelError;
}

/** True for a ParseError (code PARSE_FAILED). */
export function isParseError(e: unknown): e is ParseError {
  return e instanceof ParseError;
}

/** True for a ValidationError (code VALIDATION_FAILED). */
export function isValidationError(e: unknown): e is ValidationError {
  return e instanceof ValidationError;
}

/** True for a CidrError (code INVALID_CIDR). */
export function isCidrError(e: unknown): e is CidrError {
  return e instanceof CidrError;
}

/** A Calico selector that does not parse; `position` is the 0-based offset of the problem in `input`. */
export class SelectorError extends NatfleetModelError {
  override readonly name = 'SelectorError';
  /** The rejected selector text. */
  readonly input: string;
  /** 0-based character offset where parsing failed (input.length at unexpected end). */
  readonly position: number;
  /** The reason without the position prefix. */
  readonly detail: string;

  constructor(input: string, position: number, detail: string, options?: { cause?: unknown }) {
    super('INVALID_SELECTOR', `at position ${position}: ${detail}`, options);
    this.input = input;
    this.position = position;
    this.detail = detail;
  }
}

/** True for a SelectorError (code INVALID_SELECTOR). */
export function isSelectorError(e: unknown): e is SelectorError {
  return e instanceof SelectorError;
}
