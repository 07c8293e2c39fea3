// A leader cut off from etcd stops publishing before its lease can expire, so the standby
// that takes over never overlaps with it; when it can reach etcd again it rejoins as a
// standby. The leader reaches etcd through a proxy the test cuts; the standby goes direct.
import { startEtcd, startNats, waitUntil, type EtcdCluster, type NatsCluster, type ServiceProcess } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleWatch, TcpProxy, TestKeys, isLeader, poolJson, poolKey, readyz, startCompiler, versionProblems } from './compiler-helpers.js';

const logTime = (svc: ServiceProcess, msg: string): number => {
  const line = svc.logs().findLast((l) => l['msg'] === msg);
  return line ? Date.parse(String(line['time'])) : NaN;
};

describe('natfleet-compiler leader partitioned from etcd', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let keys: TestKeys;
  let proxy: TcpProxy;
  let a: ServiceProcess;
  let b: ServiceProcess;
  let bundles: BundleWatch;

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    keys = new TestKeys();
    proxy = await TcpProxy.start(etcd.members[0]!.config.clientPort);
    a = await startCompiler({ etcdEndpoints: [proxy.url], natsUrl: nats.url, keys, replicaId: 'behind-proxy', extraArgs: ['--lease-ttl', '2s'] });
    await waitUntil('a leads', () => isLeader(a), { timeoutMs: 20_000 });
    b = await startCompiler({ etcdEndpoints: etcd.endpoints, natsUrl: nats.url, keys, replicaId: 'direct', extraArgs: ['--lease-ttl', '2s'] });
    bundles = await BundleWatch.open(nats.url, keys.trusted);
    await bundles.waitFor('first bundle', () => true);
    bundles.follow();
  });
  afterAll(async () => {
    await bundles?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await proxy?.close();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
    keys?.destroy();
  });

  it('the cut-off leader steps down before the standby is elected; the standby publishes; the old leader rejoins as standby', async () => {
    expect(await isLeader(b)).toBe(false);
    proxy.cut();
    await waitUntil('a stepped down', async () => !(await isLeader(a)), { timeoutMs: 20_000, intervalMs: 50 });
    await waitUntil('b leads', () => isLeader(b), { timeoutMs: 20_000, intervalMs: 50 });
    const deposed = a.logs().findLast((l) => l['msg'] === 'leadership ended: stopped publishing');
    expect(String(deposed?.['reason'])).toMatch(/keepalive|campaign failed/);
    // The safety property itself: the old term ended before the new one began.
    expect(logTime(a, 'leadership ended: stopped publishing')).toBeLessThan(logTime(b, 'elected leader: compiling and publishing'));
    console.log(`partition: a stepped down ${logTime(b, 'elected leader: compiling and publishing') - logTime(a, 'leadership ended: stopped publishing')} ms before b was elected`);

    await etcd.etcdctl(['put', poolKey('during-partition'), poolJson('during-partition', '10.80.0.0/16')]);
    await bundles.waitFor('bundle from b', (x) => x.fleet.v4.masquerade.includes('10.80.0.0/16'));
    const publishedByA = a.logs().filter((l) => l['msg'] === 'bundle published' && Date.parse(String(l['time'])) > logTime(a, 'leadership ended: stopped publishing'));
    expect(publishedByA).toEqual([]);

    proxy.restore();
    await waitUntil('a campaigns again as standby', async () => {
      const r = await readyz(a);
      return r.status === 200 && r.body.checks['role']?.detail === 'standby';
    }, { timeoutMs: 30_000 });
    expect(await isLeader(b)).toBe(true);
    expect(await isLeader(a)).toBe(false);
    expect(versionProblems(bundles.stored.filter((s) => s.version > 0), bundles.attempts)).toEqual([]);
  });
});
