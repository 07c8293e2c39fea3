// The whole path over a NATS server that requires TLS with client certificates: the
// compiler publishes, an enforcer (real nft in a netns) applies and reports, the API shows
// the rollout — and a client without TLS is refused.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKeyPair } from '@natfleet/bundle';
import { NatTopology, ServiceProcess, freePort, makeTempDir, makeTestPki, removeDir, startEtcd, startNats, waitUntil, type EtcdCluster, type NatsCluster, type TestPki } from '@natfleet/testkit';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const P = '/calico/resources/v3/projectcalico.org';

describe('compiler, enforcer and API over NATS with TLS and client certificates', () => {
  const dir = makeTempDir('nats-tls');
  let pki: TestPki;
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let topo: NatTopology;
  const procs: ServiceProcess[] = [];
  let apiPort = 0;

  beforeAll(async () => {
    pki = await makeTestPki(dir);
    const tls = `tls {\n  cert_file: ${JSON.stringify(pki.serverCertFile)}\n  key_file: ${JSON.stringify(pki.serverKeyFile)}\n  ca_file: ${JSON.stringify(pki.caFile)}\n  verify: true\n}`;
    [etcd, nats, topo] = await Promise.all([startEtcd(), startNats({ extraConfig: tls }), NatTopology.create()]);
    const keys = generateSigningKeyPair();
    writeFileSync(join(dir, 'signing.key'), keys.privateKeyPem);
    writeFileSync(join(dir, 'signing.pub'), keys.publicKeyPem);
    writeFileSync(join(dir, 'tokens'), 'nats-tls-read-token-0000 read\n');
    const natsTls = ['--nats-url', nats.url, '--nats-ca-file', pki.caFile, '--nats-cert-file', pki.clientCertFile, '--nats-key-file', pki.clientKeyFile];
    const [cPort, ePort] = [await freePort(), await freePort()];
    apiPort = await freePort();
    procs.push(await ServiceProcess.start({ name: 'compiler', opsPort: cPort, args: ['--etcd-endpoints', etcd.endpoints[0]!, ...natsTls, '--signing-key-file', join(dir, 'signing.key'), '--ops-port', String(cPort), '--log-level', 'warn'] }));
    procs.push(await ServiceProcess.start({ name: 'enforcer', opsPort: ePort, waitFor: 'healthz', args: ['run', '--node-name', 'tls-node', '--netns', topo.node.name, ...natsTls, '--trusted-keys-file', join(dir, 'signing.pub'), '--state-dir', join(dir, 'state'), '--ops-port', String(ePort), '--log-level', 'warn'] }));
    procs.push(await ServiceProcess.start({ name: 'api', opsPort: apiPort, args: ['--etcd-endpoints', etcd.endpoints[0]!, ...natsTls, '--token-file', join(dir, 'tokens'), '--port', String(apiPort), '--log-level', 'warn'] }));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await Promise.all([topo?.destroy(), etcd?.destroy(), nats?.destroy()]);
    removeDir(dir);
  });

  it('a pool written to etcd is enforced on the node and shown in sync by the API', async () => {
    const put = await etcd.etcdctl(['put', `${P}/ippools/pods`, JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pods' }, spec: { cidr: '10.65.0.0/24', natOutgoing: true } }), '-w', 'json']);
    const revision = JSON.parse(put.stdout).header.revision as number;
    await waitUntil('rollout complete over TLS', async () => {
      const res = await fetch(`http://127.0.0.1:${apiPort}/v1/rollout`, { headers: { authorization: 'Bearer nats-tls-read-token-0000' }, signal: AbortSignal.timeout(5_000) });
      const r = (await res.json()) as { complete: boolean; desired: { version: number } | null };
      return r.complete && (r.desired?.version ?? 0) >= revision;
    }, { timeoutMs: 20_000 });
    const server = await topo.startPeerServer();
    expect(await topo.probe(server, 4)).toEqual({ ok: true, peer: topo.nodeExternal.v4 });
  });

  it('a client without TLS is refused', async () => {
    await expect(connect({ servers: nats.url, timeout: 2_000, reconnect: false })).rejects.toThrow();
  });
});
