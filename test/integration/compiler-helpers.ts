// Shared by the compiler-*.test.ts files: running natfleet-compiler processes against the
// testkit's etcd and NATS, reading what they publish, compiling etcd's state independently
// to compare, and a TCP proxy that can cut the compiler off etcd.
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection, type Subscription } from 'nats';
import { decodeBundle, generateSigningKeyPair, loadTrustedKeys, type Bundle, type BundleBody, type TrustedKeys } from '@natfleet/bundle';
import { HDR_DIGEST, HDR_VERSION, bundleSubject, followBundles, latestBundle } from '@natfleet/bus';
import { compile } from '@natfleet/compiler-core';
import { DEFAULT_KEY_PREFIX } from '@natfleet/model';
import { EtcdStore } from '@natfleet/store';
import { ServiceProcess, freePort, makeTempDir, removeDir, waitUntil, type EtcdCluster, type NatsCluster } from '@natfleet/testkit';

export const PREFIX = DEFAULT_KEY_PREFIX;
export const CLUSTER = 'itest';

export const poolKey = (name: string): string => `${PREFIX}/ippools/${name}`;
export const felixKey = (name: string): string => `${PREFIX}/felixconfigurations/${name}`;
export const nodeKey = (name: string): string => `${PREFIX}/nodes/${name}`;

export const poolJson = (name: string, cidr: string, spec: Record<string, unknown> = {}): string =>
  JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, natOutgoing: true, ...spec } });
export const felixJson = (name: string, spec: Record<string, unknown>): string =>
  JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: { name }, spec });

/** A signing key pair in a temp dir: the file the compiler reads and the keys tests trust. */
export class TestKeys {
  readonly dir = makeTempDir('compiler-keys');
  readonly keyFile = join(this.dir, 'signing.key');
  readonly trusted: TrustedKeys;
  constructor() {
    const pair = generateSigningKeyPair();
    writeFileSync(this.keyFile, pair.privateKeyPem, { mode: 0o600 });
    this.trusted = loadTrustedKeys([pair.publicKeyPem]);
  }
  destroy(): void {
    removeDir(this.dir);
  }
}

export interface CompilerStartOptions {
  etcdEndpoints: string[];
  natsUrl: string;
  keys: TestKeys;
  replicaId?: string;
  extraArgs?: string[];
  /** Wait for /readyz (default) or just /healthz (a standby may not be "ready" before campaigning). */
  waitFor?: 'readyz' | 'healthz';
}

export async function startCompiler(o: CompilerStartOptions): Promise<ServiceProcess> {
  const opsPort = await freePort();
  return ServiceProcess.start({
    name: 'compiler',
    opsPort,
    waitFor: o.waitFor ?? 'readyz',
    timeoutMs: 30_000,
    args: [
      '--etcd-endpoints', o.etcdEndpoints.join(','),
      '--nats-url', o.natsUrl,
      '--cluster', CLUSTER,
      '--signing-key-file', o.keys.keyFile,
      '--ops-port', String(opsPort),
      '--replica-id', o.replicaId ?? 'c1',
      '--log-level', 'debug',
      ...(o.extraArgs ?? []),
    ],
  });
}

