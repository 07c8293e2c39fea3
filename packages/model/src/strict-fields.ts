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
          if (Object.hasOwn(DEPRECATED_V1_FIELDS, p)) continue; // never suggest a field Calico refuses
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
  // Field names are short: a long unknown key is no typo of one, and comparing it would
  // cost time proportional to its length for every candidate.
  if (name.length > MAX_SUGGESTED_NAME) return undefined;
  const squashed = squash(name);
  const same = candidates.find((c) => squash(c) === squashed);
  if (same !== undefined) return same;
  const limit = name.length <= 4 ? 1 : Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    if (Math.abs(c.length - name.length) > limit) continue; // cannot be within the limit
    const dist = editDistance(name, c);
    if (dist < bestD) {
      best = c;
      bestD = dist;
    }
  }
  return bestD <= limit ? best : undefined;
}

/** Longest unknown field name a suggestion is searched for. */
const MAX_SUGGESTED_NAME = 64;

/** Problems reported one by one per resource; the rest are summed up in one more. */
export const MAX_FIELD_PROBLEMS = 20;

const OTHER_KINDS: Readonly<Record<ResourceKind, readonly ResourceKind[]>> = {
  IPPool: ['FelixConfiguration', 'Node'],
  FelixConfiguration: ['IPPool', 'Node'],
  Node: ['IPPool', 'FelixConfiguration'],
};

/** The problem text for an unknown field `name` found at `parentPattern` (`spec`, `metadata`, ``). */
function unknownReason(kind: ResourceKind, name: string, parentPattern: string, siblings: readonly string[]): string {
  const elsewhere = (indexOf(kind).get(name) ?? []).filter((p) => p !== (parentPattern === '' ? name : `${parentPattern}.${name}`));
  if (elsewhere.length > 0) {
    return `unknown field here: ${name} belongs at ${elsewhere.join(' or ')}`;
  }
  const near = nearestName(name, siblings);
  if (near !== undefined) return `unknown field (did you mean ${near}?)`;
  // A field of another kind (natOutgoingAddress on a pool): say whose it is.
  for (const other of OTHER_KINDS[kind]) {
    const paths = (indexOf(other).get(name) ?? []).filter((p) => p.startsWith('spec.'));
    if (paths.length > 0) return `unknown field; ${name} is ${article(other)} ${other} field (${paths[0]!}), not ${article(kind)} ${kind} one`;
  }
  if (name.length <= MAX_SUGGESTED_NAME) {
    for (const [known, paths] of indexOf(kind)) {
      if (known.length > 4 && nearestName(name, [known]) === known) return `unknown field (did you mean ${paths[0]!}?)`;
    }
  }
  return `unknown field; ${kindHint(kind, parentPattern, siblings)}`;
}

/**
 * A deep copy of `raw` whose field names match the kind's table exactly: a name that
 * differs from a known field only in letter case is renamed to it, as Go's encoding/json
 * (calicoctl) and jsoniter (Felix) decode case-insensitively — `NatOutgoing: true` is a
 * pool WITH NAT to Calico, so it must be one to natfleet. When two spellings of one field
 * are present, the later one wins, as in Go. Map keys (labels, annotations) are left as
 * they are. `renamed` lists each rename (empty when none).
 */
export function canonicalFieldNames(kind: ResourceKind, raw: unknown): { value: unknown; renamed: { path: string; from: string; to: string }[] } {
  const renamed: { path: string; from: string; to: string }[] = [];
  const walk = (value: unknown, shape: FieldShape | undefined, path: string): unknown => {
    if (Array.isArray(value)) return value.map((v, i) => walk(v, shape?.t === 'list' ? shape.of : undefined, `${path}[${i}]`));
    if (!isObject(value)) return value;
    const out: JsonObject = {};
    const fields = shape?.t === 'object' ? shape.fields : undefined;
    const lower = fields === undefined ? undefined : lowerIndex(fields);
    for (const [k, v] of Object.entries(value)) {
      let name = k;
      if (fields !== undefined && !Object.hasOwn(fields, k)) {
        const hit = lower!.get(k.toLowerCase());
        if (hit !== undefined) {
          name = hit;
          renamed.push({ path: path === '' ? k : `${path}.${k}`, from: k, to: hit });
        }
      }
      const sub = fields !== undefined && Object.hasOwn(fields, name) ? fields[name] : shape?.t === 'map' ? shape.of : undefined;
      const p = path === '' ? name : `${path}.${name}`;
      // defineProperty: a "__proto__" key stays an own field, never the prototype.
      Object.defineProperty(out, name, { value: walk(v, sub, p), enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  return { value: walk(raw, RESOURCE_FIELDS[kind], ''), renamed };
}

const LOWER_INDEX = new WeakMap<object, ReadonlyMap<string, string>>();

/** lower-cased name → name, for one struct's fields; names equal ignoring case are left out (ambiguous). */
function lowerIndex(fields: Readonly<Record<string, FieldShape>>): ReadonlyMap<string, string> {
  let m = LOWER_INDEX.get(fields);
  if (m === undefined) {
    const counts = new Map<string, string[]>();
    for (const n of Object.keys(fields)) counts.set(n.toLowerCase(), [...(counts.get(n.toLowerCase()) ?? []), n]);
    m = new Map([...counts].filter(([, ns]) => ns.length === 1).map(([l, ns]) => [l, ns[0]!]));
    LOWER_INDEX.set(fields, m);
  }
  return m;
}

const article = (word: string): string => (/^[AEIOU]/.test(word) ? 'an' : 'a');

function kindHint(kind: ResourceKind, parentPattern: string, siblings: readonly string[]): string {
  const where = parentPattern === '' ? `${article(kind)} ${kind}` : `${kind} ${parentPattern}`;
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
          // Past the cap the text is never shown: skip the suggestion search.
          else out.push({ path: p, reason: out.length < MAX_FIELD_PROBLEMS ? unknownReason(kind, name, pattern, siblings) : 'unknown field', value: v });
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
  if (out.length <= MAX_FIELD_PROBLEMS) return out;
  const rest = out.length - MAX_FIELD_PROBLEMS;
  const kept = out.slice(0, MAX_FIELD_PROBLEMS);
  // Refused (prototype) keys are errors whatever the policy: keep the summary one refused if any of the rest is.
  kept.push({ path: out[MAX_FIELD_PROBLEMS]!.path, reason: `and ${rest} more unknown field(s) (not listed one by one)`, value: undefined, ...(out.slice(MAX_FIELD_PROBLEMS).some((p) => p.refused) ? { refused: true as const } : {}) });
  return kept;
}
