// Which of a previous stack's recorded PIDs and namespaces are still ours to clean up: a
// PID counts only while it runs the command recorded when it was spawned (a reused PID is
// left alone), namespaces only when recorded or named after the dead supervisor.
import { describe, expect, it } from 'vitest';
import { leftovers, sameCommand, type HostView, type StackRecord } from '../src/index.js';
import { procStartTime } from '../src/cleanup.js';

const ENF = ['/usr/bin/node', '/repo/services/enforcer/dist/main.js', 'run'];
const PEER = ['ip', 'netns', 'exec', 'nf-100-aa-ext', '/usr/bin/node', '-e', 'script', '0'];
const SUP = ['node', '/repo/packages/local-stack/dist/main.js', 'start'];

const record = (over: Partial<StackRecord> = {}): StackRecord => ({
  supervisorPid: 100,
  startedAt: '2026-12-02T10:00:00.000Z',
  state: 'running',
  ports: { etcdClient: 1, etcdPeer: 2, nats: 3, natsMonitor: 4, api: 5, compilerOps: 6, enforcerOps: [7] },
  nodes: [{ name: 'node-1', podNetns: 'nf-100-aa-pod', nodeNetns: 'nf-100-aa-node', extNetns: 'nf-100-aa-ext', podAddress: '', nodeAddress: '', extAddress: '', peerPort: 9 }],
  pids: [101, 102, 103, 104],
  services: [{ name: 'enforcer node-1', pid: 102 }],
  children: {
    '100': { name: 'supervisor', argv: SUP },
    '101': { name: 'etcd', argv: ['/usr/bin/etcd', '--data-dir', '/s/etcd'] },
    '102': { name: 'enforcer node-1', argv: ENF },
    '103': { name: 'peer-node-1', argv: PEER },
    '104': { name: 'api', argv: ['/usr/bin/node', '/repo/services/api/dist/main.js'] },
  },
  ...over,
});

const host = (procs: Record<number, string[]>, namespaces: string[] = [], self = 999): HostView => ({ cmdline: (pid) => procs[pid], namespaces, self });

describe('sameCommand', () => {
  it('is the recorded argv, or a tail of two or more words of it (ip netns exec runs on as its command)', () => {
    expect(sameCommand(ENF, ENF)).toBe(true);
    expect(sameCommand(['/usr/bin/node', '-e', 'script', '0'], PEER)).toBe(true);
    expect(sameCommand(['0'], PEER)).toBe(false);
    expect(sameCommand(['/usr/bin/node', 'other.js', 'run'], ENF)).toBe(false);
    expect(sameCommand([...ENF, 'extra'], ENF)).toBe(false);
    expect(sameCommand([], ENF)).toBe(false);
    expect(sameCommand(['x'], ['x'])).toBe(true);
  });
});

describe('leftovers', () => {
  it('a killed supervisor: its children still running their commands are killed, a reused PID is spared, dead ones ignored', () => {
    const l = leftovers(record(), host({ 101: ['/usr/bin/etcd', '--data-dir', '/s/etcd'], 102: ENF, 103: ['/usr/bin/node', '-e', 'script', '0'], 104: ['/usr/sbin/sshd', '-D'] }));
    expect(l.supervisorAlive).toBe(false);
    expect(l.kill).toEqual([{ pid: 101, name: 'etcd' }, { pid: 102, name: 'enforcer node-1' }, { pid: 103, name: 'peer-node-1' }]);
    expect(l.spared).toEqual([{ pid: 104, name: 'api', running: '/usr/sbin/sshd -D' }]);
  });

  it('namespaces: the recorded ones and any named after the dead supervisor, never another stack\'s', () => {
    const l = leftovers(record(), host({}, ['nf-100-aa-pod', 'nf-100-aa-node', 'nf-100-bb-ext', 'nf-1000-cc-pod', 'nf-200-aa-pod', 'other']));
    expect(l.namespaces).toEqual(['nf-100-aa-node', 'nf-100-aa-pod', 'nf-100-bb-ext']);
  });

  it('nothing is a leftover while the recorded supervisor still runs its command', () => {
    const l = leftovers(record(), host({ 100: SUP, 102: ENF }, ['nf-100-aa-pod']));
    expect(l).toEqual({ kill: [], spared: [], namespaces: [], supervisorAlive: true });
  });

  it('a supervisor PID reused by something else counts as dead', () => {
    const l = leftovers(record(), host({ 100: ['/bin/bash'], 102: ENF }, ['nf-100-aa-pod']));
    expect(l.supervisorAlive).toBe(false);
    expect(l.kill.map((k) => k.pid)).toEqual([102]);
    expect(l.namespaces).toEqual(['nf-100-aa-pod']);
  });

  it('a record without spawn-time commands (older version) kills nothing, only removes namespaces', () => {
    const l = leftovers(record({ children: undefined }), host({ 102: ENF }, ['nf-100-aa-node']));
    expect(l.kill).toEqual([]);
    expect(l.spared.map((s) => s.pid)).toEqual([102]);
    expect(l.namespaces).toEqual(['nf-100-aa-node']);
  });

  it('a PID reused by another stack\'s daemon (same command line, later start time) is spared; the recorded start time is killed', () => {
    const timed = record({ children: { ...record().children!, '100': { name: 'supervisor', argv: SUP, startTime: 500 }, '102': { name: 'enforcer node-1', argv: ENF, startTime: 700 }, '104': { name: 'api', argv: ['/usr/bin/node', '/repo/services/api/dist/main.js'], startTime: 710 } } });
    const starts: Record<number, number> = { 100: 90_000, 102: 90_100, 104: 710 };
    const h: HostView = { ...host({ 100: SUP, 102: ENF, 104: ['/usr/bin/node', '/repo/services/api/dist/main.js'] }), startTime: (pid) => starts[pid] };
    const l = leftovers(timed, h);
    // The supervisor PID now runs another stack's supervisor (same command, started later).
    expect(l.supervisorAlive).toBe(false);
    expect(l.kill).toEqual([{ pid: 104, name: 'api' }]);
    expect(l.spared.map((s) => s.pid)).toEqual([102]);
  });

  it('reads a live process\'s start time from /proc (stable, and a different process\'s differs or is unknown)', () => {
    const t = procStartTime(process.pid);
    expect(Number.isSafeInteger(t)).toBe(true);
    expect(procStartTime(process.pid)).toBe(t);
    expect(procStartTime(2 ** 22 + 1)).toBeUndefined();
  });

  it('never aims at the calling process, even when the record names it', () => {
    const l = leftovers(record({ pids: [999, 102] }), host({ 999: ENF, 102: ENF }, [], 999));
    expect(l.kill.map((k) => k.pid)).toEqual([102]);
  });
});
