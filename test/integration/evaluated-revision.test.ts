// Every write resolves (issue 13): a real natfleet-compiler process, etcd and NATS, the API
// over HTTP and natctl in-process. A write that changes nothing enforced (disableBGPExport)
// gets no bundle of its own; the compiler records the revision it evaluated on
// natfleet.evaluated.<cluster>, /v1/rollout shows it, `natctl apply` says there is nothing
// to roll out, and `natctl rollout status --min-version <its revision>` exits 0 at once.
// Also: explain for an unknown node is a 404 (not the defaults), and `natctl version`.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResourceService, RolloutService, TokenSet, buildApp } from '@natfleet/api';
import { decodeEvaluation } from '@natfleet/bundle';
import { latestEvaluation, openNodesBucket, pendingNodeStatus, putNodeStatus } from '@natfleet/bus';
import { EXIT, run, type Io } from '@natfleet/natctl';
import { EtcdStore } from '@natfleet/store';
import { REPO_ROOT, startEtcd, startNats, waitUntil, type EtcdCluster, type NatsCluster, type ServiceProcess } from '@natfleet/testkit';
import { Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import { connect, type KV, type NatsConnection } from 'nats';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER, TestKeys, metric, startCompiler } from './compiler-helpers.js';
import { checkApiResponses } from './api-harness.js';

const TOKEN = 'write-token-evaluated-0123456789';
const POOL = (spec: Record<string, unknown>) => JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pods' }, spec: { cidr: '192.168.0.0/16', natOutgoing: true, ...spec } });

