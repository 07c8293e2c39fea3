// Staged rollout end to end (issue 14), the way an operator runs it: the local stack as a
// real process (etcd, NATS with per-role users, an active/standby pair of compilers, the
// API, four enforcers in node namespaces, each with the egress probe as its post-apply
// health check), natctl for every action, and real packets to tell which nodes NAT which
// way at each step.
//
// Each pod gets a second address in 10.77.<i>.0/24, outside every pool at first (ext routes
// it back, so un-NATed traffic is seen with the pod's own address). The "good change" adds
// a natOutgoing pool for 10.77.0.0/16: a node that enforces it masquerades that address to
// its own. Which nodes do, and when, is what the waves decide.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKeyPair, loadSigningKey, sealAdmission, encodeAdmission } from '@natfleet/bundle';
import { publishAdmission } from '@natfleet/bus';
import type { StackRecord } from '@natfleet/local-stack';
import { ManagedProcess, Netns, REPO_ROOT, makeTempDir, probePeer, removeDir, run, waitUntil } from '@natfleet/testkit';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackCli } from './stack-cli.js';

const MAIN = join(REPO_ROOT, 'packages/local-stack/dist/main.js');
const CLUSTER = 'default';

interface WaveView {
  index: number;
  name: string;
  state: string;
  admittedAt?: string | null;
  nodes: (string | { node: string })[];
}
interface StagedView {
  policy: string;
  phase: string;
  candidate: { version: number; digest: string };
  stable: { version: number; digest: string } | null;
  waves: WaveView[];
  leader?: string;
}
interface RolloutView {
  complete: boolean;
  desired: { version: number };
  nodes: { node: string; appliedVersion: number; status: string }[];
  staged: StagedView | null;
}

const nodeNames = (w: WaveView): string[] => w.nodes.map((n) => (typeof n === 'string' ? n : n.node)).sort();

