/**
 * Real packets through rendered tables: pod → node (nft here) → ext, where a peer server
 * reports the source address (and port) it saw. Every probe is a new connection, so each
 * applied table decides afresh. Tests run in order and build on each other: first with
 * no return route on ext (only NATed traffic can succeed), later with one.
 */
import { accessSync, constants } from 'node:fs';
import { NatTopology, openPersistentConnection, type PeerServer } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, FamilySets, NatSettings } from '@natfleet/bundle';
import { compareTableState, expectedTableContents, RealNft, renderDelta, renderTransaction } from '../src/index.js';
import { digestFor, makeBundle } from './fixtures.js';

const POD4 = '10.65.0.0/24';
const POD6 = 'fd00:65::/64';
const EXT4 = '203.0.113.0/24';
const EXT6 = '2001:db8:113::/64';

const hasPython = (() => {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    try {
      accessSync(`${dir}/python3`, constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
})();

// One ICMP echo from the pod with a raw socket (Node has none): prints OK when a reply came.
const PING = `
import os, socket, struct, sys
v6 = ':' in sys.argv[1]
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
s.settimeout(1.5)
def csum(b):
    b += b'\\0' * (len(b) % 2)
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
body = b'natfleet'
typ = 128 if v6 else 8
pkt = struct.pack('!BBHHH', typ, 0, 0, os.getpid() & 0xffff, 1) + body
if not v6: pkt = pkt[:2] + struct.pack('!H', csum(pkt)) + pkt[4:]
s.sendto(pkt, (sys.argv[1], 0))
try:
    while True:
        data, addr = s.recvfrom(2048)
        icmp = data if v6 else data[(data[0] & 15) * 4:]
        if icmp[0] == (129 if v6 else 0) and addr[0] == sys.argv[1]: print('OK'); break
except socket.timeout:
    print('TIMEOUT')
`;

describe('rendered tables with real packets (pod → node → ext)', () => {
  let topo: NatTopology;
  let server: PeerServer;
  let nft: RealNft;
  let version = 0;

  let last: Bundle | undefined;

  /**
   * Renders and applies a bundle on the node — as a delta from the previous one when
   * `delta` and the shapes allow, else as a whole-table swap — and checks the full read-back.
   * Resolves whether a delta was applied.
   */
  async function apply(v4: FamilySets, v6: FamilySets, settings: Partial<NatSettings> = {}, hostAddresses?: { v4: string[]; v6: string[] }, delta = false): Promise<boolean> {
    version++;
    const b = makeBundle({ version, digest: digestFor(version), v4, v6, settings, ...(hostAddresses ? { hostAddresses } : {}) });
    const text = delta && last ? renderDelta(last, b, 'node') : undefined;
    await nft.applyTransaction(text ?? renderTransaction(b, 'node'));
    last = b;
    expect(compareTableState(expectedTableContents(b, 'node'), await nft.readTableContents())).toEqual([]);
    return text !== undefined;
  }

  /** Packet counters of our action rules by rule kind, e.g. { 'v4:tcpudp': 1, 'v4:all': 0 }. */
  async function counters(): Promise<Record<string, number>> {
    const { stdout } = await topo.node.exec('nft', ['list', 'table', 'inet', 'natfleet']);
    const out: Record<string, number> = {};
    for (const m of stdout.matchAll(/counter packets (\d+) .* comment "nf:(v[46]:(?:tcpudp|all)):[0-9a-f]{8}"/g)) out[m[2]!] = Number(m[1]);
    return out;
  }

  const natPools = (): [FamilySets, FamilySets] => [
    { masquerade: [POD4], noNat: [POD4] },
    { masquerade: [POD6], noNat: [POD6] },
  ];

  beforeAll(async () => {
    topo = await NatTopology.create();
    server = await topo.startPeerServer();
    nft = new RealNft({ netns: topo.node.name });
  });
  afterAll(async () => topo?.destroy());

  it.each([4, 6] as const)('IPv%i: pool in masquerade → ext sees the node address', async (family) => {
    await apply(...natPools());
    const res = await topo.probe(server, family);
    expect(res).toEqual({ ok: true, peer: family === 4 ? topo.nodeExternal.v4 : topo.nodeExternal.v6 });
  });

  it('an interface filter that does not match the egress interface means no NAT; one that does means NAT', async () => {
    await apply(...natPools(), { interfaceFilter: 'eth*' });
    expect((await topo.probe(server, 4, { timeoutMs: 700 })).ok).toBe(false); // un-NATed, no return route
    await apply(...natPools(), { interfaceFilter: 'ext*' });
    expect(await topo.probe(server, 4)).toEqual({ ok: true, peer: topo.nodeExternal.v4 });
  });

  it.each([4, 6] as const)('IPv%i: a port range maps TCP source ports into it (tcp/udp rule), fully-random too', async (family) => {
    await apply(...natPools(), { portRange: { from: 40000, to: 40099 }, fullyRandom: true });
    for (let i = 0; i < 3; i++) {
      const res = await topo.probe(server, family);
      expect(res).toEqual({ ok: true, peer: family === 4 ? topo.nodeExternal.v4 : topo.nodeExternal.v6 });
      const port = server.seen().at(-1)!.port;
      expect(port).toBeGreaterThanOrEqual(40000);
      expect(port).toBeLessThanOrEqual(40099);
    }
    const c = await counters();
    expect(c[`v${family}:tcpudp`]).toBe(3);
    expect(c[`v${family}:all`]).toBe(0);
  });

  it.skipIf(!hasPython).each([4, 6] as const)('IPv%i: with a port range, ICMP is NATed by the plain rule', async (family) => {
    await apply(...natPools(), { portRange: { from: 40000, to: 40099 } });
    const dst = family === 4 ? topo.extAddress.v4 : topo.extAddress.v6;
    const { stdout } = await topo.pod.exec('python3', ['-c', PING, dst], { allowFailure: true });
    expect(stdout.trim()).toBe('OK'); // the reply only comes back when NATed: ext has no route to the pod
    const c = await counters();
    expect(c[`v${family}:all`]).toBeGreaterThanOrEqual(1);
    expect(c[`v${family}:tcpudp`]).toBe(0);
  });

  it('IPv4: natOutgoingAddress → ext sees that address; IPv6 keeps masquerading', async () => {
    await topo.node.ip(['addr', 'add', '203.0.113.9/24', 'dev', 'ext0']);
    try {
      await apply(...natPools(), { natOutgoingAddress: '203.0.113.9' });
      expect(await topo.probe(server, 4)).toEqual({ ok: true, peer: '203.0.113.9' });
      expect(await topo.probe(server, 6)).toEqual({ ok: true, peer: topo.nodeExternal.v6 });
    } finally {
      await topo.node.ip(['addr', 'del', '203.0.113.9/24', 'dev', 'ext0']);
    }
  });

  it('IPv6: natOutgoingAddress → ext sees that address, also with a port range', async () => {
    // Added only for this test: masquerade would otherwise pick it as the source for IPv6 later.
    await topo.node.ip(['-6', 'addr', 'add', '2001:db8:113::9/64', 'dev', 'ext0', 'nodad']);
    try {
      await apply(...natPools(), { natOutgoingAddress: '2001:db8:113::9' });
      expect(await topo.probe(server, 6)).toEqual({ ok: true, peer: '2001:db8:113::9' });
      await apply(...natPools(), { natOutgoingAddress: '2001:db8:113::9', portRange: { from: 41000, to: 41009 } });
      expect(await topo.probe(server, 6)).toEqual({ ok: true, peer: '2001:db8:113::9' });
      expect(server.seen().at(-1)!.port).toBeGreaterThanOrEqual(41000);
      expect(server.seen().at(-1)!.port).toBeLessThanOrEqual(41009);
    } finally {
      await topo.node.ip(['-6', 'addr', 'del', '2001:db8:113::9/64', 'dev', 'ext0']);
    }
  });

  it.each([4, 6] as const)('IPv%i: natOutgoing off (pool not in masquerade) + return route → ext sees the pod address', async (family) => {
    await apply({ masquerade: [], noNat: [POD4] }, { masquerade: [], noNat: [POD6] });
    await topo.addReturnRoute(family === 4 ? POD4 : POD6);
    expect(await topo.probe(server, family)).toEqual({ ok: true, peer: family === 4 ? topo.podAddress.v4 : topo.podAddress.v6 });
  });

  it.each([4, 6] as const)('IPv%i: destination in noNat (a disabled pool covering ext) → ext sees the pod address', async (family) => {
    await apply({ masquerade: [POD4], noNat: [POD4, EXT4] }, { masquerade: [POD6], noNat: [POD6, EXT6] });
    expect(await topo.probe(server, family)).toEqual({ ok: true, peer: family === 4 ? topo.podAddress.v4 : topo.podAddress.v6 });
    // The same pools without the exclusion NAT again.
    await apply(...natPools());
    expect(await topo.probe(server, family)).toEqual({ ok: true, peer: family === 4 ? topo.nodeExternal.v4 : topo.nodeExternal.v6 });
  });

  it.each([4, 6] as const)('IPv%i: IPPoolsAndHostIPs exempts fleet host addresses as destinations', async (family) => {
    await apply(...natPools(), { exclusions: 'IPPoolsAndHostIPs' }, { v4: ['203.0.113.2/32'], v6: ['2001:db8:113::2/128'] });
    expect(await topo.probe(server, family)).toEqual({ ok: true, peer: family === 4 ? topo.podAddress.v4 : topo.podAddress.v6 });
  });

  it.each([4, 6] as const)('IPv%i: after a chain of delta applies the NAT follows the last bundle', async (family) => {
    // Other pools of the same prefix lengths come and go: every step is a delta.
    const others = (i: number): [FamilySets, FamilySets] => [
      { masquerade: [POD4, `10.66.${i}.0/24`], noNat: [POD4, `10.67.${i}.0/24`] },
      { masquerade: [POD6, `fd00:66:${i}::/64`], noNat: [POD6, `fd00:67:${i}::/64`] },
    ];
    await apply(...others(0));
    for (let i = 1; i <= 5; i++) expect(await apply(...others(i), {}, undefined, true)).toBe(true);
    expect(await topo.probe(server, family)).toEqual({ ok: true, peer: family === 4 ? topo.nodeExternal.v4 : topo.nodeExternal.v6 });
    // The pod pool leaves masquerade (its /24 resp. /64 set keeps the other pool): NAT stops, by delta.
    const [v4, v6] = others(6);
    expect(await apply({ ...v4, masquerade: ['10.66.6.0/24'] }, { ...v6, masquerade: ['fd00:66:6::/64'] }, {}, undefined, true)).toBe(true);
    expect(await topo.probe(server, family)).toEqual({ ok: true, peer: family === 4 ? topo.podAddress.v4 : topo.podAddress.v6 });
    // And comes back, by delta.
    expect(await apply(...others(7), {}, undefined, true)).toBe(true);
    expect(await topo.probe(server, family)).toEqual({ ok: true, peer: family === 4 ? topo.nodeExternal.v4 : topo.nodeExternal.v6 });
  });

  it('established TCP connections (IPv4 and IPv6) survive 50 delta applies', async () => {
    await apply({ masquerade: [POD4, '10.66.0.0/24'], noNat: [POD4] }, { masquerade: [POD6, 'fd00:66::/64'], noNat: [POD6] });
    const v4 = await openPersistentConnection(topo.pod, topo.extAddress.v4, server.port);
    const v6 = await openPersistentConnection(topo.pod, topo.extAddress.v6, server.port);
    try {
      expect([v4.peer, v6.peer]).toEqual([topo.nodeExternal.v4, topo.nodeExternal.v6]);
      for (let i = 1; i <= 50; i++) {
        const delta = await apply({ masquerade: [POD4, `10.66.${i}.0/24`], noNat: [POD4] }, { masquerade: [POD6, `fd00:66:${i}::/64`], noNat: [POD6] }, {}, undefined, true);
        expect(delta).toBe(true);
        if (i % 10 === 0) await Promise.all([v4.echo(`v4-${i}`), v6.echo(`v6-${i}`)]);
      }
      expect([v4.closed, v6.closed]).toEqual([false, false]);
    } finally {
      await Promise.all([v4.close(), v6.close()]);
    }
  }, 120_000);
});
