/**
 * The admission this node acts on (staged rollouts, DESIGN.md §10): verifies admission
 * messages (signature with the trusted keys, this cluster), keeps the one with the highest
 * stateRevision, saves it in the state dir next to the bundle (atomic, like the bundle) and
 * restores it at start, verified again, so a restart neither forgets it nor accepts a
 * replay of an older one.
 *
 * A message that does not verify is never acted on and never a failure of the node: it is
 * noted (`lastUnverified`, for /status), counted and logged. Owns no nft access and makes
 * no decision about which bundle runs (that is admissionTarget, applied by the core).
 */
import { createHash } from 'node:crypto';
import { decodeAdmission, encodeAdmission, type Admission, type TrustedKeys } from '@natfleet/bundle';
import type { Logger } from '@natfleet/service-kit';
import { AdmissionClusterError, failureCode, failureMessage } from './errors.js';
import type { EnforcerMetrics } from './metrics.js';
import type { BundleStore } from './state-store.js';

/** An admission message refused because it did not verify: a note for /status, never a failure. */
export interface UnverifiedAdmission {
  code: string;
  message: string;
  /** What its unsigned body claimed, when it parsed at all (never trusted). */
  claimedStateRevision: number;
  at: string;
}

export interface AdmissionStateOptions {
  cluster: string;
  trustedKeys: TrustedKeys;
  /** Where the newest verified admission is saved (a BundleStore on ADMISSION_FILE). */
  store: BundleStore;
  logger: Logger;
  metrics: EnforcerMetrics;
}

export class AdmissionState {
  private current: Admission | undefined;
  /** Verified and newer than `current`, not yet taken up by the core (persisted then). */
  private next: Admission | undefined;
  private unverified: UnverifiedAdmission | undefined;
  /** sha256 of the last refused message, so a re-delivery (latest after a reconnect, polls) is not reported again. */
  private lastRefused = '';

  constructor(private readonly o: AdmissionStateOptions) {}

  /** The admission in force (highest stateRevision taken up); undefined when none. */
  get admission(): Admission | undefined {
    return this.current;
  }

  /** The last admission message that did not verify; undefined when none. */
  lastUnverified(): UnverifiedAdmission | undefined {
    return this.unverified;
  }

  /**
   * Verifies `bytes`. True when it is a genuine admission of this cluster with a higher
   * stateRevision than any seen (then `take()` returns it). A lower or equal one is
   * ignored (counted), one that does not verify is refused (noted, counted, logged).
   * Never throws.
   */
  offer(bytes: Uint8Array): boolean {
    let a: Admission;
    try {
      a = this.verify(bytes);
    } catch (err) {
      this.refused(bytes, err);
      return false;
    }
    const best = this.next ?? this.current;
    if (best && a.stateRevision <= best.stateRevision) {
      this.o.metrics.admissions.inc({ result: 'ignored' });
      if (a.stateRevision < best.stateRevision) this.o.logger.info({ stateRevision: a.stateRevision, inForce: best.stateRevision }, 'admission older than the one in force ignored (a replay)');
      return false;
    }
    this.o.metrics.admissions.inc({ result: 'accepted' });
    this.next = a;
    return true;
  }

  /** True when `bytes` is a genuine admission of this cluster (no state is touched). */
  isGenuine(bytes: Uint8Array): boolean {
    try {
      this.verify(bytes);
      return true;
    } catch {
      return false;
    }
  }

  private saving: Promise<void> = Promise.resolve();

  /** The pending newer admission, if any, without taking it. */
  get pending(): Admission | undefined {
    return this.next;
  }

  /**
   * Makes the pending admission the one in force and saves it (a failed save is logged:
   * the node still acts on it; after a restart it would act on the older saved one until
   * the feed re-reads the latest). Undefined when nothing is pending.
   */
  async take(): Promise<Admission | undefined> {
    const a = this.next;
    if (!a) return undefined;
    this.next = undefined;
    if (this.current && a.stateRevision <= this.current.stateRevision) return undefined;
    const before = this.current;
    this.current = a;
    this.o.metrics.admissionRevision.set(a.stateRevision);
    const bytes = encodeAdmission(a);
    // Saves run one after another, in order, so the file only ever moves forward.
    const saved = (this.saving = this.saving.then(async () => {
      try {
        await this.o.store.save(bytes);
      } catch (err) {
        this.o.logger.error({ err, path: this.o.store.path, stateRevision: a.stateRevision }, 'admission not saved: a restart would act on the previously saved one until the latest is read again');
      }
    }));
    // A staged admission (or the one ending a staged rollout) is on disk before it is acted
    // on: after a crash the node must not fall back to "apply the newest". A policy-less one
    // following another changes nothing the node does: saved behind, so the fsync never
    // delays the next bundle (one follows every bundle when no RolloutPolicy exists).
    if (a.policy !== '' || (before !== undefined && before.policy !== '') || before === undefined) await saved;
    return a;
  }

  /** Resolves once every save started so far finished (for an orderly stop and tests). */
  settled(): Promise<void> {
    return this.saving;
  }

  /**
   * Restores the saved admission, verified again. A missing file is no admission; an
   * unreadable, tampered or untrusted one is logged and ignored (the feed re-reads the
   * latest). Returns the restored admission.
   */
  async restore(): Promise<Admission | undefined> {
    let bytes: Uint8Array | undefined;
    try {
      bytes = await this.o.store.load();
    } catch (err) {
      this.o.logger.error({ err, path: this.o.store.path }, 'saved admission unreadable: ignored');
      return undefined;
    }
    if (!bytes) return undefined;
    try {
      const a = this.verify(bytes);
      this.current = a;
      this.o.metrics.admissions.inc({ result: 'restored' });
      this.o.metrics.admissionRevision.set(a.stateRevision);
      this.o.logger.info({ stateRevision: a.stateRevision, policy: a.policy, version: a.version, phase: a.phase }, 'saved admission restored');
      return a;
    } catch (err) {
      this.o.metrics.rejections.inc({ code: failureCode(err) });
      this.o.logger.error({ err, code: failureCode(err), path: this.o.store.path }, 'saved admission refused (tampered, or signed by a key no longer trusted): ignored');
      return undefined;
    }
  }

  private verify(bytes: Uint8Array): Admission {
    const a = decodeAdmission(bytes, { trustedKeys: this.o.trustedKeys });
    if (a.cluster !== this.o.cluster) throw new AdmissionClusterError(a.cluster, this.o.cluster);
    return a;
  }

  private refused(bytes: Uint8Array, err: unknown): void {
    const key = createHash('sha256').update(bytes).digest('hex');
    if (key === this.lastRefused) return;
    this.lastRefused = key;
    const code = failureCode(err);
    this.o.metrics.admissions.inc({ result: 'refused' });
    this.o.metrics.rejections.inc({ code });
    this.unverified = { code, message: failureMessage(err), claimedStateRevision: claimedRevision(bytes), at: new Date().toISOString() };
    this.o.logger.warn({ err, code, bytes: bytes.length, claimedStateRevision: this.unverified.claimedStateRevision }, 'admission refused: not a genuine admission of this cluster (ignored; the node keeps its state)');
  }
}

/** The unsigned stateRevision a message claims (0 when it has none), for the note only. */
function claimedRevision(bytes: Uint8Array): number {
  try {
    const v = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { stateRevision?: unknown }).stateRevision;
    return typeof v === 'number' && Number.isSafeInteger(v) ? v : 0;
  } catch {
    return 0;
  }
}
