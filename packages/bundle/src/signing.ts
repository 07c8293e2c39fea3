/**
 * Ed25519 keys for bundle signing (node:crypto only). Keys travel as PEM (PKCS#8 private,
 * SPKI public) so `openssl` can make and inspect them too. Enforcers trust a set of public
 * keys at once, which is how keys rotate: add the new key everywhere, switch the
 * compiler, then drop the old key.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { BundleError } from './errors.js';

export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
}

/** keyId → public key. */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

/** keyId of a public key: first 16 hex chars of sha256 over its raw 32 bytes. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  // SPKI DER for Ed25519 is a fixed 12-byte header followed by the raw 32-byte key.
  return createHash('sha256').update(der.subarray(der.length - 32)).digest('hex').slice(0, 16);
}

/** A fresh Ed25519 key pair as PEM strings plus its keyId. */
export function generateSigningKeyPair(): { privateKeyPem: string; publicKeyPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

/** Loads a PKCS#8 PEM Ed25519 private key. Throws BundleError INVALID_KEY otherwise. */
export function loadSigningKey(privateKeyPem: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch (err) {
    throw new BundleError('INVALID_KEY', 'signing key is not a PEM private key', { cause: err });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new BundleError('INVALID_KEY', `signing key must be ed25519, got ${privateKey.asymmetricKeyType}`);
  }
  return { keyId: keyIdOf(createPublicKey(privateKey)), privateKey };
}

/**
 * Loads trusted public keys (SPKI PEM, one per string; a string may also hold several
 * concatenated PEM blocks). Throws BundleError INVALID_KEY naming the bad entry. An empty
 * input gives an empty set, which verifies nothing.
 */
export function loadTrustedKeys(publicKeyPems: readonly string[]): TrustedKeys {
  const keys = new Map<string, KeyObject>();
  const blocks = publicKeyPems.flatMap((p) => p.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [p]);
  blocks.forEach((pem, i) => {
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch (err) {
      throw new BundleError('INVALID_KEY', `trusted key #${i + 1} is not a PEM public key`, { cause: err });
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new BundleError('INVALID_KEY', `trusted key #${i + 1} must be ed25519, got ${key.asymmetricKeyType}`);
    }
    keys.set(keyIdOf(key), key);
  });
  return keys;
}

/** Ed25519 signature (base64) over raw digest bytes. */
export function signDigest(key: SigningKey, digestBytes: Uint8Array): string {
  return sign(null, digestBytes, key.privateKey).toString('base64');
}

/** True when `sigB64` is a valid Ed25519 signature of `digestBytes` by `publicKey`. */
export function verifyDigest(publicKey: KeyObject, digestBytes: Uint8Array, sigB64: string): boolean {
  try {
    return verify(null, digestBytes, publicKey, Buffer.from(sigB64, 'base64'));
  } catch {
    return false;
  }
}
