// Shared setup for the enforcer integration tests: a real nats-server or 3-node cluster (stream and nodes
// bucket created as the compiler would), the pod/node/ext topology, a trusted key file,
// real compiled bundles, and the built enforcer as a real process running nft in the
// node namespace. Not a test file itself.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleContentDigest, encodeAdmission, encodeBundle, generateSigningKeyPair, loadSigningKey, sealAdmission, type AdmissionBody, type Bundle, type SigningKey } from '@natfleet/bundle';
import { decodeNodeStatus, ensureBundleStream, isBusError, openNodesBucket, publishAdmission, publishBundle, type NodeStatus } from '@natfleet/bus';
import { compileBundle, type SnapshotEntry } from '@natfleet/compiler-core';
import { RealNft, type TableState } from '@natfleet/nft';
import { freePort, makeTempDir, NatTopology, ServiceProcess, startNats, startNatsCluster, waitUntil, type NatsCluster, type PeerServer } from '@natfleet/testkit';
import { connect, type JetStreamClient, type KV, type NatsConnection } from 'nats';

export const NODE = 'node-1';
export const CLUSTER = 'test';
const PREFIX = '/calico/resources/v3/projectcalico.org';

export const pool = (name: string, spec: Record<string, unknown>): SnapshotEntry => ({
  key: `${PREFIX}/ippools/${name}`,
  value: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec }),
});

/** The pod's own pools (10.65.0.0/24, fd00:65::/64), natOutgoing on or off. */
export const podPools = (natOutgoing: boolean): SnapshotEntry[] => [
  pool('pod-v4', { cidr: '10.65.0.0/24', natOutgoing }),
  pool('pod-v6', { cidr: 'fd00:65::/64', natOutgoing }),
];

export interface World {
  nats: NatsCluster;
  nc: NatsConnection;
  js: JetStreamClient;
  kv: KV;
  topo: NatTopology;
  server: PeerServer;
  key: SigningKey;
  keysFile: string;
  stateDir: string;
  /** nft in the node namespace, for reading (and, in tests, vandalising) the table. */
  nft: RealNft;
  dir: string;
}

export interface WorldOptions {
  /** nats-server config to append (e.g. an authorization block). */
  natsConfig?: string;
  /** Credentials of the test's own connection (it plays the compiler: creates the stream and bucket, publishes). */
  user?: string;
  password?: string;
  /** A 3-node NATS cluster, stream and bucket with 3 replicas (default: one server). */
  natsCluster?: boolean;
}

/** NATS with stream + bucket, the topology with a peer server, keys and a state dir. */
export async function startWorld(o: WorldOptions = {}): Promise<World> {
  const dir = makeTempDir('enforcer-it');
  const pair = generateSigningKeyPair();
  const keysFile = join(dir, 'trusted.pem');
  // Two trusted keys (rotation): the one the tests sign with and another.
  writeFileSync(keysFile, generateSigningKeyPair().publicKeyPem + pair.publicKeyPem);
  const natsOptions = { ...(o.natsConfig ? { extraConfig: o.natsConfig } : {}), ...(o.natsCluster ? { timeoutMs: 60_000 } : {}) };
  const nats = o.natsCluster ? await startNatsCluster(natsOptions) : await startNats(natsOptions);
  const replicas = o.natsCluster ? 3 : 1;
  const nc = await connect({ servers: nats.servers, maxReconnectAttempts: -1, reconnectTimeWait: 250, ...(o.user ? { user: o.user, pass: o.password } : {}) });
  const js = nc.jetstream({ timeout: 2_000 }); // see publish(): a lost first ack after a NATS restart is retried sooner
  // Creating replicated assets can outlast the default 5 s on a loaded machine.
  await ensureBundleStream(await nc.jetstreamManager({ timeout: 20_000 }), { replicas });
  if (o.natsCluster) await openNodesBucket(nc.jetstream({ timeout: 20_000 }), { replicas });
  // Short timeouts for the test's own reads: right after a NATS restart the first request
  // can go unanswered, and polling should retry rather than wait out the 5 s default.
  const kv = await openNodesBucket(nc.jetstream({ timeout: 1_000 }), { replicas });
  const topo = await NatTopology.create();
  const server = await topo.startPeerServer();
  return { nats, nc, js, kv, topo, server, key: loadSigningKey(pair.privateKeyPem), keysFile, stateDir: join(dir, 'state'), nft: new RealNft({ netns: topo.node.name }), dir };
}

export async function stopWorld(w: World | undefined, ...procs: (ServiceProcess | undefined)[]): Promise<void> {
  await Promise.all(procs.map((p) => p?.stop()));
  if (!w) return;
  await w.nc.close().catch(() => undefined);
  await w.topo.destroy();
  await w.nats.destroy();
  rmSync(w.dir, { recursive: true, force: true });
}

