/**
 * Writes and reads of RolloutPolicy (natfleet.io/v1, DESIGN.md §10) with the same
 * semantics as the Calico kinds (resource-service.ts): create fails if it exists, replace
 * if it does not, apply does either; `metadata.resourceVersion` is the etcd mod revision
 * and, when given on replace/apply/delete, must match (CONFLICT otherwise); create refuses
 * one. Each write is one etcd transaction guarded by the key's mod revision.
 *
 * Keys live under natfleet's own prefix (`/natfleet/v1/rolloutpolicies/<name>` by
 * default), never under Calico's: the compiler does not see them and no bundle changes.
 * The compiler's rollout controller reads them (not the compile core: no bundle changes
 * when a policy does). Writes are not recorded in the NAT write audit (natctl history): they change no bundle.
 * Owns no HTTP concerns.
 */
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '@natfleet/bundle';
import {
  DEFAULT_NATFLEET_KEY_PREFIX,
  ROLLOUT_POLICY_KIND,
  natfleetPrefixOverlapsCalico,
  rolloutPolicyKey,
  rolloutPolicyKeyPrefix,
  validateRolloutPolicy,
  type UnknownFieldPolicy,
} from '@natfleet/model';
import type { EtcdStore, StoredEntry } from '@natfleet/store';
import { ApiError } from './errors.js';
import type { ResourceChange, WriteMode } from './resource-service.js';

type Json = Record<string, unknown>;

export interface RolloutPolicyChange {
  kind: typeof ROLLOUT_POLICY_KIND;
  name: string;
  action: Exclude<ResourceChange['action'], 'disabled'>;
  resourceVersion?: string;
}

export interface RolloutPolicyWriteResult {
  dryRun: boolean;
  /** etcd revision after the write, or the read revision on dry-run / no-op. */
  revision: number;
  changes: RolloutPolicyChange[];
  warnings?: ReturnType<typeof validateRolloutPolicy>['warnings'];
}

const metaOf = (o: Json): Json => (typeof o.metadata === 'object' && o.metadata !== null && !Array.isArray(o.metadata) ? (o.metadata as Json) : {});

/** A stored value with resourceVersion = mod revision; undefined when it is not JSON (written behind our back). */
function storedPolicy(e: StoredEntry): Json | undefined {
  try {
    const o = JSON.parse(e.value) as unknown;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
    return { ...(o as Json), metadata: { ...metaOf(o as Json), resourceVersion: String(e.modRevision) } };
  } catch {
    return undefined;
  }
}

export class RolloutPolicyService {
  /**
   * @param prefix natfleet's key prefix (default /natfleet/v1); it must not lie under the
   *   store's Calico prefix, or the compiler would read RolloutPolicies as Calico resources.
   */
  constructor(
    readonly store: EtcdStore,
    readonly prefix: string = DEFAULT_NATFLEET_KEY_PREFIX,
  ) {
    if (natfleetPrefixOverlapsCalico(prefix, store.prefix)) {
      throw new Error(`natfleet key prefix ${prefix} overlaps the Calico prefix ${store.prefix}: RolloutPolicies must live outside what the compiler reads`);
    }
  }

  /** Every stored RolloutPolicy, sorted by name (etcd key order); values that are not JSON are skipped. Empty list when none. */
  async list(): Promise<{ revision: number; items: Json[] }> {
    const snap = await this.store.list(rolloutPolicyKeyPrefix(this.prefix));
    return { revision: snap.revision, items: snap.entries.map(storedPolicy).filter((o): o is Json => o !== undefined) };
  }

  /** One policy; ApiError NOT_FOUND when absent. */
  async get(name: string): Promise<Json> {
    const e = await this.store.get(rolloutPolicyKey(name, this.prefix));
    const o = e && storedPolicy(e);
    if (!o) throw new ApiError('NOT_FOUND', `${ROLLOUT_POLICY_KIND} "${name}" not found`);
    return o;
  }

