// An in-memory stand-in for EtcdStore (get, list, snapshot, commit with mod-revision
// expectations and fences), for route tests that need no etcd. Not a test file itself;
// the real store is exercised by test/integration/rollout-operator.test.ts.
import type { CommitResult, StoreSnapshot, StoredEntry, WriteOp } from '@natfleet/store';

export class FakeStore {
  revision = 1;
  readonly data = new Map<string, StoredEntry>();
  /** Commits touching a key under this prefix throw (etcd unavailable for them). */
  failCommitsUnder: string | undefined;

  constructor(readonly prefix = '/calico/resources/v3/projectcalico.org') {}

  put(key: string, value: string): number {
    this.revision += 1;
    const old = this.data.get(key);
    this.data.set(key, { key, value, modRevision: this.revision, createRevision: old?.createRevision ?? this.revision });
    return this.revision;
  }

  async get(key: string): Promise<StoredEntry | undefined> {
    return this.data.get(key);
  }

  async list(keyPrefix: string): Promise<StoreSnapshot> {
    return { revision: this.revision, entries: [...this.data.values()].filter((e) => e.key.startsWith(keyPrefix)).sort((a, b) => (a.key < b.key ? -1 : 1)) };
  }

  async snapshot(): Promise<StoreSnapshot> {
    return this.list(`${this.prefix}/`);
  }

  async commit(ops: readonly WriteOp[]): Promise<CommitResult> {
    if (this.failCommitsUnder !== undefined && ops.some((o) => o.key.startsWith(this.failCommitsUnder!))) throw new Error('etcd unavailable (fake)');
    const ok = ops.every((op) => {
      const cur = this.data.get(op.key);
      if (op.type === 'fence') return (cur?.modRevision ?? 0) <= op.notModifiedAfter;
      if (op.expectedModRevision === undefined) return true;
      return op.expectedModRevision === 0 ? cur === undefined : cur?.modRevision === op.expectedModRevision;
    });
    if (!ok) return { succeeded: false, revision: this.revision };
    this.revision += 1;
    for (const op of ops) {
      if (op.type === 'delete') this.data.delete(op.key);
      else {
        const old = this.data.get(op.key);
        this.data.set(op.key, { key: op.key, value: op.type === 'put' ? op.value : String(op.notModifiedAfter), modRevision: this.revision, createRevision: old?.createRevision ?? this.revision });
      }
    }
    return { succeeded: true, revision: this.revision };
  }
}
