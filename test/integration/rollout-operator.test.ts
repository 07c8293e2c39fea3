// The staged-rollout operator surface end to end against real etcd and NATS, with the API
// in-process (natfleet prefix /natfleet-itest/v1, as --natfleet-prefix) and natctl driving
// it. No compiler runs: the test publishes the bundles itself and hand-writes the rollout
// controller's records (packages/rollout-planner records.ts), so what the API and natctl
// show is checked against exactly what is in etcd:
//   - natctl apply --immediate writes the pool AND an immediate command carrying the
//     write's revision (read back from etcd);
//   - GET /v1/rollout / natctl rollout status show the waves, bake left and gate results;
//   - pause/resume/abort/promote write command records (read back), a stale version is a
//     409 (exit 3) and a read token a 403 (exit 6), with nothing written;
//   - a rolled-back record: rollout status exits 7 (also --watch, at once) naming the node
//     and reason;
//   - natctl history shows each version's outcome (rolled-back / aborted with the node and
//     reason) from the outcome records, and `history VERSION` the failing nodes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeyPair, loadSigningKey, type SigningKey } from '@natfleet/bundle';
import { ensureBundleStream, openNodesBucket, pendingNodeStatus, publishBundle, putNodeStatus } from '@natfleet/bus';
import { bundleContentDigest, encodeBundle } from '@natfleet/bundle';
import { compileBundle } from '@natfleet/compiler-core';
import { EXIT } from '@natfleet/natctl';
import { decodeCommandRecord, rolloutCommandKeyPrefix, rolloutOutcomeKey, rolloutStateKey, type RolloutOutcomeRecord, type RolloutStateRecord } from '@natfleet/rollout-planner';
import { startEtcd, startNats, waitUntil, type EtcdCluster, type NatsCluster, type ServiceProcess } from '@natfleet/testkit';
import { Etcd3 } from 'etcd3';
import { connect, type KV, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApi, natctlAgainst, type TestApi } from './api-harness.js';
import { CLUSTER as COMPILER_CLUSTER, TestKeys, nodeKey, startCompiler } from './compiler-helpers.js';

const CLUSTER = 'rollout-op';
const NATFLEET = '/natfleet-itest/v1';
const WRITE = 'alice-write-token-rollout-op-0123';
const READ = 'viewer-read-token-rollout-op-0123';
const POOL_PREFIX = '/calico/resources/v3/projectcalico.org/ippools/';
const poolYaml = (name: string, cidr: string) => `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: ${name}}\nspec: {cidr: ${cidr}, natOutgoing: true}\n`;

