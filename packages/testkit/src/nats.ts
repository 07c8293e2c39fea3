/**
 * Real nats-server processes with JetStream for integration tests: one server or a
 * 3-node cluster (JetStream replicas up to 3) on free loopback ports, each with its own
 * temporary store dir. Servers can be stopped, killed and started again on the same
 * ports and store (reconnect / resync tests). Stops by PID only.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';
import { ServerStartError } from './errors.js';
import { freePorts } from './ports.js';
import { ManagedProcess, waitUntil } from './process.js';
import { makeTempDir, removeDir } from './tempdir.js';

const HOST = '127.0.0.1';

export interface NatsNodeConfig {
  name: string;
  port: number;
  monitorPort: number;
  /** Cluster route port; undefined for a standalone server. */
  clusterPort?: number;
  routes: readonly number[];
  storeDir: string;
  /** Extra nats-server config appended verbatim (accounts, authorization, limits…). */
  extraConfig?: string;
}

/** Renders a nats-server config file for one node. Pure; exported for tests. */
export function renderNatsConfig(c: NatsNodeConfig, clusterName = 'natfleet-test'): string {
  const lines = [
    `server_name: ${JSON.stringify(c.name)}`,
    `listen: "${HOST}:${c.port}"`,
    `http: "${HOST}:${c.monitorPort}"`,
    `max_payload: 8MB`,
    `jetstream {`,
    `  store_dir: ${JSON.stringify(c.storeDir)}`,
    `  max_memory_store: 256MB`,
    `  max_file_store: 2GB`,
    `}`,
  ];
  if (c.clusterPort !== undefined) {
    lines.push(
      `cluster {`,
      `  name: ${JSON.stringify(clusterName)}`,
      `  listen: "${HOST}:${c.clusterPort}"`,
      `  routes: [${c.routes.map((p) => `"nats-route://${HOST}:${p}"`).join(', ')}]`,
      `}`,
    );
  }
  if (c.extraConfig) lines.push(c.extraConfig);
  return lines.join('\n') + '\n';
}

/** One nats-server process. */
export class NatsNode {
  private proc: ManagedProcess | undefined;
  readonly configFile: string;

  /**
   * `env`: the server's whole environment (default: this process's). nats-server expands
   * `$VAR` references in its config from it, e.g. password references.
   */
  constructor(
    readonly config: NatsNodeConfig,
    dir: string,
    private readonly options: { env?: NodeJS.ProcessEnv } = {},
  ) {
    mkdirSync(dir, { recursive: true });
    this.configFile = join(dir, `${config.name}.conf`);
    writeFileSync(this.configFile, renderNatsConfig(config));
  }

  get url(): string {
    return `nats://${HOST}:${this.config.port}`;
  }

  get monitorUrl(): string {
    return `http://${HOST}:${this.config.monitorPort}`;
  }

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  get pid(): number | undefined {
    return this.proc?.running ? this.proc.pid : undefined;
  }

  /** Spawns the server (no readiness wait). No-op while running. */
  spawn(): void {
    if (this.proc?.running) return;
    this.proc = new ManagedProcess(requireBinary('nats-server'), ['-c', this.configFile], this.options.env ? { env: this.options.env } : {});
  }

  /**
   * Resolves when /healthz is ok (JetStream enabled and its assets current). A restarted
   * cluster member can stay "not current" for minutes on idle R1 consumers it hosted
   * before (nats-server 2.9 counts them in /healthz until they expire; seen in the
   * quorum-loss tests), so past half the timeout the server-only check
   * (`?js-server-only=true`: the server and its JetStream, not every asset) is enough.
   * ServerStartError on exit or timeout.
   */
  async waitHealthy(timeoutMs = 15_000): Promise<void> {
    const proc = this.proc;
    if (!proc) throw new ServerStartError(`nats-server ${this.config.name}`, 'never spawned', '');
    const started = Date.now();
    try {
      await waitUntil(
        `nats-server ${this.config.name} healthy`,
        async () => {
          if (!proc.running) throw new Error('exited');
          const res = await fetch(`${this.monitorUrl}/healthz`, { signal: AbortSignal.timeout(1_000) });
          if (res.ok) return true;
          if (Date.now() - started < timeoutMs / 2) return false;
          const serverOnly = await fetch(`${this.monitorUrl}/healthz?js-server-only=true`, { signal: AbortSignal.timeout(1_000) });
          return serverOnly.ok;
        },
        { timeoutMs, intervalMs: 50 },
      );
    } catch (err) {
      throw new ServerStartError(`nats-server ${this.config.name}`, proc.running ? 'not healthy in time' : 'process exited', proc.tail(), { cause: err });
    }
  }

