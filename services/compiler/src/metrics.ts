/**
 * The compiler's Prometheus metrics, on its own registry (never prom-client's global one,
 * so tests and several services in one process do not collide). Names are part of the
 * operator contract: dashboards and alerts use them.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '@natfleet/service-kit';

const P = 'natfleet_compiler_';

export type SkipReason = 'unchanged' | 'fenced' | 'stale';

export class CompilerMetrics {
  readonly registry = new Registry();

  readonly bundlesPublished = new Counter({
    name: `${P}bundles_published_total`,
    help: 'Bundles this replica published to the stream (a publish JetStream dropped as a duplicate msg-id is not counted).',
    registers: [this.registry],
  });

  readonly publishSkipped = new Counter({
    name: `${P}publish_skipped_total`,
    help: 'Compiled snapshots not published: unchanged (same enforced content as the last bundle), stale (revision not newer than the last bundle), fenced (another publisher got in first).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly compileSeconds = new Histogram({
    name: `${P}compile_seconds`,
    help: 'Time to compile and sign one snapshot (excludes the etcd read and the publish).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly publishLatencySeconds = new Histogram({
    name: `${P}publish_latency_seconds`,
    help: 'From the first etcd change of a batch reaching the compiler to the bundle publish ack (debounce included).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly lastPublishedVersion = new Gauge({
    name: `${P}last_published_version`,
    help: 'Version (etcd revision) of the newest bundle on the stream, as this replica last saw it.',
    registers: [this.registry],
  });

  readonly lastEvaluatedRevision = new Gauge({
    name: `${P}last_evaluated_revision`,
    help: 'Newest etcd revision this replica recorded as evaluated on natfleet.evaluated.<cluster> (the fleet is current as of it once nodes run the bundle it names).',
    registers: [this.registry],
  });

  readonly bundleWarnings = new Gauge({
    name: `${P}bundle_warnings`,
    help: 'Warnings (skipped or adjusted resources) in the last compiled bundle.',
    registers: [this.registry],
  });

  readonly skippedResources = new Counter({
    name: `${P}skipped_resources_total`,
    help: 'Resources skipped or adjusted by the compiler, counted when each (key, code, reason) first appears.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly isLeader = new Gauge({
    name: `${P}is_leader`,
    help: '1 while this replica holds the leader lease and may publish, else 0.',
    registers: [this.registry],
  });

  readonly foreignMessages = new Counter({
    name: `${P}foreign_messages_total`,
    help: 'Messages on the bundle subject that are not bundles this compiler published (reason: MALFORMED, BAD_DIGEST, UNKNOWN_KEY, BAD_SIGNATURE, WRONG_CLUSTER, HEADER_MISMATCH, ...), counted once each; they are ignored when deciding what to publish.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly etcdResyncs = new Counter({
    name: `${P}etcd_resyncs_total`,
    help: 'Times the etcd watch had to be re-established (reconnect, compaction) and a fresh snapshot was taken.',
    registers: [this.registry],
  });

  readonly nodesRegistered = new Counter({
    name: `${P}nodes_registered_total`,
    help: 'Node resources written to etcd from enforcer announcements (addresses or labels changed).',
    registers: [this.registry],
  });

  readonly nodesDeregistered = new Counter({
    name: `${P}nodes_deregistered_total`,
    help: 'Node resources deleted from etcd because the node was decommissioned (its natfleet-nodes key deleted: uninstall, natctl node delete, node GC).',
    registers: [this.registry],
  });

  readonly nodesCollected = new Counter({
    name: `${P}nodes_collected_total`,
    help: 'Nodes removed by the node GC (--node-gc-after): silent longer than that, their natfleet-nodes key and Node resource deleted.',
    registers: [this.registry],
  });

  // Staged rollouts (DESIGN.md §10): the leader's rollout controller. Named natfleet_rollout*
  // (not natfleet_compiler_*): they describe the fleet's rollouts, whichever replica leads.
  readonly rolloutsStarted = new Counter({
    name: 'natfleet_rollouts_started_total',
    help: 'Candidates whose staged rollout started under a RolloutPolicy (counted by the leader that started it).',
    registers: [this.registry],
  });

  readonly rolloutsCompleted = new Counter({
    name: 'natfleet_rollouts_completed_total',
    help: 'Candidates that reached every node (every wave passed, or admitted at once without a RolloutPolicy).',
    registers: [this.registry],
  });

  readonly rolloutsAborted = new Counter({
    name: 'natfleet_rollouts_aborted_total',
    help: 'Rollouts that ended without completing: GateFailed, ProgressDeadlineExceeded (halted or rolled back), OperatorAborted.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly rolloutWaveDuration = new Histogram({
    name: 'natfleet_rollout_wave_duration_seconds',
    help: 'From a wave\'s admission to it passing (gates and bake).',
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600],
    registers: [this.registry],
  });

  readonly rolloutAdmissionsPublished = new Counter({
    name: 'natfleet_rollout_admissions_published_total',
    help: 'Signed admissions this replica published on natfleet.admission.<cluster> (a msg-id duplicate is not counted).',
    registers: [this.registry],
  });

  readonly rolloutPhase = new Gauge({
    name: 'natfleet_rollout_phase',
    help: 'Phase of the current candidate\'s rollout as this replica last stepped it: 1 for the current phase, 0 for the others.',
    labelNames: ['phase'] as const,
    registers: [this.registry],
  });

  /**
   * `withProcessMetrics`: also collect prom-client's default process metrics under their
   * standard names (process_*, nodejs_*) with service="compiler" (off in unit tests).
   */
  constructor({ withProcessMetrics = true } = {}) {
    if (withProcessMetrics) collectProcessMetrics(this.registry, 'compiler');
    this.isLeader.set(0);
    this.bundleWarnings.set(0);
  }
}
