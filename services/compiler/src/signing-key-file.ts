/**
 * The signing key on disk: reading `--signing-key-file` at start (fail fast, naming the
 * setting), and `natfleet-compiler keygen`, which writes a fresh Ed25519 pair for the
 * local stack, docs and first installs. The private key is written 0600 and never
 * printed or logged; only its keyId is.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKeyPair, loadSigningKey, type SigningKey } from '@natfleet/bundle';
import { CompilerError } from './errors.js';

const SETTING = "option '--signing-key-file' (env NATFLEET_SIGNING_KEY_FILE)";

/** A loaded key, plus whether its file is readable by group or others (worth a warning). */
export interface LoadedSigningKey {
  key: SigningKey;
  looseMode: boolean;
}

/** Reads and parses the PEM key at `path`. Throws CompilerError SIGNING_KEY_INVALID naming the setting. */
export function readSigningKeyFile(path: string): LoadedSigningKey {
  let pem: string;
  let mode: number;
  try {
    pem = readFileSync(path, 'utf8');
    mode = statSync(path).mode;
  } catch (err) {
    throw new CompilerError('SIGNING_KEY_INVALID', `${SETTING}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return { key: loadSigningKey(pem), looseMode: (mode & 0o077) !== 0 };
  } catch (err) {
    throw new CompilerError('SIGNING_KEY_INVALID', `${SETTING}: ${path}: ${(err as Error).message} (expected an Ed25519 PKCS#8 PEM key, see \`keygen\`)`, { cause: err });
  }
}

export interface KeygenResult {
  keyId: string;
  keyFile: string;
  publicKeyFile: string;
}

export const SIGNING_KEY_FILE = 'signing.key';
export const PUBLIC_KEY_FILE = 'signing.pub';

/**
 * Writes `<out>/signing.key` (PKCS#8 PEM, 0600) and `<out>/signing.pub` (SPKI PEM, 0644),
 * creating `out` (0700) if needed. Throws CompilerError KEYGEN_FAILED when signing.key
 * exists and `force` is false, or when the files cannot be written.
 */
export function writeSigningKeyPair(out: string, { force = false } = {}): KeygenResult {
  const keyFile = join(out, SIGNING_KEY_FILE);
  const publicKeyFile = join(out, PUBLIC_KEY_FILE);
  if (existsSync(keyFile) && !force) {
    throw new CompilerError('KEYGEN_FAILED', `${keyFile} exists; pass --force to replace it (enforcers trusting the old key will reject new bundles)`);
  }
  const pair = generateSigningKeyPair();
  try {
    mkdirSync(out, { recursive: true, mode: 0o700 });
    writeFileSync(keyFile, pair.privateKeyPem, { mode: 0o600 });
    chmodSync(keyFile, 0o600); // writeFileSync's mode applies only to a new file
    writeFileSync(publicKeyFile, pair.publicKeyPem, { mode: 0o644 });
  } catch (err) {
    throw new CompilerError('KEYGEN_FAILED', `cannot write the key pair into ${out}: ${(err as Error).message}`, { cause: err });
  }
  return { keyId: pair.keyId, keyFile, publicKeyFile };
}
