// natfleet's daemons against an etcd that serves TLS with client-certificate auth (as in
// deploy/etcd): the compiler publishes from it, the API writes to it, and bad TLS settings
// stop a daemon at start naming the setting.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeBundle, generateSigningKeyPair, loadTrustedKeys } from '@natfleet/bundle';
import { latestBundle } from '@natfleet/bus';
import { ServiceProcess, freePort, makeTempDir, makeTestPki, removeDir, run, serviceEntry, startEtcd, startNats, waitUntil, type EtcdCluster, type NatsCluster, type TestPki } from '@natfleet/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const P = '/calico/resources/v3/projectcalico.org';

describe('daemons against etcd with TLS and client certificates', () => {
  const dir = makeTempDir('etcd-tls');
  let pki: TestPki;
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let nc: NatsConnection;
  const procs: ServiceProcess[] = [];
  const keys = generateSigningKeyPair();
  const tlsArgs = (): string[] => ['--etcd-ca-file', pki.caFile, '--etcd-cert-file', pki.clientCertFile, '--etcd-key-file', pki.clientKeyFile];

  beforeAll(async () => {
    pki = await makeTestPki(dir);
    [etcd, nats] = await Promise.all([startEtcd({ tls: pki }), startNats()]);
    nc = await connect({ servers: nats.url });
    writeFileSync(join(dir, 'signing.key'), keys.privateKeyPem);
    writeFileSync(join(dir, 'tokens'), 'tls-write-token-00000000 write\n');
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await nc?.close();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
    removeDir(dir);
  });

  it('the compiler compiles and publishes what the TLS etcd holds', async () => {
    const opsPort = await freePort();
    procs.push(await ServiceProcess.start({ name: 'compiler', opsPort, args: ['--etcd-endpoints', etcd.endpoints[0]!, ...tlsArgs(), '--nats-url', nats.url, '--signing-key-file', join(dir, 'signing.key'), '--ops-port', String(opsPort), '--log-level', 'warn'] }));
    await etcd.etcdctl(['put', `${P}/ippools/tls-pool`, JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'tls-pool' }, spec: { cidr: '10.70.0.0/16', natOutgoing: true } })]);
    const jsm = await nc.jetstreamManager();
    await waitUntil('bundle with the TLS-stored pool', async () => {
      const b = await latestBundle(jsm, 'default');
      return !!b && decodeBundle(b.data, { trustedKeys: loadTrustedKeys([keys.publicKeyPem]) }).fleet.v4.masquerade.includes('10.70.0.0/16');
    }, { timeoutMs: 20_000 });
  });

  it('the API writes to the TLS etcd', async () => {
    const port = await freePort();
    procs.push(await ServiceProcess.start({ name: 'api', opsPort: port, args: ['--etcd-endpoints', etcd.endpoints[0]!, ...tlsArgs(), '--nats-url', nats.url, '--token-file', join(dir, 'tokens'), '--port', String(port), '--log-level', 'warn'] }));
    const res = await fetch(`http://127.0.0.1:${port}/v1/ippools`, {
      method: 'POST',
      headers: { authorization: 'Bearer tls-write-token-00000000', 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'via-api' }, spec: { cidr: '10.71.0.0/16' } }),
    });
    expect(res.status).toBe(201);
    expect((await etcd.etcdctl(['get', `${P}/ippools/via-api`, '--print-value-only'])).stdout).toContain('10.71.0.0/16');
  });

  it('bad TLS settings stop the daemons at start, naming the setting', async () => {
    const common = ['--nats-url', nats.url, '--ops-port', String(await freePort())];
    const noCa = await run(process.execPath, [serviceEntry('compiler'), '--etcd-endpoints', etcd.endpoints[0]!, '--signing-key-file', join(dir, 'signing.key'), ...common], { allowFailure: true, timeoutMs: 20_000 });
    expect(noCa.code).toBe(1);
    expect(noCa.stderr).toContain("--etcd-ca-file");
    const badFile = await run(process.execPath, [serviceEntry('api'), '--etcd-endpoints', etcd.endpoints[0]!, '--etcd-ca-file', join(dir, 'missing.pem'), '--token-file', join(dir, 'tokens'), '--port', '0', '--nats-url', nats.url], { allowFailure: true, timeoutMs: 20_000 });
    expect(badFile.code).toBe(1);
    expect(badFile.stderr).toMatch(/'--etcd-ca-file' \(.*missing\.pem\) cannot be read: ENOENT/);
  });
});
