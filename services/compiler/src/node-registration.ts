/**
 * Node registration: enforcers announce their addresses and labels in the natfleet-nodes
 * KV bucket; the leader turns each announcement into the node's `Node` resource in etcd
 * when those differ, so host-address exclusions are part of the one snapshot the bundle
 * is compiled from (DESIGN.md §2).
 *
 * The planning half is pure ({@link planNodeRegistration}, {@link planNodeDeregistration});
 * {@link NodeRegistrar} runs it for one leadership term against the KV watch and etcd.
 * Only `InternalIP` addresses and the labels are natfleet's: other address types and any
 * other fields of a Node written by Calico or an operator are kept.
 *
 * A node is expected from its first announcement until it is decommissioned (DESIGN.md §9):
 * its key deleted from the bucket (`natfleet-enforcer uninstall`, `natctl node delete`, or
 * the opt-in GC in node-gc.ts). Then its Node is deleted too — unless the Node holds
 * fields natfleet never writes (another system, e.g. Calico, shares it), which is kept and
 * reported. An enforcer merely going quiet is not a node leaving: nothing is deleted for
 * silence unless the GC is turned on.
 */
import type { KV } from 'nats';
import { NODE_NAME_RE, watchNodeStatuses, type NodeStatus, type NodeStatusEvent } from '@natfleet/bus';
import { API_VERSION, formatIssues, kindKeyPrefix, resourceKey, validateNode, type Node } from '@natfleet/model';
import type { EtcdStore } from '@natfleet/store';
import type { Logger } from '@natfleet/service-kit';
import { sleep } from '@natfleet/service-kit';
import type { CompilerMetrics } from './metrics.js';
import { NodeCollector } from './node-gc.js';

export type RegistrationPlan =
  | { type: 'unchanged' }
  | { type: 'write'; value: string; resource: Node }
  | { type: 'invalid'; reason: string };

/** What to do with the stored Node of a decommissioned node. */
export type DeregistrationPlan =
  | { type: 'absent' }
  | { type: 'delete' }
  /** The Node holds fields natfleet never writes (paths listed): another system shares it. */
  | { type: 'keep'; foreign: string[] };

const ANNOUNCED_TYPE = 'InternalIP';
const MAX_CAS_ATTEMPTS = 5;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Announced addresses, trimmed, deduplicated and sorted (announcement order is not meaningful). */
export function normaliseAddresses(addresses: readonly string[]): string[] {
  return [...new Set(addresses.map((a) => a.trim()).filter(Boolean))].sort();
}

const sameLabels = (a: Record<string, unknown>, b: Record<string, string>): boolean => {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
};