describe('every write resolves: the evaluated revision', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let keys: TestKeys;
  let compiler: ServiceProcess;
  let client: Etcd3;
  let nc: NatsConnection;
  let kv: KV;
  let app: FastifyInstance;
  let url = '';
  const dir = join(tmpdir(), `evaluated-${process.pid}`);

  /** natctl against the API, in-process, with real sleeps; stdin is `input`. */
  const natctl = async (args: string[], input = ''): Promise<{ code: number; out: string; err: string; ms: number }> => {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = { out: (s) => out.push(s), err: (s) => err.push(s), env: { NATFLEET_API_URL: url, NATFLEET_API_TOKEN: TOKEN }, cwd: dir, stdin: async () => input, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
    const t0 = performance.now();
    const code = await run(args, io);
    return { code, out: out.join('\n'), err: err.join('\n'), ms: performance.now() - t0 };
  };
  const rollout = async (): Promise<any> => (await fetch(`${url}/v1/rollout`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
  /** node-a reports that it applied `version` (an enforcer's status put). */
  const reportApplied = async (version: number, digest: string) =>
    putNodeStatus(kv, pendingNodeStatus('node-a', { cluster: CLUSTER, state: 'applied', appliedVersion: version, appliedDigest: digest, appliedAt: new Date().toISOString(), enforcerVersion: 'test' }));

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    keys = new TestKeys();
    compiler = await startCompiler({ etcdEndpoints: etcd.endpoints, natsUrl: nats.url, keys });
    client = new Etcd3({ hosts: etcd.endpoints });
    nc = await connect({ servers: nats.url });
    kv = await openNodesBucket(nc.jetstream(), { bindOnly: true });
    const store = new EtcdStore(client);
    app = await buildApp({
      resources: new ResourceService(store),
      rollout: new RolloutService({ js: nc.jetstream(), jsm: await nc.jetstreamManager(), store, cluster: CLUSTER, silentAfterMs: 30_000, trustedKeys: keys.trusted }),
      tokens: TokenSet.parse(`${TOKEN} write\n`),
      registry: new Registry(),
      readiness: () => ({}),
      logger: pino({ level: 'silent' }),
      bodyLimit: 1024 * 1024,
    });
    // Every answer must match the OpenAPI document (app.close() rejects otherwise).
    checkApiResponses(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await nc?.close();
    client?.close();
    await compiler?.stop();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
    keys?.destroy();
  });

  let v1 = 0;

  it('a write that changes NAT: a bundle of its revision, evaluated at it; the node applies it', async () => {
    const r = await natctl(['apply', '-f', '-'], POOL({}));
    expect(r.code, r.err).toBe(EXIT.OK);
    v1 = Number(/applied at revision (\d+) \(the bundle version that will carry it\)/.exec(r.out)?.[1]);
    expect(v1).toBeGreaterThan(0);
    await waitUntil('bundle v1 published and evaluated', async () => {
      const ro = await rollout();
      return ro.desired?.version === v1 && ro.evaluated?.revision >= v1;
    }, { timeoutMs: 10_000, intervalMs: 20 });
    const ro = await rollout();
    expect(ro.evaluated).toMatchObject({ revision: v1, bundleVersion: v1, bundleDigest: ro.desired.digest });
    await reportApplied(v1, ro.desired.digest);
    expect((await natctl(['rollout', 'status', '--min-version', String(v1)])).code).toBe(EXIT.OK);
  });

  it('disableBGPExport: "nothing to roll out", no new bundle, and rollout status --min-version <its revision> exits 0 within a second', async () => {
    const publishedBefore = await metric(compiler, 'natfleet_compiler_bundles_published_total');
    const apply = await natctl(['apply', '-f', '-'], POOL({ disableBGPExport: true }));
    expect(apply.code, apply.err).toBe(EXIT.OK);
    expect(apply.out).toContain('IPPool/pods: updated');
    expect(apply.out).toMatch(/^no NAT change: nothing to roll out \(stored at revision \d+\)$/m);
    expect(apply.out).not.toContain('the bundle version that will carry it');
    expect(apply.out).not.toContain('follow the rollout');
    const n = Number(/stored at revision (\d+)/.exec(apply.out)![1]);
    expect(n).toBeGreaterThan(v1);

    const status = await natctl(['rollout', 'status', '--watch', '--interval', '50ms', '--timeout', '10s', '--min-version', String(n)]);
    expect(status.code, `${status.out}\n${status.err}`).toBe(EXIT.OK);
    expect(status.ms).toBeLessThan(1_000);
    expect(status.out).toMatch(new RegExp(`^version ${v1} \\(current as of revision \\d+\\): 1/1 node\\(s\\) in sync`));

    // What the API shows, and the signed record behind it on the stream.
    const ro = await rollout();
    expect(ro.desired.version).toBe(v1);
    expect(ro.evaluated.revision).toBeGreaterThanOrEqual(n);
    expect(ro.evaluated.bundleVersion).toBe(v1);
    const stored = await latestEvaluation(await nc.jetstreamManager(), CLUSTER);
    expect(decodeEvaluation(stored!.data, { trustedKeys: keys.trusted })).toMatchObject({ cluster: CLUSTER, bundleVersion: v1 });
    expect(await metric(compiler, 'natfleet_compiler_bundles_published_total')).toBe(publishedBefore);
    expect(await metric(compiler, 'natfleet_compiler_last_evaluated_revision')).toBeGreaterThanOrEqual(n);
    // A revision nobody has evaluated yet is still waited for.
    const future = await natctl(['rollout', 'status', '--watch', '--interval', '20ms', '--timeout', '200ms', '--min-version', String(n + 1_000)]);
    expect(future.code).toBe(EXIT.ROLLOUT_INCOMPLETE);
    expect(future.err).toContain(`version ${n + 1_000} not published yet, nor evaluated (newest published: ${v1}, evaluated through revision`);
  });

  it('explain --node <unknown> is an error naming the known nodes; a known node is explained', async () => {
    const bad = await natctl(['explain', '192.168.1.2', '8.8.8.8', '--node', 'node-typo']);
    expect(bad.code).toBe(EXIT.NOT_FOUND);
    expect(bad.out).toBe('');
    expect(bad.err).toMatch(/^error: unknown node "node-typo": no Node resource is registered and no enforcer reports under that name \(known nodes: .*node-a/);
    const res = await fetch(`${url}/v1/explain`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ src: '192.168.1.2', dst: '8.8.8.8', node: 'node-typo' }) });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('NOT_FOUND');
    const ok = await natctl(['explain', '192.168.1.2', '8.8.8.8', '--node', 'node-a']);
    expect(ok.code, ok.err).toBe(EXIT.OK);
    expect(ok.out).toMatch(/^MASQUERADE \(bundle v\d+\)/);
    expect((await natctl(['explain', '192.168.1.2', '8.8.8.8'])).code).toBe(EXIT.OK);
  });

  it('natctl version: client, server, bundle apiVersion and cluster', async () => {
    const natctlVersion = (JSON.parse(readFileSync(join(REPO_ROOT, 'packages/natctl/package.json'), 'utf8')) as { version: string }).version;
    const apiVersion = (JSON.parse(readFileSync(join(REPO_ROOT, 'services/api/package.json'), 'utf8')) as { version: string }).version;
    const v = await natctl(['version']);
    expect(v.code, v.err).toBe(EXIT.OK);
    expect(v.out).toBe(`Client Version: ${natctlVersion}\nServer Version: ${apiVersion}\nBundle API Version: natfleet.io/v1\nCluster: ${CLUSTER}`);
    const j = await natctl(['version', '-o', 'json']);
    expect(JSON.parse(j.out)).toEqual({ clientVersion: natctlVersion, serverVersion: apiVersion, bundleApiVersion: 'natfleet.io/v1', cluster: CLUSTER });
  });
});
