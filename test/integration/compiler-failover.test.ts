// Two compiler replicas elect one leader in etcd. SIGKILL the leader in the middle of a
// burst: the standby takes over once the lease expires, nothing published goes backwards
// or gets two bodies for one version, and the final bundle equals etcd's final state.
// SIGTERM instead: the leader resigns and the standby takes over without waiting.
import { Etcd3 } from 'etcd3';
import { startEtcd, startNats, waitUntil, type EtcdCluster, type NatsCluster, type ServiceProcess } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BundleWatch,
  TestKeys,
  enforced,
  freshCompile,
  isLeader,
  poolJson,
  poolKey,
  readyz,
  startCompiler,
  versionProblems,
} from './compiler-helpers.js';

const TTL = ['--lease-ttl', '2s'];

describe('natfleet-compiler replicas fail over', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let keys: TestKeys;
  let bundles: BundleWatch;
  const replicas: ServiceProcess[] = [];

  const start = async (replicaId: string): Promise<ServiceProcess> => {
    const svc = await startCompiler({ etcdEndpoints: etcd.endpoints, natsUrl: nats.url, keys, replicaId, extraArgs: TTL });
    replicas.push(svc);
    return svc;
  };

  /** The one running replica that is leader, once exactly one is. */
  const leaderOf = async (candidates: ServiceProcess[]): Promise<ServiceProcess> => {
    let leader: ServiceProcess | undefined;
    await waitUntil(
      'exactly one leader',
      async () => {
        const flags = await Promise.all(candidates.map((c) => isLeader(c).catch(() => false)));
        leader = flags.filter(Boolean).length === 1 ? candidates[flags.indexOf(true)] : undefined;
        return leader !== undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    return leader!;
  };

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    keys = new TestKeys();
    await start('replica-a');
    await start('replica-b');
    bundles = await BundleWatch.open(nats.url, keys.trusted);
    await bundles.waitFor('first bundle', () => true);
    bundles.follow();
  });
  afterAll(async () => {
    await bundles?.close();
    await Promise.all(replicas.map((r) => r.stop()));
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
    keys?.destroy();
  });

  it('SIGKILL of the leader mid-burst: the standby takes over; no version lost, none published twice with different content', async () => {
    const leader = await leaderOf(replicas);
    const standby = replicas.find((r) => r !== leader)!;
    expect((await readyz(standby)).body.checks['role']).toEqual({ ok: true, detail: 'standby' });
    expect(standby.logs().filter((l) => l['msg'] === 'bundle published')).toEqual([]);

    const client = new Etcd3({ hosts: etcd.endpoints });
    let finalRevision = 0;
    let killedAt = 0;
    let tookOverMs = 0;
    try {
      const burst = (async () => {
        for (let i = 0; i < 600; i++) {
          const name = `fo-${i % 120}`;
          const res = await client.put(poolKey(name)).value(poolJson(name, `10.${100 + Math.floor(i / 200)}.${i % 200}.0/24`, { natOutgoing: i % 2 === 0 })).exec();
          finalRevision = Math.max(finalRevision, Number(res.header.revision));
          if (i % 10 === 9) await new Promise((r) => setTimeout(r, 50)); // a few seconds of writes, spanning the takeover
        }
      })();
      await waitUntil('leader published during the burst', () => leader.logs().filter((l) => l['msg'] === 'bundle published').length >= 3, { timeoutMs: 20_000 });
      await leader.kill();
      killedAt = Date.now();
      await waitUntil('standby leads', () => isLeader(standby), { timeoutMs: 30_000, intervalMs: 50 });
      tookOverMs = Date.now() - killedAt;
      await burst;
    } finally {
      client.close();
    }

    const last = await bundles.waitFor(`bundle v${finalRevision}`, (b) => b.version >= finalRevision, 45_000);
    // At or past the last write (the rollout controller's state writes move the revision too).
    expect(last.version).toBeGreaterThanOrEqual(finalRevision);
    expect(enforced(last)).toEqual(enforced(await freshCompile(etcd, last.version)));
    const stored = bundles.stored.filter((s) => s.version > 0);
    expect(versionProblems(stored, bundles.attempts)).toEqual([]);
    expect(standby.logs().some((l) => l['msg'] === 'bundle published')).toBe(true);
    console.log(
      `failover: standby led ${tookOverMs} ms after SIGKILL (lease TTL 2 s); ${stored.length} bundles stored, ` +
        `${bundles.attempts.length} publish attempts seen, final v${last.version}`,
    );
  });

  it('SIGTERM of the leader: it resigns and a fresh standby takes over without waiting for the lease to expire', async () => {
    const current = replicas.find((r) => r.running)!;
    const fresh = await start('replica-c');
    expect(await leaderOf([current, fresh])).toBe(current);
    const stoppedAt = Date.now();
    await current.stop();
    await waitUntil('fresh replica leads', () => isLeader(fresh), { timeoutMs: 30_000, intervalMs: 50 });
    const tookOverMs = Date.now() - stoppedAt;
    expect(current.logs().some((l) => l['msg'] === 'leadership ended: stopped publishing')).toBe(true);

    // The new leader publishes what is written next.
    await etcd.etcdctl(['put', poolKey('after-term'), poolJson('after-term', '172.20.0.0/16')]);
    const b = await bundles.waitFor('bundle from the new leader', (x) => x.fleet.v4.masquerade.includes('172.20.0.0/16'));
    expect(enforced(b)).toEqual(enforced(await freshCompile(etcd, b.version)));
    expect(versionProblems(bundles.stored.filter((s) => s.version > 0), bundles.attempts)).toEqual([]);
    console.log(`graceful handover: new leader ${tookOverMs} ms after SIGTERM`);
  });
});
