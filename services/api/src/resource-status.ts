/**
 * What the compiler made of each stored resource, for `natctl get`'s STATUS column: read
 * from the warnings of the newest bundle (the compiler's own verdict), never recomputed
 * here. Pure: resources and a bundle in, one status line per resource out. Never: I/O,
 * or a verdict the bundle does not carry.
 */
import type { Bundle, BundleWarning } from '@natfleet/bundle';
import { fieldProblems, resourceKey, type ResourceKind } from '@natfleet/model';

export interface ResourceStatus {
  name: string;
  /** `Active`, `Skipped: <reason>`, `Shadowed by <pool>`, `Inside <pool> …`, `Unknown fields: <paths>`, joined by `; `. */
  status: string;
}

/** The first issue of a formatIssues() text, without its resource label: `spec.cidr: required`. */
function firstIssue(reason: string): string {
  const line = reason.split('\n').find((l) => l.trimStart().startsWith('- '));
  if (line === undefined) return reason;
  const text = line.trimStart().slice(2);
  const sp = text.indexOf(' ');
  const more = reason.split('\n').filter((l) => l.trimStart().startsWith('- ')).length - 1;
  return `${sp < 0 ? text : text.slice(sp + 1)}${more > 0 ? ` (+${more} more)` : ''}`;
}

const OVERLAP_PARENT = /^overlaps pool "([^"]+)" \(([^)]+)\)/;

const nameOf = (o: Record<string, unknown>): string => {
  const meta = o['metadata'];
  const n = meta !== null && typeof meta === 'object' ? (meta as Record<string, unknown>)['name'] : undefined;
  return typeof n === 'string' ? n : '';
};

/**
 * One status per stored resource, in `items` order. With no bundle yet every status is
 * `Unknown: no bundle published yet` — never a guess of `Active`. The unknown fields of an
 * UNKNOWN_FIELD warning are listed from the stored resource itself (the same check the
 * compiler ran), not parsed back out of the warning's text.
 */
export function resourceStatuses(kind: ResourceKind, items: readonly Record<string, unknown>[], bundle: Bundle | undefined, prefix: string): ResourceStatus[] {
  if (bundle === undefined) return items.map((o) => ({ name: nameOf(o), status: 'Unknown: no bundle published yet' }));
  const byKey = new Map<string, BundleWarning[]>();
  for (const w of bundle.warnings) byKey.set(w.key, [...(byKey.get(w.key) ?? []), w]);
  // A pool nested in another decides for its own range: the outer pool is shadowed there.
  const shadowedBy = new Map<string, string[]>();
  if (kind === 'IPPool') {
    for (const w of bundle.warnings) {
      const m = w.code === 'OVERLAP' ? OVERLAP_PARENT.exec(w.reason) : null;
      if (m === null) continue;
      const child = w.key.slice(w.key.lastIndexOf('/') + 1);
      const parentKey = resourceKey('IPPool', m[1]!, prefix);
      shadowedBy.set(parentKey, [...(shadowedBy.get(parentKey) ?? []), child]);
    }
  }
  return items.map((o) => {
    const name = nameOf(o);
    const key = resourceKey(kind, name, prefix);
    const parts: string[] = [];
    for (const w of byKey.get(key) ?? []) {
      if (w.code === 'INVALID_JSON') parts.push(`Skipped: ${w.reason.includes('invalid JSON') ? w.reason.slice(w.reason.indexOf('invalid JSON')) : w.reason.slice(w.reason.lastIndexOf(': ') + 2)}`);
      else if (w.code === 'INVALID_RESOURCE' || w.code === 'NAME_MISMATCH') parts.push(`Skipped: ${firstIssue(w.reason)}`);
      else if (w.code === 'DUPLICATE_CIDR') parts.push(`Skipped: ${w.reason.replace(/, which takes precedence; this pool is ignored$/, '')}`);
      else if (w.code === 'UNKNOWN_FIELD') {
        const paths = fieldProblems(kind, o).map((p) => p.path);
        parts.push(`Unknown fields: ${paths.length > 0 ? paths.join(', ') : '(changed since the bundle)'}`);
      }
      else if (w.code === 'OVERLAP') parts.push(`Inside ${OVERLAP_PARENT.exec(w.reason)?.[1] ?? 'another pool'} (longest prefix wins)`);
    }
    const shadows = shadowedBy.get(key);
    if (shadows !== undefined) parts.push(`Shadowed by ${shadows.join(', ')}`);
    // Compiled (with or without warnings) unless skipped.
    if (!parts.some((p) => p.startsWith('Skipped'))) parts.unshift('Active');
    return { name, status: parts.join('; ') };
  });
}
