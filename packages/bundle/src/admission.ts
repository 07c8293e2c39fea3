/**
 * The admission (DESIGN.md §10): the rollout controller's signed statement "candidate
 * bundle V (digest D) may run on these nodes; every other node keeps the stable bundle S".
 * One message per change of the admitted set, on `natfleet.admission.<cluster>`. Enforcers
 * decide their own membership from it (is my name in an admitted wave, or is everyone
 * admitted?) — no per-node consumer, no per-node message.
 *
 * Signed like a bundle (sha256 over the canonical body, Ed25519 over the digest) with the
 * compiler's key, so a NATS user that may publish on the subject still cannot admit a
 * version: enforcers refuse what their trusted keys did not sign.
 *
 * `stateRevision` is the etcd mod revision of the rollout state the admission was made
 * from: it only grows (across leaders too, since every leader writes the state to the same
 * etcd key before publishing), so an enforcer keeps the admission with the highest one and
 * refuses a replayed older one.
 *
 * Pure apart from CPU: canonical JSON, never compressed (node names of the admitted waves
 * only; the last wave of a policy is sent as `rest`, so the largest list is a canary-sized
 * one, not the fleet).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { BundleError } from './errors.js';
import { signDigest, verifyDigest, type SigningKey, type TrustedKeys } from './signing.js';
import { BUNDLE_API_VERSION, type BundleSignature } from './types.js';

export const ADMISSION_KIND = 'Admission';

/** Largest admission accepted when decoding: NATS's default max_payload. */
export const MAX_ADMISSION_BYTES = 1024 * 1024;

/** A bundle named by version and digest. */
export interface AdmissionRef {
  version: number;
  digest: string;
}

/** One admitted wave: its node names (sorted), or `rest: true` = every node not named by an earlier wave. */
export interface AdmittedWaveRef {
  name: string;
  nodes: string[];
  rest: boolean;
}

/** A post-apply health check the policy asks for (run by enforcers that allow policy commands). */
export interface AdmissionHealthCommand {
  name: string;
  /** argv, run without a shell. */
  command: string[];
  timeoutMs: number;
}

/** The policy's post-apply health checks for admitted nodes; null when the policy sets none. */
export interface AdmissionHealth {
  commands: AdmissionHealthCommand[];
  /** Largest tolerated growth of /proc/net/stat/nf_conntrack counters since the apply; absent = not checked. */
  conntrack: { insertFailedDelta?: number; dropDelta?: number };
}

/** Rollout phase, as the controller's state says (informational for enforcers). */
export type AdmissionPhase = 'progressing' | 'paused' | 'halted' | 'rolled-back' | 'completed' | 'aborted';

export interface AdmissionBody {
  apiVersion: typeof BUNDLE_API_VERSION;
  kind: typeof ADMISSION_KIND;
  cluster: string;
  /** etcd mod revision of the rollout state this was made from; strictly increasing. */
  stateRevision: number;
  /**
   * Name of the RolloutPolicy in force, or '' when there is none: then enforcers apply
   * every new bundle at once, as without staged rollouts, and the rest of this admission
   * only records that the candidate runs everywhere.
   */
  policy: string;
  /** The candidate bundle. */
  version: number;
  digest: string;
  /** Every node, present and future, runs the candidate (rollout completed, or no policy). */
  everyone: boolean;
  /** The admitted waves, in order (empty after an abort or a rollback). */
  waves: AdmittedWaveRef[];
  /** What every node outside the admitted waves runs; null when no version ever completed (such nodes keep what they have). */
  stable: AdmissionRef | null;
  phase: AdmissionPhase;
  /** Post-apply health checks for admitted nodes; null = the enforcer's own only. */
  health: AdmissionHealth | null;
  /** ISO 8601. */
  issuedAt: string;
}

export interface Admission extends AdmissionBody {
  /** `sha256:<hex>` of the canonical JSON of the body (`sealDigest`, as `digest` names the candidate). */
  sealDigest: string;
  signature: BundleSignature;
}

const PHASES: readonly AdmissionPhase[] = ['progressing', 'paused', 'halted', 'rolled-back', 'completed', 'aborted'];

