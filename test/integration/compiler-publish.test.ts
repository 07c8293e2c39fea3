// natfleet-compiler against real etcd and NATS: etcdctl writes become signed bundles on
// NATFLEET_BUNDLES, writes that change nothing enforced publish nothing, garbage values
// become warnings without stopping anything, and enforcer announcements become Nodes.
import { Etcd3 } from 'etcd3';
import { openNodesBucket, pendingNodeStatus, putNodeStatus, type NodeStatus } from '@natfleet/bus';
import { startEtcd, startNats, waitUntil, type EtcdCluster, type NatsCluster, type ServiceProcess } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BundleWatch,
  CLUSTER,
  TestKeys,
  enforced,
  felixJson,
  freshCompile,
  metric,
  nodeKey,
  poolJson,
  poolKey,
  readyz,
  startCompiler,
} from './compiler-helpers.js';

const status = (node: string, addresses: string[], labels: Record<string, string> = {}): NodeStatus =>
  pendingNodeStatus(node, { cluster: CLUSTER, labels, addresses, enforcerVersion: 'test' });

describe('natfleet-compiler publishes what etcd holds', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let keys: TestKeys;
  let compiler: ServiceProcess;
  let bundles: BundleWatch;

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    keys = new TestKeys();
    compiler = await startCompiler({ etcdEndpoints: etcd.endpoints, natsUrl: nats.url, keys });
    bundles = await BundleWatch.open(nats.url, keys.trusted);
  });
  afterAll(async () => {
    await bundles?.close();
    await compiler?.stop();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
    keys?.destroy();
  });

  it('an empty datastore still yields a bundle, and /readyz reports the leader', async () => {
    const first = await bundles.waitFor('first bundle', () => true);
    expect(first.cluster).toBe(CLUSTER);
    expect(first.fleet.v4).toEqual({ masquerade: [], noNat: [] });
    const { status: code, body } = await readyz(compiler);
    expect(code).toBe(200);
    expect(body.checks['role']).toEqual({ ok: true, detail: 'leader' });
    expect(await metric(compiler, 'natfleet_compiler_is_leader')).toBe(1);
  });

  it('etcdctl put of a Calico IPPool → a signed bundle with that pool, version = etcd revision', async () => {
    await etcd.etcdctl(['put', poolKey('default-ipv4-ippool'), poolJson('default-ipv4-ippool', '192.168.0.0/16')]);
    const b = await bundles.waitFor('bundle with the pool', (x) => x.fleet.v4.masquerade.includes('192.168.0.0/16'));
    expect(b.fleet.v4.noNat).toEqual(['192.168.0.0/16']);
    expect(enforced(b)).toEqual(enforced(await freshCompile(etcd, b.version)));
    expect(b.warnings).toEqual([]);
    // One log line per publish, with version, digest, warnings count and compile time.
    await waitUntil('publish log line', () =>
      compiler.logs().some((l) => l['msg'] === 'bundle published' && l['version'] === b.version && l['digest'] === b.digest && typeof l['compileMs'] === 'number' && l['warnings'] === 0),
    );
    expect(await metric(compiler, 'natfleet_compiler_last_published_version')).toBe(b.version);
  });

  it('a write that changes nothing enforced publishes nothing', async () => {
    const before = (await bundles.latest())!;
    const skipped = await metric(compiler, 'natfleet_compiler_publish_skipped_total', 'reason="unchanged"');
    // Same pool, plus a label: a new etcd revision, the same NAT rules.
    await etcd.etcdctl(['put', poolKey('default-ipv4-ippool'), poolJson('default-ipv4-ippool', '192.168.0.0/16').replace('"metadata":{', '"metadata":{"labels":{"team":"net"},')]);
    await waitUntil('unchanged skip counted', async () => (await metric(compiler, 'natfleet_compiler_publish_skipped_total', 'reason="unchanged"')) > skipped);
    expect((await bundles.latest())!.digest).toBe(before.digest);
  });

  it('garbage values are skipped with warnings (key + code), the rest still publishes, nothing crashes', async () => {
    await etcd.etcdctl(['put', poolKey('bad-json'), '{not json']);
    await etcd.etcdctl(['put', poolKey('wrong-kind'), felixJson('wrong-kind', { natPortRange: '1000:2000' })]);
    await etcd.etcdctl(['put', poolKey('nested'), poolJson('nested', '192.168.5.0/24', { natOutgoing: false })]);
    await etcd.etcdctl(['put', poolKey('ok-pool'), poolJson('ok-pool', '10.20.0.0/16')]);
    const b = await bundles.waitFor('bundle with warnings and the good pool', (x) => x.fleet.v4.masquerade.includes('10.20.0.0/16') && x.warnings.length >= 3);
    const codes = Object.fromEntries(b.warnings.map((w) => [w.key, w.code]));
    expect(codes[poolKey('bad-json')]).toBe('INVALID_JSON');
    expect(codes[poolKey('wrong-kind')]).toBe('INVALID_RESOURCE');
    expect(codes[poolKey('nested')]).toBe('OVERLAP');
    // Longest prefix: the nested non-NAT /24 is carved out of the masqueraded /16.
    expect(b.fleet.v4.masquerade).not.toContain('192.168.0.0/16');
    expect(enforced(b)).toEqual(enforced(await freshCompile(etcd, b.version)));

    expect(compiler.running).toBe(true);
    expect(await metric(compiler, 'natfleet_compiler_skipped_resources_total', 'code="INVALID_JSON"')).toBeGreaterThanOrEqual(1);
    expect(await metric(compiler, 'natfleet_compiler_skipped_resources_total', 'code="INVALID_RESOURCE"')).toBeGreaterThanOrEqual(1);
    expect(await metric(compiler, 'natfleet_compiler_bundle_warnings')).toBe(b.warnings.length);
    const warned = compiler.logs().filter((l) => l['msg'] === 'resource skipped or adjusted');
    expect(warned.map((l) => l['key'])).toEqual(expect.arrayContaining([poolKey('bad-json'), poolKey('wrong-kind')]));
    // Each skip is logged when it first appears, not on every compile.
    await etcd.etcdctl(['put', poolKey('ok-pool-2'), poolJson('ok-pool-2', '10.30.0.0/16')]);
    await bundles.waitFor('next bundle', (x) => x.fleet.v4.masquerade.includes('10.30.0.0/16'));
    expect(compiler.logs().filter((l) => l['msg'] === 'resource skipped or adjusted' && l['key'] === poolKey('bad-json'))).toHaveLength(1);
  });

  it('enforcer announcements become Node resources, and host addresses reach the bundle', async () => {
    const kv = await openNodesBucket(bundles.js, { bindOnly: true });
    await putNodeStatus(kv, status('node-a', ['192.0.2.10', '2001:db8::10'], { zone: 'a' }));
    const b = await bundles.waitFor('bundle with node-a host addresses', (x) => x.fleet.hostAddresses.v4.includes('192.0.2.10/32'));
    expect(b.fleet.hostAddresses.v6).toContain('2001:db8::10/128');

    const client = new Etcd3({ hosts: etcd.endpoints });
    try {
      const node = JSON.parse((await client.get(nodeKey('node-a')).string())!) as Record<string, any>;
      expect(node).toMatchObject({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'node-a', labels: { zone: 'a' } } });
      expect(node['spec'].addresses).toEqual([
        { address: '192.0.2.10', type: 'InternalIP' },
        { address: '2001:db8::10', type: 'InternalIP' },
      ]);
      const registered = await metric(compiler, 'natfleet_compiler_nodes_registered_total');
      expect(registered).toBe(1);

      // A heartbeat with the same addresses and labels writes nothing.
      const rev = Number((await client.get(nodeKey('node-a')).exec()).kvs[0]!.mod_revision);
      await putNodeStatus(kv, { ...status('node-a', ['2001:db8::10', '192.0.2.10'], { zone: 'a' }), state: 'applied', appliedVersion: b.version });
      // A changed address is written.
      await putNodeStatus(kv, status('node-b', ['192.0.2.20']));
      await bundles.waitFor('bundle with node-b', (x) => x.fleet.hostAddresses.v4.includes('192.0.2.20/32'));
      expect(Number((await client.get(nodeKey('node-a')).exec()).kvs[0]!.mod_revision)).toBe(rev);
      expect(await metric(compiler, 'natfleet_compiler_nodes_registered_total')).toBe(2);

      // An announcement the model rejects is skipped with a warning, not written.
      await putNodeStatus(kv, status('node-c', ['not-an-ip']));
      await waitUntil('invalid node warned', () => compiler.logs().some((l) => l['node'] === 'node-c' && /not registered/.test(String(l['msg']))));
      expect(await client.get(nodeKey('node-c')).string()).toBeNull();
    } finally {
      client.close();
    }
  });
});
