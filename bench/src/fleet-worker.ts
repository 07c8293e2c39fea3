/**
 * One shard of the simulated fleet, in a worker thread: real Enforcer cores (real decode,
 * Ed25519 verify, render; FakeNft dataplane; BundleStore on tmpfs), sharing this shard's
 * NATS connections (one ordered consumer per connection, fanned out in-process) and
 * reporting `applied` to the natfleet-nodes KV. Messages: parent → {type:'stop'};
 * worker → {type:'ready'} | {type:'received', version, at} | {type:'stopped'}.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { loadTrustedKeys } from '@natfleet/bundle';
import { followBundles, openNodesBucket, putNodeStatus } from '@natfleet/bus';
import { BundleStore, Enforcer, createMetrics } from '@natfleet/enforcer';
import { FakeNft } from '@natfleet/nft';
import { connect, type KV, type NatsConnection } from 'nats';
import { pino } from 'pino';

export interface FleetShard {
  natsUrl: string;
  cluster: string;
  nodeNames: string[];
  connections: number;
  publicKeyPem: string;
  stateDir: string;
}

async function main(shard: FleetShard): Promise<void> {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal); // one listener per consumer of this shard
  const conns: NatsConnection[] = [];
  for (let c = 0; c < shard.connections; c++) conns.push(await connect({ servers: shard.natsUrl }));
  const kvs: KV[] = [];
  for (const nc of conns) kvs.push(await openNodesBucket(nc.jetstream(), { bindOnly: true }));
  const trustedKeys = loadTrustedKeys([shard.publicKeyPem]);
  const metrics = createMetrics();
  const logger = pino({ level: 'silent' });
  mkdirSync(shard.stateDir, { recursive: true });
  const groups: Enforcer[][] = conns.map(() => []);
  const enforcers: Enforcer[] = [];
  const reported = new Map<string, number>();
  for (const [i, node] of shard.nodeNames.entries()) {
    const kv = kvs[i % conns.length]!;
    const e = new Enforcer({
      nodeName: node, cluster: shard.cluster, nft: new FakeNft(), store: new BundleStore(join(shard.stateDir, node)), trustedKeys,
      maxBundleBytes: 32 << 20, driftIntervalMs: 3_600_000, retryIntervalMs: 5_000, logger, metrics,
      onChange: (s) => {
        if (s.state !== 'applied' || reported.get(node) === s.appliedVersion) return;
        reported.set(node, s.appliedVersion);
        void putNodeStatus(kv, { node, cluster: shard.cluster, labels: {}, addresses: [], enforcerVersion: 'sim', ...s, heartbeatAt: new Date().toISOString() }).catch(() => reported.delete(node));
      },
    });
    await e.start();
    enforcers.push(e);
    groups[i % conns.length]!.push(e);
  }
  for (const [c, nc] of conns.entries()) {
    void (async () => {
      for await (const b of followBundles(nc.jetstream(), shard.cluster, ac.signal)) {
        // Wall-clock-comparable across threads: when the control plane's bundle reached this shard.
        parentPort!.postMessage({ type: 'received', version: b.version, at: performance.timeOrigin + performance.now() });
        for (const e of groups[c]!) e.offer({ seq: b.seq, version: b.version, data: b.data });
      }
    })().catch(() => undefined);
  }
  parentPort!.on('message', (m: { type: string }) => {
    if (m.type !== 'stop') return;
    ac.abort();
    void (async () => {
      await Promise.all(enforcers.map((e) => e.stop()));
      await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
      parentPort!.postMessage({ type: 'stopped' });
    })();
  });
  parentPort!.postMessage({ type: 'ready' });
}

if (parentPort) void main(workerData as FleetShard);
