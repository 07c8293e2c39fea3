/**
 * Rollout status, history and explain: reads the bundle stream and the natfleet-nodes KV
 * (never writes NATS). Each node is classified like Istio's proxy-status classifies
 * sidecars against the control plane:
 *   in-sync — applied the desired (latest) version
 *   behind  — alive, applied something older (or nothing yet)
 *   failed  — its last attempt was refused or failed (a NACK), with the reason, or the
 *             post-apply health checks of the desired version it applied failed
 *   silent  — no heartbeat for longer than `silentAfterMs` (state unknown)
 * What one RolloutService reports never goes backwards: a read can be served by a
 * JetStream replica that has not caught up (after a NATS server restart), so per-node
 * statuses are merged by heartbeat (MonotonicNodeStatuses) and the desired version only
 * moves forward.
 * Bundles are taken from the stream only when their body passes (stored-bundles.ts:
 * signature with --trusted-keys-file, else digest; cluster; headers): a garbage or forged
 * message never fails a view and never sets the desired version; history flags it.
 * `evaluated` is the compiler's newest evaluation record (stored-evaluation.ts): a write
 * that changed nothing enforced makes no bundle of its own, and this says the desired
 * bundle already carries it.
 */
import type { Bundle, TrustedKeys } from '@natfleet/bundle';
import { MonotonicNodeStatuses, pendingNodeStatus, readNodeStatusSnapshot, type NodeStatus, type StoredBundle } from '@natfleet/bus';
import { compile, explain, isExplainInputError, type Explanation } from '@natfleet/compiler-core';
import { isStoreError, type EtcdStore } from '@natfleet/store';
import type { JetStreamClient, JetStreamManager } from 'nats';
import { kindKeyPrefix, type ResourceKind } from '@natfleet/model';
import { ApiError } from './errors.js';
import { resourceStatuses, type ResourceStatus } from './resource-status.js';
import { StoredBundles, type InvalidCode } from './stored-bundles.js';
import { StoredEvaluation, type EvaluatedView } from './stored-evaluation.js';

export type NodeRolloutStatus = 'in-sync' | 'behind' | 'failed' | 'silent';

export interface ClassifiedNode extends NodeStatus {
  status: NodeRolloutStatus;
  heartbeatAgeSeconds: number | null;
}

export interface RolloutNode extends ClassifiedNode {
  /** A Node resource exists in etcd for it (registered). A node that only has a KV status is expected too. */
  registered: boolean;
}

export interface Rollout {
  cluster: string;
  desired: { version: number; digest: string; publishedAt: string } | null;
  /**
   * The newest etcd revision the compiler evaluated and the bundle enforcing etcd's state at
   * it (null before the first record). When `bundleVersion` is the desired version, the
   * desired bundle carries every write up to `revision`, including writes that changed
   * nothing enforced and so never got a bundle of their own: "current as of revision N".
   */
  evaluated: EvaluatedView | null;
  nodes: RolloutNode[];
  /** `total` counts every expected node: registered in etcd or reporting in the KV. */
  summary: { total: number; inSync: number; behind: number; failed: number; silent: number };
  /**
   * Every expected node applied the desired version, and there is at least one. A silent
   * node's state is unknown, and unknown is not success: it makes this false.
   */
  complete: boolean;
}

export interface BundleSummary {
  /** Stream sequence of the message. */
  seq: number;
  version: number;
  digest: string;
  sourceRevision: number;
  compiledAt: string;
  publishedAt: string;
  warnings: number;
  masquerade: { v4: number; v6: number };
  noNat: { v4: number; v6: number };
}

/**
 * A stored message on the subject that is not a usable bundle (garbage, a bad digest or
 * signature, another cluster's, headers that disagree with the body). `version` and
 * `digest` are what its unverified headers claim; it is never used by any other view.
 */
export interface InvalidBundleItem {
  seq: number;
  version: number;
  digest: string;
  publishedAt: string;
  invalid: { code: InvalidCode; message: string };
}

export type HistoryItem = BundleSummary | InvalidBundleItem;

/**
 * Codes of a message that did not verify (not a genuine bundle). Its version came from an
 * unsigned header, so a failure "newer than desired" with one of these proves nothing
 * (older enforcers reported such messages as failed at the header's version, e.g. 9e12).
 */
const VERIFICATION_CODES: ReadonlySet<string> = new Set([
  'MALFORMED',
  'TOO_LARGE',
  'UNSUPPORTED_API_VERSION',
  'BAD_DIGEST',
  'UNKNOWN_KEY',
  'BAD_SIGNATURE',
  'WRONG_CLUSTER',
  'HEADER_MISMATCH',
]);

