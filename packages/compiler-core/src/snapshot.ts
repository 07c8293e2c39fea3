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
  type FieldIssue,
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
  | 'UNKNOWN_FIELD' // compiled, but carries fields Calico does not define (a typo?) or deprecated v1 fields
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

// The warning carries the etcd key, so issues need no extra origin label. Values in etcd
// are read leniently, as Calico's own components do: an unknown field is a warning on a
// resource that is still compiled, never a reason to drop it.
function validateAs(kind: ResourceKind, raw: unknown): ValidationResult<IPPool | FelixConfiguration | Node> {
  switch (kind) {
    case 'IPPool':
      return validatePool(raw, { unknownFields: 'warn' });
    case 'FelixConfiguration':
      return validateFelixConfiguration(raw, { unknownFields: 'warn' });
    case 'Node':
      return validateNode(raw, { unknownFields: 'warn' });
  }
}

/** The UNKNOWN_FIELD reason, for people: `path: reason` per field, joined by `; `. */
function unknownFieldReason(warnings: readonly FieldIssue[]): string {
  return warnings.map((w) => `${w.path}: ${w.reason}`).join('; ');
}

/** What one entry decodes to. */
type DecodedEntry =
  | { type: 'pool'; keyed: Keyed<IPPool>; warning?: BundleWarning }
  | { type: 'felix'; keyed: Keyed<FelixConfiguration>; warning?: BundleWarning }
  | { type: 'node'; keyed: Keyed<Node>; warning?: BundleWarning }
  | { type: 'warning'; warning: BundleWarning }
  | { type: 'ignored' };

function decodeEntry(entry: SnapshotEntry, prefix: string): DecodedEntry {
  const parts = parseResourceKey(entry.key, prefix);
  if (!parts) return { type: 'ignored' };
  let raw: Record<string, unknown>;
  try {
    raw = parseStoredValue(entry.key, entry.value, entry.modRevision !== undefined ? { modRevision: entry.modRevision } : {}).object;
  } catch (err) {
    return { type: 'warning', warning: warn(entry.key, 'INVALID_JSON', isParseError(err) ? err.message : String(err)) };
  }
  const result = validateAs(parts.kind, raw);
  // A skipped resource's unknown fields often explain it (`cidrr` → spec.cidr required): list them too.
  if (!result.ok) return { type: 'warning', warning: warn(entry.key, 'INVALID_RESOURCE', formatIssues([...result.issues, ...(result.warnings ?? [])])) };
  const name = result.value.metadata.name ?? '';
  if (name !== parts.name) {
    return { type: 'warning', warning: warn(entry.key, 'NAME_MISMATCH', `metadata.name "${name}" does not match the key's name "${parts.name}"`) };
  }
  const w = result.warnings !== undefined && result.warnings.length > 0 ? { warning: warn(entry.key, 'UNKNOWN_FIELD', unknownFieldReason(result.warnings)) } : {};
  if (result.value.kind === 'IPPool') return { type: 'pool', keyed: { key: entry.key, name, resource: result.value }, ...w };
  if (result.value.kind === 'FelixConfiguration') return { type: 'felix', keyed: { key: entry.key, name, resource: result.value }, ...w };
  return { type: 'node', keyed: { key: entry.key, name, resource: result.value }, ...w };
}

/** Same stored value. A string and bytes never match (they decode differently, e.g. a BOM). */
const sameValue = (a: Uint8Array | string, b: Uint8Array | string): boolean => {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
};

/**
 * Remembers how each etcd entry decoded, so the next compile re-validates only entries
 * whose value (or mod revision) changed — between two snapshots almost none do. Purely an
 * optimisation: compile gives byte-identical output with or without one. Holds only the
 * entries of the last snapshot it saw (removed keys are dropped). Not shared across
 * prefixes (it resets itself when the prefix differs).
 */
export class DecodeCache {
  private prefix = '';
  private entries = new Map<string, { entry: SnapshotEntry; decoded: DecodedEntry }>();

  /** @internal Decodes `entries` (sorted by key) through the cache and keeps only them. */
  decodeAll(entries: readonly SnapshotEntry[], prefix: string): DecodedEntry[] {
    if (prefix !== this.prefix) {
      this.prefix = prefix;
      this.entries.clear();
    }
    const next = new Map<string, { entry: SnapshotEntry; decoded: DecodedEntry }>();
    const out = entries.map((entry) => {
      const hit = this.entries.get(entry.key);
      const decoded =
        hit && hit.entry.modRevision === entry.modRevision && sameValue(hit.entry.value, entry.value) ? hit.decoded : decodeEntry(entry, prefix);
      next.set(entry.key, { entry, decoded });
      return decoded;
    });
    this.entries = next;
    return out;
  }

  /** Entries currently remembered (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }
}

/**
 * Decodes and validates every entry under `prefix` (default Calico's). Entries outside the
 * three resource prefixes are ignored silently (they are not ours). Each pool is validated
 * on its own here; overlaps between pools are resolved later by longest prefix, not
 * rejected. Returns lists sorted by key, so input order never matters. `cache` (optional)
 * skips re-validating entries unchanged since the last call with the same cache.
 */
export function decodeSnapshot(snapshot: Snapshot, prefix = DEFAULT_KEY_PREFIX, cache?: DecodeCache): DecodedSnapshot {
  const out: DecodedSnapshot = { pools: [], felixConfigs: [], nodes: [], warnings: [] };
  const entries = [...snapshot.entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const decoded = cache ? cache.decodeAll(entries, prefix) : entries.map((e) => decodeEntry(e, prefix));
  for (const d of decoded) {
    if ((d.type === 'pool' || d.type === 'felix' || d.type === 'node') && d.warning !== undefined) out.warnings.push(d.warning);
    if (d.type === 'pool') out.pools.push(d.keyed);
    else if (d.type === 'felix') out.felixConfigs.push(d.keyed);
    else if (d.type === 'node') out.nodes.push(d.keyed);
    else if (d.type === 'warning') out.warnings.push(d.warning);
  }
  return out;
}
