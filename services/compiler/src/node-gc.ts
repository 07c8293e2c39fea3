/**
 * Node GC (`--node-gc-after`, off by default): the leader decommissions nodes that have
 * been silent for longer than that — it deletes the node's key in natfleet-nodes (only if
 * nothing was written to it since it was judged) and then its Node resource, logging a
 * warning with the node and its last heartbeat, and counting it
 * (`natfleet_compiler_nodes_collected_total`). Runs only inside a leadership term.
 *
 * Silence is measured from when the NATS server stored the node's last status (server
 * clock), never from the enforcer's own `heartbeatAt`: a node whose clock runs behind must
 * not be collected while it is alive. A node is never collected before `gcAfterMs` has
 * passed since that moment (as seen by the compiler's clock). Only nodes that have a status
 * are considered: a Node without any (written by hand or by Calico) is left alone.
 *
 * The choice of nodes ({@link silentNodes}) is pure; {@link NodeCollector} does the I/O.
 */
import type { KV } from 'nats';
import { deleteNodeStatus, type NodeStatusEvent } from '@natfleet/bus';
import type { Logger } from '@natfleet/service-kit';
import { sleep } from '@natfleet/service-kit';
import type { CompilerMetrics } from './metrics.js';

/** The last status a node wrote, as the watch delivered it. */
export interface LastHeard {
  /** Stream sequence of the entry (the delete is conditional on it). */
  revision: number;
  /** When the NATS server stored it (ms since the epoch, server clock). */
  storedAt: number;
  /** The enforcer's own heartbeat time, for the log only. */
  heartbeatAt: string;
}

/** Shortest and longest pause between sweeps; in between, a tenth of gcAfterMs. */
const MIN_SWEEP_MS = 250;
const MAX_SWEEP_MS = 60_000;

/** How often the collector looks for silent nodes for a given `gcAfterMs`. */
export const sweepIntervalMs = (gcAfterMs: number): number => Math.min(Math.max(Math.floor(gcAfterMs / 10), MIN_SWEEP_MS), MAX_SWEEP_MS);

/**
 * The nodes silent for strictly longer than `gcAfterMs` at `now`, longest-silent first
 * (ties by name). Empty when none is (or nothing is known).
 */
export function silentNodes(last: ReadonlyMap<string, LastHeard>, now: number, gcAfterMs: number): (LastHeard & { node: string })[] {
  return [...last]
    .filter(([, h]) => now - h.storedAt > gcAfterMs)
    .map(([node, h]) => ({ node, ...h }))
    .sort((a, b) => a.storedAt - b.storedAt || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}

export interface NodeCollectorOptions {
  kv: KV;
  gcAfterMs: number;
  logger: Logger;
  metrics: CompilerMetrics;
  /** Runs `fn` while no watch event is being handled (the registrar's queue). */
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Deletes the Node resource of a collected node (the registrar's deregistration). */
  deregister: (node: string, term: AbortSignal) => Promise<void>;
}

export class NodeCollector {
  private readonly last = new Map<string, LastHeard>();

  constructor(private readonly o: NodeCollectorOptions) {}

  /**
   * Follows the watch: a status of this cluster (`ours`) is remembered, anything else
   * (another cluster's node, a deleted key) forgotten.
   */
  observe(ev: NodeStatusEvent, ours: boolean): void {
    const node = ev.type === 'put' ? ev.status.node : ev.node;
    if (ev.type === 'put' && ours) this.last.set(node, { revision: ev.revision, storedAt: ev.storedAt.getTime(), heartbeatAt: ev.status.heartbeatAt });
    else this.last.delete(node);
  }

  /** Sweeps every sweepIntervalMs(gcAfterMs) until `term` aborts. */
  async run(term: AbortSignal): Promise<void> {
    const every = sweepIntervalMs(this.o.gcAfterMs);
    this.o.logger.info({ gcAfterMs: this.o.gcAfterMs, sweepMs: every }, 'node GC on: nodes silent longer than --node-gc-after are decommissioned');
    while (!term.aborted) {
      await sleep(every, term);
      if (term.aborted) return;
      await this.o.exclusive(() => this.sweep(term));
    }
  }

  /**
   * Collects every node silent longer than gcAfterMs at `now`. Returns the nodes collected
   * (empty when none was due). A node that wrote again since it was judged is kept; a
   * failed delete is logged and retried at the next sweep.
   */
  async sweep(term: AbortSignal, now = Date.now()): Promise<string[]> {
    const { kv, gcAfterMs, logger, metrics } = this.o;
    const collected: string[] = [];
    for (const n of silentNodes(this.last, now, gcAfterMs)) {
      if (term.aborted) break; // no longer the leader: leave it to the next one
      const log = logger.child({ node: n.node });
      let deleted: boolean;
      try {
        deleted = await deleteNodeStatus(kv, n.node, { previousRevision: n.revision });
      } catch (err) {
        log.warn({ err }, 'node GC: deleting the status key failed; retrying at the next sweep');
        continue;
      }
      this.last.delete(n.node); // the watch brings its delete marker, or its newer status
      if (!deleted) {
        log.info({ lastHeartbeat: n.heartbeatAt }, 'node GC: the node wrote its status again just now; kept');
        continue;
      }
      metrics.nodesCollected.inc();
      log.warn(
        { lastHeartbeat: n.heartbeatAt, storedAt: new Date(n.storedAt).toISOString(), silentSeconds: Math.round((now - n.storedAt) / 1_000), gcAfterSeconds: gcAfterMs / 1_000 },
        'node collected: silent longer than --node-gc-after; status key deleted, deregistering it',
      );
      collected.push(n.node);
      await this.o.deregister(n.node, term);
    }
    return collected;
  }
}
