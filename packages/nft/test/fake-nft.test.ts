import { describe, expect, it } from 'vitest';
import {
  compareTableState,
  expectedTableContents,
  expectedTableState,
  FakeNft,
  isNftError,
  isNftKernelError,
  isNftSyntaxError,
  NftKernelError,
  renderDelta,
  renderRepair,
  renderTable,
  renderTransaction,
} from '../src/index.js';
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
    ['a reference to a missing set', (t: string) => t.replace('@nonat_v4_16', '@nope')],
    ['a jump to a missing chain', (t: string) => t.replace('jump nat_v4', 'jump nope')],
    ['an element of the wrong family', (t: string) => t.replace('elements = { 10.65.0.0 }', 'elements = { fd00:: }')],
    ['a prefix in a hash set', (t: string) => t.replace('elements = { 10.65.0.0 }', 'elements = { 10.65.0.0/16 }')],
    ['a port mapping without l4proto', (t: string) => t.replace('meta l4proto { tcp, udp } ', '')],
    ['empty elements', (t: string) => t.replace('elements = { 10.65.0.0 }', 'elements = { }')],
    ['a delta line in a swap', (t: string) => `${t}add element inet natfleet masq_v4_16 { 10.1.0.0 }\n`],
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

  it('reports backend fake; readMarker gives the marker comment, readTable the terse state with it', async () => {
    const nft = new FakeNft();
    expect(nft.backend).toBe('fake');
    expect(await nft.readMarker()).toBeUndefined();
    await nft.applyTransaction(renderTransaction(bundle, 'n'));
    expect(await nft.readMarker()).toBe(`natfleet v12 ${bundle.digest}`);
    expect(await nft.readTable()).toEqual(expectedTableState(bundle, 'n'));
    expect((await nft.readTable())?.elements).toBeUndefined();
  });

  it('close: idempotent, later calls reject, the table stays', async () => {
    const nft = new FakeNft();
    await nft.applyTransaction(renderTransaction(bundle, 'n'));
    await nft.close();
    await nft.close();
    const closed = (e: unknown) => isNftError(e, 'NFT_UNAVAILABLE');
    await expect(nft.readMarker()).rejects.toSatisfy(closed);
    await expect(nft.generation()).rejects.toSatisfy(closed);
    await expect(nft.applyTransaction(renderTransaction(bundle, 'n'))).rejects.toSatisfy(closed);
    expect(nft.dump()).toBe(renderTable(bundle, 'n'));
  });
});

describe('FakeNft deltas', () => {
  const v = (version: number, masquerade: string[], noNat: string[] = ['10.96.0.0/12']) =>
    makeBundle({ version, digest: digestFor(version), v4: { masquerade, noNat }, v6: V6_POOLS });
  const from = v(1, ['10.65.0.0/16', '10.66.0.0/16', '10.67.0.0/16']);
  const to = v(2, ['10.64.0.0/16', '10.66.0.0/16', '10.68.0.0/16', '10.69.0.0/16']);

  it('a delta leaves exactly the table the target renders, and moves the generation by one', async () => {
    const nft = new FakeNft();
    await nft.applyTransaction(renderTransaction(from, 'n'));
    const g = await nft.generation();
    await nft.applyTransaction(renderDelta(from, to, 'n')!);
    expect(nft.dump()).toBe(renderTable(to, 'n'));
    expect(await nft.readMarker()).toBe(`natfleet v2 ${digestFor(2)}`);
    expect(await nft.generation()).toBe(g + 1);
    expect(nft.applied).toBe(2);
  });

  it('the marker compare-and-swap: a delta from another version fails whole with NftKernelError and changes nothing', async () => {
    const nft = new FakeNft();
    await nft.applyTransaction(renderTransaction(to, 'n'));
    const before = nft.dump();
    const g = await nft.generation();
    const err = await nft.applyTransaction(renderDelta(from, v(3, ['10.65.0.0/16']), 'n')!).catch((e: unknown) => e);
    expect(isNftKernelError(err)).toBe(true);
    expect(err).toMatchObject({ reason: 'No such file or directory', line: 1 });
    expect(nft.dump()).toBe(before);
    expect(await nft.generation()).toBe(g);
    await expect(nft.check(renderDelta(from, to, 'n')!)).rejects.toSatisfy(isNftKernelError);
  });

  it('deleting an element that is not there fails the whole transaction, even after lines that would succeed', async () => {
    const nft = new FakeNft();
    await nft.applyTransaction(renderTransaction(from, 'n'));
    const before = nft.dump();
    const delta = renderDelta(from, to, 'n')!;
    const text = `${delta}delete element inet natfleet masq_v4_16 { 10.200.0.0 }\n`;
    await expect(nft.applyTransaction(text)).rejects.toMatchObject({ name: 'NftKernelError', line: delta.split('\n').length });
    expect(nft.dump()).toBe(before);
  });

  it('adding an element that is there is a no-op; elements compare by value (v6 in any spelling)', async () => {
    const nft = new FakeNft();
    await nft.applyTransaction(renderTransaction(from, 'n'));
    await nft.applyTransaction('add element inet natfleet masq_v4_16 { 10.65.0.0 }\nadd element inet natfleet masq_v6_48 { fd00:0065:0000:: }\n');
    expect(nft.dump()).toBe(renderTable(from, 'n'));
    await nft.applyTransaction('delete element inet natfleet masq_v6_48 { fd00:65:0:0:0:0:0:0 }\n');
    expect((await nft.readTableContents())?.elements?.masq_v6_48).toEqual([]);
    expect(nft.dump()).not.toContain('elements = { }');
  });

  it('a missing table or set, a malformed line or a value of the wrong type: NftSyntaxError, like nft', async () => {
    const nft = new FakeNft();
    await expect(nft.applyTransaction(renderDelta(from, to, 'n')!)).rejects.toSatisfy(isNftSyntaxError);
    await nft.applyTransaction(renderTransaction(from, 'n'));
    for (const bad of [
      'add element inet natfleet nope { 10.0.0.0 }\n',
      'add element inet natfleet masq_v4_16 { fd00:: }\n',
      'add element inet natfleet masq_v4_16 { 10.0.0.0/16 }\n',
      'add element inet natfleet masq_v4_16 { }\n',
      'flush set inet natfleet masq_v4_16\n',
      'add element ip other s { 10.0.0.0 }\n',
    ]) {
      await expect(nft.applyTransaction(bad), bad).rejects.toSatisfy(isNftSyntaxError);
    }
    expect(nft.dump()).toBe(renderTable(from, 'n'));
  });

  it('renderRepair of a foreign edit restores the rendered table', async () => {
    const nft = new FakeNft();
    await nft.applyTransaction(renderTransaction(to, 'n'));
    nft.foreignCommit((t) => t.replace('10.66.0.0, ', '').replace('{ 10.96.0.0 }', '{ 10.96.0.0, 10.112.0.0 }'));
    const repair = renderRepair((await nft.readTableContents())!, to, 'n')!;
    expect(repair).toContain('add element inet natfleet masq_v4_16 { 10.66.0.0 }');
    expect(repair).toContain('delete element inet natfleet nonat_v4_12 { 10.112.0.0 }');
    await nft.applyTransaction(repair);
    expect(nft.dump()).toBe(renderTable(to, 'n'));
    expect(compareTableState(expectedTableContents(to, 'n'), await nft.readTableContents())).toEqual([]);
  });
});
