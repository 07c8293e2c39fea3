/**
 * Write → enforced latency on one node (issue 8, part 1): real etcd, NATS, compiler, API
 * and an enforcer applying real nft in a netns. Latency runs from the write (an etcd put,
 * or an API POST) to the enforcer's `applied` report for that version arriving on the KV.
 * Beside it, measured in the same run on the same servers: etcd put → watch event,
 * JetStream publish → ordered-consumer receive, and `nft -f` of the same table; natfleet's
 * latency is compared with their sum. RSS of each daemon idle and at peak.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateSigningKeyPair, inspectBundle } from '@natfleet/bundle';
import { latestBundle, openNodesBucket, watchNodeStatuses } from '@natfleet/bus';
import { createNft, renderTransaction } from '@natfleet/nft';
import { NatTopology, Netns, ServiceProcess, freePort, makeTempDir, removeDir, startEtcd, startNats, waitUntil } from '@natfleet/testkit';
import { Etcd3 } from 'etcd3';
import { DeliverPolicy, StorageType, connect } from 'nats';
import { percentile, printTable } from './stats.js';
import { RssSampler, rssMiB } from './rss.js';

const P = '/calico/resources/v3/projectcalico.org';
const pool = (name: string, cidr: string) => ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, natOutgoing: true } });

export interface LatencyRow {
  path: string;
  n: number;
  p50: number;
  p90: number;
  p99: number;
}

const row = (path: string, xs: number[]): LatencyRow => ({ path, n: xs.length, p50: percentile(xs, 50), p90: percentile(xs, 90), p99: percentile(xs, 99) });

export async function benchWriteToEnforced({ writes = 200, apiWrites = 200, primitiveRuns = 200, nftRuns = 50, enforcerNodeOptions = process.env.BENCH_ENFORCER_NODE_OPTIONS ?? '--max-semi-space-size=1' } = {}) {
  const [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
  const dir = makeTempDir('bench-e2e');
  const topo = await NatTopology.create();
  const scratch = await Netns.create('benchnft');
  const procs: ServiceProcess[] = [];
  const etcdClient = new Etcd3({ hosts: etcd.endpoints });
  const nc = await connect({ servers: nats.url });
  try {
    const keys = generateSigningKeyPair();
    writeFileSync(join(dir, 'signing.key'), keys.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'signing.pub'), keys.publicKeyPem);
    writeFileSync(join(dir, 'tokens'), 'bench-write-token-000000 write\n');
    const [compilerPort, enforcerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const common = ['--etcd-endpoints', etcd.endpoints[0]!, '--nats-url', nats.url, '--log-level', 'warn'];
    const compiler = await ServiceProcess.start({ name: 'compiler', opsPort: compilerPort, args: [...common, '--signing-key-file', join(dir, 'signing.key'), '--ops-port', String(compilerPort)] });
    procs.push(compiler);
    const enforcer = await ServiceProcess.start({
      name: 'enforcer',
      opsPort: enforcerPort,
      waitFor: 'healthz',
      // The enforcer runs as deployed (deploy/systemd, deploy/kubernetes); '' = Node defaults.
      env: { NODE_OPTIONS: enforcerNodeOptions },
      args: ['run', '--node-name', 'bench-1', '--netns', topo.node.name, '--nats-url', nats.url, '--trusted-keys-file', join(dir, 'signing.pub'), '--state-dir', join(dir, 'enforcer'), '--ops-port', String(enforcerPort), '--log-level', 'warn'],
    });
    procs.push(enforcer);
    const api = await ServiceProcess.start({ name: 'api', opsPort: apiPort, args: [...common, '--token-file', join(dir, 'tokens'), '--port', String(apiPort)] });
    procs.push(api);

    // Applied reports as they arrive on the KV: version → first arrival.
    const js = nc.jetstream();
    const kv = await openNodesBucket(js, { bindOnly: true });
    let applied = 0;
    const waiters: { version: number; resolve: (t: number) => void }[] = [];
    const ac = new AbortController();
    void (async () => {
      for await (const ev of watchNodeStatuses(kv, ac.signal)) {
        if (ev.type !== 'put' || ev.status.node !== 'bench-1' || ev.status.state !== 'applied') continue;
        const t = performance.now();
        applied = Math.max(applied, ev.status.appliedVersion);
        for (const w of waiters.filter((x) => x.version <= applied)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(t);
        }
      }
    })();
    const appliedAtLeast = (version: number): Promise<number> =>
      version <= applied ? Promise.resolve(performance.now()) : new Promise((resolve) => waiters.push({ version, resolve }));
    await waitUntil('first bundle applied', () => applied > 0, { timeoutMs: 30_000 });

    const idle = { compiler: rssMiB(compiler.pid), api: rssMiB(api.pid), enforcer: rssMiB(enforcer.pid) };
    const sampler = new RssSampler({ compiler: compiler.pid, api: api.pid, enforcer: enforcer.pid });

    const etcdLat: number[] = [];
    for (let i = 0; i < writes; i++) {
      const t0 = performance.now();
      const res = await etcdClient.put(`${P}/ippools/bench-${i}`).value(JSON.stringify(pool(`bench-${i}`, `10.${i}.0.0/16`))).exec();
      etcdLat.push((await appliedAtLeast(Number(res.header.revision))) - t0);
    }
    const apiLat: number[] = [];
    for (let i = 0; i < apiWrites; i++) {
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${apiPort}/v1/ippools`, {
        method: 'POST',
        headers: { authorization: 'Bearer bench-write-token-000000', 'content-type': 'application/json' },
        body: JSON.stringify(pool(`api-${i}`, `172.${16 + (i >> 8)}.${i & 255}.0/24`)),
      });
      const body = (await res.json()) as { revision: number };
      if (!res.ok) throw new Error(`API write failed: ${JSON.stringify(body)}`);
      apiLat.push((await appliedAtLeast(body.revision)) - t0);
    }
    const peak = sampler.stop();
    ac.abort();

    // Primitives, same servers, same run.
    const putWatch: number[] = [];
    const w = await etcdClient.watch().prefix('/bench/prim/').create();
    let onPut: () => void = () => undefined;
    w.on('put', () => onPut());
    for (let i = 0; i < primitiveRuns; i++) {
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        onPut = resolve;
        void etcdClient.put(`/bench/prim/${i}`).value('x').exec();
      });
      putWatch.push(performance.now() - t0);
    }
    await w.cancel();
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'BENCH_PRIM', subjects: ['bench.prim'], storage: StorageType.File });
    const consumer = await js.consumers.get('BENCH_PRIM', { deliver_policy: DeliverPolicy.New });
    const messages = await consumer.consume();
    const iter = messages[Symbol.asyncIterator]();
    const pubRecv: number[] = [];
    for (let i = 0; i < primitiveRuns; i++) {
      const t0 = performance.now();
      const next = iter.next();
      await js.publish('bench.prim', new Uint8Array(64));
      await next;
      pubRecv.push(performance.now() - t0);
    }
    await messages.close();
    const latest = await latestBundle(jsm, 'default');
    const text = renderTransaction(inspectBundle(latest!.data), 'bench-1');
    const nftLat: number[] = [];
    for (let i = 0; i < nftRuns; i++) {
      const t0 = performance.now();
      await scratch.nft(text);
      nftLat.push(performance.now() - t0);
    }
    // The same commit in process (libnftables in a worker thread, in the namespace), as the enforcer makes it.
    const lib = await createNft({ netns: scratch.name, backend: 'libnftables' });
    const libLat: number[] = [];
    try {
      for (let i = 0; i < nftRuns * 4; i++) {
        const t0 = performance.now();
        await lib.applyTransaction(text);
        libLat.push(performance.now() - t0);
      }
    } finally {
      await lib.close();
    }

    const rows = [
      row('etcd put → enforced (applied report)', etcdLat),
      row('API write → enforced (applied report)', apiLat),
      row('etcd put → watch event', putWatch),
      row('JetStream publish → receive', pubRecv),
      row('nft -f of the same table', nftLat),
      row('in-process libnftables commit of the same table', libLat),
    ];
    // Since issue 16 the enforcer commits in process: the primitive is the in-process commit
    // (rows[5]); the ratio against the `nft -f` primitive (rows[4]) is kept for comparison with older runs.
    const sumWith = (nftRow: number, p: 'p50' | 'p99'): number => rows[2]![p] + rows[3]![p] + rows[nftRow]![p];
    const sum = (p: 'p50' | 'p99'): number => sumWith(5, p);
    const ratios = {
      etcdP50: rows[0]!.p50 / sum('p50'),
      etcdP99: rows[0]!.p99 / sum('p99'),
      apiP50: rows[1]!.p50 / sum('p50'),
      apiP99: rows[1]!.p99 / sum('p99'),
      etcdP50VsNftCli: rows[0]!.p50 / sumWith(4, 'p50'),
      apiP50VsNftCli: rows[1]!.p50 / sumWith(4, 'p50'),
    };
    printTable('write → enforced latency (ms), one node, real nft in a netns; primitives measured in the same run', rows as unknown as Record<string, number>[]);
    printTable('natfleet vs the sum of the primitives (ratio)', [
      { path: 'etcd put → enforced', p50: ratios.etcdP50, p99: ratios.etcdP99, sumOfPrimitivesP50: sum('p50'), sumOfPrimitivesP99: sum('p99') },
      { path: 'API write → enforced', p50: ratios.apiP50, p99: ratios.apiP99, sumOfPrimitivesP50: sum('p50'), sumOfPrimitivesP99: sum('p99') },
    ] as unknown as Record<string, number>[]);
    const rss = Object.keys(idle).map((k) => ({ daemon: k, idleMiB: idle[k as keyof typeof idle], peakMiB: peak[k] ?? Number.NaN }));
    printTable('RSS (MiB) idle and at peak during the writes above', rss as unknown as Record<string, number>[]);
    return { rows, ratios, rss };
  } finally {
    await Promise.all(procs.map((p) => p.stop().catch(() => undefined)));
    await nc.close();
    etcdClient.close();
    await Promise.all([topo.destroy(), scratch.destroy(), etcd.destroy(), nats.destroy()]);
    removeDir(dir);
  }
}
