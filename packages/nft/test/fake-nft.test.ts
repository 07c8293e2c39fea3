import { describe, expect, it } from 'vitest';
import { compareTableState, expectedTableState, FakeNft, isNftSyntaxError, NftKernelError, renderTable, renderTransaction } from '../src/index.js';
import { digestFor, makeBundle, V4_POOLS, V6_POOLS } from './fixtures.js';

const bundle = makeBundle({ v4: V4_POOLS, v6: V6_POOLS, settings: { portRange: { from: 1024, to: 65535 } } });

describe('FakeNft', () => {
  it('starts empty', async () => {
    const nft = new FakeNft();
    expect(nft.dump()).toBe('');
    expect(nft.applied).toBe(0);
    expect(await nft.readTable()).toBeUndefined();
    expect(await nft.deleteTable()).toBe(false);
  });

  it('applies our transaction, dumps the rendered table and reads back the expected state', async () => {
    const nft = new FakeNft();
    await nft.applyTransaction(renderTransaction(bundle, 'n'));
    expect(nft.applied).toBe(1);
    expect(nft.dump()).toBe(renderTable(bundle, 'n'));
    expect(compareTableState(expectedTableState(bundle, 'n'), await nft.readTable())).toEqual([]);
  });

  it('replaces the table on every apply', async () => {
    const nft = new FakeNft();
    for (let v = 1; v <= 5; v++) await nft.applyTransaction(renderTransaction(makeBundle({ version: v, digest: digestFor(v) }), 'n'));
    expect(nft.applied).toBe(5);
    expect((await nft.readTable())?.comment).toBe(`natfleet v5 ${digestFor(5)}`);
  });

  it.each([
    ['a bare table', (t: string) => t.split('\n').slice(2).join('\n')],
    ['another table', (t: string) => t.replaceAll('inet natfleet', 'ip filter')],
    ['an appended command', (t: string) => `${t}add rule inet natfleet postrouting bogus\n`],
    ['a rule without our comment', (t: string) => t.replace(/ comment "nf:v4:all:[0-9a-f]+"/, '')],
    ['a reference to a missing set', (t: string) => t.replace('@nonat_v4', '@nope')],
    ['a port mapping without l4proto', (t: string) => t.replace('meta l4proto { tcp, udp } ', '')],
    ['empty elements', (t: string) => t.replace('elements = { 10.65.0.0/16 }', 'elements = { }')],
    ['a truncated table', (t: string) => t.slice(0, t.lastIndexOf('}'))],
  ])('rejects %s with NftSyntaxError and keeps the previous table', async (_, mutate) => {
    const nft = new FakeNft();
    await nft.applyTransaction(renderTransaction(bundle, 'n'));
    const before = nft.dump();
    const bad = mutate(renderTransaction(makeBundle({ version: 99, digest: digestFor(99), v4: V4_POOLS, v6: V6_POOLS, settings: { portRange: { from: 1024, to: 65535 } } }), 'n'));
    await expect(nft.applyTransaction(bad)).rejects.toSatisfy(isNftSyntaxError);
    await expect(nft.check(bad)).rejects.toSatisfy(isNftSyntaxError);
    expect(nft.dump()).toBe(before);
    expect(nft.applied).toBe(1);
  });

  it('failNext fails exactly the next call, whatever it is, without changing anything', async () => {
    const nft = new FakeNft();
    await nft.applyTransaction(renderTransaction(bundle, 'n'));
    const err = new NftKernelError('Operation not supported', 'Error: Could not process rule: Operation not supported');
    nft.failNext(err);
    nft.failNext(new Error('read failed'));
    await expect(nft.applyTransaction(renderTransaction(makeBundle({ version: 13 }), 'n'))).rejects.toBe(err);
    await expect(nft.readTable()).rejects.toThrow('read failed');
    expect((await nft.readTable())?.comment).toContain('v12');
    expect(nft.applied).toBe(1);
  });

  it('check validates without applying', async () => {
    const nft = new FakeNft();
    await nft.check(renderTransaction(bundle, 'n'));
    expect(nft.dump()).toBe('');
    expect(nft.applied).toBe(0);
  });

  it('deleteTable removes the table', async () => {
    const nft = new FakeNft();
    await nft.applyTransaction(renderTransaction(bundle, 'n'));
    expect(await nft.deleteTable()).toBe(true);
    expect(await nft.readTable()).toBeUndefined();
    expect(nft.dump()).toBe('');
  });
});
