/**
 * Sealing, encoding and decoding bundles. Sealing digests the canonical body and signs
 * the digest; encoding is canonical JSON, gzip-compressed above a threshold; decoding
 * checks size, format, apiVersion, shape, digest and signature — in that order — and
 * fails with a distinct BundleError code for each. Pure apart from CPU: no I/O.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { canonicalJson } from './canonical-json.js';
import { BundleError } from './errors.js';
import { bundleShapeProblem, isSupportedApiVersion } from './schema.js';
import { signDigest, verifyDigest, type SigningKey, type TrustedKeys } from './signing.js';
import type { Bundle, BundleBody } from './types.js';

/** Encoded bundles larger than this are gzipped (NATS messages default to a 1 MiB limit). */
export const DEFAULT_COMPRESS_ABOVE = 64 * 1024;
/** Decoding refuses more than this many bytes, compressed or inflated. */
export const DEFAULT_MAX_BUNDLE_BYTES = 32 * 1024 * 1024;

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/** The digested body of a bundle (drops compiledAt, digest, signature; keeps unknown-free shape). */
export function bundleBody(b: BundleBody | Bundle): BundleBody {
  return {
    apiVersion: b.apiVersion,
    cluster: b.cluster,
    version: b.version,
    sourceRevision: b.sourceRevision,
    fleet: b.fleet,
    nodes: b.nodes,
    warnings: b.warnings,
  };
}

/** `sha256:<hex>` of the canonical JSON of the body. */
export function bundleDigest(body: BundleBody): string {
  return `sha256:${createHash('sha256').update(canonicalJson(bundleBody(body))).digest('hex')}`;
}

/**
 * `sha256:<hex>` of the body without `version` and `sourceRevision`: equal for two bundles
 * that enforce exactly the same thing (same sets, settings, overrides and warnings). The
 * compiler skips publishing when it equals the last published one.
 */
export function bundleContentDigest(body: BundleBody): string {
  const { version: _v, sourceRevision: _s, ...content } = bundleBody(body);
  return `sha256:${createHash('sha256').update(canonicalJson(content)).digest('hex')}`;
}

const digestBytes = (digest: string): Buffer => Buffer.from(digest.slice('sha256:'.length), 'hex');

/** Digests and signs `body`. `compiledAt` defaults to now; it is not covered by the digest. */
export function sealBundle(body: BundleBody, key: SigningKey, compiledAt = new Date().toISOString()): Bundle {
  const digest = bundleDigest(body);
  return { ...bundleBody(body), compiledAt, digest, signature: { keyId: key.keyId, sig: signDigest(key, digestBytes(digest)) } };
}

/** Wire bytes: canonical JSON, gzipped when longer than `compressAbove` bytes. */
export function encodeBundle(bundle: Bundle, { compressAbove = DEFAULT_COMPRESS_ABOVE } = {}): Uint8Array {
  const json = Buffer.from(canonicalJson(bundle));
  return json.length > compressAbove ? gzipSync(json, { level: 6 }) : json;
}

export interface DecodeOptions {
  trustedKeys: TrustedKeys;
  maxBytes?: number;
}

/**
 * Parses and verifies wire bytes. Throws BundleError with code TOO_LARGE, MALFORMED,
 * UNSUPPORTED_API_VERSION, BAD_DIGEST, UNKNOWN_KEY or BAD_SIGNATURE. An empty trusted
 * key set rejects everything (UNKNOWN_KEY).
 */
export function decodeBundle(bytes: Uint8Array, { trustedKeys, maxBytes = DEFAULT_MAX_BUNDLE_BYTES }: DecodeOptions): Bundle {
  return checkSignature(inspectBundle(bytes, { maxBytes }), trustedKeys);
}

/**
 * Parses wire bytes and checks size, format, apiVersion, shape and digest — everything
 * but the signature. For read-only views (API history, explain) that do not enforce
 * anything; enforcers must use decodeBundle. Same error codes as decodeBundle.
 */
export function inspectBundle(bytes: Uint8Array, { maxBytes = DEFAULT_MAX_BUNDLE_BYTES }: { maxBytes?: number } = {}): Bundle {
  if (bytes.length > maxBytes) throw new BundleError('TOO_LARGE', `bundle is ${bytes.length} bytes, limit ${maxBytes}`);
  let json: Buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1) {
    try {
      json = gunzipSync(json, { maxOutputLength: maxBytes });
    } catch (err) {
      const tooBig = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
      throw new BundleError(tooBig ? 'TOO_LARGE' : 'MALFORMED', tooBig ? `inflated bundle exceeds ${maxBytes} bytes` : 'bundle is not valid gzip', { cause: err });
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch (err) {
    throw new BundleError('MALFORMED', 'bundle is not valid JSON', { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BundleError('MALFORMED', 'bundle is not a JSON object');
  }
  const apiVersion = (parsed as { apiVersion?: unknown }).apiVersion;
  if (!isSupportedApiVersion(apiVersion)) {
    throw new BundleError('UNSUPPORTED_API_VERSION', `unsupported bundle apiVersion ${JSON.stringify(apiVersion ?? null)}`);
  }
  const problem = bundleShapeProblem(parsed);
  if (problem) throw new BundleError('MALFORMED', `malformed bundle: ${problem}`);
  const bundle = parsed as Bundle;
  const actual = bundleDigest(bundle);
  if (actual !== bundle.digest) throw new BundleError('BAD_DIGEST', `digest mismatch: bundle says ${bundle.digest}, body hashes to ${actual}`);
  return bundle;
}

/** Verifies digest then signature of an already-parsed bundle; returns it unchanged. */
export function verifyBundle(bundle: Bundle, trustedKeys: TrustedKeys): Bundle {
  const actual = bundleDigest(bundle);
  if (actual !== bundle.digest) throw new BundleError('BAD_DIGEST', `digest mismatch: bundle says ${bundle.digest}, body hashes to ${actual}`);
  return checkSignature(bundle, trustedKeys);
}

/** Signature only: the caller has already checked the digest against the body. */
function checkSignature(bundle: Bundle, trustedKeys: TrustedKeys): Bundle {
  const key = trustedKeys.get(bundle.signature.keyId);
  if (!key) throw new BundleError('UNKNOWN_KEY', `bundle signed by untrusted key ${bundle.signature.keyId}`);
  if (!verifyDigest(key, digestBytes(bundle.digest), bundle.signature.sig)) {
    throw new BundleError('BAD_SIGNATURE', `signature does not verify with key ${bundle.signature.keyId}`);
  }
  return bundle;
}
