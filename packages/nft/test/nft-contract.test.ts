// One contract, two real backends: RealNft (the nft binary) and LibNft (libnftables in a
// worker thread) run the same suite on real nft, each in its own throwaway netns.
import { randomBytes } from 'node:crypto';
import { Netns } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareTableState,
  expectedTableContents,
  expectedTableState,
  isNftError,
  isNftNotFoundError,
  isNftSyntaxError,
  LibNft,
  nextGeneration,
  NftKernelError,
  NftSyntaxError,
  NftUnavailableError,
  parseTableListing,
  parseTerseListing,
  RealNft,
  renderDelta,
  renderTransaction,
  tableComment,
  type Nft,
} from '../src/index.js';
import { digestFor, makeBundle, V6_POOLS, caught } from './fixtures.js';

const KEEPME = 'table ip keepme {\n\tchain c {\n\t\ttype filter hook output priority 0;\n\t}\n}\n';
const POOLS = ['10.64.0.0/16', '10.66.0.0/16', '10.70.0.0/24', '10.71.0.0/24'];

const bundleV = (version: number, extra: string[] = []) =>
  makeBundle({
    version,
    digest: digestFor(version),
    v4: { masquerade: [...POOLS, ...extra], noNat: [...POOLS, ...extra, '10.96.0.0/12'] },
    v6: V6_POOLS,
    settings: { interfaceFilter: 'eth*', portRange: { from: 1024, to: 65535 } },
  });

/** A table written by hand, independent of the rendered layout: only the marker set and one data set. */
const handTable = (comment: string) =>
  `table inet natfleet {}\ndelete table inet natfleet\ntable inet natfleet {\n\tset marker {\n\t\ttype mark\n\t\telements = { 0x00000001 comment "${comment}" }\n\t}\n\tset data {\n\t\ttype ipv4_addr\n\t\telements = { 192.0.2.1, 192.0.2.2 }\n\t}\n}\n`;


const BACKENDS: [string, (netns: string) => Nft][] = [
  ['RealNft (cli)', (netns) => new RealNft({ netns })],
  ['LibNft (libnftables)', (netns) => new LibNft({ netns })],
];

