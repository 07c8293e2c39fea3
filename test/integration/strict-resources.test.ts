// Strict, Calico-exact resources end to end, against real etcd, NATS and a real compiler
// process, with natctl driving an API listening on a random loopback port:
//   - a typo through the API is a 422 naming the field and the suggestion; nothing stored;
//   - `--validate=warn` stores it and shows the warning;
//   - the same typo written with etcdctl is compiled (leniently, as Calico's components
//     read etcd), warned in the bundle, the log and the metric, and shown in natctl get's
//     STATUS column;
//   - calicoctl's server-side metadata rules: create refuses resourceVersion, apply of a
//     missing resource ignores resourceVersion/uid/creationTimestamp, a stale one on an
//     existing resource is a 409 with nothing written;
//   - `natctl get -o yaml | natctl apply -f -` restores everything into an empty store,
//     and changes nothing against the same store.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '@natfleet/natctl';
import { startEtcd, startNats, waitUntil, type EtcdCluster, type NatsCluster, type ServiceProcess } from '@natfleet/testkit';
import { Etcd3 } from 'etcd3';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApi, natctlAgainst, type TestApi } from './api-harness.js';
import { BundleWatch, CLUSTER, PREFIX, TestKeys, metric, poolKey, startCompiler } from './compiler-helpers.js';

const WRITE = 'strict-write-token-0123456789';

