import { Etcd3 } from 'etcd3';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { pidAlive as alive, startEtcd, startEtcdCluster, type EtcdCluster } from '../src/index.js';


describe('real etcd (single member)', () => {
  let etcd: EtcdCluster;
  afterAll(async () => etcd?.destroy());

  it('starts on a free loopback port, serves puts and gets, and etcdctl reaches it', async () => {
    etcd = await startEtcd();
    expect(etcd.endpoints[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = new Etcd3({ hosts: etcd.endpoints });
    try {
      await client.put('/natfleet/test').value('hello');
      expect(await client.get('/natfleet/test').string()).toBe('hello');
      const out = await etcd.etcdctl(['get', '/natfleet/test', '--print-value-only']);
      expect(out.stdout.trim()).toBe('hello');
    } finally {
      client.close();
    }
  });

  it('stops by PID and restarts on the same port with its data', async () => {
    const pid = etcd.members[0]!.pid!;
    await etcd.stop();
    expect(alive(pid)).toBe(false);
    await etcd.startStopped();
    const out = await etcd.etcdctl(['get', '/natfleet/test', '--print-value-only']);
    expect(out.stdout.trim()).toBe('hello');
  });

  it('destroy removes the data dir', async () => {
    const dir = etcd.members[0]!.config.dataDir;
    expect(existsSync(dir)).toBe(true);
    await etcd.destroy();
    expect(existsSync(dir)).toBe(false);
  });
});

describe('real etcd (3-member cluster)', () => {
  let cluster: EtcdCluster;
  afterAll(async () => cluster?.destroy());

  it('keeps serving writes with one member SIGKILLed, and the member rejoins', async () => {
    cluster = await startEtcdCluster();
    expect(cluster.members).toHaveLength(3);
    const client = new Etcd3({ hosts: cluster.endpoints });
    try {
      await client.put('k').value('1');
      await cluster.members[0]!.kill();
      expect(cluster.members[0]!.running).toBe(false);
      // etcd3 fails over to the remaining endpoints; quorum (2 of 3) still holds.
      await client.put('k').value('2');
      expect(await client.get('k').string()).toBe('2');
      await cluster.startStopped();
      const res = await cluster.etcdctl(['endpoint', 'health', '--endpoints', cluster.members[0]!.clientUrl]);
      expect(res.stderr + res.stdout).toContain('is healthy');
    } finally {
      client.close();
    }
  });
});

describe('real etcd with TLS and client-certificate auth', () => {
  it('serves clients that present a certificate of the test CA, and refuses plain ones', async () => {
    const { makeTestPki, makeTempDir, removeDir } = await import('../src/index.js');
    const { readFileSync } = await import('node:fs');
    const dir = makeTempDir('pki');
    const pki = await makeTestPki(dir);
    const etcd = await startEtcd({ tls: pki });
    try {
      expect(etcd.endpoints[0]).toMatch(/^https:/);
      const ok = new Etcd3({ hosts: etcd.endpoints, credentials: { rootCertificate: readFileSync(pki.caFile), certChain: readFileSync(pki.clientCertFile), privateKey: readFileSync(pki.clientKeyFile) } });
      await ok.put('k').value('tls');
      expect((await etcd.etcdctl(['get', 'k', '--print-value-only'])).stdout.trim()).toBe('tls');
      ok.close();
      const noCert = new Etcd3({ hosts: etcd.endpoints, credentials: { rootCertificate: readFileSync(pki.caFile) }, dialTimeout: 1_000 });
      await expect(noCert.get('k').string()).rejects.toThrow();
      noCert.close();
    } finally {
      await etcd.destroy();
      removeDir(dir);
    }
  });
});
