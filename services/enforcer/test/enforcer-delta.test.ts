// Issue 16 in the enforcer core, against FakeNft: a bundle after the first goes in as a
// delta when the live table is exactly the one applied; a rule-shape change, a commit by
// someone else not yet verified, or a delta the kernel refuses make it a whole-table swap;
// `applied` is reported before the bundle is saved, and a save failure is still reported.
import { readFileSync } from 'node:fs';
import { canonicalJson } from '@natfleet/bundle';
import { FakeNft, NftKernelError, parseTableListing, renderTable, tableComment, type Nft } from '@natfleet/nft';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { StateFileError, type Enforcer } from '../src/index.js';
import { body, eventually, harness, message, metricValue, NODE, removeTempDirs, sealed } from './helpers.js';

afterAll(removeTempDirs);
const running: Enforcer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

/** FakeNft recording every transaction text it was given (committed or not). */
function recording(fake = new FakeNft(), refuseDeltas = 0): { nft: Nft; fake: FakeNft; texts: string[] } {
  const texts: string[] = [];
  let refuse = refuseDeltas;
  const nft: Nft = {
    backend: 'fake',
    applyTransaction: async (t) => {
      texts.push(t);
      if (refuse > 0 && isDelta(t)) {
        refuse--;
        throw new NftKernelError('Could not process rule: No such file or directory', 'delete element inet natfleet marker');
      }
      await fake.applyTransaction(t);
    },
    check: (t) => fake.check(t),
    deleteTable: () => fake.deleteTable(),
    readTable: () => fake.readTable(),
    readTableContents: () => fake.readTableContents(),
    readMarker: () => fake.readMarker(),
    generation: () => fake.generation(),
    close: () => fake.close(),
  };
  return { nft, fake, texts };
}
const isDelta = (t: string): boolean => t.startsWith('delete element inet natfleet marker');