describe('strict resources end to end', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let client: Etcd3;
  let nc: NatsConnection;
  let api: TestApi;
  let apiUrl: string;
  let keys: TestKeys;
  let compiler: ServiceProcess;
  let watch: BundleWatch;
  const dir = mkdtempSync(join(tmpdir(), 'natfleet-strict-'));

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    keys = new TestKeys();
    // info level: the 200 output lines kept must still hold the warning line when it is checked.
    compiler = await startCompiler({ etcdEndpoints: etcd.endpoints, natsUrl: nats.url, keys, extraArgs: ['--log-level', 'info'] });
    watch = await BundleWatch.open(nats.url, keys.trusted);
    client = new Etcd3({ hosts: etcd.endpoints });
    nc = await connect({ servers: nats.url });
    api = await buildTestApi({ etcd: client, js: nc.jetstream(), jsm: await nc.jetstreamManager(), cluster: CLUSTER, tokens: `${WRITE} write
` });
    apiUrl = await api.listen();
  }, 120_000);

  afterAll(async () => {
    await api?.app.close();
    await watch?.close();
    await nc?.close();
    client?.close();
    await compiler?.stop();
    keys?.destroy();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
  }, 60_000);

  /** Runs natctl in-process against the API; stdin is `input`. */
  const natctl = natctlAgainst(() => apiUrl, WRITE);
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const stored = async (name: string): Promise<string | null> => client.get(poolKey(name)).string();
  const wipe = async (): Promise<void> => {
    await client.delete().prefix(`${PREFIX}/ippools/`);
    await client.delete().prefix(`${PREFIX}/felixconfigurations/`);
  };

  it('a typo through the API is a 422 naming the field and the fix; nothing is stored', async () => {
    const f = file('typo.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: typo}\nspec: {cidr: 10.70.0.0/16, natOutgoign: true}\n');
    const r = await natctl(['apply', '-f', f]);
    expect(r.code).toBe(EXIT.INVALID);
    expect(r.err).toContain('IPPool/typo spec.natOutgoign: unknown field (did you mean natOutgoing?)');
    expect(await stored('typo')).toBeNull();

    const felix = file('felix-typo.yaml', 'apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\nspec: {natOutgoingAdress: 192.0.2.1}\n');
    const f2 = await natctl(['apply', '-f', felix]);
    expect(f2.code).toBe(EXIT.INVALID);
    expect(f2.err).toContain('spec.natOutgoingAdress: unknown field (did you mean natOutgoingAddress?)');

    const v1 = file('v1.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: v1, natOutgoing: true}\nspec: {cidr: 10.71.0.0/16, nat-outgoing: true}\n');
    const r3 = await natctl(['create', '-f', v1]);
    expect(r3.code).toBe(EXIT.INVALID);
    expect(r3.err).toContain("spec.nat-outgoing: Calico's deprecated v1 field");
    expect(r3.err).toContain('metadata.natOutgoing: unknown field here: natOutgoing belongs at spec.natOutgoing');
    expect(await stored('v1')).toBeNull();

    // natctl validate (offline) says the same.
    const v = await natctl(['validate', '-f', f]);
    expect(v.code).toBe(EXIT.INVALID);
    expect(v.err).toContain('did you mean natOutgoing?');
  });

  it('--validate=warn stores the resource with the unknown field and shows the warning', async () => {
    const f = file('warn.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: warned}\nspec: {cidr: 10.72.0.0/16, natOutgoign: true}\n');
    const r = await natctl(['apply', '--validate=warn', '-f', f]);
    expect(r.code, r.err).toBe(EXIT.OK);
    expect(r.out).toContain('warning: IPPool/warned spec.natOutgoign: unknown field (did you mean natOutgoing?)');
    expect(JSON.parse((await stored('warned'))!).spec.natOutgoign).toBe(true);
    const bad = await natctl(['apply', '--validate=sometimes', '-f', f]);
    expect(bad.code).not.toBe(EXIT.OK);
    await wipe();
  });

  it('a typo written with etcdctl is compiled, warned in the bundle, log and metric, and shown in natctl get', async () => {
    await etcd.etcdctl(['put', poolKey('etcd-typo'), JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'etcd-typo' }, spec: { cidr: '10.73.0.0/16', natOutgoign: true } })]);
    await etcd.etcdctl(['put', poolKey('good'), JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'good' }, spec: { cidr: '10.74.0.0/16', natOutgoing: true } })]);
    await etcd.etcdctl(['put', poolKey('inner'), JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'inner' }, spec: { cidr: '10.74.8.0/24', natOutgoing: false } })]);
    await etcd.etcdctl(['put', poolKey('broken'), JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'broken' }, spec: { cidr: '10.75.0.1/16' } })]);
    const b = await watch.waitFor('bundle with the etcdctl pools', (x) => x.warnings.some((w) => w.key === poolKey('etcd-typo')) && x.warnings.some((w) => w.key === poolKey('broken')));
    const w = b.warnings.find((x) => x.key === poolKey('etcd-typo'))!;
    expect(w.code).toBe('UNKNOWN_FIELD');
    expect(w.reason).toBe('spec.natOutgoign: unknown field (did you mean natOutgoing?)');
    // Compiled, leniently: the pool's range is internal (noNat), and NAT stays off for it, as in Calico.
    expect(b.fleet.v4.noNat).toContain('10.73.0.0/16');
    expect(b.fleet.v4.masquerade).not.toContain('10.73.0.0/16');
    await waitUntil('UNKNOWN_FIELD counted', async () => (await metric(compiler, 'natfleet_compiler_skipped_resources_total', 'code="UNKNOWN_FIELD"')) >= 1, { timeoutMs: 15_000 });
    await compiler.proc.waitForLine(/"code":"UNKNOWN_FIELD".*etcd-typo|etcd-typo.*"code":"UNKNOWN_FIELD"/, 15_000);

    const g = await natctl(['get', 'ippools']);
    expect(g.code, g.err).toBe(EXIT.OK);
    const line = (name: string): string => g.out.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
    expect(g.out.split('\n')[0]).toMatch(/^NAME\s+CIDR\s+SELECTOR\s+STATUS$/);
    expect(line('etcd-typo')).toMatch(/Active; Unknown fields: spec\.natOutgoign$/);
    expect(line('good')).toMatch(/Active; Shadowed by inner$/);
    expect(line('inner')).toMatch(/Active; Inside good \(longest prefix wins\)$/);
    expect(line('broken')).toMatch(/Skipped: spec\.cidr: not strictly masked: host bits set; did you mean 10\.75\.0\.0\/16$/);
    await wipe();
  }, 60_000);

  it('create refuses a resourceVersion; apply of a missing resource ignores server-side metadata; a stale one on an existing resource is 409', async () => {
    const withMeta = (rv: string) =>
      `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: meta, resourceVersion: "${rv}", uid: 0b0b0b0b-aaaa-bbbb-cccc-000000000000, creationTimestamp: "2020-01-01T00:00:00Z"}\nspec: {cidr: 10.76.0.0/16}\n`;
    const c = await natctl(['create', '-f', file('rv.yaml', withMeta('12'))]);
    expect(c.code).toBe(EXIT.INVALID);
    expect(c.err).toContain('metadata.resourceVersion: must not be set on create');
    expect(await stored('meta')).toBeNull();

    const a = await natctl(['apply', '-f', file('rv2.yaml', withMeta('99999'))]);
    expect(a.code, a.err).toBe(EXIT.OK);
    const saved = JSON.parse((await stored('meta'))!);
    expect(saved.metadata.uid).not.toBe('0b0b0b0b-aaaa-bbbb-cccc-000000000000');
    expect(saved.metadata.creationTimestamp).not.toBe('2020-01-01T00:00:00Z');
    expect(saved.metadata.resourceVersion).toBeUndefined();

    const before = await stored('meta');
    const stale = await natctl(['apply', '-f', file('rv3.yaml', withMeta('1').replace('10.76.0.0/16}', '10.76.0.0/16, natOutgoing: true}'))]);
    expect(stale.code).toBe(EXIT.CONFLICT);
    expect(await stored('meta')).toBe(before);
    const rep = await natctl(['replace', '-f', file('rv4.yaml', withMeta('1').replace('10.76.0.0/16}', '10.76.0.0/16, natOutgoing: true}'))]);
    expect(rep.code).toBe(EXIT.CONFLICT);
    expect(await stored('meta')).toBe(before);
    await wipe();
  });

  it('every problem at once across phases, and server-side metadata as calicoctl keeps it', async () => {
    expect((await natctl(['apply', '-f', file('m1.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: meta2}\nspec: {cidr: 10.77.0.0/16}\n')])).code).toBe(EXIT.OK);
    // A changed cidr (update rule) and a typo (decode rule) in one request: both listed.
    const both = await natctl(['apply', '-f', file('m2.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: meta2}\nspec: {cidr: 10.78.0.0/16, natOutgoign: true}\n')]);
    expect(both.code).toBe(EXIT.INVALID);
    expect(both.err).toContain('spec.natOutgoign: unknown field');
    expect(both.err).toContain('spec.cidr: cannot be changed on update');
    // Someone (another tool) stored ownerReferences; an update through natfleet keeps them and takes only labels/annotations.
    const prev = JSON.parse((await stored('meta2'))!);
    await etcd.etcdctl(['put', poolKey('meta2'), JSON.stringify({ ...prev, metadata: { ...prev.metadata, ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'o', uid: 'u' }] } })]);
    const upd = await natctl(['apply', '-f', file('m3.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: meta2, labels: {team: a}, generation: 7, finalizers: [x]}\nspec: {cidr: 10.77.0.0/16, natOutgoing: true}\n')]);
    expect(upd.code, upd.err).toBe(EXIT.OK);
    const after = JSON.parse((await stored('meta2'))!).metadata;
    expect(after.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'X', name: 'o', uid: 'u' }]);
    expect(after.labels).toEqual({ team: 'a' });
    expect(after.generation).toBeUndefined();
    expect(after.finalizers).toBeUndefined();
    expect(after.uid).toBe(prev.metadata.uid);
    // A new resource keeps only name, labels and annotations from the request.
    expect((await natctl(['apply', '-f', file('m4.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: meta3, generation: 3, ownerReferences: [{apiVersion: v1, kind: X, name: o, uid: u}], annotations: {a: b}}\nspec: {cidr: 10.79.0.0/16}\n')])).code).toBe(EXIT.OK);
    expect(Object.keys(JSON.parse((await stored('meta3'))!).metadata).sort()).toEqual(['annotations', 'creationTimestamp', 'name', 'uid']);
    // NatOutgoing (letter case) is natOutgoing, as calicoctl reads it: a pool WITH NAT, and a warning.
    const cased = await natctl(['apply', '-f', file('m5.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: cased}\nspec: {cidr: 10.81.0.0/16, NatOutgoing: true}\n')]);
    expect(cased.code, cased.err).toBe(EXIT.OK);
    expect(cased.out).toContain('warning: IPPool/cased spec.NatOutgoing: read as natOutgoing');
    expect(JSON.parse((await stored('cased'))!).spec).toMatchObject({ natOutgoing: true });
    await wipe();
  });

  it('get -o yaml | apply -f - restores everything into an empty store, and changes nothing against the same store', async () => {
    const seed = [
      'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: backup-a, labels: {team: net}, annotations: {note: keep}}\nspec: {cidr: 10.80.0.0/16, natOutgoing: true}',
      'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: backup-b}\nspec: {cidr: 10.81.0.0/16, disabled: true, nodeSelector: "zone in {\'a\', \'b\'} && !has(edge)"}',
      'apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\nspec: {natPortRange: "32768:65535", natOutgoingExclusions: IPPoolsAndHostIPs}',
    ].join('\n---\n');
    expect((await natctl(['apply', '-f', file('seed.yaml', seed)])).code).toBe(EXIT.OK);
    const pools = await natctl(['get', 'ippools', '-o', 'yaml']);
    const felix = await natctl(['get', 'felixconfigurations', '-o', 'yaml']);
    const backup = `${pools.out}\n---\n${felix.out}\n`;
    expect(backup).toContain('resourceVersion');
    expect(backup).toContain('uid');

    // Same store: nothing changes (resourceVersions are current).
    const same = await natctl(['apply', '-f', '-'], backup);
    expect(same.code, same.err).toBe(EXIT.OK);
    expect(same.out).toMatch(/IPPool\/backup-a: unchanged/);
    expect(same.out).toMatch(/IPPool\/backup-b: unchanged/);
    expect(same.out).toMatch(/FelixConfiguration\/default: unchanged/);
    expect(same.out).toContain('NAT sets: no change');

    // Empty store: everything comes back.
    const specsBefore = (await natctl(['get', 'ippools', '-o', 'json'])).out;
    await wipe();
    const restore = await natctl(['apply', '-f', '-'], backup);
    expect(restore.code, restore.err).toBe(EXIT.OK);
    expect(restore.out).toMatch(/IPPool\/backup-a: created/);
    expect(restore.out).toMatch(/FelixConfiguration\/default: created/);
    const specs = (s: string) => JSON.parse(s).items.map((i: any) => ({ name: i.metadata.name, labels: i.metadata.labels, annotations: i.metadata.annotations, spec: i.spec }));
    expect(specs((await natctl(['get', 'ippools', '-o', 'json'])).out)).toEqual(specs(specsBefore));
    await wipe();
  });

  it('typo probes for every NAT field: 422 through the API with nothing stored; via etcdctl compiled, warned and shown in get', async () => {
    const swap = (f: string): string => {
      const m = Math.floor(f.length / 2);
      return f.slice(0, m - 1) + f[m]! + f[m - 1]! + f.slice(m + 1);
    };
    const poolFields: Record<string, unknown> = { natOutgoing: true, disabled: true, allowedUses: ['Workload'], blockSize: 24, ipipMode: 'Always', vxlanMode: 'Never', nodeSelector: 'all()', disableBGPExport: true, assignmentMode: 'Manual', namespaceSelector: "a == 'b'" };
    const felixFields: Record<string, unknown> = { natOutgoingAddress: '192.0.2.1', natPortRange: '1024:2048', natOutgoingExclusions: 'IPPoolsAndHostIPs', iptablesNATOutgoingInterfaceFilter: 'eth+', natOutgoingInterfaceFilter: 'eth*', natOutgoingFullyRandom: false };
    const send = async (doc: Record<string, unknown>) => {
      const res = await fetch(`${apiUrl}/v1/resources?mode=apply`, { method: 'POST', headers: { authorization: `Bearer ${WRITE}`, 'content-type': 'application/json' }, body: JSON.stringify(doc) });
      return { status: res.status, body: (await res.json()) as any };
    };
    const before = (await client.getAll().prefix(PREFIX).keys()).length;
    let i = 0;
    for (const [kind, fields] of [['IPPool', poolFields], ['FelixConfiguration', felixFields]] as const) {
      for (const [field, value] of Object.entries(fields)) {
        const typo = swap(field);
        const name = kind === 'IPPool' ? `probe-${i}` : 'default';
        const spec = kind === 'IPPool' ? { cidr: `10.${100 + 2 * i}.0.0/16`, [typo]: value } : { [typo]: value };
        const r = await send({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec });
        expect(r.status, `${kind} ${typo}`).toBe(422);
        expect(r.body.issues, `${kind} ${typo}`).toEqual([expect.objectContaining({ path: `spec.${typo}`, reason: `unknown field (did you mean ${field}?)` })]);
        // The same typo written with etcdctl behind the API's back.
        const etcdName = kind === 'IPPool' ? name : `node.probe-${i}`;
        const key = `${PREFIX}/${kind === 'IPPool' ? 'ippools' : 'felixconfigurations'}/${etcdName}`;
        await etcd.etcdctl(['put', key, JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name: etcdName }, spec })]);
        i++;
      }
    }
    expect((await client.getAll().prefix(PREFIX).keys()).length).toBe(before + i); // only the etcdctl writes landed
    const n = i;
    const b = await watch.waitFor('every probe warned', (x) => x.warnings.filter((w) => w.code === 'UNKNOWN_FIELD').length >= n);
    const probes = b.warnings.filter((w) => w.code === 'UNKNOWN_FIELD' && /probe-\d+$/.test(w.key));
    expect(probes).toHaveLength(n);
    for (const w of probes) expect(w.reason).toMatch(/^spec\.\S+: unknown field \(did you mean \w+\?\)$/);
    // Still compiled: each probe pool's range is in the bundle.
    for (let k = 0; k < Object.keys(poolFields).length; k++) expect(b.fleet.v4.noNat, `probe-${k}`).toContain(`10.${100 + 2 * k}.0.0/16`); // spaced: adjacent /16s would merge
    const g = await natctl(['get', 'ippools']);
    expect(g.out.split('\n').filter((l) => /^probe-\d+ .*Unknown fields: spec\./.test(l))).toHaveLength(Object.keys(poolFields).length);
    const gf = await natctl(['get', 'felixconfigurations']);
    expect(gf.out.split('\n').filter((l) => /^node\.probe-\d+ .*Unknown fields: spec\./.test(l))).toHaveLength(Object.keys(felixFields).length);
    await wipe();
  }, 90_000);

  it('deletes name their targets with strings only; a node called "constructor" is just a name (from review)', async () => {
    expect((await natctl(['apply', '-f', file('del.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: b}\nspec: {cidr: 10.95.0.0/16}\n')])).code).toBe(EXIT.OK);
    const del = async (body: unknown) => {
      const res = await fetch(`${apiUrl}/v1/resources/delete`, { method: 'POST', headers: { authorization: `Bearer ${WRITE}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as any };
    };
    const arr = await del({ kind: ['IPPool'], metadata: { name: ['b'] } });
    expect(arr.status).toBe(422);
    expect(arr.body.issues.map((i: any) => i.path)).toEqual(['kind', 'metadata.name']);
    expect((await del({ kind: { toString: 1 }, metadata: { name: 'b' } })).status).toBe(422);
    expect((await del({ kind: 'IPPool', metadata: { name: 'b', resourceVersion: { a: 1 } } })).status).toBe(422);
    expect(await stored('b')).not.toBeNull();
    const ctor = await natctl(['apply', '-f', file('ctor.yaml', 'apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: node.constructor}\nspec: {natPortRange: "1024:2048"}\n')]);
    expect(ctor.code, ctor.err).toBe(EXIT.OK);
    expect((await natctl(['delete', 'felixconfiguration', 'node.constructor'])).code).toBe(EXIT.OK);
    await wipe();
  });

  it('the API answers 422 for typos on every write path, and ?validate=warn is explicit', async () => {
    const body = JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'direct' }, spec: { cidr: '10.90.0.0/16', natOutgoign: true } });
    const post = async (url: string, method = 'POST') => {
      const res = await fetch(`${apiUrl}${url}`, { method, headers: { authorization: `Bearer ${WRITE}`, 'content-type': 'application/json' }, body });
      return { status: res.status, body: (await res.json()) as any };
    };
    for (const [url, method] of [['/v1/ippools', 'POST'], ['/v1/resources?mode=apply', 'POST'], ['/v1/resources?mode=create&dryRun=true', 'POST']] as const) {
      const r = await post(url, method);
      expect(r.status, url).toBe(422);
      expect(r.body.issues[0]).toMatchObject({ path: 'spec.natOutgoign', reason: 'unknown field (did you mean natOutgoing?)' });
    }
    expect((await post('/v1/ippools?validate=bogus')).status).toBe(400);
    expect(await stored('direct')).toBeNull();
    const w = await post('/v1/ippools?validate=warn');
    expect(w.status).toBe(201);
    expect(w.body.warnings[0]).toMatchObject({ path: 'spec.natOutgoign' });
    await wipe();
  });
});
