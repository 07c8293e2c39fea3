/**
 * The enforcer's view of itself as plain data: what is in force, what went wrong last,
 * and how the fail-static start went. Turned into the NATS node status by the reporter.
 */
import type { Admission, AdmissionTarget, Bundle } from '@natfleet/bundle';
import type { NodeHealth, NodeState } from '@natfleet/bus';
import type { HealthContext } from './health-checks.js';

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

/**
 * Readiness of the core, pure. Not ready while the node is `failed` for the version it
 * should run — the desired bundle is not in force (its apply failed, or it was not applied
 * yet), it is in force but not saved, the table could not be restored after drift, the
 * saved bundle was refused at start, or a bundle was refused whose version is the desired
 * one or newer (only verified bundles are refused that way: a message that does not verify
 * never makes the node unready) — or while it waits for an admitted bundle it does not
 * hold (TARGET_UNAVAILABLE). A refused message older than the desired version (a replay:
 * STALE_VERSION) leaves the node ready: what it should enforce, it does. Ready with no
 * bundle at all yet. `detail` gives the version, code and reason.
 */
export function readinessOf(s: {
  desired: Pick<Bundle, 'version' | 'digest'> | undefined;
  applied: Pick<Bundle, 'version' | 'digest'> | undefined;
  problem: Problem | undefined;
  waiting: TargetWait | undefined;
}): { ok: boolean; detail: string } {
  const { desired: d, applied: a, problem: p, waiting: w } = s;
  const inForce = a ? `v${a.version} stays in force` : 'nothing enforced';
  if (w && !p) return { ok: false, detail: `${w.code}: ${w.message}; ${inForce}` };
  switch (p?.kind) {
    case 'drift':
      return { ok: false, detail: `table v${a?.version ?? 0} could not be restored: ${p.message}` };
    case 'persist':
      return { ok: false, detail: `v${p.version} applied but not saved for restarts (${p.code}): ${p.message}` };
    case 'restore':
      return { ok: false, detail: `${p.message} (${p.code}); ${inForce}` };
    case 'rejected':
      if (p.version >= (d?.version ?? 0)) return { ok: false, detail: `bundle v${p.version} refused (${p.code}): ${p.message}; ${inForce}` };
      break;
    default:
      break;
  }
  const refusedOlder = p?.kind === 'rejected' ? `; an older bundle v${p.version} was refused (${p.code})` : '';
  if (!d) return { ok: true, detail: `no bundle yet${refusedOlder}` };
  if (a && a.digest === d.digest) return { ok: true, detail: `v${a.version} applied${refusedOlder}` };
  return { ok: false, detail: `v${d.version} not applied${p?.kind === 'apply' ? `: ${p.message} (${p.code}); ${inForce}` : ' yet'}` };
}

/** The admission `a` and what target `t` means for this node, for /status; null without one. Pure. */
export function admissionViewOf(a: Admission | undefined, t: AdmissionTarget, heldVersions: number[]): AdmissionView | null {
  if (!a) return null;
  return {
    stateRevision: a.stateRevision,
    policy: a.policy,
    version: a.version,
    phase: a.phase,
    everyone: a.everyone,
    waves: a.waves.map((w) => w.name),
    stable: a.stable?.version ?? 0,
    admitted: a.policy === '' || (t.type === 'version' && t.version === a.version && t.digest === a.digest),
    target: t.type === 'version' ? `v${t.version}${t.candidate ? ' (candidate)' : ''}` : t.type,
    heldVersions,
  };
}

/**
 * What the health checks need about the bundle in force: it is the candidate when a staged
 * policy admits this node to the admission's version and that very bundle is applied (then
 * the policy's checks apply, and the watch goes on while not everyone is admitted). Pure.
 */
export function healthContextOf(applied: Pick<Bundle, 'version' | 'digest'> | undefined, a: Admission | undefined, t: AdmissionTarget): HealthContext {
  const candidate = !!a && !!applied && a.policy !== '' && t.type === 'version' && t.digest === a.digest && applied.digest === a.digest;
  return { version: applied?.version ?? 0, digest: applied?.digest ?? '', candidate, inProgress: candidate && a?.everyone === false, policy: candidate && a ? a.health : null };
}
