/**
 * The rollout controller's etcd edge (DESIGN.md §10): reads of its inputs (RolloutPolicies
 * and commands under natfleet's prefix, Node resources under Calico's), the fenced state
 * write (a txn on the state key's mod revision, deleting the commands it consumed in the
 * same txn), outcome records (newest 100 kept) and a change trigger. The interface lets
 * unit tests drive the controller with an in-memory fake.
 *
 * Never: writes anything under Calico's prefix (desired state is never rewritten), decides
 * anything, or logs. etcd failures surface as StoreError from @natfleet/store.
 */
import type { Etcd3 } from 'etcd3';
import { kindKeyPrefix, rolloutPolicyKeyPrefix } from '@natfleet/model';
import {
  decodeStateRecord,
  rolloutCommandKeyPrefix,
  rolloutOutcomeKey,
  rolloutOutcomeKeyPrefix,
  rolloutStateKey,
  type RolloutOutcomeRecord,
  type RolloutStateRecord,
} from '@natfleet/rollout-planner';
import { EtcdStore, StoreError, changeFeed, type StoredEntry } from '@natfleet/store';
import type { EntryLike } from './rollout-inputs.js';

/** How many outcome records are kept (the newest by version). */
export const OUTCOMES_KEPT = 100;
/** Most command keys deleted in one state write (etcd allows 128 ops per txn). */
const MAX_DELETES_PER_WRITE = 100;

export interface RolloutInputsRead {
  policies: EntryLike[];
  nodes: EntryLike[];
  commands: EntryLike[];
}

export interface StoredRolloutState {
  /** undefined when absent or not a state record (then it is overwritten, fenced on modRevision). */
  record: RolloutStateRecord | undefined;
  /** 0 when the key is absent. */
  modRevision: number;
}

export interface RolloutStore {
  readonly policyPrefix: string;
  readonly nodesPrefix: string;
  readonly commandPrefix: string;
  readonly stateKey: string;
  readInputs(): Promise<RolloutInputsRead>;
  /** Count-only read of the stored RolloutPolicies. */
  countPolicies(): Promise<number>;
  readState(): Promise<StoredRolloutState>;
  /**
   * Writes the state when its key's mod revision is still `expectedModRevision` (0 = absent)
   * and deletes `deleteKeys` in the same txn. `succeeded` false = someone else wrote it.
   * `revision` is the revision of the write.
   */
  writeState(value: string, expectedModRevision: number, deleteKeys: readonly string[]): Promise<{ succeeded: boolean; revision: number }>;
  /** Deletes keys (dropped commands), unconditionally. */
  deleteKeys(keys: readonly string[]): Promise<void>;
  /** Writes the outcome of a candidate and prunes all but the newest OUTCOMES_KEPT. */
  putOutcome(record: RolloutOutcomeRecord): Promise<void>;
  /** Calls `onChange` with the changed keys (undefined = may have missed some: re-read) until `signal` aborts. */
  watch(signal: AbortSignal, onChange: (keys: string[] | undefined) => void): Promise<void>;
}

export interface EtcdRolloutStoreOptions {
  client: Etcd3;
  /** Builds the watch's own clients (see @natfleet/store changeFeed). */
  makeClient: () => Etcd3;
  /** natfleet's own prefix (`/natfleet/v1`). */
  natfleetPrefix: string;
  /** Calico's resource prefix (Node resources live below it). */
  calicoPrefix: string;
}

const toEntry = (e: StoredEntry): EntryLike => ({ key: e.key, value: e.value, createRevision: e.createRevision });

export class EtcdRolloutStore implements RolloutStore {
  readonly policyPrefix: string;
  readonly nodesPrefix: string;
  readonly commandPrefix: string;
  readonly stateKey: string;
  private readonly store: EtcdStore;

  constructor(private readonly o: EtcdRolloutStoreOptions) {
    this.store = new EtcdStore(o.client, o.natfleetPrefix);
    this.policyPrefix = rolloutPolicyKeyPrefix(o.natfleetPrefix);
    this.nodesPrefix = kindKeyPrefix('Node', o.calicoPrefix);
    this.commandPrefix = rolloutCommandKeyPrefix(o.natfleetPrefix);
    this.stateKey = rolloutStateKey(o.natfleetPrefix);
  }

  async readInputs(): Promise<RolloutInputsRead> {
    const [policies, nodes, commands] = await Promise.all([this.store.list(this.policyPrefix), this.store.list(this.nodesPrefix), this.store.list(this.commandPrefix)]);
    return { policies: policies.entries.map(toEntry), nodes: nodes.entries.map(toEntry), commands: commands.entries.map(toEntry) };
  }

  async countPolicies(): Promise<number> {
    try {
      return await this.o.client.getAll().prefix(this.policyPrefix).count();
    } catch (err) {
      // Same translation as the store's reads: an unreachable etcd is recoverable.
      throw new StoreError('UNAVAILABLE', `counting ${this.policyPrefix}: ${(err as Error).message}`, true, { cause: err });
    }
  }

  async readState(): Promise<StoredRolloutState> {
    const e = await this.store.get(this.stateKey);
    if (!e) return { record: undefined, modRevision: 0 };
    return { record: decodeStateRecord(e.value), modRevision: e.modRevision };
  }

  async writeState(value: string, expectedModRevision: number, deleteKeys: readonly string[]): Promise<{ succeeded: boolean; revision: number }> {
    const deletes = deleteKeys.slice(0, MAX_DELETES_PER_WRITE).map((key) => ({ type: 'delete' as const, key }));
    const res = await this.store.commit([{ type: 'put', key: this.stateKey, value, expectedModRevision }, ...deletes]);
    if (res.succeeded && deleteKeys.length > MAX_DELETES_PER_WRITE) await this.deleteKeys(deleteKeys.slice(MAX_DELETES_PER_WRITE));
    return res;
  }

  async deleteKeys(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += MAX_DELETES_PER_WRITE) {
      await this.store.commit(keys.slice(i, i + MAX_DELETES_PER_WRITE).map((key) => ({ type: 'delete' as const, key })));
    }
  }

  async putOutcome(record: RolloutOutcomeRecord): Promise<void> {
    const prefix = rolloutOutcomeKeyPrefix(this.o.natfleetPrefix);
    await this.store.commit([{ type: 'put', key: rolloutOutcomeKey(this.o.natfleetPrefix, record.version), value: JSON.stringify(record) }]);
    let keys: string[];
    try {
      keys = (await this.o.client.getAll().prefix(prefix).keys()).sort(); // keys only: records stay unread
    } catch (err) {
      throw new StoreError('UNAVAILABLE', `listing ${prefix}: ${(err as Error).message}`, true, { cause: err });
    }
    if (keys.length > OUTCOMES_KEPT) await this.deleteKeys(keys.slice(0, keys.length - OUTCOMES_KEPT));
  }

  async watch(signal: AbortSignal, onChange: (keys: string[] | undefined) => void): Promise<void> {
    const follow = async (prefix: string): Promise<void> => {
      for await (const ev of changeFeed(this.o.makeClient, prefix, { signal, retryMs: 200 })) {
        if (ev.type === 'change') onChange(ev.keys);
        else if (ev.type === 'resync') onChange(undefined);
      }
    };
    // changeFeed watches `<prefix>/`: natfleet's whole prefix, and Calico's nodes.
    await Promise.all([follow(this.o.natfleetPrefix), follow(this.nodesPrefix.replace(/\/$/, ''))]);
  }
}
