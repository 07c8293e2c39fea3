/**
 * `--trusted-keys-file`: the Ed25519 public key(s) bundles are signed with, the same file
 * enforcers take. With it the API shows only bundles whose signature verifies; without it
 * bundle views check format and digest only (documented in the OpenAPI description).
 */
import { readFileSync } from 'node:fs';
import { loadTrustedKeys, type TrustedKeys } from '@natfleet/bundle';

/**
 * Reads and parses the PEM file at `path`. Throws an Error whose message says what is
 * wrong (unreadable, a private key, not Ed25519 public keys, no key at all); the caller
 * names the setting.
 */
export function readTrustedKeysFile(path: string): TrustedKeys {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  // node:crypto would derive a public key from a private one: refuse it, the signing key belongs on the compiler only.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw new Error(`${path} holds a private key: give the public key(s) only`);
  const keys = loadTrustedKeys([pem]);
  if (keys.size === 0) throw new Error(`${path} holds no public key`);
  return keys;
}
