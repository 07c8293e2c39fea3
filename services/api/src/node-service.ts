/**
 * The node inventory: the fleet is every registered node (its Node resource in etcd) plus
 * every node reporting in the natfleet-nodes KV — not "whoever sent a heartbeat lately".
 * Lists and describes nodes (with the NAT-set diff between what a node enforces and what
 * is desired) and decommissions a node that is gone for good. Owns no HTTP concerns.
 * Never: writes a node's status (only deletes it, on decommission).
 */
import { openNodesBucket } from '@natfleet/bus';
import { kindKeyPrefix, resourceKey } from '@natfleet/model';
import type { EtcdStore } from '@natfleet/store';
import type { JetStreamClient } from 'nats';
import { ApiError, isApiError } from './errors.js';
import { diffBodies, type NatDiff } from './nat-diff.js';
import type { RolloutNode, RolloutService } from './rollout-service.js';

export interface NodeDescription {
  node: RolloutNode;
  /** The Node resource in etcd (addresses, labels), or null when only the KV knows the node. */
  resource: Record<string, unknown> | null;
  desired: { version: number; digest: string } | null;
  /**
   * What applying the desired bundle changes for this node, from the bundle it enforces:
   * null when it is in sync, has applied nothing, or its bundle left the stream's history
   * (`diffUnavailable` says which).
   */
  diff: NatDiff | null;
  diffUnavailable?: string;
}

export class NodeService {
  constructor(private readonly deps: { rollout: RolloutService; store: EtcdStore; js: JetStreamClient }) {}

  /** Every expected node, sorted by name, classified against the desired version. */
  async list(): Promise<{ desired: { version: number; digest: string } | null; items: RolloutNode[] }> {
    const r = await this.deps.rollout.rollout();
    return { desired: r.desired && { version: r.desired.version, digest: r.desired.digest }, items: r.nodes };
  }

  /** One node with its desired-vs-enforced diff; NOT_FOUND for a node neither registered nor reporting. */
  async describe(name: string): Promise<NodeDescription> {
    const r = await this.deps.rollout.rollout();
    const node = r.nodes.find((n) => n.node === name);
    if (!node) throw unknownNode(name, r.nodes.map((n) => n.node));
    const stored = await this.deps.store.get(resourceKey('Node', name, this.deps.store.prefix));
    let resource: Record<string, unknown> | null = null;
    try {
      resource = stored ? (JSON.parse(stored.value) as Record<string, unknown>) : null;
    } catch {
      resource = null; // not JSON (etcdctl): the compiler warns about it
    }
    const desired = r.desired && { version: r.desired.version, digest: r.desired.digest };
    const out: NodeDescription = { node, resource, desired, diff: null };
    if (!desired) return { ...out, diffUnavailable: 'no bundle published yet' };
    if (node.appliedVersion === 0) return { ...out, diffUnavailable: 'the node has applied nothing yet' };
    if (node.appliedVersion === desired.version) return out;
    try {
      const [applied, wanted] = await Promise.all([this.deps.rollout.bundle(node.appliedVersion), this.deps.rollout.bundle(desired.version)]);
      return { ...out, diff: diffBodies(applied, wanted) };
    } catch (err) {
      if (isApiError(err) && err.code === 'NOT_FOUND') return { ...out, diffUnavailable: `bundle v${node.appliedVersion} is no longer in the stream's history` };
      throw err;
    }
  }

  /**
   * Decommissions a node that is gone for good: deletes its Node resource from etcd and
   * its status from the KV (the compiler then never re-registers it, unless its enforcer
   * announces itself again). NOT_FOUND when neither exists.
   */
  async delete(name: string): Promise<{ node: string; removed: { resource: boolean; status: boolean } }> {
    const key = resourceKey('Node', name, this.deps.store.prefix);
    const list = await this.deps.store.list(kindKeyPrefix('Node', this.deps.store.prefix));
    const hasResource = list.entries.some((e) => e.key === key);
    const kv = await openNodesBucket(this.deps.js, { bindOnly: true });
    const hasStatus = (await kv.get(name).catch(() => null))?.operation === 'PUT';
    if (!hasResource && !hasStatus) {
      const r = await this.deps.rollout.rollout();
      throw unknownNode(name, r.nodes.map((n) => n.node));
    }
    // The status first: with it gone, the compiler's registration has nothing to restore.
    if (hasStatus) await kv.delete(name);
    if (hasResource) await this.deps.store.commit([{ type: 'delete', key }]);
    return { node: name, removed: { resource: hasResource, status: hasStatus } };
  }
}

function unknownNode(name: string, known: readonly string[]): ApiError {
  const list = known.length > 0 ? known.slice(0, 20).join(', ') + (known.length > 20 ? `, … (${known.length} in all)` : '') : 'none';
  return new ApiError('NOT_FOUND', `node "${name}" is not registered (known nodes: ${list})`);
}