/**
 * Classifies one node against the desired version at time `now` (ms). A failure counts
 * only when it concerns exactly the desired version, or no version at all (failedVersion
 * 0, e.g. a failed drift repair), or a newer version when its code is not a verification
 * code (a header version is unsigned): a node that refused an older message but runs the
 * desired version is in sync, one that failed on v10 while v11 (the fix) is on its way is
 * behind, and one that noted junk claiming v9e12 is judged by what it applied.
 */
export function classifyNode(s: NodeStatus, desired: Rollout['desired'], now: number, silentAfterMs: number): ClassifiedNode {
  const hb = Date.parse(s.heartbeatAt);
  const age = Number.isNaN(hb) ? null : Math.max(0, (now - hb) / 1000);
  const failureCounts =
    s.state === 'failed' &&
    (!desired ||
      s.failedVersion === 0 ||
      s.failedVersion === desired.version ||
      (s.failedVersion > desired.version && !VERIFICATION_CODES.has(s.errorCode)));
  // A failed post-apply health check of the desired version it runs is reported like a NACK
  // (README "Staged rollout", gates): applied, but not healthy — never in sync.
  const healthFailed = !!desired && s.health?.result === 'failed' && s.health.version === s.appliedVersion && s.appliedVersion >= desired.version;
  let status: NodeRolloutStatus;
  if (age === null || age * 1000 > silentAfterMs) status = 'silent';
  else if (failureCounts || healthFailed) status = 'failed';
  else if (!desired || s.appliedVersion >= desired.version) status = 'in-sync';
  else status = 'behind';
  return { ...s, status, heartbeatAgeSeconds: age === null ? null : Math.round(age * 10) / 10 };
}

/** Names of the Node resources in etcd (the registered fleet). */
async function registeredNodes(store: EtcdStore): Promise<Set<string>> {
  const prefix = kindKeyPrefix('Node', store.prefix);
  const snap = await store.list(prefix);
  return new Set(snap.entries.filter((e) => e.key.startsWith(prefix)).map((e) => e.key.slice(prefix.length)).filter((n) => n !== '' && !n.includes('/')));
}

export class RolloutService {
  /** Status reads never go backwards (a lagging replica can serve a read): see MonotonicNodeStatuses. */
  private readonly statuses = new MonotonicNodeStatuses();
  /** The newest desired version seen, for the same reason. */
  private desiredSeen: Rollout['desired'] = null;
  /** The newest evaluation seen, for the same reason. */
  private evaluatedSeen: EvaluatedView | null = null;
  private readonly bundles: StoredBundles;
  private readonly evaluation: StoredEvaluation;

  constructor(
    private readonly deps: {
      js: JetStreamClient;
      jsm: JetStreamManager;
      store: EtcdStore;
      cluster: string;
      silentAfterMs: number;
      /** Keys bundles must be signed with (--trusted-keys-file); undefined = digest-only checks. */
      trustedKeys?: TrustedKeys | undefined;
    },
  ) {
    this.bundles = new StoredBundles(deps);
    this.evaluation = new StoredEvaluation(deps);
  }

  /** The cluster whose bundles this service reads. */
  get cluster(): string {
    return this.deps.cluster;
  }

  /** The NATS handles it reads with (the live feed watches the same stream and bucket: change-sources.ts). */
  get bus(): { js: JetStreamClient; jsm: JetStreamManager } {
    return { js: this.deps.js, jsm: this.deps.jsm };
  }

  async rollout(now = Date.now()): Promise<Rollout> {
    const { js, cluster, silentAfterMs, store } = this.deps;
    const [latest, read, registered, evaluatedRead] = await Promise.all([this.bundles.newest().then((n) => n?.stored), readNodeStatusSnapshot(js), registeredNodes(store), this.evaluation.newest()]);
    const reported = this.statuses.merge(read);
    // The fleet is every registered node plus every node reporting: a registered node
    // with no status at all is expected and silent, never left out.
    const seen = new Set(reported.map((s) => s.node));
    const statuses = [...reported, ...[...registered].filter((n) => !seen.has(n)).map((n) => pendingNodeStatus(n, { heartbeatAt: '', cluster }))].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    let desired = latest ? { version: latest.version, digest: latest.digest, publishedAt: latest.time.toISOString() } : null;
    if (this.desiredSeen !== null && (desired === null || desired.version < this.desiredSeen.version)) desired = this.desiredSeen;
    this.desiredSeen = desired;
    const evaluated = this.evaluatedSeen !== null && (evaluatedRead === null || evaluatedRead.revision < this.evaluatedSeen.revision) ? this.evaluatedSeen : evaluatedRead;
    this.evaluatedSeen = evaluated;
    const nodes = statuses
      .filter((s) => s.cluster === '' || s.cluster === cluster)
      .map((s) => ({ ...classifyNode(s, desired, now, silentAfterMs), registered: registered.has(s.node) }));
    const count = (st: NodeRolloutStatus): number => nodes.filter((n) => n.status === st).length;
    const summary = { total: nodes.length, inSync: count('in-sync'), behind: count('behind'), failed: count('failed'), silent: count('silent') };
    return { cluster, desired, evaluated, nodes, summary, complete: desired !== null && summary.total > 0 && summary.inSync === summary.total };
  }

