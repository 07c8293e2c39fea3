// Compile core + nft dataplane against real packets: for each seed scenario, the pod →
// ext connection is NATed exactly as explain() says, on IPv4 and IPv6.
import { generateSigningKeyPair, loadSigningKey, type Bundle } from '@natfleet/bundle';
import { compileBundle, explain, type ResolvedPool, type SnapshotEntry } from '@natfleet/compiler-core';
import { RealNft, compareTableState, expectedTableState, renderTransaction } from '@natfleet/nft';
import { NatTopology, type PeerServer } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PREFIX = '/calico/resources/v3/projectcalico.org';
const pool = (name: string, spec: Record<string, unknown>): SnapshotEntry => ({
  key: `${PREFIX}/ippools/${name}`,
  value: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec }),
});
const felix = (name: string, spec: Record<string, unknown>): SnapshotEntry => ({
  key: `${PREFIX}/felixconfigurations/${name}`,
  value: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: { name }, spec }),
});

const NODE = 'node-1';
const key = loadSigningKey(generateSigningKeyPair().privateKeyPem);

describe('compiled bundles NAT real packets exactly as explain says', () => {
  let topo: NatTopology;
  let server: PeerServer;
  let nft: RealNft;
  let version = 0;

  beforeAll(async () => {
    topo = await NatTopology.create();
    server = await topo.startPeerServer();
    nft = new RealNft({ netns: topo.node.name });
  });
  afterAll(async () => topo?.destroy());

  async function enforce(entries: SnapshotEntry[]): Promise<{ bundle: Bundle; pools: ResolvedPool[] }> {
    const compiled = compileBundle({ entries }, ++version, { cluster: 'test', key });
    await nft.applyTransaction(renderTransaction(compiled.bundle, NODE));
    expect(compareTableState(expectedTableState(compiled.bundle, NODE), await nft.readTable())).toEqual([]);
    return compiled;
  }

  async function expectAsExplained(compiled: { bundle: Bundle; pools: ResolvedPool[] }, family: 4 | 6, expected: 'masquerade' | 'snat' | 'none') {
    const src = family === 4 ? topo.podAddress.v4 : topo.podAddress.v6;
    const dst = family === 4 ? topo.extAddress.v4 : topo.extAddress.v6;
    const why = explain(compiled.bundle, NODE, src, dst, compiled.pools);
    expect(why.decision).toBe(expected);
    const seen = await topo.probe(server, family);
    const want =
      why.decision === 'masquerade'
        ? family === 4 ? topo.nodeExternal.v4 : topo.nodeExternal.v6
        : why.decision === 'snat' ? why.snatAddress : src;
    expect(seen).toEqual({ ok: true, peer: want });
  }

  it.each([4, 6] as const)('IPv%i natOutgoing on: masqueraded to the node address (no return route exists)', async (family) => {
    const compiled = await enforce([
      pool('default-ipv4-ippool', { cidr: '10.65.0.0/24', natOutgoing: true }),
      pool('default-ipv6-ippool', { cidr: 'fd00:65::/64', natOutgoing: true }),
    ]);
    await expectAsExplained(compiled, family, 'masquerade');
  });

  it('IPv4 natOutgoingAddress: SNAT to that address', async () => {
    await topo.node.ip(['addr', 'add', '203.0.113.9/24', 'dev', 'ext0']);
    const compiled = await enforce([
      pool('default-ipv4-ippool', { cidr: '10.65.0.0/24', natOutgoing: true }),
      felix('default', { natOutgoingAddress: '203.0.113.9' }),
    ]);
    await expectAsExplained(compiled, 4, 'snat');
  });

  it.each([4, 6] as const)('IPv%i natOutgoing off (routed pool with a return route): not NATed', async (family) => {
    await topo.addReturnRoute(family === 4 ? '10.65.0.0/24' : 'fd00:65::/64');
    const compiled = await enforce([
      pool('bgp-v4', { cidr: '10.65.0.0/24', natOutgoing: false }),
      pool('bgp-v6', { cidr: 'fd00:65::/64', natOutgoing: false }),
    ]);
    await expectAsExplained(compiled, family, 'none');
  });

  it.each([4, 6] as const)('IPv%i disabled pool covering the destination: not NATed towards that range', async (family) => {
    const compiled = await enforce([
      pool('default-ipv4-ippool', { cidr: '10.65.0.0/24', natOutgoing: true }),
      pool('default-ipv6-ippool', { cidr: 'fd00:65::/64', natOutgoing: true }),
      pool('no-nat-ext-v4', { cidr: '203.0.113.0/24', disabled: true }),
      pool('no-nat-ext-v6', { cidr: '2001:db8:113::/64', disabled: true }),
    ]);
    await expectAsExplained(compiled, family, 'none');
  });

  it.each([4, 6] as const)('IPv%i removing the disabled pool: masqueraded again', async (family) => {
    const compiled = await enforce([
      pool('default-ipv4-ippool', { cidr: '10.65.0.0/24', natOutgoing: true }),
      pool('default-ipv6-ippool', { cidr: 'fd00:65::/64', natOutgoing: true }),
    ]);
    await expectAsExplained(compiled, family, 'masquerade');
  });
});
