// Shared by the record tests (evaluation, admission): a key pair, its trusted set and
// another, and the code a decode rejects with. Not a test file itself.
import { generateSigningKeyPair, isBundleError, loadSigningKey, loadTrustedKeys, type BundleErrorCode } from '../src/index.js';

const pair = generateSigningKeyPair();
export const key = loadSigningKey(pair.privateKeyPem);
export const trusted = loadTrustedKeys([pair.publicKeyPem]);
export const other = loadTrustedKeys([generateSigningKeyPair().publicKeyPem]);
export const bytes = (o: unknown): Uint8Array => Buffer.from(JSON.stringify(o));

/** The BundleError code `fn` throws, or undefined when it does not throw; other errors are rethrown. */
export function codeOf(fn: () => unknown): BundleErrorCode | undefined {
  try {
    fn();
  } catch (err) {
    if (isBundleError(err)) return err.code;
    throw err;
  }
  return undefined;
}
