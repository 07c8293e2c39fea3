// The staged-rollout controller of the real compiler (issue 14) against real etcd and a
// real nats-server, with SIMULATED enforcers: this test plays four nodes, each writing its
// NodeStatus to the natfleet-nodes KV and running whatever the newest genuine admission
// tells it (admissionTarget), or failing the versions the test says it must fail.
//
// - a 3-wave policy goes 1 → 2 → 4 nodes, each wave only after its bake;
// - a NACK on the canary halts and rolls back (an admission with no waves; outcome record
//   rolled-back naming the node and reason); a failed health check likewise;
// - pause / resume / promote / abort commands;
// - SIGKILL of the leader mid-bake with a standby running: the standby resumes the same
//   rollout from etcd (same waves, the wave's bake not skipped, stateRevision growing).
import { Etcd3 } from 'etcd3';
import { connect, type KV, type NatsConnection } from 'nats';
import { admissionTarget, decodeAdmission, type Admission } from '@natfleet/bundle';
import { BUNDLE_STREAM, HDR_VERSION, admissionSubject, bundleSubject, latestAdmission, latestBundle, openNodesBucket, pendingNodeStatus, putNodeStatus, type NodeHealth } from '@natfleet/bus';
import { startEtcd, startNats, waitUntil, type EtcdCluster, type NatsCluster, type ServiceProcess } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdRolloutStore } from '@natfleet/compiler';
import { CLUSTER, TestKeys, isLeader, metric, nodeKey, poolJson, poolKey, startCompiler } from './compiler-helpers.js';

const NF = '/natfleet/v1';
const NODES = ['n1', 'n2', 'n3', 'n4'];
const LABELS: Record<string, Record<string, string>> = { n1: { role: 'canary' }, n2: { role: 'worker' }, n3: { role: 'worker' }, n4: { role: 'worker' } };
const BAKE_MS = 3_000;

const policyJson = (waves: unknown[], extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ apiVersion: 'natfleet.io/v1', kind: 'RolloutPolicy', metadata: { name: 'staged' }, spec: { waves, onFailure: 'rollback', progressDeadline: '2m', ...extra } });
const WAVES = (bake = '3s') => [
  { name: 'canary', selector: "role == 'canary'", bake },
  { name: 'second', percent: 33, bake },
  { name: 'rest', percent: 100, bake: '0s' },
];

interface StateRecord {
  policy: string;
  leader: string;
  state: { candidate: { version: number }; phase: string; admitted: { index: number; name: string; nodes: string[]; admittedAt: number }[] };
  events: { type: string; message: string }[];
}
interface OutcomeRecord {
  version: number;
  outcome: string;
  failures: { node: string; gate: string; code: string; detail: string }[];
}

/** What a simulated node does with a version: apply it, refuse it (NACK), or apply it and fail its health check. */
type Behaviour = 'ok' | 'nack' | 'unhealthy' | 'stuck';