const bodyOf = (a: AdmissionBody): AdmissionBody => ({
  apiVersion: a.apiVersion,
  kind: a.kind,
  cluster: a.cluster,
  stateRevision: a.stateRevision,
  policy: a.policy,
  version: a.version,
  digest: a.digest,
  everyone: a.everyone,
  waves: a.waves.map((w) => ({ name: w.name, nodes: [...w.nodes], rest: w.rest })),
  stable: a.stable ? { version: a.stable.version, digest: a.stable.digest } : null,
  phase: a.phase,
  health: a.health
    ? {
        commands: a.health.commands.map((c) => ({ name: c.name, command: [...c.command], timeoutMs: c.timeoutMs })),
        conntrack: { ...a.health.conntrack },
      }
    : null,
  issuedAt: a.issuedAt,
});

const digestOf = (a: AdmissionBody): string => `sha256:${createHash('sha256').update(canonicalJson(bodyOf(a))).digest('hex')}`;
const digestBytes = (digest: string): Buffer => Buffer.from(digest.slice('sha256:'.length), 'hex');

/** Builds, digests and signs an admission; `issuedAt` defaults to now. */
export function sealAdmission(a: Omit<AdmissionBody, 'apiVersion' | 'kind' | 'issuedAt'>, key: SigningKey, issuedAt = new Date().toISOString()): Admission {
  const body = bodyOf({ ...a, apiVersion: BUNDLE_API_VERSION, kind: ADMISSION_KIND, issuedAt });
  const sealDigest = digestOf(body);
  return { ...body, sealDigest, signature: { keyId: key.keyId, sig: signDigest(key, digestBytes(sealDigest)) } };
}

