// The enforcer core under staged-rollout admissions, against FakeNft: target selection
// (newest / version / keep), bundles held but not applied, rollback to an older stable
// bundle, replays and forgeries refused, the target fetched when not held, the failed
// candidate cleared after a rollback, and the admission persisted across restarts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBundle } from '@natfleet/bundle';
import { FakeNft, NftKernelError, parseTerseListing, tableComment } from '@natfleet/nft';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ADMISSION_FILE, type Enforcer, type HealthContext, type HealthMonitor } from '../src/index.js';
import { admission, admissionBytes, eventually, harness, message, metricValue, NODE, sealed, tempDir, untrustedKey, removeTempDirs, wave } from './helpers.js';

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

/** Offers a bundle and waits until the loop has taken it up. */
async function offerBundle(e: Enforcer, v: ReturnType<typeof sealed>): Promise<void> {
  e.offer(message(v));
  await e.whenIdle();
}
async function offerAdmission(e: Enforcer, bytes: Uint8Array): Promise<void> {
  e.offerAdmission(bytes);
  await e.whenIdle();
}

describe('target selection', () => {
  it("policy '' is today's behaviour: every newer bundle at once, an older one refused as STALE_VERSION", async () => {
    const h = await started(harness());
    const [b1, b2] = [sealed(1), sealed(2)];
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 5, policy: '', version: 1, digest: b1.digest, everyone: true }));
    await offerBundle(h.enforcer, b1);
    await offerBundle(h.enforcer, b2);
    expect(h.enforcer.status()).toMatchObject({ state: 'applied', appliedVersion: 2, admissionRevision: 5 });
    expect(commentOf(h.nft)).toBe(tableComment(b2));
    h.enforcer.offer(message(b1, 10));
    await h.enforcer.whenIdle();
    expect(h.enforcer.status()).toMatchObject({ state: 'failed', errorCode: 'STALE_VERSION', failedVersion: 1, appliedVersion: 2 });
    expect(h.enforcer.readiness().ok).toBe(true); // a replay of an older bundle: the node runs what it should
  });

  it('a newer bundle is held, not applied, while the node is not admitted; an admission naming it applies it; one with no waves rolls it back to the older stable', async () => {
    const h = await started(harness());
    const [b1, b2] = [sealed(1), sealed(2)];
    await offerBundle(h.enforcer, b1);
    expect(h.nft.applied).toBe(1);
    const stable = { version: 1, digest: b1.digest };
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 10, version: 2, digest: b2.digest, waves: [wave('canary', ['node-2'])], stable }));
    await offerBundle(h.enforcer, b2);
    expect(h.nft.applied).toBe(1);
    expect(commentOf(h.nft)).toBe(tableComment(b1));
    expect(h.enforcer.status()).toMatchObject({ state: 'applied', appliedVersion: 1, admissionRevision: 10 });
    expect(await metricValue(h.metrics, 'bundlesSkipped', { reason: 'held' })).toBe(1);
    expect(h.enforcer.admissionView()).toMatchObject({ admitted: false, target: 'v1', heldVersions: [1, 2] });
    expect(h.enforcer.readiness()).toEqual({ ok: true, detail: 'v1 applied' });

    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 11, version: 2, digest: b2.digest, waves: [wave('canary', ['node-2', NODE])], stable }));
    expect(commentOf(h.nft)).toBe(tableComment(b2));
    expect(h.enforcer.status()).toMatchObject({ state: 'applied', appliedVersion: 2, admissionRevision: 11 });
    expect(h.enforcer.admissionView()).toMatchObject({ admitted: true, target: 'v2 (candidate)' });

    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 12, version: 2, digest: b2.digest, waves: [], stable, phase: 'rolled-back' }));
    expect(commentOf(h.nft)).toBe(tableComment(b1));
    expect(h.enforcer.status()).toMatchObject({ state: 'applied', appliedVersion: 1, admissionRevision: 12, errorCode: '' });
    expect(h.nft.applied).toBe(3);
    expect(readFileSync(h.store.path, 'utf8')).toBe(Buffer.from(encodeBundle(b1, { compressAbove: Infinity })).toString('utf8'));
  });

  it('a `rest` wave admits every node not named earlier; everyone admitted applies the candidate', async () => {
    const h = await started(harness());
    const [b1, b2, b3] = [sealed(1), sealed(2), sealed(3)];
    await offerBundle(h.enforcer, b1);
    const stable = { version: 1, digest: b1.digest };
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 3, version: 2, digest: b2.digest, waves: [wave('a', ['x']), wave('rest', [], true)], stable }));
    await offerBundle(h.enforcer, b2);
    expect(h.enforcer.status().appliedVersion).toBe(2);
    // A newer bundle while v2 is the candidate: held, not applied.
    await offerBundle(h.enforcer, b3);
    expect(h.enforcer.status().appliedVersion).toBe(2);
    expect(commentOf(h.nft)).toBe(tableComment(b2));
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 4, version: 3, digest: b3.digest, everyone: true, stable: { version: 2, digest: b2.digest }, phase: 'completed' }));
    expect(h.enforcer.status().appliedVersion).toBe(3);
  });

  it('keep: not admitted and no stable version: the table stays and newer bundles are held', async () => {
    const h = await started(harness());
    const [b1, b2] = [sealed(1), sealed(2)];
    await offerBundle(h.enforcer, b1);
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 7, version: 2, digest: b2.digest, waves: [wave('canary', ['other'])] }));
    await offerBundle(h.enforcer, b2);
    expect(h.enforcer.status()).toMatchObject({ state: 'applied', appliedVersion: 1 });
    expect(h.enforcer.admissionView()?.target).toBe('keep');
    expect(h.nft.applied).toBe(1);
  });
});

