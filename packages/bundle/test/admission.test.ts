// The admission (DESIGN.md §10): sealed and signed like a bundle, decoded with one error code
// per rejection, and the pure membership rule enforcers apply (admissionTarget).
import { describe, expect, it } from 'vitest';
import {
  admissionTarget,
  canonicalJson,
  decodeAdmission,
  encodeAdmission,
  generateSigningKeyPair,
  loadSigningKey,
  MAX_ADMISSION_BYTES,
  sealAdmission,
  type AdmissionBody,
} from '../src/index.js';
import { bytes, codeOf, key, other, trusted } from './helpers.js';

const base = {
  cluster: 'default',
  stateRevision: 40,
  policy: 'waves',
  version: 30,
  digest: 'sha256:c',
  everyone: false,
  waves: [{ name: 'canary', nodes: ['node-3'], rest: false }],
  stable: { version: 20, digest: 'sha256:s' },
  phase: 'progressing' as const,
  health: { commands: [{ name: 'egress', command: ['/bin/true'], timeoutMs: 5_000 }], conntrack: { insertFailedDelta: 10 } },
};
const sealed = (over: Partial<typeof base> = {}) => sealAdmission({ ...base, ...over }, key, '2026-01-01T00:00:00.000Z');

describe('admission', () => {
  it('round-trips, signed; canonical bytes', () => {
    const a = sealed();
    const wire = encodeAdmission(a);
    expect(Buffer.from(wire).toString()).toBe(canonicalJson(a));
    expect(decodeAdmission(wire, { trustedKeys: trusted })).toEqual(a);
    expect(a).toMatchObject({ apiVersion: 'natfleet.io/v1', kind: 'Admission', stateRevision: 40, version: 30 });
    expect(a.sealDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('refuses a forged signature, an unknown key, a changed field, junk and oversize input, each with its own code', () => {
    const a = sealed();
    expect(codeOf(() => decodeAdmission(encodeAdmission(a), { trustedKeys: other }))).toBe('UNKNOWN_KEY');
    const otherKey = loadSigningKey(generateSigningKeyPair().privateKeyPem);
    const forged = { ...sealAdmission({ ...base }, otherKey), signature: { keyId: key.keyId, sig: sealAdmission({ ...base }, otherKey).signature.sig } };
    expect(codeOf(() => decodeAdmission(bytes(forged), { trustedKeys: trusted }))).toBe('BAD_SIGNATURE');
    // Admitting another node without re-signing: the digest no longer matches.
    expect(codeOf(() => decodeAdmission(bytes({ ...a, waves: [{ name: 'canary', nodes: ['node-1'], rest: false }] }), { trustedKeys: trusted }))).toBe('BAD_DIGEST');
    expect(codeOf(() => decodeAdmission(bytes({ ...a, everyone: true }), { trustedKeys: trusted }))).toBe('BAD_DIGEST');
    expect(codeOf(() => decodeAdmission(Buffer.from('not json')))).toBe('MALFORMED');
    expect(codeOf(() => decodeAdmission(bytes({ ...a, apiVersion: 'v0' })))).toBe('UNSUPPORTED_API_VERSION');
    expect(codeOf(() => decodeAdmission(bytes({ ...a, kind: 'Bundle' })))).toBe('MALFORMED');
    expect(codeOf(() => decodeAdmission(bytes({ ...a, waves: [{ name: 'x', nodes: [1], rest: false }] })))).toBe('MALFORMED');
    expect(codeOf(() => decodeAdmission(bytes({ ...a, health: { commands: [{ name: 'x', command: [], timeoutMs: 1 }], conntrack: {} } })))).toBe('MALFORMED');
    expect(codeOf(() => decodeAdmission(bytes({ ...a, health: { commands: [], conntrack: { evil: 1 } } })))).toBe('MALFORMED');
    expect(codeOf(() => decodeAdmission(new Uint8Array(MAX_ADMISSION_BYTES + 1)))).toBe('TOO_LARGE');
    expect(codeOf(() => decodeAdmission(encodeAdmission(a), { trustedKeys: new Map() }))).toBe('UNKNOWN_KEY');
  });

  it('without trusted keys only shape and digest are checked (display only)', () => {
    const otherKey = loadSigningKey(generateSigningKeyPair().privateKeyPem);
    expect(decodeAdmission(encodeAdmission(sealAdmission({ ...base }, otherKey))).version).toBe(30);
  });
});

describe('admissionTarget: what a node runs under an admission', () => {
  const body = (over: Partial<AdmissionBody> = {}): AdmissionBody => ({ ...sealed(), ...over });
  it('no admission, or one without a policy: the newest bundle, as without staged rollouts', () => {
    expect(admissionTarget(undefined, 'node-1')).toEqual({ type: 'newest' });
    expect(admissionTarget(body({ policy: '' }), 'node-1')).toEqual({ type: 'newest' });
  });
  it('named in an admitted wave: the candidate (health checks apply); not named: the stable version', () => {
    expect(admissionTarget(body(), 'node-3')).toEqual({ type: 'version', version: 30, digest: 'sha256:c', candidate: true });
    expect(admissionTarget(body(), 'node-1')).toEqual({ type: 'version', version: 20, digest: 'sha256:s', candidate: false });
    // A name that merely contains an admitted one is not admitted.
    expect(admissionTarget(body(), 'node-33')).toMatchObject({ version: 20 });
  });
  it('a rest wave admits every node, also ones that join later', () => {
    const a = body({ waves: [{ name: 'canary', nodes: ['node-3'], rest: false }, { name: 'rest', nodes: [], rest: true }] });
    expect(admissionTarget(a, 'node-9')).toEqual({ type: 'version', version: 30, digest: 'sha256:c', candidate: true });
  });
  it('everyone (completed): the candidate, no longer a candidate for health checks', () => {
    expect(admissionTarget(body({ everyone: true, phase: 'completed' }), 'node-1')).toEqual({ type: 'version', version: 30, digest: 'sha256:c', candidate: false });
  });
  it('rolled back (no waves): the stable version everywhere; with no stable version known: keep what is enforced', () => {
    expect(admissionTarget(body({ waves: [], phase: 'rolled-back' }), 'node-3')).toMatchObject({ type: 'version', version: 20 });
    expect(admissionTarget(body({ waves: [], stable: null }), 'node-3')).toEqual({ type: 'keep' });
  });
});