/** Wire bytes: canonical JSON. */
export function encodeAdmission(a: Admission): Uint8Array {
  return Buffer.from(canonicalJson({ ...bodyOf(a), sealDigest: a.sealDigest, signature: a.signature }));
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStr = (v: unknown, max = 256): v is string => typeof v === 'string' && v.length <= max;
const isRef = (v: unknown): v is AdmissionRef => typeof v === 'object' && v !== null && isCount((v as AdmissionRef).version) && isStr((v as AdmissionRef).digest);

function shapeProblem(v: Record<string, unknown>): string | undefined {
  if (v.kind !== ADMISSION_KIND) return `kind must be ${ADMISSION_KIND}`;
  if (!isStr(v.cluster)) return 'cluster: must be a string';
  if (!isCount(v.stateRevision)) return 'stateRevision: must be a non-negative integer';
  if (!isStr(v.policy, 253)) return 'policy: must be a string';
  if (!isCount(v.version) || !isStr(v.digest)) return 'version, digest: must be an integer and a string';
  if (typeof v.everyone !== 'boolean') return 'everyone: must be a boolean';
  if (!Array.isArray(v.waves)) return 'waves: must be a list';
  for (const [i, w] of (v.waves as unknown[]).entries()) {
    const o = w as Record<string, unknown>;
    if (typeof o !== 'object' || o === null || !isStr(o.name) || typeof o.rest !== 'boolean' || !Array.isArray(o.nodes) || !o.nodes.every((n) => isStr(n, 253))) {
      return `waves[${i}]: must be {name, nodes: string[], rest: boolean}`;
    }
  }
  if (v.stable !== null && !isRef(v.stable)) return 'stable: must be null or {version, digest}';
  if (!PHASES.includes(v.phase as AdmissionPhase)) return `phase: must be one of ${PHASES.join(', ')}`;
  if (v.health !== null) {
    const h = v.health as Record<string, unknown>;
    if (typeof h !== 'object' || !Array.isArray(h.commands) || typeof h.conntrack !== 'object' || h.conntrack === null) return 'health: must be null or {commands, conntrack}';
    for (const [i, c] of (h.commands as unknown[]).entries()) {
      const o = c as Record<string, unknown>;
      if (typeof o !== 'object' || o === null || !isStr(o.name) || !isCount(o.timeoutMs) || !Array.isArray(o.command) || o.command.length === 0 || !o.command.every((x) => isStr(x, 4096))) {
        return `health.commands[${i}]: must be {name, command: string[], timeoutMs}`;
      }
    }
    const ct = h.conntrack as Record<string, unknown>;
    for (const k of Object.keys(ct)) if ((k !== 'insertFailedDelta' && k !== 'dropDelta') || !isCount(ct[k])) return `health.conntrack.${k}: unknown or not a non-negative integer`;
  }
  if (!isStr(v.issuedAt) || !isStr(v.sealDigest)) return 'issuedAt, sealDigest: must be strings';
  const s = v.signature as Record<string, unknown> | null;
  if (typeof s !== 'object' || s === null || !isStr(s.keyId) || !isStr(s.sig)) return 'signature: must be {keyId, sig}';
  return undefined;
}

/**
 * Parses and checks wire bytes: size, JSON, apiVersion, shape and digest, then — when
 * `trustedKeys` is given — the signature. Throws BundleError TOO_LARGE, MALFORMED,
 * UNSUPPORTED_API_VERSION, BAD_DIGEST, UNKNOWN_KEY or BAD_SIGNATURE. Without trusted keys
 * a well-formed forgery passes (display only); an empty key set rejects all.
 */
export function decodeAdmission(bytes: Uint8Array, { trustedKeys }: { trustedKeys?: TrustedKeys | undefined } = {}): Admission {
  if (bytes.length > MAX_ADMISSION_BYTES) throw new BundleError('TOO_LARGE', `admission is ${bytes.length} bytes, limit ${MAX_ADMISSION_BYTES}`);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
  } catch (err) {
    throw new BundleError('MALFORMED', 'admission is not valid JSON', { cause: err });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BundleError('MALFORMED', 'admission is not a JSON object');
  const o = v as Record<string, unknown>;
  if (o.apiVersion !== BUNDLE_API_VERSION) throw new BundleError('UNSUPPORTED_API_VERSION', `unsupported admission apiVersion ${JSON.stringify(o.apiVersion ?? null)}`);
  const problem = shapeProblem(o);
  if (problem) throw new BundleError('MALFORMED', `malformed admission: ${problem}`);
  const a = o as unknown as Admission;
  const actual = digestOf(a);
  if (actual !== a.sealDigest) throw new BundleError('BAD_DIGEST', `digest mismatch: admission says ${a.sealDigest}, body hashes to ${actual}`);
  if (trustedKeys) {
    const key = trustedKeys.get(a.signature.keyId);
    if (!key) throw new BundleError('UNKNOWN_KEY', `admission signed by untrusted key ${a.signature.keyId}`);
    if (!verifyDigest(key, digestBytes(a.sealDigest), a.signature.sig)) throw new BundleError('BAD_SIGNATURE', `admission signature does not verify with key ${a.signature.keyId}`);
  }
  return { ...bodyOf(a), sealDigest: a.sealDigest, signature: { keyId: a.signature.keyId, sig: a.signature.sig } };
}

/** What an admission asks of one node. */
export type AdmissionTarget =
  /** No policy: apply every new bundle at once (today's behaviour). */
  | { type: 'newest' }
  /** Run this bundle; `candidate` tells whether it is the rollout's candidate (post-apply health checks apply) or the stable one. */
  | { type: 'version'; version: number; digest: string; candidate: boolean }
  /** Not admitted and no stable version known: keep what is enforced. */
  | { type: 'keep' };

/**
 * The bundle `node` must run under admission `a` (undefined = none seen: `newest`). A
 * policy-less admission → `newest`; everyone admitted, or `node` named in a wave, or a
 * `rest` wave that follows waves not naming it → the candidate; otherwise the stable one, or
 * `keep` without one. Pure.
 */
export function admissionTarget(a: AdmissionBody | undefined, node: string): AdmissionTarget {
  if (!a || a.policy === '') return { type: 'newest' };
  const admitted = a.everyone || a.waves.some((w) => w.rest || w.nodes.includes(node));
  if (admitted) return { type: 'version', version: a.version, digest: a.digest, candidate: !a.everyone };
  if (a.stable) return { type: 'version', version: a.stable.version, digest: a.stable.digest, candidate: false };
  return { type: 'keep' };
}
