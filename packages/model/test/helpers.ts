// Small builders shared by the model tests.
import type { FieldIssue } from '../src/index.js';

export const V3 = 'projectcalico.org/v3';

export function pool(spec: Record<string, unknown>, meta: Record<string, unknown> = { name: 'p1' }): Record<string, unknown> {
  return { apiVersion: V3, kind: 'IPPool', metadata: meta, spec };
}

export function felix(spec: Record<string, unknown>, name = 'default'): Record<string, unknown> {
  return { apiVersion: V3, kind: 'FelixConfiguration', metadata: { name }, spec };
}

export function node(spec: Record<string, unknown>, name = 'node-1'): Record<string, unknown> {
  return { apiVersion: V3, kind: 'Node', metadata: { name }, spec };
}

/** Issue paths, sorted, for whole-set comparisons. */
export function pathsOf(issues: readonly FieldIssue[]): string[] {
  return issues.map((i) => i.path).sort();
}
