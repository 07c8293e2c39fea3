/**
 * The enforcer core: buffers the newest bundle message, verifies it, swaps the
 * `inet natfleet` table in one nft transaction, reads it back, saves it for fail-static
 * restarts, and keeps the table as applied (drift repair). Knows nothing of NATS: bundle
 * messages come in through `offer()`, status goes out through `onChange` and `status()`.
 *
 * Staged rollouts (DESIGN.md §10): admission messages come in through `offerAdmission()`
 * (verified and ordered by AdmissionState, saved beside the bundle). What must be enforced
 * is admissionTarget(admission, node): `newest` (no admission, or policy '') is the
 * behaviour above — newest verified bundle, an older one refused as STALE_VERSION; a
 * `version` is applied even when older than the one in force (a rollback: only a verified
 * admission can cause one), and bundles it does not name are held (BundleCache) but not
 * applied; `keep` keeps the table. A target not held is fetched (TargetFetcher) while the
 * table stays. After every apply the health monitor (health-checks.ts) is told what runs.
 *
 * One loop does all the work, one step at a time, so nft never runs twice at once:
 *   1. a newer verified admission (saved, then the target re-evaluated);
 *   2. a pending message (only the newest is kept: a burst collapses to its last one);
 *   3. a re-evaluation of the target (after a fetched bundle, or at start);
 *   4. a due retry of the desired bundle that failed to apply (or to be saved);
 *   5. a due drift check of the live table against the applied bundle;
 *   6. a due fetch of an admitted bundle not held (run beside the loop: no nft).
 * A failed apply leaves the previous table in force (nft transactions are all or
 * nothing) and is reported as `failed` with a code; the loop keeps running.
 *
 * Past the house ~700-line mark on purpose: the loop's state (applied, desired, problem,
 * retry, generation) is one piece; the parts that need none of it live beside it
 * (admission-state, bundle-cache, target-fetch, enforcer-status).
 *
 * Drift checks are cheap at any table size: each one reads the kernel's ruleset generation
 * (Nft.generation, one netlink request) and stops there when it has not moved since the
 * table was last known to be exactly the applied bundle. Only when it moved (anyone
 * committed anything, to any table), or nothing is known yet, is the table listed with
 * its set elements and compared; a difference is repaired by re-applying the bundle.
 *
 * Must never touch a table other than `inet natfleet` (all nft access goes through the
 * Nft interface of @natfleet/nft, which only names that table) and never logs through
 * anything but the logger it is given.
 */
import { createHash } from 'node:crypto';
import { admissionTarget, decodeBundle, encodeBundle, type Admission, type AdmissionTarget, type Bundle, type TrustedKeys } from '@natfleet/bundle';
import {
  compareTableState,
  expectedTableContents,
  isNftTimeoutError,
  nextGeneration,
  renderDelta,
  renderRepair,
  renderTransaction,
  tableComment,
  type Nft,
  type TableDifference,
  type TableState,
} from '@natfleet/nft';
import type { Logger } from '@natfleet/service-kit';
import { AdmissionState, type UnverifiedAdmission } from './admission-state.js';
import { BundleCache, type Held } from './bundle-cache.js';
import { TargetFetcher } from './target-fetch.js';
import { failureCode, failureMessage, HeaderMismatchError, ReadBackError, StaleBundleError, WrongClusterError } from './errors.js';
import type { HealthContext, HealthMonitor } from './health-checks.js';
import type { EnforcerMetrics } from './metrics.js';
import { ADMISSION_FILE, BundleStore } from './state-store.js';
import { admissionViewOf, healthContextOf, readinessOf, statusOf, type AdmissionView, type EnforcerStatus, type Problem, type RestoreOutcome, type UnverifiedRefusal } from './enforcer-status.js';

/** A bundle message as it arrives (from the stream or a test). */
export interface IncomingBundle {
  /** Stream sequence: of two pending messages, the higher one wins. */
  seq: number;
  /**
   * Version from the message headers (0 when absent): unverified, so it is never reported
   * as a failed version; it only has to match the body (HEADER_MISMATCH otherwise).
   */
  version: number;
  data: Uint8Array;
}

export interface EnforcerOptions {
  nodeName: string;
  cluster: string;
  nft: Nft;
  store: BundleStore;
  trustedKeys: TrustedKeys;
  maxBundleBytes: number;
  /** Pause between drift checks (stretched when one read-back is slow, see DRIFT_DUTY_FACTOR). */
  driftIntervalMs: number;
  /** First retry delay after a failed apply or save; doubles per attempt up to MAX_RETRY_FACTOR times. */
  retryIntervalMs: number;
  logger: Logger;
  metrics: EnforcerMetrics;
  /** Called (synchronously, must not throw) whenever `status()` changed. */
  onChange?: (status: EnforcerStatus) => void;
  /**
   * Fetches a bundle the admission names but this node does not hold (the daemon searches
   * the stream's kept history): the raw message bytes, or undefined when it is not there.
   * Verified here like any bundle. Absent = no fetching (the node waits for the bundle).
   */
  fetchBundle?: (ref: { version: number; digest: string }) => Promise<Uint8Array | undefined>;
  /** Post-apply health checks (health-checks.ts); absent = none (health not reported). */
  health?: HealthMonitor;
  /** Where the newest verified admission is saved; default: ADMISSION_FILE in the store's dir. */
  admissionStore?: BundleStore;
}

