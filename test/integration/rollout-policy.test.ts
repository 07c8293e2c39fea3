// RolloutPolicy through the API (in-process, real etcd and NATS): create/get/replace/
// apply/delete, 422 with every issue, 409 on a stale resourceVersion and on create of an
// existing policy, and that nothing lands under Calico's prefix — the compiler's input is
// untouched (it reads only <calico prefix>/).
import { startEtcd, startNats, type EtcdCluster, type NatsCluster } from '@natfleet/testkit';
import { ensureBundleStream, openNodesBucket } from '@natfleet/bus';
import { Etcd3 } from 'etcd3';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApi, natctlAgainst, type TestApi } from './api-harness.js';

const TOKEN = 'write-token-rollout-policy-0123';
const policy = (name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = {}) => ({ apiVersion: 'natfleet.io/v1', kind: 'RolloutPolicy', metadata: { name, ...meta }, spec });
const SPEC = { waves: [{ name: 'canary', selector: "rack == 'r1'", bake: '5m' }, { percent: 100, bake: '1m' }] };

describe('RolloutPolicy API against real etcd', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let client: Etcd3;
  let nc: NatsConnection;
  let api: TestApi;

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    client = new Etcd3({ hosts: etcd.endpoints });
    nc = await connect({ servers: nats.url });
    await ensureBundleStream(await nc.jetstreamManager());
    await openNodesBucket(nc.jetstream());
    api = await buildTestApi({ etcd: client, js: nc.jetstream(), jsm: await nc.jetstreamManager(), cluster: 'default', tokens: `${TOKEN} write\n` });
  });
  afterAll(async () => {
    await api?.app.close();
    await nc?.close();
    client?.close();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
  });

  const call = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, type = 'application/json') => {
    const res = await api.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': type } : {}) },
      ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    return { status: res.statusCode, body: res.json() as any };
  };

  it('create, get, list, replace, apply, delete — under /natfleet/v1, never Calico’s prefix', async () => {
    const calicoBefore = await api.store.snapshot();

    const created = await call('POST', '/v1/rolloutpolicies', policy('staged', SPEC));
    expect(created.status).toBe(201);
    expect(created.body.changes).toEqual([{ kind: 'RolloutPolicy', name: 'staged', action: 'created', resourceVersion: String(created.body.revision) }]);

    const got = await call('GET', '/v1/rolloutpolicies/staged');
    expect(got.status).toBe(200);
    expect(got.body.metadata.resourceVersion).toBe(String(created.body.revision));
    expect(typeof got.body.metadata.uid).toBe('string');
    expect(got.body.spec).toEqual({
      waves: [{ name: 'canary', selector: "rack == 'r1'", bake: '5m' }, { name: 'wave-2', percent: 100, bake: '1m' }],
      gates: { ack: true, noNack: true },
      onFailure: 'rollback',
      progressDeadline: '10m',
    });

    const raw = await client.get('/natfleet/v1/rolloutpolicies/staged').string();
    expect(raw).not.toBeNull();
    expect(JSON.parse(raw!).metadata.resourceVersion).toBeUndefined(); // the mod revision, never stored

    // The compiler's input (everything under Calico's prefix) did not change.
    const calicoAfter = await api.store.snapshot();
    expect(calicoAfter.entries).toEqual(calicoBefore.entries);
    expect(calicoAfter.entries.some((e) => e.key.includes('rolloutpolic'))).toBe(false);

    // Create again: 409. YAML body: accepted.
    expect((await call('POST', '/v1/rolloutpolicies', policy('staged', SPEC))).status).toBe(409);
    const yaml = 'apiVersion: natfleet.io/v1\nkind: RolloutPolicy\nmetadata: {name: second}\nspec:\n  waves:\n    - percent: 10\n      bake: 30s\n';
    expect((await call('POST', '/v1/rolloutpolicies', yaml, 'application/yaml')).status).toBe(201);
    const list = await call('GET', '/v1/rolloutpolicies');
    expect(list.body.kind).toBe('RolloutPolicyList');
    expect(list.body.items.map((i: any) => i.metadata.name)).toEqual(['second', 'staged']);

    // Replace with the current resourceVersion; then the old one is stale: 409, nothing written.
    const rv = got.body.metadata.resourceVersion as string;
    const replaced = await call('PUT', '/v1/rolloutpolicies/staged', policy('staged', { ...SPEC, onFailure: 'halt' }, { resourceVersion: rv }));
    expect(replaced.status).toBe(200);
    expect(replaced.body.changes[0].action).toBe('updated');
    const stale = await call('PUT', '/v1/rolloutpolicies/staged', policy('staged', { ...SPEC, onFailure: 'rollback' }, { resourceVersion: rv }));
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe('CONFLICT');
    const now = await call('GET', '/v1/rolloutpolicies/staged');
    expect(now.body.spec.onFailure).toBe('halt');
    expect(now.body.metadata.uid).toBe(got.body.metadata.uid); // kept on update

    // Same content again: unchanged, no write.
    const same = await call('PUT', '/v1/rolloutpolicies/staged', policy('staged', { ...SPEC, onFailure: 'halt' }));
    expect(same.body.changes[0].action).toBe('unchanged');

    // Replace of a missing one: 404; apply creates it.
    expect((await call('PUT', '/v1/rolloutpolicies/third', policy('third', SPEC))).status).toBe(404);
    expect((await call('PUT', '/v1/rolloutpolicies/third?apply=true', policy('third', SPEC))).body.changes[0].action).toBe('created');

    // Delete: stale resourceVersion 409, then deleted, then 404.
    expect((await call('DELETE', `/v1/rolloutpolicies/staged?resourceVersion=${rv}`)).status).toBe(409);
    const del = await call('DELETE', '/v1/rolloutpolicies/staged');
    expect(del.status).toBe(200);
    expect(del.body.changes).toEqual([{ kind: 'RolloutPolicy', name: 'staged', action: 'deleted' }]);
    expect((await call('GET', '/v1/rolloutpolicies/staged')).status).toBe(404);

    expect((await api.store.snapshot()).entries).toEqual(calicoBefore.entries);
  });

  it('422 lists every issue with its path; nothing is written', async () => {
    const r = await call('POST', '/v1/rolloutpolicies', policy('bad', { waves: [{ selectr: 'all()', bake: 'soon' }, { selector: "a == 'x' &&", bake: '1m' }], onFailure: 'panic' }));
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('VALIDATION_FAILED');
    expect(r.body.issues.map((i: any) => [i.path, i.reason])).toEqual([
      ['spec.waves[0].selectr', 'unknown field (did you mean selector?)'],
      ['spec.onFailure', 'must be one of halt, rollback (got "panic")'],
      ['spec.waves[0]', 'needs a selector, a percent, or both'],
      ['spec.waves[0].bake', 'must be a duration such as 30s, 5m or 1h (got "soon")'],
      ['spec.waves[1].selector', expect.stringMatching(/^invalid selector: at position 11: /)],
    ]);
    expect((await call('GET', '/v1/rolloutpolicies/bad')).status).toBe(404);
    // A create carrying a resourceVersion is refused too; a Calico kind in the body is a 400.
    expect((await call('POST', '/v1/rolloutpolicies', policy('rv', SPEC, { resourceVersion: '5' }))).status).toBe(422);
    expect((await call('POST', '/v1/rolloutpolicies', { ...policy('k', SPEC), kind: 'IPPool' })).status).toBe(400);
  });

  it('natctl apply -f / get rolloutpolicies', async () => {
    await api.listen();
    const natctl = natctlAgainst(() => api.url, TOKEN);
    const file = 'apiVersion: natfleet.io/v1\nkind: RolloutPolicy\nmetadata: {name: cli}\nspec:\n  waves:\n    - {name: canary, selector: "rack == \'r1\'", bake: 5m}\n    - {percent: 100, bake: 1m}\n';
    const applied = await natctl(['apply', '-f', '-'], file);
    expect(applied).toMatchObject({ code: 0 });
    expect(applied.out).toContain('RolloutPolicy/cli: created');
    expect(applied.out).toContain('the next NAT change rolls out in these waves');
    expect((await natctl(['apply', '-f', '-'], file)).out).toContain('RolloutPolicy/cli: unchanged');
    expect((await natctl(['create', '-f', '-'], file)).code).toBe(3);

    const table = await natctl(['get', 'rolloutpolicies']);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^NAME\s+WAVES\s+ON-FAILURE\s+PROGRESS-DEADLINE/);
    expect(table.out).toMatch(/^cli\s+canary\(rack == 'r1', bake 5m\) → wave-2\(100%, bake 1m\)\s+rollback\s+10m$/m);
    const yaml = await natctl(['get', 'rolloutpolicy', 'cli', '-o', 'yaml']);
    expect(yaml.out).toContain('kind: RolloutPolicy');
    // get -o yaml applies back unchanged (resourceVersion matches).
    expect((await natctl(['apply', '-f', '-'], yaml.out)).out).toContain('RolloutPolicy/cli: unchanged');

    const bad = await natctl(['apply', '-f', '-'], file.replace('bake: 5m', 'bak: 5m'));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('spec.waves[0].bak: unknown field (did you mean bake?)');
    const mixed = await natctl(['apply', '-f', '-'], `${file}---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.9.0.0/16}\n`);
    expect(mixed.code).toBe(2);
    expect(mixed.err).toContain('mixes RolloutPolicy with Calico resources');
  });

  it('is in the OpenAPI document', async () => {
    const doc = await call('GET', '/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/rolloutpolicies', '/v1/rolloutpolicies/{name}']));
  });
});