/** Four simulated enforcers driven by the newest admission (and the newest bundle when policy is ''). */
class SimulatedFleet {
  readonly behaviour = new Map<string, (version: number) => Behaviour>();
  private readonly reported = new Map<string, string>();
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly keys: TestKeys,
  ) {}

  start(): void {
    this.loop = (async () => {
      const jsm = await this.nc.jetstreamManager();
      while (!this.stopped) {
        try {
          const stored = await latestAdmission(jsm, CLUSTER);
          const a = stored && decodeAdmission(stored.data, { trustedKeys: this.keys.trusted });
          const newest = (await latestBundle(jsm, CLUSTER))?.version ?? 0;
          for (const node of NODES) await this.converge(node, a, newest);
        } catch {
          // NATS busy or a leader changing: next round
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
  }

  private async converge(node: string, a: Admission | undefined, newest: number): Promise<void> {
    const t = admissionTarget(a, node);
    const version = t.type === 'newest' ? newest : t.type === 'version' ? t.version : 0;
    if (version === 0) return;
    const b = this.behaviour.get(node)?.(version) ?? 'ok';
    if (b === 'stuck') return; // never reports this version (an enforcer that hangs)
    const health = (result: NodeHealth['result'], code = '', output = ''): NodeHealth => ({ version, result, code, check: code ? 'probe' : '', output, checkedAt: new Date().toISOString() });
    const status =
      b === 'nack'
        ? { state: 'failed' as const, failedVersion: version, errorCode: 'NFT_SYNTAX', error: `simulated: v${version} does not load` }
        : b === 'unhealthy'
          ? { state: 'applied' as const, appliedVersion: version, health: health('failed', 'HEALTH_CHECK_FAILED', 'simulated: probe to 192.0.2.1 failed') }
          : { state: 'applied' as const, appliedVersion: version, health: health('passed') };
    const id = JSON.stringify(status);
    if (this.reported.get(node) === id) return;
    const prev = this.reported.get(node);
    const applied = prev ? (JSON.parse(prev) as { appliedVersion?: number }).appliedVersion : undefined;
    await putNodeStatus(this.kv, pendingNodeStatus(node, { cluster: CLUSTER, labels: LABELS[node]!, appliedVersion: applied ?? 0, heartbeatAt: new Date().toISOString(), admissionRevision: a?.stateRevision ?? 0, ...status }));
    this.reported.set(node, id);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

describe('rollout controller (real compiler, etcd, NATS; simulated enforcers)', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let keys: TestKeys;
  let client: Etcd3;
  let nc: NatsConnection;
  let fleet: SimulatedFleet;
  const compilers: ServiceProcess[] = [];
  let poolN = 0;

  const admission = async (): Promise<Admission | undefined> => {
    const s = await latestAdmission(await nc.jetstreamManager(), CLUSTER);
    return s && decodeAdmission(s.data, { trustedKeys: keys.trusted });
  };
  const waitAdmission = async (what: string, pred: (a: Admission) => boolean, timeoutMs = 45_000): Promise<Admission> => {
    let found: Admission | undefined;
    try {
      await waitUntil(what, async () => {
        const a = await admission();
        if (a && pred(a)) found = a;
        return found !== undefined;
      }, { timeoutMs, intervalMs: 50 });
    } catch (err) {
      // What the controller did, for the failure message.
      const lines = compilers.flatMap((c) => c.logs().filter((l) => l['component'] === 'rollout' || /admission|rollout|bundle published/.test(String(l['msg']))).slice(-25));
      console.log(JSON.stringify({ admission: await admission(), state: await stateRecord().catch(() => undefined), lines }, null, 1));
      throw err;
    }
    return found!;
  };
  const stateRecord = async (): Promise<StateRecord> => JSON.parse((await client.get(`${NF}/rollout/state`).string()) ?? 'null') as StateRecord;
  const outcome = async (version: number): Promise<OutcomeRecord | undefined> => {
    const v = await client.get(`${NF}/rollout/outcomes/${String(version).padStart(20, '0')}`).string();
    return v ? (JSON.parse(v) as OutcomeRecord) : undefined;
  };
  /** A change that makes a new bundle; returns its version. */
  const newBundle = async (): Promise<number> => {
    const name = `p${poolN++}`;
    const res = await client.put(poolKey(name)).value(poolJson(name, `10.${50 + poolN}.0.0/16`)).exec();
    const written = Number(res.header.revision);
    // A bundle's version is the etcd revision it was compiled at: at or past the write
    // (the controller's own writes move etcd's revision too).
    let version = 0;
    await waitUntil(`bundle at or past revision ${written}`, async () => {
      version = (await latestBundle(await nc.jetstreamManager(), CLUSTER))?.version ?? 0;
      return version >= written;
    }, { timeoutMs: 30_000, intervalMs: 50 });
    return version;
  };
  const command = async (id: string, type: string, version: number): Promise<void> => {
    await client.put(`${NF}/rollout/commands/${id}`).value(JSON.stringify({ type, version, by: 'itest', at: new Date().toISOString() }));
  };
  const leader = async (): Promise<ServiceProcess> => {
    let found: ServiceProcess | undefined;
    await waitUntil('a leader', async () => {
      for (const c of compilers) if (c.running && (await isLeader(c).catch(() => false))) found = c;
      return found !== undefined;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    return found!;
  };

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    keys = new TestKeys();
    client = new Etcd3({ hosts: etcd.endpoints });
    await client.put(poolKey('base')).value(poolJson('base', '10.0.0.0/16'));
    compilers.push(await startCompiler({ etcdEndpoints: etcd.endpoints, natsUrl: nats.url, keys, replicaId: 'c1', extraArgs: ['--lease-ttl', '2s'] }));
    nc = await connect({ servers: nats.url });
    const kv = await openNodesBucket(nc.jetstream());
    fleet = new SimulatedFleet(nc, kv, keys);
    fleet.start();
    // The registrar turns the announcements into Node resources: the fleet the controller sees.
    await waitUntil('4 Node resources', async () => (await Promise.all(NODES.map((n) => client.get(nodeKey(n)).string()))).every((v) => v !== null), { timeoutMs: 30_000, intervalMs: 100 });
    // Before any policy: everything at once.
    await waitAdmission('policy-less admission', (a) => a.policy === '' && a.everyone);
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
    await nc?.close();
    await Promise.all(compilers.map((c) => c.stop()));
    client?.close();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
    keys?.destroy();
  }, 60_000);

  it('a policy created together with a change is on the stream before the bundle: that bundle is never applied everywhere at once', async () => {
    const jsm = await nc.jetstreamManager();
    const before = (await latestBundle(jsm, CLUSTER))?.version ?? 0;
    // One etcd txn: the policy and a change that makes a new bundle, at the same revision.
    await client
      .if(poolKey('race'), 'Create', '==', 0)
      .then(client.put(`${NF}/rolloutpolicies/staged`).value(policyJson(WAVES())), client.put(poolKey('race')).value(poolJson('race', '10.200.0.0/16')))
      .commit();
    let v = 0;
    await waitUntil('the new bundle', async () => {
      v = (await latestBundle(jsm, CLUSTER))?.version ?? 0;
      return v > before;
    }, { timeoutMs: 30_000, intervalMs: 50 });
    await waitAdmission(`canary of v${v}`, (a) => a.version === v && a.policy === 'staged');
    // Walk the stream: admissions and bundles share it, so sequences order them.
    const last = (await jsm.streams.info(BUNDLE_STREAM)).state.last_seq;
    const admissions: { seq: number; policy: string; version: number }[] = [];
    let bundleSeq = 0;
    for (let seq = 1; seq <= last; seq++) {
      const m = await jsm.streams.getMessage(BUNDLE_STREAM, { seq }).catch(() => undefined);
      if (!m) continue;
      if (m.subject === admissionSubject(CLUSTER)) {
        const a = decodeAdmission(m.data, { trustedKeys: keys.trusted });
        admissions.push({ seq, policy: a.policy, version: a.version });
      } else if (m.subject === bundleSubject(CLUSTER) && Number(m.header?.get(HDR_VERSION)) === v) bundleSeq = seq;
    }
    expect(bundleSeq).toBeGreaterThan(0);
    expect(admissions.filter((a) => a.policy === '' && a.version >= v)).toEqual([]);
    const firstStaged = admissions.find((a) => a.policy === 'staged');
    expect(firstStaged!.seq).toBeLessThan(bundleSeq);
    expect(firstStaged!.version).toBeLessThan(v);
    await waitAdmission(`v${v} completed`, (a) => a.version === v && a.phase === 'completed');
  }, 60_000);

  it('a 4-node fleet with a 3-wave policy goes 1 → 2 → 4 nodes, each wave only after its bake', async () => {
    await client.put(`${NF}/rolloutpolicies/staged`).value(policyJson(WAVES()));
    const activated = await waitAdmission('the policy reaches the enforcers', (a) => a.policy === 'staged');
    expect(activated.everyone).toBe(true);

    const v = await newBundle();
    const canary = await waitAdmission(`canary of v${v}`, (a) => a.version === v);
    expect(canary).toMatchObject({ policy: 'staged', everyone: false, phase: 'progressing', waves: [{ name: 'canary', nodes: ['n1'], rest: false }] });
    const second = await waitAdmission('second wave', (a) => a.version === v && a.waves.length === 2);
    expect(second.waves[1]).toMatchObject({ name: 'second', rest: false });
    expect(second.waves[1]!.nodes).toHaveLength(1);
    const rest = await waitAdmission('rest wave', (a) => a.version === v && a.waves.length === 3);
    expect(rest.waves[2]).toEqual({ name: 'rest', nodes: [], rest: true });
    const done = await waitAdmission('completed', (a) => a.version === v && a.phase === 'completed');
    expect(done.everyone).toBe(true);
    expect(canary.stateRevision).toBeLessThan(second.stateRevision);
    expect(second.stateRevision).toBeLessThan(rest.stateRevision);
    expect(rest.stateRevision).toBeLessThan(done.stateRevision);

    const rec = await stateRecord();
    const [w0, w1, w2] = rec.state.admitted;
    expect(w1!.admittedAt - w0!.admittedAt).toBeGreaterThanOrEqual(BAKE_MS);
    expect(w2!.admittedAt - w1!.admittedAt).toBeGreaterThanOrEqual(BAKE_MS);
    expect(await outcome(v)).toMatchObject({ outcome: 'completed' });
    const c1 = compilers[0]!;
    // (at least this rollout's; the earlier tests add theirs)
    expect(await metric(c1, 'natfleet_rollouts_started_total')).toBeGreaterThanOrEqual(1);
    expect(await metric(c1, 'natfleet_rollouts_completed_total')).toBeGreaterThanOrEqual(2); // + the first, policy-less step
    expect(await metric(c1, 'natfleet_rollout_admissions_published_total')).toBeGreaterThanOrEqual(5);
    expect(await metric(c1, 'natfleet_rollout_wave_duration_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(await metric(c1, 'natfleet_rollout_phase', 'phase="completed"')).toBe(1);
  }, 90_000);

  it('a NACK on the canary halts and rolls back: no waves, outcome rolled-back naming the node and reason', async () => {
    let bad = 0;
    fleet.behaviour.set('n1', (version) => (version === bad ? 'nack' : 'ok'));
    bad = await newBundle();
    const rolled = await waitAdmission('rolled back', (a) => a.version === bad && a.phase === 'rolled-back');
    expect(rolled.waves).toEqual([]);
    const o = await outcome(bad);
    expect(o).toMatchObject({ outcome: 'rolled-back', failures: [{ node: 'n1', gate: 'nack', code: 'NFT_SYNTAX', detail: `simulated: v${bad} does not load` }] });
    fleet.behaviour.delete('n1');
  }, 60_000);

  it('a failed health check on the canary rolls back likewise', async () => {
    let bad = 0;
    fleet.behaviour.set('n1', (version) => (version === bad ? 'unhealthy' : 'ok'));
    bad = await newBundle();
    await waitAdmission('rolled back', (a) => a.version === bad && a.phase === 'rolled-back' && a.waves.length === 0);
    expect(await outcome(bad)).toMatchObject({ outcome: 'rolled-back', failures: [{ node: 'n1', gate: 'health', code: 'HEALTH_CHECK_FAILED', detail: 'simulated: probe to 192.0.2.1 failed' }] });
    fleet.behaviour.delete('n1');
  }, 60_000);

  it('a newer bundle during a rollout supersedes the candidate and restarts from the first wave', async () => {
    await client.put(`${NF}/rolloutpolicies/staged`).value(policyJson(WAVES('20s')));
    const v = await newBundle();
    await waitAdmission('canary of the first candidate', (a) => a.version === v && a.waves.length === 1);
    const w = await newBundle();
    const restarted = await waitAdmission('canary of the newer candidate', (a) => a.version === w);
    expect(restarted).toMatchObject({ phase: 'progressing', everyone: false, waves: [{ name: 'canary', nodes: ['n1'] }] });
    // The superseded one never completed: stable is still the version before it.
    expect(restarted.stable!.version).toBeLessThan(v);
    expect(await outcome(v)).toMatchObject({ outcome: 'superseded' });
    await command('s-abort', 'abort', w);
    await waitAdmission('aborted', (a) => a.version === w && a.phase === 'aborted');
  }, 90_000);

  it('onFailure halt keeps the failing canary on the candidate (for inspection) and admits no one else', async () => {
    await client.put(`${NF}/rolloutpolicies/staged`).value(policyJson(WAVES('1s'), { onFailure: 'halt' }));
    let bad = 0;
    fleet.behaviour.set('n1', (version) => (version === bad ? 'unhealthy' : 'ok'));
    bad = await newBundle();
    const halted = await waitAdmission('halted', (a) => a.version === bad && a.phase === 'halted');
    expect(halted.waves).toEqual([{ name: 'canary', nodes: ['n1'], rest: false }]);
    expect(admissionTarget(halted, 'n1')).toMatchObject({ type: 'version', version: bad });
    expect(admissionTarget(halted, 'n2')).toMatchObject({ type: 'version', version: halted.stable!.version });
    expect(await outcome(bad)).toMatchObject({ outcome: 'halted', failures: [{ node: 'n1', gate: 'health', code: 'HEALTH_CHECK_FAILED' }] });
    fleet.behaviour.delete('n1');
    await command('h-abort', 'abort', bad);
    await waitAdmission('aborted after the halt', (a) => a.version === bad && a.phase === 'aborted' && a.waves.length === 0);
  }, 90_000);

  it('a wave that does not pass its gates within progressDeadline fails (here: the canary never reports the candidate)', async () => {
    await client.put(`${NF}/rolloutpolicies/staged`).value(policyJson(WAVES('1s'), { progressDeadline: '4s' }));
    let bad = 0;
    fleet.behaviour.set('n1', (version) => (version === bad ? 'stuck' : 'ok'));
    bad = await newBundle();
    const t0 = Date.now();
    await waitAdmission('canary', (a) => a.version === bad && a.waves.length === 1);
    const rolled = await waitAdmission('rolled back on the deadline', (a) => a.version === bad && a.phase === 'rolled-back', 30_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3_000);
    expect(rolled.waves).toEqual([]);
    const o = await outcome(bad);
    expect(o?.outcome).toBe('rolled-back');
    expect(JSON.stringify(o)).toMatch(/n1/);
    fleet.behaviour.delete('n1');
  }, 90_000);

  it('pause holds the canary past its bake, resume continues, promote skips bakes, abort drops the admission', async () => {
    await client.put(`${NF}/rolloutpolicies/staged`).value(policyJson(WAVES('20s'), { progressDeadline: '2m' }));
    const v = await newBundle();
    await waitAdmission('canary', (a) => a.version === v && a.waves.length === 1);
    await command('a-pause', 'pause', v);
    await waitAdmission('paused', (a) => a.version === v && a.phase === 'paused');
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await admission())!.waves).toHaveLength(1);
    await command('b-resume', 'resume', v);
    await waitAdmission('resumed', (a) => a.version === v && a.phase === 'progressing');
    await command('c-promote', 'promote', v);
    // 20 s bakes skipped: completed well within them.
    const t0 = Date.now();
    await waitAdmission('promoted to completion', (a) => a.version === v && a.phase === 'completed', 15_000);
    expect(Date.now() - t0).toBeLessThan(20_000);
    // Commands are consumed (deleted).
    expect(await client.getAll().prefix(`${NF}/rollout/commands/`).keys()).toEqual([]);

    const w = await newBundle();
    await waitAdmission('canary', (a) => a.version === w && a.waves.length === 1);
    await command('d-stale', 'abort', v); // for the previous candidate: dropped
    await command('e-abort', 'abort', w);
    const aborted = await waitAdmission('aborted', (a) => a.version === w && a.phase === 'aborted');
    expect(aborted.waves).toEqual([]);
    expect(await outcome(w)).toMatchObject({ outcome: 'aborted' });
    await waitUntil('commands consumed or dropped', async () => (await client.getAll().prefix(`${NF}/rollout/commands/`).keys()).length === 0, { timeoutMs: 10_000, intervalMs: 100 });
  }, 90_000);

  it('SIGKILL of the leader mid-bake: the standby resumes the same rollout (same waves, bake kept, stateRevision growing)', async () => {
    const bakeMs = 10_000;
    await client.put(`${NF}/rolloutpolicies/staged`).value(policyJson(WAVES('10s')));
    compilers.push(await startCompiler({ etcdEndpoints: etcd.endpoints, natsUrl: nats.url, keys, replicaId: 'c2', extraArgs: ['--lease-ttl', '2s'], waitFor: 'healthz' }));
    const first = await leader();
    const v = await newBundle();
    const canary = await waitAdmission('canary', (a) => a.version === v && a.waves.length === 1);
    // Kill mid-bake of the canary wave, once its gate passed.
    await waitUntil('canary gates passed', async () => (await stateRecord()).state.candidate.version === v && JSON.stringify(await stateRecord()).includes('"result":"passed"'), { timeoutMs: 20_000, intervalMs: 100 });
    await first.kill();
    const killedAt = Date.now();
    const next = await leader();
    expect(next).not.toBe(first);
    const second = await waitAdmission('second wave from the new leader', (a) => a.version === v && a.waves.length === 2, 60_000);
    const secondAfterMs = Date.now() - killedAt;
    expect(second.waves[0]).toEqual(canary.waves[0]);
    expect(second.stateRevision).toBeGreaterThan(canary.stateRevision);
    const rec = await stateRecord();
    expect(rec.leader).toBe(next === compilers[0] ? 'c1' : 'c2');
    const [w0, w1] = rec.state.admitted;
    expect(w0).toMatchObject({ name: 'canary', nodes: ['n1'] });
    expect(w1!.admittedAt - w0!.admittedAt).toBeGreaterThanOrEqual(bakeMs);
    const done = await waitAdmission('completed by the new leader', (a) => a.version === v && a.phase === 'completed', 60_000);
    expect(done.stateRevision).toBeGreaterThan(second.stateRevision);
    console.log(`rollout failover: second wave admitted ${secondAfterMs} ms after SIGKILL (canary bake ${bakeMs} ms, lease TTL 2 s)`);
  }, 120_000);
});

describe('EtcdRolloutStore against real etcd', () => {
  let etcd: EtcdCluster;
  let client: Etcd3;
  let store: EtcdRolloutStore;
  const P = '/natfleet-store-test/v1';

  beforeAll(async () => {
    etcd = await startEtcd();
    client = new Etcd3({ hosts: etcd.endpoints });
    store = new EtcdRolloutStore({ client, makeClient: () => new Etcd3({ hosts: etcd.endpoints }), natfleetPrefix: P, calicoPrefix: '/calico/resources/v3/projectcalico.org' });
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await etcd?.destroy();
  });

  it('state writes are fenced on the key\'s mod revision and delete the consumed commands in the same txn', async () => {
    await client.put(`${P}/rollout/commands/1`).value('{"type":"pause","version":1}');
    await client.put(`${P}/rollout/commands/2`).value('{"type":"resume","version":1}');
    expect(await store.readState()).toEqual({ record: undefined, modRevision: 0 });
    const first = await store.writeState('{"a":1}', 0, [`${P}/rollout/commands/1`]);
    expect(first.succeeded).toBe(true);
    expect((await store.readState()).modRevision).toBe(first.revision);
    expect(await client.getAll().prefix(`${P}/rollout/commands/`).keys()).toEqual([`${P}/rollout/commands/2`]);
    // A writer holding an old revision (a deposed leader) cannot write, nor delete.
    const stale = await store.writeState('{"a":2}', 0, [`${P}/rollout/commands/2`]);
    expect(stale.succeeded).toBe(false);
    expect(await client.get(`${P}/rollout/state`).string()).toBe('{"a":1}');
    expect(await client.getAll().prefix(`${P}/rollout/commands/`).keys()).toEqual([`${P}/rollout/commands/2`]);
    const next = await store.writeState('{"a":3}', first.revision, []);
    expect(next.succeeded).toBe(true);
    expect(next.revision).toBeGreaterThan(first.revision);
  });

  it('counts policies without reading them; keeps the newest 100 outcomes', async () => {
    expect(await store.countPolicies()).toBe(0);
    await client.put(`${P}/rolloutpolicies/a`).value('{}');
    await client.put(`${P}/rolloutpolicies/b`).value('{}');
    expect(await store.countPolicies()).toBe(2);
    const outcome = (version: number) => ({ version, digest: `d${version}`, outcome: 'completed' as const, policy: '', immediate: false, reason: '', failures: [], waves: [], stable: null, startedAt: '', endedAt: '' });
    for (let v = 1; v <= 103; v++) await store.putOutcome(outcome(v * 7));
    const keys = await client.getAll().prefix(`${P}/rollout/outcomes/`).keys();
    expect(keys).toHaveLength(100);
    expect(keys.sort()[0]).toBe(`${P}/rollout/outcomes/${String(4 * 7).padStart(20, '0')}`);
  }, 60_000);
});
