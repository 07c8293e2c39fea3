// Strict decoding: every field of a resource must be one Calico v3.31 defines for its kind.
//
// Owns: walking a raw resource against its kind's field table (calico-fields.ts), the
// wording of "unknown field" problems with the nearest known field as a suggestion, the
// "belongs under …" hint for a known field put under the wrong parent, and the messages
// for Calico's deprecated v1 fields. calicoctl decodes the same way (and kubectl has done
// so by default since 1.27): a misspelt `natOutgoign` must never quietly store a pool
// with NAT off. Never: type or value checks (the *-validation modules own those), or
// deciding whether a problem is an error or a warning (the caller's policy does).
import { DEPRECATED_V1_FIELDS, type FieldShape, RESOURCE_FIELDS } from './calico-fields.js';
import { type JsonObject, isObject } from './field-checks.js';
import type { ResourceKind } from './resources.js';

/** One field that is not in the kind's table, or is deprecated. `path` is dotted from the root. */
export interface FieldProblem {
  readonly path: string;
  readonly reason: string;
  readonly value: unknown;
  /** An error whatever the unknown-field policy: a prototype key (`constructor`, `prototype`) is never stored as a field. */
  readonly refused?: true;
}

/**
 * Field names that are always unknown and never kept, even under `warn`: code that reads
 * a field with `obj[name]` finds Object.prototype's members under them. (`__proto__` is
 * refused earlier, by the parser.)
 */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Every dotted path (list and map levels written `[]`) at which each field name is known. */
type NameIndex = ReadonlyMap<string, readonly string[]>;

const INDEX_BY_KIND = new Map<ResourceKind, NameIndex>();

function indexOf(kind: ResourceKind): NameIndex {
  let idx = INDEX_BY_KIND.get(kind);
  if (idx === undefined) {
    const m = new Map<string, string[]>();
    const visit = (shape: FieldShape, path: string): void => {
      if (shape.t === 'object') {
        for (const [name, sub] of Object.entries(shape.fields)) {
          const p = path === '' ? name : `${path}.${name}`;
          const list = m.get(name) ?? [];
          list.push(p);
          m.set(name, list);
          visit(sub, p);
        }
      } else if (shape.t === 'list' || shape.t === 'map') {
        visit(shape.of, `${path}[]`);
      }
    };
    visit(RESOURCE_FIELDS[kind], '');
    idx = m;
    INDEX_BY_KIND.set(kind, idx);
  }
  return idx;
}

/**
 * Optimal string alignment distance (Levenshtein plus adjacent transposition), compared
 * case-insensitively; a difference only in case costs 0 here and is preferred by the caller.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i, ...new Array<number>(t.length).fill(0)]);
  for (let j = 0; j <= t.length; j++) d[0]![j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[s.length]![t.length]!;
}

/** Strips separators so `nat_outgoing`, `NatOutgoing` and `nat-outgoing` compare equal to `natOutgoing`. */
const squash = (s: string): string => s.toLowerCase().replace(/[-_.\s]/g, '');

/**
 * The known name closest to `name`, or `undefined` when none is plausibly meant: a
 * same-letters match ignoring case and separators, else an edit distance of at most 1 for
 * short names and 2 (or a third of the length, whichever is smaller) for longer ones.
 * Ties go to the first candidate in table order, so the answer is stable.
 */
export function nearestName(name: string, candidates: readonly string[]): string | undefined {
  const squashed = squash(name);
  const same = candidates.find((c) => squash(c) === squashed);
  if (same !== undefined) return same;
  const limit = name.length <= 4 ? 1 : Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(name, c);
    if (dist < bestD) {
      best = c;
      bestD = dist;
    }
  }
  return bestD <= limit ? best : undefined;
}

/** The problem text for an unknown field `name` found at `parentPattern` (`spec`, `metadata`, ``). */
function unknownReason(kind: ResourceKind, name: string, parentPattern: string, siblings: readonly string[]): string {
  const elsewhere = (indexOf(kind).get(name) ?? []).filter((p) => p !== (parentPattern === '' ? name : `${parentPattern}.${name}`));
  if (elsewhere.length > 0) {
    return `unknown field here: ${name} belongs at ${elsewhere.join(' or ')}`;
  }
  const near = nearestName(name, siblings);
  if (near !== undefined) return `unknown field (did you mean ${near}?)`;
  for (const [known, paths] of indexOf(kind)) {
    if (nearestName(name, [known]) === known && known.length > 4) {
      return `unknown field (did you mean ${paths[0]!}?)`;
    }
  }
  return `unknown field; ${kindHint(kind, parentPattern, siblings)}`;
}

function kindHint(kind: ResourceKind, parentPattern: string, siblings: readonly string[]): string {
  const where = parentPattern === '' ? `${/^[AEIOU]/.test(kind) ? 'an' : 'a'} ${kind}` : `${kind} ${parentPattern}`;
  if (siblings.length <= 12) return `${where} has ${siblings.join(', ')}`;
  return `${where} has ${siblings.length} fields; see Calico's ${kind} reference`;
}

/**
 * Every field of `raw` that Calico v3.31's `kind` does not define, and every deprecated
 * v1 field it sets, in document order. Walks nested structs, lists of structs and maps of
 * structs; values of the wrong type are not descended into (the validators report them).
 * Empty when the resource is clean or `raw` is not an object.
 */
export function fieldProblems(kind: ResourceKind, raw: unknown): FieldProblem[] {
  const out: FieldProblem[] = [];
  const walk = (value: unknown, shape: FieldShape, path: string, pattern: string): void => {
    if (shape.t === 'object') {
      if (!isObject(value)) return;
      const siblings = Object.keys(shape.fields).filter((n) => !Object.hasOwn(DEPRECATED_V1_FIELDS, pattern === '' ? n : `${pattern}.${n}`));
      for (const [name, v] of Object.entries(value as JsonObject)) {
        const p = path === '' ? name : `${path}.${name}`;
        const pat = pattern === '' ? name : `${pattern}.${name}`;
        const deprecated = Object.hasOwn(DEPRECATED_V1_FIELDS, pat) ? DEPRECATED_V1_FIELDS[pat] : undefined;
        if (deprecated !== undefined) {
          if (v !== undefined && v !== null && v !== false) out.push({ path: p, reason: deprecated, value: v });
          continue;
        }
        const sub = Object.hasOwn(shape.fields, name) ? shape.fields[name] : undefined;
        if (sub === undefined) {
          if (PROTOTYPE_KEYS.has(name)) out.push({ path: p, reason: `unknown field; "${name}" is never accepted as a field name`, value: v, refused: true });
          else out.push({ path: p, reason: unknownReason(kind, name, pattern, siblings), value: v });
          continue;
        }
        walk(v, sub, p, pat);
      }
    } else if (shape.t === 'list') {
      if (!Array.isArray(value)) return;
      value.forEach((item: unknown, i) => walk(item, shape.of, `${path}[${i}]`, `${pattern}[]`));
    } else if (shape.t === 'map') {
      if (!isObject(value)) return;
      for (const [k, item] of Object.entries(value)) walk(item, shape.of, `${path}[${JSON.stringify(k)}]`, `${pattern}[]`);
    }
  };
  walk(raw, RESOURCE_FIELDS[kind], '', '');
  return out;
}