/** One sample of a metric from /metrics (0 when absent). `labels` like `code="OVERLAP"`. */
export async function metric(svc: ServiceProcess, name: string, labels = ''): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${svc.opsPort}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{` : `${name} `) && (!labels || l.includes(labels)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

export async function readyz(svc: ServiceProcess): Promise<{ status: number; body: { ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> } }> {
  return svc.getJson('/readyz');
}

export async function isLeader(svc: ServiceProcess): Promise<boolean> {
  return svc.running && (await metric(svc, 'natfleet_compiler_is_leader')) === 1;
}

/** Reads bundles off NATS: the latest (decoded and verified), and a log of everything published. */
export class BundleWatch {
  /** Every bundle stored on the subject since `follow()` (stream order). */
  readonly stored: { seq: number; version: number; digest: string; bundle: Bundle }[] = [];
  /** Every publish attempt seen on the subject by a plain subscriber (including ones JetStream refused or deduplicated). */
  readonly attempts: { version: number; digest: string }[] = [];
  private readonly ac = new AbortController();
  private sub: Subscription | undefined;
  private following: Promise<void> | undefined;

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly trusted: TrustedKeys,
  ) {}

  static async open(natsUrl: string, trusted: TrustedKeys): Promise<BundleWatch> {
    const nc = await connect({ servers: natsUrl });
    return new BundleWatch(nc, nc.jetstream(), await nc.jetstreamManager(), trusted);
  }

  /** Starts recording (the stream must exist: start a compiler first). */
  follow(): void {
    this.sub = this.nc.subscribe(bundleSubject(CLUSTER), {
      callback: (_err, m) => this.attempts.push({ version: Number(m.headers?.get(HDR_VERSION) ?? 0), digest: m.headers?.get(HDR_DIGEST) ?? '' }),
    });
    this.following = (async () => {
      for await (const b of followBundles(this.js, CLUSTER, this.ac.signal)) {
        // A follow that restarts (reconnect, consumer replaced) may hand over the last
        // message again: the same stream sequence is the same stored bundle, not a new one.
        if (this.stored.length > 0 && b.seq <= this.stored[this.stored.length - 1]!.seq) continue;
        this.stored.push({ seq: b.seq, version: b.version, digest: b.digest, bundle: decodeBundle(b.data, { trustedKeys: this.trusted }) });
      }
    })().catch(() => undefined);
  }

  async latest(): Promise<Bundle | undefined> {
    const b = await latestBundle(this.jsm, CLUSTER);
    return b && decodeBundle(b.data, { trustedKeys: this.trusted });
  }

  /** Waits until the latest bundle satisfies `pred`; returns it. */
  async waitFor(what: string, pred: (b: Bundle) => boolean, timeoutMs = 30_000): Promise<Bundle> {
    let found: Bundle | undefined;
    await waitUntil(
      what,
      async () => {
        const b = await this.latest();
        if (b && pred(b)) found = b;
        return found !== undefined;
      },
      { timeoutMs, intervalMs: 50 },
    );
    return found!;
  }

  async close(): Promise<void> {
    this.ac.abort();
    this.sub?.unsubscribe();
    await this.following;
    await this.nc.close();
  }
}

/** Strictly increasing versions, and never one version with two digests. Returns the problems found. */
export function versionProblems(stored: readonly { version: number; digest: string }[], attempts: readonly { version: number; digest: string }[]): string[] {
  const problems: string[] = [];
  for (let i = 1; i < stored.length; i++) {
    if (stored[i]!.version <= stored[i - 1]!.version) problems.push(`stored v${stored[i]!.version} after v${stored[i - 1]!.version}`);
  }
  const byVersion = new Map<number, string>();
  for (const a of [...stored, ...attempts]) {
    const seen = byVersion.get(a.version);
    if (seen !== undefined && seen !== a.digest) problems.push(`v${a.version} published as ${seen} and ${a.digest}`);
    byVersion.set(a.version, a.digest);
  }
  return problems;
}

/** etcd's state compiled independently of the service: the body a bundle of `revision` must have. */
export async function freshCompile(etcd: EtcdCluster, revision?: number): Promise<BundleBody> {
  const client = new Etcd3({ hosts: etcd.endpoints });
  try {
    const snap = await new EtcdStore(client, PREFIX).snapshot(revision);
    // The bundle of `revision` carries that revision as its version (the read's header says
    // the current one, which moves with writes outside the prefix, e.g. elections).
    return compile({ entries: snap.entries }, revision ?? snap.revision, { cluster: CLUSTER, prefix: PREFIX }).body;
  } finally {
    client.close();
  }
}

/** The enforced part of a bundle: what must match a fresh compile. */
export const enforced = (b: BundleBody): Pick<BundleBody, 'version' | 'fleet' | 'nodes' | 'warnings'> => ({
  version: b.version,
  fleet: b.fleet,
  nodes: b.nodes,
  warnings: b.warnings,
});

/** etcd's current revision. */
export async function etcdRevision(etcd: EtcdCluster): Promise<number> {
  const client = new Etcd3({ hosts: etcd.endpoints });
  try {
    const res = await client.get('natfleet-test/none').exec();
    return Number(res.header.revision);
  } finally {
    client.close();
  }
}

/**
 * A loopback TCP proxy in front of etcd, so a test can cut one client off etcd (connections
 * reset, new ones refused) while etcd itself keeps serving everyone else.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private cutOff = false;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const port = await freePort();
    let self: TcpProxy | undefined;
    const server = createServer((client) => {
      if (!self || self.cutOff) return client.destroy();
      const upstream = netConnect(targetPort, '127.0.0.1');
      for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
        self.sockets.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          self?.sockets.delete(a);
          b.destroy();
        });
        a.pipe(b);
      }
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    self = new TcpProxy(server, port);
    return self;
  }

  /** Resets every proxied connection and refuses new ones until restore(). */
  cut(): void {
    this.cutOff = true;
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
  }

  restore(): void {
    this.cutOff = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((r) => this.server.close(r));
  }
}

export type { EtcdCluster, NatsCluster };