describe.each(BACKENDS)('Nft contract: %s on real nft in a throwaway netns', (label, make) => {
  let ns: Netns;
  let nft: Nft;
  let keepmeListing: string;
  const listing = async (): Promise<string> => (await ns.exec('nft', ['list', 'table', 'inet', 'natfleet'])).stdout;
  const tables = async (): Promise<string> => (await ns.exec('nft', ['list', 'tables'])).stdout;

  beforeAll(async () => {
    ns = await Netns.create('contract');
    nft = make(ns.name);
    await ns.nft(KEEPME);
    keepmeListing = (await ns.exec('nft', ['list', 'table', 'ip', 'keepme'])).stdout;
  });
  afterAll(async () => {
    await nft?.close();
    await ns?.destroy();
  });

  it('says which backend it is', () => {
    expect(nft.backend).toBe(label.startsWith('LibNft') ? 'libnftables' : 'cli');
  });

  it('without a table: every read → undefined, deleteTable → false', async () => {
    expect(await nft.readMarker()).toBeUndefined();
    expect(await nft.readTable()).toBeUndefined();
    expect(await nft.readTableContents()).toBeUndefined();
    expect(await nft.deleteTable()).toBe(false);
  });

  it('applies a hand-written table: readMarker gives its marker comment, the reads give the sets', async () => {
    const comment = `natfleet v1 sha256:${randomBytes(32).toString('hex')}`;
    await nft.applyTransaction(handTable(comment));
    expect(await nft.readMarker()).toBe(comment);
    expect(await nft.readTable()).toEqual({ comment, sets: ['marker', 'data'], chains: [], ruleIds: [] });
    expect(await nft.readTableContents()).toEqual({ comment, sets: ['marker', 'data'], chains: [], ruleIds: [], elements: { marker: ['0x00000001'], data: ['192.0.2.1', '192.0.2.2'] } });
  });

  it('a table without a marker set: readMarker → undefined, readTable has no comment', async () => {
    await nft.applyTransaction('table inet natfleet {}\ndelete table inet natfleet\ntable inet natfleet {\n\tset data {\n\t\ttype ipv4_addr\n\t}\n}\n');
    expect(await nft.readMarker()).toBeUndefined();
    expect(await nft.readTable()).toEqual({ sets: ['data'], chains: [], ruleIds: [] });
  });

  it('applies a rendered bundle: readMarker, readTable and readTableContents match what it should produce, and agree with nft list table', async () => {
    const b = bundleV(2);
    await nft.applyTransaction(renderTransaction(b, 'n'));
    expect(await nft.readMarker()).toBe(tableComment(b));
    expect(await nft.readTable()).toEqual(expectedTableState(b, 'n'));
    const contents = await nft.readTableContents();
    expect(compareTableState(expectedTableContents(b, 'n'), contents)).toEqual([]);
    expect(contents).toEqual(parseTableListing(await listing()));
  });

  it("reads agree with nft's own listings for odd contents: IPv6 forms, element comments, empty sets, rules without comments, intervals", async () => {
    const v6 = ['::', '::1', '::ffff:0.0.0.0', '::ffff:192.0.2.1', '::1.2.3.4', '1:0:0:1:0:0:0:1', '1:0:0:0:1:0:0:0', 'fd00::', '2001:db8::1:0:0:0', 'fe80::1:2:3:4', 'ff02::1:ff00:0'];
    const table = (extra: string) =>
      `table inet natfleet {}\ndelete table inet natfleet\ntable inet natfleet {\n` +
      `\tset marker {\n\t\ttype mark\n\t\telements = { 0x00000002 comment "natfleet v2 a", 0x00000001 }\n\t}\n` +
      `\tset a4 {\n\t\ttype ipv4_addr\n\t\telements = { 192.0.2.9 comment "x, y", 10.0.0.1, 192.0.2.10, 1.2.3.4 }\n\t}\n` +
      `\tset a6 {\n\t\ttype ipv6_addr\n\t\telements = { ${v6.join(', ')} }\n\t}\n` +
      `\tset empty {\n\t\ttype ipv4_addr\n\t}\n${extra}` +
      `\tchain c2 {\n\t\tip saddr @a4 counter comment "r1"\n\t\tip6 saddr @a6 accept\n\t\tmeta l4proto { tcp, udp } accept comment "r3"\n\t}\n` +
      `\tchain c1 {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t\tjump c2\n\t}\n}\n`;
    for (const extra of ['', '\tset iv {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 10.0.0.0/8, 192.0.2.1-192.0.2.7 }\n\t}\n']) {
      await nft.applyTransaction(table(extra));
      const full = parseTableListing(await listing());
      const terse = parseTerseListing((await ns.exec('nft', ['-t', 'list', 'table', 'inet', 'natfleet'])).stdout);
      expect(await nft.readTableContents()).toEqual(full);
      expect(full.comment).toBeUndefined(); // two marker elements: no version
      expect(await nft.readTable()).toEqual(terse);
      expect(full.elements!.a6).toHaveLength(v6.length);
    }
    await nft.applyTransaction('delete element inet natfleet marker { 0x00000001 }\n');
    expect((await nft.readTableContents())?.comment).toBe('natfleet v2 a');
    expect((await nft.readTable())?.comment).toBe('natfleet v2 a');
    await nft.applyTransaction('delete element inet natfleet marker { 0x00000002 }\nadd element inet natfleet marker { 0x00000003 }\n');
    expect(await nft.readTableContents()).toEqual(parseTableListing(await listing()));
    expect((await nft.readTable())?.comment).toBeUndefined();
  });

  it('replaces the table: the last version wins, one natfleet table, the neighbour untouched', async () => {
    for (let v = 3; v <= 12; v++) await nft.applyTransaction(renderTransaction(bundleV(v, v % 2 ? ['10.80.0.0/16'] : []), 'n'));
    expect(await nft.readMarker()).toBe(tableComment(bundleV(12)));
    expect(compareTableState(expectedTableContents(bundleV(12), 'n'), await nft.readTableContents())).toEqual([]);
    expect((await tables()).match(/table inet natfleet/g)).toHaveLength(1);
    expect((await ns.exec('nft', ['list', 'table', 'ip', 'keepme'])).stdout).toBe(keepmeListing);
  });

  it('applies a delta; a delta from the wrong version is refused whole (the marker compare-and-swap)', async () => {
    const delta = renderDelta(bundleV(12), bundleV(14), 'n');
    expect(delta).toBeDefined();
    await nft.applyTransaction(delta!);
    expect(compareTableState(expectedTableContents(bundleV(14), 'n'), await nft.readTableContents())).toEqual([]);
    const stale = renderDelta(bundleV(12), bundleV(16), 'n')!;
    const err = await caught(nft.applyTransaction(stale));
    expect(err).toBeInstanceOf(NftKernelError);
    expect(compareTableState(expectedTableContents(bundleV(14), 'n'), await nft.readTableContents())).toEqual([]);
  });

  it('a syntax error on the last line: NftSyntaxError with that line, the previous table intact, no generation spent', async () => {
    const g = await nft.generation();
    const text = `${renderTransaction(bundleV(500), 'n')}add rule inet natfleet postrouting bogus\n`;
    const err = await caught(nft.applyTransaction(text));
    expect(err).toBeInstanceOf(NftSyntaxError);
    expect(isNftSyntaxError(err)).toBe(true);
    expect((err as NftSyntaxError).line).toBe(text.split('\n').length - 1);
    expect((err as NftSyntaxError).stderr).toContain('Error: syntax error');
    expect(compareTableState(expectedTableContents(bundleV(14), 'n'), await nft.readTableContents())).toEqual([]);
    expect(await nft.generation()).toBe(g);
  });

  it('a kernel refusal late in the transaction: NftKernelError, everything before it rolled back', async () => {
    const text = `${renderTransaction(bundleV(600), 'n')}table inet natfleet {\n\tchain bad {\n\t\ttype filter hook output priority 0;\n\t\tmasquerade\n\t}\n}\n`;
    const err = await caught(nft.applyTransaction(text));
    expect(err).toBeInstanceOf(NftKernelError);
    expect((err as NftKernelError).reason).toBe('Operation not supported');
    expect((err as NftKernelError).line).toBe(text.split('\n').length - 3);
    expect(compareTableState(expectedTableContents(bundleV(14), 'n'), await nft.readTableContents())).toEqual([]);
  });

  it('the generation moves by exactly one per own commit, and not for reads, checks or refused transactions', async () => {
    const g0 = await nft.generation();
    expect(await nft.generation()).toBe(g0);
    await nft.applyTransaction(renderTransaction(bundleV(20), 'n'));
    const g1 = await nft.generation();
    expect(g1).toBe(nextGeneration(g0));
    await nft.readMarker();
    await nft.readTable();
    await nft.readTableContents();
    await nft.check(renderTransaction(bundleV(21), 'n'));
    await expect(nft.applyTransaction(renderDelta(bundleV(12), bundleV(22), 'n')!)).rejects.toBeInstanceOf(NftKernelError);
    expect(await nft.generation()).toBe(g1);
    await nft.applyTransaction(renderDelta(bundleV(20), bundleV(22), 'n')!);
    expect(await nft.generation()).toBe(nextGeneration(g1));
    await ns.nft('add table ip someone_else\n');
    expect(await nft.generation()).toBe(nextGeneration(nextGeneration(g1)));
  });

  it('check validates without committing; a bad text is NftSyntaxError', async () => {
    await nft.check(renderTransaction(bundleV(700), 'n'));
    expect(await nft.readMarker()).toBe(tableComment(bundleV(22)));
    const err = await caught(nft.check('table inet natfleet {\n\tbogus\n}\n'));
    expect(err).toBeInstanceOf(NftSyntaxError);
    expect((err as NftSyntaxError).line).toBe(2);
  });

  it('works only in its netns: the table is there, not in the root namespace', async () => {
    const comment = `natfleet v3 sha256:${randomBytes(32).toString('hex')}`;
    await nft.applyTransaction(handTable(comment));
    expect(await tables()).toContain('table inet natfleet');
    expect((await ns.exec('nft', ['list', 'set', 'inet', 'natfleet', 'marker'])).stdout).toContain(comment);
    const root = await new RealNft().readMarker();
    expect(root).not.toBe(comment);
  });

  it('deleteTable deletes only inet natfleet, then reads → undefined', async () => {
    expect(await nft.deleteTable()).toBe(true);
    expect(await nft.readTable()).toBeUndefined();
    expect(await nft.readMarker()).toBeUndefined();
    expect(await nft.deleteTable()).toBe(false);
    expect(await tables()).toBe('table ip keepme\ntable ip someone_else\n');
    expect((await ns.exec('nft', ['list', 'table', 'ip', 'keepme'])).stdout).toBe(keepmeListing);
  });

  it('a missing netns is NftUnavailableError (netns); a malformed name throws at construction', async () => {
    const gone = make(`${ns.name}-gone`);
    const err = await caught(gone.readTable());
    expect(err).toBeInstanceOf(NftUnavailableError);
    expect(err).toMatchObject({ code: 'NFT_UNAVAILABLE', reason: 'netns' });
    expect(isNftNotFoundError(err)).toBe(false);
    await gone.close();
    expect(() => make('-all')).toThrow(NftUnavailableError);
  });

  it('close is idempotent and later calls reject with NFT_UNAVAILABLE', async () => {
    const other = make(ns.name);
    expect(await other.readMarker()).toBeUndefined();
    await other.close();
    await other.close();
    for (const call of [() => other.readMarker(), () => other.generation(), () => other.applyTransaction(handTable('natfleet v9 x'))]) {
      const err = await caught(call());
      expect(isNftError(err, 'NFT_UNAVAILABLE')).toBe(true);
    }
    expect(await tables()).not.toContain('natfleet');
  });
});
