// Decommissioning a node (DESIGN.md §9), against real etcd, nats-server (the deployment's
// users and permissions) and an enforcer in its network namespace, with a real compiler:
// - `natfleet-enforcer uninstall` with the daemon's NATS settings deletes the node's own
//   key (as enforcer-node-1: a KV delete is a publish on its own key's subject), and the
//   compiler then deletes its Node from etcd within seconds; the node registers again when
//   its enforcer starts again;
// - NATS unreachable (or the key not the user's): the table is removed anyway, exit 1,
//   saying the node is still registered; --skip-deregister leaves it registered on purpose;
// - node GC (--node-gc-after): a node silent longer than that is collected by the leader
//   only (key and Node deleted, a warning with its last heartbeat, counted), never before
//   that time, never while it heartbeats; a collected node re-registers when it comes back.
import { writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { generateSigningKeyPair } from '@natfleet/bundle';
import { pendingNodeStatus, putNodeStatus } from '@natfleet/bus';
import { compilerPermissions, enforcerPermissions, enforcerUser, renderAuthorization } from '@natfleet/local-stack';
import { REPO_ROOT, freePort, run, startEtcd, waitUntil, type EtcdCluster, type RunResult, type ServiceProcess } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metric, nodeKey, startCompiler, type TestKeys } from './compiler-helpers.js';
import { CLUSTER, liveTable, NODE, nodeStatus, startEnforcer, startWorld, stopWorld, waitStatus, type World } from './enforcer-world.js';

const ENFORCER_ENV = { NATFLEET_NATS_USER: enforcerUser(NODE), NATFLEET_NATS_PASSWORD: 'enforcer-secret' };
const OTHER = 'node-2';
const GC_AFTER_MS = 3_000;

