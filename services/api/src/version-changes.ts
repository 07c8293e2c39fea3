/**
 * What changed in a bundle version, and by whom: the resources whose etcd keys changed
 * between the previous bundle's source revision and this one's, each attributed to the
 * API write that made it (from the audit trail, write-audit.ts) or, when no API record
 * covers it, to etcdctl (Node resources: to the node inventory). Pure.
 */
import { parseResourceKey } from '@natfleet/model';
import type { RevisionChanges } from '@natfleet/store';
import type { AuditEntry } from './write-audit.js';

/**
 * How a resource was changed:
 *   api          — an API write (`by` is the token's name)
 *   rollback     — an API rollback (`by`, `rollbackOf`, `forced`)
 *   etcdctl      — no API record covers it: written behind the API
 *   inventory    — a Node resource no API record covers: the fleet's node inventory (the
 *                  compiler registering an enforcer, a decommission, GC)
 *   unknown      — older than the audit records one request reads (see MAX_AUDIT_WALK)
 */
export type ChangeVia = 'api' | 'rollback' | 'etcdctl' | 'inventory' | 'unknown';

export interface ChangedResource {
  kind: string;
  name: string;
  action: 'created' | 'updated' | 'deleted';
  via: ChangeVia;
  /** The API token's name (via api or rollback). */
  by?: string;
  /** Via rollback: the bundle version restored (an etcd revision when `forced`). */
  rollbackOf?: number;
  forced?: boolean;
}

/**
 * A version's change against its predecessor in history:
 *   ok             — `resources` changed since version `since` (sorted by kind, then name)
 *   compacted      — etcd no longer holds the revisions to compare
 *   no-predecessor — the oldest bundle the stream keeps: nothing to compare with
 */
export type VersionChange =
  | { status: 'ok'; since: number; resources: ChangedResource[] }
  | { status: 'compacted'; since: number }
  | { status: 'no-predecessor' };

/** A change no API record covers: Nodes belong to the node inventory, anything else was etcdctl. */
const behindTheApi = (kind: string): ChangeVia => (kind === 'Node' ? 'inventory' : 'etcdctl');

function fromRecord(e: AuditEntry): Pick<ChangedResource, 'via' | 'by' | 'rollbackOf' | 'forced'> {
  if (e.action !== 'rollback') return { via: 'api', by: e.by };
  return { via: 'rollback', by: e.by, ...(e.rollbackOf !== undefined ? { rollbackOf: e.rollbackOf } : {}), ...(e.forced ? { forced: true } : {}) };
}

/**
 * Attributes each resource change in the window (from, to] to its author. `trail` holds
 * the API writes in the same window, newest first. A created or updated resource is the
 * API's when the record written in the same transaction (same revision) names it; a
 * deleted one when any record in the window deleted it. Keys under the prefix that are not
 * natfleet's kinds are left out. Empty when nothing changed.
 */
export function attributeChanges(prefix: string, window: RevisionChanges, from: number, trail: { entries: readonly AuditEntry[]; complete: boolean }): ChangedResource[] {
  const byRevision = new Map(trail.entries.map((e) => [e.revision, e]));
  // With an incomplete trail, writes before the oldest record read are not known.
  const knownFrom = trail.complete ? from : (trail.entries.at(-1)?.revision ?? Number.POSITIVE_INFINITY);
  const names = (e: AuditEntry, kind: string, name: string, deleted: boolean): boolean => e.changes.some((c) => c.kind === kind && c.name === name && (!deleted || c.action === 'deleted'));
  const out: ChangedResource[] = [];
  for (const e of window.changed) {
    const p = parseResourceKey(e.key, prefix);
    if (!p) continue;
    const action = e.createRevision > from ? 'created' : 'updated';
    const rec = byRevision.get(e.modRevision);
    if (rec && names(rec, p.kind, p.name, false)) out.push({ kind: p.kind, name: p.name, action, ...fromRecord(rec) });
    else out.push({ kind: p.kind, name: p.name, action, via: e.modRevision < knownFrom ? 'unknown' : behindTheApi(p.kind) });
  }
  for (const key of window.deleted) {
    const p = parseResourceKey(key, prefix);
    if (!p) continue;
    const rec = trail.entries.find((e) => names(e, p.kind, p.name, true));
    if (rec) out.push({ kind: p.kind, name: p.name, action: 'deleted', ...fromRecord(rec) });
    else out.push({ kind: p.kind, name: p.name, action: 'deleted', via: trail.complete ? behindTheApi(p.kind) : 'unknown' });
  }
  const order = (k: string): number => ['IPPool', 'FelixConfiguration', 'Node'].indexOf(k);
  return out.sort((a, b) => order(a.kind) - order(b.kind) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