describe('staged-rollout operator surface against real etcd and NATS', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let client: Etcd3;
  let nc: NatsConnection;
  let kv: KV;
  let api: TestApi;
  let key: SigningKey;
  let natctl: ReturnType<typeof natctlAgainst>;
  let reader: ReturnType<typeof natctlAgainst>;
  const dir = mkdtempSync(join(tmpdir(), 'natfleet-rollout-op-'));
  const versions: number[] = []; // published bundle versions, oldest first

  /** Compiles etcd as of `revision` (default: now) into a bundle of that version and publishes it, as the compiler would. */
  async function publishCurrent(revision?: number): Promise<number> {
    const snap = await api.store.snapshot(revision);
    // The header names etcd's current revision even for a read in the past.
    const { bundle } = compileBundle({ entries: snap.entries }, revision ?? snap.revision, { cluster: CLUSTER, key });
    await publishBundle(nc.jetstream(), { cluster: CLUSTER, data: encodeBundle(bundle), version: bundle.version, digest: bundle.digest, contentDigest: bundleContentDigest(bundle) });
    versions.push(bundle.version);
    return bundle.version;
  }

  const commands = async () => {
    const kvs = await client.getAll().prefix(rolloutCommandKeyPrefix(NATFLEET)).exec();
    return kvs.kvs.map((e) => ({ key: e.key.toString(), rec: decodeCommandRecord(e.value.toString()), modRevision: Number(e.mod_revision) }));
  };
  const clearCommands = () => client.delete().prefix(rolloutCommandKeyPrefix(NATFLEET)).exec();
  const candidate = () => versions[versions.length - 1]!;
  const digestOf = (v: number) => `sha256:v${v}`;

  /** The controller's state record for the newest bundle: canary (node-1) passed, half (node-2, node-3) admitted a minute ago, rest pending. */
  function stateRecord(over: Partial<RolloutStateRecord['state']> = {}, gates?: RolloutStateRecord['gates']): RolloutStateRecord {
    const now = Date.now();
    return {
      cluster: CLUSTER,
      policy: 'canary-first',
      waves: [
        { name: 'canary', bakeMs: 60_000, selector: "rack == 'r1'" },
        { name: 'half', bakeMs: 600_000, percent: 50 },
        { name: 'rest', bakeMs: 0, percent: 100 },
      ],
      progressDeadlineMs: 1_800_000,
      onFailure: 'rollback',
      state: {
        candidate: { version: candidate(), digest: digestOf(candidate()) },
        stable: { version: versions[0]!, digest: digestOf(versions[0]!) },
        phase: 'progressing',
        waveIndex: 1,
        waveStartedAt: now - 60_000,
        admitted: [
          { index: 0, name: 'canary', nodes: ['node-1'], admittedAt: now - 300_000 },
          { index: 1, name: 'half', nodes: ['node-2', 'node-3'], admittedAt: now - 60_000 },
        ],
        promoted: false,
        everyone: false,
        pausedAt: null,
        conditions: [{ type: 'Progressing', status: 'True', reason: 'WaitingForGates', message: 'wave half: waiting for 1 node(s): node-3' }],
        ...over,
      },
      gates: gates ?? [
        { node: 'node-1', wave: 0, result: 'passed' },
        { node: 'node-2', wave: 1, result: 'passed' },
        { node: 'node-3', wave: 1, result: 'pending', gate: 'ack', detail: `applied v${versions[0]}` },
      ],
      immediate: false,
      startedAt: new Date(now - 300_000).toISOString(),
      events: [{ at: new Date(now - 60_000).toISOString(), type: 'WaveAdmitted', message: 'wave half admitted: 2 node(s)' }],
      leader: 'compiler-itest',
      updatedAt: new Date(now).toISOString(),
    };
  }
  const putState = (r: RolloutStateRecord) => client.put(rolloutStateKey(NATFLEET)).value(JSON.stringify(r)).exec();

  const ROLLED_BACK_GATES: RolloutStateRecord['gates'] = [
    { node: 'node-1', wave: 0, result: 'passed' },
    { node: 'node-2', wave: 1, result: 'failed', gate: 'health', code: 'HEALTH_CHECK_FAILED', detail: 'curl https://example.internal: (28) timed out' },
    { node: 'node-3', wave: 1, result: 'passed' },
  ];
  const ABORTED_CONDITIONS: RolloutStateRecord['state']['conditions'] = [
    { type: 'Progressing', status: 'False', reason: 'GateFailed', message: 'node-2: health HEALTH_CHECK_FAILED' },
    { type: 'Aborted', status: 'True', reason: 'GateFailed', message: 'candidate aborted (rolled back, every node runs stable): node-2: health HEALTH_CHECK_FAILED' },
  ];

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    client = new Etcd3({ hosts: etcd.endpoints });
    nc = await connect({ servers: nats.url });
    await ensureBundleStream(await nc.jetstreamManager());
    kv = await openNodesBucket(nc.jetstream());
    key = loadSigningKey(generateSigningKeyPair().privateKeyPem);
    api = await buildTestApi({ etcd: client, js: nc.jetstream(), jsm: await nc.jetstreamManager(), cluster: CLUSTER, tokens: `${WRITE} write alice\n${READ} read viewer\n`, natfleetPrefix: NATFLEET });
    await api.listen();
    natctl = natctlAgainst(() => api.url, WRITE);
    reader = natctlAgainst(() => api.url, READ);
    // Two bundles before the one under test: pool a (v1, stable) and pool b (v2).
    for (const [name, cidr] of [['a', '10.1.0.0/16'], ['b', '10.2.0.0/16']] as const) {
      writeFileSync(join(dir, `${name}.yaml`), poolYaml(name, cidr));
      expect((await natctl(['apply', '-f', join(dir, `${name}.yaml`)])).code).toBe(EXIT.OK);
      await publishCurrent();
    }
  }, 90_000);

  afterAll(async () => {
    await api?.app.close();
    await nc?.close();
    client?.close();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
  });

  it('apply --immediate writes the pool and an immediate command carrying the write revision', async () => {
    writeFileSync(join(dir, 'c.yaml'), poolYaml('c', '10.3.0.0/16'));
    const r = await natctl(['apply', '-f', join(dir, 'c.yaml'), '--immediate']);
    expect(r.code, r.err).toBe(EXIT.OK);
    const stored = (await client.get(`${POOL_PREFIX}c`).exec()).kvs[0];
    expect(stored).toBeDefined();
    const revision = Number(stored!.mod_revision);
    expect(r.out).toContain(`applied at revision ${revision}`);
    expect(r.out).toContain(`immediate: this change skips the staged-rollout waves — the bundle carrying revision ${revision} goes to every node at once`);
    const cmds = await commands();
    expect(cmds.map((c) => c.rec)).toEqual([{ type: 'immediate', version: revision, by: 'alice', at: expect.any(String) }]);
    expect(cmds[0]!.key.startsWith(`${NATFLEET}/rollout/commands/`)).toBe(true);
    expect(cmds[0]!.modRevision).toBeGreaterThan(revision);
    // An unchanged apply makes no bundle, so no command either.
    const again = await natctl(['apply', '-f', join(dir, 'c.yaml'), '--immediate']);
    expect(again.out).toContain('immediate: no command written');
    expect((await commands()).length).toBe(1);
    await clearCommands();
    expect(await publishCurrent(revision)).toBe(revision);
    // Nodes report: node-1 and node-2 run the candidate, node-3 still the stable version.
    for (const [node, applied] of [['node-1', revision], ['node-2', revision], ['node-3', versions[0]!]] as const) {
      await putNodeStatus(kv, pendingNodeStatus(node, { cluster: CLUSTER, state: 'applied', appliedVersion: applied, heartbeatAt: new Date().toISOString() }));
    }
  });

  it('GET /v1/rollout and natctl rollout status show the waves, bake left and gate results', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/v1/rollout', headers: { authorization: `Bearer ${READ}` } });
    expect(res.json().staged).toBeNull(); // no record yet
    await putState(stateRecord());
    const view = (await api.app.inject({ method: 'GET', url: '/v1/rollout', headers: { authorization: `Bearer ${READ}` } })).json();
    expect(view).toMatchObject({ desired: { version: candidate() }, complete: false, aborted: false, staged: { policy: 'canary-first', phase: 'progressing', candidate: { version: candidate() } } });
    expect(view.staged.waves.map((w: { name: string; state: string }) => [w.name, w.state])).toEqual([['canary', 'passed'], ['half', 'admitted'], ['rest', 'pending']]);
    expect(view.staged.waves[1].bakeRemainingMs).toBeGreaterThan(500_000);
    expect(view.staged.waves[1].bakeRemainingMs).toBeLessThanOrEqual(540_000);
    expect(view.staged.waves[1].nodes).toEqual([
      { node: 'node-2', gate: { result: 'passed' } },
      { node: 'node-3', gate: { result: 'pending', gate: 'ack', detail: `applied v${versions[0]}` } },
    ]);
    const st = await reader(['rollout', 'status']);
    expect(st.code).toBe(EXIT.ROLLOUT_INCOMPLETE);
    expect(st.out).toContain(`staged rollout of v${candidate()} (policy canary-first, on failure rollback): progressing, wave 2/3 half admitted; stable v${versions[0]}`);
    expect(st.out).toMatch(/^half\s+node-2,node-3\s+admitted\s+(8|9)m\d+s\s+1\/2 passed, 1 pending$/m);
    expect(st.err).toContain('node-3 (behind');
  });

  it('pause / resume / abort / promote write command records; a stale version is 409 and a read token 403, nothing written', async () => {
    const v = candidate();
    const pause = await natctl(['rollout', 'pause', '--reason', 'canary looks odd']);
    expect(pause.code, pause.err).toBe(EXIT.OK);
    expect(pause.out).toContain(`pause requested for the rollout of v${v} (by alice`);
    expect((await commands()).map((c) => c.rec)).toEqual([{ type: 'pause', version: v, by: 'alice', at: expect.any(String), reason: 'canary looks odd' }]);

    const resume = await natctl(['rollout', 'resume']);
    expect(resume.code).toBe(EXIT.CONFLICT);
    expect(resume.err).toContain(`cannot resume the rollout of v${v}: it is progressing`);
    const stale = await natctl(['rollout', 'promote', '--version', String(versions[1])]);
    expect(stale.code).toBe(EXIT.CONFLICT);
    expect(stale.err).toContain(`version ${versions[1]} is not the current candidate (v${v}, progressing)`);
    for (const type of ['pause', 'resume', 'abort', 'promote']) expect((await reader(['rollout', type])).code).toBe(EXIT.UNAUTHORIZED);
    const forbidden = await api.app.inject({ method: 'POST', url: '/v1/rollout/abort', headers: { authorization: `Bearer ${READ}` } });
    expect(forbidden.statusCode).toBe(403);
    expect((await commands()).length).toBe(1);

    await putState(stateRecord({ phase: 'paused', pausedAt: Date.now() }));
    for (const type of ['resume', 'promote', 'abort']) expect((await natctl(['rollout', type, '--version', String(v)])).code).toBe(EXIT.OK);
    const all = await commands();
    expect(all.map((c) => c.rec?.type)).toEqual(['pause', 'resume', 'promote', 'abort']); // keys sort in the order asked
    expect(new Set(all.map((c) => c.key)).size).toBe(4);
    expect(all.every((c) => c.rec?.version === v && c.rec.by === 'alice')).toBe(true);
    await clearCommands();

    // No state record: 404 (exit 4).
    await client.delete().key(rolloutStateKey(NATFLEET)).exec();
    const none = await natctl(['rollout', 'abort']);
    expect(none.code).toBe(EXIT.NOT_FOUND);
    expect(none.err).toContain('no staged rollout to abort');
    expect(await commands()).toEqual([]);
  });

  it('a rolled-back record: rollout status exits 7 with the node and the reason; --watch stops there at once', async () => {
    await putState(stateRecord({ phase: 'rolled-back', admitted: [], conditions: ABORTED_CONDITIONS }, ROLLED_BACK_GATES));
    const view = (await api.app.inject({ method: 'GET', url: '/v1/rollout', headers: { authorization: `Bearer ${READ}` } })).json();
    expect(view).toMatchObject({ complete: false, aborted: true, abortedReason: 'GateFailed: candidate aborted (rolled back, every node runs stable): node-2: health HEALTH_CHECK_FAILED' });
    const st = await reader(['rollout', 'status']);
    expect(st.code).toBe(EXIT.ROLLOUT_ABORTED);
    expect(st.out).toMatch(/^half\s+node-2,node-3\s+failed\s+-\s+node-2: health HEALTH_CHECK_FAILED \(curl https:\/\/example\.internal: \(28\) timed out\)$/m);
    expect(st.err).toContain(`rollout aborted: v${candidate()} rolled-back: GateFailed`);
    expect(st.err).toContain('failing: node-2: health HEALTH_CHECK_FAILED');
    const started = Date.now();
    const watch = await reader(['rollout', 'status', '--watch', '--timeout', '60s', '--interval', '200ms']);
    expect(watch.code).toBe(EXIT.ROLLOUT_ABORTED);
    expect(Date.now() - started).toBeLessThan(20_000);
    // Even with every node on the candidate, a rolled-back rollout is not complete.
    await putNodeStatus(kv, pendingNodeStatus('node-3', { cluster: CLUSTER, state: 'applied', appliedVersion: candidate(), heartbeatAt: new Date().toISOString() }));
    expect((await reader(['rollout', 'status'])).code).toBe(EXIT.ROLLOUT_ABORTED);
  });

  it('natctl history shows each version\'s outcome from the outcome records; history VERSION the failing nodes', async () => {
    const [v1, v2, v3] = versions as [number, number, number];
    const outcome = (version: number, over: Partial<RolloutOutcomeRecord>): RolloutOutcomeRecord => ({
      version,
      digest: digestOf(version),
      outcome: 'completed',
      policy: 'canary-first',
      immediate: false,
      reason: '',
      failures: [],
      waves: [],
      stable: null,
      startedAt: new Date().toISOString(),
      endedAt: new Date().toISOString(),
      ...over,
    });
    const outcomes = [
      outcome(v1, { reason: 'all 3 wave(s) passed' }),
      outcome(v2, { outcome: 'aborted', reason: 'candidate aborted by an operator (alice); every node runs stable' }),
      outcome(v3, {
        outcome: 'rolled-back',
        reason: 'node-2: health HEALTH_CHECK_FAILED',
        failures: [{ node: 'node-2', gate: 'health', code: 'HEALTH_CHECK_FAILED', detail: 'curl https://example.internal: (28) timed out' }],
        waves: [{ name: 'canary', nodes: ['node-1'] }, { name: 'half', nodes: ['node-2', 'node-3'] }],
      }),
    ];
    for (const o of outcomes) await client.put(rolloutOutcomeKey(NATFLEET, o.version)).value(JSON.stringify(o)).exec();
    const h = await reader(['history']);
    expect(h.code, h.err).toBe(EXIT.OK);
    const row = (v: number) => h.out.split('\n').find((l) => l.startsWith(`${v} `)) ?? '';
    expect(h.out.split('\n')[0]).toMatch(/WARNINGS\s+ROLLOUT\s+CHANGE$/);
    expect(row(v3)).toContain('rolled-back: node-2: health HEALTH_CHECK_FAILED');
    expect(row(v2)).toMatch(/\saborted\s/);
    expect(row(v1)).toMatch(/\scompleted\s/);
    const d = await reader(['history', String(v3)]);
    expect(d.code, d.err).toBe(EXIT.OK);
    expect(d.out).toContain('Rollout:     rolled-back (policy canary-first)');
    expect(d.out).toContain('  Reason:    node-2: health HEALTH_CHECK_FAILED');
    expect(d.out).toContain('    node-2: health HEALTH_CHECK_FAILED: curl https://example.internal: (28) timed out');
    expect(d.out).toContain('  Waves:     canary: node-1; half: node-2, node-3');
    const json = (await api.app.inject({ method: 'GET', url: '/v1/history', headers: { authorization: `Bearer ${READ}` } })).json();
    expect(json.items.find((i: { version: number }) => i.version === v2).rollout).toMatchObject({ outcome: 'aborted', reason: 'candidate aborted by an operator (alice); every node runs stable' });
    // Nothing landed under Calico's prefix but the pools themselves.
    const calico = await api.store.snapshot();
    expect(calico.entries.map((e) => e.key).sort()).toEqual([`${POOL_PREFIX}a`, `${POOL_PREFIX}b`, `${POOL_PREFIX}c`]);
  });
});