  /** The JetStream meta-leader's name as this node sees it ('' when none yet). */
  async metaLeader(): Promise<string> {
    const res = await fetch(`${this.monitorUrl}/jsz`, { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as { meta_cluster?: { leader?: string } };
    return body.meta_cluster?.leader ?? '';
  }

  lostPortRace(): boolean {
    return !this.running && /address already in use/i.test(this.proc?.tail(200) ?? '');
  }

  async stop(): Promise<void> {
    this.proc?.signal('SIGCONT'); // a paused server would not see SIGTERM
    await this.proc?.stop();
  }

  async kill(): Promise<void> {
    await this.proc?.kill();
  }

  /** Freezes the server (SIGSTOP by PID): connections stay open, requests time out. */
  pause(): void {
    this.proc?.signal('SIGSTOP');
  }

  /** Thaws a paused server (SIGCONT). */
  resume(): void {
    this.proc?.signal('SIGCONT');
  }

  tail(n = 40): string {
    return this.proc?.tail(n) ?? '';
  }
}

export interface NatsStartOptions {
  /** Number of nodes; 1 = standalone, ≥ 2 = a cluster with routes between all. */
  size?: number;
  extraConfig?: string;
  timeoutMs?: number;
}

/** A running NATS deployment (standalone or cluster) owned by a test. */
export class NatsCluster {
  private constructor(readonly nodes: readonly NatsNode[], private readonly baseDir: string) {}

  /** Client URLs of every node, for `connect({servers})`. */
  get servers(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /** First node's URL (the only one for a standalone server). */
  get url(): string {
    return this.nodes[0]!.url;
  }

  static async start({ size = 1, extraConfig, timeoutMs = 20_000 }: NatsStartOptions = {}): Promise<NatsCluster> {
    requireBinary('nats-server');
    for (let attempt = 0; ; attempt++) {
      const baseDir = makeTempDir('nats');
      const clustered = size > 1;
      const ports = await freePorts(size * (clustered ? 3 : 2));
      const nodes = Array.from({ length: size }, (_, i) => {
        const clusterPort = clustered ? ports[2 * size + i] : undefined;
        const cfg: NatsNodeConfig = {
          name: `n${i}`,
          port: ports[i]!,
          monitorPort: ports[size + i]!,
          routes: clustered ? ports.slice(2 * size).filter((p) => p !== clusterPort) : [],
          storeDir: join(baseDir, `n${i}`, 'js'),
          ...(clusterPort !== undefined ? { clusterPort } : {}),
          ...(extraConfig ? { extraConfig } : {}),
        };
        return new NatsNode(cfg, join(baseDir, `n${i}`));
      });
      const cluster = new NatsCluster(nodes, baseDir);
      nodes.forEach((n) => n.spawn());
      try {
        await cluster.waitReady(timeoutMs);
        return cluster;
      } catch (err) {
        const raced = nodes.some((n) => n.lostPortRace());
        await cluster.destroy();
        if (!raced || attempt >= 2) throw err;
      }
    }
  }

  /** Waits for every running node to be healthy and, when clustered, for a JetStream meta leader. */
  async waitReady(timeoutMs = 20_000): Promise<void> {
    const running = this.nodes.filter((n) => n.running);
    await Promise.all(running.map((n) => n.waitHealthy(timeoutMs)));
    if (this.nodes.length > 1) {
      await waitUntil('JetStream meta leader elected', async () => (await running[0]!.metaLeader()) !== '', {
        timeoutMs,
        intervalMs: 100,
      });
    }
  }

  /** Starts every stopped node on its old ports and store, then waits until ready. */
  async startStopped(timeoutMs = 20_000): Promise<void> {
    this.nodes.filter((n) => !n.running).forEach((n) => n.spawn());
    await this.waitReady(timeoutMs);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  /** Stops every node and removes all stores. Safe to call twice. */
  async destroy(): Promise<void> {
    await this.stop();
    removeDir(this.baseDir);
  }
}

/** Shorthand: one nats-server with JetStream. */
export function startNats(options: Omit<NatsStartOptions, 'size'> = {}): Promise<NatsCluster> {
  return NatsCluster.start({ ...options, size: 1 });
}

/** Shorthand: a 3-node JetStream cluster. */
export function startNatsCluster(options: NatsStartOptions = {}): Promise<NatsCluster> {
  return NatsCluster.start({ size: 3, ...options });
}
