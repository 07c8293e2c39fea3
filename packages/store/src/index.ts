/**
 * @natfleet/store — Calico v3 resources in etcd: consistent snapshots, compare-and-swap
 * transactions on mod revision, and a change feed that survives compaction and
 * reconnects. Libraries never log; errors are StoreError.
 */
export { EtcdStore, MAX_TXN_OPS } from './etcd-store.js';
export type { CommitResult, StoreSnapshot, StoredEntry, WriteOp } from './etcd-store.js';
export { RevisionReader } from './revision-reads.js';
export type { RevisionChanges } from './revision-reads.js';
export { changeFeed } from './change-feed.js';
export type { ChangeEvent, ChangeFeedOptions } from './change-feed.js';
export { StoreError, isStoreError } from './errors.js';
export type { StoreErrorCode } from './errors.js';
export { AsyncQueue } from './async-queue.js';
