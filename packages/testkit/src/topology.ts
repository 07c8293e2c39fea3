/**
 * The pod / node / ext test topology: three namespaces joined by veth pairs, forwarding
 * enabled in the node namespace only. The ext host has no route back to pod addresses,
 * so a pod reaches it only when the node NATs — unless the test adds a return route
 * (the "natOutgoing off, routed/BGP-peered" case).
 *
 *   pod  eth0 ─── pod0  node  ext0 ─── eth0  ext
 *   10.65.0.2/24  .1          203.0.113.1/24  .2
 *   fd00:65::2/64 ::1         2001:db8:113::1/64 ::2
 */
import { randomBytes } from 'node:crypto';
import { Netns } from './netns.js';
import { PeerServer, probePeer, type ProbeResult } from './peer.js';

/** Addresses of one topology (host addresses with prefix length). */
export interface TopologyAddresses {
  podV4: string;
  nodePodSideV4: string;
  nodeExtV4: string;
  extV4: string;
  podV6: string;
  nodePodSideV6: string;
  nodeExtV6: string;
  extV6: string;
}

export const DEFAULT_ADDRESSES: Readonly<TopologyAddresses> = Object.freeze({
  podV4: '10.65.0.2/24',
  nodePodSideV4: '10.65.0.1/24',
  nodeExtV4: '203.0.113.1/24',
  extV4: '203.0.113.2/24',
  podV6: 'fd00:65::2/64',
  nodePodSideV6: 'fd00:65::1/64',
  nodeExtV6: '2001:db8:113::1/64',
  extV6: '2001:db8:113::2/64',
});

/** Host part of "addr/len". */
export const hostOf = (cidr: string): string => cidr.split('/')[0]!;

export class NatTopology {
  private readonly extras: { podAddr: string }[] = [];

  private constructor(
    readonly pod: Netns,
    readonly node: Netns,
    readonly ext: Netns,
    readonly addresses: TopologyAddresses,
  ) {}

  /** Builds the three namespaces, links, addresses and routes. On failure, removes what it made. */
  static async create(addresses: Partial<TopologyAddresses> = {}): Promise<NatTopology> {
    const a = { ...DEFAULT_ADDRESSES, ...addresses };
    const tag = randomBytes(3).toString('hex');
    const made: Netns[] = [];
    try {
      const pod = await Netns.create('pod', tag);
      made.push(pod);
      const node = await Netns.create('node', tag);
      made.push(node);
      const ext = await Netns.create('ext', tag);
      made.push(ext);
      const t = new NatTopology(pod, node, ext, a);
      await t.wire();
      return t;
    } catch (err) {
      await Promise.all(made.map((n) => n.destroy()));
      throw err;
    }
  }

  private async wire(): Promise<void> {
    const { pod, node, ext, addresses: a } = this;
    // Both veth ends are created directly inside their namespaces: no name can clash
    // with the host's interfaces, and nothing is ever created in the host namespace.
    await pod.ip(['link', 'add', 'eth0', 'netns', pod.name, 'type', 'veth', 'peer', 'name', 'pod0', 'netns', node.name]);
    await ext.ip(['link', 'add', 'eth0', 'netns', ext.name, 'type', 'veth', 'peer', 'name', 'ext0', 'netns', node.name]);
    await pod.ip(['addr', 'add', a.podV4, 'dev', 'eth0']);
    await pod.ip(['-6', 'addr', 'add', a.podV6, 'dev', 'eth0', 'nodad']);
    await node.ip(['addr', 'add', a.nodePodSideV4, 'dev', 'pod0']);
    await node.ip(['-6', 'addr', 'add', a.nodePodSideV6, 'dev', 'pod0', 'nodad']);
    await node.ip(['addr', 'add', a.nodeExtV4, 'dev', 'ext0']);
    await node.ip(['-6', 'addr', 'add', a.nodeExtV6, 'dev', 'ext0', 'nodad']);
    await ext.ip(['addr', 'add', a.extV4, 'dev', 'eth0']);
    await ext.ip(['-6', 'addr', 'add', a.extV6, 'dev', 'eth0', 'nodad']);
    for (const [ns, dev] of [[pod, 'eth0'], [node, 'pod0'], [node, 'ext0'], [ext, 'eth0']] as const) {
      await ns.ip(['link', 'set', dev, 'up']);
    }
    await pod.ip(['route', 'add', 'default', 'via', hostOf(a.nodePodSideV4)]);
    await pod.ip(['-6', 'route', 'add', 'default', 'via', hostOf(a.nodePodSideV6)]);
    // Forwarding is per namespace: only the node routes.
    await node.sysctl('net.ipv4.ip_forward', '1');
    await node.sysctl('net.ipv6.conf.all.forwarding', '1');
  }

  /** The node's address on the ext link: what ext sees when the pod is masqueraded. */
  get nodeExternal(): { v4: string; v6: string } {
    return { v4: hostOf(this.addresses.nodeExtV4), v6: hostOf(this.addresses.nodeExtV6) };
  }

  get podAddress(): { v4: string; v6: string } {
    return { v4: hostOf(this.addresses.podV4), v6: hostOf(this.addresses.podV6) };
  }

  get extAddress(): { v4: string; v6: string } {
    return { v4: hostOf(this.addresses.extV4), v6: hostOf(this.addresses.extV6) };
  }

  /**
   * Gives the pod one more address (e.g. from a second pool): `podAddr` like "10.66.0.2/24"
   * on the pod, `gatewayAddr` like "10.66.0.1/24" on the node's pod0. Probe from it with
   * `probe(..., { from })`.
   */
  async addPodAddress(podAddr: string, gatewayAddr: string): Promise<void> {
    const v6 = podAddr.includes(':');
    await this.pod.ip([...(v6 ? ['-6'] : []), 'addr', 'add', podAddr, 'dev', 'eth0', ...(v6 ? ['nodad'] : [])]);
    await this.node.ip([...(v6 ? ['-6'] : []), 'addr', 'add', gatewayAddr, 'dev', 'pod0', ...(v6 ? ['nodad'] : [])]);
    this.extras.push({ podAddr });
  }

  /** Lets ext route replies for `cidr` (a pod range) back via the node: un-NATed traffic then works. */
  async addReturnRoute(cidr: string): Promise<void> {
    const v6 = cidr.includes(':');
    await this.ext.ip([...(v6 ? ['-6'] : []), 'route', 'add', cidr, 'via', v6 ? this.nodeExternal.v6 : this.nodeExternal.v4]);
  }

  /** Starts the peer-reporting server in ext (stopped by destroy()). */
  startPeerServer(port = 0): Promise<PeerServer> {
    return PeerServer.start(this.ext, port);
  }

  /** Connects from the pod to ext (v4 or v6) and reports the source address ext saw. */
  probe(server: PeerServer, family: 4 | 6, { from, timeoutMs }: { from?: string; timeoutMs?: number } = {}): Promise<ProbeResult> {
    const dst = family === 4 ? this.extAddress.v4 : this.extAddress.v6;
    return probePeer(this.pod, dst, server.port, { ...(from ? { localAddress: from } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
  }

  /** Stops every process started in the namespaces and deletes them. Safe to call twice. */
  async destroy(): Promise<void> {
    await Promise.all([this.pod.destroy(), this.node.destroy(), this.ext.destroy()]);
  }
}
