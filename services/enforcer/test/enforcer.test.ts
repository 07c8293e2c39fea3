// The enforcer core against FakeNft: apply, collapse, refusals (NACKs), nft failures and
// retries, read-back, persistence, fail-static restore and drift repair.
import { readFileSync, writeFileSync } from 'node:fs';
import { canonicalJson, encodeBundle, sealBundle } from '@natfleet/bundle';
import { FakeNft, NftKernelError, NftSyntaxError, NftTimeoutError, parseTerseListing, renderTransaction, tableComment, type Nft } from '@natfleet/nft';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Enforcer } from '../src/index.js';
import { body, CLUSTER, eventually, harness, message, metricValue, NODE, sealed, signingKey, tempDir, untrustedKey, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

const running: Enforcer[] = [];
async function started(h: ReturnType<typeof harness>): Promise<ReturnType<typeof harness>> {
  running.push(h.enforcer);
  await h.enforcer.start();
  return h;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

const commentOf = (nft: FakeNft): string | undefined => parseTerseListing(nft.dump()).comment;

describe('applying bundles', () => {
  it('applies a verified bundle, reads it back, saves it and reports applied', async () => {
    const h = await started(harness());
    const b = sealed(7);
    h.enforcer.offer(message(b));
    await eventually(() => h.enforcer.status().state === 'applied');
    expect(commentOf(h.nft)).toBe(tableComment(b));
    const s = h.enforcer.status();
    expect(s).toMatchObject({ appliedVersion: 7, appliedDigest: b.digest, error: '', errorCode: '', failedVersion: 0, driftRepairs: 0 });
    expect(s.applyMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(s.appliedAt)).not.toBeNaN();
    await h.enforcer.whenIdle(); // saved right after the report
    expect(readFileSync(h.store.path, 'utf8')).toBe(canonicalJson(b));
    expect(await metricValue(h.metrics, 'appliedVersion')).toBe(7);
    expect(await metricValue(h.metrics, 'applies', { result: 'success' })).toBe(1);
    expect(h.enforcer.readiness()).toEqual({ ok: true, detail: 'v7 applied' });
  });

  it('seconds since the last successful apply: NaN before the first, computed at scrape time, reset by the next apply only', async () => {
    const h = await started(harness({ retryIntervalMs: 60_000 }));
    expect(await metricValue(h.metrics, 'secondsSinceLastApply')).toBeNaN();
    h.enforcer.offer(message(sealed(1)));
    await eventually(() => h.enforcer.status().appliedVersion === 1);
    const first = await metricValue(h.metrics, 'secondsSinceLastApply');
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(await metricValue(h.metrics, 'secondsSinceLastApply')).toBeGreaterThanOrEqual(first + 0.25);
    // The delta is refused, and so is the whole-table swap the enforcer falls back to.
    h.nft.failNext(new NftKernelError('Device or resource busy', 'busy'));
    h.nft.failNext(new NftKernelError('Device or resource busy', 'busy'));
    h.enforcer.offer(message(sealed(2)));
    await eventually(() => h.enforcer.status().state === 'failed');
    expect(await metricValue(h.metrics, 'secondsSinceLastApply')).toBeGreaterThanOrEqual(first + 0.25); // a failed apply is not one
    expect(await metricValue(h.metrics, 'applyFailures', { code: 'NFT_KERNEL' })).toBe(1);
  });

  it('before any bundle: pending and ready, nothing applied', async () => {
    const h = await started(harness());
    expect(h.enforcer.status()).toMatchObject({ state: 'pending', appliedVersion: 0 });
    expect(h.enforcer.readiness().ok).toBe(true);
    expect(h.nft.applied).toBe(0);
  });

  it('a burst collapses to its newest message: one transaction', async () => {
    const h = await started(harness());
    for (let v = 1; v <= 5; v++) h.enforcer.offer(message(sealed(v)));
    h.enforcer.offer(message(sealed(3), 3)); // an older seq arriving late is dropped too
    await eventually(() => h.enforcer.status().appliedVersion === 5);
    await h.enforcer.whenIdle();
    expect(h.nft.applied).toBe(1);
    expect(await metricValue(h.metrics, 'bundlesSkipped', { reason: 'collapsed' })).toBe(5);
  });

  it('the bundle in force re-delivered (resync) changes nothing', async () => {
    const h = await started(harness());
    const b = sealed(3);
    h.enforcer.offer(message(b));
    await eventually(() => h.enforcer.status().appliedVersion === 3);
    const changes = h.changes.length;
    h.enforcer.offer(message(b, 10));
    await h.enforcer.whenIdle();
    await eventually(async () => (await metricValue(h.metrics, 'bundlesSkipped', { reason: 'current' })) === 1);
    expect(h.nft.applied).toBe(1);
    expect(h.changes.length).toBe(changes);
    expect(h.enforcer.status().state).toBe('applied');
  });
});

describe('refused messages leave the table alone', () => {
  const table: [string, () => Uint8Array, string][] = [
    ['signed by an untrusted key', () => encodeBundle(sealed(9, {}, untrustedKey)), 'UNKNOWN_KEY'],
    [
      'signature forged under a trusted key id',
      () => {
        const forged = sealed(9, {}, untrustedKey);
        return encodeBundle({ ...forged, signature: { ...forged.signature, keyId: signingKey.keyId } });
      },
      'BAD_SIGNATURE',
    ],
    ['body changed after sealing', () => encodeBundle({ ...sealed(9), fleet: { ...sealed(9).fleet, v4: { masquerade: ['0.0.0.0/0'], noNat: [] } } }), 'BAD_DIGEST'],
    ['truncated', () => encodeBundle(sealed(9)).subarray(0, 100), 'MALFORMED'],
    ['garbage', () => new TextEncoder().encode('\u0000\u0001 not a bundle'), 'MALFORMED'],
    ['truncated gzip', () => encodeBundle(sealed(9), { compressAbove: 0 }).subarray(0, 60), 'MALFORMED'],
    ['unsupported apiVersion', () => encodeBundle({ ...sealed(9), apiVersion: 'natfleet.io/v2' as never }), 'UNSUPPORTED_API_VERSION'],
    ['oversized', () => encodeBundle(sealed(9, { warnings: [{ key: 'k', code: 'X', reason: 'x'.repeat(4_000) }] })), 'TOO_LARGE'],
    ['for another cluster', () => encodeBundle(sealed(9, { cluster: 'elsewhere' })), 'WRONG_CLUSTER'],
    ['a genuine bundle re-published under another header version', () => encodeBundle(sealed(9)), 'HEADER_MISMATCH'],
  ];

  const cases = table.map(([what, make, code]) => ({ what, make, code }));
  // Not a genuine bundle: its header version (here 9e12) is unsigned, so it is no failure of
  // any version — the node stays applied and ready, the refusal is counted and noted.
  it.each(cases)('$what → $code, noted, never a failure', async ({ make, code }) => {
    const wire = make();
    const bytes = (): Uint8Array => wire;
    const h = await started(harness({ maxBundleBytes: 2_048 }));
    const good = sealed(5);
    h.enforcer.offer(message(good));
    await eventually(() => h.enforcer.status().appliedVersion === 5);
    const changes = h.changes.length;
    h.enforcer.offer(message(bytes(), 6, 9_000_000_000_000));
    await eventually(async () => (await metricValue(h.metrics, 'rejections', { code })) === 1);
    await h.enforcer.whenIdle();
    expect(h.enforcer.status()).toMatchObject({ state: 'applied', errorCode: '', error: '', failedVersion: 0, appliedVersion: 5, appliedDigest: good.digest });
    expect(h.enforcer.lastUnverified()).toMatchObject({ code, seq: 6, headerVersion: 9_000_000_000_000, message: expect.stringMatching(/.+/) });
    expect(h.changes.length).toBe(changes); // no status write for junk
    expect(commentOf(h.nft)).toBe(tableComment(good));
    expect(h.nft.applied).toBe(1);
    expect(h.enforcer.readiness()).toEqual({ ok: true, detail: 'v5 applied' });
    // The same stream message again (resync) is not reported twice.
    h.enforcer.offer(message(bytes(), 6, 9_000_000_000_000));
    await h.enforcer.whenIdle();
    expect(await metricValue(h.metrics, 'rejections', { code })).toBe(1);
    // What the feed asks to look past it: not genuine; the held version is 5.
    expect(h.enforcer.genuineVersion(message(bytes(), 6, 9_000_000_000_000))).toBeUndefined();
    expect(h.enforcer.genuineVersion(message(sealed(10), 7))).toBe(10);
    expect(h.enforcer.heldVersion()).toBe(5);
    // The next genuine bundle is applied as usual.
    h.enforcer.offer(message(sealed(10), 7));
    await eventually(() => h.enforcer.status().appliedVersion === 10);
    expect(h.enforcer.status()).toMatchObject({ appliedVersion: 10, errorCode: '', failedVersion: 0 });
    expect(h.enforcer.readiness()).toEqual({ ok: true, detail: 'v10 applied' });
  });

  it('an older (or equal) version is refused as STALE_VERSION', async () => {
    const h = await started(harness());
    h.enforcer.offer(message(sealed(8), 1));
    await eventually(() => h.enforcer.status().appliedVersion === 8);
    h.enforcer.offer(message(sealed(4, { fleet: { ...body(4).fleet, v4: { masquerade: [], noNat: [] } } }), 2));
    await eventually(() => h.enforcer.status().state === 'failed');
    expect(h.enforcer.status()).toMatchObject({ errorCode: 'STALE_VERSION', failedVersion: 4, appliedVersion: 8 });
    expect(h.nft.applied).toBe(1);
    // A replay of an older version: v8, the desired one, is still in force, so the node stays ready.
    expect(h.enforcer.readiness()).toEqual({ ok: true, detail: 'v8 applied; an older bundle v4 was refused (STALE_VERSION)' });
    h.enforcer.offer(message(sealed(8, { warnings: [{ key: 'k', code: 'C', reason: 'same version, other content' }] }), 3));
    await eventually(async () => (await metricValue(h.metrics, 'rejections', { code: 'STALE_VERSION' })) === 2);
    expect(await metricValue(h.metrics, 'bundlesSkipped', { reason: 'older' })).toBe(2);
    expect(h.nft.applied).toBe(1);
    // The same version with other content is a refusal for the desired version itself: not ready.
    expect(h.enforcer.readiness()).toMatchObject({ ok: false, detail: expect.stringMatching(/^bundle v8 refused \(STALE_VERSION\)/) });
  });
});

describe('nft failures', () => {
  it('an nft refusal reports failed with its code, keeps the old table, and retries on the timer', async () => {
    const h = await started(harness({ retryIntervalMs: 100 }));
    const good = sealed(1);
    h.enforcer.offer(message(good));
    await eventually(() => h.enforcer.status().appliedVersion === 1);
    // The delta is refused, then the whole-table swap the enforcer falls back to.
    h.nft.failNext(new NftSyntaxError('nft rejected line 5:12: conflicting intervals specified', 'stderr', 5, 12));
    h.nft.failNext(new NftSyntaxError('nft rejected line 5:12: conflicting intervals specified', 'stderr', 5, 12));
    h.enforcer.offer(message(sealed(2)));
    await eventually(() => h.enforcer.status().state === 'failed');
    expect(h.enforcer.status()).toMatchObject({ errorCode: 'NFT_SYNTAX', failedVersion: 2, appliedVersion: 1 });
    expect(commentOf(h.nft)).toBe(tableComment(good));
    expect(h.enforcer.readiness()).toEqual({ ok: false, detail: 'v2 not applied: nft rejected line 5:12: conflicting intervals specified (NFT_SYNTAX); v1 stays in force' });
    expect(await metricValue(h.metrics, 'applyFailures', { code: 'NFT_SYNTAX' })).toBe(1);
    expect(readFileSync(h.store.path, 'utf8')).toBe(canonicalJson(good)); // the saved bundle is still the one in force
    await eventually(() => h.enforcer.status().appliedVersion === 2);
    expect(h.enforcer.status()).toMatchObject({ state: 'applied', errorCode: '' });
    expect(h.enforcer.readiness()).toEqual({ ok: true, detail: 'v2 applied' });
    expect(await metricValue(h.metrics, 'applies', { result: 'failure' })).toBe(1);
    expect(await metricValue(h.metrics, 'applyFailures', { code: 'NFT_SYNTAX' })).toBe(1);
  });

  it('retries back off exponentially while nft keeps failing', async () => {
    const h = await started(harness({ retryIntervalMs: 40 }));
    for (let i = 0; i < 4; i++) h.nft.failNext(new NftKernelError('Device or resource busy', 'busy'));
    const t0 = Date.now();
    h.enforcer.offer(message(sealed(1)));
    await eventually(() => h.enforcer.status().appliedVersion === 1);
    // 40 + 80 + 160 + 320 ms of backoff before the fifth attempt succeeds.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(590);
    expect(await metricValue(h.metrics, 'applies', { result: 'failure' })).toBe(4);
  });

  it('a read-back that does not match is READBACK_MISMATCH', async () => {
    const fake = new FakeNft();
    let lie = false;
    const nft: Nft = {
      applyTransaction: (t) => fake.applyTransaction(t),
      check: (t) => fake.check(t),
      deleteTable: () => fake.deleteTable(),
      readTableContents: () => fake.readTableContents(),
      generation: () => fake.generation(),
      readTable: () => fake.readTable(),
      readMarker: async () => (lie ? 'natfleet v0 someone-else' : fake.readMarker()),
      backend: 'fake',
      close: () => fake.close(),
    };
    const h = await started(harness({ nft }));
    lie = true;
    h.enforcer.offer(message(sealed(1)));
    await eventually(() => h.enforcer.status().state === 'failed');
    expect(h.enforcer.status()).toMatchObject({ errorCode: 'READBACK_MISMATCH', failedVersion: 1, appliedVersion: 0 });
  });

  it('an nft timeout that did commit is recognised by the read-back', async () => {
    const fake = new FakeNft();
    const nft: Nft = {
      applyTransaction: async (t) => {
        await fake.applyTransaction(t);
        throw new NftTimeoutError('apply', 10);
      },
      check: (t) => fake.check(t),
      deleteTable: () => fake.deleteTable(),
      readTable: () => fake.readTable(),
      readTableContents: () => fake.readTableContents(),
      generation: () => fake.generation(),
      readMarker: () => fake.readMarker(),
      backend: 'fake',
      close: () => fake.close(),
    };
    const h = await started(harness({ nft }));
    h.enforcer.offer(message(sealed(4)));
    await eventually(() => h.enforcer.status().appliedVersion === 4);
    expect(h.enforcer.status().state).toBe('applied');
  });

  it('a save failure after a good apply is reported (STATE_WRITE_FAILED) while the new table is in force', async () => {
    const h = await started(harness({ dir: '/dev/null/natfleet' }));
    expect(h.enforcer.status()).toMatchObject({ state: 'failed', errorCode: 'STATE_READ_FAILED' }); // the saved bundle cannot even be looked for
    h.enforcer.offer(message(sealed(3)));
    await eventually(() => h.enforcer.status().appliedVersion === 3);
    expect(h.enforcer.status()).toMatchObject({ errorCode: 'STATE_WRITE_FAILED', appliedVersion: 3, failedVersion: 3 });
  });
});

describe('fail static', () => {
  it('a restarted enforcer re-applies the saved bundle before any message arrives', async () => {
    const dir = tempDir();
    const first = await started(harness({ dir }));
    const b = sealed(12);
    first.enforcer.offer(message(b));
    await eventually(() => first.enforcer.status().appliedVersion === 12);
    await first.enforcer.stop();

    const rebooted = harness({ dir }); // fresh FakeNft: the node rebooted, the table is gone
    running.push(rebooted.enforcer);
    expect(await rebooted.enforcer.start()).toEqual({ type: 'applied', version: 12 });
    expect(commentOf(rebooted.nft)).toBe(tableComment(b));
    expect(rebooted.enforcer.status()).toMatchObject({ state: 'applied', appliedVersion: 12, appliedDigest: b.digest });
    // The same bundle arriving from NATS later is nothing new; an older one is stale.
    rebooted.enforcer.offer(message(b, 40));
    rebooted.enforcer.offer(message(b, 41));
    await rebooted.enforcer.whenIdle();
    expect(rebooted.nft.applied).toBe(1);
  });

  it('a restart without reboot adopts the table in force without swapping it', async () => {
    const dir = tempDir();
    const nft = new FakeNft();
    const b = sealed(2);
    await nft.applyTransaction(renderTransaction(b, NODE));
    const first = harness({ dir });
    await first.store.save(encodeBundle(b, { compressAbove: Infinity }));
    const h = await started(harness({ dir, nft }));
    expect(h.enforcer.status()).toMatchObject({ state: 'applied', appliedVersion: 2 });
    expect(nft.applied).toBe(1);
  });

  it('a tampered saved bundle is refused and not applied', async () => {
    const dir = tempDir();
    const first = harness({ dir });
    const b = sealed(5);
    const tampered = { ...JSON.parse(canonicalJson(b)), fleet: { ...b.fleet, v4: { masquerade: ['0.0.0.0/0'], noNat: [] } } };
    await first.store.save(new TextEncoder().encode(JSON.stringify(tampered)));
    const h = harness({ dir });
    running.push(h.enforcer);
    expect(await h.enforcer.start()).toMatchObject({ type: 'refused', code: 'BAD_DIGEST' });
    expect(h.nft.applied).toBe(0);
    expect(h.enforcer.status()).toMatchObject({ state: 'failed', errorCode: 'BAD_DIGEST', appliedVersion: 0 });
    expect(h.enforcer.readiness()).toEqual({ ok: false, detail: expect.stringMatching(/^saved bundle refused: .+ \(BAD_DIGEST\); nothing enforced$/) });
    // The next good bundle from NATS is applied and clears the failure.
    h.enforcer.offer(message(sealed(6)));
    await eventually(() => h.enforcer.status().state === 'applied');
    expect(h.enforcer.readiness()).toEqual({ ok: true, detail: 'v6 applied' });
  });

  it('a saved bundle for another cluster is refused', async () => {
    const dir = tempDir();
    writeFileSync(`${dir}/bundle.json`, encodeBundle(sealBundle(body(3, { cluster: 'other' }), signingKey)));
    const h = harness({ dir });
    running.push(h.enforcer);
    expect(await h.enforcer.start()).toMatchObject({ type: 'refused', code: 'WRONG_CLUSTER' });
    expect(CLUSTER).not.toBe('other');
  });
});

describe('drift repair', () => {
  it('restores a deleted table and a replaced table, and counts both', async () => {
    const h = await started(harness({ driftIntervalMs: 30 }));
    const b = sealed(3);
    h.enforcer.offer(message(b));
    await eventually(() => h.enforcer.status().appliedVersion === 3);
    await h.nft.deleteTable();
    await eventually(() => h.enforcer.status().driftRepairs === 1);
    expect(commentOf(h.nft)).toBe(tableComment(b));
    await h.nft.applyTransaction(renderTransaction(sealed(99), NODE));
    await eventually(() => h.enforcer.status().driftRepairs === 2);
    expect(commentOf(h.nft)).toBe(tableComment(b));
    expect(await metricValue(h.metrics, 'driftRepairs')).toBe(2);
    expect(h.enforcer.status().state).toBe('applied');
  });

  it('repairs towards the bundle in force, not a newer one that failed', async () => {
    const h = await started(harness({ driftIntervalMs: 30, retryIntervalMs: 60_000 }));
    const good = sealed(1);
    h.enforcer.offer(message(good));
    await eventually(() => h.enforcer.status().appliedVersion === 1);
    h.nft.failNext(new NftSyntaxError('bad', 'bad')); // the delta
    h.nft.failNext(new NftSyntaxError('bad', 'bad')); // the whole-table swap after it
    h.enforcer.offer(message(sealed(2)));
    await eventually(() => h.enforcer.status().state === 'failed');
    await h.nft.deleteTable();
    await eventually(() => h.enforcer.status().driftRepairs === 1);
    expect(commentOf(h.nft)).toBe(tableComment(good));
    expect(h.enforcer.status()).toMatchObject({ state: 'failed', errorCode: 'NFT_SYNTAX', failedVersion: 2 });
  });

  it('a failed repair is reported (not ready) and retried at the next check', async () => {
    const fake = new FakeNft();
    let failApplies = 0;
    const nft: Nft = {
      applyTransaction: async (t) => {
        if (failApplies > 0) {
          failApplies--;
          throw new NftKernelError('Operation not supported', 'x');
        }
        await fake.applyTransaction(t);
      },
      check: (t) => fake.check(t),
      deleteTable: () => fake.deleteTable(),
      readTable: () => fake.readTable(),
      readTableContents: () => fake.readTableContents(),
      generation: () => fake.generation(),
      readMarker: () => fake.readMarker(),
      backend: 'fake',
      close: () => fake.close(),
    };
    const h = await started(harness({ nft, driftIntervalMs: 100 }));
    h.enforcer.offer(message(sealed(1)));
    await eventually(() => h.enforcer.status().appliedVersion === 1);
    failApplies = 1;
    await fake.deleteTable();
    await eventually(() => h.enforcer.status().state === 'failed');
    expect(h.enforcer.status()).toMatchObject({ errorCode: 'NFT_KERNEL', failedVersion: 1, appliedVersion: 1, driftRepairs: 0 });
    expect(h.enforcer.readiness().ok).toBe(false);
    await eventually(() => h.enforcer.status().driftRepairs === 1);
    expect(h.enforcer.status()).toMatchObject({ state: 'applied', errorCode: '' });
    expect(h.enforcer.readiness().ok).toBe(true);
  });
});

describe('drift repair: set contents and the ruleset generation', () => {
  /** Eight v4 pools, as in the incident (issue 12 item 12). */
  const POOLS = Array.from({ length: 8 }, (_, i) => `10.${64 + i}.0.0/16`);
  /** How they are listed: set masq_v4_16 / nonat_v4_16 (one hash set per prefix length) holds their network addresses. */
  const NETS = POOLS.map((cidr) => cidr.split('/')[0]!);
  const pooled = (version: number) =>
    sealed(version, { fleet: { ...body(version).fleet, v4: { masquerade: POOLS, noNat: [...POOLS, '10.96.0.0/12'] } } });

  /** Someone else's edit of the table text: keeps the elements of `set` for which `keep` holds. */
  const editElements =
    (set: string, keep: (element: string) => boolean) =>
    (table: string): string =>
      table.replace(new RegExp(`(\\tset ${set} \\{\\n(?:\\t\\t(?!elements)[^\\n]*\\n)*)\\t\\telements = \\{ ([^}]*) \\}\\n`), (_m, head: string, list: string) => {
        const kept = list.split(', ').filter(keep);
        return kept.length > 0 ? `${head}\t\telements = { ${kept.join(', ')} }\n` : head;
      });
  const elementsOf = async (nft: Nft, set: string): Promise<readonly string[] | undefined> => (await nft.readTableContents())?.elements?.[set];

  /** FakeNft counting full listings. */
  function counting(fake = new FakeNft()): { nft: Nft; fake: FakeNft; listings: () => number } {
    let listings = 0;
    const nft: Nft = {
      applyTransaction: (t) => fake.applyTransaction(t),
      check: (t) => fake.check(t),
      deleteTable: () => fake.deleteTable(),
      readTable: () => fake.readTable(),
      readTableContents: () => {
        listings++;
        return fake.readTableContents();
      },
      generation: () => fake.generation(),
      readMarker: () => fake.readMarker(),
      backend: 'fake',
      close: () => fake.close(),
    };
    return { nft, fake, listings: () => listings };
  }

  it('a flushed set (comment and rules intact) is restored and counted; status stays applied', async () => {
    const h = await started(harness({ driftIntervalMs: 20 }));
    const b = pooled(3);
    h.enforcer.offer(message(b));
    await eventually(() => h.enforcer.status().appliedVersion === 3);
    await h.enforcer.whenIdle();
    h.nft.foreignCommit(editElements('masq_v4_16', () => false)); // nft flush set inet natfleet masq_v4_16
    expect(await elementsOf(h.nft, 'masq_v4_16')).toEqual([]);
    expect(commentOf(h.nft)).toBe(tableComment(b)); // what the old check looked at
    await eventually(() => h.enforcer.status().driftRepairs === 1);
    expect(await elementsOf(h.nft, 'masq_v4_16')).toEqual(NETS);
    expect(h.enforcer.status()).toMatchObject({ state: 'applied', appliedVersion: 3, errorCode: '', driftRepairs: 1 });
    expect(await metricValue(h.metrics, 'driftRepairs')).toBe(1);
    expect(await metricValue(h.metrics, 'driftChecks', { result: 'drift' })).toBe(1);
  });

  it('one deleted element is restored', async () => {
    const h = await started(harness({ driftIntervalMs: 20 }));
    h.enforcer.offer(message(pooled(4)));
    await eventually(() => h.enforcer.status().appliedVersion === 4);
    h.nft.foreignCommit(editElements('masq_v4_16', (e) => e !== NETS[5]));
    await eventually(() => h.enforcer.status().driftRepairs === 1);
    expect(await elementsOf(h.nft, 'masq_v4_16')).toEqual(NETS);
    expect(await elementsOf(h.nft, 'nonat_v4_16')).toEqual(NETS);
  });

  it('an added element is removed again', async () => {
    const h = await started(harness({ driftIntervalMs: 20 }));
    h.enforcer.offer(message(pooled(5)));
    await eventually(() => h.enforcer.status().appliedVersion === 5);
    h.nft.foreignCommit((t) => t.replace('elements = { 10.64.0.0,', 'elements = { 10.0.0.0, 10.64.0.0,'));
    expect(await elementsOf(h.nft, 'masq_v4_16')).toContain('10.0.0.0');
    await eventually(() => h.enforcer.status().driftRepairs === 1);
    expect(await elementsOf(h.nft, 'masq_v4_16')).toEqual(NETS);
  });

  it('lists the table only when the generation moved; a commit elsewhere is verified once, not repaired', async () => {
    const c = counting();
    const h = await started(harness({ nft: c.nft, driftIntervalMs: 10 }));
    h.enforcer.offer(message(pooled(6)));
    await eventually(() => h.enforcer.status().appliedVersion === 6);
    // The apply's own commit is recognised (generation +1): no listing needed.
    await new Promise((r) => setTimeout(r, 150));
    expect(c.listings()).toBe(0);
    expect(await metricValue(h.metrics, 'driftChecks', { result: 'ok' })).toBeGreaterThan(3);
    c.fake.foreignCommit(); // another table changed
    await eventually(() => c.listings() === 1);
    await new Promise((r) => setTimeout(r, 150));
    expect(c.listings()).toBe(1);
    expect(h.enforcer.status().driftRepairs).toBe(0);
  });

  it('a change committed between our apply and the generation read is caught by a verification', async () => {
    const fake = new FakeNft();
    let sneak = false;
    const nft: Nft = {
      applyTransaction: async (t) => {
        await fake.applyTransaction(t);
        // Another process commits right after our transaction.
        if (sneak) fake.foreignCommit(editElements('masq_v4_16', () => false));
      },
      check: (t) => fake.check(t),
      deleteTable: () => fake.deleteTable(),
      readTable: () => fake.readTable(),
      readTableContents: () => fake.readTableContents(),
      generation: () => fake.generation(),
      readMarker: () => fake.readMarker(),
      backend: 'fake',
      close: () => fake.close(),
    };
    const h = await started(harness({ nft, driftIntervalMs: 20 }));
    h.enforcer.offer(message(pooled(1)));
    await eventually(() => h.enforcer.status().appliedVersion === 1);
    await h.enforcer.whenIdle();
    sneak = true;
    h.enforcer.offer(message(pooled(2)));
    await eventually(() => h.enforcer.status().appliedVersion === 2);
    sneak = false;
    await eventually(() => h.enforcer.status().driftRepairs === 1);
    expect(await elementsOf(fake, 'masq_v4_16')).toEqual(NETS);
  });

  it('a restart adopting the table in force verifies its set elements at the first check', async () => {
    const dir = tempDir();
    const nft = new FakeNft();
    const b = pooled(2);
    await nft.applyTransaction(renderTransaction(b, NODE));
    nft.foreignCommit(editElements('masq_v4_16', () => false)); // flushed while the enforcer was down
    await harness({ dir }).store.save(encodeBundle(b, { compressAbove: Infinity }));
    const h = await started(harness({ dir, nft, driftIntervalMs: 20 }));
    expect(h.enforcer.status()).toMatchObject({ state: 'applied', appliedVersion: 2 });
    await eventually(() => h.enforcer.status().driftRepairs === 1);
    expect(await elementsOf(nft, 'masq_v4_16')).toEqual(NETS);
  });

  it('without a readable generation every check verifies the set elements', async () => {
    const fake = new FakeNft();
    const nft: Nft = {
      applyTransaction: (t) => fake.applyTransaction(t),
      check: (t) => fake.check(t),
      deleteTable: () => fake.deleteTable(),
      readTable: () => fake.readTable(),
      readTableContents: () => fake.readTableContents(),
      generation: () => Promise.reject(new NftKernelError('Operation not permitted', 'netlink: Operation not permitted')),
      readMarker: () => fake.readMarker(),
      backend: 'fake',
      close: () => fake.close(),
    };
    const h = await started(harness({ nft, driftIntervalMs: 20 }));
    h.enforcer.offer(message(pooled(7)));
    await eventually(() => h.enforcer.status().appliedVersion === 7);
    fake.foreignCommit(editElements('nonat_v4_16', () => false));
    await eventually(() => h.enforcer.status().driftRepairs === 1);
    expect(await elementsOf(fake, 'nonat_v4_16')).toEqual(NETS);
    expect(h.enforcer.status().state).toBe('applied');
  });
});
