/**
 * Writes and reads of IPPool and FelixConfiguration resources with calicoctl semantics:
 *   create  — fails if any resource exists;      replace — fails if any does not;
 *   apply   — creates or updates.
 * A batch is validated as a whole (every issue listed, overlaps within the batch and
 * against stored pools) and written in ONE etcd transaction guarded by each key's mod
 * revision, so it lands all-or-nothing and a concurrent change yields CONFLICT with
 * nothing written. Server-side metadata follows calicoctl: create refuses a
 * `resourceVersion`; apply and replace of a stored resource need it (when given) to equal
 * the stored mod revision (CONFLICT otherwise); apply of a resource that does not exist
 * ignores `resourceVersion`, `uid` and `creationTimestamp`, so `get -o yaml` output
 * restores into an empty store. Unknown fields are errors unless the caller asks for
 * warnings. Dry-run computes the same changes and the NAT diff, and writes nothing.
 * Every commit also records who made it and what it changed (write-audit.ts), in the same
 * transaction, for `natctl history`.
 * Owns no HTTP concerns.
 */
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '@natfleet/bundle';
import { DecodeCache, type SnapshotEntry } from '@natfleet/compiler-core';
import {
  kindKeyPrefix,
  parseResourceKey,
  parseStoredValue,
  resourceKey,
  validatePoolUpdate,
  validateResources,
  type FieldIssue,
  type RawResource,
  type Resource,
  type ResourceKind,
  type UnknownFieldPolicy,
} from '@natfleet/model';
import { MAX_TXN_OPS, type EtcdStore, type StoreSnapshot, type StoredEntry, type WriteOp } from '@natfleet/store';
import { ApiError } from './errors.js';
import { natDiff, type NatDiff } from './nat-diff.js';
import { auditOp, type AuditRecord } from './write-audit.js';

export const WRITABLE_KINDS = ['IPPool', 'FelixConfiguration'] as const;

/**
 * Most resources one write or delete request may name (dry runs included). It bounds the
 * validation and diff work a single request can cause. It is larger than one etcd
 * transaction (MAX_TXN_OPS) on purpose: applying a whole backup in which most resources
 * are unchanged writes only the changed ones.
 */
export const MAX_BATCH_RESOURCES = 1000;

function checkBatchSize(n: number): void {
  if (n > MAX_BATCH_RESOURCES) throw new ApiError('BATCH_TOO_LARGE', `${n} resources in one request; send at most ${MAX_BATCH_RESOURCES} at a time`);
}
export type WritableKind = (typeof WRITABLE_KINDS)[number];
export type WriteMode = 'create' | 'replace' | 'apply';

export interface ResourceChange {
  kind: WritableKind;
  name: string;
  action: 'created' | 'updated' | 'unchanged' | 'disabled' | 'deleted';
  /** Mod revision after the write (absent on dry-run and for deletions). */
  resourceVersion?: string;
}

export interface WriteOptions {
  /** Validate and compute the diff, write nothing. */
  dryRun?: boolean;
  /** Unknown and deprecated fields: `error` (default: 422, nothing stored) or `warn` (stored, listed in `warnings`). */
  unknownFields?: UnknownFieldPolicy;
  /** Who writes (the API token's name), recorded with the write for `natctl history`. Default `api`. */
  by?: string;
}

/** What the audit record of a commit says besides its changes (write-audit.ts). */
type AuditMeta = Omit<AuditRecord, 'changes' | 'at'>;

export interface WriteResult {
  /** Problems let through under `unknownFields: 'warn'` (absent when none). */
  warnings?: FieldIssue[];
  dryRun: boolean;
  /** etcd revision after the write (the bundle version that will carry it), or the read revision on dry-run / no-op. */
  revision: number;
  changes: ResourceChange[];
  nat: NatDiff;
}

type Json = Record<string, unknown>;

const isWritable = (k: unknown): k is WritableKind => (WRITABLE_KINDS as readonly unknown[]).includes(k);

/** A stored value as a resource object with resourceVersion = mod revision (undefined when not JSON). */
function storedResource(e: StoredEntry): Json | undefined {
  try {
    return parseStoredValue(e.key, e.value, { modRevision: e.modRevision }).object;
  } catch {
    return undefined;
  }
}

