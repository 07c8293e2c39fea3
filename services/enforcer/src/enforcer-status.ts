/**
 * The enforcer's view of itself as plain data: what is in force, what went wrong last,
 * and how the fail-static start went. Turned into the NATS node status by the reporter.
 */
import type { Bundle } from '@natfleet/bundle';
import type { NodeState } from '@natfleet/bus';

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
  /** Newest verified bundle (what should be in force); 0 when none. */
  desiredVersion: number;
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
): EnforcerStatus {
  return {
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
