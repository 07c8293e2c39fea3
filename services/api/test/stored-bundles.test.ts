// Which stored messages the API's bundle views believe: judged by body, never by header.
import { encodeBundle, generateSigningKeyPair, loadSigningKey, loadTrustedKeys, sealBundle } from '@natfleet/bundle';
import type { StoredBundle } from '@natfleet/bus';
import { compileBundle } from '@natfleet/compiler-core';
import { describe, expect, it } from 'vitest';
import { judgeStored } from '../src/stored-bundles.js';

const pair = generateSigningKeyPair();
const key = loadSigningKey(pair.privateKeyPem);
const trustedKeys = loadTrustedKeys([pair.publicKeyPem]);
const other = loadSigningKey(generateSigningKeyPair().privateKeyPem);
const good = compileBundle({ entries: [] }, 7, { cluster: 'c', key }).bundle;
const stored = (data: Uint8Array, version = 7, digest = good.digest): StoredBundle => ({ seq: 1, time: new Date(0), data, version, digest, contentDigest: '' });

describe('judgeStored', () => {
  it('accepts a bundle whose body, signature, cluster and headers agree', () => {
    expect(judgeStored(stored(encodeBundle(good)), { cluster: 'c', trustedKeys })).toMatchObject({ ok: true, bundle: { version: 7, digest: good.digest } });
    expect(judgeStored(stored(encodeBundle(good)), { cluster: 'c' })).toMatchObject({ ok: true });
  });

  it.each([
    ['garbage', () => stored(new Uint8Array([1, 2, 3])), 'MALFORMED'],
    ['a huge header version on a genuine body', () => stored(encodeBundle(good), 9e15), 'HEADER_MISMATCH'],
    ['another cluster', () => stored(encodeBundle(sealBundle({ ...good, cluster: 'd' }, key))), 'WRONG_CLUSTER'],
    ['a body changed after sealing', () => stored(encodeBundle({ ...good, sourceRevision: 1 })), 'BAD_DIGEST'],
  ])('%s → invalid %s, with or without trusted keys', (_w, make, code) => {
    expect(judgeStored(make(), { cluster: 'c', trustedKeys })).toMatchObject({ ok: false, code, message: expect.any(String) });
    expect(judgeStored(make(), { cluster: 'c' })).toMatchObject({ ok: false, code });
  });

  it('signatures are checked only when trusted keys are configured (digest-only otherwise)', () => {
    const forged = sealBundle(good, other);
    expect(judgeStored(stored(encodeBundle(forged), 7, forged.digest), { cluster: 'c', trustedKeys })).toMatchObject({ ok: false, code: 'UNKNOWN_KEY' });
    expect(judgeStored(stored(encodeBundle(forged), 7, forged.digest), { cluster: 'c' })).toMatchObject({ ok: true });
  });
});
