/**
 * The fleet gauges on the API's /metrics, computed at scrape time from the same view GET
 * /v1/rollout answers with (rollout-control-routes.ts `rolloutView`: node classification
 * of rollout-service.ts, `complete` judged with the staged rollout), so a dashboard or an
 * alert never disagrees with `natctl rollout status`. One view read serves every gauge of a
 * scrape and any scrape within `cacheMs` (default 1 s): several Prometheus replicas
 * scraping every few seconds cost at most one KV/stream/etcd read a second.
 *
 *   natfleet_fleet_nodes{status}                      in_sync / behind / failed / silent
 *   natfleet_fleet_desired_version                    newest valid bundle version (0 = none)
 *   natfleet_fleet_rollout_complete                   1 when GET /v1/rollout says complete
 *   natfleet_fleet_seconds_since_complete_rollout     see `sinceComplete` below
 *   natfleet_fleet_rollout_phase{phase}               the staged rollout's phase (1 = current)
 *   natfleet_fleet_view_ok                            1 when the last view read succeeded
 *
 * Owns: the gauges and their cache. Must never write anything, never decide a node's
 * status itself (the rollout service does), never throw out of a scrape: a failed read
 * keeps the previous values and sets natfleet_fleet_view_ok to 0, so process metrics and
 * the latency histogram are still scraped while NATS or etcd is down.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Phase } from '@natfleet/rollout-planner';
import type { RolloutView } from './rollout-control-routes.js';
import type { NodeRolloutStatus } from './rollout-service.js';

/** The `status` label of natfleet_fleet_nodes for each rollout status (Prometheus label values use `_`). */
export const FLEET_STATUS_LABELS: Readonly<Record<NodeRolloutStatus, string>> = { 'in-sync': 'in_sync', behind: 'behind', failed: 'failed', silent: 'silent' };

/** Every phase of packages/rollout-planner (the compiler's natfleet_rollout_phase uses the same values). */
export const ROLLOUT_PHASES = ['progressing', 'paused', 'halted', 'rolled-back', 'completed', 'aborted'] as const satisfies readonly Phase[];
// Fails to compile when the planner gains a phase this list lacks.
const _allPhases: Record<Phase, true> = { progressing: true, paused: true, halted: true, 'rolled-back': true, completed: true, aborted: true };
void _allPhases;

/** How long one view serves scrapes, ms. */
export const FLEET_VIEW_CACHE_MS = 1_000;

/**
 * Longest wait for a view read, ms: past it the scrape answers with the last good values
 * and natfleet_fleet_view_ok 0, well inside Prometheus' default 10 s scrape timeout (a NATS
 * request to a lost server can take longer than that).
 */
export const FLEET_VIEW_TIMEOUT_MS = 3_000;

export interface FleetMetricsOptions {
  registry: Registry;
  /** The GET /v1/rollout view at `now` (ms). */
  view: (now: number) => Promise<RolloutView>;
  cacheMs?: number;
  timeoutMs?: number;
  /** Clock (ms); tests move it. */
  now?: () => number;
}

interface Snapshot {
  /** The view read at `at`, or the last good one when that read failed (undefined before any). */
  view: RolloutView | undefined;
  /** The read at `at` succeeded. */
  ok: boolean;
  at: number;
}

export class FleetMetrics {
  private readonly now: () => number;
  private readonly cacheMs: number;
  /** When this instance started watching: the lower bound of `sinceComplete` before any complete view. */
  private readonly startedAt: number;
  /** When a view last said complete (undefined: never seen complete by this process). */
  private lastCompleteAt: number | undefined;
  private cached: { at: number; snapshot: Promise<Snapshot> } | undefined;
  /** The last view read that succeeded (a failed read keeps showing it). */
  private last: RolloutView | undefined;

