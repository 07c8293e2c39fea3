/**
 * The enforcer's Prometheus metrics, in a registry of its own (no global default
 * registry), all prefixed `natfleet_enforcer_`. Created once per process and passed in.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '@natfleet/service-kit';
import { parseConntrackStat, type ConntrackSample } from './conntrack.js';

const P = 'natfleet_enforcer_';

export interface EnforcerMetrics {
  registry: Registry;
  /** Bundle apply attempts by result: `success` or `failure` (drift repairs excluded). */
  applies: Counter<'result'>;
  /** Successful applies by how they were written: `delta` (changed elements + marker) or `full` (whole-table swap). */
  appliesByMode: Counter<'mode'>;
  /** Delta transactions the kernel refused (nothing changed), each followed by a whole-table swap. */
  deltaFallbacks: Counter;
  /** 1 for the nft implementation in use (`libnftables` in process, or `cli`, the nft binary). */
  nftBackend: Gauge<'backend'>;
  /** Bundles refused before any apply, by code (BAD_SIGNATURE, STALE_VERSION, …): the refused-bundles counter. */
  rejections: Counter<'code'>;
  /** Failed bundle applies (nft refused, timed out, read-back mismatch), by code (NFT_SYNTAX, NFT_KERNEL, READBACK_MISMATCH, …). */
  applyFailures: Counter<'code'>;
  /** Seconds since the last successful apply (or adoption at start) of a bundle, computed at scrape; NaN before the first. */
  secondsSinceLastApply: Gauge;
  /** Records a successful apply at `atMs` (epoch ms) for secondsSinceLastApply. */
  markApplied(atMs: number): void;
  /** Seconds from start of an apply to a verified read-back (successful applies). */
  applySeconds: Histogram;
  /** Version of the bundle in force (0 before the first). */
  appliedVersion: Gauge;
  /** Times the table was found changed or missing and restored. */
  driftRepairs: Counter;
  /** Periodic table checks by result: `ok`, `drift` (repair attempted) or `error` (read failed). */
  driftChecks: Counter<'result'>;
  /** Seconds one drift check's read-back took. */
  driftCheckSeconds: Histogram;
  /** 1 while connected to NATS. */
  natsConnected: Gauge;
  /**
   * Bundles not applied on purpose: `collapsed` (a newer one arrived before it was taken up),
   * `current` (the one already in force or pending, re-delivered), `older` (not newer: also a rejection).
   */
  bundlesSkipped: Counter<'reason'>;
  /** Node status writes to the KV bucket by result: `success` or `failure`. */
  statusWrites: Counter<'result'>;
  /**
   * Times the bundle feed was found stalled and its consumer re-created, by reason:
   * `heartbeats_missed` (the consumer's server went quiet) or `behind` (the stream holds a
   * newer bundle than the feed delivered).
   */
  feedStalls: Counter<'reason'>;
  /** 1 while the bundle feed is stalled (from detection until a bundle flows again). */
  feedStalled: Gauge;
  /**
   * Admission messages by result: `accepted` (verified, newer stateRevision: acted on),
   * `ignored` (verified, not newer: a replay or re-delivery), `refused` (did not verify:
   * forged, garbage, another cluster's; also counted in rejections_total{code}), `restored`
   * (the saved one, verified again at start).
   */
  admissions: Counter<'result'>;
  /** stateRevision of the admission in force (0 = none). */
  admissionRevision: Gauge;
  /** Fetches of an admitted bundle not held, from the stream history, by result: `found`, `absent`, `error`. */
  targetFetches: Counter<'result'>;
  /** Post-apply health check runs (commands and conntrack watches) by result: `passed`, `failed`, `timeout`. */
  healthChecks: Counter<'result'>;
}

export interface CreateMetricsOptions {
  /**
   * The text of /proc/net/stat/nf_conntrack in the node's netns (conntrack.ts
   * readConntrackStat). When given, natfleet_enforcer_conntrack_insert_failed and _drop
   * (kernel counters summed over CPUs, NaN when unreadable) are read at scrape time, at most
   * once a second.
   */
  readConntrack?: () => Promise<string>;
}