describe('admission verification and ordering', () => {
  it('a replayed admission with a lower (or equal) stateRevision is ignored and counted', async () => {
    const h = await started(harness());
    const [b1, b2] = [sealed(1), sealed(2)];
    await offerBundle(h.enforcer, b1);
    const stable = { version: 1, digest: b1.digest };
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 20, version: 2, digest: b2.digest, waves: [wave('c', [NODE])], stable }));
    await offerBundle(h.enforcer, b2);
    expect(h.enforcer.status().appliedVersion).toBe(2);
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 19, version: 2, digest: b2.digest, waves: [], stable, phase: 'rolled-back' }));
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 20, version: 2, digest: b2.digest, waves: [], stable, phase: 'rolled-back' }));
    expect(h.enforcer.status()).toMatchObject({ appliedVersion: 2, admissionRevision: 20 });
    expect(commentOf(h.nft)).toBe(tableComment(b2));
    expect(await metricValue(h.metrics, 'admissions', { result: 'ignored' })).toBe(2);
    expect(await metricValue(h.metrics, 'admissions', { result: 'accepted' })).toBe(1);
    expect(await metricValue(h.metrics, 'admissionRevision')).toBe(20);
  });

  it('a forged admission (untrusted key), garbage and another cluster’s are refused, noted and counted, never acted on nor a failure', async () => {
    const h = await started(harness());
    const [b1, b2] = [sealed(1), sealed(2)];
    await offerBundle(h.enforcer, b1);
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 99, version: 2, digest: b2.digest, waves: [], stable: null }, untrustedKey));
    expect(h.enforcer.lastUnverifiedAdmission()).toMatchObject({ code: 'UNKNOWN_KEY', claimedStateRevision: 99 });
    expect(h.enforcer.admission()).toBeUndefined();
    // Not acted on: a newer bundle is applied at once as without any admission.
    await offerBundle(h.enforcer, b2);
    expect(h.enforcer.status()).toMatchObject({ state: 'applied', appliedVersion: 2, admissionRevision: 0, errorCode: '' });
    await offerAdmission(h.enforcer, Buffer.from('{"not":"an admission"'));
    expect(h.enforcer.lastUnverifiedAdmission()?.code).toBe('MALFORMED');
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 100, cluster: 'other', version: 2, digest: b2.digest }));
    expect(h.enforcer.lastUnverifiedAdmission()?.code).toBe('WRONG_CLUSTER');
    expect(h.enforcer.readiness().ok).toBe(true);
    expect(await metricValue(h.metrics, 'admissions', { result: 'refused' })).toBe(3);
    expect(await metricValue(h.metrics, 'rejections', { code: 'UNKNOWN_KEY' })).toBe(1);
  });

  it('the newest verified admission is saved and restored at start (verified again): a replay after a restart is still ignored', async () => {
    const dir = tempDir();
    const [b1, b2] = [sealed(1), sealed(2)];
    const stable = { version: 1, digest: b1.digest };
    const h1 = await started(harness({ dir }));
    await offerBundle(h1.enforcer, b1);
    await offerAdmission(h1.enforcer, admissionBytes({ stateRevision: 30, version: 2, digest: b2.digest, waves: [], stable }));
    await h1.enforcer.stop();
    expect(JSON.parse(readFileSync(join(dir, ADMISSION_FILE), 'utf8'))).toMatchObject({ stateRevision: 30 });

    const h2 = await started(harness({ dir, nft: h1.nft }));
    expect(h2.enforcer.admission()?.stateRevision).toBe(30);
    expect(await metricValue(h2.metrics, 'admissions', { result: 'restored' })).toBe(1);
    // A replay of an admission that named this node is ignored; the newer bundle stays held.
    await offerAdmission(h2.enforcer, admissionBytes({ stateRevision: 29, version: 2, digest: b2.digest, waves: [wave('c', [NODE])], stable }));
    await offerBundle(h2.enforcer, b2);
    expect(h2.enforcer.status()).toMatchObject({ appliedVersion: 1, admissionRevision: 30 });
    await h2.enforcer.stop();

    // A tampered file is not restored.
    const file = join(dir, ADMISSION_FILE);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"stateRevision":30', '"stateRevision":31'));
    const h3 = await started(harness({ dir, nft: h1.nft }));
    expect(h3.enforcer.admission()).toBeUndefined();
    expect(await metricValue(h3.metrics, 'rejections', { code: 'BAD_DIGEST' })).toBe(1);
  });
});

