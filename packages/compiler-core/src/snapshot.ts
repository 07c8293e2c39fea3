/**
 * Turning raw etcd key/values into validated resources. Values written behind the API's
 * back may be anything, so nothing here throws: each entry either becomes a resource or
 * a warning naming its key and reason. Owns the warning codes for unreadable entries.
 * Pure: it never reads etcd itself; the caller hands in what it read at one revision.
 */
import type { BundleWarning } from '@natfleet/bundle';
import {
  DEFAULT_KEY_PREFIX,
  formatIssues,
  isParseError,
  parseResourceKey,
  parseStoredValue,
  validateFelixConfiguration,
  validateNode,
  validatePool,
  type FelixConfiguration,
  type IPPool,
  type Node,
  type ResourceKind,
  type ValidationResult,
} from '@natfleet/model';

/** One key/value as read from etcd. `value` is the stored bytes (or text). */
export interface SnapshotEntry {
  key: string;
  value: Uint8Array | string;
  modRevision?: number;
}

/** Everything under the watched prefixes at one etcd revision. Order does not matter. */
export interface Snapshot {
  entries: readonly SnapshotEntry[];
}

export type WarningCode =
  | 'INVALID_JSON' // value is not a JSON object
  | 'INVALID_RESOURCE' // valid JSON, not a valid resource of the key's kind
  | 'NAME_MISMATCH' // metadata.name differs from the key's name
  | 'DUPLICATE_CIDR' // same CIDR as another pool; the other (first by name) wins
  | 'OVERLAP' // nested inside / around another pool; longest prefix decides
  | 'UNKNOWN_NODE_OVERRIDE'; // reserved for future use by callers

/** A resource that passed validation, with the key it came from. */
export interface Keyed<T> {
  key: string;
  name: string;
  resource: T;
}

export interface DecodedSnapshot {
  pools: Keyed<IPPool>[];
  felixConfigs: Keyed<FelixConfiguration>[];
  nodes: Keyed<Node>[];
  warnings: BundleWarning[];
}

const warn = (key: string, code: WarningCode, reason: string): BundleWarning => ({ key, code, reason });

// The warning carries the etcd key, so issues need no extra origin label.
function validateAs(kind: ResourceKind, raw: unknown): ValidationResult<IPPool | FelixConfiguration | Node> {
  switch (kind) {
    case 'IPPool':
      return validatePool(raw);
    case 'FelixConfiguration':
      return validateFelixConfiguration(raw);
    case 'Node':
      return validateNode(raw);
  }
}

/**
 * Decodes and validates every entry under `prefix` (default Calico's). Entries outside the
 * three resource prefixes are ignored silently (they are not ours). Each pool is validated
 * on its own here; overlaps between pools are resolved later by longest prefix, not
 * rejected. Returns lists sorted by key, so input order never matters.
 */
export function decodeSnapshot(snapshot: Snapshot, prefix = DEFAULT_KEY_PREFIX): DecodedSnapshot {
  const out: DecodedSnapshot = { pools: [], felixConfigs: [], nodes: [], warnings: [] };
  const entries = [...snapshot.entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const entry of entries) {
    const parts = parseResourceKey(entry.key, prefix);
    if (!parts) continue;
    let raw: Record<string, unknown>;
    try {
      raw = parseStoredValue(entry.key, entry.value, entry.modRevision !== undefined ? { modRevision: entry.modRevision } : {}).object;
    } catch (err) {
      out.warnings.push(warn(entry.key, 'INVALID_JSON', isParseError(err) ? err.message : String(err)));
      continue;
    }
    const result = validateAs(parts.kind, raw);
    if (!result.ok) {
      out.warnings.push(warn(entry.key, 'INVALID_RESOURCE', formatIssues(result.issues)));
      continue;
    }
    const name = result.value.metadata.name ?? '';
    if (name !== parts.name) {
      out.warnings.push(warn(entry.key, 'NAME_MISMATCH', `metadata.name "${name}" does not match the key's name "${parts.name}"`));
      continue;
    }
    if (result.value.kind === 'IPPool') out.pools.push({ key: entry.key, name, resource: result.value });
    else if (result.value.kind === 'FelixConfiguration') out.felixConfigs.push({ key: entry.key, name, resource: result.value });
    else out.nodes.push({ key: entry.key, name, resource: result.value });
  }
  return out;
}
