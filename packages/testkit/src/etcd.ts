/**
 * Real etcd servers for integration tests: one member or a 3-member cluster on free
 * loopback ports with temporary data dirs. Members can be stopped, SIGKILLed and started
 * again on the same ports and data (restart / partition-style tests). Stops by PID only.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { requireBinary } from './binaries.js';
import type { TestPki } from './pki.js';
import { ServerStartError } from './errors.js';
import { freePorts } from './ports.js';
import { ManagedProcess, run, waitUntil, type RunResult } from './process.js';
import { makeTempDir, removeDir } from './tempdir.js';

export interface EtcdMemberConfig {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  /** `name=http://127.0.0.1:peerPort,…` for every member. */
  initialCluster: string;
  /** Serve clients over TLS with client-certificate auth (peers stay plain: loopback). */
  tls?: TestPki;
}

const HOST = '127.0.0.1';

/** One etcd process (a member of a cluster of one or more). */
export class EtcdMember {
  private proc: ManagedProcess | undefined;

  /** `env`: etcd's whole environment (default: this process's). */
  constructor(
    readonly config: EtcdMemberConfig,
    private readonly options: { env?: NodeJS.ProcessEnv } = {},
  ) {}

  get clientUrl(): string {
    return `${this.config.tls ? 'https' : 'http'}://${HOST}:${this.config.clientPort}`;
  }

  get pid(): number | undefined {
    return this.proc?.running ? this.proc.pid : undefined;
  }

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  /** Spawns etcd (no readiness wait; see waitHealthy). A second start while running is a no-op. */
  spawn(): void {
    if (this.proc?.running) return;
    const c = this.config;
    this.proc = new ManagedProcess(requireBinary('etcd'), [
      '--name', c.name,
      '--data-dir', c.dataDir,
      '--listen-client-urls', this.clientUrl,
      '--advertise-client-urls', this.clientUrl,
      '--listen-peer-urls', `http://${HOST}:${c.peerPort}`,
      '--initial-advertise-peer-urls', `http://${HOST}:${c.peerPort}`,
      '--initial-cluster', c.initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', 'natfleet-test',
      // Fast elections so fail-over tests finish in well under a second per step.
      '--heartbeat-interval', '50',
      '--election-timeout', '500',
      '--logger', 'zap',
      '--log-level', 'warn',
      ...(c.tls ? ['--cert-file', c.tls.serverCertFile, '--key-file', c.tls.serverKeyFile, '--trusted-ca-file', c.tls.caFile, '--client-cert-auth'] : []),
    ], this.options.env ? { env: this.options.env } : {});
  }