describe('a target not held', () => {
  it('is fetched through the callback, retried while absent; meanwhile the table stays and the node reports TARGET_UNAVAILABLE', async () => {
    const [b1, b3] = [sealed(1), sealed(3)];
    const asked: number[] = [];
    let available = false;
    const h = await started(
      harness({
        retryIntervalMs: 30,
        fetchBundle: async ({ version, digest }) => {
          asked.push(version);
          expect(digest).toBe(b3.digest);
          return available ? encodeBundle(b3) : undefined;
        },
      }),
    );
    await offerBundle(h.enforcer, b1);
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 40, version: 3, digest: b3.digest, waves: [wave('c', [NODE])], stable: { version: 1, digest: b1.digest } }));
    await eventually(() => asked.length >= 2);
    expect(h.enforcer.status()).toMatchObject({ state: 'pending', errorCode: 'TARGET_UNAVAILABLE', appliedVersion: 1, failedVersion: 0, desiredVersion: 3 });
    expect(h.enforcer.readiness()).toMatchObject({ ok: false });
    expect(h.enforcer.readiness().detail).toMatch(/TARGET_UNAVAILABLE.*v3.*v1 stays in force/);
    expect(commentOf(h.nft)).toBe(tableComment(b1));
    expect(h.nft.applied).toBe(1);
    available = true;
    await eventually(() => h.enforcer.status().appliedVersion === 3);
    expect(h.enforcer.status()).toMatchObject({ state: 'applied', errorCode: '' });
    expect(h.enforcer.readiness().ok).toBe(true);
    expect(await metricValue(h.metrics, 'targetFetches', { result: 'found' })).toBe(1);
    expect(await metricValue(h.metrics, 'targetFetches', { result: 'absent' })).toBeGreaterThanOrEqual(2);
  });

  it('a fetched bundle that is not the admitted one (another digest) is never applied', async () => {
    const [b1, b3, other3] = [sealed(1), sealed(3), sealed(3, { sourceRevision: 77 })];
    const h = await started(harness({ retryIntervalMs: 20, fetchBundle: async () => encodeBundle(other3) }));
    await offerBundle(h.enforcer, b1);
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 41, version: 3, digest: b3.digest, waves: [wave('c', [NODE])] }));
    await eventually(async () => (await metricValue(h.metrics, 'targetFetches', { result: 'error' })) >= 2);
    expect(h.enforcer.status()).toMatchObject({ appliedVersion: 1, errorCode: 'TARGET_UNAVAILABLE' });
    // The genuine one arriving on the feed ends the wait.
    await offerBundle(h.enforcer, b3);
    await eventually(() => h.enforcer.status().appliedVersion === 3);
  });
});

