/**
 * Reads of the past, for history views: which keys under the prefix changed between two
 * revisions, one key as of a revision, and the current revision. Each read is one etcd
 * range request (key-only where values are not needed), so describing twenty versions of
 * a store with 10k pools does not move twenty copies of every pool. A compacted revision
 * is StoreError NOT_FOUND, a future one INVALID. Never writes.
 */
import type { EtcdStore, StoredEntry } from './etcd-store.js';
import { StoreError, unavailable } from './errors.js';

/** What changed under the prefix in the revisions (from, to]. */
export interface RevisionChanges {
  /**
   * Entries present at `to` whose mod revision is after `from`, as stored at `to` (one was
   * created in the window when its createRevision is after `from`). Sorted by key.
   */
  changed: StoredEntry[];
  /** Keys present at `from` and absent at `to`, sorted. */
  deleted: string[];
}

const toEntry = (kv: { key: Buffer; value: Buffer; mod_revision: string; create_revision: string }): StoredEntry => ({
  key: kv.key.toString('utf8'),
  value: kv.value.toString('utf8'),
  modRevision: Number(kv.mod_revision),
  createRevision: Number(kv.create_revision),
});

/** etcd's answer for a past read, translated once here. */
function pastReadError(what: string, revision: number, err: unknown): StoreError {
  const msg = String((err as Error)?.message ?? err);
  if (/compacted/i.test(msg)) return new StoreError('NOT_FOUND', `revision ${revision} has been compacted`, false, { cause: err });
  if (/future revision/i.test(msg)) return new StoreError('INVALID', `revision ${revision} is in the future`, false, { cause: err });
  return unavailable(what, err);
}

/**
 * Past reads over one store. Key sets are cached per revision for the reader's lifetime
 * (make one per request): consecutive versions share their boundary revision.
 */
export class RevisionReader {
  private readonly keySets = new Map<number, Promise<ReadonlySet<string>>>();

  constructor(readonly store: EtcdStore) {}

  /** The store's current revision (one cheap read). */
  async currentRevision(): Promise<number> {
    try {
      const res = await this.store.client.get(`${this.store.prefix}/`).exec();
      return Number(res.header.revision);
    } catch (err) {
      throw unavailable('reading the current revision', err);
    }
  }

  /** Every key under the prefix as of `revision` (empty set when none). */
  keysAt(revision: number): Promise<ReadonlySet<string>> {
    let hit = this.keySets.get(revision);
    if (!hit) {
      hit = this.store.client
        .getAll()
        .prefix(`${this.store.prefix}/`)
        .revision(String(revision))
        .keys()
        .then((ks) => new Set(ks) as ReadonlySet<string>, (err: unknown) => Promise.reject(pastReadError(`listing keys at revision ${revision}`, revision, err)));
      // A failed read is not cached: the next caller may find etcd back.
      hit.catch(() => this.keySets.delete(revision));
      this.keySets.set(revision, hit);
    }
    return hit;
  }

  /**
   * What changed under the prefix after `from` up to and including `to`. Both empty when
   * `to <= from`. A change made and undone inside the window (created then deleted) is
   * not seen; a put of an identical value counts as changed.
   */
  async changesBetween(from: number, to: number): Promise<RevisionChanges> {
    if (to <= from) return { changed: [], deleted: [] };
    let changed: StoredEntry[];
    try {
      const res = await this.store.client.getAll().prefix(`${this.store.prefix}/`).revision(String(to)).minModRevision(String(from + 1)).exec();
      changed = res.kvs.map(toEntry).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    } catch (err) {
      throw pastReadError(`reading changes up to revision ${to}`, to, err);
    }
    const [before, after] = await Promise.all([this.keysAt(from), this.keysAt(to)]);
    const deleted = [...before].filter((k) => !after.has(k)).sort();
    return { changed, deleted };
  }

  /** One key (anywhere, not only under the prefix) as of `revision`; undefined when absent then. */
  async valueAt(key: string, revision: number): Promise<StoredEntry | undefined> {
    try {
      const res = await this.store.client.get(key).revision(String(revision)).exec();
      const kv = res.kvs[0];
      return kv ? toEntry(kv) : undefined;
    } catch (err) {
      throw pastReadError(`reading ${key} at revision ${revision}`, revision, err);
    }
  }
}
