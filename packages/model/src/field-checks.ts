// Building blocks shared by the validators: the result union, the issue collector and
// typed field readers that report wrong types instead of throwing.
//
// Owns: how an issue is recorded (resource label, dotted path, reason, offending value)
// and the wording of type errors. Never: resource-specific rules, or throwing on bad
// input — every reader records an issue and returns `undefined` so validation carries on
// and reports all problems at once.
import type { FieldIssue } from './errors.js';

/** Outcome of a validation: the defaulted, normalised resource, or every issue found. */
/**
 * Outcome of a validation: the defaulted, normalised resource, or every issue found.
 * `warnings` (either way) lists what was let through but deserves a look — today unknown
 * and deprecated fields under `unknownFields: 'warn'`; absent or empty when there is none.
 */
export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T; readonly warnings?: readonly FieldIssue[] }
  | { readonly ok: false; readonly issues: readonly FieldIssue[]; readonly warnings?: readonly FieldIssue[] };

/**
 * What an unknown or deprecated field is: `error` (the default: calicoctl and kubectl's
 * strict decoding — a typo must never silently become a different network) or `warn`
 * (kept and reported as a warning: the compiler reading etcd, and an operator's explicit
 * `--validate=warn`).
 */
export type UnknownFieldPolicy = 'error' | 'warn';

/** Where a resource came from, used to label issues of unnamed resources. */
export interface ResourceOrigin {
  /** Document index in the input; default 0. */
  readonly docIndex?: number;
  /** Item index inside a List document. */
  readonly itemIndex?: number;
  /** How unknown and deprecated fields count; default `error`. */
  readonly unknownFields?: UnknownFieldPolicy;
}

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `null`, `an array`, `a string`… for "must be X (got Y)" messages. */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && !Number.isFinite(v)) return 'a non-finite number';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * `Kind/name` when `metadata.name` is a non-empty string (valid or not: it still
 * identifies the resource to a human), else `Kind[doc]` or `Kind[doc][item]`.
 */
export function resourceLabel(kind: string, raw: unknown, origin: ResourceOrigin = {}): string {
  const meta = isObject(raw) ? raw['metadata'] : undefined;
  const name = isObject(meta) ? meta['name'] : undefined;
  if (typeof name === 'string' && name !== '') return `${kind}/${name}`;
  const doc = `[${origin.docIndex ?? 0}]`;
  return origin.itemIndex === undefined ? `${kind}${doc}` : `${kind}${doc}[${origin.itemIndex}]`;
}

/** Collects the issues of one resource. One instance per validation call. */
export class IssueList {
  readonly items: FieldIssue[] = [];
  /** Problems recorded as warnings: they do not fail validation. */
  readonly warnings: FieldIssue[] = [];

  constructor(readonly resource: string) {}

  add(path: string, reason: string, value?: unknown): void {
    this.items.push(value === undefined ? { resource: this.resource, path, reason } : { resource: this.resource, path, reason, value });
  }

  /** Records a warning (see {@link ValidationResult}). */
  warn(path: string, reason: string, value?: unknown): void {
    this.warnings.push(value === undefined ? { resource: this.resource, path, reason } : { resource: this.resource, path, reason, value });
  }

  get empty(): boolean {
    return this.items.length === 0;
  }

  /** Whether any issue has been recorded at `path` or below it. */
  has(path: string): boolean {
    return this.items.some((i) => i.path === path || i.path.startsWith(`${path}.`) || i.path.startsWith(`${path}[`));
  }
}

/** Go's zero-value semantics: absent, null, "" and [] all mean "not set" to Calico. */
export function isUnset(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
}

/** Reads an optional boolean; a non-boolean (including "true") is an issue. */
export function readBoolean(issues: IssueList, obj: JsonObject, key: string, path: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') {
    issues.add(path, `must be a boolean (got ${typeName(v)})`, v);
    return undefined;
  }
  return v;
}

/** Reads an optional string; `""` counts as unset. A non-string is an issue. */
export function readString(issues: IssueList, obj: JsonObject, key: string, path: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') {
    issues.add(path, `must be a string (got ${typeName(v)})`, v);
    return undefined;
  }
  return v;
}

/** Reads an optional enum value (case-sensitive, as in Calico); `""` counts as unset. */
export function readEnum<T extends string>(
  issues: IssueList,
  obj: JsonObject,
  key: string,
  path: string,
  allowed: readonly T[],
): T | undefined {
  const v = readString(issues, obj, key, path);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) {
    issues.add(path, `must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`, v);
    return undefined;
  }
  return v as T;
}

/** Reads an optional integer; `0` is returned as 0 (callers decide whether it means unset). */
export function readInteger(issues: IssueList, obj: JsonObject, key: string, path: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    issues.add(path, `must be an integer (got ${typeof v === 'number' ? String(v) : typeName(v)})`, v);
    return undefined;
  }
  return v;
}

/** Reads an optional object; a non-object is an issue. */
export function readObject(issues: IssueList, obj: JsonObject, key: string, path: string): JsonObject | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) {
    issues.add(path, `must be an object (got ${typeName(v)})`, v);
    return undefined;
  }
  return v;
}

/** Wraps collected issues and warnings (or the value) into a ValidationResult. */
export function resultOf<T>(list: IssueList, value: () => T): ValidationResult<T> {
  const warnings = list.warnings;
  if (list.items.length > 0) return warnings.length > 0 ? { ok: false, issues: list.items, warnings } : { ok: false, issues: list.items };
  const v = value();
  return warnings.length > 0 ? { ok: true, value: v, warnings } : { ok: true, value: v };
}

/** Early exit when the input is not even an object: issues (and any warnings) so far. */
export function failureOf<T>(list: IssueList): ValidationResult<T> {
  return list.warnings.length > 0 ? { ok: false, issues: list.items, warnings: list.warnings } : { ok: false, issues: list.items };
}
