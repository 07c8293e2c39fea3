import { InvalidArgumentError } from 'commander';
import { Registry, Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseDurationMs, parseLabels, parseList, parsePort, parsePositiveInt, sleep, startOpsServer } from '../src/index.js';

describe('parsers', () => {
  it('parse good values and reject bad ones with InvalidArgumentError', () => {
    expect(parseDurationMs('15ms')).toBe(15);
    expect(parseDurationMs('2s')).toBe(2000);
    expect(parseDurationMs('1.5m')).toBe(90_000);
    expect(parseDurationMs('40')).toBe(40);
    expect(parsePort('0')).toBe(0);
    expect(parsePositiveInt('3')).toBe(3);
    expect(parseList(' a, ,b ')).toEqual(['a', 'b']);
    expect(parseLabels('zone=a, rack = r1')).toEqual({ zone: 'a', rack: 'r1' });
    expect(parseLabels('')).toEqual({});
    for (const bad of [() => parseDurationMs('soon'), () => parsePort('70000'), () => parsePort('-1'), () => parsePositiveInt('0'), () => parseLabels('novalue')]) {
      expect(bad).toThrow(InvalidArgumentError);
    }
  });

  it('sleep resolves early on abort', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 20);
    await sleep(5_000, ac.signal);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });
});

describe('ops server', () => {
  it('serves healthz, readyz (200/503 with checks) and metrics on a free port', async () => {
    const registry = new Registry();
    new Counter({ name: 'natfleet_test_total', help: 'x', registers: [registry] }).inc(3);
    let etcdOk = false;
    const ops = await startOpsServer({ host: '127.0.0.1', port: 0, registry, readiness: () => ({ etcd: { ok: etcdOk, detail: 'down' } }), routes: { '/status': () => ({ node: 'n1' }) } });
    try {
      const base = `http://127.0.0.1:${ops.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ ready: false, checks: { etcd: { ok: false, detail: 'down' } } });
      etcdOk = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect(await (await fetch(`${base}/metrics`)).text()).toContain('natfleet_test_total 3');
      expect(await (await fetch(`${base}/status`)).json()).toEqual({ node: 'n1' });
      expect((await fetch(`${base}/nope`)).status).toBe(404);
      expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
    } finally {
      await ops.close();
    }
  });
});

describe('etcd TLS settings', () => {
  it('plain by default; names the setting for every bad combination', async () => {
    const { loadEtcdTls } = await import('../src/index.js');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    expect(loadEtcdTls({}, ['http://127.0.0.1:2379'])).toBeUndefined();
    expect(() => loadEtcdTls({}, ['https://etcd-1:2379'])).toThrow(/--etcd-ca-file/);
    expect(() => loadEtcdTls({ etcdCertFile: 'c' })).toThrow(/must be given together/);
    expect(() => loadEtcdTls({ etcdCertFile: 'c', etcdKeyFile: 'k' })).toThrow(/needs '--etcd-ca-file'/);
    expect(() => loadEtcdTls({ etcdCaFile: '/nonexistent/ca.pem' })).toThrow(/'--etcd-ca-file' \(\/nonexistent\/ca.pem\) cannot be read: ENOENT/);
    const dir = mkdtempSync(join(tmpdir(), 'tls-'));
    for (const f of ['ca', 'crt', 'key']) writeFileSync(join(dir, f), `${f}-pem`);
    const creds = loadEtcdTls({ etcdCaFile: join(dir, 'ca'), etcdCertFile: join(dir, 'crt'), etcdKeyFile: join(dir, 'key') });
    expect(creds?.rootCertificate.toString()).toBe('ca-pem');
    expect(creds?.privateKey?.toString()).toBe('key-pem');
  });
});

describe('NATS TLS settings', () => {
  it('plain by default; names the setting for every bad combination', async () => {
    const { loadNatsTls } = await import('../src/index.js');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    expect(loadNatsTls({})).toBeUndefined();
    expect(() => loadNatsTls({ natsKeyFile: 'k' })).toThrow(/must be given together/);
    expect(() => loadNatsTls({ natsCertFile: 'c', natsKeyFile: 'k' })).toThrow(/needs '--nats-ca-file'/);
    expect(() => loadNatsTls({ natsCaFile: '/nonexistent/ca.pem' })).toThrow(/'--nats-ca-file' \(\/nonexistent\/ca.pem\) cannot be read: ENOENT/);
    const dir = mkdtempSync(join(tmpdir(), 'ntls-'));
    for (const f of ['ca', 'crt', 'key']) writeFileSync(join(dir, f), 'x');
    expect(loadNatsTls({ natsCaFile: join(dir, 'ca'), natsCertFile: join(dir, 'crt'), natsKeyFile: join(dir, 'key') })).toEqual({ caFile: join(dir, 'ca'), certFile: join(dir, 'crt'), keyFile: join(dir, 'key') });
  });
});
