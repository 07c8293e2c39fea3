import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  BUNDLE_API_VERSION,
  bundleDigest,
  canonicalJson,
  decodeBundle,
  encodeBundle,
  generateSigningKeyPair,
  isBundleError,
  loadSigningKey,
  loadTrustedKeys,
  sealBundle,
  type BundleBody,
  type BundleErrorCode,
} from '../src/index.js';

const body = (over: Partial<BundleBody> = {}): BundleBody => ({
  apiVersion: BUNDLE_API_VERSION,
  cluster: 'default',
  version: 42,
  sourceRevision: 42,
  fleet: {
    v4: { masquerade: ['192.168.0.0/16'], noNat: ['10.0.0.0/8', '192.168.0.0/16'] },
    v6: { masquerade: [], noNat: ['fd00::/48'] },
    settings: { fullyRandom: false, exclusions: 'IPPoolsOnly' },
    hostAddresses: { v4: ['198.51.100.7/32'], v6: [] },
  },
  nodes: { 'node-a': { natOutgoingAddress: '203.0.113.5' } },
  warnings: [{ key: '/calico/resources/v3/projectcalico.org/ippools/x', code: 'INVALID_JSON', reason: 'not JSON' }],
  ...over,
});

const keyA = generateSigningKeyPair();
const keyB = generateSigningKeyPair();
const signerA = loadSigningKey(keyA.privateKeyPem);
const trustA = loadTrustedKeys([keyA.publicKeyPem]);

function codeOf(fn: () => unknown): BundleErrorCode | 'none' {
  try {
    fn();
    return 'none';
  } catch (err) {
    if (isBundleError(err)) return err.code;
    throw err;
  }
}

describe('canonicalJson', () => {
  it('sorts keys at every depth, drops undefined, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: undefined, b: 'x' } })).toBe('{"a":{"b":"x","d":[3,1]},"b":1}');
  });
  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ a: 1n })).toThrow(TypeError);
  });
});