  /** create / replace / apply one policy (see module header); VALIDATION_FAILED lists every issue. */
  async write(mode: WriteMode, raw: Json, { dryRun = false, unknownFields = 'error' }: { dryRun?: boolean; unknownFields?: UnknownFieldPolicy } = {}): Promise<RolloutPolicyWriteResult> {
    const rv = metaOf(raw).resourceVersion;
    const wantedRv = rv === undefined || rv === null || rv === '' ? undefined : String(rv);
    const v = validateRolloutPolicy(raw, { unknownFields });
    const issues = v.ok ? [] : [...v.issues];
    if (mode === 'create' && wantedRv !== undefined) {
      issues.push({ resource: `${ROLLOUT_POLICY_KIND}/${String(metaOf(raw).name)}`, path: 'metadata.resourceVersion', reason: 'must not be set on create (it is the stored revision; use apply or replace to update)', value: rv });
    }
    if (!v.ok || issues.length > 0) throw new ApiError('VALIDATION_FAILED', `${issues.length} problem(s) in the request`, issues);
    const policy = v.value;
    const name = policy.metadata.name;
    const key = rolloutPolicyKey(name, this.prefix);
    const stored = await this.store.get(key);
    if (mode === 'create' && stored) throw new ApiError('ALREADY_EXISTS', `${ROLLOUT_POLICY_KIND} "${name}" already exists (use replace or apply)`);
    if (mode === 'replace' && !stored) throw new ApiError('NOT_FOUND', `${ROLLOUT_POLICY_KIND} "${name}" does not exist (use create or apply)`);
    if (wantedRv !== undefined && stored && wantedRv !== String(stored.modRevision)) {
      throw new ApiError('CONFLICT', `${ROLLOUT_POLICY_KIND} "${name}" was modified: resourceVersion ${wantedRv} is stale (now ${stored.modRevision}); get it again and retry`);
    }
    const warnings = v.warnings && v.warnings.length > 0 ? { warnings: v.warnings } : {};
    const old = stored && storedPolicy(stored);
    // calicoctl's metadata rules, as for the Calico kinds: uid and creationTimestamp are
    // made here and kept on update; labels and annotations come from the request.
    const m = policy.metadata;
    const kept = old ? (({ resourceVersion: _rv, labels: _l, annotations: _a, ...rest }) => rest)(metaOf(old)) : {};
    const metadata: Json = {
      ...kept,
      name,
      ...(m.labels !== undefined ? { labels: m.labels } : {}),
      ...(m.annotations !== undefined ? { annotations: m.annotations } : {}),
      uid: typeof kept.uid === 'string' ? kept.uid : randomUUID(),
      creationTimestamp: typeof kept.creationTimestamp === 'string' ? kept.creationTimestamp : new Date().toISOString(),
    };
    const value = JSON.stringify({ ...policy, metadata });
    if (stored && old && canonicalJson(JSON.parse(stored.value)) === canonicalJson(JSON.parse(value))) {
      return { dryRun, revision: stored.modRevision, changes: [{ kind: ROLLOUT_POLICY_KIND, name, action: 'unchanged', resourceVersion: String(stored.modRevision) }], ...warnings };
    }
    const action = stored ? 'updated' : 'created';
    if (dryRun) return { dryRun, revision: stored?.modRevision ?? 0, changes: [{ kind: ROLLOUT_POLICY_KIND, name, action }], ...warnings };
    const r = await this.store.commit([{ type: 'put', key, value, expectedModRevision: stored?.modRevision ?? 0 }]);
    if (!r.succeeded) throw new ApiError('CONFLICT', `${ROLLOUT_POLICY_KIND} "${name}" changed concurrently; nothing was written, retry`);
    return { dryRun, revision: r.revision, changes: [{ kind: ROLLOUT_POLICY_KIND, name, action, resourceVersion: String(r.revision) }], ...warnings };
  }

  /** Deletes one policy; NOT_FOUND when absent, CONFLICT when `resourceVersion` is stale. */
  async delete(name: string, { resourceVersion, dryRun = false }: { resourceVersion?: string; dryRun?: boolean } = {}): Promise<RolloutPolicyWriteResult> {
    const key = rolloutPolicyKey(name, this.prefix);
    const stored = await this.store.get(key);
    if (!stored) throw new ApiError('NOT_FOUND', `${ROLLOUT_POLICY_KIND} "${name}" not found`);
    if (resourceVersion !== undefined && resourceVersion !== String(stored.modRevision)) {
      throw new ApiError('CONFLICT', `${ROLLOUT_POLICY_KIND} "${name}" was modified: resourceVersion ${resourceVersion} is stale (now ${stored.modRevision})`);
    }
    const changes: RolloutPolicyChange[] = [{ kind: ROLLOUT_POLICY_KIND, name, action: 'deleted' }];
    if (dryRun) return { dryRun, revision: stored.modRevision, changes };
    const r = await this.store.commit([{ type: 'delete', key, expectedModRevision: stored.modRevision }]);
    if (!r.succeeded) throw new ApiError('CONFLICT', `${ROLLOUT_POLICY_KIND} "${name}" changed while deleting; nothing was deleted, retry`);
    return { dryRun, revision: r.revision, changes };
  }
}