  constructor(private readonly o: FleetMetricsOptions) {
    this.now = o.now ?? Date.now;
    this.cacheMs = o.cacheMs ?? FLEET_VIEW_CACHE_MS;
    this.startedAt = this.now();
    const registers = [o.registry];
    const nodes = new Gauge({
      name: 'natfleet_fleet_nodes',
      help: 'Expected nodes by rollout status against the desired version, as GET /v1/rollout counts them: in_sync, behind, failed, silent (no heartbeat for --silent-after; unknown is not success).',
      labelNames: ['status'] as const,
      registers,
      collect: async (): Promise<void> => {
        const { view } = await this.snapshot();
        const s = view?.summary;
        nodes.set({ status: 'in_sync' }, s?.inSync ?? 0);
        nodes.set({ status: 'behind' }, s?.behind ?? 0);
        nodes.set({ status: 'failed' }, s?.failed ?? 0);
        nodes.set({ status: 'silent' }, s?.silent ?? 0);
      },
    });
    const desired = new Gauge({
      name: 'natfleet_fleet_desired_version',
      help: 'Version (etcd revision) of the newest valid bundle on the stream: the version every node should enforce; 0 before the first bundle.',
      registers,
      collect: async (): Promise<void> => desired.set((await this.snapshot()).view?.desired?.version ?? 0),
    });
    const complete = new Gauge({
      name: 'natfleet_fleet_rollout_complete',
      help: '1 when every expected node enforces the desired version and no staged rollout of it is progressing, paused, halted or rolled back (GET /v1/rollout complete), else 0.',
      registers,
      collect: async (): Promise<void> => complete.set((await this.snapshot()).view?.complete === true ? 1 : 0),
    });
    const since = new Gauge({
      name: 'natfleet_fleet_seconds_since_complete_rollout',
      help: 'Seconds since this API last saw the rollout complete (0 while complete). Before it first saw it complete: seconds since this API process started (a lower bound). Observed at scrapes.',
      registers,
      collect: async (): Promise<void> => since.set(this.sinceComplete(await this.snapshot())),
    });
    const phase = new Gauge({
      name: 'natfleet_fleet_rollout_phase',
      help: "Phase of the staged rollout in the rollout controller's state record (1 for the current phase, 0 for the others; all 0 when there is no record).",
      labelNames: ['phase'] as const,
      registers,
      collect: async (): Promise<void> => {
        const current = (await this.snapshot()).view?.staged?.phase;
        for (const p of ROLLOUT_PHASES) phase.set({ phase: p }, p === current ? 1 : 0);
      },
    });
    const viewOk = new Gauge({
      name: 'natfleet_fleet_view_ok',
      help: '1 when the last read of the fleet view (NATS KV, bundle stream, etcd) succeeded; 0 when it failed and the natfleet_fleet_* gauges show the last good read (or zeros).',
      registers,
      collect: async (): Promise<void> => viewOk.set((await this.snapshot()).ok ? 1 : 0),
    });
  }

  /**
   * The view for this scrape: the cached one when younger than `cacheMs`, else a fresh
   * read. Never rejects: a failed read yields the last good view (undefined before one).
   */
  snapshot(): Promise<Snapshot> {
    const now = this.now();
    if (this.cached && now - this.cached.at < this.cacheMs) return this.cached.snapshot;
    const snapshot = withTimeout(this.o.view(now), this.o.timeoutMs ?? FLEET_VIEW_TIMEOUT_MS).then(
      (view) => {
        this.last = view;
        if (view.complete) this.lastCompleteAt = now;
        return { view, ok: true, at: now };
      },
      () => ({ view: this.last, ok: false, at: now }),
    );
    this.cached = { at: now, snapshot };
    return snapshot;
  }

  /**
   * natfleet_fleet_seconds_since_complete_rollout: 0 while a fresh view says complete; else
   * the seconds since the last view that did; before any did (a fresh API, or a fleet that
   * never converged), the seconds since this instance was created — "incomplete for at
   * least this long", so an alert on it still fires for a fleet that never converges. While
   * reads fail it keeps growing from the last complete view (a stale "complete" is not
   * trusted).
   */
  sinceComplete(s: Snapshot): number {
    if (s.ok && s.view?.complete === true) return 0;
    return Math.max(0, s.at - (this.lastCompleteAt ?? this.startedAt)) / 1_000;
  }
}

/** `p`, or a rejection after `ms` (the timer never outlives the race). */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fleet view read took longer than ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