/** Identity of what an announcement asks for; equal fingerprints need no second look. */
export function announcementFingerprint(s: Pick<NodeStatus, 'addresses' | 'labels'>): string {
  return JSON.stringify([normaliseAddresses(s.addresses), Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

/**
 * What to store for `status` given the Node's current stored value (undefined when absent).
 * `unchanged` when its InternalIP addresses and labels already match; `invalid` when
 * the name or an address is not acceptable to the model (nothing is written then). A
 * stored value that is not a Node object is replaced.
 */
export function planNodeRegistration(status: Pick<NodeStatus, 'node' | 'addresses' | 'labels'>, stored: string | undefined): RegistrationPlan {
  const addresses = normaliseAddresses(status.addresses);
  let current: Json | undefined;
  if (stored !== undefined) {
    try {
      const parsed: unknown = JSON.parse(stored);
      if (isObject(parsed) && parsed['kind'] === 'Node') current = parsed;
    } catch {
      // not JSON: replaced below (the compiler already warns about the stored value)
    }
  }
  const meta = isObject(current?.['metadata']) ? current['metadata'] : {};
  const spec = isObject(current?.['spec']) ? current['spec'] : {};
  const storedAddresses = Array.isArray(spec['addresses']) ? (spec['addresses'] as unknown[]) : [];
  const isAnnounced = (a: unknown): boolean => isObject(a) && a['type'] === ANNOUNCED_TYPE;
  const storedAnnounced = normaliseAddresses(storedAddresses.filter(isAnnounced).map((a) => String((a as Json)['address'])));
  const storedLabels = isObject(meta['labels']) ? meta['labels'] : {};

  if (current && storedAnnounced.join(',') === addresses.join(',') && sameLabels(storedLabels, status.labels)) {
    return { type: 'unchanged' };
  }
  const resource = {
    ...(current ?? {}),
    apiVersion: API_VERSION,
    kind: 'Node',
    metadata: { ...meta, name: status.node, labels: { ...status.labels } },
    spec: {
      ...spec,
      addresses: [...storedAddresses.filter((a) => !isAnnounced(a)), ...addresses.map((address) => ({ address, type: ANNOUNCED_TYPE }))],
    },
  };
  // Lenient about fields natfleet does not know: the stored Node may carry fields a newer
  // Calico (or another tool) wrote; they are kept, and must never block a registration.
  const result = validateNode(resource, { unknownFields: 'warn' });
  if (!result.ok) return { type: 'invalid', reason: formatIssues(result.issues) };
  return { type: 'write', value: JSON.stringify(resource), resource: result.value };
}

const OWN_TOP_LEVEL = new Set(['apiVersion', 'kind', 'metadata', 'spec']);

/**
 * What to do with `stored` (the Node's stored value; undefined when absent) once its node
 * is decommissioned. `delete` when it holds only what natfleet writes — metadata, labels,
 * `InternalIP` addresses — or is not a Node at all (garbage under the node's key); `keep`,
 * with the paths of the others' fields, when it also holds fields natfleet never writes
 * (`spec.bgp`, a `CalicoNodeIP` address, `status`, …): a Node shared with Calico must
 * not vanish because natfleet left the node. Metadata (uid, annotations) never counts.
 */
export function planNodeDeregistration(stored: string | undefined): DeregistrationPlan {
  if (stored === undefined) return { type: 'absent' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return { type: 'delete' };
  }
  if (!isObject(parsed) || parsed['kind'] !== 'Node') return { type: 'delete' };
  const foreign = Object.keys(parsed).filter((k) => !OWN_TOP_LEVEL.has(k));
  const spec = isObject(parsed['spec']) ? parsed['spec'] : {};
  for (const k of Object.keys(spec)) if (k !== 'addresses') foreign.push(`spec.${k}`);
  const addresses = Array.isArray(spec['addresses']) ? (spec['addresses'] as unknown[]) : [];
  addresses.forEach((a, i) => {
    if (!isObject(a) || a['type'] !== ANNOUNCED_TYPE) foreign.push(`spec.addresses[${i}]${isObject(a) ? ` (${String(a['type'])})` : ''}`);
  });
  return foreign.length > 0 ? { type: 'keep', foreign } : { type: 'delete' };
}

export interface NodeRegistrarDeps {
  kv: KV;
  store: EtcdStore;
  prefix: string;
  cluster: string;
  logger: Logger;
  metrics: CompilerMetrics;
  /** Delay before retrying a node whose write failed (etcd unavailable). Default 1 s. */
  retryMs?: number;
  /**
   * How long an announcement already reflected in etcd is trusted before the next one
   * re-reads the Node (ms, default 5 min): a Node deleted or edited out of band (etcdctl,
   * another controller) is repaired within this long, at the cost of one etcd read per
   * node per period.
   */
  recheckMs?: number;
  /**
   * Node GC (--node-gc-after, ms): a node whose last status was stored longer ago than this
   * is collected (status key and Node deleted). Undefined = off (the default).
   */
  gcAfterMs?: number;
}

export const DEFAULT_RECHECK_MS = 5 * 60_000;

/** Runs registration for one term: watch the bucket, write changed nodes, until `term` aborts. */
export class NodeRegistrar {
  /** node → fingerprint already reflected in etcd (or already reported invalid), and when. */
  private readonly done = new Map<string, { fingerprint: string; at: number }>();
  /** node → cluster of its last announcement: a delete is acted on only for this cluster's nodes. */
  private readonly clusterOf = new Map<string, string>();
  private readonly collector: NodeCollector | undefined;
  /** Watch events and GC sweeps run one at a time, so a node is never registered and collected at once. */
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * Names of the Nodes in etcd: read in one range read, kept up to date by this registrar,
   * re-read after recheckMs. A new term's watch replays the delete marker of every node
   * ever decommissioned; this spares one etcd read per marker whose Node is long gone.
   */
  private nodeNames: { names: Set<string>; at: number } | undefined;

  constructor(private readonly deps: NodeRegistrarDeps) {
    if (deps.gcAfterMs !== undefined) {
      this.collector = new NodeCollector({
        kv: deps.kv,
        gcAfterMs: deps.gcAfterMs,
        logger: deps.logger,
        metrics: deps.metrics,
        exclusive: (fn) => this.exclusive(fn),
        deregister: (node, term) => this.deregister(node, term),
      });
    }
  }

  /** Registers and deregisters nodes (and collects silent ones when the GC is on) until `term` aborts. */
  async run(term: AbortSignal): Promise<void> {
    await Promise.all([this.follow(term), this.collector?.run(term)]);
  }

  private async follow(term: AbortSignal): Promise<void> {
    const log = this.deps.logger;
    while (!term.aborted) {
      try {
        for await (const ev of watchNodeStatuses(this.deps.kv, term)) {
          await this.exclusive(() => this.onEvent(ev, term));
        }
      } catch (err) {
        if (!term.aborted) log.warn({ err }, 'node status watch failed; restarting it');
      }
      await sleep(this.deps.retryMs ?? 1_000, term);
    }
  }

  /** One watch event: an announcement registers, a deleted key deregisters. */
  async onEvent(ev: NodeStatusEvent, term: AbortSignal): Promise<void> {
    const { cluster } = this.deps;
    if (ev.type === 'put') {
      const ours = ev.status.cluster === '' || ev.status.cluster === cluster;
      this.clusterOf.set(ev.status.node, ev.status.cluster);
      this.collector?.observe(ev, ours);
      await this.handle(ev.status, term);
      return;
    }
    this.collector?.observe(ev, false);
    const last = this.clusterOf.get(ev.node);
    this.clusterOf.delete(ev.node);
    // Another cluster's enforcer sharing the bucket: its own compiler deregisters it.
    if (last !== undefined && last !== '' && last !== cluster) return;
    await this.deregister(ev.node, term);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Registers one announcement, retrying while the term lasts if etcd fails. */
  async handle(status: NodeStatus, term: AbortSignal): Promise<void> {
    const { cluster, logger } = this.deps;
    if (status.cluster !== '' && status.cluster !== cluster) return; // another cluster's enforcer sharing the bucket
    const fingerprint = announcementFingerprint(status);
    const seen = this.done.get(status.node);
    if (seen?.fingerprint === fingerprint && Date.now() - seen.at < (this.deps.recheckMs ?? DEFAULT_RECHECK_MS)) return;
    const log = logger.child({ node: status.node });
    for (let attempt = 1; !term.aborted; attempt++) {
      try {
        const outcome = await this.register(status);
        this.done.set(status.node, { fingerprint, at: Date.now() });
        if (outcome.type === 'invalid') log.warn({ reason: outcome.reason, addresses: status.addresses }, 'node announcement not registered: invalid Node');
        return;
      } catch (err) {
        log.warn({ err, attempt }, 'registering node failed; retrying');
        await sleep(this.deps.retryMs ?? 1_000, term);
      }
    }
  }

  private async register(status: NodeStatus): Promise<RegistrationPlan> {
    const { store, prefix, metrics, logger } = this.deps;
    // A name that cannot be a key segment is invalid before any etcd read.
    const fresh = planNodeRegistration(status, undefined);
    if (fresh.type === 'invalid') return fresh;
    const key = resourceKey('Node', status.node, prefix);
    // Compare-and-swap on what was read, so a concurrent edit is merged on the next try
    // instead of overwritten.
    for (let attempt = 1; ; attempt++) {
      const stored = await store.get(key);
      const plan = planNodeRegistration(status, stored?.value);
      if (plan.type === 'unchanged') this.nodeNames?.names.add(status.node);
      if (plan.type !== 'write') return plan;
      const res = await store.commit([{ type: 'put', key, value: plan.value, expectedModRevision: stored?.modRevision ?? 0 }]);
      if (res.succeeded) {
        this.nodeNames?.names.add(status.node);
        metrics.nodesRegistered.inc();
        logger.info({ node: status.node, key, addresses: normaliseAddresses(status.addresses), labels: status.labels, revision: res.revision }, 'node registered');
        return plan;
      }
      if (attempt >= MAX_CAS_ATTEMPTS) throw new Error(`${key} kept changing under us (${attempt} compare-and-swap attempts)`);
    }
  }

  /**
   * The node was decommissioned (its key deleted): deletes its Node from etcd, retrying
   * while the term lasts if etcd fails. Idempotent: an absent Node (already deleted by
   * `natctl node delete`, or by an earlier term replaying the same delete marker) is fine.
   * Forgets the node, so an enforcer that announces itself again registers it anew.
   */
  async deregister(node: string, term: AbortSignal): Promise<void> {
    this.done.delete(node);
    if (!NODE_NAME_RE.test(node)) return; // not a key an enforcer could have written: no Node to match
    const log = this.deps.logger.child({ node });
    for (let attempt = 1; !term.aborted; attempt++) {
      try {
        await this.deleteNode(node, log);
        return;
      } catch (err) {
        log.warn({ err, attempt }, 'deleting the Node of a decommissioned node failed; retrying');
        await sleep(this.deps.retryMs ?? 1_000, term);
      }
    }
  }

  /** False when `node` surely has no Node in etcd (see nodeNames). Throws when etcd cannot be read. */
  private async mayHaveNode(node: string): Promise<boolean> {
    if (!this.nodeNames || Date.now() - this.nodeNames.at >= (this.deps.recheckMs ?? DEFAULT_RECHECK_MS)) {
      const prefix = kindKeyPrefix('Node', this.deps.prefix);
      const listed = await this.deps.store.list(prefix);
      this.nodeNames = { names: new Set(listed.entries.map((e) => e.key.slice(prefix.length))), at: Date.now() };
    }
    return this.nodeNames.names.has(node);
  }

  private async deleteNode(node: string, log: Logger): Promise<void> {
    const { store, prefix, metrics } = this.deps;
    const key = resourceKey('Node', node, prefix);
    if (!(await this.mayHaveNode(node))) {
      log.debug({ key }, 'node decommissioned; no Node resource to delete');
      return;
    }
    for (let attempt = 1; ; attempt++) {
      const stored = await store.get(key);
      const plan = planNodeDeregistration(stored?.value);
      if (plan.type === 'absent') {
        log.debug({ key }, 'node decommissioned; no Node resource to delete');
        return;
      }
      if (plan.type === 'keep') {
        log.warn({ key, foreign: plan.foreign }, 'node decommissioned, but its Node resource is kept: it holds fields natfleet does not write (shared with Calico or another tool); delete it yourself if the node is gone');
        return;
      }
      // Compare-and-swap: a Node re-written meanwhile (the node announcing itself again) is judged again.
      const res = await store.commit([{ type: 'delete', key, expectedModRevision: stored!.modRevision }]);
      if (res.succeeded) {
        this.nodeNames?.names.delete(node);
        metrics.nodesDeregistered.inc();
        log.info({ key, revision: res.revision }, 'node decommissioned: Node resource deleted');
        return;
      }
      if (attempt >= MAX_CAS_ATTEMPTS) throw new Error(`${key} kept changing under us (${attempt} compare-and-swap attempts)`);
    }
  }
}
