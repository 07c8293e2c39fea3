/**
 * The local stack supervisor (`npm start`): etcd and nats-server on loopback with data in
 * the state dir, the compiler, the API, and one enforcer per simulated node — each node a
 * pod/node/ext trio of network namespaces with a peer-reporting server in ext, so NAT is
 * real. Creates `default-ipv4-ippool` when no pool exists (as Calico's installer does),
 * writes natctl's config, waits for the first rollout, prints where everything listens,
 * and on SIGINT/SIGTERM stops everything by PID and removes the namespaces (data kept);
 * forceStop() (a second Ctrl-C) SIGKILLs by PID instead and still removes them.
 * Each child gets only its own secrets (process-env.ts): nats-server the password
 * references of its config, each daemon its own NATS password. The daemons (compiler,
 * API, enforcers) run as SupervisedDaemons (daemon.ts): logs in `<state dir>/logs`,
 * warnings on screen, restarted with back-off when they crash (etcd and nats-server too,
 * polled: watchServer). stack.json records every
 * child's PID and command line as spawned (cleanup.ts tells ours from reused PIDs with it).
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { EtcdMember, NatTopology, NatsNode, PeerServer, REPO_ROOT, freePorts, requireBinary, run, serviceEntry, waitUntil } from '@natfleet/testkit';
import { Backoff, seconds } from './backoff.js';
import { killAndWait, namespacePids, procCmdline, procStartTime } from './cleanup.js';
import { SupervisedDaemon } from './daemon.js';
import { logFile, logsDir, rotateIfLarge } from './log-files.js';
import { enforcerUser, natfleetUsers, renderAuthorization } from './nats-auth.js';
import { childEnv, natsServerEnv } from './process-env.js';
import { StackState, type NodeRecord, type StackPorts, type StackRecord } from './state.js';

export interface StackOptions {
  stateDir: string;
  nodes: number;
  poolCidr: string;
  poolNatOutgoing: boolean;
  cluster: string;
  /** 1, or 2 for an active/standby pair of compilers (leader election in etcd). Default 1. */
  compilers?: number;
  /** Run each node's egress probe as the enforcer's post-apply health check. Default true. */
  healthChecks?: boolean;
  log: (line: string) => void;
  /** The daemons' NATFLEET_LOG_LEVEL (what goes to their log files). Default info. */
  logLevel?: string;
}

/** A started child: how to stop it, kill it, and its PID while it runs. */
interface Child {
  name: string;
  pid: number | undefined;
  stop(): Promise<unknown>;
  kill(): Promise<unknown>;
}

/** Said when an enforcer exits: its node keeps the rules it had (nothing to do). */
const FAIL_STATIC = 'its node keeps enforcing the rules it had meanwhile (fail static)';

const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

async function choosePorts(prev: StackPorts | undefined, nodes: number, compilers: number): Promise<StackPorts> {
  if (prev && prev.enforcerOps.length === nodes && (prev.standbyCompilerOps !== undefined) === compilers > 1) {
    const all = [prev.etcdClient, prev.etcdPeer, prev.nats, prev.natsMonitor, prev.api, prev.compilerOps, ...(prev.standbyCompilerOps !== undefined ? [prev.standbyCompilerOps] : []), ...prev.enforcerOps];
    if ((await Promise.all(all.map(portFree))).every(Boolean)) return prev; // same URLs as last time
  }
  const p = await freePorts(7 + nodes);
  return { etcdClient: p[0]!, etcdPeer: p[1]!, nats: p[2]!, natsMonitor: p[3]!, api: p[4]!, compilerOps: p[5]!, ...(compilers > 1 ? { standbyCompilerOps: p[6]! } : {}), enforcerOps: p.slice(7) };
}

/** Where the built egress probe lives (the local stack's post-apply health check, egress-probe.ts). */
const EGRESS_PROBE = join(REPO_ROOT, 'packages/local-stack/dist/egress-probe.js');

/**
 * NATFLEET_HEALTH_CHECKS for a simulated node: one real TCP probe from its pod namespace to
 * the external host, healthy only when the host saw the node's address (egress-probe.ts).
 */
export function egressHealthChecks(n: Pick<NodeRecord, 'podNetns' | 'extAddress' | 'peerPort' | 'nodeAddress'>, node: string = process.execPath): string {
  return JSON.stringify([{ name: 'egress', command: ['ip', 'netns', 'exec', n.podNetns, node, EGRESS_PROBE, n.extAddress, String(n.peerPort), n.nodeAddress, '2000'], timeout: '5s' }]);
}

