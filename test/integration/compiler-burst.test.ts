// 1,000 rapid etcd writes through one client: the compiler debounces them into a few
// bundles whose versions strictly increase, and the last one equals a fresh compile of
// etcd's final state.
import { Etcd3 } from 'etcd3';
import { startEtcd, startNats, type EtcdCluster, type NatsCluster, type ServiceProcess } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleWatch, TestKeys, enforced, freshCompile, poolJson, poolKey, startCompiler, versionProblems } from './compiler-helpers.js';

const WRITES = 1_000;
const WRITERS = 4;

describe('natfleet-compiler under a burst of writes', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let keys: TestKeys;
  let compiler: ServiceProcess;
  let bundles: BundleWatch;

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    keys = new TestKeys();
    compiler = await startCompiler({ etcdEndpoints: etcd.endpoints, natsUrl: nats.url, keys });
    bundles = await BundleWatch.open(nats.url, keys.trusted);
    await bundles.waitFor('first bundle', () => true);
    bundles.follow();
  });
  afterAll(async () => {
    await bundles?.close();
    await compiler?.stop();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
    keys?.destroy();
  });

  it('1,000 rapid writes → versions strictly increase and the last bundle equals a fresh compile of the final state', async () => {
    const client = new Etcd3({ hosts: etcd.endpoints });
    let finalRevision = 0;
    const started = Date.now();
    try {
      // Pools named by i % 300 are rewritten with other CIDRs and NAT settings as the burst goes on.
      const write = async (i: number): Promise<void> => {
        const name = `burst-${i % 300}`;
        const cidr = `10.${Math.floor(i / 200)}.${i % 200}.0/24`;
        const res = await client.put(poolKey(name)).value(poolJson(name, cidr, { natOutgoing: i % 3 !== 0, disabled: i % 7 === 0 })).exec();
        finalRevision = Math.max(finalRevision, Number(res.header.revision));
      };
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) => {
          for (let i = w; i < WRITES; i += WRITERS) await write(i);
        }),
      );
    } finally {
      client.close();
    }
    const wroteMs = Date.now() - started;

    const last = await bundles.waitFor(`bundle v${finalRevision}`, (b) => b.version >= finalRevision, 45_000);
    const convergedMs = Date.now() - started;
    // At or past the last write: the rollout controller's own etcd writes (its state, after
    // each bundle) move the revision too, and a snapshot read after one carries it.
    expect(last.version).toBeGreaterThanOrEqual(finalRevision);
    expect(enforced(last)).toEqual(enforced(await freshCompile(etcd, last.version)));
    expect(last.fleet.v4.noNat.length).toBeGreaterThan(0);

    // Everything stored during the burst: strictly increasing, one digest per version.
    const during = bundles.stored.filter((s) => s.version > 0);
    expect(during.at(-1)?.version).toBe(last.version);
    expect(versionProblems(during, bundles.attempts)).toEqual([]);

    const published = compiler.logs().filter((l) => l['msg'] === 'bundle published');
    const compileMs = published.map((l) => Number(l['compileMs']));
    const latencyMs = published.map((l) => Number(l['latencyMs']));
    console.log(
      `burst: ${WRITES} writes in ${wroteMs} ms, converged after ${convergedMs} ms; ` +
        `${during.length} bundles stored during the burst (${bundles.attempts.length} publish attempts seen); ` +
        `compile ms max ${Math.max(...compileMs).toFixed(1)}, last ${compileMs.at(-1)?.toFixed(1)}; ` +
        `change→publish latency ms max ${Math.max(...latencyMs)}, last ${latencyMs.at(-1)}; ${last.warnings.length} warnings`,
    );
  });
});
