// Fault injection: a 3-member etcd, a 3-node NATS cluster (bundle stream with 3 replicas)
// and two compiler replicas, with a writer putting pools into etcd all along while the
// test kills and pauses things. After every fault, two invariants:
//   - no acknowledged write is lost: once the system settles, the newest bundle carries
//     the last acknowledged etcd revision and equals an independent compile of etcd there;
//   - versions never go backwards: every bundle stored on the subject has a higher version
//     than the one before, and no version was stored with two different bodies.
// Faults: an etcd member killed (and back), a NATS server killed (and back), a full NATS
// outage (and back), the compiler leader paused past its lease (and thawed), the leader
// killed.
import { Etcd3 } from 'etcd3';
import { bundleHistory } from '@natfleet/bus';
import { startEtcdCluster, startNatsCluster, waitUntil, type EtcdCluster, type NatsCluster, type ServiceProcess } from '@natfleet/testkit';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleWatch, CLUSTER, TestKeys, enforced, freshCompile, isLeader, poolJson, poolKey, startCompiler, versionProblems } from './compiler-helpers.js';

describe('fault injection: no acknowledged write lost, versions never go backwards', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let keys: TestKeys;
  let bundles: BundleWatch;
  let client: Etcd3;
  const compilers: ServiceProcess[] = [];
  let acked = 0; // highest etcd revision a put returned
  let writes = 0;
  let writing = true;
  let writer: Promise<void> = Promise.resolve();
  const log: string[] = [];

  const natsUrls = (): string => nats.nodes.map((n) => n.url).join(',');

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcdCluster({ timeoutMs: 60_000 }), startNatsCluster({ timeoutMs: 60_000 })]);
    keys = new TestKeys();
    for (const id of ['fi-a', 'fi-b']) {
      compilers.push(await startCompiler({ etcdEndpoints: etcd.endpoints, natsUrl: natsUrls(), keys, replicaId: id, extraArgs: ['--lease-ttl', '2s', '--stream-replicas', '3', '--log-level', 'info'] }));
    }
    bundles = await BundleWatch.open(nats.nodes[2]!.url, keys.trusted);
    await bundles.waitFor('first bundle', () => true, 60_000);
    bundles.follow();
    client = new Etcd3({ hosts: etcd.endpoints });
    // The writer: ~20 puts a second over 40 pool names; a put that throws (etcd member
    // down, leader election) is simply not acknowledged.
    writer = (async () => {
      for (let i = 0; writing; i++) {
        const name = `fi-${i % 40}`;
        try {
          const res = await client.put(poolKey(name)).value(poolJson(name, `10.${i % 40}.${Math.floor(i / 40) % 256}.0/24`, { natOutgoing: i % 3 !== 0 })).exec();
          acked = Math.max(acked, Number(res.header.revision));
          writes++;
        } catch {
          // not acknowledged
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
  }, 180_000);

  afterAll(async () => {
    writing = false;
    await writer;
    for (const c of compilers) c.proc.signal('SIGCONT');
    await bundles?.close();
    client?.close();
    await Promise.all(compilers.map((c) => c.stop()));
    keys?.destroy();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
    console.log(`fault injection: ${writes} acknowledged writes, ${bundles?.stored.length ?? 0} bundles followed\n  ${log.join('\n  ')}`);
  }, 120_000);

  /** Pauses the writer, then waits until the newest bundle carries the last acknowledged revision and matches etcd there. */
  async function settled(what: string): Promise<void> {
    writing = false;
    await writer;
    const target = acked;
    const t0 = Date.now();
    const last = await bundles.waitFor(`${what}: bundle at the last acknowledged revision ${target}`, (b) => b.version >= target, 90_000);
    // A compiler may version the bundle with a later etcd revision than the last write
    // (a new leader's snapshot includes its own election write): it must carry every
    // acknowledged write, i.e. equal etcd compiled at its own version, which is >= target.
    expect(last.version, what).toBeGreaterThanOrEqual(target);
    expect(enforced(last), what).toEqual(enforced(await freshCompile(etcd, last.version)));
    expect(versionProblems(bundles.stored, bundles.attempts), what).toEqual([]);
    log.push(`${what}: settled at v${target} in ${Date.now() - t0} ms after the writes stopped`);
    writing = true;
    writer = (async () => {
      for (let i = 0; writing; i++) {
        const name = `fi-${i % 40}`;
        try {
          const res = await client.put(poolKey(name)).value(poolJson(name, `10.${i % 40}.${(writes + i) % 256}.0/24`, { natOutgoing: (writes + i) % 3 !== 0 })).exec();
          acked = Math.max(acked, Number(res.header.revision));
          writes++;
        } catch {
          // not acknowledged
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
  }

  const leader = async (): Promise<ServiceProcess> => {
    let found: ServiceProcess | undefined;
    await waitUntil('one leader', async () => {
      const flags = await Promise.all(compilers.map((c) => (c.proc.running ? isLeader(c).catch(() => false) : false)));
      found = flags.filter(Boolean).length === 1 ? compilers[flags.indexOf(true)] : undefined;
      return found !== undefined;
    }, { timeoutMs: 60_000, intervalMs: 100 });
    return found!;
  };

  it('an etcd member killed and restarted', async () => {
    await new Promise((r) => setTimeout(r, 1_000));
    await etcd.members[0]!.kill();
    await new Promise((r) => setTimeout(r, 3_000));
    await etcd.startStopped(60_000);
    await settled('etcd member kill');
  }, 180_000);

  it('a NATS server killed and restarted', async () => {
    await nats.nodes[0]!.kill();
    await new Promise((r) => setTimeout(r, 3_000));
    await nats.startStopped(60_000);
    await settled('NATS server kill');
  }, 180_000);

  it('a full NATS outage', async () => {
    await Promise.all(nats.nodes.map((n) => n.stop()));
    await new Promise((r) => setTimeout(r, 3_000));
    await nats.startStopped(60_000);
    await settled('full NATS outage');
  }, 240_000);

  it('the compiler leader paused past its lease, then thawed', async () => {
    const paused = await leader();
    paused.proc.signal('SIGSTOP');
    try {
      await waitUntil('the other replica leads', async () => compilers.some((c) => c !== paused && c.proc.running) && (await isLeader(compilers.find((c) => c !== paused)!).catch(() => false)), { timeoutMs: 60_000, intervalMs: 100 });
      await new Promise((r) => setTimeout(r, 2_000));
    } finally {
      paused.proc.signal('SIGCONT');
    }
    await new Promise((r) => setTimeout(r, 3_000)); // the thawed one must step down, not publish anything older
    await settled('paused leader');
  }, 180_000);

  it('the compiler leader killed', async () => {
    const l = await leader();
    await l.kill();
    await leader();
    await settled('leader kill');
    // The stream itself (not only what this watcher saw) holds strictly increasing versions.
    const nc = await connect({ servers: nats.nodes.map((n) => n.url) });
    try {
      const stored = await bundleHistory(nc.jetstream(), CLUSTER);
      const versions = stored.map((s) => s.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
    } finally {
      await nc.close();
    }
  }, 180_000);
});
