/**
 * Fleet fan-out (issue 8, part 2; 10,000 since issue 16): 1,000, 5,000 and 10,000 simulated enforcers in this process —
 * the real Enforcer core (real decode + Ed25519 verify + render, the FakeNft dataplane),
 * sharing a pool of real NATS connections (one ordered consumer per connection, fanning
 * out in-process) and reporting `applied` to the real natfleet-nodes KV. A real compiler
 * process watches a real etcd. Measured: from an etcd write to each node's applied report
 * arriving on the KV (p50 / p99 per node, and to the last node), plus compiler and
 * nats-server CPU and memory during the rollout.
 *
 * What the simulation shares that a fleet would not: the 2 cores of this machine run the
 * compiler, NATS and every simulated enforcer; state files go to tmpfs (a real node
 * fsyncs to its own disk).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateSigningKeyPair } from '@natfleet/bundle';
import { openNodesBucket, watchNodeStatuses } from '@natfleet/bus';
import { ServiceProcess, freePort, makeTempDir, removeDir, startEtcd, startNats, waitUntil } from '@natfleet/testkit';
import { Etcd3 } from 'etcd3';
import { Worker } from 'node:worker_threads';
import { connect, type NatsConnection } from 'nats';
import type { FleetShard } from './fleet-worker.js';
import { cpuSeconds, RssSampler } from './rss.js';
import { percentile, printTable } from './stats.js';

const P = '/calico/resources/v3/projectcalico.org';

export interface FanoutRow {
  nodes: number;
  connections: number;
  /** etcd write → the bundle arriving at the first fleet connection (compiler + NATS only). */
  bundleAtFleetMs: number;
  /** The first node's applied report on the KV. */
  firstNodeMs: number;
  p50Ms: number;
  p99Ms: number;
  lastNodeMs: number;
  compilerCpuS: number;
  natsCpuS: number;
  compilerPeakMiB: number;
  natsPeakMiB: number;
  fleetProcessPeakMiB: number;
  /** Worker threads the simulated fleet ran in. */
  workers: number;
}

