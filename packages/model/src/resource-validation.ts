// Validation by kind, one resource or a whole batch.
//
// Owns: dispatch on `kind`, and the rules that only exist across resources — duplicate
// kind/name pairs in one batch and pool overlap within the batch and against stored pools
// (a stored pool is replaced by a batch pool of the same name). Never: per-kind rules (the
// *-validation modules own them), I/O or logging.
import { formatCidr } from './cidr.js';
import { type FieldIssue, ValidationError } from './errors.js';
import { type ResourceOrigin, type UnknownFieldPolicy, type ValidationResult, isObject, resourceLabel } from './field-checks.js';
import { validateFelixConfiguration } from './felix-validation.js';
import { validateNode } from './node-validation.js';
import {
  type PoolRef, overlapReason, overlapsWithEarlier, overlapsWithOthers, poolRefOf, validatePool,
} from './pool-validation.js';
import { RESOURCE_KINDS, type RawResource, type Resource } from './resources.js';

/** Options for {@link validateResource} and {@link validateResources}. */
export interface ValidateResourceOptions extends ResourceOrigin {
  /** Stored IPPools new pools must not overlap (see validatePool). */
  readonly existing?: readonly unknown[];
}

/** Options for {@link validateResources}. */
export interface ValidateResourcesOptions {
  /** Stored IPPools the batch's pools must not overlap (same-named ones are being replaced). */
  readonly existing?: readonly unknown[];
  /** Unknown and deprecated fields: `error` (default) or `warn`. */
  readonly unknownFields?: UnknownFieldPolicy;
}

/**
 * Validates one resource of any supported kind, dispatching on `kind`. A missing or
 * unknown kind is a single issue at `kind`. Returns the defaulted, normalised resource or
 * every issue found.
 */
export function validateResource(raw: unknown, options: ValidateResourceOptions = {}): ValidationResult<Resource> {
  const kind = isObject(raw) ? raw['kind'] : undefined;
  switch (kind) {
    case 'IPPool':
      return validatePool(raw, options);
    case 'FelixConfiguration':
      return validateFelixConfiguration(raw, options);
    case 'Node':
      return validateNode(raw, options);
    default: {
      const label = resourceLabel(typeof kind === 'string' && kind !== '' ? kind : 'Resource', raw, options);
      const expected = RESOURCE_KINDS.join(', ');
      const issue: FieldIssue = !isObject(raw)
        ? { resource: label, path: '', reason: 'resource must be an object' }
        : kind === undefined || kind === null || kind === ''
          ? { resource: label, path: 'kind', reason: `required; must be one of ${expected}` }
          : { resource: label, path: 'kind', reason: `unknown kind ${JSON.stringify(kind)}; must be one of ${expected}`, value: kind };
      return { ok: false, issues: [issue] };
    }
  }
}

/** {@link validateResource}, throwing ValidationError listing every issue. */
export function validateResourceOrThrow(raw: unknown, options: ValidateResourceOptions = {}): Resource {
  const r = validateResource(raw, options);
  if (!r.ok) throw new ValidationError(r.issues);
  return r.value;
}

function originOf(item: RawResource, unknownFields: UnknownFieldPolicy | undefined): ResourceOrigin {
  const base = item.itemIndex === undefined ? { docIndex: item.docIndex } : { docIndex: item.docIndex, itemIndex: item.itemIndex };
  return unknownFields === undefined ? base : { ...base, unknownFields };
}

function where(item: RawResource): string {
  return item.itemIndex === undefined ? `document ${item.docIndex}` : `document ${item.docIndex} item ${item.itemIndex}`;
}

/**
 * Validates a batch (typically parseResources output): each resource on its own, plus
 * duplicate kind/name detection and pool overlaps within the batch and against
 * `options.existing` (stored pools named like a batch pool are being replaced and are not
 * compared). Every pool that overlaps an earlier batch pool gets one issue naming the
 * earliest of them, and every pool that overlaps stored pools one issue naming the first
 * stored one — not one per pair, which for nested CIDRs would be quadratic. Returns the
 * resources in input order, or all issues. An empty batch is valid and yields [].
 */
export function validateResources(
  items: readonly RawResource[],
  options: ValidateResourcesOptions = {},
): ValidationResult<Resource[]> {
  const results = items.map((item) => validateResource(item.object, originOf(item, options.unknownFields)));
  const extra: FieldIssue[][] = items.map(() => []);

  const firstByKey = new Map<string, number>();
  items.forEach((item, i) => {
    const kind = item.object['kind'];
    const meta = item.object['metadata'];
    const name = isObject(meta) ? meta['name'] : undefined;
    if (typeof kind !== 'string' || typeof name !== 'string' || name === '') return;
    const key = `${kind}/${name}`;
    const first = firstByKey.get(key);
    if (first === undefined) {
      firstByKey.set(key, i);
    } else {
      const reason = `duplicate ${key} in this batch (first in ${where(items[first]!)})`;
      extra[i]!.push({ resource: key, path: 'metadata.name', reason, value: name });
    }
  });

  const refs: PoolRef[] = [];
  const batchPoolNames = new Set<string>();
  items.forEach((item, i) => {
    if (item.object['kind'] !== 'IPPool') return;
    const r = results[i]!;
    // A pool whose CIDR has another problem (host bits, link-local) is still compared, so
    // its overlaps are listed with everything else; an unparsable CIDR cannot be.
    const label = resourceLabel('IPPool', item.object, originOf(item, undefined));
    const ref = poolRefOf(r.ok ? r.value : item.object, label, i);
    if (ref === undefined) return;
    refs.push(ref);
    if (ref.name !== undefined) batchPoolNames.add(ref.name);
  });
  for (const [earlier, later] of overlapsWithEarlier(refs)) {
    const reason = `${overlapReason(earlier.name, earlier.label, earlier.cidr)} (${where(items[earlier.order]!)})`;
    extra[later.order]!.push({ resource: later.label, path: 'spec.cidr', reason, value: formatCidr(later.cidr) });
  }
  if (options.existing !== undefined && options.existing.length > 0) {
    const stored: PoolRef[] = [];
    options.existing.forEach((p, i) => {
      const ref = poolRefOf(p, `existing[${i}]`, i);
      if (ref !== undefined && !(ref.name !== undefined && batchPoolNames.has(ref.name))) stored.push(ref);
    });
    for (const [other, ref] of overlapsWithOthers(refs, stored)) {
      extra[ref.order]!.push({ resource: ref.label, path: 'spec.cidr', reason: overlapReason(other.name, other.label, other.cidr), value: formatCidr(ref.cidr) });
    }
  }

  const issues: FieldIssue[] = [];
  const warnings: FieldIssue[] = [];
  results.forEach((r, i) => {
    if (!r.ok) for (const x of r.issues) issues.push(x);
    for (const x of extra[i]!) issues.push(x);
    for (const x of r.warnings ?? []) warnings.push(x);
  });
  const w = warnings.length > 0 ? { warnings } : {};
  if (issues.length > 0) return { ok: false, issues, ...w };
  return { ok: true, value: results.map((r) => (r as { ok: true; value: Resource }).value), ...w };
}

/** {@link validateResources}, throwing ValidationError listing every issue. */
export function validateResourcesOrThrow(
  items: readonly RawResource[],
  options: ValidateResourcesOptions = {},
): Resource[] {
  const r = validateResources(items, options);
  if (!r.ok) throw new ValidationError(r.issues);
  return r.value;
}