  /**
   * The compiler's verdict on each named resource of `kind`, from the newest bundle's
   * warnings (see resource-status.ts); every status is Unknown when nothing is published.
   */
  async resourceStatus(kind: ResourceKind, items: readonly Record<string, unknown>[]): Promise<{ version: number | null; items: ResourceStatus[] }> {
    const bundle = (await this.bundles.newest())?.bundle;
    return { version: bundle?.version ?? null, items: resourceStatuses(kind, items, bundle, this.deps.store.prefix) };
  }

  /** Stored messages, newest first (empty when none); those that are not usable bundles flagged `invalid`. */
  async history(): Promise<HistoryItem[]> {
    const all = await this.bundles.all();
    return all.map(({ stored, verdict }) => (verdict.ok ? summarize(stored, verdict.bundle) : invalidItem(stored, verdict))).reverse();
  }

  /** One stored bundle by version (invalid messages never match); NOT_FOUND when it is not (or no longer) in the stream. */
  async bundle(version: number): Promise<Bundle> {
    const good = (await this.bundles.all()).flatMap(({ verdict }) => (verdict.ok ? [verdict.bundle] : []));
    const hit = good.findLast((b) => b.version === version);
    if (!hit) throw new ApiError('NOT_FOUND', `bundle version ${version} is not in the stream (kept: ${good.map((b) => b.version).join(', ') || 'none'})`);
    return hit;
  }

  /**
   * Explains a flow under the latest bundle (or `version`). Pools are named from etcd at the
   * bundle's source revision when it is still there; otherwise only CIDRs are given.
   * NOT_FOUND for a `node` that is neither registered nor reporting: explaining it with
   * the fleet defaults would be a plausible wrong answer for a misspelt name.
   */
  async explain(input: { node?: string; src: string; dst: string; version?: number }): Promise<Explanation & { version: number }> {
    if (input.node !== undefined && input.node !== '') {
      const known = (await this.rollout()).nodes.map((n) => n.node);
      if (!known.includes(input.node)) {
        const list = known.length === 0 ? 'none' : `${known.slice(0, 20).join(', ')}${known.length > 20 ? `, … (${known.length} in all)` : ''}`;
        throw new ApiError('NOT_FOUND', `unknown node ${JSON.stringify(input.node)}: no Node resource is registered and no enforcer reports under that name (known nodes: ${list})`);
      }
    }
    let bundle: Bundle;
    if (input.version !== undefined) bundle = await this.bundle(input.version);
    else {
      const newest = await this.bundles.newest();
      if (!newest) throw new ApiError('NOT_FOUND', 'no bundle has been published yet');
      bundle = newest.bundle;
    }
    let pools: ReturnType<typeof compile>['pools'] = [];
    try {
      const snap = await this.deps.store.snapshot(bundle.sourceRevision);
      pools = compile({ entries: snap.entries }, bundle.version, { cluster: bundle.cluster, prefix: this.deps.store.prefix }).pools;
    } catch (err) {
      if (!isStoreError(err, 'NOT_FOUND')) throw err; // compacted: explain from CIDRs alone
    }
    try {
      return { ...explain(bundle, input.node ?? '', input.src, input.dst, pools), version: bundle.version };
    } catch (err) {
      if (isExplainInputError(err)) throw new ApiError('VALIDATION_FAILED', err.message, [{ resource: 'explain', path: err.field, reason: 'not an IP address', value: err.field === 'src' ? input.src : input.dst }]);
      throw err;
    }
  }
}

function summarize(s: StoredBundle, b: Bundle): BundleSummary {
  return {
    seq: s.seq,
    version: b.version,
    digest: b.digest,
    sourceRevision: b.sourceRevision,
    compiledAt: b.compiledAt,
    publishedAt: s.time.toISOString(),
    warnings: b.warnings.length,
    masquerade: { v4: b.fleet.v4.masquerade.length, v6: b.fleet.v6.masquerade.length },
    noNat: { v4: b.fleet.v4.noNat.length, v6: b.fleet.v6.noNat.length },
  };
}

function invalidItem(s: StoredBundle, v: { code: InvalidCode; message: string }): InvalidBundleItem {
  return { seq: s.seq, version: s.version, digest: s.digest, publishedAt: s.time.toISOString(), invalid: { code: v.code, message: v.message } };
}

export type { StoredBundle };
