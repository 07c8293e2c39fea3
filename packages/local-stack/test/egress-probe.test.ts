// The local stack's egress health check (src/egress-probe.ts) with real packets: a
// pod/node/ext topology, the peer server in ext, and the built probe run in the pod
// namespace exactly as the enforcer runs it (egressHealthChecks' argv). No nft rules are
// loaded, so ext sees the pod's own address (the return route lets the answer back): the
// probe must fail naming what it saw; expecting the pod address instead, it passes; with no
// server listening it fails as "egress broken".
import { spawnSync } from 'node:child_process';
import { NatTopology, type PeerServer } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { egressHealthChecks } from '../src/stack.js';

describe('egress probe (local-stack health check) with real packets', () => {
  let topo: NatTopology;
  let server: PeerServer;
  beforeAll(async () => {
    topo = await NatTopology.create();
    await topo.addReturnRoute('10.65.0.0/24');
    server = await topo.startPeerServer();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await topo?.destroy();
  });

  const run = (expected: string, port = server.port): { code: number | null; out: string } => {
    const [check] = JSON.parse(egressHealthChecks({ podNetns: topo.pod.name, extAddress: '203.0.113.2', peerPort: port, nodeAddress: expected })) as { command: string[] }[];
    const r = spawnSync(check!.command[0]!, check!.command.slice(1), { encoding: 'utf8', timeout: 20_000 });
    return { code: r.status, out: r.stdout + r.stderr };
  };

  it('fails, naming the address seen, when egress is not masqueraded', () => {
    const r = run('203.0.113.1');
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain('saw 10.65.0.2, expected the node address 203.0.113.1');
  });

  it('passes when the external host saw the expected address', () => {
    const r = run('10.65.0.2');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('saw 10.65.0.2');
  });

  it('fails as broken egress when nothing answers', () => {
    const r = run('203.0.113.1', 1);
    expect(r.code, r.out).toBe(2);
    expect(r.out).toMatch(/ECONNREFUSED|no answer/);
  });
});
