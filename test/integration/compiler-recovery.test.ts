// The compiler survives etcd going away and its watch history being compacted: it keeps
// the last bundle published (and says it is not ready) while etcd is gone, and after a
// restart or a compaction past its watch revision it re-lists and converges.
import { startEtcd, startNats, waitUntil, type EtcdCluster, type NatsCluster, type ServiceProcess } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BundleWatch,
  TcpProxy,
  TestKeys,
  enforced,
  etcdRevision,
  freshCompile,
  metric,
  poolJson,
  poolKey,
  readyz,
  startCompiler,
} from './compiler-helpers.js';

describe('natfleet-compiler recovers from etcd restarts and compaction', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let keys: TestKeys;
  let proxy: TcpProxy;
  let compiler: ServiceProcess;
  let bundles: BundleWatch;

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    keys = new TestKeys();
    // The compiler reaches etcd through a proxy the test can cut; everyone else goes direct.
    proxy = await TcpProxy.start(etcd.members[0]!.config.clientPort);
    compiler = await startCompiler({ etcdEndpoints: [proxy.url], natsUrl: nats.url, keys });
    bundles = await BundleWatch.open(nats.url, keys.trusted);
    await etcd.etcdctl(['put', poolKey('base'), poolJson('base', '10.0.0.0/16')]);
    await bundles.waitFor('base pool', (b) => b.fleet.v4.masquerade.includes('10.0.0.0/16'));
  });
  afterAll(async () => {
    if (process.env['DUMP_LOGS']) console.log(compiler?.tail(200));
    await bundles?.close();
    await compiler?.stop();
    await proxy?.close();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
    keys?.destroy();
  });

  it('etcd restarted mid-watch: the last bundle stays published, /readyz says not ready, then it converges', async () => {
    const before = (await bundles.latest())!;
    const resyncs = await metric(compiler, 'natfleet_compiler_etcd_resyncs_total');
    const terms = compiler.logs().filter((l) => l['msg'] === 'elected leader: compiling and publishing').length;
    await etcd.stop();
    try {
      await waitUntil('not ready while etcd is down', async () => (await readyz(compiler)).status === 503, { timeoutMs: 20_000 });
      expect(compiler.running).toBe(true);
      expect((await bundles.latest())!.digest).toBe(before.digest);
    } finally {
      await etcd.startStopped();
    }
    await etcd.etcdctl(['put', poolKey('after-restart'), poolJson('after-restart', '10.50.0.0/16')]);
    const b = await bundles.waitFor('bundle after the restart', (x) => x.fleet.v4.masquerade.includes('10.50.0.0/16'), 45_000);
    expect(enforced(b)).toEqual(enforced(await freshCompile(etcd, b.version)));
    await waitUntil('ready again', async () => (await readyz(compiler)).status === 200, { timeoutMs: 30_000 });
    // Either the watch reconnected and re-listed (resync), or — when etcd's graceful stop
    // hung long enough that the lease was in doubt — the leader stepped down and a new
    // term listed afresh. Both are recoveries; which one happens depends on etcd's timing.
    const resynced = (await metric(compiler, 'natfleet_compiler_etcd_resyncs_total')) > resyncs;
    const reelected = compiler.logs().filter((l) => l['msg'] === 'elected leader: compiling and publishing').length > terms;
    expect(resynced || reelected).toBe(true);
    console.log(`etcd restart: recovered by ${resynced ? 'watch resync' : 'stepping down and a new term'}`);
  });

  it('compaction past the watch revision while cut off: the watch is re-made, re-listed, and the bundle converges', async () => {
    const resyncs = await metric(compiler, 'natfleet_compiler_etcd_resyncs_total');
    proxy.cut();
    try {
      // Written while the compiler cannot see them, then compacted away from the history
      // its watch would resume from.
      await etcd.etcdctl(['put', poolKey('while-cut-1'), poolJson('while-cut-1', '10.61.0.0/16')]);
      await etcd.etcdctl(['put', poolKey('while-cut-2'), poolJson('while-cut-2', '10.62.0.0/16', { natOutgoing: false })]);
      await etcd.etcdctl(['del', poolKey('base')]);
      await etcd.etcdctl(['compaction', String(await etcdRevision(etcd))]);
    } finally {
      proxy.restore();
    }
    const b = await bundles.waitFor('bundle with the writes made while cut off', (x) => x.fleet.v4.masquerade.includes('10.61.0.0/16') && !x.fleet.v4.masquerade.includes('10.0.0.0/16'), 45_000);
    expect(b.fleet.v4.noNat).toContain('10.62.0.0/16');
    expect(enforced(b)).toEqual(enforced(await freshCompile(etcd, b.version)));
    await waitUntil('resync counted', async () => (await metric(compiler, 'natfleet_compiler_etcd_resyncs_total')) > resyncs, { timeoutMs: 20_000 });
    await waitUntil('ready again', async () => (await readyz(compiler)).status === 200, { timeoutMs: 30_000 });

    // And the re-made watch is live: a later write still arrives.
    await etcd.etcdctl(['put', poolKey('after-compaction'), poolJson('after-compaction', '10.70.0.0/16')]);
    await bundles.waitFor('bundle after compaction', (x) => x.fleet.v4.masquerade.includes('10.70.0.0/16'), 30_000);
    const reasons = compiler.logs().filter((l) => l['msg'] === 'etcd watch live again; recompiling from a fresh snapshot').map((l) => String(l['reason']));
    console.log(`resync reasons seen: ${JSON.stringify(reasons)}`);
  });
});
