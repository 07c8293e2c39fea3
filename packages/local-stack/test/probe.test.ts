// `npm run probe [node]`: which nodes it probes, and an unknown node name is an error that
// names the nodes the stack has (not silence and exit 0). The main.ts wiring is exercised
// by running the built command against a state record, without root or a running stack
// beyond that record.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StackState, isLocalStackError, probeLine, probeTargets, type NodeRecord } from '../src/index.js';

const node = (name: string, i: number): NodeRecord => ({
  name,
  podNetns: `nf-t-${i}-pod`,
  nodeNetns: `nf-t-${i}-node`,
  extNetns: `nf-t-${i}-ext`,
  podAddress: `192.168.${i}.2`,
  nodeAddress: `203.0.113.1${i}`,
  extAddress: '203.0.113.2',
  peerPort: 40000 + i,
});
const nodes = [node('node-1', 1), node('node-2', 2)];

describe('probe targets', () => {
  it('every node, or the one named', () => {
    expect(probeTargets(nodes).map((n) => n.name)).toEqual(['node-1', 'node-2']);
    expect(probeTargets(nodes, 'node-2').map((n) => n.name)).toEqual(['node-2']);
  });

  it('an unknown node is UNKNOWN_NODE naming the known nodes', () => {
    let err: unknown;
    try {
      probeTargets(nodes, 'node-9');
    } catch (e) {
      err = e;
    }
    expect(isLocalStackError(err, 'UNKNOWN_NODE')).toBe(true);
    expect((err as Error).message).toBe('no node "node-9" in the running stack (its nodes: node-1, node-2)');
    expect(() => probeTargets([], 'node-1')).toThrow(/its nodes: none/);
  });

  it('words what the external host saw', () => {
    const n = nodes[0]!;
    expect(probeLine(n, { ok: true, peer: n.nodeAddress })).toBe('node-1: pod 192.168.1.2 → 203.0.113.2:40001 seen as 203.0.113.11 (masqueraded to the node address)');
    expect(probeLine(n, { ok: true, peer: n.podAddress })).toMatch(/seen as 192\.168\.1\.2 \(not NATed\)$/);
    expect(probeLine(n, { ok: false, error: 'timeout' })).toMatch(/seen as - \(no answer \(timeout\)\)$/);
  });
});

describe('natfleet-local probe <unknown node>', () => {
  const dir = mkdtempSync(join(tmpdir(), 'probe-state-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints an error naming the known nodes and exits non-zero', () => {
    // A record that says "running"; the named node is refused before any namespace is touched.
    new StackState(dir).writeRecord({ supervisorPid: process.pid, startedAt: new Date().toISOString(), state: 'running', ports: { etcdClient: 1, etcdPeer: 2, nats: 3, natsMonitor: 4, api: 5, compilerOps: 6, enforcerOps: [7, 8] }, nodes, pids: [] });
    const main = join(import.meta.dirname, '..', 'dist', 'main.js');
    const res = spawnSync(process.execPath, [main, 'probe', 'no-such-node'], { env: { ...process.env, NATFLEET_STATE_DIR: dir }, encoding: 'utf8', timeout: 30_000 });
    expect(res.status, res.stderr).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('natfleet-local probe: no node "no-such-node" in the running stack (its nodes: node-1, node-2)');
  });
});
