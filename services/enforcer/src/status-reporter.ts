/**
 * The node's status in the `natfleet-nodes` KV bucket (key = node name): announces the
 * node (name, labels, addresses), reports every change of what it enforces or why it
 * failed, and rewrites the value every heartbeat. Binds to the bucket only (the compiler
 * creates it) and keeps retrying until it exists. Writes coalesce: only the newest status
 * is ever written. Writes no key but its own.
 */
import { openNodesBucket, putNodeStatus, type NodeStatus } from '@natfleet/bus';
import type { Logger } from '@natfleet/service-kit';
import type { KV, NatsConnection } from 'nats';
import type { EnforcerStatus } from './enforcer-status.js';
import type { EnforcerMetrics } from './metrics.js';
import type { NatsLink } from './nats-link.js';

/** What a node says about itself, fixed for the process lifetime. */
export interface NodeIdentity {
  node: string;
  cluster: string;
  labels: Record<string, string>;
  addresses: string[];
  enforcerVersion: string;
}

/** The KV value: identity + enforcer status + heartbeat time. Pure. */
export function nodeStatusOf(id: NodeIdentity, s: EnforcerStatus, heartbeatAt: Date): NodeStatus {
  return {
    node: id.node,
    cluster: id.cluster,
    labels: id.labels,
    addresses: id.addresses,
    appliedVersion: s.appliedVersion,
    appliedDigest: s.appliedDigest,
    state: s.state,
    error: s.error,
    errorCode: s.errorCode,
    failedVersion: s.failedVersion,
    appliedAt: s.appliedAt,
    applyMs: s.applyMs,
    driftRepairs: s.driftRepairs,
    enforcerVersion: id.enforcerVersion,
    heartbeatAt: heartbeatAt.toISOString(),
    ...(s.health ? { health: s.health } : {}),
    admissionRevision: s.admissionRevision,
  };
}

export interface StatusReporterOptions {
  link: NatsLink;
  identity: NodeIdentity;
  status: () => EnforcerStatus;
  heartbeatMs: number;
  /** Pause before retrying a failed bind or write. */
  retryMs: number;
  logger: Logger;
  metrics: EnforcerMetrics;
}

/**
 * Ack timeout of a status write. Short on purpose: right after a NATS restart the first
 * publish can go unacknowledged (seen with nats-server 2.9), and a retry is cheaper than
 * the 5 s default wait. The write is idempotent (same key, newest value).
 */
const PUT_TIMEOUT_MS = 2_000;

export class StatusReporter {
  private readonly stop = new AbortController();
  private loop: Promise<void> = Promise.resolve();
  private dirty = true;
  private poke: (() => void) | undefined;
  private lastWritten: NodeStatus | undefined;

  constructor(private readonly o: StatusReporterOptions) {}

  start(): void {
    this.loop = this.run();
  }

  /** The status changed: write it soon (coalesced with other changes). */
  notify(): void {
    this.dirty = true;
    this.poke?.();
  }

  /** The last value written successfully (undefined before the first). */
  get written(): NodeStatus | undefined {
    return this.lastWritten;
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    let kv: KV | undefined;
    let kvOf: NatsConnection | undefined;
    let failing = '';
    while (!this.stop.signal.aborted) {
      const nc = await this.o.link.whenConnected();
      if (!nc || this.stop.signal.aborted) return;
      try {
        if (!kv || kvOf !== nc) {
          kv = await openNodesBucket(nc.jetstream({ timeout: PUT_TIMEOUT_MS }), { bindOnly: true });
          kvOf = nc;
          this.o.logger.info('bound to the nodes bucket');
        }
        this.dirty = false;
        const value = nodeStatusOf(this.o.identity, this.o.status(), new Date());
        await putNodeStatus(kv, value);
        this.lastWritten = value;
        this.o.metrics.statusWrites.inc({ result: 'success' });
        if (failing) this.o.logger.info('node status written again');
        failing = '';
      } catch (err) {
        this.dirty = true;
        if (kv) this.o.metrics.statusWrites.inc({ result: 'failure' });
        const text = (err as Error).message;
        if (text !== failing) this.o.logger.warn({ err, retryInMs: this.o.retryMs }, kv ? 'writing node status failed: retrying' : 'nodes bucket not available yet: retrying');
        failing = text;
        await this.pause(Math.min(this.o.retryMs, this.o.heartbeatMs), false);
        continue;
      }
      await this.pause(this.o.heartbeatMs, true);
    }
  }

  /** Waits `ms`, or less when `wakeOnChange` and the status changes meanwhile. */
  private pause(ms: number, wakeOnChange: boolean): Promise<void> {
    if (wakeOnChange && this.dirty) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.stop.signal.removeEventListener('abort', done);
        this.poke = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (this.stop.signal.aborted) return done();
      this.stop.signal.addEventListener('abort', done, { once: true });
      this.poke = wakeOnChange ? done : undefined;
    });
  }
}
