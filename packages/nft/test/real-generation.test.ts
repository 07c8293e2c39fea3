// The kernel's ruleset generation and the full read-back, with real nft and perl in a
// throwaway netns: what the enforcer's drift check relies on (nft-generation.ts).
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, Netns, removeDir } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareTableState, expectedTableContents, isNftUnavailableError, nextGeneration, RealNft, renderTransaction } from '../src/index.js';
import { digestFor, makeBundle, V6_POOLS, caught } from './fixtures.js';

const POOLS = Array.from({ length: 8 }, (_, i) => `10.${64 + 2 * i}.0.0/16`);
const bundleV = (version: number, masquerade = POOLS, noNat = [...POOLS, '10.96.0.0/12']) => makeBundle({ version, digest: digestFor(version), v4: { masquerade, noNat }, v6: V6_POOLS });


describe('RealNft generation() and readTableContents() in a throwaway netns', () => {
  let ns: Netns;
  let nft: RealNft;
  let tmp: string;

  beforeAll(async () => {
    ns = await Netns.create('realgen');
    nft = new RealNft({ netns: ns.name });
    tmp = makeTempDir('nft-gen-test');
  });
  afterAll(async () => {
    await ns?.destroy();
    if (tmp) removeDir(tmp);
  });

  it('moves by exactly one per transaction of ours, and not on reads, checks or refused transactions', async () => {
    const g0 = await nft.generation();
    await nft.applyTransaction(renderTransaction(bundleV(1), 'n'));
    const g1 = await nft.generation();
    expect(g1).toBe(nextGeneration(g0));
    await nft.readTable();
    await nft.readTableContents();
    await nft.check(renderTransaction(bundleV(2), 'n'));
    await expect(nft.applyTransaction(`${renderTransaction(bundleV(3), 'n')}add rule inet natfleet postrouting bogus\n`)).rejects.toThrow();
    expect(await nft.generation()).toBe(g1);
  });

  it('moves when someone else changes anything, to our table or another', async () => {
    const g = await nft.generation();
    await ns.nft('add table ip someone_else\n');
    expect(await nft.generation()).toBe(nextGeneration(g));
    await ns.nft('delete element inet natfleet masq_v4_16 { 10.70.0.0 }\n');
    expect(await nft.generation()).toBe(nextGeneration(nextGeneration(g)));
  });

  it('readTableContents sees what the terse read-back cannot: a flushed set, one deleted element', async () => {
    const b = bundleV(4);
    await nft.applyTransaction(renderTransaction(b, 'n'));
    const expected = expectedTableContents(b, 'n');
    expect(compareTableState(expected, await nft.readTableContents())).toEqual([]);
    await ns.nft('flush set inet natfleet masq_v4_16\n');
    const terse = (await nft.readTable())!;
    expect(compareTableState({ ...expected, comment: undefined }, { ...terse, comment: undefined })).toEqual([]); // what the old drift check saw
    expect(compareTableState(expected, await nft.readTableContents())).toMatchObject([{ type: 'elements', name: 'masq_v4_16', missing: 8, unexpected: 0 }]);
    await nft.applyTransaction(renderTransaction(b, 'n'));
    await ns.nft('delete element inet natfleet nonat_v4_12 { 10.96.0.0 }\n');
    expect(compareTableState(expected, await nft.readTableContents())).toMatchObject([{ type: 'elements', name: 'nonat_v4_12', missing: 1, unexpected: 0 }]);
    expect(await nft.deleteTable()).toBe(true);
    expect(await nft.readTableContents()).toBeUndefined();
  });

  it('one transaction with 50k set elements is still one generation, and the full read-back matches it', async () => {
    const masquerade = Array.from({ length: 50_000 }, (_, i) => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`);
    const b = bundleV(5, masquerade, ['192.168.0.0/16']);
    const g = await nft.generation();
    await nft.applyTransaction(renderTransaction(b, 'n'));
    expect(await nft.generation()).toBe(nextGeneration(g));
    expect(compareTableState(expectedTableContents(b, 'n'), await nft.readTableContents())).toEqual([]);
  });

  it('without CAP_NET_ADMIN: NftUnavailableError (permission); without perl: missing-binary naming perl-base', async () => {
    const script = join(tmp, 'unprivileged-perl');
    writeFileSync(script, `#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups perl "$@"\n`);
    chmodSync(script, 0o755);
    const denied = await caught(new RealNft({ netns: ns.name, perlPath: script }).generation());
    expect(isNftUnavailableError(denied)).toBe(true);
    expect(denied).toMatchObject({ reason: 'permission' });
    const missing = await caught(new RealNft({ perlPath: '/nonexistent/perl' }).generation());
    expect(missing).toMatchObject({ code: 'NFT_UNAVAILABLE', reason: 'missing-binary', debianPackage: 'perl-base' });
  });

  it('ignores PERL5OPT in the environment', async () => {
    const before = process.env.PERL5OPT;
    process.env.PERL5OPT = '-Mnonexistent_module_natfleet';
    try {
      expect(await nft.generation()).toBeGreaterThan(0);
    } finally {
      if (before === undefined) delete process.env.PERL5OPT;
      else process.env.PERL5OPT = before;
    }
  });
});
