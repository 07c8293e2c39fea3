/**
 * The evaluation record: the compiler's signed statement "I evaluated etcd up to revision
 * R, and bundle V (digest D) is what it compiles to" (DESIGN.md §9). Most writes make a new
 * bundle whose version is their revision, but one that changes nothing enforced (a pool's
 * `disableBGPExport`, a label) makes none: the compiler skips publishing unchanged content.
 * Without this record such a write never resolves — no bundle R ever appears, and
 * `natctl rollout status --min-version R` would wait for it until its timeout. With it, a
 * reader knows that the newest bundle V already carries every write up to R ("the fleet
 * is current as of revision R").
 *
 * Signed like a bundle (sha256 over the canonical body, Ed25519 over the digest), so a
 * message on the evaluation subject that the compiler did not publish can never declare a
 * rollout complete. Small and canonical JSON, never compressed. Pure apart from CPU.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { BundleError } from './errors.js';
import { signDigest, verifyDigest, type SigningKey, type TrustedKeys } from './signing.js';
import { BUNDLE_API_VERSION, type BundleSignature } from './types.js';

export const EVALUATION_KIND = 'Evaluation';

/** Largest evaluation message accepted when decoding (a real one is ~350 bytes). */
export const MAX_EVALUATION_BYTES = 4096;

/** What an evaluation says; all of it is digested and signed. */
export interface EvaluationBody {
  apiVersion: typeof BUNDLE_API_VERSION;
  kind: typeof EVALUATION_KIND;
  cluster: string;
  /** The newest etcd revision the compiler evaluated (read a snapshot at and compiled). */
  revision: number;
  /** Version of the bundle that enforces the state at `revision` (≤ `revision`). */
  bundleVersion: number;
  /** Digest of that bundle. */
  bundleDigest: string;
  /** When the evaluation was recorded (ISO 8601). */
  evaluatedAt: string;
}

export interface Evaluation extends EvaluationBody {
  /** `sha256:<hex>` of the canonical JSON of the body. */
  digest: string;
  signature: BundleSignature;
}

const bodyOf = (e: EvaluationBody): EvaluationBody => ({
  apiVersion: e.apiVersion,
  kind: e.kind,
  cluster: e.cluster,
  revision: e.revision,
  bundleVersion: e.bundleVersion,
  bundleDigest: e.bundleDigest,
  evaluatedAt: e.evaluatedAt,
});

const digestOf = (e: EvaluationBody): string => `sha256:${createHash('sha256').update(canonicalJson(bodyOf(e))).digest('hex')}`;
const digestBytes = (digest: string): Buffer => Buffer.from(digest.slice('sha256:'.length), 'hex');

/** Builds, digests and signs an evaluation; `evaluatedAt` defaults to now. */
export function sealEvaluation(
  e: Pick<EvaluationBody, 'cluster' | 'revision' | 'bundleVersion' | 'bundleDigest'>,
  key: SigningKey,
  evaluatedAt = new Date().toISOString(),
): Evaluation {
  const body: EvaluationBody = { apiVersion: BUNDLE_API_VERSION, kind: EVALUATION_KIND, cluster: e.cluster, revision: e.revision, bundleVersion: e.bundleVersion, bundleDigest: e.bundleDigest, evaluatedAt };
  const digest = digestOf(body);
  return { ...body, digest, signature: { keyId: key.keyId, sig: signDigest(key, digestBytes(digest)) } };
}

/** Wire bytes: canonical JSON. */
export function encodeEvaluation(e: Evaluation): Uint8Array {
  return Buffer.from(canonicalJson(e));
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length <= 256;

function shapeProblem(v: Record<string, unknown>): string | undefined {
  if (v.kind !== EVALUATION_KIND) return `kind must be ${EVALUATION_KIND}`;
  if (!isStr(v.cluster)) return 'cluster: must be a string';
  if (!isCount(v.revision)) return 'revision: must be a non-negative integer';
  if (!isCount(v.bundleVersion) || v.bundleVersion > v.revision) return 'bundleVersion: must be an integer ≤ revision';
  if (!isStr(v.bundleDigest) || !isStr(v.evaluatedAt) || !isStr(v.digest)) return 'bundleDigest, evaluatedAt, digest: must be strings';
  const s = v.signature as Record<string, unknown> | null;
  if (typeof s !== 'object' || s === null || !isStr(s.keyId) || !isStr(s.sig)) return 'signature: must be {keyId, sig}';
  return undefined;
}

/**
 * Parses and checks wire bytes: size, JSON, apiVersion, shape and digest, then — when
 * `trustedKeys` is given — the signature. Throws BundleError TOO_LARGE, MALFORMED,
 * UNSUPPORTED_API_VERSION, BAD_DIGEST, UNKNOWN_KEY or BAD_SIGNATURE. Without trusted keys
 * a well-formed forgery passes (the API's digest-only mode); an empty key set rejects all.
 */
export function decodeEvaluation(bytes: Uint8Array, { trustedKeys }: { trustedKeys?: TrustedKeys | undefined } = {}): Evaluation {
  if (bytes.length > MAX_EVALUATION_BYTES) throw new BundleError('TOO_LARGE', `evaluation is ${bytes.length} bytes, limit ${MAX_EVALUATION_BYTES}`);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
  } catch (err) {
    throw new BundleError('MALFORMED', 'evaluation is not valid JSON', { cause: err });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BundleError('MALFORMED', 'evaluation is not a JSON object');
  const o = v as Record<string, unknown>;
  if (o.apiVersion !== BUNDLE_API_VERSION) throw new BundleError('UNSUPPORTED_API_VERSION', `unsupported evaluation apiVersion ${JSON.stringify(o.apiVersion ?? null)}`);
  const problem = shapeProblem(o);
  if (problem) throw new BundleError('MALFORMED', `malformed evaluation: ${problem}`);
  const e = o as unknown as Evaluation;
  const actual = digestOf(e);
  if (actual !== e.digest) throw new BundleError('BAD_DIGEST', `digest mismatch: evaluation says ${e.digest}, body hashes to ${actual}`);
  if (trustedKeys) {
    const key = trustedKeys.get(e.signature.keyId);
    if (!key) throw new BundleError('UNKNOWN_KEY', `evaluation signed by untrusted key ${e.signature.keyId}`);
    if (!verifyDigest(key, digestBytes(e.digest), e.signature.sig)) throw new BundleError('BAD_SIGNATURE', `signature does not verify with key ${e.signature.keyId}`);
  }
  return { ...bodyOf(e), digest: e.digest, signature: { keyId: e.signature.keyId, sig: e.signature.sig } };
}