/** Canonical form of stored text, or undefined when it is not JSON (written behind our back). */
function canonicalStored(value: string): string | undefined {
  try {
    return canonicalJson(JSON.parse(value));
  } catch {
    return undefined;
  }
}

/** Issue label for a batch item before validation (`Kind/name` or `Kind[i]`). */
function labelOf(it: RawResource, i: number): string {
  const name = metaOf(it.object).name;
  return `${String(it.object.kind ?? 'Resource')}${typeof name === 'string' && name !== '' ? `/${name}` : `[${i}]`}`;
}

function metaOf(o: Json): Json {
  return typeof o.metadata === 'object' && o.metadata !== null ? (o.metadata as Json) : {};
}

export class ResourceService {
  /** Shared by every NAT diff: consecutive snapshots differ in a few entries only. */
  private readonly decodeCache = new DecodeCache();

  constructor(readonly store: EtcdStore) {}

  private get prefix(): string {
    return this.store.prefix;
  }

  /**
   * Guard key for writes that add or change pools. Pool overlap is a rule across keys:
   * two writers validating against the same snapshot could each add a pool overlapping the
   * other's. Every such transaction fences this key at its snapshot revision, so only the
   * first commits and the second gets CONFLICT (then, on retry, the overlap error). It sits
   * next to — not under — the resource prefix, so it is neither watched nor compiled.
   */
  private get poolGuardKey(): string {
    return `${this.prefix}.natfleet-guard/ippools`;
  }

  /**
   * Adds the pool fence when any op touches an IPPool key, and the audit record of the
   * write (who, what) when `audit` is given; checks etcd's transaction size.
   */
  private guarded(ops: WriteOp[], snap: StoreSnapshot, audit?: AuditRecord): WriteOp[] {
    const poolPrefix = kindKeyPrefix('IPPool', this.prefix);
    const fenced = ops.some((o) => o.key.startsWith(poolPrefix)) ? [...ops, { type: 'fence' as const, key: this.poolGuardKey, notModifiedAfter: snap.revision }] : ops;
    const out = audit ? [...fenced, auditOp(this.prefix, audit)] : fenced;
    if (out.length > MAX_TXN_OPS) {
      throw new ApiError('BAD_REQUEST', `this change needs ${out.length} etcd operations; one transaction holds at most ${MAX_TXN_OPS} (etcd --max-txn-ops): split it into smaller batches`);
    }
    return out;
  }

  /** Every stored resource of `kind`, sorted by name, with resourceVersion; invalid JSON values are skipped. */
  async list(kind: WritableKind): Promise<{ revision: number; items: Json[] }> {
    const snap = await this.store.snapshot();
    const prefix = kindKeyPrefix(kind, this.prefix);
    const items = snap.entries
      .filter((e) => e.key.startsWith(prefix))
      .map(storedResource)
      .filter((o): o is Json => o !== undefined);
    return { revision: snap.revision, items };
  }

  /** One resource; ApiError NOT_FOUND when absent. */
  async get(kind: WritableKind, name: string): Promise<Json> {
    const e = await this.store.get(resourceKey(kind, name, this.prefix));
    const o = e && storedResource(e);
    if (!o) throw new ApiError('NOT_FOUND', `${kind} "${name}" not found`);
    return o;
  }

