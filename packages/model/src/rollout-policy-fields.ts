// Every JSON field natfleet's own RolloutPolicy kind (natfleet.io/v1, DESIGN.md §10)
// defines, in the FieldShape table style of calico-fields.ts, and the strict walk that
// reports unknown fields with the nearest known name.
//
// Owns: RolloutPolicy field names and nesting, and the wording of its unknown-field
// problems. Never: type or value checks (rollout-policy.ts owns those), Calico's kinds
// (calico-fields.ts / strict-fields.ts), I/O.
import { type FieldShape, OBJECT_META, leaf, list, map, obj } from './calico-fields.js';
import { isObject, type JsonObject } from './field-checks.js';
import { MAX_FIELD_PROBLEMS, nearestName, type FieldProblem } from './strict-fields.js';

/** Gates: defaults for every wave (spec.gates) or one wave's overrides (spec.waves[].gates). */
const GATES: FieldShape = obj({
  ack: leaf,
  noNack: leaf,
  healthChecks: obj({
    commands: list(obj({ name: leaf, command: list(leaf), timeout: leaf })),
    conntrack: obj({ insertFailedDelta: leaf, dropDelta: leaf }),
  }),
  webhook: obj({ url: leaf, timeout: leaf, headers: map(leaf) }),
});

export const ROLLOUT_POLICY_SPEC: FieldShape = obj({
  waves: list(obj({ name: leaf, selector: leaf, percent: leaf, bake: leaf, gates: GATES })),
  gates: GATES,
  onFailure: leaf,
  progressDeadline: leaf,
});

/** The whole RolloutPolicy resource. It has no status yet (nothing acts on it). */
export const ROLLOUT_POLICY_FIELDS: FieldShape = obj({ kind: leaf, apiVersion: leaf, metadata: OBJECT_META, spec: ROLLOUT_POLICY_SPEC });

/** Every dotted pattern (`[]` for list/map levels) at which each field name is known. */
function nameIndex(): ReadonlyMap<string, readonly string[]> {
  const m = new Map<string, string[]>();
  const visit = (shape: FieldShape, path: string): void => {
    if (shape.t === 'object') {
      for (const [name, sub] of Object.entries(shape.fields)) {
        const p = path === '' ? name : `${path}.${name}`;
        m.set(name, [...(m.get(name) ?? []), p]);
        visit(sub, p);
      }
    } else if (shape.t === 'list' || shape.t === 'map') {
      visit(shape.of, `${path}[]`);
    }
  };
  visit(ROLLOUT_POLICY_FIELDS, '');
  return m;
}

let INDEX: ReadonlyMap<string, readonly string[]> | undefined;

function unknownReason(name: string, pattern: string, siblings: readonly string[]): string {
  INDEX ??= nameIndex();
  const here = pattern === '' ? name : `${pattern}.${name}`;
  const elsewhere = (INDEX.get(name) ?? []).filter((p) => p !== here);
  // A wave's `gates.ack` is known under spec.gates too: only hint at paths that are not the same field one level off.
  if (elsewhere.length > 0) return `unknown field here: ${name} belongs at ${elsewhere.join(' or ')}`;
  const near = nearestName(name, siblings);
  if (near !== undefined) return `unknown field (did you mean ${near}?)`;
  const where = pattern === '' ? 'a RolloutPolicy' : `RolloutPolicy ${pattern}`;
  return `unknown field; ${where} has ${siblings.join(', ')}`;
}

/**
 * Every field of `raw` that RolloutPolicy does not define, in document order, with a
 * dotted path and the nearest known name when one is plausibly meant. Values of the wrong
 * type are not descended into (the validator reports them). Empty when the resource is
 * clean or `raw` is not an object; past MAX_FIELD_PROBLEMS the rest are summed up in one.
 */
export function rolloutPolicyFieldProblems(raw: unknown): FieldProblem[] {
  const out: FieldProblem[] = [];
  const walk = (value: unknown, shape: FieldShape, path: string, pattern: string): void => {
    if (shape.t === 'object') {
      if (!isObject(value)) return;
      const siblings = Object.keys(shape.fields);
      for (const [name, v] of Object.entries(value as JsonObject)) {
        const p = path === '' ? name : `${path}.${name}`;
        const sub = Object.hasOwn(shape.fields, name) ? shape.fields[name] : undefined;
        if (sub === undefined) {
          const refused = name === '__proto__' || name === 'constructor' || name === 'prototype';
          out.push({
            path: p,
            reason: refused ? `unknown field; "${name}" is never accepted as a field name` : out.length < MAX_FIELD_PROBLEMS ? unknownReason(name, pattern, siblings) : 'unknown field',
            value: v,
            ...(refused ? { refused: true as const } : {}),
          });
          continue;
        }
        walk(v, sub, p, pattern === '' ? name : `${pattern}.${name}`);
      }
    } else if (shape.t === 'list') {
      if (Array.isArray(value)) value.forEach((item: unknown, i) => walk(item, shape.of, `${path}[${i}]`, `${pattern}[]`));
    } else if (shape.t === 'map') {
      if (isObject(value)) for (const [k, item] of Object.entries(value)) walk(item, shape.of, `${path}[${JSON.stringify(k)}]`, `${pattern}[]`);
    }
  };
  walk(raw, ROLLOUT_POLICY_FIELDS, '', '');
  if (out.length <= MAX_FIELD_PROBLEMS) return out;
  const kept = out.slice(0, MAX_FIELD_PROBLEMS);
  kept.push({ path: out[MAX_FIELD_PROBLEMS]!.path, reason: `and ${out.length - MAX_FIELD_PROBLEMS} more unknown field(s) (not listed one by one)`, value: undefined });
  return kept;
}
