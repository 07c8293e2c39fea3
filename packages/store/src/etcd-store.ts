/**
 * Calico v3 resources in etcd (DESIGN.md §2): one consistent read of everything under the
 * prefix at a revision, single-key reads, and compare-and-swap writes on mod revision,
 * several at once in one etcd transaction (all or nothing). Values are opaque JSON text
 * here; validation belongs to @natfleet/model.
 */
import type { Etcd3 } from 'etcd3';
import { DEFAULT_KEY_PREFIX } from '@natfleet/model';
import { StoreError, unavailable } from './errors.js';

export interface StoredEntry {
  key: string;
  value: string;
  modRevision: number;
  createRevision: number;
}

export interface StoreSnapshot {
  /** etcd revision the read was served at. */
  revision: number;
  entries: StoredEntry[];
}

/**
 * One write in a transaction. `expectedModRevision` 0 = the key must not exist.
 * `fence`: the key must not have changed after revision `notModifiedAfter`, and is then
 * rewritten — a lock-free guard for checks that span keys (pool overlap): two writers
 * that validated against the same snapshot cannot both commit.
 */
export type WriteOp =
  | { type: 'put'; key: string; value: string; expectedModRevision?: number }
  | { type: 'delete'; key: string; expectedModRevision?: number }
  | { type: 'fence'; key: string; notModifiedAfter: number };

/** etcd's default `--max-txn-ops`: the most operations one transaction may hold. */
export const MAX_TXN_OPS = 128;

export interface CommitResult {
  succeeded: boolean;
  revision: number;
}

const toEntry = (kv: { key: Buffer; value: Buffer; mod_revision: string; create_revision: string }): StoredEntry => ({
  key: kv.key.toString('utf8'),
  value: kv.value.toString('utf8'),
  modRevision: Number(kv.mod_revision),
  createRevision: Number(kv.create_revision),
});

export class EtcdStore {
  /** Every key this store reads or writes starts with `<prefix>/`. */
  constructor(
    readonly client: Etcd3,
    readonly prefix: string = DEFAULT_KEY_PREFIX,
  ) {}

  /**
   * Everything under the prefix in one range read, so all entries belong to one revision.
   * `revision` (optional) reads the past (rollback); it fails once compacted.
   */
  async snapshot(revision?: number): Promise<StoreSnapshot> {
    try {
      const builder = this.client.getAll().prefix(`${this.prefix}/`);
      const res = await (revision !== undefined ? builder.revision(String(revision)) : builder).exec();
      return { revision: Number(res.header.revision), entries: res.kvs.map(toEntry) };
    } catch (err) {
      if (/compacted/i.test(String((err as Error).message))) {
        throw new StoreError('NOT_FOUND', `revision ${revision} has been compacted`, false, { cause: err });
      }
      if (/future revision/i.test(String((err as Error).message))) {
        throw new StoreError('INVALID', `revision ${revision} is in the future`, false, { cause: err });
      }
      throw unavailable('reading snapshot', err);
    }
  }

  /** Every entry whose key starts with `keyPrefix` (which must lie under this store's prefix), at one revision. */
  async list(keyPrefix: string): Promise<StoreSnapshot> {
    try {
      const res = await this.client.getAll().prefix(keyPrefix).exec();
      return { revision: Number(res.header.revision), entries: res.kvs.map(toEntry) };
    } catch (err) {
      throw unavailable(`listing ${keyPrefix}`, err);
    }
  }

  /** One key, or undefined when absent. */
  async get(key: string): Promise<StoredEntry | undefined> {
    try {
      const res = await this.client.get(key).exec();
      const kv = res.kvs[0];
      return kv ? toEntry(kv) : undefined;
    } catch (err) {
      throw unavailable(`reading ${key}`, err);
    }
  }

  /**
   * Applies every op in one etcd transaction if every expectation holds; otherwise nothing
   * changes and `succeeded` is false. Ops without an expectation are unconditional.
   * An empty list succeeds trivially.
   */
  async commit(ops: readonly WriteOp[]): Promise<CommitResult> {
    if (ops.length === 0) return { succeeded: true, revision: 0 };
    try {
      // etcd3 needs one comparison to start a transaction: mod > -1 always holds.
      let txn = this.client.if(ops[0]!.key, 'Mod', '>', -1);
      for (const op of ops) {
        if (op.type === 'fence') {
          txn = txn.and(op.key, 'Mod', '<', op.notModifiedAfter + 1);
          continue;
        }
        if (op.expectedModRevision === undefined) continue;
        txn =
          op.expectedModRevision === 0
            ? txn.and(op.key, 'Create', '==', 0)
            : txn.and(op.key, 'Mod', '==', op.expectedModRevision);
      }
      const res = await txn
        .then(
          ...ops.map((op) =>
            op.type === 'delete' ? this.client.delete().key(op.key) : this.client.put(op.key).value(op.type === 'put' ? op.value : String(op.notModifiedAfter)),
          ),
        )
        .commit();
      return { succeeded: res.succeeded, revision: Number(res.header.revision) };
    } catch (err) {
      throw unavailable('committing transaction', err);
    }
  }

  /** Writes `value` at `key` only when it differs from what is stored. Returns true when it wrote. */
  async putIfChanged(key: string, value: string): Promise<boolean> {
    const cur = await this.get(key);
    if (cur?.value === value) return false;
    const res = await this.commit([{ type: 'put', key, value, expectedModRevision: cur?.modRevision ?? 0 }]);
    return res.succeeded;
  }
}