  /** create / replace / apply a batch (see module header). */
  async write(mode: WriteMode, items: readonly RawResource[], { dryRun = false, unknownFields = 'error', by = 'api' }: WriteOptions = {}): Promise<WriteResult> {
    if (items.length === 0) throw new ApiError('BAD_REQUEST', 'no resources in the request body');
    checkBatchSize(items.length);
    const snap = await this.store.snapshot();
    const byKey = new Map(snap.entries.map((e) => [e.key, e]));
    const issues: FieldIssue[] = [];
    items.forEach((it, i) => {
      const kind = it.object.kind;
      if (kind !== undefined && !isWritable(kind)) {
        issues.push({ resource: `${String(kind)}[${i}]`, path: 'kind', reason: kind === 'Node' ? 'Node resources are registered by enforcers, not written through the API' : `must be one of ${WRITABLE_KINDS.join(', ')}`, value: kind });
      }
      // calicoctl: a create may not carry a resourceVersion (it names a stored revision).
      const rv = metaOf(it.object).resourceVersion;
      if (mode === 'create' && rv !== undefined && rv !== null && rv !== '') {
        issues.push({ resource: labelOf(it, i), path: 'metadata.resourceVersion', reason: 'must not be set on create (it is the stored revision; use apply or replace to update)', value: rv });
      }
    });
    const storedPools = snap.entries.filter((e) => e.key.startsWith(kindKeyPrefix('IPPool', this.prefix))).map(storedResource).filter((o): o is Json => o !== undefined);
    const validated = validateResources(items, { existing: storedPools, unknownFields });
    if (!validated.ok) for (const x of validated.issues) issues.push(x);
    // What may not change on update (cidr, blockSize, LoadBalancer uses) is checked in the
    // same pass, so every problem comes back at once, not one phase after another.
    items.forEach((it) => {
      if (it.object.kind !== 'IPPool' || mode === 'create') return;
      const name = metaOf(it.object).name;
      const stored = typeof name === 'string' && name !== '' ? byKey.get(resourceKey('IPPool', name, this.prefix)) : undefined;
      const old = stored && storedResource(stored);
      if (!old) return;
      const u = validatePoolUpdate(old, it.object, { unknownFields });
      if (!u.ok) for (const x of u.issues) if (x.path === 'spec.cidr' && /cannot be changed/.test(x.reason) || x.path === 'spec.blockSize' && /cannot be changed/.test(x.reason) || x.path === 'spec.allowedUses' && /cannot change/.test(x.reason)) issues.push(x);
    });
    if (issues.length > 0 || !validated.ok) throw new ApiError('VALIDATION_FAILED', `${issues.length} problem(s) in the request`, issues);

    const ops: WriteOp[] = [];
    const changes: ResourceChange[] = [];
    validated.value.forEach((res, i) => {
      const kind = res.kind as WritableKind;
      const name = res.metadata.name!;
      const key = resourceKey(kind, name, this.prefix);
      const stored = byKey.get(key);
      const rawRv = metaOf(items[i]!.object).resourceVersion;
      const wantedRv = rawRv === undefined || rawRv === null || rawRv === '' ? undefined : String(rawRv);
      if (mode === 'create' && stored) throw new ApiError('ALREADY_EXISTS', `${kind} "${name}" already exists (use replace or apply)`);
      if (mode === 'replace' && !stored) throw new ApiError('NOT_FOUND', `${kind} "${name}" does not exist (use create or apply)`);
      // apply and replace of a stored resource: resourceVersion is the optimistic-concurrency
      // guard. apply of a resource that does not exist ignores it, with uid and
      // creationTimestamp (calicoctl does the same): that is what lets `get -o yaml` output
      // be restored into an empty or different store.
      if (wantedRv !== undefined && stored && wantedRv !== String(stored.modRevision)) {
        throw new ApiError('CONFLICT', `${kind} "${name}" was modified: resourceVersion ${wantedRv} is stale (now ${stored.modRevision}); get it again and retry`);
      }
      const old = stored && storedResource(stored);
      const value = this.storedValue(res, old);
      // A stored value that is not JSON (etcdctl) simply counts as changed: apply repairs it.
      if (stored && canonicalStored(stored.value) === canonicalJson(JSON.parse(value))) {
        changes.push({ kind, name, action: 'unchanged', resourceVersion: String(stored.modRevision) });
        return;
      }
      ops.push({ type: 'put', key, value, expectedModRevision: stored?.modRevision ?? 0 });
      changes.push({ kind, name, action: stored ? 'updated' : 'created' });
    });
    const result = await this.commit(snap, ops, changes, dryRun, { by, action: 'write' });
    return validated.warnings && validated.warnings.length > 0 ? { ...result, warnings: [...validated.warnings] } : result;
  }

