/**
 * The enforcer's view of itself as plain data: what is in force, what went wrong last,
 * and how the fail-static start went. Turned into the NATS node status by the reporter.
 */
import type { Bundle } from '@natfleet/bundle';
import type { NodeHealth, NodeState } from '@natfleet/bus';

/**
 * The last thing that went wrong and is not yet resolved, tagged by what failed:
 * `rejected` — a verified bundle refused before apply (stale version);
 * `apply` — nft or the read-back failed for the newest bundle;
 * `persist` — applied, but the fail-static copy could not be saved;
 * `drift` — the table was changed by someone else and could not be restored;
 * `restore` — the saved bundle was unreadable or refused at start.
 */
export interface Problem {
  kind: 'rejected' | 'apply' | 'persist' | 'drift' | 'restore';
  code: string;
  message: string;
  /** Version of the (verified) bundle concerned; 0 when unknown. A message that does not verify is never a Problem. */
  version: number;
}

/**
 * A message refused because it did not verify (MALFORMED, BAD_DIGEST, BAD_SIGNATURE,
 * UNKNOWN_KEY, WRONG_CLUSTER, HEADER_MISMATCH, ...): not a genuine bundle, so not a
 * failure of any version. Kept for /status and logs only.
 */
export interface UnverifiedRefusal {
  code: string;
  message: string;
  /** Stream sequence of the message. */
  seq: number;
  /** What its unsigned header claimed (0 when absent): never trusted. */
  headerVersion: number;
  at: string;
}

/** The enforcer's part of the node status (the reporter adds node, labels, addresses, heartbeat). */
export interface EnforcerStatus {
  /** `failed` while a problem is unresolved, else `applied` once a bundle is in force, else `pending`. */
  state: NodeState;
  appliedVersion: number;
  appliedDigest: string;
  appliedAt: string;
  applyMs: number;
  error: string;
  errorCode: string;
  failedVersion: number;
  driftRepairs: number;
  /** What should be in force (newest verified bundle, or the admitted target); 0 when none. */
  desiredVersion: number;
  /** stateRevision of the admission acted on; 0 = none. */
  admissionRevision: number;
  /** Post-apply health of the applied version; undefined when no health monitor runs. */
  health?: NodeHealth;
}

/**
 * The admission's target for this node is a bundle it does not hold: the table stays,
 * the node is `pending` (not failed: a NACK needs a verified bundle that would not apply)
 * and not ready until it holds the bundle.
 */
export interface TargetWait {
  code: 'TARGET_UNAVAILABLE';
  version: number;
  digest: string;
  message: string;
  since: string;
}

/** The admission in force and what it means for this node (for /status). */
export interface AdmissionView {
  stateRevision: number;
  policy: string;
  /** The candidate. */
  version: number;
  phase: string;
  everyone: boolean;
  /** Names of the admitted waves. */
  waves: string[];
  /** Stable version (0 = none). */
  stable: number;
  /** This node runs the candidate (always true without a policy). */
  admitted: boolean;
  /** `newest`, `keep` or `v<N>[ (candidate)]`. */
  target: string;
  /** Versions of the verified bundles held. */
  heldVersions: number[];
}

/** How the fail-static start went, tagged by `type`. */
export type RestoreOutcome =
  | { type: 'none' } // nothing saved (first start, or after uninstall)
  | { type: 'adopted'; version: number } // the live table already matched the saved bundle
  | { type: 'applied'; version: number } // the saved bundle was applied
  | { type: 'refused'; code: string; message: string } // unreadable, tampered or untrusted: not applied
  | { type: 'failed'; version: number; code: string; message: string }; // verified but nft failed: retried

/** Builds the status from the core's state. Pure. */
export function statusOf(
  applied: { bundle: Pick<Bundle, 'version' | 'digest'>; appliedAt: string; applyMs: number } | undefined,
  problem: Problem | undefined,
  driftRepairs: number,
  desiredVersion: number,
  extra: { admissionRevision?: number; waiting?: TargetWait | undefined; health?: NodeHealth | undefined } = {},
): EnforcerStatus {
  const w = problem ? undefined : extra.waiting;
  if (w) {
    return {
      state: 'pending',
      appliedVersion: applied?.bundle.version ?? 0,
      appliedDigest: applied?.bundle.digest ?? '',
      appliedAt: applied?.appliedAt ?? '',
      applyMs: applied?.applyMs ?? 0,
      error: w.message,
      errorCode: w.code,
      failedVersion: 0,
      driftRepairs,
      desiredVersion,
      admissionRevision: extra.admissionRevision ?? 0,
      ...(extra.health ? { health: extra.health } : {}),
    };
  }
  return {
    admissionRevision: extra.admissionRevision ?? 0,
    ...(extra.health ? { health: extra.health } : {}),
    state: problem ? 'failed' : applied ? 'applied' : 'pending',
    appliedVersion: applied?.bundle.version ?? 0,
    appliedDigest: applied?.bundle.digest ?? '',
    appliedAt: applied?.appliedAt ?? '',
    applyMs: applied?.applyMs ?? 0,
    error: problem?.message ?? '',
    errorCode: problem?.code ?? '',
    failedVersion: problem?.version ?? 0,
    driftRepairs,
    desiredVersion,
  };
}
