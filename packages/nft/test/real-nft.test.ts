import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, Netns, removeDir } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareTableState,
  expectedTableState,
  isNftKernelError,
  isNftSyntaxError,
  isNftTimeoutError,
  isNftUnavailableError,
  NftKernelError,
  NftSyntaxError,
  NftTimeoutError,
  NftUnavailableError,
  RealNft,
  renderTransaction,
} from '../src/index.js';
import { digestFor, makeBundle, V4_POOLS, V6_POOLS, caught } from './fixtures.js';

const KEEPME = 'table ip keepme {\n\tchain c {\n\t\ttype filter hook output priority 0;\n\t}\n}\n';

const bundleV = (version: number) =>
  makeBundle({
    version,
    digest: digestFor(version),
    v4: V4_POOLS,
    v6: V6_POOLS,
    settings: { interfaceFilter: 'eth*', portRange: { from: 1024, to: 65535 }, fullyRandom: version % 2 === 0 },
  });


describe('RealNft in a throwaway netns', () => {
  let ns: Netns;
  let nft: RealNft;
  let tmp: string;
  let keepmeListing: string;

  const tables = async (): Promise<string> => (await ns.exec('nft', ['list', 'tables'])).stdout;

  beforeAll(async () => {
    ns = await Netns.create('realnft');
    nft = new RealNft({ netns: ns.name });
    tmp = makeTempDir('nft-test');
    await ns.nft(KEEPME);
    keepmeListing = (await ns.exec('nft', ['list', 'table', 'ip', 'keepme'])).stdout;
  });
  afterAll(async () => {
    await ns?.destroy();
    if (tmp) removeDir(tmp);
  });

  it('has no table at first: readTable → undefined, deleteTable → false', async () => {
    expect(await nft.readTable()).toBeUndefined();
    expect(await nft.deleteTable()).toBe(false);
  });

  it('applies a transaction and reads back exactly the expected state', async () => {
    const b = bundleV(1);
    await nft.applyTransaction(renderTransaction(b, 'n'));
    const actual = await nft.readTable();
    expect(actual).toEqual(expectedTableState(b, 'n'));
    expect(compareTableState(expectedTableState(b, 'n'), actual)).toEqual([]);
  });

  it('replaces the table 100 times; the final comment is the last version', async () => {
    for (let v = 2; v <= 101; v++) await nft.applyTransaction(renderTransaction(bundleV(v), 'n'));
    const actual = await nft.readTable();
    expect(actual?.comment).toBe(`natfleet v101 ${digestFor(101)}`);
    expect(compareTableState(expectedTableState(bundleV(101), 'n'), actual)).toEqual([]);
    // Exactly one natfleet table, and the neighbour is still there.
    expect((await tables()).match(/table inet natfleet/g)).toHaveLength(1);
    expect(await tables()).toContain('table ip keepme');
  });

  it('a syntax error throws NftSyntaxError with its line and leaves the previous table intact', async () => {
    const text = `${renderTransaction(bundleV(500), 'n')}add rule inet natfleet postrouting bogus\n`;
    const err = await caught(nft.applyTransaction(text));
    expect(err).toBeInstanceOf(NftSyntaxError);
    expect(isNftSyntaxError(err)).toBe(true);
    expect((err as NftSyntaxError).line).toBe(text.split('\n').length - 1);
    expect((err as NftSyntaxError).stderr).toContain('Error: syntax error');
    expect((await nft.readTable())?.comment).toBe(`natfleet v101 ${digestFor(101)}`);
  });

  it('a kernel refusal late in the transaction throws NftKernelError and rolls back everything before it', async () => {
    // The new table (v600) is valid; the chain appended after it is refused by the kernel
    // (masquerade in a filter chain), so the whole batch, the delete included, is dropped.
    const text = `${renderTransaction(bundleV(600), 'n')}table inet natfleet {\n\tchain bad {\n\t\ttype filter hook output priority 0;\n\t\tmasquerade\n\t}\n}\n`;
    const err = await caught(nft.applyTransaction(text));
    expect(err).toBeInstanceOf(NftKernelError);
    expect(isNftKernelError(err)).toBe(true);
    expect((err as NftKernelError).reason).toBe('Operation not supported');
    expect(compareTableState(expectedTableState(bundleV(101), 'n'), await nft.readTable())).toEqual([]);
  });

  it('check validates without changing anything', async () => {
    await nft.check(renderTransaction(bundleV(700), 'n'));
    expect((await nft.readTable())?.comment).toBe(`natfleet v101 ${digestFor(101)}`);
    await expect(nft.check('table inet natfleet {\n\tbogus\n}\n')).rejects.toSatisfy(isNftSyntaxError);
  });

  it('read-back notices a rule someone added and shows it as a rule without id', async () => {
    await ns.nft('add rule inet natfleet postrouting counter accept\n');
    const diffs = compareTableState(expectedTableState(bundleV(101), 'n'), await nft.readTable());
    expect(diffs.map((d) => d.type)).toEqual(['rules']);
    // Re-applying repairs it.
    await nft.applyTransaction(renderTransaction(bundleV(101), 'n'));
    expect(compareTableState(expectedTableState(bundleV(101), 'n'), await nft.readTable())).toEqual([]);
  });

  it('applies and reads back a table with 50k set elements', async () => {
    const masquerade = Array.from({ length: 50_000 }, (_, i) => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`);
    const b = makeBundle({ version: 800, digest: digestFor(800), v4: { masquerade, noNat: ['10.64.0.0/10'] } });
    await nft.applyTransaction(renderTransaction(b, 'n'));
    expect(compareTableState(expectedTableState(b, 'n'), await nft.readTable())).toEqual([]);
  });

  it('deleteTable deletes only inet natfleet; then readTable → undefined', async () => {
    expect(await nft.deleteTable()).toBe(true);
    expect(await nft.readTable()).toBeUndefined();
    expect(await nft.deleteTable()).toBe(false);
    expect(await tables()).toBe('table ip keepme\n');
    expect((await ns.exec('nft', ['list', 'table', 'ip', 'keepme'])).stdout).toBe(keepmeListing);
  });

  it('kills nft on timeout (by its process group) and throws NftTimeoutError', async () => {
    const pidFile = join(tmp, 'slow.pid');
    const script = join(tmp, 'slow-nft');
    writeFileSync(script, `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 30\n`);
    chmodSync(script, 0o755);
    const slow = new RealNft({ netns: ns.name, nftPath: script, timeoutMs: 300 });
    const started = Date.now();
    const err = await caught(slow.applyTransaction(renderTransaction(bundleV(900), 'n')));
    expect(err).toBeInstanceOf(NftTimeoutError);
    expect(isNftTimeoutError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'NFT_TIMEOUT', operation: 'apply', timeoutMs: 300, retryable: true });
    expect(Date.now() - started).toBeLessThan(5_000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('a missing binary is NftUnavailableError naming the Debian package nftables', async () => {
    for (const nftPath of ['/nonexistent/nft', 'nft-not-installed-anywhere']) {
      const err = await caught(new RealNft({ nftPath }).readTable());
      expect(err).toBeInstanceOf(NftUnavailableError);
      expect(err).toMatchObject({ code: 'NFT_UNAVAILABLE', reason: 'missing-binary', debianPackage: 'nftables' });
      expect((err as Error).message).toContain('nftables');
    }
  });

  it('no permission is NftUnavailableError (permission)', async () => {
    // nft run as nobody: the kernel says EPERM.
    const script = join(tmp, 'unprivileged-nft');
    writeFileSync(script, `#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups nft "$@"\n`);
    chmodSync(script, 0o755);
    for (const op of [(n: RealNft) => n.readTable(), (n: RealNft) => n.applyTransaction(renderTransaction(bundleV(1), 'n'))]) {
      const err = await caught(op(new RealNft({ netns: ns.name, nftPath: script })));
      expect(isNftUnavailableError(err)).toBe(true);
      expect(err).toMatchObject({ reason: 'permission' });
      expect((err as Error).message).toContain('CAP_NET_ADMIN');
    }
  });

  it('a missing or malformed netns is NftUnavailableError (netns)', async () => {
    const err = await caught(new RealNft({ netns: `${ns.name}-gone` }).readTable());
    expect(err).toMatchObject({ code: 'NFT_UNAVAILABLE', reason: 'netns' });
    expect(() => new RealNft({ netns: '-all' })).toThrow(NftUnavailableError);
    expect(() => new RealNft({ netns: 'a b' })).toThrow(NftUnavailableError);
  });
});
