/**
 * @natfleet/bundle — the compiler → enforcer contract: bundle types, canonical JSON,
 * sha256 digest, Ed25519 signing with multiple trusted keys, gzip for large bundles, and
 * decode/verify with one error code per rejection reason. Pure: no fs, network or processes.
 */
export { BUNDLE_API_VERSION } from './types.js';
export type { Bundle, BundleBody, BundleSignature, BundleWarning, FamilySets, NatOutgoingExclusions, NatSettings } from './types.js';
export { canonicalJson } from './canonical-json.js';
export {
  bundleBody,
  bundleContentDigest,
  bundleDigest,
  decodeBundle,
  encodeBundle,
  inspectBundle,
  sealBundle,
  verifyBundle,
  DEFAULT_COMPRESS_ABOVE,
  DEFAULT_MAX_BUNDLE_BYTES,
} from './codec.js';
export type { DecodeOptions } from './codec.js';
export { BundleError, isBundleError } from './errors.js';
export type { BundleErrorCode } from './errors.js';
export { effectiveSettings } from './settings.js';
export { IFNAME_FILTER, bundleShapeProblem } from './schema.js';
export { EVALUATION_KIND, MAX_EVALUATION_BYTES, decodeEvaluation, encodeEvaluation, sealEvaluation } from './evaluation.js';
export type { Evaluation, EvaluationBody } from './evaluation.js';
export { generateSigningKeyPair, keyIdOf, loadSigningKey, loadTrustedKeys, signDigest, verifyDigest } from './signing.js';
export type { SigningKey, TrustedKeys } from './signing.js';
export { ADMISSION_KIND, MAX_ADMISSION_BYTES, admissionTarget, decodeAdmission, encodeAdmission, sealAdmission } from './admission.js';
export type { Admission, AdmissionBody, AdmissionHealth, AdmissionHealthCommand, AdmissionPhase, AdmissionRef, AdmissionTarget, AdmittedWaveRef } from './admission.js';
