import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEBIAN_PACKAGES, REPO_ROOT, isMissingBinaryError, requireBinary, run, isCommandError, ManagedProcess } from '../src/index.js';

describe('requireBinary', () => {
  it('finds the installed server binaries', () => {
    for (const bin of Object.keys(DEBIAN_PACKAGES)) expect(requireBinary(bin)).toMatch(new RegExp(`/${bin}$`));
  });

  it('names the Debian package when a binary is missing', () => {
    let caught: unknown;
    try {
      requireBinary('etcd', '/nonexistent');
    } catch (err) {
      caught = err;
    }
    expect(isMissingBinaryError(caught)).toBe(true);
    expect(caught).toMatchObject({ code: 'MISSING_BINARY', binary: 'etcd', debianPackage: 'etcd-server' });
    expect(String((caught as Error).message)).toContain('apt-get install -y etcd-server');
  });

  it('maps every binary to its package', () => {
    expect(DEBIAN_PACKAGES).toEqual({
      etcd: 'etcd-server',
      etcdctl: 'etcd-client',
      'nats-server': 'nats-server',
      nft: 'nftables',
      ip: 'iproute2',
      openssl: 'openssl',
      chromium: 'chromium',
      promtool: 'prometheus',
    });
  });

  it('is the table scripts/bootstrap.sh installs from (kept in sync)', () => {
    const script = readFileSync(join(REPO_ROOT, 'scripts/bootstrap.sh'), 'utf8');
    const line = /declare -A PKG=\(([^)]*)\)/.exec(script)?.[1] ?? '';
    const fromScript = Object.fromEntries([...line.matchAll(/\[([^\]]+)\]=(\S+)/g)].map((m) => [m[1], m[2]]));
    expect(fromScript).toEqual({ ...DEBIAN_PACKAGES });
  });
});

describe('process helpers', () => {
  it('run() reports a failing command with its exit code and stderr', async () => {
    const err = await run('sh', ['-c', 'echo boom >&2; exit 3']).catch((e: unknown) => e);
    expect(isCommandError(err)).toBe(true);
    expect(err).toMatchObject({ exitCode: 3 });
    expect((err as Error).message).toContain('boom');
  });

  it('ManagedProcess waits for a line and stops by PID', async () => {
    const p = new ManagedProcess('sh', ['-c', 'echo ready; sleep 30']);
    await expect(p.waitForLine(/ready/)).resolves.toBe('ready');
    const pid = p.pid!;
    expect(() => process.kill(pid, 0)).not.toThrow();
    await p.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