/** The bundle in force, with what its table must look like. */
interface Enforced extends Held {
  /** The version marker the table must carry (`natfleet v<version> <digest>`): what an apply reads back. */
  marker: string;
  /** Every set's elements, rules and marker: what a drift verification compares (made at the first one, off the apply path). */
  contents?: TableState;
  appliedAt: string;
  applyMs: number;
  /** Whether it went in as a delta on the previous table or as a whole-table swap. */
  mode: ApplyMode;
}

/**
 * How a table change is written. `delta`: only the set elements that changed and the
 * version marker, as one transaction, when the live table is exactly the one this enforcer
 * last applied (the ruleset generation has not moved since) and the rule shape is the same.
 * `full`: the whole-table swap (first apply, drift, unknown state, a rule-shape change, or
 * a delta the kernel refused). Both are all or nothing.
 */
export type ApplyMode = 'delta' | 'full';

/**
 * After a drift verification that found the table intact (a full read: 0.25–0.4 s with
 * 100k set elements by netlink, ~1.6 s through the nft binary) the next check waits at
 * least this many times as long, so a node whose ruleset generation moves all the time
 * (another agent committing to another table) spends no more than ~20% of a core watching
 * its own table. The cheap generation check alone, and a check that repaired, never
 * stretch the interval.
 */
export const DRIFT_DUTY_FACTOR = 4;
/** Retry delays double up to this multiple of the retry interval. */
export const MAX_RETRY_FACTOR = 12;