/** v4 pools 10.<64+i>.0.0/24 for i < n: one prefix length whatever n is, so adding pools keeps the shape. */
const pools = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.${64 + i}.0.0/24`);
const withPools = (version: number, n: number, settings = body(version).fleet.settings) =>
  sealed(version, { fleet: { ...body(version).fleet, settings, v4: { masquerade: pools(n), noNat: pools(n) } } });

async function started(nft: Nft, o: { driftIntervalMs?: number } = {}) {
  const h = harness({ nft, ...o });
  running.push(h.enforcer);
  await h.enforcer.start();
  return h;
}

describe('delta applies', () => {
  it('the first bundle is a whole-table swap; the next ones are deltas of the changed elements and the marker, leaving exactly the table of the last bundle', async () => {
    const r = recording();
    const h = await started(r.nft);
    h.enforcer.offer(message(withPools(1, 3)));
    await eventually(() => h.enforcer.status().appliedVersion === 1);
    await h.enforcer.whenIdle();
    h.enforcer.offer(message(withPools(2, 4)));
    await eventually(() => h.enforcer.status().appliedVersion === 2);
    await h.enforcer.whenIdle();
    h.enforcer.offer(message(withPools(3, 2)));
    await eventually(() => h.enforcer.status().appliedVersion === 3);
    expect(r.texts.map(isDelta)).toEqual([false, true, true]);
    expect(r.texts[1]).toContain('add element inet natfleet masq_v4_24 { 10.67.0.0 }');
    expect(r.texts[1]).not.toContain('10.64.0.0'); // unchanged elements are not touched
    expect(r.texts[2]).toContain('delete element inet natfleet masq_v4_24 { 10.66.0.0, 10.67.0.0 }');
    expect(await metricValue(h.metrics, 'appliesByMode', { mode: 'full' })).toBe(1);
    expect(await metricValue(h.metrics, 'appliesByMode', { mode: 'delta' })).toBe(2);
    // The table after the deltas is the one a fresh swap of v3 gives.
    expect(parseTableListing(r.fake.dump())).toEqual(parseTableListing(renderTable(withPools(3, 2), NODE)));
    expect(await r.fake.readMarker()).toBe(tableComment(withPools(3, 2)));
  });

  it('a rule-shape change (new settings) is a whole-table swap', async () => {
    const r = recording();
    const h = await started(r.nft);
    h.enforcer.offer(message(withPools(1, 3)));
    await eventually(() => h.enforcer.status().appliedVersion === 1);
    await h.enforcer.whenIdle();
    h.enforcer.offer(message(withPools(2, 3, { fullyRandom: true, exclusions: 'IPPoolsOnly' })));
    await eventually(() => h.enforcer.status().appliedVersion === 2);
    expect(r.texts.map(isDelta)).toEqual([false, false]);
    expect(r.fake.dump()).toContain('fully-random');
  });

  it('after a commit by someone else, the next apply is a whole-table swap until a drift check has verified the table again', async () => {
    const r = recording();
    const h = await started(r.nft);
    h.enforcer.offer(message(withPools(1, 3)));
    await eventually(() => h.enforcer.status().appliedVersion === 1);
    await h.enforcer.whenIdle();
    r.fake.foreignCommit(); // another table changed: the generation moved
    h.enforcer.offer(message(withPools(2, 4)));
    await eventually(() => h.enforcer.status().appliedVersion === 2);
    await h.enforcer.whenIdle();
    expect(r.texts.map(isDelta)).toEqual([false, false]);
    // Its own swap is recognised (generation + 1): the next one is a delta again.
    h.enforcer.offer(message(withPools(3, 5)));
    await eventually(() => h.enforcer.status().appliedVersion === 3);
    expect(r.texts.map(isDelta)).toEqual([false, false, true]);
  });

  it('a foreign commit verified by a drift check lets deltas resume without a swap', async () => {
    const r = recording();
    const h = await started(r.nft, { driftIntervalMs: 20 });
    h.enforcer.offer(message(withPools(1, 3)));
    await eventually(() => h.enforcer.status().appliedVersion === 1);
    r.fake.foreignCommit(); // another table changed
    await eventually(async () => (await metricValue(h.metrics, 'driftChecks', { result: 'ok' })) >= 3);
    h.enforcer.offer(message(withPools(2, 4)));
    await eventually(() => h.enforcer.status().appliedVersion === 2);
    expect(r.texts.map(isDelta)).toEqual([false, true]);
    expect(h.enforcer.status().driftRepairs).toBe(0);
  });

  it('a delta the kernel refuses changes nothing; the whole-table swap follows in the same apply', async () => {
    const r = recording(new FakeNft(), 1);
    const h = await started(r.nft);
    h.enforcer.offer(message(withPools(1, 3)));
    await eventually(() => h.enforcer.status().appliedVersion === 1);
    await h.enforcer.whenIdle();
    h.enforcer.offer(message(withPools(2, 4)));
    await eventually(() => h.enforcer.status().appliedVersion === 2);
    expect(r.texts.map(isDelta)).toEqual([false, true, false]);
    expect(h.enforcer.status()).toMatchObject({ state: 'applied', errorCode: '', failedVersion: 0 });
    expect(await metricValue(h.metrics, 'deltaFallbacks')).toBe(1);
    expect(await metricValue(h.metrics, 'applies', { result: 'failure' })).toBe(0);
    expect(await r.fake.readMarker()).toBe(tableComment(withPools(2, 4)));
  });
});

describe('report first, then persist', () => {
  it('applied is reported while the save is still running; the file holds the bundle right after', async () => {
    const r = recording();
    const h = await started(r.nft);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const save = h.store.save.bind(h.store);
    let saving = false;
    h.store.save = async (bytes: Uint8Array) => {
      saving = true;
      await gate;
      await save(bytes);
    };
    const b = withPools(5, 2);
    h.enforcer.offer(message(b));
    await eventually(() => h.changes.some((s) => s.appliedVersion === 5 && s.state === 'applied'));
    expect(saving).toBe(true); // reported before the save finished
    expect(() => readFileSync(h.store.path)).toThrow(); // nothing saved yet
    release();
    await h.enforcer.whenIdle();
    expect(readFileSync(h.store.path, 'utf8')).toBe(canonicalJson(b));
  });

  it('a save that fails after the report is reported too (persist problem), and retried', async () => {
    const r = recording();
    const h = harness({ nft: r.nft, retryIntervalMs: 50 });
    running.push(h.enforcer);
    await h.enforcer.start();
    const save = h.store.save.bind(h.store);
    let failures = 1;
    h.store.save = async (bytes: Uint8Array) => {
      if (failures-- > 0) throw new StateFileError('STATE_WRITE_FAILED', h.store.path, { cause: Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }) });
      await save(bytes);
    };
    const b = withPools(6, 2);
    h.enforcer.offer(message(b));
    await eventually(() => h.changes.some((s) => s.errorCode === 'STATE_WRITE_FAILED'));
    expect(h.changes.find((s) => s.errorCode === 'STATE_WRITE_FAILED')).toMatchObject({ appliedVersion: 6 });
    await eventually(() => h.enforcer.status().errorCode === '');
    expect(readFileSync(h.store.path, 'utf8')).toBe(canonicalJson(b));
  });
});