/** Pod subnet i (1-based) inside the pool: the i-th /24 of an IPv4 pool of /22 or larger. */
export function podSubnet(poolCidr: string, i: number): { pod: string; gateway: string } {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(poolCidr);
  if (!m) throw new Error(`NATFLEET_IPV4POOL_CIDR=${poolCidr}: must be an IPv4 CIDR like 192.168.0.0/16`);
  const prefix = Number(m[5]);
  if (prefix > 22) throw new Error(`NATFLEET_IPV4POOL_CIDR=${poolCidr}: the simulated fleet needs a /22 or larger pool`);
  const base = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const net = (base + i * 256) >>> 0;
  const ip = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
  return { pod: ip(net + 2), gateway: ip(net + 1) };
}

export class LocalStack {
  private readonly state: StackState;
  private readonly procs: Child[] = [];
  private readonly topologies: NatTopology[] = [];
  private record: StackRecord | undefined;
  private stopping = false;

  constructor(private readonly o: StackOptions) {
    this.state = new StackState(o.stateDir);
  }

  private track(child: Child): void {
    this.procs.push(child);
    if (child.pid) this.recordPid(child.name, child.pid, procCmdline(child.pid));
  }

  /** Adds a child's PID (and its command line as spawned) to stack.json. */
  private recordPid(name: string, pid: number, argv: string[] | undefined): void {
    if (!this.record) return;
    if (!this.record.pids.includes(pid)) this.record.pids.push(pid);
    const startTime = procStartTime(pid);
    if (argv) this.record.children = { ...this.record.children, [String(pid)]: { name, argv, ...(startTime !== undefined ? { startTime } : {}) } };
    this.state.writeRecord(this.record);
  }

  /** Drops an exited child's PID from stack.json (a later cleanup must not aim at it). */
  private forgetPid(pid: number): void {
    if (!this.record || this.stopping) return;
    this.record.pids = this.record.pids.filter((p) => p !== pid);
    if (this.record.children) delete this.record.children[String(pid)];
    this.state.writeRecord(this.record);
  }

  /** Throws once a stop began, so a start in progress does not create more. */
  private checkNotStopping(): void {
    if (this.stopping) throw new Error('stopped while starting');
  }