/** A fresh registry with every enforcer metric (and the process defaults, service="enforcer"). */
export function createMetrics(o: CreateMetricsOptions = {}): EnforcerMetrics {
  const registry = new Registry();
  collectProcessMetrics(registry, 'enforcer');
  const registers = [registry];
  let lastApplyAtMs: number | undefined;
  if (o.readConntrack) conntrackGauges(registry, o.readConntrack);
  // Every result exported from 0: a series born at 1 on the first failure has no earlier
  // sample, so increase() over it is 0 and NatfleetHealthChecksFailing would miss it.
  const healthChecks = new Counter({ name: `${P}health_checks_total`, help: 'Post-apply health checks by result (passed, failed, timeout).', labelNames: ['result'], registers });
  for (const result of ['passed', 'failed', 'timeout']) healthChecks.inc({ result }, 0);
  return {
    registry,
    applies: new Counter({ name: `${P}applies_total`, help: 'Bundle apply attempts by result.', labelNames: ['result'], registers }),
    appliesByMode: (() => {
      const c = new Counter({ name: `${P}applies_by_mode_total`, help: 'Successful applies by mode: delta (changed set elements + version marker) or full (whole-table swap).', labelNames: ['mode'], registers });
      for (const mode of ['delta', 'full']) c.inc({ mode }, 0);
      return c;
    })(),
    deltaFallbacks: new Counter({ name: `${P}delta_fallbacks_total`, help: 'Delta transactions refused by the kernel (nothing changed), each followed by a whole-table swap.', registers }),
    nftBackend: new Gauge({ name: `${P}nft_backend`, help: '1 for the nft implementation in use: libnftables (in process) or cli (the nft binary).', labelNames: ['backend'], registers }),
    rejections: new Counter({ name: `${P}rejections_total`, help: 'Bundles refused (not applied), by error code.', labelNames: ['code'], registers }),
    applyFailures: new Counter({ name: `${P}apply_failures_total`, help: 'Failed bundle applies (the previous rules stayed in force), by error code.', labelNames: ['code'], registers }),
    secondsSinceLastApply: new Gauge({
      name: `${P}seconds_since_last_apply`,
      help: 'Seconds since the last successful apply (or adoption at start) of a bundle; NaN before the first.',
      registers,
      // Computed at scrape time, so it keeps growing while nothing is applied.
      collect() {
        this.set(lastApplyAtMs === undefined ? Number.NaN : Math.max(0, Date.now() - lastApplyAtMs) / 1_000);
      },
    }),
    markApplied: (atMs: number) => {
      lastApplyAtMs = atMs;
    },
    applySeconds: new Histogram({
      name: `${P}apply_seconds`,
      help: 'Render + nft transaction + read-back, seconds, for successful applies.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    appliedVersion: new Gauge({ name: `${P}applied_version`, help: 'Version of the bundle in force (0 before the first).', registers }),
    driftRepairs: new Counter({ name: `${P}drift_repairs_total`, help: 'Times the natfleet table was found changed or missing and restored.', registers }),
    driftChecks: new Counter({ name: `${P}drift_checks_total`, help: 'Periodic table checks by result (ok, drift, error).', labelNames: ['result'], registers }),
    driftCheckSeconds: new Histogram({
      name: `${P}drift_check_seconds`,
      help: 'Seconds one drift check read-back took.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    natsConnected: new Gauge({ name: `${P}nats_connected`, help: '1 while connected to NATS.', registers }),
    bundlesSkipped: new Counter({ name: `${P}bundles_skipped_total`, help: 'Bundles not applied on purpose, by reason.', labelNames: ['reason'], registers }),
    statusWrites: new Counter({ name: `${P}status_writes_total`, help: 'Node status writes to the KV bucket by result.', labelNames: ['result'], registers }),
    feedStalls: new Counter({ name: `${P}feed_stalls_total`, help: 'Bundle feed stalls detected (consumer re-created), by reason.', labelNames: ['reason'], registers }),
    feedStalled: new Gauge({ name: `${P}feed_stalled`, help: '1 while the bundle feed is stalled.', registers }),
    admissions: new Counter({ name: `${P}admissions_total`, help: 'Admission messages by result (accepted, ignored, refused, restored).', labelNames: ['result'], registers }),
    admissionRevision: new Gauge({ name: `${P}admission_revision`, help: 'stateRevision of the admission in force (0 = none).', registers }),
    targetFetches: new Counter({ name: `${P}target_fetches_total`, help: 'Fetches of an admitted bundle not held, from the stream history, by result (found, absent, error).', labelNames: ['result'], registers }),
    healthChecks,
  };
}

/**
 * The kernel's conntrack insert_failed and drop counters as gauges (node_exporter exports
 * its nf_conntrack stats the same way): SNAT port clashes under masquerade show up here
 * before the post-apply health checks (which only watch for a while after an apply) see
 * them. Both gauges share one read per second; an unreadable file gives NaN.
 */
function conntrackGauges(registry: Registry, read: () => Promise<string>): void {
  let cached: { at: number; sample: Promise<ConntrackSample | undefined> } | undefined;
  const sample = (): Promise<ConntrackSample | undefined> => {
    const now = Date.now();
    if (cached && now - cached.at < 1_000) return cached.sample;
    cached = { at: now, sample: read().then(parseConntrackStat).catch(() => undefined) };
    return cached.sample;
  };
  const insertFailed: Gauge = new Gauge({
    name: `${P}conntrack_insert_failed`,
    help: "The node's conntrack insert_failed counter (/proc/net/stat/nf_conntrack, summed over CPUs; SNAT/masquerade port clashes); NaN when unreadable.",
    registers: [registry],
    async collect(): Promise<void> {
      insertFailed.set((await sample())?.insertFailed ?? Number.NaN);
    },
  });
  const drop: Gauge = new Gauge({
    name: `${P}conntrack_drop`,
    help: "The node's conntrack drop counter (/proc/net/stat/nf_conntrack, summed over CPUs: packets dropped because a conntrack entry could not be made); NaN when unreadable.",
    registers: [registry],
    async collect(): Promise<void> {
      drop.set((await sample())?.drop ?? Number.NaN);
    },
  });
}
