import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listTestNamespaces, Netns, NatTopology, sweepStaleNamespaces, type PeerServer } from '../src/index.js';

describe('Netns', () => {
  it('creates a namespace with loopback up, runs commands inside, and deletes it', async () => {
    const ns = await Netns.create('unit');
    try {
      expect(existsSync(`/run/netns/${ns.name}`)).toBe(true);
      expect(listTestNamespaces()).toContain(ns.name);
      const { stdout } = await ns.ip(['-o', 'link', 'show', 'lo']);
      expect(stdout).toContain('UP');
      // The namespace has no other interface: it is isolated from the host.
      const links = await ns.ip(['-o', 'link']);
      expect(links.stdout.trim().split('\n')).toHaveLength(1);
    } finally {
      await ns.destroy();
    }
    expect(existsSync(`/run/netns/${ns.name}`)).toBe(false);
  });

  it('destroy stops processes spawned inside by PID', async () => {
    const ns = await Netns.create('proc');
    const p = ns.spawn('sleep', ['60']);
    const pid = p.pid!;
    await ns.destroy();
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('sweeps namespaces left by a dead creator, never a live one', async () => {
    // PID 2^22+1 is above Linux's pid_max ceiling, so no process can own it.
    const { run } = await import('../src/index.js');
    await run('ip', ['netns', 'add', 'nf-4194305-abcdef-stale']);
    const mine = await Netns.create('live');
    try {
      const removed = await sweepStaleNamespaces();
      expect(removed).toContain('nf-4194305-abcdef-stale');
      expect(removed).not.toContain(mine.name);
      expect(existsSync(`/run/netns/${mine.name}`)).toBe(true);
    } finally {
      await mine.destroy();
    }
  });
});

// The masquerade rule below is written by hand in nft, with no natfleet code: it proves
// the topology and probes can tell "NATed" from "not NATed" with real packets.
const MASQ = (v4: string, v6: string): string => `
table inet tk_masq {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${v4} oifname "ext0" masquerade
    ip6 saddr ${v6} oifname "ext0" masquerade
  }
}
`;

describe('pod/node/ext topology with real packets', () => {
  let topo: NatTopology;
  let server: PeerServer;

  beforeAll(async () => {
    topo = await NatTopology.create();
    server = await topo.startPeerServer();
  });
  afterAll(async () => topo?.destroy());

  it('only the node namespace forwards', async () => {
    const fwd = async (ns: Netns): Promise<string> => (await ns.exec('sysctl', ['-n', 'net.ipv4.ip_forward'])).stdout.trim();
    expect(await fwd(topo.node)).toBe('1');
    expect(await fwd(topo.pod)).toBe('0');
    expect(await fwd(topo.ext)).toBe('0');
  });

  it.each([4, 6] as const)('IPv%i: without NAT and without a return route, the pod cannot reach ext', async (family) => {
    const res = await topo.probe(server, family, { timeoutMs: 700 });
    expect(res.ok).toBe(false);
  });

  it.each([4, 6] as const)('IPv%i: with an nft masquerade rule, ext sees the node address', async (family) => {
    await topo.node.nft(MASQ('10.65.0.0/24', 'fd00:65::/64'));
    try {
      const res = await topo.probe(server, family);
      expect(res).toEqual({ ok: true, peer: family === 4 ? topo.nodeExternal.v4 : topo.nodeExternal.v6 });
      expect(server.seen().at(-1)?.peer).toBe(family === 4 ? topo.nodeExternal.v4 : topo.nodeExternal.v6);
    } finally {
      await topo.node.nft('delete table inet tk_masq');
    }
  });

  it.each([4, 6] as const)('IPv%i: without NAT but with a return route, ext sees the pod address', async (family) => {
    await topo.addReturnRoute(family === 4 ? '10.65.0.0/24' : 'fd00:65::/64');
    const res = await topo.probe(server, family);
    expect(res).toEqual({ ok: true, peer: family === 4 ? topo.podAddress.v4 : topo.podAddress.v6 });
  });

  it('a second pod address in another range is masqueraded only when the rule covers it', async () => {
    await topo.addPodAddress('10.66.0.2/24', '10.66.0.1/24');
    await topo.addReturnRoute('10.66.0.0/24');
    await topo.node.nft(MASQ('10.66.0.0/24', 'fd00:66::/64'));
    try {
      expect(await topo.probe(server, 4, { from: '10.66.0.2' })).toEqual({ ok: true, peer: topo.nodeExternal.v4 });
      expect(await topo.probe(server, 4, { from: '10.65.0.2' })).toEqual({ ok: true, peer: topo.podAddress.v4 });
    } finally {
      await topo.node.nft('delete table inet tk_masq');
    }
  });

  it('destroy removes all three namespaces and the server process', async () => {
    const names = [topo.pod.name, topo.node.name, topo.ext.name];
    const pid = server.pid!;
    await topo.destroy();
    for (const n of names) expect(existsSync(`/run/netns/${n}`)).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
