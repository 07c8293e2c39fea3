// End to end, the way a newcomer runs it: `npm start` (the local-stack supervisor as a real
// process: etcd, NATS with per-role users, compiler, API, two enforcers in node netns), then
// natctl and etcdctl changes, `rollout status`, real packets from every pod, rollback
// restoring the node's nft sets, `npm stop`, nothing left running, and a re-run that reuses
// the data.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackRecord } from '@natfleet/local-stack';
import { RealNft } from '@natfleet/nft';
import { ManagedProcess, Netns, REPO_ROOT, listTestNamespaces, makeTempDir, pidAlive as alive, probePeer, removeDir, run } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackCli } from './stack-cli.js';

const MAIN = join(REPO_ROOT, 'packages/local-stack/dist/main.js');

describe('local stack end to end (npm start → natctl/etcdctl → packets → npm stop)', () => {
  const stateDir = makeTempDir('stack-e2e');
  // Without the egress probe (the local stack's post-apply health check): this walk makes
  // changes that stop masquerading towards the external host on purpose, which the probe
  // rightly reports as broken egress (failed nodes); staged-rollout.test.ts covers the probe.
  const env = { ...process.env, NATFLEET_STATE_DIR: stateDir, NATFLEET_NODES: '2', NATFLEET_LOCAL_HEALTH_CHECKS: 'false' };
  let supervisor: ManagedProcess;
  let record: StackRecord;

  const start = async (): Promise<void> => {
    supervisor = new ManagedProcess(process.execPath, [MAIN, 'start'], { env, keepLines: 500 });
    await supervisor.waitForLine(/natfleet local stack is up/, 120_000);
    record = JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8')) as StackRecord;
  };
  const stop = async (): Promise<void> => {
    await run(process.execPath, [MAIN, 'stop'], { env, timeoutMs: 60_000 });
    await supervisor.exited;
  };
  const cli = stackCli(stateDir);
  const etcdctl = (...args: string[]) => run('etcdctl', ['--endpoints', `http://127.0.0.1:${record.ports.etcdClient}`, ...args]);
  /** What ext sees from each node's pod. */
  const seen = async (): Promise<string[]> =>
    Promise.all(record.nodes.map(async (n) => {
      const r = await probePeer(Netns.attach(n.podNetns), n.extAddress, n.peerPort);
      return r.ok ? r.peer : `error:${r.error}`;
    }));
  const podAddrs = (): string[] => record.nodes.map((n) => n.podAddress);
  const nodeAddrs = (): string[] => record.nodes.map((n) => n.nodeAddress);
  /** Waits for a rollout of `minVersion` or newer (the write's revision), so the change is really in it. */
  const rolledOut = async (minVersion = 0): Promise<void> => {
    const r = await cli('rollout', 'status', '--watch', '--timeout', '30s', '--interval', '200ms', '--min-version', String(minVersion));
    expect(r.code, r.err + r.out).toBe(0);
  };
  const revisionOf = (natctlOut: string): number => Number(/at revision (\d+)/.exec(natctlOut)?.[1] ?? NaN);

  beforeAll(start, 150_000);
  afterAll(async () => {
    if (supervisor?.running) await stop().catch(() => supervisor.kill());
    removeDir(stateDir);
  });

  it('comes up with default-ipv4-ippool (natOutgoing) enforced on every node: pods are masqueraded', async () => {
    const pools = await cli('get', 'ippools', '-o', 'wide');
    expect(pools.out).toMatch(/default-ipv4-ippool\s+192\.168\.0\.0\/16\s+true/);
    await rolledOut();
    expect(await seen()).toEqual(nodeAddrs());
  });

  it('each process holds only its own NATS password (/proc/<pid>/environ)', () => {
    const { passwords } = JSON.parse(readFileSync(join(stateDir, 'secrets.json'), 'utf8')) as { passwords: Record<string, string> };
    const proc = (pid: number): { cmd: string; env: Map<string, string> } => ({
      cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '),
      env: new Map(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
    });
    const secrets = (env: Map<string, string>): string[] => [...env.keys()].filter((k) => /PASSWORD/.test(k)).sort();
    const seen: string[] = [];
    for (const pid of [record.supervisorPid, ...record.pids.filter(alive)]) {
      const { cmd, env } = proc(pid);
      const service = /services\/(compiler|api|enforcer)\/dist\/main\.js/.exec(cmd)?.[1];
      if (/nats-server/.test(cmd)) {
        seen.push('nats-server');
        const users = ['compiler', 'api', 'enforcer-node-1', 'enforcer-node-2'];
        expect(secrets(env)).toEqual(users.map((u) => `NATFLEET_${u.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PASSWORD`).sort());
        for (const u of users) expect(env.get(`NATFLEET_${u.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PASSWORD`)).toBe(JSON.stringify(passwords[u]));
      } else if (service) {
        const user = service === 'enforcer' ? `enforcer-${env.get('NATFLEET_NODE_NAME')}` : service;
        seen.push(user);
        expect(env.get('NATFLEET_NATS_USER'), cmd).toBe(user);
        expect(secrets(env), cmd).toEqual(['NATFLEET_NATS_PASSWORD']);
        expect(env.get('NATFLEET_NATS_PASSWORD'), cmd).toBe(passwords[user]);
      } else {
        seen.push(/etcd/.test(cmd) ? 'etcd' : 'other');
        expect(secrets(env), cmd).toEqual([]);
      }
    }
    expect(seen).toEqual(expect.arrayContaining(['nats-server', 'etcd', 'compiler', 'api', 'enforcer-node-1', 'enforcer-node-2']));
  });

  let beforeNoNat = 0;
  it('natctl apply of a no-nat pool (disabled, covering ext): rollout completes and pods are no longer NATed towards it', async () => {
    beforeNoNat = Number(/version (\d+)/.exec((await cli('rollout', 'status')).out)?.[1]);
    const file = join(stateDir, 'no-nat.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: no-nat-external\nspec:\n  cidr: 203.0.113.0/24\n  disabled: true\n');
    const applied = await cli('apply', '-f', file);
    expect(applied.code, applied.err).toBe(0);
    expect(applied.out).toContain('+ v4 noNat: 203.0.113.0/24');
    expect(applied.out).toContain('natctl rollout status --watch --min-version');
    await rolledOut(revisionOf(applied.out));
    expect(await seen()).toEqual(podAddrs());
  });

  it('an etcdctl write (natOutgoing false on the default pool, Calico JSON) is enforced too', async () => {
    await etcdctl('del', '/calico/resources/v3/projectcalico.org/ippools/no-nat-external');
    const put = await etcdctl('put', '-w', 'json', '/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool',
      JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'default-ipv4-ippool' }, spec: { cidr: '192.168.0.0/16', natOutgoing: false } }));
    // The put's own revision: etcd's current one may already be past it (the rollout
    // controller writes its state under /natfleet/v1 after each bundle).
    await rolledOut(JSON.parse(put.stdout).header.revision as number);
    expect(await seen()).toEqual(podAddrs());
    const why = await cli('explain', podAddrs()[0]!, '8.8.8.8', '--node', 'node-1');
    expect(why.out).toMatch(/^NONE/);
    expect(why.out).toContain('natOutgoing: false');
  });

  it('natctl rollback restores the earlier NAT sets on the nodes', async () => {
    const r = await cli('rollback', '--to', String(beforeNoNat), '--yes');
    expect(r.code, r.err).toBe(0);
    await rolledOut(revisionOf(r.out));
    expect(await seen()).toEqual(nodeAddrs());
    const table = await new RealNft({ netns: record.nodes[0]!.nodeNetns }).readTable();
    const status = await cli('rollout', 'status', '-o', 'json');
    expect(table?.comment).toContain(`natfleet v${JSON.parse(status.out).desired.version} `);
    // One hash set per prefix length, elements the network addresses.
    const elements = (await new RealNft({ netns: record.nodes[0]!.nodeNetns }).readTableContents())?.elements ?? {};
    expect(elements.nonat_v4_16).toContain('192.168.0.0');
    expect(Object.values(elements).flat()).not.toContain('203.0.113.0');
  });

  it('npm stop stops everything by PID and removes the namespaces; data is kept', async () => {
    const pids = [record.supervisorPid, ...record.pids];
    const namespaces = record.nodes.flatMap((n) => [n.podNetns, n.nodeNetns, n.extNetns]);
    await stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(listTestNamespaces().filter((n) => namespaces.includes(n))).toEqual([]);
    expect(existsSync(join(stateDir, 'etcd'))).toBe(true);
  });

  it('re-running reuses the data (pools, keys, ports) and stops cleanly again', async () => {
    const ports = record.ports;
    await start();
    expect(record.ports.api).toBe(ports.api);
    const pools = await cli('get', 'ippools');
    expect(pools.out).toContain('default-ipv4-ippool');
    await rolledOut();
    expect(await seen()).toEqual(nodeAddrs());
    await stop();
    expect([record.supervisorPid, ...record.pids].filter(alive)).toEqual([]);
  });
});

describe('npm start without root', () => {
  it('says why and what to do, and starts nothing', async (ctx) => {
    const stateDir = makeTempDir('stack-noroot');
    try {
      const { spawnSync } = await import('node:child_process');
      const r = spawnSync(process.execPath, [MAIN, 'start'], { uid: 65534, gid: 65534, env: { ...process.env, NATFLEET_STATE_DIR: join(stateDir, 'state') }, encoding: 'utf8', timeout: 30_000 });
      // Only meaningful when user nobody can read this checkout at all.
      if (/EACCES|Cannot find module/.test(r.stderr)) ctx.skip();
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('needs root');
      expect(r.stderr).toContain('sudo npm start');
      expect(existsSync(join(stateDir, 'state'))).toBe(false);
    } finally {
      removeDir(stateDir);
    }
  });
});

