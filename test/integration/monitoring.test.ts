// Monitoring as operators use it (deploy/monitoring): promtool checks and unit-tests the alert
// rules; the Grafana dashboard and the rules only name metrics natfleet really exports
// (collected from the /metrics of a real natfleet-api and natfleet-compiler process, and the
// enforcer's registry in-process); the API's fleet gauges follow real node statuses in the
// natfleet-nodes KV exactly as GET /v1/rollout counts them; the latency histogram is
// labelled by route pattern, never by raw URL; process metrics keep their standard names
// with a service label. One etcd, one NATS, one compiler, one API.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureBundleStream, openNodesBucket, pendingNodeStatus, putNodeStatus } from '@natfleet/bus';
import { createMetrics, readConntrackStat } from '@natfleet/enforcer';
import { REPO_ROOT, ServiceProcess, freePort, makeTempDir, removeDir, requireBinary, startEtcd, startNats, waitUntil, type EtcdCluster, type NatsCluster } from '@natfleet/testkit';
import { Etcd3 } from 'etcd3';
import { connect, type KV, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CLUSTER, TestKeys, nodeKey, poolJson, poolKey, startCompiler } from './compiler-helpers.js';

const run = promisify(execFile);
const MONITORING = join(REPO_ROOT, 'deploy', 'monitoring');
const TOKEN = 'monitoring-token-0123456789';

/** Metric names in Prometheus text: every `# TYPE` name, histograms and summaries with their series suffixes. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

/** natfleet, process and nodejs metric names a PromQL expression references. */
const referencedNames = (expr: string): string[] => [...expr.matchAll(/\b((?:natfleet|process|nodejs)_[a-zA-Z0-9_:]*)/g)].map((m) => m[1]!);