  /** Starts everything; resolves once the first rollout completed. Cleans up what it started on failure. */
  async start(): Promise<StackRecord> {
    const { o, state } = this;
    for (const bin of ['etcd', 'nats-server', 'nft', 'ip']) requireBinary(bin);
    const prev = state.readRecord();
    const compilers = o.compilers ?? 1;
    const ports = await choosePorts(prev?.ports, o.nodes, compilers);
    const nodeNames = Array.from({ length: o.nodes }, (_, i) => `node-${i + 1}`);
    const self = procCmdline(process.pid);
    const selfStart = procStartTime(process.pid);
    this.record = { supervisorPid: process.pid, startedAt: new Date().toISOString(), state: 'starting', ports, nodes: [], pids: [], services: [], ...(self ? { children: { [String(process.pid)]: { name: 'supervisor', argv: self, ...(selfStart !== undefined ? { startTime: selfStart } : {}) } } } : {}) };
    state.writeRecord(this.record);
    try {
      await this.startServers(ports, nodeNames);
      const secrets = state.secrets(['compiler', 'api', ...nodeNames.map(enforcerUser)]);
      const keys = state.keys();
      const natsUrl = `nats://127.0.0.1:${ports.nats}`;
      const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
      const common = { NATFLEET_NATS_URL: natsUrl, NATFLEET_ETCD_ENDPOINTS: etcdUrl, NATFLEET_CLUSTER: o.cluster, NATFLEET_LOG_LEVEL: o.logLevel ?? 'info' };
      const compilerEnv = { ...common, NATFLEET_NATS_USER: 'compiler', NATFLEET_NATS_PASSWORD: secrets.passwords.compiler!, NATFLEET_SIGNING_KEY_FILE: keys.privateKeyFile };
      this.startService('compiler', [], { ...compilerEnv, NATFLEET_OPS_PORT: String(ports.compilerOps), NATFLEET_REPLICA_ID: 'local-1' }, 'compiler-1');
      // A standby (same key and NATS user): takes over from etcd's election when the leader dies.
      if (ports.standbyCompilerOps !== undefined) this.startService('compiler', [], { ...compilerEnv, NATFLEET_OPS_PORT: String(ports.standbyCompilerOps), NATFLEET_REPLICA_ID: 'local-2' }, 'compiler-2');
      this.startService('api', [], { ...common, NATFLEET_NATS_USER: 'api', NATFLEET_NATS_PASSWORD: secrets.passwords.api!, NATFLEET_API_TOKEN_FILE: state.path('api-tokens'), NATFLEET_API_PORT: String(ports.api), NATFLEET_TRUSTED_KEYS_FILE: keys.publicKeyFile });
      const apiUrl = `http://127.0.0.1:${ports.api}`;
      await waitUntil('compiler /healthz', () => ok(`http://127.0.0.1:${ports.compilerOps}/healthz`), { timeoutMs: 30_000, intervalMs: 100 });
      await waitUntil('API /readyz', () => ok(`${apiUrl}/readyz`), { timeoutMs: 30_000, intervalMs: 100 });
      const natctlConfig = state.writeNatctlConfig(apiUrl, secrets.writeToken);
      await this.ensureDefaultPool(apiUrl, secrets.writeToken);

      for (const [i, name] of nodeNames.entries()) {
        this.checkNotStopping();
        const sub = podSubnet(o.poolCidr, i + 1);
        const topo = await NatTopology.create({ podV4: `${sub.pod}/24`, nodePodSideV4: `${sub.gateway}/24`, nodeExtV4: `203.0.113.${11 + i}/24`, extV4: '203.0.113.2/24' });
        this.topologies.push(topo);
        this.checkNotStopping();
        // ext routes the pod subnet back via the node, like a BGP-peered network: traffic
        // that is not NATed then arrives with the pod's own address instead of timing out.
        await topo.addReturnRoute(`${sub.pod.replace(/\.\d+$/, '.0')}/24`);
        const server = await topo.startPeerServer();
        const rec: NodeRecord = { name, podNetns: topo.pod.name, nodeNetns: topo.node.name, extNetns: topo.ext.name, podAddress: sub.pod, nodeAddress: topo.nodeExternal.v4, extAddress: topo.extAddress.v4, peerPort: server.port };
        this.record.nodes.push(rec);
        this.track({ name: `peer-${name}`, pid: server.pid, stop: () => server.stop(), kill: () => (server.pid ? killAndWait(server.pid) : Promise.resolve()) });
        this.startService(`enforcer`, ['run'], {
          ...common,
          ...(o.healthChecks !== false ? { NATFLEET_HEALTH_CHECKS: egressHealthChecks(rec) } : {}),
          NATFLEET_NODE_NAME: name,
          NATFLEET_NETNS: topo.node.name,
          NATFLEET_ADDRESSES: topo.nodeExternal.v4,
          NATFLEET_LABELS: `natfleet.io/simulated=true,natfleet.io/index=${i + 1}`,
          NATFLEET_NATS_USER: enforcerUser(name),
          NATFLEET_NATS_PASSWORD: secrets.passwords[enforcerUser(name)]!,
          NATFLEET_TRUSTED_KEYS_FILE: keys.publicKeyFile,
          NATFLEET_STATE_DIR: state.path('enforcers', name),
          NATFLEET_OPS_PORT: String(ports.enforcerOps[i]),
          NATFLEET_HEARTBEAT: '2s',
          // As deployed (deploy/systemd, deploy/kubernetes): a small young generation keeps the
          // enforcer's RSS under 80 MB; it allocates little and briefly (bench/README.md).
          NODE_OPTIONS: '--max-semi-space-size=1',
        }, name);
      }
      // "Up" means this run's enforcers applied the desired bundle: their own /readyz, and
      // heartbeats newer than this start (the KV still holds the previous run's statuses).
      const startedAt = Date.parse(this.record.startedAt);
      await Promise.all(ports.enforcerOps.map((p, i) => waitUntil(`enforcer node-${i + 1} /readyz`, () => ok(`http://127.0.0.1:${p}/readyz`), { timeoutMs: 60_000, intervalMs: 100 })));
      await waitUntil(
        'every node applied the desired bundle',
        async () => {
          const res = await fetch(`${apiUrl}/v1/rollout`, { headers: { authorization: `Bearer ${secrets.readToken}` } });
          if (!res.ok) return false;
          const r = (await res.json()) as { complete: boolean; nodes: { node: string; status: string; heartbeatAt: string }[] };
          const fresh = r.nodes.filter((n) => nodeNames.includes(n.node) && Date.parse(n.heartbeatAt) >= startedAt && n.status === 'in-sync');
          return r.complete && fresh.length === o.nodes;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      this.checkNotStopping();
      this.record.state = 'running';
      state.writeRecord(this.record);
      const natctl = state.writeNatctlWrapper(process.execPath, join(REPO_ROOT, 'packages/natctl/dist/main.js'), natctlConfig);
      this.printSummary(apiUrl, natctlConfig, natctl, etcdUrl, natsUrl);
      return this.record;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async startServers(ports: StackPorts, nodeNames: string[]): Promise<void> {
    const { state } = this;
    const users = natfleetUsers(nodeNames);
    const secrets = state.secrets(users.map((u) => u.user));
    const etcd = new EtcdMember({ name: 'natfleet-local', clientPort: ports.etcdClient, peerPort: ports.etcdPeer, dataDir: state.path('etcd'), initialCluster: `natfleet-local=http://127.0.0.1:${ports.etcdPeer}` }, { env: childEnv(process.env) });
    etcd.spawn();
    this.track({ name: 'etcd', get pid() { return etcd.pid; }, stop: () => etcd.stop(), kill: () => etcd.kill() });
    // nats-server expands $NATFLEET_*_PASSWORD in its config from its environment (only its own).
    // nats-server appends its own log (text lines, parsed by log-format.ts) next to the daemons'.
    const natsLog = logFile(state.dir, 'nats-server');
    mkdirSync(logsDir(state.dir), { recursive: true, mode: 0o700 });
    rotateIfLarge(natsLog);
    const natsConfig = { name: 'natfleet-local', port: ports.nats, monitorPort: ports.natsMonitor, routes: [], storeDir: state.path('nats', 'jetstream'), extraConfig: `log_file: ${JSON.stringify(natsLog)}\nlogtime: true\n${renderAuthorization(users)}` };
    const nats = new NatsNode(natsConfig, state.path('nats'), { env: natsServerEnv(process.env, users, secrets.passwords) });
    nats.spawn();
    this.track({ name: 'nats-server', get pid() { return nats.pid; }, stop: () => nats.stop(), kill: () => (nats.pid ? killAndWait(nats.pid) : Promise.resolve()) });
    this.watchServer('etcd', etcd);
    this.watchServer('nats-server', nats);
    await Promise.all([etcd.waitHealthy(30_000), nats.waitHealthy(30_000)]);
  }

  private startService(name: 'compiler' | 'api' | 'enforcer', args: string[], env: Record<string, string>, label: string = name): void {
    this.checkNotStopping();
    const service = name === 'enforcer' ? `enforcer ${label}` : label;
    const daemon = new SupervisedDaemon(
      { label: service, command: process.execPath, args: [serviceEntry(name), ...args], env: childEnv(process.env, env), logFile: logFile(this.state.dir, service), ...(name === 'enforcer' ? { exitNote: FAIL_STATIC } : {}) },
      {
        say: (line) => this.o.log(line),
        started: (pid, argv) => {
          if (!this.record) return;
          this.record.services = [...(this.record.services ?? []).filter((s) => s.name !== service), { name: service, pid }];
          this.recordPid(service, pid, argv);
        },
        exited: (pid) => this.forgetPid(pid),
      },
    );
    this.procs.push({ name: service, get pid() { return daemon.pid; }, stop: () => daemon.stop(), kill: () => daemon.kill() });
    daemon.start();
  }

  /**
   * etcd and nats-server are testkit servers (no exit event of theirs to hook): checked
   * every second, and respawned with the same back-off as the daemons when one died.
   */
  private watchServer(name: string, server: { readonly running: boolean; readonly pid: number | undefined; spawn(): void }): void {
    const backoff = new Backoff();
    let pid = server.pid;
    let startedAt = Date.now();
    let due: number | undefined;
    const timer = setInterval(() => {
      if (this.stopping) return clearInterval(timer);
      if (server.running) return;
      if (due === undefined) {
        const delay = backoff.delayAfter(Date.now() - startedAt);
        due = Date.now() + delay;
        if (pid !== undefined) this.forgetPid(pid);
        this.o.log(`natfleet-local: ${name} exited (pid ${pid ?? '?'}); restarting in ${seconds(delay)} — the daemons reconnect by themselves`);
        return;
      }
      if (Date.now() < due) return;
      due = undefined;
      startedAt = Date.now();
      server.spawn();
      pid = server.pid;
      if (pid !== undefined) {
        this.recordPid(name, pid, procCmdline(pid));
        this.o.log(`natfleet-local: ${name} restarted (pid ${pid})`);
      }
    }, 1_000);
    timer.unref();
  }

  private async ensureDefaultPool(apiUrl: string, token: string): Promise<void> {
    const h = { authorization: `Bearer ${token}` };
    const list = (await (await fetch(`${apiUrl}/v1/ippools`, { headers: h })).json()) as { items: unknown[] };
    if (list.items.length > 0) return;
    const pool = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'default-ipv4-ippool' }, spec: { cidr: this.o.poolCidr, natOutgoing: this.o.poolNatOutgoing, nodeSelector: 'all()', blockSize: 26 } };
    const res = await fetch(`${apiUrl}/v1/ippools`, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify(pool) });
    if (!res.ok) throw new Error(`creating default-ipv4-ippool: ${JSON.stringify(await res.json())}`);
    this.o.log(`created default-ipv4-ippool ${this.o.poolCidr} natOutgoing=${this.o.poolNatOutgoing}`);
  }

  private printSummary(apiUrl: string, natctlConfig: string, natctl: string, etcdUrl: string, natsUrl: string): void {
    const r = this.record!;
    const lines = [
      '',
      'natfleet local stack is up',
      `  etcd        ${etcdUrl}          (etcdctl --endpoints ${etcdUrl} get --prefix /calico/resources/v3/projectcalico.org)`,
      `  NATS        ${natsUrl}          (monitoring http://127.0.0.1:${r.ports.natsMonitor}/jsz)`,
      `  API         ${apiUrl}           (OpenAPI at ${apiUrl}/openapi.json)`,
      `  dashboard   ${apiUrl}/`,
      `  compiler    http://127.0.0.1:${r.ports.compilerOps}/metrics${r.ports.standbyCompilerOps !== undefined ? ` (standby: http://127.0.0.1:${r.ports.standbyCompilerOps}/metrics)` : ''}`,
      ...r.nodes.map((n, i) => `  ${n.name.padEnd(10)}  pod ${n.podAddress} (netns ${n.podNetns}) → node ${n.nodeAddress} (netns ${n.nodeNetns}) → ext ${n.extAddress}:${n.peerPort}; enforcer http://127.0.0.1:${r.ports.enforcerOps[i]}/metrics`),
      `  state       ${this.state.dir}   (natctl config: ${natctlConfig})`,
      `  logs        ${logsDir(this.state.dir)}   (npm run logs -- [daemon] [-f]; warnings and errors also show here)`,
      '',
      'Open the dashboard:',
      `  ${apiUrl}/`,
      '',
      'natctl, from any folder:',
      `  ${natctl} get ippools -o wide`,
      `  ${natctl} rollout status`,
      `  (or: NATFLEET_CONFIG=${natctlConfig} ${process.execPath} ${join(REPO_ROOT, 'packages/natctl/dist/main.js')} rollout status)`,
      '',
      'Try:',
      `  npm run probe        # what the external host sees from each pod (node address = NATed)`,
      `  npm run logs -- -f   # every daemon's log, merged and followed`,
      '',
      'Stop with Ctrl-C or `npm stop` (namespaces removed, data kept; a second Ctrl-C forces).',
    ];
    this.o.log(lines.join('\n'));
  }

  /** Stops every process by PID (newest first) and removes the namespaces; keeps the data. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopping = true; // children exiting now is expected: no restart, no news
    if (this.record) this.record.state = 'stopped';
    for (const p of [...this.procs].reverse()) await p.stop().catch(() => undefined);
    this.procs.length = 0;
    for (const t of this.topologies) await t.destroy().catch(() => undefined);
    this.topologies.length = 0;
    if (this.record) this.state.writeRecord(this.record);
  }

  /**
   * The second Ctrl-C: SIGKILL every child by PID (and whatever runs inside the stack's
   * namespaces), then delete the namespaces. Returns the namespaces deleted. Safe to call
   * while stop() is still waiting on a child.
   */
  async forceStop(): Promise<string[]> {
    this.stopping = true;
    if (this.record) this.record.state = 'stopped';
    await Promise.all(this.procs.map((p) => p.kill().catch(() => undefined)));
    const names = new Set([...this.topologies.flatMap((t) => [t.pod.name, t.node.name, t.ext.name]), ...(this.record?.nodes ?? []).flatMap((n) => [n.podNetns, n.nodeNetns, n.extNetns])]);
    for (const ns of names) {
      for (const pid of await namespacePids(ns)) await killAndWait(pid);
      await run('ip', ['netns', 'del', ns], { allowFailure: true });
    }
    if (this.record) this.state.writeRecord(this.record);
    return [...names];
  }
}

async function ok(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
}

export { PeerServer };
