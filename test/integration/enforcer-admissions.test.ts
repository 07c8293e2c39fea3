// Staged rollouts on the enforcer side, with the real enforcer process (nft in a netns) and
// a real nats-server: the test plays the rollout controller, publishing signed admissions
// on natfleet.admission.<cluster>. A node not named by the admission keeps the stable
// bundle while a newer one is held; an admission naming it makes it apply the candidate; an
// admission with no waves rolls it back (whole-table swap to the older stable); a forged
// admission is refused and shown in /status; after a restart the saved admission still
// holds the node on stable (the newest bundle and a forged newest admission notwithstanding),
// and a node without one walks past the forged newest admission to the newest genuine one;
// a failing node health check is reported and fails /readyz; an admitted bundle the node
// never received is fetched from the stream history.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKeyPair, loadSigningKey, type Bundle } from '@natfleet/bundle';
import { REPO_ROOT, run, waitUntil, type ServiceProcess } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiled, liveTable, metric, NODE, nodeStatus, podPools, pool, publish, publishAdmissionOf, startEnforcer, startWorld, stopWorld, waitApplied, waitStatus, type World } from './enforcer-world.js';

describe('enforcer: staged-rollout admissions', () => {
  let w: World;
  let enforcer: ServiceProcess | undefined;
  let v1: Bundle;
  let v2: Bundle;
  let v3: Bundle;
  const stable = (): { version: number; digest: string } => ({ version: v1.version, digest: v1.digest });

  type LocalStatus = {
    admissionRevision: number;
    admission: { stateRevision: number; admitted: boolean; target: string; heldVersions: number[]; phase: string } | null;
    lastUnverifiedAdmission: { code: string; claimedStateRevision: number } | null;
  };
  const local = async (): Promise<LocalStatus> => (await enforcer!.getJson<LocalStatus>('/status')).body;
  const tableComment = async (): Promise<string | undefined> => (await liveTable(w))?.comment;

  beforeAll(async () => {
    w = await startWorld();
    enforcer = await startEnforcer(w, ['--admission-poll', '1s']);
    v1 = compiled(w, podPools(true), 1);
    // v2 differs in the table: one more masqueraded pool.
    v2 = compiled(w, [...podPools(true), pool('extra', { cidr: '10.77.0.0/24', natOutgoing: true })], 2);
    await publish(w, v1);
    await waitApplied(w, 1, 30_000);
  }, 120_000);
  afterAll(async () => stopWorld(w, enforcer), 60_000);

  it('not named by the admission: keeps the stable bundle while the newer one is held', async () => {
    await publishAdmissionOf(w, { stateRevision: 10, version: 2, digest: v2.digest, waves: [{ name: 'canary', nodes: ['node-2'], rest: false }], stable: stable() });
    await waitStatus(w, 'admission 10 acted on', (s) => s.admissionRevision === 10, 20_000);
    await publish(w, v2);
    await waitUntil('v2 held', async () => (await metric(enforcer!, 'natfleet_enforcer_bundles_skipped_total', { reason: 'held' })) >= 1, { timeoutMs: 20_000, intervalMs: 50 });
    // Give a wrong apply a chance to happen before checking it did not.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await tableComment()).toBe(`natfleet v1 ${v1.digest}`);
    expect(await nodeStatus(w)).toMatchObject({ state: 'applied', appliedVersion: 1, admissionRevision: 10 });
    expect((await local()).admission).toMatchObject({ stateRevision: 10, admitted: false, target: 'v1', heldVersions: [1, 2] });
  });

  it('an admission naming the node: the candidate is applied', async () => {
    await publishAdmissionOf(w, { stateRevision: 11, version: 2, digest: v2.digest, waves: [{ name: 'canary', nodes: ['node-2', NODE], rest: false }], stable: stable() });
    const s = await waitApplied(w, 2, 20_000);
    expect(s).toMatchObject({ appliedDigest: v2.digest, admissionRevision: 11 });
    expect(await tableComment()).toBe(`natfleet v2 ${v2.digest}`);
    expect((await local()).admission).toMatchObject({ admitted: true, target: 'v2 (candidate)' });
  });

  it('an admission with no waves rolls the node back to the older stable bundle', async () => {
    await publishAdmissionOf(w, { stateRevision: 12, version: 2, digest: v2.digest, waves: [], stable: stable(), phase: 'rolled-back' });
    const s = await waitApplied(w, 1, 20_000);
    expect(s).toMatchObject({ appliedDigest: v1.digest, admissionRevision: 12, errorCode: '' });
    expect(await tableComment()).toBe(`natfleet v1 ${v1.digest}`);
  });

  it('a forged admission (another key) is refused, counted and visible in /status; the node stays on stable', async () => {
    const forger = loadSigningKey(generateSigningKeyPair().privateKeyPem);
    await publishAdmissionOf(w, { stateRevision: 13, version: 2, digest: v2.digest, everyone: true, stable: stable(), phase: 'completed' }, forger);
    await waitUntil('forged admission refused', async () => (await local()).lastUnverifiedAdmission?.code === 'UNKNOWN_KEY', { timeoutMs: 20_000, intervalMs: 50 });
    expect((await local()).lastUnverifiedAdmission).toMatchObject({ code: 'UNKNOWN_KEY', claimedStateRevision: 13 });
    expect(await metric(enforcer!, 'natfleet_enforcer_admissions_total', { result: 'refused' })).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 1_500)); // past a poll of the (forged) latest
    expect(await tableComment()).toBe(`natfleet v1 ${v1.digest}`);
    expect(await nodeStatus(w)).toMatchObject({ state: 'applied', appliedVersion: 1, admissionRevision: 12 });
    const ready = await enforcer!.getJson<{ ready: boolean }>('/readyz');
    expect(ready.status).toBe(200);
  });

  it('after a restart the saved admission still holds the node on stable (the newest admission on the subject is the forged one)', async () => {
    await enforcer!.stop();
    enforcer = await startEnforcer(w, ['--admission-poll', '1s']);
    await waitUntil('forged admission seen again', async () => (await local()).lastUnverifiedAdmission?.code === 'UNKNOWN_KEY', { timeoutMs: 20_000, intervalMs: 50 });
    await waitUntil('v2 held again', async () => (await metric(enforcer!, 'natfleet_enforcer_bundles_skipped_total', { reason: 'held' })) >= 1, { timeoutMs: 20_000, intervalMs: 50 });
    expect(await tableComment()).toBe(`natfleet v1 ${v1.digest}`);
    expect((await local()).admissionRevision).toBe(12);
    expect(await metric(enforcer!, 'natfleet_enforcer_admission_revision')).toBe(12);
  });

  it('a node without a saved admission (state wiped) starting while the newest admission is forged walks back to the newest genuine one', async () => {
    await enforcer!.stop();
    rmSync(join(w.stateDir, 'admission.json'));
    enforcer = await startEnforcer(w, ['--admission-poll', '1s']);
    await waitStatus(w, 'the genuine admission 12 found behind the forged 13', (x) => x.admissionRevision === 12, 20_000);
    expect(enforcer.logs().some((l) => l.msg === 'the newest admission on the subject is not genuine: offering the newest genuine one instead')).toBe(true);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await tableComment()).toBe(`natfleet v1 ${v1.digest}`);
    expect(await nodeStatus(w)).toMatchObject({ appliedVersion: 1, admissionRevision: 12 });
  });

  it("the node's health check runs after the apply (here: adopting the saved bundle at start): a failure is reported in the node status and fails /readyz, the table stays", async () => {
    await enforcer!.stop();
    const checks = JSON.stringify([{ name: 'probe', command: ['sh', '-c', 'echo "v$NATFLEET_VERSION on $NATFLEET_NODE is unhealthy"; exit 1'], timeout: '5s' }]);
    enforcer = await startEnforcer(w, ['--admission-poll', '1s'], 'healthz', { NATFLEET_HEALTH_CHECKS: checks });
    const s = await waitStatus(w, 'health failed', (x) => x.health?.result === 'failed', 20_000);
    expect(s.health).toMatchObject({ version: 1, result: 'failed', code: 'HEALTH_CHECK_FAILED', check: 'probe' });
    expect(s.health?.output).toContain(`v1 on ${NODE} is unhealthy`);
    expect(s).toMatchObject({ state: 'applied', appliedVersion: 1 });
    const ready = await enforcer!.getJson<{ checks: Record<string, { ok: boolean; detail: string }> }>('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks['health']).toMatchObject({ ok: false, detail: expect.stringContaining('HEALTH_CHECK_FAILED') });
    expect(await tableComment()).toBe(`natfleet v1 ${v1.digest}`);
    expect(await metric(enforcer!, 'natfleet_enforcer_health_checks_total', { result: 'failed' })).toBe(1);
  });

  it('a candidate the node never received (published while it was stopped, older than the newest) is fetched from the stream history and applied', async () => {
    await enforcer!.stop();
    v3 = compiled(w, [...podPools(true), pool('three', { cidr: '10.33.0.0/24', natOutgoing: true })], 3);
    const v4 = compiled(w, [...podPools(true), pool('four', { cidr: '10.44.0.0/24', natOutgoing: true })], 4);
    await publish(w, v3);
    await publish(w, v4);
    enforcer = await startEnforcer(w, ['--admission-poll', '1s']);
    // Still held on stable by the saved admission; v4 (the latest) is held, v3 was never delivered.
    await waitUntil('v4 held', async () => (await metric(enforcer!, 'natfleet_enforcer_bundles_skipped_total', { reason: 'held' })) >= 1, { timeoutMs: 20_000, intervalMs: 50 });
    expect((await local()).admission?.heldVersions).toEqual([1, 4]);
    await publishAdmissionOf(w, { stateRevision: 14, version: 3, digest: v3.digest, waves: [{ name: 'canary', nodes: [NODE], rest: false }], stable: stable() });
    const s = await waitApplied(w, 3, 30_000);
    expect(s).toMatchObject({ appliedDigest: v3.digest, admissionRevision: 14 });
    expect(await tableComment()).toBe(`natfleet v3 ${v3.digest}`);
    expect(await metric(enforcer!, 'natfleet_enforcer_target_fetches_total', { result: 'found' })).toBe(1);
  });

  it('NATS stops and starts again: an admission published as it comes back is acted on without waiting for a poll (re-read after the reconnect, or the subscription)', async () => {
    await enforcer!.stop();
    enforcer = await startEnforcer(w, ['--admission-poll', '1h']);
    await waitStatus(w, 'v3 still applied under admission 14', (x) => x.appliedVersion === 3 && x.admissionRevision === 14, 20_000);
    await w.nats.stop();
    await new Promise((r) => setTimeout(r, 1_500));
    await w.nats.startStopped();
    await publishAdmissionOf(w, { stateRevision: 15, version: 3, digest: v3.digest, waves: [], stable: stable(), phase: 'rolled-back' });
    const s = await waitApplied(w, 1, 30_000);
    expect(s).toMatchObject({ appliedDigest: v1.digest, admissionRevision: 15 });
    expect(enforcer.logs().filter((l) => l.msg === 'following admissions').length).toBeGreaterThanOrEqual(2);
  });

  it("conntrack thresholds: the node namespace's /proc/net/stat/nf_conntrack is read (ip netns exec); running during the watch window, then passed", async () => {
    await enforcer!.stop();
    const startedAt = new Date().toISOString();
    enforcer = await startEnforcer(w, ['--conntrack-insert-failed-delta', '1000', '--conntrack-drop-delta', '1000', '--health-watch', '2s']);
    const running = await waitStatus(w, 'health running', (x) => x.heartbeatAt > startedAt && x.health?.result === 'running', 20_000);
    expect(running.health).toMatchObject({ version: running.appliedVersion, code: '' });
    await waitStatus(w, 'health passed', (x) => x.health?.result === 'passed', 20_000);
    expect(enforcer.logs().some((l) => String(l.msg).startsWith('cannot read the conntrack statistics'))).toBe(false);
  });

  it('uninstall removes the saved admission with the saved bundle (and then the state dir)', async () => {
    await enforcer!.stop();
    enforcer = undefined;
    expect(existsSync(join(w.stateDir, 'admission.json'))).toBe(true);
    const args = [join(REPO_ROOT, 'services', 'enforcer', 'dist', 'main.js'), 'uninstall', '--netns', w.topo.node.name, '--state-dir', w.stateDir, '--log-level', 'warn'];
    const r = await run(process.execPath, args);
    expect(r.stdout).toContain('deleted table inet natfleet; removed 2 state file(s)');
    expect(existsSync(w.stateDir)).toBe(false);
  });
});