/** Starts the built enforcer for NODE in the node namespace; waits for /readyz unless told otherwise. */
export async function startEnforcer(w: World, extraArgs: string[] = [], waitFor: 'readyz' | 'healthz' | 'none' = 'readyz', env: NodeJS.ProcessEnv = {}): Promise<ServiceProcess> {
  const opsPort = await freePort();
  return ServiceProcess.start({
    name: 'enforcer',
    opsPort,
    waitFor,
    env,
    timeoutMs: 30_000,
    args: [
      'run',
      '--node-name', NODE,
      '--cluster', CLUSTER,
      '--labels', 'zone=test,rack=1',
      '--addresses', '203.0.113.1,2001:db8:113::1',
      '--netns', w.topo.node.name,
      '--nats-url', w.nats.url,
      '--trusted-keys-file', w.keysFile,
      '--state-dir', w.stateDir,
      '--drift-interval', '500ms',
      '--heartbeat', '1s',
      '--retry-interval', '1s',
      '--ops-port', String(opsPort),
      ...extraArgs,
    ],
  });
}

/** A real bundle compiled from `entries` at `version`, signed with the world's key. */
export function compiled(w: World, entries: SnapshotEntry[], version: number): Bundle {
  return compileBundle({ entries }, version, { cluster: CLUSTER, key: w.key }).bundle;
}

/**
 * Publishes a bundle, or raw bytes with the given header version/digest (for refused
 * messages; the digest header is the msg-id, so give each raw message its own).
 */
export async function publish(w: World, what: Bundle | { data: Uint8Array; version: number; digest: string }): Promise<number> {
  const msg = 'data' in what ? what : { data: encodeBundle(what), version: what.version, digest: what.digest, contentDigest: bundleContentDigest(what) };
  // Right after a NATS restart the first publish can get no ack (seen with nats-server 2.9:
  // the message is not stored); the msg-id (digest) makes a retry safe.
  for (let attempt = 1; ; attempt++) {
    try {
      const ack = await publishBundle(w.js, { cluster: CLUSTER, contentDigest: '', ...msg });
      if (ack.duplicate && attempt === 1) throw new Error(`publish of v${msg.version} was deduplicated: give it another digest`);
      return ack.seq;
    } catch (err) {
      if (!isBusError(err, 'PUBLISH_FAILED') || attempt >= 4) throw err;
    }
  }
}

/** Admission fields a test sets; the rest default to policy `p`, no waves, no stable, progressing, no health. */
export type AdmissionInput = Partial<Omit<AdmissionBody, 'apiVersion' | 'kind' | 'issuedAt'>> & Pick<AdmissionBody, 'stateRevision' | 'version' | 'digest'>;

/**
 * Seals (with the world's key, or `key`) and publishes an admission on
 * natfleet.admission.<CLUSTER>, as the rollout controller would; returns its stream seq.
 */
export async function publishAdmissionOf(w: World, a: AdmissionInput, key: SigningKey = w.key): Promise<number> {
  const sealed = sealAdmission({ cluster: CLUSTER, policy: 'p', everyone: false, waves: [], stable: null, phase: 'progressing', health: null, ...a }, key);
  const input = { cluster: CLUSTER, data: encodeAdmission(sealed), msgId: `${CLUSTER}.admission.${a.stateRevision}.${sealed.sealDigest}` };
  // As publish(): right after a NATS restart the first publish can get no ack; the msg-id makes a retry safe.
  for (let attempt = 1; ; attempt++) {
    try {
      return (await publishAdmission(w.js, input)).seq;
    } catch (err) {
      if (!isBusError(err, 'PUBLISH_FAILED') || attempt >= 4) throw err;
    }
  }
}

/** NODE's status in the KV bucket, or undefined. */
export async function nodeStatus(w: World): Promise<NodeStatus | undefined> {
  const e = await w.kv.get(NODE);
  return e && e.operation === 'PUT' ? decodeNodeStatus(e.value) : undefined;
}

/** Waits until NODE's KV status satisfies `pred`; returns it. Fails with the last status seen. */
export async function waitStatus(w: World, what: string, pred: (s: NodeStatus) => boolean, timeoutMs = 15_000): Promise<NodeStatus> {
  let last: NodeStatus | undefined;
  try {
    await waitUntil(
      `node status: ${what}`,
      async () => {
        last = await nodeStatus(w);
        return last !== undefined && pred(last);
      },
      { timeoutMs, intervalMs: 25 },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last)}`);
  }
  return last!;
}

export const waitApplied = (w: World, version: number, timeoutMs?: number): Promise<NodeStatus> =>
  waitStatus(w, `v${version} applied`, (s) => s.state === 'applied' && s.appliedVersion === version, timeoutMs);

/** The live table in the node namespace (undefined when absent). */
export const liveTable = (w: World): Promise<TableState | undefined> => w.nft.readTable();

/** A value of the enforcer's /metrics (sum over series matching `labels`; 0 when absent). */
export async function metric(p: ServiceProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${p.opsPort}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const ok = Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`));
    if (ok) sum += Number(m[3]);
  }
  return sum;
}