// The same surface against the real compiler's rollout controller (no hand-written state):
// the commands natctl sends are consumed by the controller and show in rollout status, the
// abort ends in exit 7 and an `aborted` outcome in history. Two nodes report static
// statuses: n1 (the canary) runs the candidate once admitted, n2 stays on the stable one.
describe('staged-rollout operator surface against the real rollout controller', () => {
  const NF = '/natfleet-ctl/v1';
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let keys: TestKeys;
  let client: Etcd3;
  let nc: NatsConnection;
  let kv: KV;
  let compiler: ServiceProcess;
  let api: TestApi;
  let natctl: ReturnType<typeof natctlAgainst>;
  const dir = mkdtempSync(join(tmpdir(), 'natfleet-rollout-ctl-'));

  const view = async () => (await api.app.inject({ method: 'GET', url: '/v1/rollout', headers: { authorization: `Bearer ${WRITE}` } })).json();
  const report = (node: string, version: number) =>
    putNodeStatus(kv, pendingNodeStatus(node, { cluster: COMPILER_CLUSTER, labels: { role: node === 'n1' ? 'canary' : 'worker' }, state: 'applied', appliedVersion: version, heartbeatAt: new Date().toISOString(), health: { version, result: 'passed', code: '', check: '', output: '', checkedAt: new Date().toISOString() } }));
  const waitStaged = async (what: string, pred: (v: any) => boolean): Promise<any> => {
    let last: any;
    try {
      await waitUntil(what, async () => pred((last = await view())), { timeoutMs: 45_000, intervalMs: 200 });
    } catch (err) {
      console.log(JSON.stringify({ staged: last?.staged, logs: compiler.logs().filter((l) => /rollout|admission|command/.test(String(l['msg']))).slice(-20) }, null, 1));
      throw err;
    }
    return last;
  };
  const applyPool = async (name: string, cidr: string): Promise<number> => {
    writeFileSync(join(dir, `${name}.yaml`), poolYaml(name, cidr));
    const r = await natctl(['apply', '-f', join(dir, `${name}.yaml`)]);
    expect(r.code, r.err).toBe(EXIT.OK);
    const revision = Number(/applied at revision (\d+)/.exec(r.out)?.[1]);
    await waitStaged(`a bundle carrying revision ${revision}`, (v) => (v.desired?.version ?? 0) >= revision);
    return (await view()).desired.version;
  };

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    keys = new TestKeys();
    client = new Etcd3({ hosts: etcd.endpoints });
    compiler = await startCompiler({ etcdEndpoints: etcd.endpoints, natsUrl: nats.url, keys, extraArgs: ['--natfleet-prefix', NF] });
    nc = await connect({ servers: nats.url });
    kv = await openNodesBucket(nc.jetstream());
    api = await buildTestApi({ etcd: client, js: nc.jetstream(), jsm: await nc.jetstreamManager(), cluster: COMPILER_CLUSTER, tokens: `${WRITE} write alice\n`, natfleetPrefix: NF });
    await api.listen();
    natctl = natctlAgainst(() => api.url, WRITE);
    for (const n of ['n1', 'n2']) await report(n, 0);
    await waitUntil('Node resources registered', async () => (await Promise.all(['n1', 'n2'].map((n) => client.get(nodeKey(n)).string()))).every((v) => v !== null), { timeoutMs: 30_000, intervalMs: 100 });
  }, 120_000);

  afterAll(async () => {
    await api?.app.close();
    await nc?.close();
    await compiler?.stop();
    client?.close();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
    keys?.destroy();
  }, 60_000);

  it('pause, resume and abort through natctl reach the controller; abort ends in exit 7 and an aborted outcome', async () => {
    const stable = await applyPool('p0', '10.10.0.0/16');
    for (const n of ['n1', 'n2']) await report(n, stable);
    writeFileSync(join(dir, 'policy.yaml'), 'apiVersion: natfleet.io/v1\nkind: RolloutPolicy\nmetadata: {name: canary-first}\nspec:\n  progressDeadline: 30m\n  waves:\n    - {name: canary, selector: "role == \'canary\'", bake: 10m}\n    - {name: rest, percent: 100, bake: 0s}\n');
    const pol = await natctl(['apply', '-f', join(dir, 'policy.yaml')]);
    expect(pol.code, pol.err).toBe(EXIT.OK);
    await waitStaged('the policy in force', (v) => v.staged?.policy === 'canary-first');
    const v1 = await applyPool('p1', '10.11.0.0/16');
    await waitStaged(`canary of v${v1} admitted`, (v) => v.staged?.candidate.version === v1 && v.staged.waves[0].state !== 'pending');
    await report('n1', v1);
    const baking = await waitStaged('canary baking', (v) => v.staged?.waves[0]?.state === 'baking');
    expect(baking.staged.waves.map((w: { name: string; state: string }) => [w.name, w.state])).toEqual([['canary', 'baking'], ['rest', 'pending']]);
    expect(baking.staged.waves[0].nodes).toEqual([{ node: 'n1', gate: { result: 'passed' } }]);
    expect(baking.complete).toBe(false);
    const st = await natctl(['rollout', 'status']);
    expect(st.code).toBe(EXIT.ROLLOUT_INCOMPLETE);
    expect(st.out).toMatch(/^canary\s+n1\s+baking\s+(9m\d+s|10m0s)\s+1\/1 passed$/m);

    expect((await natctl(['rollout', 'pause'])).code).toBe(EXIT.OK);
    await waitStaged('paused', (v) => v.staged?.phase === 'paused');
    const paused = await natctl(['rollout', 'status']);
    expect(paused.out).toMatch(/progressing|paused/);
    expect(paused.out).toContain('[PAUSED]');
    expect(paused.out).toMatch(/^canary\s+n1\s+baking\s+10m0s\s+1\/1 passed$/m);
    expect((await natctl(['rollout', 'pause'])).code).toBe(EXIT.CONFLICT);
    await waitUntil('commands consumed', async () => (await client.getAll().prefix(`${NF}/rollout/commands/`).keys()).length === 0, { timeoutMs: 20_000, intervalMs: 100 });

    expect((await natctl(['rollout', 'resume', '--version', String(v1)])).code).toBe(EXIT.OK);
    await waitStaged('resumed', (v) => v.staged?.phase === 'progressing');
    expect((await natctl(['rollout', 'abort', '--reason', 'itest'])).code).toBe(EXIT.OK);
    const aborted = await waitStaged('aborted', (v) => v.staged?.phase === 'aborted');
    expect(aborted).toMatchObject({ aborted: true, complete: false });
    const st2 = await natctl(['rollout', 'status']);
    expect(st2.code).toBe(EXIT.ROLLOUT_ABORTED);
    expect(st2.err).toContain(`rollout aborted: v${v1} aborted`);
    await waitUntil('an outcome record', async () => (await client.get(rolloutOutcomeKey(NF, v1)).string()) !== null, { timeoutMs: 20_000, intervalMs: 100 });
    // The abort emptied the admitted waves; the outcome record still names the canary's node.
    expect((await view()).staged.waves[0]).toMatchObject({ name: 'canary', state: 'admitted', nodes: [{ node: 'n1', gate: null }] });
    const h = await natctl(['history']);
    expect(h.out.split('\n').find((l) => l.startsWith(`${v1} `))).toMatch(/\saborted\s/);
  });
});