  /**
   * Deletes resources. Pools are deleted as Calico does: an enabled pool is first written
   * back with `disabled: true` (so the compiler and IPAM see it stop being used), then
   * deleted, each step guarded by the mod revision. `resourceVersion` (single delete) must match.
   */
  async delete(targets: readonly { kind: string; name: string; resourceVersion?: string }[], { dryRun = false, by = 'api' }: { dryRun?: boolean; by?: string } = {}): Promise<WriteResult> {
    if (targets.length === 0) throw new ApiError('BAD_REQUEST', 'nothing to delete');
    checkBatchSize(targets.length);
    const snap = await this.store.snapshot();
    const byKey = new Map(snap.entries.map((e) => [e.key, e]));
    const disableOps: WriteOp[] = [];
    const deleteOps: { type: 'delete'; key: string; expectedModRevision: number }[] = [];
    const changes: ResourceChange[] = [];
    const seen = new Set<string>();
    for (const t of targets) {
      if (seen.has(`${t.kind}/${t.name}`)) throw new ApiError('BAD_REQUEST', `${t.kind}/${t.name} is named twice`);
      seen.add(`${t.kind}/${t.name}`);
      if (!isWritable(t.kind)) throw new ApiError('BAD_REQUEST', `cannot delete kind ${JSON.stringify(t.kind)}; must be one of ${WRITABLE_KINDS.join(', ')}`);
      const key = resourceKey(t.kind, t.name, this.prefix);
      const stored = byKey.get(key);
      if (!stored) throw new ApiError('NOT_FOUND', `${t.kind} "${t.name}" not found`);
      if (t.resourceVersion && t.resourceVersion !== String(stored.modRevision)) {
        throw new ApiError('CONFLICT', `${t.kind} "${t.name}" was modified: resourceVersion ${t.resourceVersion} is stale (now ${stored.modRevision})`);
      }
      const obj = storedResource(stored);
      const spec = obj && typeof obj.spec === 'object' && obj.spec !== null ? (obj.spec as Json) : undefined;
      if (t.kind === 'IPPool' && obj && spec && spec.disabled !== true) {
        const { resourceVersion: _rv, ...meta } = metaOf(obj);
        disableOps.push({ type: 'put', key, value: JSON.stringify({ ...obj, metadata: meta, spec: { ...spec, disabled: true } }), expectedModRevision: stored.modRevision });
        changes.push({ kind: t.kind, name: t.name, action: 'disabled' });
      }
      deleteOps.push({ type: 'delete', key, expectedModRevision: stored.modRevision });
      changes.push({ kind: t.kind, name: t.name, action: 'deleted' });
    }
    const after = this.applyOps(snap.entries, deleteOps);
    const nat = natDiff(snap.entries, after, this.prefix, this.decodeCache);
    const audit = auditRecord({ by, action: 'delete' }, changes);
    this.guarded(deleteOps, snap, audit); // size check before writing anything
    if (dryRun) return { dryRun, revision: snap.revision, changes, nat };
    let expected = new Map(deleteOps.map((o) => [o.key, o.expectedModRevision]));
    if (disableOps.length > 0) {
      const r = await this.store.commit(this.guarded(disableOps, snap, audit));
      if (!r.succeeded) throw new ApiError('CONFLICT', 'a resource changed while deleting; nothing was deleted, retry');
      expected = new Map([...expected, ...disableOps.map((o) => [o.key, r.revision] as const)]);
    }
    const r = await this.store.commit([...deleteOps.map((o) => ({ ...o, expectedModRevision: expected.get(o.key)! })), auditOp(this.prefix, audit)]);
    if (!r.succeeded) throw new ApiError('CONFLICT', 'a resource changed while deleting; pools may be left disabled, retry the delete');
    return { dryRun, revision: r.revision, changes, nat };
  }

  /**
   * Restores every IPPool and FelixConfiguration to what it was at etcd revision
   * `revision` (a bundle version), in one transaction guarded by current mod revisions.
   * Nodes are left alone (they describe the fleet, not the desired NAT). NOT_FOUND when
   * that revision has been compacted. Whether `revision` is a bundle in history is the
   * caller's check (history-service.ts); `rollbackOf` and `forced` are recorded with `by`.
   */
  async rollback(revision: number, { dryRun = false, by = 'api', rollbackOf = revision, forced = false }: { dryRun?: boolean; by?: string; rollbackOf?: number; forced?: boolean } = {}): Promise<WriteResult> {
    const now = await this.store.snapshot();
    if (revision > now.revision) throw new ApiError('BAD_REQUEST', `version ${revision} is in the future (current revision ${now.revision})`);
    const then = await this.store.snapshot(revision);
    const writable = (e: StoredEntry): boolean => {
      const p = parseResourceKey(e.key, this.prefix);
      return p !== undefined && isWritable(p.kind);
    };
    const thenByKey = new Map(then.entries.filter(writable).map((e) => [e.key, e]));
    const ops: WriteOp[] = [];
    const changes: ResourceChange[] = [];
    for (const e of now.entries.filter(writable)) {
      const p = parseResourceKey(e.key, this.prefix)!;
      const old = thenByKey.get(e.key);
      if (!old) {
        ops.push({ type: 'delete', key: e.key, expectedModRevision: e.modRevision });
        changes.push({ kind: p.kind as WritableKind, name: p.name, action: 'deleted' });
      } else if (old.value !== e.value) {
        ops.push({ type: 'put', key: e.key, value: old.value, expectedModRevision: e.modRevision });
        changes.push({ kind: p.kind as WritableKind, name: p.name, action: 'updated' });
      }
      thenByKey.delete(e.key);
    }
    for (const old of thenByKey.values()) {
      const p = parseResourceKey(old.key, this.prefix)!;
      ops.push({ type: 'put', key: old.key, value: old.value, expectedModRevision: 0 });
      changes.push({ kind: p.kind as WritableKind, name: p.name, action: 'created' });
    }
    return this.commit(now, ops, changes, dryRun, { by, action: 'rollback', rollbackOf, ...(forced ? { forced } : {}) });
  }

