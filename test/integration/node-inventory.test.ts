// The node inventory through the API and natctl, against real etcd and NATS: the fleet is
// every registered Node plus every node reporting; `get nodes`, `describe node` (with the
// desired-vs-enforced NAT diff), `node delete`, and errors for unknown nodes.
import { bundleContentDigest, encodeBundle, generateSigningKeyPair, loadSigningKey } from '@natfleet/bundle';
import { ensureBundleStream, openNodesBucket, pendingNodeStatus, publishBundle, putNodeStatus } from '@natfleet/bus';
import { compileBundle } from '@natfleet/compiler-core';
import { EXIT } from '@natfleet/natctl';
import { startEtcd, startNats, type EtcdCluster, type NatsCluster } from '@natfleet/testkit';
import { Etcd3 } from 'etcd3';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApi, natctlAgainst, type TestApi } from './api-harness.js';
import { nodeKey, poolJson, poolKey } from './compiler-helpers.js';

const TOKEN = 'inventory-token-0123456789';

describe('node inventory', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let client: Etcd3;
  let nc: NatsConnection;
  let api: TestApi;
  let v1 = 0;
  let v2 = 0;
  const natctl = natctlAgainst(() => api.url, TOKEN);

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    client = new Etcd3({ hosts: etcd.endpoints });
    nc = await connect({ servers: nats.url });
    await ensureBundleStream(await nc.jetstreamManager());
    const kv = await openNodesBucket(nc.jetstream());
    api = await buildTestApi({ etcd: client, js: nc.jetstream(), jsm: await nc.jetstreamManager(), cluster: 'default', tokens: `${TOKEN} write
` });
    await api.listen();
    const store = api.store;

    const key = loadSigningKey(generateSigningKeyPair().privateKeyPem);
    const publish = async (): Promise<number> => {
      const snap = await store.snapshot();
      const { bundle } = compileBundle({ entries: snap.entries }, snap.revision, { cluster: 'default', key });
      await publishBundle(nc.jetstream(), { cluster: 'default', data: encodeBundle(bundle), version: bundle.version, digest: bundle.digest, contentDigest: bundleContentDigest(bundle) });
      return bundle.version;
    };
    await client.put(poolKey('a')).value(poolJson('a', '10.90.0.0/16'));
    const node = (name: string, address: string) => JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name, labels: { zone: 'z1' } }, spec: { addresses: [{ address, type: 'InternalIP' }] } });
    await client.put(nodeKey('n1')).value(node('n1', '192.0.2.1'));
    await client.put(nodeKey('n2.ec2.internal')).value(node('n2.ec2.internal', '192.0.2.2'));
    v1 = await publish();
    await client.put(poolKey('b')).value(poolJson('b', '10.91.0.0/16'));
    v2 = await publish();
    const now = new Date().toISOString();
    await putNodeStatus(kv, pendingNodeStatus('n1', { state: 'applied', appliedVersion: v1, appliedDigest: 'sha256:old', heartbeatAt: now, applyMs: 12, enforcerVersion: '0.1.0', addresses: ['192.0.2.1'], labels: { zone: 'z1' } }));
    await putNodeStatus(kv, pendingNodeStatus('n3', { state: 'failed', appliedVersion: v2, heartbeatAt: now, errorCode: 'NFT_KERNEL', error: 'boom', failedVersion: v2 }));
  }, 60_000);

  afterAll(async () => {
    await api?.app.close();
    await nc?.close();
    client?.close();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
  });

  it('get nodes lists registered and reporting nodes; a registered node that never reported is silent', async () => {
    const r = await natctl(['get', 'nodes']);
    expect(r.code, r.err).toBe(EXIT.OK);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+APPLIED\s+STATE\s+HEARTBEAT\s+ERROR$/);
    expect(lines.find((l) => l.startsWith('n1 '))).toMatch(/^n1\s+behind\s+v\d+\s+applied\s+\d+s ago$/);
    expect(lines.find((l) => l.startsWith('n2.ec2.internal '))).toMatch(/silent\s+-\s+pending\s+never/);
    expect(lines.find((l) => l.startsWith('n3 '))).toMatch(/failed.*NFT_KERNEL: boom$/);
    const json = JSON.parse((await natctl(['get', 'nodes', '-o', 'json'])).out);
    expect(json.kind).toBe('NodeList');
    expect(json.items.map((n: any) => [n.node, n.registered])).toEqual([['n1', true], ['n2.ec2.internal', true], ['n3', false]]);
    expect((await natctl(['get', 'nodes', '-o', 'name'])).out).toBe('node/n1\nnode/n2.ec2.internal\nnode/n3');
    expect((await natctl(['get', 'nodes', '-o', 'wide'])).out).toContain('zone=z1');
    // rollout status agrees: a silent registered node fails the gate.
    expect((await natctl(['rollout', 'status'])).code).toBe(EXIT.ROLLOUT_INCOMPLETE);
  });

  it('describe node shows the desired-vs-enforced NAT diff; an unknown node is an error naming the known ones', async () => {
    const d = await natctl(['describe', 'node', 'n1']);
    expect(d.code, d.err).toBe(EXIT.OK);
    expect(d.out).toContain(`Applied:          v${v1} sha256:old`);
    expect(d.out).toContain(`Desired:          v${v2} `);
    expect(d.out).toContain('Desired vs enforced:');
    expect(d.out).toContain('+ v4 noNat: 10.91.0.0/16');
    expect(d.out).toContain('Addresses:        192.0.2.1 (InternalIP)');
    const missing = await natctl(['describe', 'node', 'n9']);
    expect(missing.code).toBe(EXIT.NOT_FOUND);
    expect(missing.err).toContain('node "n9" is not registered (known nodes: n1, n2.ec2.internal, n3)');
    expect((await natctl(['describe', 'node', 'Bad_Name'])).code).toBe(EXIT.INVALID);
  });

  it('node delete decommissions: the Node resource and the status go, and the node stops counting', async () => {
    const del = await natctl(['node', 'delete', 'n2.ec2.internal']);
    expect(del.code, del.err).toBe(EXIT.OK);
    expect(del.out).toBe('node/n2.ec2.internal deleted (Node resource)');
    expect(await client.get(nodeKey('n2.ec2.internal')).string()).toBeNull();
    const del3 = await natctl(['node', 'delete', 'n3']);
    expect(del3.out).toBe('node/n3 deleted (status)');
    expect((await natctl(['get', 'nodes', '-o', 'name'])).out).toBe('node/n1');
    expect((await natctl(['node', 'delete', 'n3'])).code).toBe(EXIT.NOT_FOUND);
  });
});