export class Enforcer {
  private readonly log: Logger;
  private pending: IncomingBundle | undefined;
  /**
   * What should be enforced: without a staged policy the newest verified bundle (never
   * older than `applied`); under one, the bundle the admission names for this node (may be
   * older: a rollback), or `applied` when it says keep. Undefined while the target is not held.
   */
  private desired: Held | undefined;
  /** The newest verified bundle seen (held, maybe not applied while a rollout is staged). */
  private newest: Held | undefined;
  private readonly cache = new BundleCache();
  private readonly admissions: AdmissionState;
  /** Fetches the admitted target when it is not held (the table stays meanwhile). */
  private readonly fetcher: TargetFetcher;
  /** The target must be re-evaluated (an admission, a fetched bundle). */
  private reconcileNeeded = false;
  private applied: Enforced | undefined;
  private savedDigest = '';
  private problem: Problem | undefined;
  private driftRepairs = 0;
  /** `<seq>:<sha256>` of the last refused message, so a re-delivery is not reported twice. */
  private lastRefused = '';
  /** The last message that did not verify (not a genuine bundle): a note, never a failure. */
  private unverified: UnverifiedRefusal | undefined;
  private retryAt: number | undefined;
  private retryAttempts = 0;
  private driftAt: number | undefined;
  /**
   * The ruleset generation at which the live table was last known to be exactly `applied`
   * (set elements included); undefined when not known, so the next drift check verifies.
   */
  private knownGeneration: number | undefined;
  /** The last generation read failed (logged once, until it works again). */
  private generationFailing = false;
  private started = false;
  private stopping = false;
  private idle = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: EnforcerOptions) {
    this.log = o.logger;
    this.admissions = new AdmissionState({
      cluster: o.cluster,
      trustedKeys: o.trustedKeys,
      store: o.admissionStore ?? new BundleStore(o.store.dir, ADMISSION_FILE),
      logger: o.logger.child({ component: 'admission' }),
      metrics: o.metrics,
    });
    this.fetcher = new TargetFetcher({
      fetchBundle: o.fetchBundle,
      verify: (data) => this.verify(data),
      retryIntervalMs: o.retryIntervalMs,
      maxFactor: MAX_RETRY_FACTOR,
      logger: o.logger,
      metrics: o.metrics,
      onFound: (bundle) => this.fetched(bundle),
    });
  }

  /**
   * Fail static: re-enforces the saved bundle (verified again; a tampered or unreadable
   * file is refused and reported, never applied), then starts the loop. Resolves once
   * the saved bundle is in force, or refused, or failed to apply (retried later).
   * Calling it twice does nothing the second time.
   */
  async start(): Promise<RestoreOutcome> {
    if (this.started) return { type: 'none' };
    this.started = true;
    await this.admissions.restore();
    const outcome = await this.restore();
    this.reconcileNeeded = true;
    this.loopDone = this.run();
    return outcome;
  }

  /** Stops the loop after the step in progress (an nft run finishes or times out). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loopDone;
    await this.admissions.settled(); // an admission saved behind is on disk before the process exits
    await this.o.health?.close();
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * Hands over an admission message (raw bytes). Verified at once (CPU only): a genuine one
   * with a higher stateRevision than any seen is acted on by the loop; a lower or equal
   * one is ignored; one that does not verify is noted (`lastUnverifiedAdmission`), counted
   * and logged, never a failure. Never throws.
   */
  offerAdmission(bytes: Uint8Array): void {
    if (this.stopping) return;
    if (!this.admissions.offer(bytes)) return;
    this.idle = false;
    this.wake();
  }

  /** True when `bytes` is a genuine admission of this cluster; touches no state (for the feed's walk past a forged newest one). */
  genuineAdmission(bytes: Uint8Array): boolean {
    return this.admissions.isGenuine(bytes);
  }

  /** The admission acted on (undefined = none: every new bundle is applied at once). */
  admission(): Admission | undefined {
    return this.admissions.admission;
  }

  /** The last admission message refused because it did not verify; undefined when none. */
  lastUnverifiedAdmission(): UnverifiedAdmission | undefined {
    return this.admissions.lastUnverified();
  }

  /** The admission and what it means for this node, for /status; null when none. */
  admissionView(): AdmissionView | null {
    return admissionViewOf(this.admissions.admission, this.target(), this.cache.versions());
  }

  /**
   * Hands over a bundle message. Only the newest (by stream seq) waits; an older one is
   * dropped as `collapsed`. Never throws; verification happens in the loop.
   */
  offer(msg: IncomingBundle): void {
    if (this.stopping) return;
    const prev = this.pending;
    if (prev && prev.seq > msg.seq) {
      this.o.metrics.bundlesSkipped.inc({ reason: 'collapsed' });
      return;
    }
    if (prev && prev.seq !== msg.seq) {
      this.o.metrics.bundlesSkipped.inc({ reason: 'collapsed' });
      this.log.debug({ seq: prev.seq, version: prev.version, newerSeq: msg.seq }, 'bundle superseded before it was applied');
    }
    this.pending = msg;
    this.idle = false;
    this.wake();
  }

  /** What the node enforces and why it failed, for the node status. */
  status(): EnforcerStatus {
    const desiredVersion = this.desired?.bundle.version ?? this.fetcher.waiting?.version ?? 0;
    return statusOf(this.applied, this.problem, this.driftRepairs, desiredVersion, {
      admissionRevision: this.admissions.admission?.stateRevision ?? 0,
      waiting: this.fetcher.waiting,
      health: this.o.health?.result(),
    });
  }

  /**
   * The last message refused because it did not verify (garbage, forged, another
   * cluster's, headers that disagree with the body), or undefined when none. Such a
   * message says nothing about what this node should run, so it is never a failure, never
   * makes the node unready and does not call `onChange` (a flood of junk must not become a
   * flood of status writes); it is logged and counted in rejections_total{code}.
   */
  lastUnverified(): UnverifiedRefusal | undefined {
    return this.unverified;
  }

  /**
   * Verifies a message without touching any state: its verified version, or undefined when
   * it would be refused as not genuine (see `lastUnverified`). For the feed, to look past a
   * forged newest message for the newest genuine one.
   */
  genuineVersion(msg: IncomingBundle): number | undefined {
    try {
      return this.verifyMessage(msg).version;
    } catch {
      return undefined;
    }
  }

  /** Version of the newest verified bundle held (applied or not); 0 when none. */
  heldVersion(): number {
    return Math.max(this.newest?.bundle.version ?? 0, this.desired?.bundle.version ?? 0, this.applied?.bundle.version ?? 0);
  }

  /**
   * For /readyz, so monitoring sees a failing node: not ready while the node is `failed`
   * for the version it should run, or waits for an admitted bundle it does not hold
   * (readinessOf in enforcer-status.ts says exactly when). `detail` gives the reason.
   */
  readiness(): { ok: boolean; detail: string } {
    return readinessOf({ desired: this.desired?.bundle, applied: this.applied?.bundle, problem: this.problem, waiting: this.fetcher.waiting });
  }

  /** Resolves when the loop has nothing to do right now (for tests and orderly shutdown). */
  whenIdle(): Promise<void> {
    if ((this.idle && !this.pending && !this.admissions.pending && !this.reconcileNeeded) || this.stopping) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const now = Date.now();
        this.idle = false;
        if (this.admissions.pending) await this.takeAdmission();
        else if (this.pending) await this.takePending();
        else if (this.reconcileNeeded) await this.reconcile('admission');
        else if (this.retryAt !== undefined && now >= this.retryAt) await this.retry();
        else if (this.driftAt !== undefined && now >= this.driftAt) await this.checkDrift();
        else if (now >= this.fetcher.dueAt) this.fetcher.start(() => this.wakeForWork());
        else await this.sleepUntilWork();
      } catch (err) {
        // Every step handles its own failures; reaching here is a bug. Keep enforcing.
        this.log.error({ err }, 'enforcer loop step failed unexpectedly');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  private sleepUntilWork(): Promise<void> {
    this.idle = true;
    for (const w of this.idleWaiters.splice(0)) w();
    const due = Math.min(this.retryAt ?? Infinity, this.driftAt ?? Infinity, this.fetcher.dueAt);
    return new Promise((resolve) => {
      const timer = Number.isFinite(due) ? setTimeout(() => done(), Math.max(0, due - Date.now())) : undefined;
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
    });
  }

  private wake(): void {
    this.wakeUp?.();
  }

  /** Work arrived from outside the loop (a fetch ended): run the loop again. */
  private wakeForWork(): void {
    this.idle = false;
    this.wake();
  }

  private verify(data: Uint8Array): Bundle {
    const bundle = decodeBundle(data, { trustedKeys: this.o.trustedKeys, maxBytes: this.o.maxBundleBytes });
    if (bundle.cluster !== this.o.cluster) throw new WrongClusterError(bundle.cluster, this.o.cluster);
    return bundle;
  }

  /** `verify`, plus the unsigned header version (when present) must be the body's. */
  private verifyMessage(msg: IncomingBundle): Bundle {
    const bundle = this.verify(msg.data);
    if (msg.version !== 0 && msg.version !== bundle.version) throw new HeaderMismatchError(msg.version, bundle.version);
    return bundle;
  }

  private async restore(): Promise<RestoreOutcome> {
    const path = this.o.store.path;
    // Nothing is applied yet, so nothing to vouch for: this is the `before` of the first
    // apply, which then needs no verification when its commit is the only one since.
    this.knownGeneration = await this.readGeneration();
    let bytes: Uint8Array | undefined;
    try {
      bytes = await this.o.store.load();
    } catch (err) {
      this.fail({ kind: 'restore', code: failureCode(err), message: failureMessage(err), version: 0 });
      this.log.error({ err, path }, 'saved bundle unreadable: nothing enforced until a bundle arrives');
      return { type: 'refused', code: failureCode(err), message: failureMessage(err) };
    }
    if (!bytes) {
      this.log.info({ path }, 'no saved bundle: nothing to enforce until the first bundle arrives');
      return { type: 'none' };
    }
    let bundle: Bundle;
    try {
      bundle = this.verify(bytes);
    } catch (err) {
      const code = failureCode(err);
      this.o.metrics.rejections.inc({ code });
      this.fail({ kind: 'restore', code, message: `saved bundle refused: ${failureMessage(err)}`, version: 0 });
      this.log.error({ err, code, path }, 'saved bundle refused (tampered, or signed by a key no longer trusted): not applied');
      return { type: 'refused', code, message: failureMessage(err) };
    }
    const held = { bundle, bytes: canonicalBytes(bundle) };
    this.desired = held;
    this.newest = held;
    this.cache.put(held);
    this.savedDigest = bundle.digest;
    const log = this.log.child({ version: bundle.version, digest: bundle.digest });
    try {
      // The process restarted but the node did not: the table is already right, keep it as is.
      if ((await this.o.nft.readMarker()) === tableComment(bundle)) {
        // Only the marker was read: knownGeneration stays unknown, so the first drift check verifies the rest.
        this.enforce(held, 0, 'full');
        this.o.health?.applied(this.healthContext());
        log.info({ path }, 'saved bundle already in force');
        this.changed();
        return { type: 'adopted', version: bundle.version };
      }
    } catch {
      // Unreadable table or unrenderable bundle: the apply below reports it properly.
    }
    const ok = await this.apply(held, 'restore');
    if (ok) return { type: 'applied', version: bundle.version };
    return { type: 'failed', version: bundle.version, code: this.problem?.code ?? 'INTERNAL', message: this.problem?.message ?? '' };
  }

  private async takePending(): Promise<void> {
    const msg = this.pending!;
    this.pending = undefined;
    let bundle: Bundle;
    try {
      bundle = this.verifyMessage(msg);
    } catch (err) {
      this.ignoreUnverified(msg, err);
      return;
    }
    if (this.target().type !== 'newest') {
      await this.holdStaged(bundle);
      return;
    }
    const current = this.newest ?? this.desired ?? this.applied;
    if (current && bundle.digest === current.bundle.digest) {
      // A resync or reconnect re-delivers the latest bundle: nothing new.
      this.o.metrics.bundlesSkipped.inc({ reason: 'current' });
      return;
    }
    if (current && bundle.version <= current.bundle.version) {
      this.o.metrics.bundlesSkipped.inc({ reason: 'older' });
      this.refuse(msg, new StaleBundleError(bundle.version, current.bundle.version), bundle.version);
      return;
    }
    this.desired = { bundle, bytes: canonicalBytes(bundle) };
    this.newest = this.desired;
    this.cache.put(this.desired);
    this.pruneCache();
    this.retryAt = undefined;
    this.retryAttempts = 0;
    await this.apply(this.desired, 'bundle');
  }

  /**
   * Notes a message that did not verify. Not a NACK of any version: its header version is
   * unsigned (anyone who may publish can claim v9e12), so counting it as a failure would let
   * one junk message fail every node and the rollout gate. The problem in force (if any)
   * and the table are left alone.
   */
  private ignoreUnverified(msg: IncomingBundle, err: unknown): void {
    const key = `${msg.seq}:${createHash('sha256').update(msg.data).digest('hex')}`;
    if (key === this.lastRefused) return; // the same stream message again (resync): already reported
    this.lastRefused = key;
    const code = failureCode(err);
    this.o.metrics.rejections.inc({ code });
    this.unverified = { code, message: failureMessage(err), seq: msg.seq, headerVersion: msg.version, at: new Date().toISOString() };
    this.log.warn({ err, code, seq: msg.seq, headerVersion: msg.version, bytes: msg.data.length, inForce: this.applied?.bundle.version ?? 0 }, 'message refused: not a genuine bundle (ignored; the node keeps its state)');
  }

  /** Reports a verified bundle that will not be applied (a NACK); the table is not touched. */
  private refuse(msg: IncomingBundle, err: unknown, version: number): void {
    const key = `${msg.seq}:${createHash('sha256').update(msg.data).digest('hex')}`;
    if (key === this.lastRefused) return; // the same stream message again (resync): already reported
    this.lastRefused = key;
    const code = failureCode(err);
    this.o.metrics.rejections.inc({ code });
    this.fail({ kind: 'rejected', code, message: failureMessage(err), version });
    this.log.warn({ err, code, seq: msg.seq, version, bytes: msg.data.length }, 'bundle refused: previous rules stay in force');
  }

  /**
   * Writes `held` into the table (a delta when the live table is exactly the one applied
   * and the rule shape is the same, else the whole-table swap), verifies the version
   * marker, reports it applied, then saves it. On failure the previous table stays, the
   * failure is reported and a retry is scheduled. True when applied.
   */
  private async apply(held: Held, reason: 'bundle' | 'restore' | 'retry' | 'admission'): Promise<boolean> {
    const { bundle } = held;
    const log = this.log.child({ version: bundle.version, digest: bundle.digest });
    const t0 = performance.now();
    let before = this.knownGeneration;
    let mode: ApplyMode = 'full';
    let marker: string;
    try {
      marker = tableComment(bundle);
      const delta = await this.deltaFromApplied(bundle);
      if (delta !== undefined) {
        try {
          await this.transact(delta, marker);
          mode = 'delta';
        } catch (err) {
          // The kernel refused the delta as a whole (e.g. the marker is not the version it was
          // computed from): nothing changed, so the whole-table swap below is still safe.
          this.o.metrics.deltaFallbacks.inc();
          log.warn({ err, code: failureCode(err) }, 'delta apply refused: swapping the whole table instead');
        }
      }
      if (mode === 'full') {
        // Whatever committed before this swap is replaced by it: the generation just before is
        // the right `before`, so the next check is cheap when only this commit came after it.
        before = await this.readGeneration();
        await this.transact(renderTransaction(bundle, this.o.nodeName), marker);
      }
    } catch (err) {
      // Usually nothing was committed, but a timed-out nft may have: verify at the next check.
      this.knownGeneration = undefined;
      this.o.metrics.applies.inc({ result: 'failure' });
      this.o.metrics.applyFailures.inc({ code: failureCode(err) });
      this.fail({ kind: 'apply', code: failureCode(err), message: failureMessage(err), version: bundle.version });
      const retryInMs = this.scheduleRetry();
      log.error({ err, code: failureCode(err), reason, retryInMs, inForce: this.applied?.bundle.version ?? 0 }, 'apply failed: previous rules stay in force');
      return false;
    }
    const applyMs = Math.round((performance.now() - t0) * 10) / 10;
    this.o.metrics.applies.inc({ result: 'success' });
    this.o.metrics.appliesByMode.inc({ mode });
    this.o.metrics.applySeconds.observe(applyMs / 1_000);
    // Reported first, saved right after. Safe because the saved copy only matters after a
    // reboot or restart: a crash between the report and the save restores the previous
    // saved bundle (fail static, still a genuine signed bundle), and the stream, which
    // keeps the newest bundle, brings this one again at once — the node reported a version
    // that it re-applies within a reconnect. A save failure is still reported (`persist`).
    this.enforce(held, applyMs, mode);
    this.problem = undefined;
    this.retryAt = undefined;
    this.retryAttempts = 0;
    this.changed();
    log.info({ applyMs, mode, reason, admissionRevision: this.admissions.admission?.stateRevision ?? 0 }, 'bundle applied');
    const saveError = await this.trySave(held);
    if (saveError) {
      this.saveFailed(saveError, log);
      this.changed();
    }
    this.pruneCache();
    this.o.health?.applied(this.healthContext());
    // After the report, so the write → enforced latency does not pay for it.
    this.knownGeneration = await this.generationAfterOwnCommit(before);
    return true;
  }

  /**
   * The delta transaction from the applied bundle to `bundle`, or undefined when only the
   * whole-table swap will do: nothing applied, the live table not known to be exactly the
   * applied one (the generation moved since it was, or is unknown), or a rule-shape change.
   */
  private async deltaFromApplied(bundle: Bundle): Promise<string | undefined> {
    const a = this.applied;
    if (!a || this.knownGeneration === undefined) return undefined;
    const delta = renderDelta(a.bundle, bundle, this.o.nodeName);
    if (delta === undefined) return undefined;
    const generation = await this.readGeneration();
    return generation !== undefined && generation === this.knownGeneration ? delta : undefined;
  }

  private enforce(held: Held, applyMs: number, mode: ApplyMode): void {
    const now = new Date();
    this.applied = { ...held, marker: tableComment(held.bundle), appliedAt: now.toISOString(), applyMs, mode };
    this.knownGeneration = undefined;
    this.o.metrics.appliedVersion.set(held.bundle.version);
    this.o.metrics.markApplied(now.getTime());
    this.driftAt = Date.now() + this.o.driftIntervalMs;
  }

  /** The ruleset generation, or undefined when it cannot be read (logged once per outage). */
  private async readGeneration(): Promise<number | undefined> {
    try {
      const generation = await this.o.nft.generation();
      if (this.generationFailing) this.log.info({ generation }, 'ruleset generation readable again: drift checks are cheap again');
      this.generationFailing = false;
      return generation;
    } catch (err) {
      if (!this.generationFailing) {
        this.log.warn({ err, code: failureCode(err) }, 'cannot read the ruleset generation: every drift check lists the whole table until it can');
      }
      this.generationFailing = true;
      return undefined;
    }
  }

  /**
   * The generation to trust after our own commit (an apply or a repair), which the kernel
   * numbered `before + 1`, or undefined when anything else may also have committed since
   * `before` (or `before` was not known): we cannot tell whether that came before our
   * commit (harmless for a whole-table swap, not for a delta) or after it, so the next
   * check verifies.
   */
  private async generationAfterOwnCommit(before: number | undefined): Promise<number | undefined> {
    const after = await this.readGeneration();
    return before !== undefined && after === nextGeneration(before) ? after : undefined;
  }

  /**
   * One nft transaction, then the read-back of the version marker alone (cheap at any table
   * size; it is written in the same transaction, so it reads back exactly when the whole
   * transaction committed). A timed-out nft may have committed: the marker decides.
   */
  private async transact(transaction: string, marker: string): Promise<void> {
    try {
      await this.o.nft.applyTransaction(transaction);
    } catch (err) {
      if (!isNftTimeoutError(err)) throw err;
      const live = await this.o.nft.readMarker().catch(() => undefined);
      if (live !== marker) throw err;
      return;
    }
    const live = await this.o.nft.readMarker();
    if (live !== marker) throw new ReadBackError([markerDifference(marker, live)]);
  }

  /** Saves `held` unless it is the bundle on disk already; returns the error instead of throwing. */
  private async trySave(held: Held): Promise<unknown> {
    if (this.savedDigest === held.bundle.digest) return undefined;
    try {
      await this.o.store.save(held.bytes);
      this.savedDigest = held.bundle.digest;
      return undefined;
    } catch (err) {
      return err;
    }
  }

  private saveFailed(err: unknown, log: Logger): void {
    this.problem = { kind: 'persist', code: failureCode(err), message: failureMessage(err), version: this.applied?.bundle.version ?? 0 };
    const retryInMs = this.scheduleRetry();
    log.error({ err, retryInMs }, 'bundle applied but not saved: a reboot now would enforce the previous saved bundle');
  }

  private async retry(): Promise<void> {
    this.retryAt = undefined;
    const d = this.desired;
    if (d && d.bundle.digest !== this.applied?.bundle.digest) {
      await this.apply(d, 'retry');
      return;
    }
    const a = this.applied;
    if (a && this.problem?.kind === 'persist') {
      const err = await this.trySave(a);
      if (err) this.saveFailed(err, this.log.child({ version: a.bundle.version, digest: a.bundle.digest }));
      else {
        this.problem = undefined;
        this.retryAttempts = 0;
        this.log.info({ version: a.bundle.version }, 'bundle saved after all');
      }
      this.changed();
    }
  }

  private scheduleRetry(): number {
    this.retryAttempts++;
    const delay = this.o.retryIntervalMs * Math.min(2 ** (this.retryAttempts - 1), MAX_RETRY_FACTOR);
    this.retryAt = Date.now() + delay;
    return delay;
  }

  /**
   * Restores the applied bundle when someone changed or deleted its table. Cheap when the
   * ruleset generation has not moved since the table was known good. Otherwise the version
   * marker is read first (cheap): a table deleted or replaced is swapped back at once;
   * with the marker intact, the table is listed with its set elements and compared, and a
   * difference in set elements alone is repaired by a delta (the elements missing added,
   * the unexpected deleted), anything else by the whole-table swap.
   */
  private async checkDrift(): Promise<void> {
    const a = this.applied;
    if (!a) {
      this.driftAt = undefined;
      return;
    }
    const t0 = performance.now();
    // Read before the listing: a commit after this read moves the generation again, so the
    // generation stored below can only be older than the table it vouches for, never newer.
    const generation = await this.readGeneration();
    if (generation !== undefined && generation === this.knownGeneration) {
      this.o.metrics.driftChecks.inc({ result: 'ok' });
      this.o.metrics.driftCheckSeconds.observe((performance.now() - t0) / 1_000);
      this.driftAt = Date.now() + this.o.driftIntervalMs;
      return;
    }
    this.log.debug({ generation, knownGeneration: this.knownGeneration }, 'ruleset generation moved: verifying the table');
    let differences: TableDifference[];
    /** The element-only repair ('' = nothing differs), or undefined when only a whole-table swap will do. */
    let repairText: string | undefined;
    try {
      const marker = await this.o.nft.readMarker();
      if (marker !== a.marker) {
        differences = [marker === undefined && (await this.o.nft.readTable()) === undefined ? { type: 'table-missing', message: 'table inet natfleet does not exist' } : markerDifference(a.marker, marker)];
      } else {
        const live = await this.o.nft.readTableContents();
        // renderRepair compares by value against the plan it already holds (cheaper than
        // compareTableState at 100k elements); the full comparison only names what differs
        // when the shape itself changed.
        repairText = live ? renderRepair(live, a.bundle, this.o.nodeName) : undefined;
        if (repairText === '') differences = [];
        else if (repairText !== undefined) differences = [{ type: 'elements', name: '*', missing: 0, unexpected: 0, message: `set elements differ: ${repairText.split('\n').length - 3} add/delete element commands put them right` }];
        else {
          a.contents ??= expectedTableContents(a.bundle, this.o.nodeName);
          differences = compareTableState(a.contents, live);
        }
      }
    } catch (err) {
      this.o.metrics.driftChecks.inc({ result: 'error' });
      this.driftAt = Date.now() + this.o.driftIntervalMs;
      this.log.warn({ err, code: failureCode(err) }, 'drift check: cannot read the table');
      return;
    }
    const readMs = performance.now() - t0;
    this.o.metrics.driftCheckSeconds.observe(readMs / 1_000);
    // Stretched only after a verification that found the table intact: the generation moved
    // for someone else's table, which may go on all the time. After a repair the next check
    // comes at the usual interval, so a second change soon after is caught as quickly.
    this.driftAt = Date.now() + (differences.length === 0 ? Math.max(this.o.driftIntervalMs, DRIFT_DUTY_FACTOR * readMs) : this.o.driftIntervalMs);
    if (differences.length === 0) {
      this.knownGeneration = generation;
      this.o.metrics.driftChecks.inc({ result: 'ok' });
      if (this.problem?.kind === 'drift') {
        this.problem = undefined; // someone else put it back
        this.changed();
      }
      return;
    }
    this.o.metrics.driftChecks.inc({ result: 'drift' });
    const log = this.log.child({ version: a.bundle.version, digest: a.bundle.digest });
    log.warn({ differences: differences.map((d) => d.message) }, 'natfleet table changed by someone else: restoring it');
    const t1 = performance.now();
    let repair: ApplyMode = 'full';
    try {
      if (repairText) {
        try {
          await this.transact(repairText, a.marker);
          repair = 'delta';
        } catch (err) {
          log.warn({ err, code: failureCode(err) }, 'delta repair refused: swapping the whole table instead');
        }
      }
      if (repair === 'full') await this.transact(renderTransaction(a.bundle, this.o.nodeName), a.marker);
    } catch (err) {
      this.knownGeneration = undefined;
      this.fail({ kind: 'drift', code: failureCode(err), message: `restoring the table failed: ${failureMessage(err)}`, version: a.bundle.version });
      this.driftAt = Date.now() + this.o.driftIntervalMs;
      log.error({ err, code: failureCode(err) }, 'drift repair failed: retrying at the next check');
      return;
    }
    this.driftRepairs++;
    this.o.metrics.driftRepairs.inc();
    if (this.problem?.kind === 'drift') this.problem = undefined;
    this.driftAt = Date.now() + this.o.driftIntervalMs;
    log.info({ repairMs: Math.round(performance.now() - t1), detectMs: Math.round(t1 - t0), mode: repair, driftRepairs: this.driftRepairs }, 'natfleet table restored');
    this.changed();
    // A delta repair is only trusted when nothing else committed in between (as for an apply);
    // the next check verifies otherwise.
    this.knownGeneration = await this.generationAfterOwnCommit(generation);
  }

  /** What the admission in force asks of this node (`newest` without one). */
  private target(): AdmissionTarget {
    return admissionTarget(this.admissions.admission, this.o.nodeName);
  }

  /** Takes up a newer verified admission (saved first), then re-evaluates the target. */
  private async takeAdmission(): Promise<void> {
    const a = await this.admissions.take();
    if (!a) return;
    const t = this.target();
    this.log.info(
      { stateRevision: a.stateRevision, policy: a.policy, version: a.version, phase: a.phase, everyone: a.everyone, waves: a.waves.map((w) => w.name), stable: a.stable?.version ?? 0, target: t },
      'admission accepted',
    );
    await this.reconcile('admission');
    // The candidate phase may have ended (everyone admitted) with the same bundle in force.
    if (this.applied) this.o.health?.update(this.healthContext());
    this.changed();
  }

  /**
   * A verified bundle while a rollout is staged: held (cached) and, when it is what the
   * admission names for this node, applied; a bundle newer than the admitted one is held
   * but not applied until admitted.
   */
  private async holdStaged(bundle: Bundle): Promise<void> {
    if (this.cache.hasDigest(bundle.digest) || this.applied?.bundle.digest === bundle.digest) {
      this.o.metrics.bundlesSkipped.inc({ reason: 'current' });
      return;
    }
    const held = { bundle, bytes: canonicalBytes(bundle) };
    this.cache.put(held);
    if (!this.newest || bundle.version > this.newest.bundle.version) this.newest = held;
    const t = this.target();
    const isTarget = t.type === 'version' && t.version === bundle.version && t.digest === bundle.digest;
    if (!isTarget) {
      this.o.metrics.bundlesSkipped.inc({ reason: 'held' });
      this.log.info({ version: bundle.version, digest: bundle.digest, target: t, inForce: this.applied?.bundle.version ?? 0 }, 'bundle held, not applied: the rollout has not admitted it for this node');
    }
    this.pruneCache();
    await this.reconcile('bundle');
  }

  /**
   * Makes what is enforced follow the admission's target for this node: applies the target
   * when held and not in force (older included: a rollback), starts fetching it when not
   * held (the table stays), and clears the failure of another version once the node runs
   * what it must (e.g. the failed candidate after a rollback).
   */
  private async reconcile(reason: 'admission' | 'bundle'): Promise<void> {
    this.reconcileNeeded = false;
    const t = this.target();
    let want: Held | undefined;
    if (t.type === 'newest') want = this.newest ?? this.applied;
    else if (t.type === 'keep') want = this.applied;
    else {
      want = this.cache.find(t.version, t.digest) ?? (this.applied?.bundle.digest === t.digest ? this.applied : undefined);
      if (!want) {
        this.awaitTarget(t.version, t.digest);
        return;
      }
    }
    if (this.fetcher.clear()) this.changed();
    const before = this.desired;
    this.desired = want;
    if (!want) return;
    if (this.applied?.bundle.digest === want.bundle.digest) {
      const p = this.problem;
      if (t.type === 'version' && p && (p.kind === 'apply' || p.kind === 'rejected') && p.version !== want.bundle.version) {
        this.log.info({ failedVersion: p.version, code: p.code, version: want.bundle.version }, 'the admission moved back to the bundle in force: the failure of the other version is cleared');
        this.problem = undefined;
        this.retryAt = undefined;
        this.retryAttempts = 0;
        this.changed();
      }
      return;
    }
    // Its apply already failed and a retry is scheduled: leave the back-off alone (a held bundle arriving is no reason to hammer nft).
    if (before?.bundle.digest === want.bundle.digest && this.retryAt !== undefined && this.problem?.kind === 'apply' && this.problem.version === want.bundle.version) return;
    this.retryAt = undefined;
    this.retryAttempts = 0;
    if (t.type === 'version' && this.applied && want.bundle.version < this.applied.bundle.version) {
      this.log.warn({ version: want.bundle.version, inForce: this.applied.bundle.version, stateRevision: this.admissions.admission?.stateRevision }, 'rolling back: the admission names an older bundle for this node');
    }
    await this.apply(want, reason === 'admission' ? 'admission' : 'bundle');
  }

  /** The target is not held: keep the table, report the wait, fetch it (at once, then with back-off). */
  private awaitTarget(version: number, digest: string): void {
    this.desired = undefined;
    if (this.fetcher.await(version, digest, this.applied?.bundle.version ?? 0)) this.changed();
  }

  /** A fetched bundle that is the awaited target: held, and the loop applies it. */
  private fetched(bundle: Bundle): void {
    const held = { bundle, bytes: canonicalBytes(bundle) };
    this.cache.put(held);
    if (!this.newest || bundle.version > this.newest.bundle.version) this.newest = held;
    this.reconcileNeeded = true;
  }

  /** Keeps applied, desired, newest, and the admission's candidate and stable. */
  private pruneCache(): void {
    const a = this.admissions.admission;
    this.cache.prune([this.applied?.bundle.digest, this.desired?.bundle.digest, this.newest?.bundle.digest, a?.digest, a?.stable?.digest]);
  }

  /** What the health checks need to know about the bundle in force under the admission. */
  private healthContext(): HealthContext {
    return healthContextOf(this.applied?.bundle, this.admissions.admission, this.target());
  }

  private fail(problem: Problem): void {
    this.problem = problem;
    this.changed();
  }

  private changed(): void {
    if (!this.o.onChange) return;
    try {
      this.o.onChange(this.status());
    } catch (err) {
      this.log.error({ err }, 'status listener failed');
    }
  }
}

/** The read-back difference when the version marker is not the expected one. */
function markerDifference(expected: string, actual: string | undefined): TableDifference {
  return { type: 'comment', expected, actual, message: `version marker is ${actual === undefined ? 'absent' : JSON.stringify(actual)}, expected ${JSON.stringify(expected)}` };
}

/** The bytes saved for a verified bundle: its canonical JSON, uncompressed (readable with jq). */
function canonicalBytes(bundle: Bundle): Uint8Array {
  return encodeBundle(bundle, { compressAbove: Number.POSITIVE_INFINITY });
}
