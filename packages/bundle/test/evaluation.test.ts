// The evaluation record (DESIGN.md §9): sealed and signed like a bundle, decoded with one
// error code per rejection, digest-only without trusted keys.
import { describe, expect, it } from 'vitest';
import { canonicalJson, decodeEvaluation, encodeEvaluation, generateSigningKeyPair, loadSigningKey, sealEvaluation } from '../src/index.js';
import { bytes, codeOf, key, other, trusted } from './helpers.js';

const sealed = () => sealEvaluation({ cluster: 'default', revision: 12, bundleVersion: 9, bundleDigest: 'sha256:ab' }, key, '2026-01-01T00:00:00.000Z');

describe('evaluation record', () => {
  it('round-trips, signed; canonical bytes', () => {
    const e = sealed();
    const wire = encodeEvaluation(e);
    expect(Buffer.from(wire).toString()).toBe(canonicalJson(e));
    expect(wire.length).toBeLessThan(400);
    expect(decodeEvaluation(wire, { trustedKeys: trusted })).toEqual(e);
    expect(e).toMatchObject({ apiVersion: 'natfleet.io/v1', kind: 'Evaluation', cluster: 'default', revision: 12, bundleVersion: 9, bundleDigest: 'sha256:ab' });
  });

  it('refuses what the compiler did not sign, each with its code', () => {
    const e = sealed();
    expect(codeOf(() => decodeEvaluation(encodeEvaluation(e), { trustedKeys: other }))).toBe('UNKNOWN_KEY');
    expect(codeOf(() => decodeEvaluation(encodeEvaluation(e), { trustedKeys: new Map() }))).toBe('UNKNOWN_KEY');
    const forgedSig = sealEvaluation({ cluster: 'default', revision: 12, bundleVersion: 9, bundleDigest: 'sha256:ab' }, loadSigningKey(generateSigningKeyPair().privateKeyPem));
    expect(codeOf(() => decodeEvaluation(encodeEvaluation({ ...forgedSig, signature: { ...forgedSig.signature, keyId: e.signature.keyId } }), { trustedKeys: trusted }))).toBe('BAD_SIGNATURE');
    // A higher revision under the old digest and signature.
    expect(codeOf(() => decodeEvaluation(bytes({ ...e, revision: 99 }), { trustedKeys: trusted }))).toBe('BAD_DIGEST');
    expect(codeOf(() => decodeEvaluation(bytes({ ...e, revision: 99 })))).toBe('BAD_DIGEST');
    expect(codeOf(() => decodeEvaluation(Buffer.from('not json')))).toBe('MALFORMED');
    expect(codeOf(() => decodeEvaluation(bytes([1])))).toBe('MALFORMED');
    expect(codeOf(() => decodeEvaluation(bytes({ ...e, apiVersion: 'natfleet.io/v9' })))).toBe('UNSUPPORTED_API_VERSION');
    expect(codeOf(() => decodeEvaluation(bytes({ ...e, kind: 'Bundle' })))).toBe('MALFORMED');
    expect(codeOf(() => decodeEvaluation(bytes({ ...e, revision: '12' })))).toBe('MALFORMED');
    expect(codeOf(() => decodeEvaluation(bytes({ ...e, bundleVersion: 13 })))).toBe('MALFORMED'); // a bundle newer than the revision evaluated
    expect(codeOf(() => decodeEvaluation(bytes({ ...e, signature: null })))).toBe('MALFORMED');
    expect(codeOf(() => decodeEvaluation(Buffer.alloc(5000, 32)))).toBe('TOO_LARGE');
  });

  it('without trusted keys, checks format and digest only (the API without --trusted-keys-file)', () => {
    const unsigned = sealEvaluation({ cluster: 'c', revision: 3, bundleVersion: 3, bundleDigest: 'sha256:cd' }, loadSigningKey(generateSigningKeyPair().privateKeyPem));
    expect(decodeEvaluation(encodeEvaluation(unsigned)).revision).toBe(3);
  });
});