describe('staged rollout end to end: waves, gates, halt and rollback, operator controls, failover (local stack, 4 nodes)', { timeout: 180_000 }, () => {
  const stateDir = makeTempDir('staged-e2e');
  const env = { ...process.env, NATFLEET_STATE_DIR: stateDir, NATFLEET_NODES: '4', NATFLEET_COMPILERS: '2' };
  let supervisor: ManagedProcess;
  let record: StackRecord;
  let api: { url: string; token: string };
  const holders: ChildProcess[] = [];

  const cli = stackCli(stateDir);
  const applyYaml = async (name: string, yaml: string, ...flags: string[]): Promise<number> => {
    const file = join(stateDir, `${name}.yaml`);
    writeFileSync(file, yaml);
    const r = await cli('apply', '-f', file, ...flags);
    expect(r.code, r.err + r.out).toBe(0);
    return Number(/at revision (\d+)/.exec(r.out)?.[1] ?? NaN);
  };
  const rollout = async (): Promise<RolloutView> => {
    const res = await fetch(`${api.url}/v1/rollout`, { headers: { authorization: `Bearer ${api.token}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as RolloutView;
  };
  /** The staged view once its candidate is `version` (or newer) and `pred` holds. */
  const stagedWhen = async (version: number, pred: (s: StagedView) => boolean, what: string, timeoutMs = 60_000): Promise<StagedView> => {
    let last: StagedView | null = null;
    await waitUntil(what, async () => {
      last = (await rollout()).staged;
      return last !== null && last.candidate.version >= version && pred(last);
    }, { timeoutMs, intervalMs: 100 }).catch((err) => {
      throw new Error(`${(err as Error).message}; last staged view: ${JSON.stringify(last)}`);
    });
    return last!;
  };
  const admitted = (s: StagedView): string[] => s.waves.filter((w) => w.admittedAt).flatMap(nodeNames).sort();
  const enforcerPort = (node: string): number => record.ports.enforcerOps[record.nodes.findIndex((n) => n.name === node)]!;
  const enforcerStatus = async (node: string): Promise<Record<string, unknown>> => (await (await fetch(`http://127.0.0.1:${enforcerPort(node)}/status`)).json()) as Record<string, unknown>;
  const appliedVersion = async (node: string): Promise<number> => Number((await enforcerStatus(node)).appliedVersion);
  /** Successful applies an enforcer made since it started (its own counter). */
  const applies = async (node: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${enforcerPort(node)}/metrics`)).text();
    return Number(/^natfleet_enforcer_applies_total\{result="success"\} (\d+)/m.exec(text)?.[1] ?? 0);
  };
  /** What ext sees from each pod's 10.77 address, by node name. */
  const seen77 = async (): Promise<Record<string, string>> => {
    const seen = await Promise.all(record.nodes.map(async (n, i) => {
      const r = await probePeer(Netns.attach(n.podNetns), n.extAddress, n.peerPort, { localAddress: `10.77.${i + 1}.2` });
      return [n.name, r.ok ? r.peer : `error:${r.error}`] as const;
    }));
    return Object.fromEntries(seen); // in node order, whichever probe answered first
  };
  /** What ext sees from each pod's primary address (the health probe's view). */
  const seenPrimary = async (): Promise<Record<string, string>> => {
    const seen = await Promise.all(record.nodes.map(async (n) => {
      const r = await probePeer(Netns.attach(n.podNetns), n.extAddress, n.peerPort);
      return [n.name, r.ok ? r.peer : `error:${r.error}`] as const;
    }));
    return Object.fromEntries(seen);
  };
  /** The replica id of the leader that last wrote the controller's state in etcd. */
  const stateLeader = async (): Promise<string> => {
    const r = await run('etcdctl', ['--endpoints', `http://127.0.0.1:${record.ports.etcdClient}`, 'get', '/natfleet/v1/rollout/state', '--print-value-only']);
    return String((JSON.parse(r.stdout) as { leader?: string }).leader);
  };
  const natted77 = (seen: Record<string, string>): string[] => record.nodes.filter((n) => seen[n.name] === n.nodeAddress).map((n) => n.name).sort();
  const policy = (name: string, waves: string, progressDeadline = '2m'): string =>
    `apiVersion: natfleet.io/v1\nkind: RolloutPolicy\nmetadata:\n  name: ${name}\nspec:\n  onFailure: rollback\n  progressDeadline: ${progressDeadline}\n  waves:\n${waves}`;
  /** One RolloutPolicy, `e2e`, changed by each test with `natctl apply` (an update of the same resource). */
  const onlyPolicy = async (yaml: string): Promise<void> => {
    await applyYaml('policy', yaml);
  };
  const defaultPool = (natOutgoing: boolean): string =>
    `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: default-ipv4-ippool\nspec:\n  cidr: 192.168.0.0/16\n  natOutgoing: ${natOutgoing}\n  nodeSelector: all()\n  blockSize: 26\n`;

  beforeAll(async () => {
    supervisor = new ManagedProcess(process.execPath, [MAIN, 'start'], { env, keepLines: 1000 });
    await supervisor.waitForLine(/natfleet local stack is up/, 150_000);
    record = JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8')) as StackRecord;
    const cfg = JSON.parse(readFileSync(join(stateDir, 'natctl.json'), 'utf8')) as { apiUrl: string; token: string };
    api = { url: cfg.apiUrl, token: cfg.token };
    // A second pod address per node, outside every pool; ext routes it back via the node.
    for (const [i, n] of record.nodes.entries()) {
      await run('ip', ['-n', n.podNetns, 'addr', 'add', `10.77.${i + 1}.2/24`, 'dev', 'eth0']);
      await run('ip', ['-n', n.nodeNetns, 'addr', 'add', `10.77.${i + 1}.1/24`, 'dev', 'pod0']);
      await run('ip', ['-n', n.extNetns, 'route', 'add', `10.77.${i + 1}.0/24`, 'via', n.nodeAddress]);
    }
  }, 200_000);

  afterAll(async () => {
    for (const h of holders) if (h.exitCode === null) h.kill('SIGKILL');
    if (supervisor?.running) {
      await run(process.execPath, [MAIN, 'stop'], { env, timeoutMs: 60_000 }).catch(() => supervisor.kill());
      await supervisor.exited;
    }
    removeDir(stateDir);
  }, 120_000);

  it('without a RolloutPolicy a change reaches every node at once, as before', async () => {
    expect(Object.values(await seen77())).toEqual(record.nodes.map((_, i) => `10.77.${i + 1}.2`));
    expect(await seenPrimary()).toEqual(Object.fromEntries(record.nodes.map((n) => [n.name, n.nodeAddress])));
  });

  it('a good change with a 3-wave policy goes 1 → 2 → 4 nodes, each wave only after its bake and gates; packets confirm each step', async () => {
    await onlyPolicy(policy('e2e', [
      '  - name: canary\n    percent: 25\n    bake: 6s\n',
      '  - name: second\n    percent: 33\n    bake: 6s\n',
      '  - name: rest\n    percent: 100\n    bake: 0s\n',
    ].join('')));
    const rev = await applyYaml('pool-77', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pods-77\nspec:\n  cidr: 10.77.0.0/16\n  natOutgoing: true\n');

    const w1 = await stagedWhen(rev, (s) => admitted(s).length === 1, 'the canary wave admitted');
    const canary = admitted(w1);
    await waitUntil('the canary applied the candidate', async () => (await appliedVersion(canary[0]!)) === w1.candidate.version, { timeoutMs: 30_000, intervalMs: 100 });
    const s1 = await rollout();
    expect(admitted(s1.staged!), 'still only the canary admitted (baking)').toEqual(canary);
    expect(natted77(await seen77())).toEqual(canary);

    const w2 = await stagedWhen(rev, (s) => admitted(s).length === 2, 'the second wave admitted');
    const two = admitted(w2);
    expect(two).toEqual(expect.arrayContaining(canary));
    const t1 = Date.parse(String(w2.waves[0]!.admittedAt));
    const t2 = Date.parse(String(w2.waves[1]!.admittedAt));
    expect(t2 - t1, 'wave 2 admitted only after wave 1 baked 6 s').toBeGreaterThanOrEqual(6_000);
    await waitUntil('wave 2 applied', async () => (await Promise.all(two.map(appliedVersion))).every((v) => v === w2.candidate.version), { timeoutMs: 30_000, intervalMs: 100 });
    // Wave 3 waits for wave 2's 6 s bake: still two nodes, whatever the probes take.
    const seenAt2 = await seen77();
    expect(admitted((await rollout()).staged!), 'wave 3 not admitted yet').toEqual(two);
    expect(natted77(seenAt2)).toEqual(two);

    const done = await stagedWhen(rev, (s) => s.phase === 'completed', 'the rollout completed');
    expect(admitted(done)).toEqual(record.nodes.map((n) => n.name));
    const t3 = Date.parse(String(done.waves[2]!.admittedAt));
    expect(t3 - t2, 'wave 3 admitted only after wave 2 baked 6 s').toBeGreaterThanOrEqual(6_000);
    const status = await cli('rollout', 'status', '--watch', '--timeout', '30s', '--min-version', String(rev));
    expect(status.code, status.err + status.out).toBe(0);
    expect(natted77(await seen77())).toEqual(record.nodes.map((n) => n.name));
  });

  it('a bad change (the egress probe fails on the canary) halts after wave 1, rolls the canary back, other nodes never apply it; history says rolled back', async () => {
    await onlyPolicy(policy('e2e', [
      "  - name: canary\n    selector: natfleet.io/index == '1'\n    bake: 3s\n",
      '  - name: rest\n    percent: 100\n    bake: 0s\n',
    ].join('')));
    const stable = (await rollout()).desired.version;
    const others = record.nodes.slice(1).map((n) => n.name);
    const appliesBefore = await Promise.all(others.map(applies));
    // natOutgoing: false on the pods' pool: on a network without return routes to pods
    // (the egress probe's view), egress is gone.
    const rev = await applyYaml('bad', defaultPool(false));
    const failed = await stagedWhen(rev, (s) => s.phase === 'rolled-back', 'the rollout rolled back', 60_000);
    expect(failed.stable?.version).toBe(stable);
    await waitUntil('node-1 back on the stable version', async () => (await appliedVersion('node-1')) === stable, { timeoutMs: 30_000, intervalMs: 100 });
    expect((await seenPrimary())['node-1']).toBe(record.nodes[0]!.nodeAddress);
    expect(await Promise.all(others.map(applies)), 'the other nodes never applied anything').toEqual(appliesBefore);
    for (const n of others) expect(await appliedVersion(n)).toBe(stable);

    const status = await cli('rollout', 'status');
    expect(status.code, status.out).not.toBe(0);
    expect(status.out + status.err).toMatch(/rolled.back/i);
    const history = await cli('history');
    expect(history.out).toMatch(new RegExp(`${rev}.*rolled-back`));
    const detail = await cli('history', String(failed.candidate.version));
    expect(detail.out + detail.err).toContain('node-1');
    expect(detail.out + detail.err).toContain('HEALTH_CHECK_FAILED');
  });

  it('natctl apply --immediate fixes it at once: every node gets the fix without waves, recorded in history', async () => {
    const fixRev = await applyYaml('fix', defaultPool(true), '--immediate');
    const done = await stagedWhen(fixRev, (s) => s.phase === 'completed', 'the immediate rollout completed', 30_000);
    expect(done.waves.some((w) => w.name === 'immediate' && w.admittedAt)).toBe(true);
    expect(await seenPrimary()).toEqual(Object.fromEntries(record.nodes.map((n) => [n.name, n.nodeAddress])));
    const history = await cli('history');
    expect(history.out).toMatch(new RegExp(`${done.candidate.version}.*immediate`));
  });

  it('a NACK on the canary (nft refuses: the table is held by another owner) halts and rolls back the same way', async () => {
    const n1 = record.nodes[0]!;
    const stable = (await rollout()).desired.version;
    const others = record.nodes.slice(1).map((n) => n.name);
    const appliesBefore = await Promise.all(others.map(applies));
    // Another process takes the natfleet table with the owner flag: until it exits, nft
    // refuses every change to the table from anyone else, the enforcer included.
    const holder = spawn('ip', ['netns', 'exec', n1.nodeNetns, 'nft', '-i'], { stdio: ['pipe', 'pipe', 'pipe'] });
    holders.push(holder);
    holder.stdin!.write('delete table inet natfleet\nadd table inet natfleet { flags owner ; }\n');
    await waitUntil('the owned table exists', async () => (await run('ip', ['netns', 'exec', n1.nodeNetns, 'nft', 'list', 'table', 'inet', 'natfleet'], { allowFailure: true })).stdout.includes('flags owner'), { timeoutMs: 10_000, intervalMs: 100 });
    const rev = await applyYaml('nack', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pods-79\nspec:\n  cidr: 10.79.0.0/16\n  natOutgoing: true\n');
    const failed = await stagedWhen(rev, (s) => s.phase === 'rolled-back', 'the rollout rolled back on the NACK', 60_000);
    expect(failed.stable?.version).toBe(stable);
    const history = await cli('history', String(failed.candidate.version));
    expect(history.out + history.err).toContain('node-1');
    expect(history.out + history.err).toMatch(/nack/i);
    expect(await Promise.all(others.map(applies))).toEqual(appliesBefore);
    // Released: the enforcer repairs its table to the stable version.
    holder.kill('SIGKILL');
    await waitUntil('node-1 egress masqueraded again (drift repaired to stable)', async () => (await seenPrimary())['node-1'] === n1.nodeAddress, { timeoutMs: 60_000, intervalMs: 250 });
    expect(await appliedVersion('node-1')).toBe(stable);
  });

  it('pause, resume, promote and abort work end to end', async () => {
    await onlyPolicy(policy('e2e', [
      "  - name: canary\n    selector: natfleet.io/index == '2'\n    bake: 10m\n",
      '  - name: rest\n    percent: 100\n    bake: 10m\n',
    ].join(''), '30m'));
    const rev = await applyYaml('pause', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pods-80\nspec:\n  cidr: 10.80.0.0/16\n  natOutgoing: true\n');
    await stagedWhen(rev, (s) => admitted(s).length === 1 && s.phase === 'progressing', 'canary admitted');
    expect((await cli('rollout', 'pause')).code).toBe(0);
    await stagedWhen(rev, (s) => s.phase === 'paused', 'paused');
    expect((await cli('rollout', 'resume')).code).toBe(0);
    await stagedWhen(rev, (s) => s.phase === 'progressing', 'resumed');
    expect((await cli('rollout', 'promote')).code).toBe(0);
    // Promote skips the 10-minute bakes; the gates still apply.
    const done = await stagedWhen(rev, (s) => s.phase === 'completed', 'completed after promote', 60_000);
    expect(admitted(done)).toEqual(record.nodes.map((n) => n.name));

    const stable = done.candidate.version;
    const rev2 = await applyYaml('abort', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pods-81\nspec:\n  cidr: 10.81.0.0/16\n  natOutgoing: true\n');
    await stagedWhen(rev2, (s) => admitted(s).length === 1, 'canary admitted');
    await waitUntil('node-2 applied the candidate', async () => (await appliedVersion('node-2')) >= rev2, { timeoutMs: 30_000, intervalMs: 100 });
    const abort = await cli('rollout', 'abort');
    expect(abort.code, abort.err).toBe(0);
    await stagedWhen(rev2, (s) => s.phase === 'aborted', 'aborted');
    await waitUntil('node-2 back on stable', async () => (await appliedVersion('node-2')) === stable, { timeoutMs: 30_000, intervalMs: 100 });
    expect((await cli('rollout', 'status')).code).not.toBe(0);
  });

  it('a forged admission (right subject, wrong key) is refused and reported; nothing changes', async () => {
    const { passwords } = JSON.parse(readFileSync(join(stateDir, 'secrets.json'), 'utf8')) as { passwords: Record<string, string> };
    const nc = await connect({ servers: `nats://127.0.0.1:${record.ports.nats}`, user: 'compiler', pass: passwords.compiler!, inboxPrefix: '_INBOX_compiler' });
    try {
      const before = await Promise.all(record.nodes.map((n) => appliedVersion(n.name)));
      const forger = loadSigningKey(generateSigningKeyPair().privateKeyPem);
      const s = (await rollout()).staged!;
      const forged = sealAdmission({ cluster: CLUSTER, stateRevision: 9e12, policy: 'slow', version: s.stable!.version, digest: s.stable!.digest, everyone: true, waves: [], stable: null, phase: 'completed', health: null }, forger);
      await publishAdmission(nc.jetstream(), { cluster: CLUSTER, data: encodeAdmission(forged), msgId: `forged-${Date.now()}` });
      await waitUntil('every enforcer reports the refused admission', async () =>
        (await Promise.all(record.nodes.map((n) => enforcerStatus(n.name)))).every((st) => JSON.stringify(st).includes(forger.keyId)), { timeoutMs: 20_000, intervalMs: 200 });
      expect(await Promise.all(record.nodes.map((n) => appliedVersion(n.name)))).toEqual(before);
    } finally {
      await nc.close();
    }
  });

  it('SIGKILL of the leader compiler mid-bake: the standby resumes the same rollout, same waves, no wave skips its bake', async () => {
    await onlyPolicy(policy('e2e', [
      '  - name: canary\n    percent: 25\n    bake: 12s\n',
      '  - name: rest\n    percent: 100\n    bake: 0s\n',
    ].join('')));
    const rev = await applyYaml('failover', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pods-82\nspec:\n  cidr: 10.82.0.0/16\n  natOutgoing: true\n');
    const w1 = await stagedWhen(rev, (s) => admitted(s).length === 1, 'canary admitted');
    const canary = admitted(w1);
    const leaderId = await stateLeader();
    expect(['local-1', 'local-2']).toContain(leaderId);
    const fresh = JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8')) as StackRecord;
    const leader = fresh.services!.find((s) => s.name === (leaderId === 'local-2' ? 'compiler-2' : 'compiler-1'))!;
    process.kill(leader.pid, 'SIGKILL');
    const done = await stagedWhen(rev, (s) => s.phase === 'completed', 'the standby completed the rollout', 120_000);
    expect(done.candidate.version).toBe(w1.candidate.version);
    expect(nodeNames(done.waves[0]!)).toEqual(canary);
    const t1 = Date.parse(String(done.waves[0]!.admittedAt));
    const t2 = Date.parse(String(done.waves[1]!.admittedAt));
    expect(t2 - t1, 'the canary baked its 12 s across the failover').toBeGreaterThanOrEqual(12_000);
    expect(await stateLeader(), 'the standby wrote the state since').not.toBe(leaderId);
    expect(natted77(await seen77())).toEqual(record.nodes.map((n) => n.name));
  });
});