async function runFanout(nodes: number, connections: number, workers: number): Promise<FanoutRow> {
  const [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
  const dir = makeTempDir('bench-fanout');
  const shm = `/dev/shm/natfleet-fanout-${process.pid}-${nodes}`;
  const conns: NatsConnection[] = [];
  const fleet: Worker[] = [];
  const receivedAt = new Map<number, number>();
  const ac = new AbortController();
  let compiler: ServiceProcess | undefined;
  const etcdClient = new Etcd3({ hosts: etcd.endpoints });
  try {
    const keys = generateSigningKeyPair();
    writeFileSync(join(dir, 'signing.key'), keys.privateKeyPem, { mode: 0o600 });
    const opsPort = await freePort();
    compiler = await ServiceProcess.start({
      name: 'compiler',
      opsPort,
      args: ['--etcd-endpoints', etcd.endpoints[0]!, '--nats-url', nats.url, '--signing-key-file', join(dir, 'signing.key'), '--ops-port', String(opsPort), '--log-level', 'warn', '--cluster', 'bench'],
    });
    await etcdClient.put(`${P}/ippools/base`).value(JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'base' }, spec: { cidr: '10.0.0.0/16', natOutgoing: true } })).exec();

    // The simulated fleet runs in worker threads (one shard each, own NATS connections), so
    // it can use every core of this machine the way a real fleet uses its nodes' CPUs.
    await waitUntil('nodes bucket created by the compiler', async () => {
      const nc = await connect({ servers: nats.url });
      try {
        await openNodesBucket(nc.jetstream(), { bindOnly: true });
        return true;
      } catch {
        return false;
      } finally {
        await nc.close();
      }
    }, { timeoutMs: 20_000 });
    const names = Array.from({ length: nodes }, (_, i) => `sim-${i}`);
    for (let w = 0; w < workers; w++) {
      const shard: FleetShard = {
        natsUrl: nats.url,
        cluster: 'bench',
        nodeNames: names.filter((_, i) => i % workers === w),
        connections: Math.max(1, Math.round(connections / workers)),
        publicKeyPem: keys.publicKeyPem,
        stateDir: join(shm, `w${w}`),
      };
      const worker = new Worker(new URL('./fleet-worker.js', import.meta.url), { workerData: shard });
      fleet.push(worker);
      worker.on('message', (m: { type: string; version: number; at: number }) => {
        if (m.type === 'received') receivedAt.set(m.version, Math.min(receivedAt.get(m.version) ?? Infinity, m.at));
      });
      await new Promise<void>((resolve, reject) => {
        worker.once('error', reject);
        worker.on('message', (m: { type: string }) => m.type === 'ready' && resolve());
      });
    }
    // Everyone applies the base bundle first (warm-up), then the measured write.
    const observerNc = await connect({ servers: nats.url });
    conns.push(observerNc);
    const observerKv = await openNodesBucket(observerNc.jetstream(), { bindOnly: true });
    const appliedAt = new Map<string, { version: number; t: number }>();
    void (async () => {
      for await (const ev of watchNodeStatuses(observerKv, ac.signal)) {
        if (ev.type === 'put' && ev.status.state === 'applied') appliedAt.set(ev.status.node, { version: ev.status.appliedVersion, t: performance.now() });
      }
    })().catch(() => undefined);
    await waitUntil(`${nodes} nodes applied the base bundle`, () => appliedAt.size === nodes, { timeoutMs: 120_000, intervalMs: 50 });
    // The warm-up announced every node; wait until the compiler registered them all in etcd
    // and is idle again, so the measured rollout is a rollout and not registration backlog.
    await waitUntil(`${nodes} Node resources registered`, async () => (await etcdClient.getAll().prefix(`${P}/nodes/`).count()) === nodes, { timeoutMs: 300_000, intervalMs: 200 });
    let last = cpuSeconds(compiler.pid);
    await waitUntil('compiler idle', async () => {
      await new Promise((r) => setTimeout(r, 500));
      const now = cpuSeconds(compiler!.pid);
      const idle = now - last < 0.02;
      last = now;
      return idle;
    }, { timeoutMs: 120_000, intervalMs: 0 });

    const natsPid = nats.nodes[0]!.pid;
    const sampler = new RssSampler({ compiler: compiler.pid, nats: natsPid, fleet: process.pid }, 50);
    const cpu0 = { compiler: cpuSeconds(compiler.pid), nats: cpuSeconds(natsPid) };
    const t0 = performance.now();
    const t0Wall = performance.timeOrigin + t0;
    const res = await etcdClient.put(`${P}/ippools/change`).value(JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'change' }, spec: { cidr: '10.1.0.0/16', natOutgoing: true } })).exec();
    const version = Number(res.header.revision);
    await waitUntil(`${nodes} nodes applied v${version}`, () => [...appliedAt.values()].filter((a) => a.version >= version).length === nodes, { timeoutMs: 120_000, intervalMs: 10 });
    const lat = [...appliedAt.values()].map((a) => a.t - t0);

    const peak = sampler.stop();
    return {
      nodes,
      connections,
      bundleAtFleetMs: (receivedAt.get(version) ?? Number.NaN) - t0Wall,
      firstNodeMs: Math.min(...lat),
      p50Ms: percentile(lat, 50),
      p99Ms: percentile(lat, 99),
      lastNodeMs: Math.max(...lat),
      compilerCpuS: cpuSeconds(compiler.pid) - cpu0.compiler,
      natsCpuS: cpuSeconds(natsPid) - cpu0.nats,
      compilerPeakMiB: peak.compiler ?? Number.NaN,
      natsPeakMiB: peak.nats ?? Number.NaN,
      fleetProcessPeakMiB: peak.fleet ?? Number.NaN,
      workers,
    };
  } finally {
    ac.abort();
    await Promise.all(fleet.map((w) => new Promise<void>((resolve) => {
      w.on('message', (m: { type: string }) => m.type === 'stopped' && resolve());
      w.postMessage({ type: 'stop' });
    }).then(() => w.terminate())));
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
    await compiler?.stop();
    etcdClient.close();
    await Promise.all([etcd.destroy(), nats.destroy()]);
    rmSync(shm, { recursive: true, force: true });
    removeDir(dir);
  }
}

export async function benchFanout(sizes: readonly number[] = [1_000, 5_000, 10_000], connections = 50, workers = 2): Promise<FanoutRow[]> {
  const rows: FanoutRow[] = [];
  for (const n of sizes) rows.push(await runFanout(n, connections, workers));
  printTable(`fleet fan-out: etcd write → every simulated node's applied report on the KV (ms); real compiler, NATS, verify+render; fake nft; ${connections} shared NATS connections; fleet in ${workers} worker threads`, rows as unknown as Record<string, number>[]);
  return rows;
}