describe('failures and rollback', () => {
  it('a candidate whose apply failed: the rollback to the version in force clears the failure', async () => {
    const h = await started(harness({ retryIntervalMs: 60_000 }));
    const [b1, b2] = [sealed(1), sealed(2)];
    await offerBundle(h.enforcer, b1);
    const stable = { version: 1, digest: b1.digest };
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 50, version: 2, digest: b2.digest, waves: [wave('c', [NODE])], stable }));
    // The delta is refused, and so is the whole-table swap the enforcer falls back to.
    h.nft.failNext(new NftKernelError('Device or resource busy', 'busy'));
    h.nft.failNext(new NftKernelError('Device or resource busy', 'busy'));
    await offerBundle(h.enforcer, b2);
    expect(h.enforcer.status()).toMatchObject({ state: 'failed', failedVersion: 2, errorCode: 'NFT_KERNEL', appliedVersion: 1 });
    expect(h.enforcer.readiness().ok).toBe(false);
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 51, version: 2, digest: b2.digest, waves: [], stable, phase: 'rolled-back' }));
    expect(h.enforcer.status()).toMatchObject({ state: 'applied', failedVersion: 0, errorCode: '', appliedVersion: 1 });
    expect(h.enforcer.readiness()).toEqual({ ok: true, detail: 'v1 applied' });
    expect(commentOf(h.nft)).toBe(tableComment(b1));
  });
});

describe('retries under a staged policy', () => {
  it("a held bundle arriving does not re-apply a failed candidate ahead of its back-off", async () => {
    const h = await started(harness({ retryIntervalMs: 60_000 }));
    const [b1, b2, b3] = [sealed(1), sealed(2), sealed(3)];
    await offerBundle(h.enforcer, b1);
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 70, version: 2, digest: b2.digest, waves: [wave('c', [NODE])], stable: { version: 1, digest: b1.digest } }));
    // The delta is refused, and so is the whole-table swap the enforcer falls back to.
    h.nft.failNext(new NftKernelError('Device or resource busy', 'busy'));
    h.nft.failNext(new NftKernelError('Device or resource busy', 'busy'));
    await offerBundle(h.enforcer, b2);
    expect(h.enforcer.status()).toMatchObject({ state: 'failed', failedVersion: 2 });
    const attempts = await metricValue(h.metrics, 'applies', { result: 'failure' });
    await offerBundle(h.enforcer, b3);
    expect(await metricValue(h.metrics, 'applies', { result: 'failure' })).toBe(attempts);
    expect(await metricValue(h.metrics, 'applies', { result: 'success' })).toBe(1);
    expect(h.enforcer.status()).toMatchObject({ state: 'failed', failedVersion: 2, appliedVersion: 1 });
  });
});

describe('health context', () => {
  it('tells the health monitor whether the applied bundle is the in-progress candidate, with the policy checks', async () => {
    const seen: { kind: string; ctx: HealthContext }[] = [];
    const monitor: HealthMonitor = {
      applied: (ctx) => seen.push({ kind: 'applied', ctx }),
      update: (ctx) => seen.push({ kind: 'update', ctx }),
      result: () => undefined,
      close: async () => undefined,
    };
    const h = await started(harness({ health: monitor }));
    const [b1, b2] = [sealed(1), sealed(2)];
    await offerBundle(h.enforcer, b1);
    expect(seen.at(-1)).toEqual({ kind: 'applied', ctx: { version: 1, digest: b1.digest, candidate: false, inProgress: false, policy: null } });
    const health = { commands: [], conntrack: { dropDelta: 5 } };
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 60, version: 2, digest: b2.digest, waves: [wave('c', [NODE])], stable: { version: 1, digest: b1.digest }, health }));
    await offerBundle(h.enforcer, b2);
    expect(seen.filter((s) => s.kind === 'applied').at(-1)?.ctx).toEqual({ version: 2, digest: b2.digest, candidate: true, inProgress: true, policy: health });
    await offerAdmission(h.enforcer, admissionBytes({ stateRevision: 61, version: 2, digest: b2.digest, everyone: true, stable: { version: 1, digest: b1.digest }, phase: 'completed', health }));
    expect(seen.at(-1)).toEqual({ kind: 'update', ctx: { version: 2, digest: b2.digest, candidate: true, inProgress: false, policy: health } });
  });
});
