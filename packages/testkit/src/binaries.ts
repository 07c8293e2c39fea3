/**
 * Locating the external binaries integration tests need, with a clear failure that names
 * the Debian package to install. Owns the binary → package table; never installs anything
 * (scripts/bootstrap.sh does that).
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { MissingBinaryError, NotRootError } from './errors.js';

/** Binary name → the Debian 12 package that ships it. */
export const DEBIAN_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  etcd: 'etcd-server',
  etcdctl: 'etcd-client',
  'nats-server': 'nats-server',
  nft: 'nftables',
  ip: 'iproute2',
  openssl: 'openssl',
  // The dashboard's browser test (headless, driven with executablePath; never downloaded).
  chromium: 'chromium',
  // promtool checks and unit-tests the Prometheus alert rules (deploy/monitoring).
  promtool: 'prometheus',
});

/** Extra directories searched after PATH: Debian puts nft and ip in /usr/sbin, which a non-login PATH may lack. */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/**
 * Absolute path of `binary`, searching PATH (then the sbin directories).
 * Throws MissingBinaryError naming the Debian package when absent.
 * `searchPath` overrides PATH (tests use it to simulate a missing binary; no sbin fallback then).
 */
export function requireBinary(binary: string, searchPath?: string): string {
  const dirs = searchPath !== undefined ? searchPath.split(delimiter) : [...(process.env.PATH ?? '').split(delimiter), ...SBIN_DIRS];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  throw new MissingBinaryError(binary, DEBIAN_PACKAGES[binary] ?? binary);
}

/** True when the process runs as root; `requireRoot` throws NotRootError naming `what` otherwise. */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function requireRoot(what: string): void {
  if (!isRoot()) throw new NotRootError(what);
}