describe('seal / encode / decode', () => {
  it('round-trips and verifies', () => {
    const sealed = sealBundle(body(), signerA, '2026-01-01T00:00:00.000Z');
    expect(sealed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(sealed.signature.keyId).toBe(keyA.keyId);
    expect(decodeBundle(encodeBundle(sealed), { trustedKeys: trustA })).toEqual(sealed);
  });

  it('digest ignores compiledAt and key order, and changes with any body field', () => {
    const a = sealBundle(body(), signerA, '2026-01-01T00:00:00.000Z');
    const b = sealBundle(JSON.parse(JSON.stringify(body()).split('').join('')) as BundleBody, signerA, '2030-01-01T00:00:00.000Z');
    expect(b.digest).toBe(a.digest);
    expect(bundleDigest(body({ version: 43 }))).not.toBe(a.digest);
    expect(bundleDigest(body({ cluster: 'other' }))).not.toBe(a.digest);
  });

  it('content digest ignores version and sourceRevision but not what is enforced', async () => {
    const { bundleContentDigest } = await import('../src/index.js');
    expect(bundleContentDigest(body({ version: 50, sourceRevision: 50 }))).toBe(bundleContentDigest(body()));
    expect(bundleContentDigest(body({ nodes: {} }))).not.toBe(bundleContentDigest(body()));
  });

  it('same body gives byte-identical encodings', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const shuffled = Object.fromEntries(Object.entries(body()).reverse()) as unknown as BundleBody;
    expect(Buffer.from(encodeBundle(sealBundle(shuffled, signerA, at)))).toEqual(Buffer.from(encodeBundle(sealBundle(body(), signerA, at))));
  });

  it('gzips large bundles and decodes them transparently', () => {
    const many = Array.from({ length: 20_000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.0/24`);
    const sealed = sealBundle(body({ fleet: { ...body().fleet, v4: { masquerade: many, noNat: many } } }), signerA);
    const bytes = encodeBundle(sealed);
    expect(bytes[0]).toBe(0x1f);
    expect(bytes.length).toBeLessThan(canonicalJson(sealed).length / 3);
    expect(decodeBundle(bytes, { trustedKeys: trustA }).fleet.v4.masquerade).toHaveLength(20_000);
  });

  it('trusts several keys at once (rotation)', () => {
    const both = loadTrustedKeys([keyA.publicKeyPem + keyB.publicKeyPem]);
    expect(both.size).toBe(2);
    const byB = sealBundle(body(), loadSigningKey(keyB.privateKeyPem));
    expect(decodeBundle(encodeBundle(byB), { trustedKeys: both }).signature.keyId).toBe(keyB.keyId);
    expect(codeOf(() => decodeBundle(encodeBundle(byB), { trustedKeys: trustA }))).toBe('UNKNOWN_KEY');
  });
});

describe('decode rejects with a distinct code per reason', () => {
  const good = sealBundle(body(), signerA);
  const enc = (o: unknown): Uint8Array => Buffer.from(JSON.stringify(o));

  it.each<[string, () => Uint8Array, BundleErrorCode]>([
    ['garbage bytes', () => Buffer.from('\x00\x01garbage'), 'MALFORMED'],
    ['truncated JSON', () => encodeBundle(good).slice(0, 40), 'MALFORMED'],
    ['truncated gzip', () => gzipSync(Buffer.from(JSON.stringify(good))).subarray(0, 30), 'MALFORMED'],
    ['JSON array', () => enc([1, 2]), 'MALFORMED'],
    ['missing apiVersion', () => enc({ ...good, apiVersion: undefined }), 'UNSUPPORTED_API_VERSION'],
    ['unknown apiVersion', () => enc({ ...good, apiVersion: 'natfleet.io/v2' }), 'UNSUPPORTED_API_VERSION'],
    ['missing fleet', () => enc({ ...good, fleet: undefined }), 'MALFORMED'],
    ['nft injection in a CIDR', () => enc({ ...good, fleet: { ...good.fleet, v4: { masquerade: ['10.0.0.0/8 } ; flush ruleset'], noNat: [] } } }), 'MALFORMED'],
    ['quote in interface filter', () => enc({ ...good, fleet: { ...good.fleet, settings: { ...good.fleet.settings, interfaceFilter: 'eth0"' } } }), 'MALFORMED'],
    ['body changed after signing', () => enc({ ...good, version: 43 }), 'BAD_DIGEST'],
    ['digest forged to match a changed body', () => {
      const changed = { ...good, version: 43 };
      return enc({ ...changed, digest: bundleDigest(changed) });
    }, 'BAD_SIGNATURE'],
    ['signature from another key claiming keyA', () => {
      const byB = sealBundle(body(), loadSigningKey(keyB.privateKeyPem));
      return enc({ ...byB, signature: { keyId: keyA.keyId, sig: byB.signature.sig } });
    }, 'BAD_SIGNATURE'],
    ['untrusted key', () => encodeBundle(sealBundle(body(), loadSigningKey(keyB.privateKeyPem))), 'UNKNOWN_KEY'],
  ])('%s', (_name, make, code) => {
    expect(codeOf(() => decodeBundle(make(), { trustedKeys: trustA }))).toBe(code);
  });

  it('oversized message, and a gzip bomb, are TOO_LARGE', () => {
    expect(codeOf(() => decodeBundle(encodeBundle(good), { trustedKeys: trustA, maxBytes: 100 }))).toBe('TOO_LARGE');
    const bomb = gzipSync(Buffer.alloc(5_000_000, 0x20));
    expect(bomb.length).toBeLessThan(100_000);
    expect(codeOf(() => decodeBundle(bomb, { trustedKeys: trustA, maxBytes: 1_000_000 }))).toBe('TOO_LARGE');
  });

  it('an empty trusted set rejects everything', () => {
    expect(codeOf(() => decodeBundle(encodeBundle(good), { trustedKeys: new Map() }))).toBe('UNKNOWN_KEY');
  });
});

describe('keys', () => {
  it('bad PEMs are INVALID_KEY with the entry number', () => {
    expect(codeOf(() => loadSigningKey('nope'))).toBe('INVALID_KEY');
    let msg = '';
    try {
      loadTrustedKeys([keyA.publicKeyPem, 'not a key']);
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toContain('#2');
  });
});

describe('effectiveSettings', () => {
  it('lays a node override over the fleet settings, field by field', async () => {
    const { effectiveSettings } = await import('../src/index.js');
    const b = body();
    expect(effectiveSettings(b, 'node-a')).toEqual({ fullyRandom: false, exclusions: 'IPPoolsOnly', natOutgoingAddress: '203.0.113.5' });
    expect(effectiveSettings(b, 'node-b')).toEqual({ fullyRandom: false, exclusions: 'IPPoolsOnly' });
    expect(effectiveSettings(b, '__proto__')).toEqual({ fullyRandom: false, exclusions: 'IPPoolsOnly' });
  });
});