/** One sample's value from Prometheus text (`name{labels}` exactly as printed, or `name`); undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

describe('monitoring', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let client: Etcd3;
  let nc: NatsConnection;
  let kv: KV;
  let keys: TestKeys;
  let compiler: ServiceProcess;
  let api: ServiceProcess;
  let apiUrl = '';
  const dir = makeTempDir('monitoring');

  const get = async (path: string, auth = true): Promise<Response> => fetch(`${apiUrl}${path}`, { headers: auth ? { authorization: `Bearer ${TOKEN}` } : {}, signal: AbortSignal.timeout(10_000) });
  const apiMetrics = async (): Promise<string> => (await get('/metrics', false)).text();

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    client = new Etcd3({ hosts: etcd.endpoints });
    nc = await connect({ servers: nats.url });
    await ensureBundleStream(await nc.jetstreamManager());
    kv = await openNodesBucket(nc.jetstream());
    keys = new TestKeys();
    await client.put(poolKey('p1')).value(poolJson('p1', '10.70.0.0/16', { natOutgoing: true }));
    compiler = await startCompiler({ etcdEndpoints: etcd.endpoints, natsUrl: nats.url, keys, extraArgs: ['--log-level', 'warn'] });
    writeFileSync(join(dir, 'tokens'), `${TOKEN} read\n`);
    const port = await freePort();
    api = await ServiceProcess.start({
      name: 'api',
      opsPort: port,
      timeoutMs: 30_000,
      args: ['--etcd-endpoints', etcd.endpoints[0]!, '--nats-url', nats.url, '--cluster', CLUSTER, '--token-file', join(dir, 'tokens'), '--port', String(port), '--silent-after', '60s', '--log-level', 'warn'],
    });
    apiUrl = `http://127.0.0.1:${port}`;
  }, 90_000);

  afterAll(async () => {
    await api?.stop();
    await compiler?.stop();
    await nc?.close();
    client?.close();
    keys?.destroy();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
    removeDir(dir);
  });

  it('promtool checks the alert rules and passes their unit tests', async () => {
    const promtool = requireBinary('promtool');
    const check = await run(promtool, ['check', 'rules', join(MONITORING, 'natfleet-alerts.yml')]);
    expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const test = await run(promtool, ['test', 'rules', join(MONITORING, 'natfleet-alerts.test.yml')], { cwd: MONITORING });
    expect(test.stdout).toContain('SUCCESS');
    // Every alert has a unit test in which it fires.
    const alerts = (parseYaml(readFileSync(join(MONITORING, 'natfleet-alerts.yml'), 'utf8')) as { groups: { rules: { alert: string }[] }[] }).groups.flatMap((g) => g.rules.map((r) => r.alert));
    const tests = parseYaml(readFileSync(join(MONITORING, 'natfleet-alerts.test.yml'), 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const fired = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    expect(alerts.filter((a) => !fired.has(a))).toEqual([]);
    expect(alerts).toEqual(expect.arrayContaining(['NatfleetNodeFailed', 'NatfleetNodesBehind', 'NatfleetNodeSilent', 'NatfleetCompilerNoLeader', 'NatfleetResourcesSkipped', 'NatfleetDriftRepairsRising', 'NatfleetConntrackInsertFailures', 'NatfleetRolloutHalted']));
  }, 60_000);

  it('process metrics keep their standard names with a service label, registered once', async () => {
    const apiText = await apiMetrics();
    const compilerText = await (await fetch(`http://127.0.0.1:${compiler.opsPort}/metrics`)).text();
    const enforcerText = await createMetrics({ readConntrack: () => readConntrackStat() }).registry.metrics();
    for (const [service, text] of [['api', apiText], ['compiler', compilerText], ['enforcer', enforcerText]] as const) {
      expect(text, service).toMatch(new RegExp(`^process_resident_memory_bytes\\{service="${service}"\\} \\d+`, 'm'));
      expect(text, service).toMatch(new RegExp(`^nodejs_heap_size_used_bytes\\{service="${service}"\\} \\d+`, 'm'));
      expect(text, service).toMatch(new RegExp(`^process_cpu_seconds_total\\{service="${service}"\\} `, 'm'));
      // No prefixed copy (the API and compiler used natfleet_api_ / natfleet_compiler_ before).
      expect(text, service).not.toMatch(/^natfleet_\w*(process_|nodejs_)/m);
      const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
      expect(types.length - new Set(types).size, `${service}: duplicate metric families`).toBe(0);
    }
    expect(enforcerText).toMatch(/^natfleet_enforcer_conntrack_insert_failed /m);
    expect(enforcerText).toMatch(/^natfleet_enforcer_conntrack_drop /m);
  });

  it('the Grafana dashboard and the alert rules name only metrics natfleet exports, in valid PromQL', async () => {
    const exported = new Set([
      ...exportedNames(await apiMetrics()),
      ...exportedNames(await (await fetch(`http://127.0.0.1:${compiler.opsPort}/metrics`)).text()),
      ...exportedNames(await createMetrics({ readConntrack: () => readConntrackStat() }).registry.metrics()),
    ]);
    const dash = JSON.parse(readFileSync(join(MONITORING, 'natfleet-dashboard.json'), 'utf8')) as { title: string; panels: Panel[] };
    const panels = dash.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(10);
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })));
    const rules = (parseYaml(readFileSync(join(MONITORING, 'natfleet-alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })));
    const missing: string[] = [];
    for (const { where, expr } of [...exprs, ...rules]) {
      const names = referencedNames(expr);
      expect(names.length, `${where} references no natfleet/process metric: ${expr}`).toBeGreaterThan(0);
      for (const n of names) if (!exported.has(n)) missing.push(`${where}: ${n}`);
    }
    expect(missing).toEqual([]);
    // The fleet views the issue asks for are on the board.
    const all = exprs.map((e) => e.expr).join('\n');
    for (const n of ['natfleet_fleet_nodes', 'natfleet_fleet_desired_version', 'natfleet_fleet_seconds_since_complete_rollout', 'natfleet_enforcer_apply_seconds_bucket', 'natfleet_enforcer_drift_repairs_total', 'natfleet_api_request_duration_seconds_bucket']) expect(all).toContain(n);
    // The panels' PromQL parses: promtool checks them as recording rules (Grafana variables replaced).
    const asRules = { groups: [{ name: 'dashboard', rules: exprs.map((e, i) => ({ record: `natfleet_dashboard:expr_${i}`, expr: e.expr.replaceAll('$api_job', '.+').replaceAll('$service', '.+') })) }] };
    const file = join(dir, 'dashboard-exprs.yml');
    writeFileSync(file, JSON.stringify(asRules));
    const check = await run(requireBinary('promtool'), ['check', 'rules', file]);
    expect(check.stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
  }, 30_000);

  it('fleet gauges follow node statuses as GET /v1/rollout counts them; seconds since complete is 0 only while complete', async () => {
    // The compiler publishes the pool: that bundle is the desired version.
    let desired = 0;
    await waitUntil('a desired version', async () => {
      const r = (await (await get('/v1/rollout')).json()) as { desired: { version: number } | null };
      desired = r.desired?.version ?? 0;
      return desired > 0;
    }, { timeoutMs: 20_000, intervalMs: 100 });
    const now = (): string => new Date().toISOString();
    const status = (node: string, over: Parameters<typeof pendingNodeStatus>[1]) => putNodeStatus(kv, pendingNodeStatus(node, { cluster: CLUSTER, heartbeatAt: now(), ...over }));
    await status('m-sync', { state: 'applied', appliedVersion: desired });
    await status('m-behind', { state: 'applied', appliedVersion: 1 });
    await status('m-failed', { state: 'failed', appliedVersion: 1, failedVersion: desired, errorCode: 'NFT_KERNEL', error: 'boom' });
    // Registered in etcd, never reported: expected and silent.
    await client.put(nodeKey('m-silent')).value(JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'm-silent' }, spec: {} }));

    const fleet = async (): Promise<Record<string, number | undefined>> => {
      const t = await apiMetrics();
      return {
        in_sync: sample(t, 'natfleet_fleet_nodes{status="in_sync"}'),
        behind: sample(t, 'natfleet_fleet_nodes{status="behind"}'),
        failed: sample(t, 'natfleet_fleet_nodes{status="failed"}'),
        silent: sample(t, 'natfleet_fleet_nodes{status="silent"}'),
        desired: sample(t, 'natfleet_fleet_desired_version'),
        complete: sample(t, 'natfleet_fleet_rollout_complete'),
        since: sample(t, 'natfleet_fleet_seconds_since_complete_rollout'),
        ok: sample(t, 'natfleet_fleet_view_ok'),
      };
    };
    let m: Record<string, number | undefined> = {};
    // Scrapes within a second share one view: poll until the statuses written above show.
    await waitUntil('the statuses in the gauges', async () => {
      m = await fleet();
      return m.in_sync === 1 && m.behind === 1 && m.failed === 1 && m.silent === 1;
    }, { timeoutMs: 15_000, intervalMs: 300 });
    expect(m).toMatchObject({ desired, complete: 0, ok: 1 });
    expect(m.since).toBeGreaterThan(0);
    const view = (await (await get('/v1/rollout')).json()) as { summary: { inSync: number; behind: number; failed: number; silent: number }; complete: boolean };
    expect(view.summary).toMatchObject({ inSync: m.in_sync, behind: m.behind, failed: m.failed, silent: m.silent });
    expect(view.complete).toBe(false);

    // Every node catches up: complete, and 0 seconds since.
    for (const n of ['m-behind', 'm-failed', 'm-silent']) await status(n, { state: 'applied', appliedVersion: desired });
    await waitUntil('a complete rollout in the gauges', async () => {
      m = await fleet();
      return m.complete === 1;
    }, { timeoutMs: 15_000, intervalMs: 300 });
    expect(m).toMatchObject({ in_sync: 4, behind: 0, failed: 0, silent: 0, since: 0 });
    const completeAt = Date.now();

    // One node fails again: the seconds count from the last complete view, not from start.
    await status('m-failed', { state: 'failed', appliedVersion: desired, failedVersion: desired, errorCode: 'NFT_KERNEL', error: 'boom again' });
    await waitUntil('the failure in the gauges', async () => {
      m = await fleet();
      return m.failed === 1 && m.complete === 0;
    }, { timeoutMs: 15_000, intervalMs: 300 });
    await new Promise((r) => setTimeout(r, 1_200));
    m = await fleet();
    expect(m.since).toBeGreaterThan(0);
    expect(m.since!).toBeLessThanOrEqual((Date.now() - completeAt) / 1_000 + 2);
  }, 60_000);

  it('the latency histogram is labelled by route pattern, never by raw URL', async () => {
    expect((await get('/v1/ippools/p1')).status).toBe(200);
    expect((await get('/v1/ippools/no-such-pool-4711')).status).toBe(404);
    expect((await get('/v1/rollout')).status).toBe(200);
    expect((await get('/no/such/path-4711')).status).toBe(404);
    const text = await apiMetrics();
    const count = (labels: string): number | undefined => sample(text, `natfleet_api_request_duration_seconds_count{${labels}}`);
    expect(count('method="GET",route="/v1/:plural/:name",status_code="200"')).toBeGreaterThanOrEqual(1);
    expect(count('method="GET",route="/v1/:plural/:name",status_code="404"')).toBeGreaterThanOrEqual(1);
    expect(count('method="GET",route="/v1/rollout",status_code="200"')).toBeGreaterThanOrEqual(1);
    expect(count('method="GET",route="unmatched",status_code="404"')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'natfleet_api_request_duration_seconds_bucket{le="+Inf",method="GET",route="/v1/rollout",status_code="200"}')).toBe(count('method="GET",route="/v1/rollout",status_code="200"'));
    // No label carries the raw paths (a sample value may contain these digits by chance: look at labels only).
    expect(text.split('\n').filter((l) => /\{[^}]*4711/.test(l))).toEqual([]);
    expect(text).not.toContain('route="/v1/ippools');
    const routes = new Set([...text.matchAll(/natfleet_api_request_duration_seconds_count\{[^}]*route="([^"]*)"/g)].map((x) => x[1]!));
    for (const r of routes) expect(r === 'unmatched' || r.startsWith('/'), r).toBe(true);
  });
});