describe('decommissioning nodes', () => {
  let w: World;
  let etcd: EtcdCluster;
  let etcdClient: Etcd3;
  let keys: TestKeys;
  let enforcer: ServiceProcess | undefined;
  const compilers: ServiceProcess[] = [];

  const compiler = (id: string, extraArgs: string[] = []): Promise<ServiceProcess> =>
    startCompiler({
      etcdEndpoints: etcd.endpoints,
      natsUrl: w.nats.url,
      keys,
      replicaId: id,
      waitFor: 'healthz',
      extraArgs: ['--cluster', CLUSTER, '--nats-user', 'compiler', '--nats-password', 'compiler-secret', '--lease-ttl', '2s', ...extraArgs],
    }).then((c) => {
      compilers.push(c);
      return c;
    });
  const storedNode = async (name: string): Promise<string | null> => etcdClient.get(nodeKey(name)).string();
  const kvOperation = async (name: string): Promise<string | undefined> => (await w.kv.get(name))?.operation;
  const uninstall = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> =>
    run(process.execPath, [join(REPO_ROOT, 'services', 'enforcer', 'dist', 'main.js'), 'uninstall', '--netns', w.topo.node.name, '--state-dir', w.stateDir, '--node-name', NODE, '--log-level', 'warn', ...args], {
      env: { ...process.env, ...env },
      allowFailure: true,
    });
  const startNode = async (): Promise<ServiceProcess> => {
    enforcer = await startEnforcer(w, [], 'healthz', ENFORCER_ENV);
    return enforcer;
  };

  beforeAll(async () => {
    const natsConfig = renderAuthorization([
      { user: 'compiler', password: 'compiler-secret', permissions: compilerPermissions() },
      { user: enforcerUser(NODE), password: 'enforcer-secret', permissions: enforcerPermissions(NODE) },
      { user: enforcerUser(OTHER), password: 'other-secret', permissions: enforcerPermissions(OTHER) },
      // The test reads statuses with kv.get and plays silent nodes; no natfleet role needs that.
      { user: 'test-admin', password: 'admin-secret', permissions: { publish: ['>'], subscribe: ['>'] } },
    ]);
    [w, etcd] = await Promise.all([startWorld({ natsConfig, user: 'test-admin', password: 'admin-secret' }), startEtcd()]);
    etcdClient = new Etcd3({ hosts: etcd.endpoints });
    // The compiler's key, trusted by the enforcer (its bundles are what the node applies).
    const pair = generateSigningKeyPair();
    const keyFile = join(w.dir, 'compiler.key');
    writeFileSync(keyFile, pair.privateKeyPem, { mode: 0o600 });
    appendFileSync(w.keysFile, pair.publicKeyPem);
    keys = { keyFile } as TestKeys;
  }, 120_000);
  afterAll(async () => {
    etcdClient?.close();
    await Promise.all(compilers.map((c) => c.stop()));
    await stopWorld(w, enforcer);
    await etcd?.destroy();
  }, 60_000);

  describe('uninstall', () => {
    let c: ServiceProcess;
    beforeAll(async () => {
      c = await compiler('c1');
      await startNode();
    }, 60_000);
    afterAll(async () => {
      await c.stop();
    });

    it('the enforcer announces itself: its Node is registered and it applies the compiler’s bundle', async () => {
      await waitUntil('Node registered', async () => (await storedNode(NODE)) !== null, { timeoutMs: 20_000 });
      await waitStatus(w, 'applied', (s) => s.state === 'applied', 20_000);
    });

    it('deregisters with the daemon’s NATS settings: key deleted (a delete marker), Node deleted within seconds', async () => {
      await enforcer!.stop();
      enforcer = undefined;
      const t0 = Date.now();
      const r = await uninstall(['--nats-url', w.nats.url], ENFORCER_ENV);
      expect(r.code, r.stderr).toBe(0);
      // bundle.json and admission.json (the compiler's rollout controller publishes admissions).
      expect(r.stdout).toContain('deleted table inet natfleet; removed 2 state file(s)');
      expect(r.stdout).toContain(`deregistered node ${NODE}: deleted its key in natfleet-nodes`);
      expect(await liveTable(w)).toBeUndefined();
      expect(await kvOperation(NODE)).toBe('DEL');
      await waitUntil('Node deleted from etcd', async () => (await storedNode(NODE)) === null, { timeoutMs: 5_000 });
      console.info(`uninstall → Node gone from etcd in ${Date.now() - t0} ms`);
      expect(c.logs().some((l) => l['node'] === NODE && l['msg'] === 'node decommissioned: Node resource deleted')).toBe(true);
      expect(await metric(c, 'natfleet_compiler_nodes_deregistered_total')).toBe(1);
      // Idempotent: a second run deletes nothing more and still succeeds.
      const again = await uninstall(['--nats-url', w.nats.url], ENFORCER_ENV);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('table inet natfleet was not present; removed 0 state file(s)');
    });

    it('the node registers again when its enforcer starts again', async () => {
      await startNode();
      await waitUntil('Node registered again', async () => (await storedNode(NODE)) !== null, { timeoutMs: 20_000 });
      await waitStatus(w, 'applied again', (s) => s.state === 'applied', 20_000);
      expect(await kvOperation(NODE)).toBe('PUT');
    });

    it('NATS unreachable: the table is removed anyway, exit 1, saying the node is still registered', async () => {
      await enforcer!.stop();
      enforcer = undefined;
      const nowhere = `nats://127.0.0.1:${await freePort()}`;
      const r = await uninstall(['--nats-url', nowhere], ENFORCER_ENV);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('deleted table inet natfleet');
      expect(r.stderr).toContain(`error: node ${NODE} is still registered: cannot connect to NATS (${nowhere})`);
      expect(r.stderr).toContain('--skip-deregister');
      expect(await liveTable(w)).toBeUndefined();
      expect(await kvOperation(NODE)).toBe('PUT');
      expect(await storedNode(NODE)).not.toBeNull();
    });

    it('another node’s user may not deregister this node: exit 1 with the refusal', async () => {
      const r = await uninstall(['--nats-url', w.nats.url], { NATFLEET_NATS_USER: enforcerUser(OTHER), NATFLEET_NATS_PASSWORD: 'other-secret' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`node ${NODE} is still registered: .*permissions violation`, 'i'));
      expect(await kvOperation(NODE)).toBe('PUT');
    });

    it('--skip-deregister, or no NATS settings: exit 0 and the node stays registered, said so', async () => {
      const skipped = await uninstall(['--nats-url', w.nats.url, '--skip-deregister'], ENFORCER_ENV);
      expect(skipped.code, skipped.stderr).toBe(0);
      expect(skipped.stdout).toContain(`node ${NODE} left registered (--skip-deregister)`);
      const bare = await uninstall([]);
      expect(bare.code, bare.stderr).toBe(0);
      expect(bare.stderr).toContain(`note: node ${NODE} is still registered: no NATS settings given`);
      await new Promise((r) => setTimeout(r, 500));
      expect(await kvOperation(NODE)).toBe('PUT');
      expect(await storedNode(NODE)).not.toBeNull();
    });
  });

  describe(`node GC (--node-gc-after ${GC_AFTER_MS / 1_000}s)`, () => {
    let leader: ServiceProcess;
    let standby: ServiceProcess;
    beforeAll(async () => {
      // node-1 heartbeats every second from here on (after the uninstall tests it had been silent).
      const startedAt = new Date().toISOString();
      await startNode();
      await waitStatus(w, 'node-1 heartbeating', (s) => s.heartbeatAt > startedAt, 20_000);
      const gc = ['--node-gc-after', `${GC_AFTER_MS / 1_000}s`];
      leader = await compiler('gc-1', gc);
      await waitUntil('gc-1 leads', async () => (await metric(leader, 'natfleet_compiler_is_leader')) === 1, { timeoutMs: 20_000 });
      standby = await compiler('gc-2', gc);
    }, 60_000);

    it('a node silent longer than that is collected by the leader alone — not before; a heartbeating node never', async () => {
      await waitStatus(w, 'node-1 reporting', (s) => s.state === 'applied', 20_000);
      // A node that announced itself once and fell silent (its enforcer gone without uninstall).
      await putNodeStatus(w.kv, pendingNodeStatus('node-gone', { cluster: CLUSTER, addresses: ['198.51.100.7'], heartbeatAt: new Date().toISOString() }));
      const storedAt = (await w.kv.get('node-gone'))!.created.getTime();
      await waitUntil('node-gone registered', async () => (await storedNode('node-gone')) !== null, { timeoutMs: 10_000 });
      // Not before the configured time: checked all along until just before it.
      while (Date.now() < storedAt + GC_AFTER_MS - 300) {
        expect(await kvOperation('node-gone')).toBe('PUT');
        expect(await storedNode('node-gone')).not.toBeNull();
        await new Promise((r) => setTimeout(r, 100));
      }
      await waitUntil('node-gone collected', async () => (await kvOperation('node-gone')) === 'DEL' && (await storedNode('node-gone')) === null, { timeoutMs: GC_AFTER_MS + 5_000 });
      const marker = (await w.kv.get('node-gone'))!;
      expect(marker.created.getTime() - storedAt).toBeGreaterThanOrEqual(GC_AFTER_MS);
      console.info(`node-gone collected ${marker.created.getTime() - storedAt} ms after its last status (gc after ${GC_AFTER_MS} ms)`);
      const warned = leader.logs().find((l) => l['node'] === 'node-gone' && l['msg'] === 'node collected: silent longer than --node-gc-after; status key deleted, deregistering it');
      expect(warned).toMatchObject({ level: 40, lastHeartbeat: expect.any(String), gcAfterSeconds: GC_AFTER_MS / 1_000 });
      expect(await metric(leader, 'natfleet_compiler_nodes_collected_total')).toBe(1);
      expect(await metric(standby, 'natfleet_compiler_nodes_collected_total')).toBe(0);
      // The heartbeating node is untouched.
      expect(await kvOperation(NODE)).toBe('PUT');
      expect(await storedNode(NODE)).not.toBeNull();
      expect(leader.logs().some((l) => l['node'] === NODE && /collected/.test(String(l['msg'])))).toBe(false);
    });

    it('an enforcer stopped without uninstall is collected, and registers again when it comes back', async () => {
      await enforcer!.stop();
      enforcer = undefined;
      const last = (await w.kv.get(NODE))!.created.getTime();
      await waitUntil('node-1 collected', async () => (await kvOperation(NODE)) === 'DEL' && (await storedNode(NODE)) === null, { timeoutMs: GC_AFTER_MS + 8_000 });
      expect((await w.kv.get(NODE))!.created.getTime() - last).toBeGreaterThanOrEqual(GC_AFTER_MS);
      expect((await nodeStatus(w))).toBeUndefined();
      await startNode();
      await waitUntil('node-1 registered again', async () => (await storedNode(NODE)) !== null && (await kvOperation(NODE)) === 'PUT', { timeoutMs: 20_000 });
      expect(await metric(leader, 'natfleet_compiler_nodes_collected_total')).toBe(2);
    });
  });
});