  private async commit(snap: StoreSnapshot, ops: WriteOp[], changes: ResourceChange[], dryRun: boolean, meta: AuditMeta): Promise<WriteResult> {
    const nat = natDiff(snap.entries, this.applyOps(snap.entries, ops), this.prefix, this.decodeCache);
    const guardedOps = this.guarded(ops, snap, auditRecord(meta, changes)); // size checked on dry-run too
    if (dryRun || ops.length === 0) return { dryRun, revision: snap.revision, changes, nat };
    const r = await this.store.commit(guardedOps);
    if (!r.succeeded) throw new ApiError('CONFLICT', 'a resource changed concurrently; nothing was written, retry');
    for (const c of changes) if (c.action === 'created' || c.action === 'updated') c.resourceVersion = String(r.revision);
    return { dryRun, revision: r.revision, changes, nat };
  }

  /** The entries as they would be after `ops` (for the NAT diff). */
  private applyOps(entries: readonly StoredEntry[], ops: readonly WriteOp[]): SnapshotEntry[] {
    // Unchanged entries keep their mod revision, so the decode cache recognises them.
    const m = new Map<string, SnapshotEntry>(entries.map((e) => [e.key, { key: e.key, value: e.value, modRevision: e.modRevision }]));
    for (const op of ops) {
      if (op.type === 'delete') m.delete(op.key);
      else if (op.type === 'put') m.set(op.key, { key: op.key, value: op.value });
    }
    return [...m.values()];
  }

  /**
   * The JSON stored for a validated resource, with calicoctl's metadata rules: a new
   * resource keeps only its name, labels and annotations from the request (uid and
   * creationTimestamp are made here; resourceVersion is etcd's mod revision, never
   * stored); an update keeps the stored metadata and takes only labels and annotations
   * from the request (calicoctl's prepareMetadataForCreate / mergeMetadataForUpdate).
   */
  private storedValue(res: Resource, old: Json | undefined): string {
    const m = res.metadata;
    const userSet = { ...(m.labels !== undefined ? { labels: m.labels } : {}), ...(m.annotations !== undefined ? { annotations: m.annotations } : {}) };
    let metadata: Json;
    if (old) {
      const { resourceVersion: _rv, labels: _l, annotations: _a, ...kept } = metaOf(old);
      metadata = {
        ...kept,
        name: m.name,
        ...userSet,
        uid: typeof kept.uid === 'string' ? kept.uid : randomUUID(),
        creationTimestamp: typeof kept.creationTimestamp === 'string' ? kept.creationTimestamp : new Date().toISOString(),
      };
    } else {
      metadata = { name: m.name, ...userSet, uid: randomUUID(), creationTimestamp: new Date().toISOString() };
    }
    return JSON.stringify({ ...res, metadata });
  }

}

/** The audit record of a commit: `meta` and every change but the unchanged ones. */
function auditRecord(meta: AuditMeta, changes: readonly ResourceChange[]): AuditRecord {
  return { ...meta, changes: changes.filter((c) => c.action !== 'unchanged').map((c) => ({ kind: c.kind, name: c.name, action: c.action as Exclude<ResourceChange['action'], 'unchanged'> })), at: new Date().toISOString() };
}

export type { ResourceKind };
