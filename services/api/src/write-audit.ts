/**
 * Who made each write through the API. Every transaction the API commits also puts one
 * small natfleet-owned key, `<prefix>.natfleet-audit/last-write`, with the token's name,
 * what kind of write it was and the resources it changed. Being in the same transaction,
 * its mod revision is the write's revision, so reading it as of revision R names the last
 * API write up to R, and stepping back from there (R' = that write's revision − 1) walks
 * every API write in a window. The key sits next to — not under — the Calico prefix, like
 * the pool guard, so it is neither watched nor compiled. A write made with etcdctl leaves
 * no record: a resource changed at a revision no record names was changed behind the API.
 * Owns no HTTP concerns.
 */
import type { RevisionReader, WriteOp } from '@natfleet/store';

/** One resource a recorded write changed. */
export interface AuditChange {
  kind: string;
  name: string;
  action: 'created' | 'updated' | 'disabled' | 'deleted';
}

/** The value of the audit key. */
export interface AuditRecord {
  /** The API token's name (the role when the token file names none). */
  by: string;
  action: 'write' | 'delete' | 'rollback';
  changes: AuditChange[];
  /** A rollback: the bundle version restored (an etcd revision when `forced`). */
  rollbackOf?: number;
  /** A rollback forced to a revision that was not a bundle in history. */
  forced?: boolean;
  /** When the API committed it (ISO 8601; informational). */
  at: string;
}

/** A record read back, with the revision of the write it describes. */
export interface AuditEntry extends AuditRecord {
  revision: number;
}

export const auditKey = (prefix: string): string => `${prefix}.natfleet-audit/last-write`;

/** The unconditional put that records `record` in a write's transaction. */
export function auditOp(prefix: string, record: AuditRecord): WriteOp {
  return { type: 'put', key: auditKey(prefix), value: JSON.stringify(record) };
}

/**
 * A stored audit value, or undefined when it is not one (the key is writable with etcdctl
 * too): such a value then simply names nobody.
 */
export function parseAuditRecord(value: string): AuditRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r.by !== 'string' || !['write', 'delete', 'rollback'].includes(r.action as string) || !Array.isArray(r.changes)) return undefined;
  const changes = r.changes.filter((c): c is AuditChange => typeof c === 'object' && c !== null && typeof (c as AuditChange).kind === 'string' && typeof (c as AuditChange).name === 'string' && typeof (c as AuditChange).action === 'string');
  return {
    by: r.by,
    action: r.action as AuditRecord['action'],
    changes,
    ...(typeof r.rollbackOf === 'number' ? { rollbackOf: r.rollbackOf } : {}),
    ...(r.forced === true ? { forced: true } : {}),
    at: typeof r.at === 'string' ? r.at : '',
  };
}

/** Most records one window walk reads: bounds the work of one history request. */
export const MAX_AUDIT_WALK = 200;

/**
 * Every API write in the revisions (from, to], newest first, read by stepping back through
 * the audit key's past values. `complete` is false when the walk stopped at `limit`
 * records: writes older than the last one listed are then unknown. Empty and complete when
 * no API write happened in the window. Throws StoreError NOT_FOUND when compacted.
 */
export async function auditTrail(reader: RevisionReader, prefix: string, from: number, to: number, limit = MAX_AUDIT_WALK): Promise<{ entries: AuditEntry[]; complete: boolean }> {
  const entries: AuditEntry[] = [];
  let at = to;
  while (at > from) {
    const e = await reader.valueAt(auditKey(prefix), at);
    if (!e || e.modRevision <= from) return { entries, complete: true };
    if (entries.length >= limit) return { entries, complete: false };
    const rec = parseAuditRecord(e.value);
    if (rec) entries.push({ ...rec, revision: e.modRevision });
    at = e.modRevision - 1;
  }
  return { entries, complete: true };
}
