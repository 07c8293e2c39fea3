// The `npm start` supervisor as a real process (one simulated node, to stay fast): each
// daemon's log file at info (the enforcer's "bundle applied" after a natctl change made
// with the banner's wrapper from another folder) while the foreground shows no info line;
// `logs` pretty-prints them; a SIGKILLed enforcer is announced, its node keeps NAT meanwhile
// (fail static) and it is restarted with a new PID that gets ready again (nats-server too); a SIGKILLed
// supervisor's children and namespaces are cleaned up by the next start; a double SIGINT
// forces the stop and leaves no namespace and no process.
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StackRecord } from '@natfleet/local-stack';
import { ManagedProcess, Netns, REPO_ROOT, makeTempDir, pidAlive, probePeer, removeDir, run, waitUntil } from '@natfleet/testkit';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = join(REPO_ROOT, 'packages/local-stack/dist/main.js');

describe('local stack supervisor (logs, restarts, forced stop, cleanup after a killed stack)', () => {
  const stateDir = makeTempDir('stack-sup');
  const env = { ...process.env, NATFLEET_STATE_DIR: stateDir, NATFLEET_NODES: '1' };
  const procs: ManagedProcess[] = [];
  let supervisor: ManagedProcess;
  let record: StackRecord;

  const readRecord = (): StackRecord => JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8')) as StackRecord;
  const start = async (): Promise<void> => {
    supervisor = new ManagedProcess(process.execPath, [MAIN, 'start'], { env, keepLines: 2000 });
    procs.push(supervisor);
    await supervisor.waitForLine(/natfleet local stack is up/, 120_000);
    record = readRecord();
  };
  const namespacesOf = (r: StackRecord): string[] => r.nodes.flatMap((n) => [n.podNetns, n.nodeNetns, n.extNetns]);
  const liveNamespaces = async (names: string[]): Promise<string[]> => {
    const out = (await run('ip', ['netns', 'list'])).stdout;
    return out.split('\n').map((l) => l.split(' ')[0]!).filter((n) => names.includes(n));
  };
  const enforcerPid = (r: StackRecord): number => r.services!.find((s) => s.name === 'enforcer node-1')!.pid;
  const ready = async (port: number): Promise<boolean> => (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1_000) })).ok;
  const logLines = (daemon: string): { level: number; msg: string; version?: number; service?: string }[] =>
    readFileSync(join(stateDir, 'logs', `${daemon}.log`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string });

  afterAll(async () => {
    for (const p of procs) if (p.running) await run(process.execPath, [MAIN, 'stop'], { env, timeoutMs: 60_000 }).catch(() => p.kill());
    await run(process.execPath, [MAIN, 'stop'], { env, timeoutMs: 60_000, allowFailure: true });
    removeDir(stateDir);
  }, 90_000);

  it('banner: the dashboard URL and a natctl command that works from any folder; info lines go to the log files, not the window', async () => {
    await start();
    const out = supervisor.output().join('\n');
    expect(out).toContain(`  dashboard   http://127.0.0.1:${record.ports.api}/`);
    const wrapper = join(stateDir, 'natctl');
    expect(out).toContain(`  ${wrapper} get ippools -o wide`);

    const pool = join(stateDir, 'pool.yaml');
    writeFileSync(pool, 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: sup-pool\nspec:\n  cidr: 10.91.0.0/16\n  natOutgoing: true\n');
    // From another folder, with nothing of natctl's in the environment.
    const applied = await run('sh', ['-c', `cd ${JSON.stringify(tmpdir())} && ${JSON.stringify(wrapper)} apply -f ${JSON.stringify(pool)}`], { env: { PATH: process.env.PATH! } });
    const rev = Number(/at revision (\d+)/.exec(applied.stdout)?.[1]);
    expect(rev, applied.stdout + applied.stderr).toBeGreaterThan(0);

    await waitUntil('the enforcer logged "bundle applied" for the change', () => logLines('enforcer-node-1').some((l) => l.msg === 'bundle applied' && (l.version ?? 0) >= rev), { timeoutMs: 30_000, intervalMs: 200 });
    const applies = logLines('enforcer-node-1').filter((l) => l.msg === 'bundle applied');
    expect(applies.every((l) => l.level === 30)).toBe(true);
    // Every bundle the compiler published reached the node's log: applied, or superseded by a newer one it applied.
    const published = logLines('compiler-1').filter((l) => l.msg === 'bundle published').map((l) => l.version!);
    expect(published.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...applies.map((l) => l.version!))).toBe(Math.max(...published));
    for (const f of ['api', 'nats-server']) expect(readFileSync(join(stateDir, 'logs', `${f}.log`), 'utf8').length, f).toBeGreaterThan(0);
    expect(supervisor.output().filter((l) => / INFO  \[/.test(l)), 'no info line in the foreground').toEqual([]);

    const logs = await run(process.execPath, [MAIN, 'logs', 'node-1'], { env });
    expect(logs.stdout).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d INFO  \\[enforcer node-1\\] bundle applied version=${Math.max(...published)} digest=sha256:[0-9a-f]{12}…`, 'm'));
    const unknown = await run(process.execPath, [MAIN, 'logs', 'node-7'], { env, allowFailure: true });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown daemon "node-7"; known: api, compiler-1, enforcer-node-1, nats-server');
  }, 180_000);

  it('a SIGKILLed enforcer is announced and restarted; its node keeps NAT meanwhile (fail static)', async () => {
    const old = enforcerPid(record);
    const n = record.nodes[0]!;
    process.kill(old, 'SIGKILL');
    const during = await probePeer(Netns.attach(n.podNetns), n.extAddress, n.peerPort);
    expect(during).toEqual({ ok: true, peer: n.nodeAddress });
    await supervisor.waitForLine(/natfleet-local: enforcer node-1 exited \(SIGKILL\); restarting in 1s — .*fail static/, 10_000);
    const restarted = await supervisor.waitForLine(/natfleet-local: enforcer node-1 restarted \(pid \d+\)/, 15_000);
    const pid = Number(/pid (\d+)/.exec(restarted)![1]);
    const now = readRecord();
    expect(enforcerPid(now)).toBe(pid);
    expect(pid).not.toBe(old);
    expect(now.pids).toContain(pid);
    expect(now.pids).not.toContain(old);
    expect(pidAlive(pid)).toBe(true);
    await waitUntil('restarted enforcer /readyz', () => ready(record.ports.enforcerOps[0]!), { timeoutMs: 30_000, intervalMs: 200 });
    expect(logLines('enforcer-node-1')).toContainEqual(expect.objectContaining({ level: 40, service: 'natfleet-local', msg: expect.stringMatching(/^exited \(SIGKILL\); restarting in 1s/) }));
  }, 60_000);

  it('a SIGKILLed nats-server is restarted too, and the node reports in sync again', async () => {
    const now = readRecord();
    const old = Number(Object.entries(now.children!).find(([, c]) => c.name === 'nats-server')![0]);
    process.kill(old, 'SIGKILL');
    await supervisor.waitForLine(new RegExp(`natfleet-local: nats-server exited \\(pid ${old}\\); restarting in 1s`), 10_000);
    const restarted = await supervisor.waitForLine(/natfleet-local: nats-server restarted \(pid \d+\)/, 15_000);
    const pid = Number(/pid (\d+)/.exec(restarted)![1]);
    expect(readRecord().pids).toContain(pid);
    expect(readRecord().pids).not.toContain(old);
    const since = Date.now();
    await waitUntil('node-1 heartbeats in sync after the NATS restart', async () => {
      const { apiUrl, token } = JSON.parse(readFileSync(join(stateDir, 'natctl.json'), 'utf8')) as { apiUrl: string; token: string };
      const res = await fetch(`${apiUrl}/v1/rollout`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2_000) });
      const s = (await res.json()) as { complete?: boolean; nodes?: { node: string; status: string; heartbeatAt: string }[] };
      return s.complete === true && s.nodes?.some((n) => n.node === 'node-1' && n.status === 'in-sync' && Date.parse(n.heartbeatAt) > since) === true;
    }, { timeoutMs: 40_000, intervalMs: 500 });
  }, 60_000);

  it('a start after a SIGKILLed supervisor cleans up its children and namespaces first, then comes up', async () => {
    const before = readRecord();
    const children = before.pids.filter(pidAlive);
    expect(children.length).toBeGreaterThanOrEqual(5); // etcd, nats, compiler, api, peer, enforcer
    await supervisor.kill();
    expect(await liveNamespaces(namespacesOf(before))).toHaveLength(3);
    await start();
    const cleaned = supervisor.output().find((l) => l.startsWith('natfleet-local: cleaned up after the previous stack'));
    expect(cleaned).toContain(`supervisor pid ${before.supervisorPid}`);
    expect(cleaned).toContain('killed nats-server'); // it logs to its file, so it outlives its supervisor for sure
    expect(cleaned).toContain(`removed namespaces ${[...namespacesOf(before)].sort().join(', ')}`);
    expect(children.filter(pidAlive)).toEqual([]);
    expect(await liveNamespaces(namespacesOf(before))).toEqual([]);
    expect(record.supervisorPid).not.toBe(before.supervisorPid);
    expect(await liveNamespaces(namespacesOf(record))).toHaveLength(3);
    expect(await ready(record.ports.enforcerOps[0]!)).toBe(true);
  }, 180_000);

  it('a second SIGINT forces: no namespace and no process left', async () => {
    const pids = [record.supervisorPid, ...record.pids];
    supervisor.signal('SIGINT');
    await supervisor.waitForLine(/SIGINT: stopping/, 10_000);
    supervisor.signal('SIGINT');
    await supervisor.waitForLine(/SIGINT again: forcing/, 10_000);
    await supervisor.exited;
    expect(await liveNamespaces(namespacesOf(record))).toEqual([]);
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(readRecord().state).toBe('stopped');
  }, 60_000);
});