  /** GET /health (over TLS with the test client certificate when the member uses TLS). */
  private async health(): Promise<boolean> {
    const tls = this.config.tls;
    if (!tls) {
      const res = await fetch(`${this.clientUrl}/health`, { signal: AbortSignal.timeout(1_000) });
      return ((await res.json()) as { health?: string }).health === 'true';
    }
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.clientUrl}/health`,
        { ca: readFileSync(tls.caFile), cert: readFileSync(tls.clientCertFile), key: readFileSync(tls.clientKeyFile), timeout: 1_000 },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body.includes('"health":"true"')));
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end();
    });
  }

  /** Resolves when /health reports healthy (a leader exists); ServerStartError on exit or timeout. */
  async waitHealthy(timeoutMs = 15_000): Promise<void> {
    const proc = this.proc;
    if (!proc) throw new ServerStartError(`etcd ${this.config.name}`, 'never spawned', '');
    try {
      await waitUntil(
        `etcd ${this.config.name} healthy`,
        async () => {
          if (!proc.running) throw new ServerStartError(`etcd ${this.config.name}`, 'process exited', proc.tail());
          return await this.health();
        },
        { timeoutMs, intervalMs: 50 },
      );
    } catch (err) {
      throw new ServerStartError(`etcd ${this.config.name}`, proc.running ? 'not healthy in time' : 'process exited', proc.tail(), { cause: err });
    }
  }

  /** Exited early because a port was taken (the free-port race); the caller retries with new ports. */
  lostPortRace(): boolean {
    return !this.running && /address already in use/i.test(this.proc?.tail(200) ?? '');
  }

  /** SIGTERM then SIGKILL; data kept. */
  async stop(): Promise<void> {
    await this.proc?.stop();
  }

  /** SIGKILL (crash); data kept. */
  async kill(): Promise<void> {
    await this.proc?.kill();
  }

  /** Output tail, for diagnostics. */
  tail(n = 40): string {
    return this.proc?.tail(n) ?? '';
  }
}

/** A running etcd cluster (size 1 or more) owned by a test. */
export class EtcdCluster {
  private constructor(
    readonly members: readonly EtcdMember[],
    private readonly baseDir: string,
    /** Client TLS material when the cluster serves TLS. */
    readonly tls?: TestPki,
  ) {}

  /** Client URLs of every member, for etcd3's `hosts`. */
  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  /** Starts `size` members on fresh ports and waits until all report healthy. */
  static async start({ size = 1, timeoutMs = 20_000, tls }: { size?: number; timeoutMs?: number; tls?: TestPki } = {}): Promise<EtcdCluster> {
    requireBinary('etcd');
    for (let attempt = 0; ; attempt++) {
      const baseDir = makeTempDir('etcd');
      const ports = await freePorts(size * 2);
      const names = Array.from({ length: size }, (_, i) => `m${i}`);
      const initialCluster = names.map((n, i) => `${n}=http://${HOST}:${ports[size + i]}`).join(',');
      const members = names.map(
        (name, i) =>
          new EtcdMember({ name, clientPort: ports[i]!, peerPort: ports[size + i]!, dataDir: `${baseDir}/${name}`, initialCluster, ...(tls ? { tls } : {}) }),
      );
      const cluster = new EtcdCluster(members, baseDir, tls);
      members.forEach((m) => m.spawn());
      try {
        await Promise.all(members.map((m) => m.waitHealthy(timeoutMs)));
        return cluster;
      } catch (err) {
        const raced = members.some((m) => m.lostPortRace());
        await cluster.destroy();
        if (!raced || attempt >= 2) throw err;
      }
    }
  }

  /** Restarts every stopped member on its old ports and data, then waits for health. */
  async startStopped(timeoutMs = 20_000): Promise<void> {
    const stopped = this.members.filter((m) => !m.running);
    stopped.forEach((m) => m.spawn());
    await Promise.all(this.members.map((m) => m.waitHealthy(timeoutMs)));
  }

  /** Runs etcdctl (API v3) against this cluster; throws CommandError on failure. */
  etcdctl(args: readonly string[], options: { input?: string; allowFailure?: boolean } = {}): Promise<RunResult> {
    const tlsArgs = this.tls ? ['--cacert', this.tls.caFile, '--cert', this.tls.clientCertFile, '--key', this.tls.clientKeyFile] : [];
    return run(requireBinary('etcdctl'), ['--endpoints', this.endpoints.join(','), ...tlsArgs, ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      ...options,
    });
  }

  /** Stops every member (SIGTERM by PID) and keeps the data. */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
  }

  /** Stops every member and removes all data. Safe to call twice. */
  async destroy(): Promise<void> {
    await this.stop();
    removeDir(this.baseDir);
  }
}

/** Shorthand: a single-member etcd (with `tls`, clients must present a certificate of the test CA). */
export function startEtcd(options: { timeoutMs?: number; tls?: TestPki } = {}): Promise<EtcdCluster> {
  return EtcdCluster.start({ size: 1, ...options });
}

/** Shorthand: a 3-member etcd cluster. */
export function startEtcdCluster(options: { size?: number; timeoutMs?: number } = {}): Promise<EtcdCluster> {
  return EtcdCluster.start({ size: 3, ...options });
}
