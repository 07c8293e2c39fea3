// Safe history and rollback end to end, against real etcd, NATS and a real compiler
// process, with natctl driving an API listening on a random loopback port:
//   - natctl history's CHANGE column names the token of an API write ("alice", or the role
//     for an unnamed token), "etcdctl" for a write behind the API's back, and "rollback of
//     vN" for a rollback; --version N shows the set and settings diff and the warnings;
//   - rollback only to a version in history: `rollback --to 1` (never a bundle: it would
//     wipe every pool) is refused and nothing is written; --force takes a revision;
//   - confirmation: refused without a terminal (exit 2), declined on one (exit 1), accepted
//     with y or --yes; a change between the preview and the answer is a 409;
//   - the rollback restores the earlier pools and the compiler publishes the earlier sets;
//   - after etcd compaction the CHANGE column says so.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@natfleet/bundle';
import { ResourceService, RolloutService, TokenSet, buildApp } from '@natfleet/api';
import { EXIT, run, type Io } from '@natfleet/natctl';
import { EtcdStore } from '@natfleet/store';
import { startEtcd, startNats, type EtcdCluster, type NatsCluster, type ServiceProcess } from '@natfleet/testkit';
import { Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import { connect, type NatsConnection } from 'nats';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleWatch, CLUSTER, PREFIX, TestKeys, felixKey, poolJson, poolKey, startCompiler } from './compiler-helpers.js';
import { checkApiResponses } from './api-harness.js';

const ALICE = 'history-alice-token-0123456789';
const PLAIN = 'history-plain-token-0123456789';

describe('history and rollback end to end', () => {
  let etcd: EtcdCluster;
  let nats: NatsCluster;
  let client: Etcd3;
  let nc: NatsConnection;
  let app: FastifyInstance;
  let apiUrl: string;
  let keys: TestKeys;
  let compiler: ServiceProcess;
  let watch: BundleWatch;
  const dir = mkdtempSync(join(tmpdir(), 'natfleet-history-'));
  // Bundle versions published along the way.
  let vA = 0; // pool a, by alice through the API
  let vB = 0; // pool b, by etcdctl
  let vW = 0; // pool broken (a warning), by etcdctl
  let vC = 0; // FelixConfiguration default, by the unnamed write token
  let vD = 0; // pool broken deleted by alice
  let bundleA: Bundle;

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    keys = new TestKeys();
    compiler = await startCompiler({ etcdEndpoints: etcd.endpoints, natsUrl: nats.url, keys, extraArgs: ['--log-level', 'info'] });
    watch = await BundleWatch.open(nats.url, keys.trusted);
    client = new Etcd3({ hosts: etcd.endpoints });
    nc = await connect({ servers: nats.url });
    const store = new EtcdStore(client);
    app = await buildApp({
      resources: new ResourceService(store),
      rollout: new RolloutService({ js: nc.jetstream(), jsm: await nc.jetstreamManager(), store, cluster: CLUSTER, silentAfterMs: 30_000 }),
      tokens: TokenSet.parse(`${ALICE} write alice\n${PLAIN} write\n`),
      registry: new Registry(),
      readiness: () => ({}),
      logger: pino({ level: 'silent' }),
      bodyLimit: 1024 * 1024,
    });
    // Every answer must match the OpenAPI document (app.close() rejects otherwise).
    checkApiResponses(app);
    apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await watch?.close();
    await nc?.close();
    client?.close();
    await compiler?.stop();
    keys?.destroy();
    await Promise.all([etcd?.destroy(), nats?.destroy()]);
  }, 60_000);

  /**
   * Runs natctl in-process against the API. `answer`: natctl is on a terminal and this is
   * typed at the y/N prompt (a function may act before answering); without it, no terminal.
   */
  async function natctl(args: string[], o: { token?: string; answer?: string | (() => Promise<string>) } = {}): Promise<{ code: number; out: string; err: string; prompts: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const prompts: string[] = [];
    const { answer } = o;
    const io: Io = {
      out: (s) => out.push(s),
      err: (s) => err.push(s),
      env: { NATFLEET_API_URL: apiUrl, NATFLEET_API_TOKEN: o.token ?? ALICE },
      cwd: dir,
      stdin: async () => '',
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      ...(answer !== undefined
        ? {
            isTTY: true,
            readLine: async (p: string) => {
              prompts.push(p);
              return typeof answer === 'string' ? answer : answer();
            },
          }
        : {}),
    };
    const code = await run(args, io);
    return { code, out: out.join('\n'), err: err.join('\n'), prompts };
  }
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const revisionIn = (out: string): number => Number(/revision (\d+)/.exec(out)?.[1] ?? Number.NaN);
  const etcdRevision = async (): Promise<number> => Number((await client.get('natfleet-test/none').exec()).header.revision);
  /**
   * Every Calico key with its mod revision: equal before and after = nothing of natfleet's
   * desired state was written (etcd's revision alone also moves with the rollout
   * controller's own state writes under /natfleet/v1).
   */
  const desiredState = async (): Promise<string> =>
    JSON.stringify((await client.getAll().prefix(`${PREFIX}/`).exec()).kvs.map((kv) => [kv.key.toString(), kv.mod_revision]));
  const pools = async (): Promise<string[]> => (await client.getAll().prefix(`${PREFIX}/ippools/`).keys()).map((k) => k.slice(`${PREFIX}/ippools/`.length)).sort();
  const published = (what: string, pred: (b: Bundle) => boolean): Promise<Bundle> => watch.waitFor(what, pred);
  /** The history table's row for version `v` (its CHANGE column is last). */
  const row = (table: string, v: number): string => table.split('\n').find((l) => l.startsWith(`${v} `)) ?? `(no row for v${v} in:\n${table})`;

  it('CHANGE names the token of an API write, etcdctl for a write behind the API, and the role for an unnamed token', async () => {
    const a = await natctl(['apply', '-f', file('a.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: a}\nspec: {cidr: 10.81.0.0/16, natOutgoing: true}\n')]);
    expect(a.code, a.err).toBe(EXIT.OK);
    bundleA = await published('bundle with pool a', (b) => b.version >= revisionIn(a.out));
    vA = bundleA.version;

    await etcd.etcdctl(['put', poolKey('b'), poolJson('b', '10.82.0.0/16')]);
    vB = (await published('bundle with pool b', (b) => b.fleet.v4.masquerade.includes('10.82.0.0/16'))).version;
    await etcd.etcdctl(['put', poolKey('broken'), poolJson('broken', '10.83.0.1/16')]);
    vW = (await published('bundle warning about broken', (b) => b.warnings.some((w) => w.key === poolKey('broken')))).version;

    const c = await natctl(['apply', '-f', file('felix.yaml', 'apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\nspec: {natPortRange: "1024:65535"}\n')], { token: PLAIN });
    expect(c.code, c.err).toBe(EXIT.OK);
    vC = (await published('bundle with the port range', (b) => b.version >= revisionIn(c.out))).version;

    const d = await natctl(['delete', 'ippool', 'broken']);
    expect(d.code, d.err).toBe(EXIT.OK);
    vD = (await published('bundle without broken', (b) => !b.warnings.some((w) => w.key === poolKey('broken')))).version;

    const h = await natctl(['history']);
    expect(h.code, h.err).toBe(EXIT.OK);
    expect(h.out.split('\n')[0]).toMatch(/^VERSION\s+PUBLISHED\s+DIGEST\s+MASQ\(v4\/v6\)\s+NONAT\(v4\/v6\)\s+WARNINGS\s+CHANGE$/);
    expect(row(h.out, vA)).toMatch(/IPPool\/a created by alice$/);
    expect(row(h.out, vB)).toMatch(/IPPool\/b created by etcdctl$/);
    expect(row(h.out, vW)).toMatch(/\s1\s+IPPool\/broken created by etcdctl$/);
    expect(row(h.out, vC)).toMatch(/FelixConfiguration\/default created by write$/);
    // The API deletes an enabled pool in two steps (disable, then delete): one author.
    expect(row(h.out, vD)).toMatch(/IPPool\/broken deleted by alice$/);

    const json = await natctl(['history', '-o', 'json']);
    const items = JSON.parse(json.out) as { version: number; change: { status: string; since: number; resources: object[] } }[];
    expect(items.find((i) => i.version === vB)!.change).toEqual({ status: 'ok', since: vA, resources: [{ kind: 'IPPool', name: 'b', action: 'created', via: 'etcdctl' }] });
    expect(items.find((i) => i.version === vA)!.change.resources).toEqual([{ kind: 'IPPool', name: 'a', action: 'created', via: 'api', by: 'alice' }]);
    // kubectl's spelling prints the same.
    expect((await natctl(['rollout', 'history'])).out).toBe(h.out);
  });

  it('history --version N: the set and settings diff against its predecessor, and its warnings in full', async () => {
    const b = await natctl(['history', '--version', String(vB)]);
    expect(b.code, b.err).toBe(EXIT.OK);
    expect(b.out).toContain(`Version:     ${vB}`);
    expect(b.out).toContain(`Compared to: v${vA}`);
    expect(b.out).toContain(`Changes since v${vA}:\n  IPPool/b created by etcdctl`);
    expect(b.out).toContain('NAT sets:\n  + v4 masquerade: 10.82.0.0/16\n  + v4 noNat: 10.82.0.0/16');
    expect(b.out).toContain('Warnings (0): none');

    const w = await natctl(['history', '--version', String(vW)]);
    expect(w.out).toContain('NAT sets: no change');
    expect(w.out).toContain(`Warnings (1):\n  + ${poolKey('broken')}: INVALID_RESOURCE: 1 validation issue:\n        - IPPool/broken spec.cidr: not strictly masked: host bits set; did you mean 10.83.0.0/16`);

    const c = await natctl(['rollout', 'history', '--revision', String(vC)]);
    expect(c.out).toContain('  ~ fleet NAT settings change');
    expect(c.out).toContain('Settings:\n  settings.portRange.from: (unset) → 1024\n  settings.portRange.to: (unset) → 65535');
    // The warning was there before: listed, not marked new.
    expect(c.out).toContain(`Warnings (1):\n  ${poolKey('broken')}: INVALID_RESOURCE`);

    const j = await natctl(['history', '--version', String(vW), '-o', 'json']);
    expect(JSON.parse(j.out)).toMatchObject({ version: vW, previous: { version: vB }, nat: { changed: false }, warnings: [{ key: poolKey('broken'), code: 'INVALID_RESOURCE', new: true }] });
    const none = await natctl(['history', '--version', '1']);
    expect(none.code).toBe(EXIT.NOT_FOUND);
    expect(none.err).toContain('bundle version 1 is not in history');
  });

  it('rollback to a version that is not in history is refused and writes nothing (--to 1 would wipe every pool)', async () => {
    const before = await desiredState();
    const r = await natctl(['rollback', '--to', '1', '--yes']);
    expect(r.code).toBe(EXIT.NOT_FOUND);
    expect(r.err).toContain('error: version 1 is not a bundle in history');
    expect(r.err).toContain('nothing was written');
    expect(r.out).toBe('');
    // The API refuses it the same way, dry run or not.
    const call = async (body: object, q = '') => fetch(`${apiUrl}/v1/rollback${q}`, { method: 'POST', headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await call({ version: 1 })).status).toBe(404);
    expect((await call({ version: 1 }, '?dryRun=true')).status).toBe(404);
    expect((await call({ version: vA, force: 'yes' })).status).toBe(422);
    expect((await call({ version: vA, previewRevision: 0 })).status).toBe(422);
    expect((await natctl(['rollout', 'undo', '--to-revision', String(vA + 1_000_000), '--yes'])).code).toBe(EXIT.INVALID); // the future: 400
    expect(await desiredState()).toBe(before);
    expect(await pools()).toEqual(['a', 'b']);

    // --force takes the number as an etcd revision, as before: its preview shows the wipe.
    const forced = await natctl(['rollback', '--to', '1', '--force', '--dry-run']);
    expect(forced.code, forced.err).toBe(EXIT.OK);
    expect(forced.out).toContain('Rolling back to etcd revision 1 (forced) changes:\n  FelixConfiguration/default: deleted\n  IPPool/a: deleted\n  IPPool/b: deleted\nNAT sets:\n  - v4 masquerade: 10.81.0.0/16, 10.82.0.0/16');
    expect(forced.out).toContain('(dry run: nothing was written)');
    expect(await desiredState()).toBe(before);
  });

  it('confirmation: no terminal and no --yes refuses (exit 2), "n" on a terminal cancels (exit 1), nothing written either way', async () => {
    const before = await desiredState();
    const piped = await natctl(['rollback', '--to', String(vA)]);
    expect(piped.code).toBe(EXIT.INVALID);
    expect(piped.out).toBe(`Rolling back to v${vA} changes:\n  FelixConfiguration/default: deleted\n  IPPool/b: deleted\nNAT sets:\n  - v4 masquerade: 10.82.0.0/16\n  - v4 noNat: 10.82.0.0/16\n  ~ fleet NAT settings change`);
    expect(piped.err).toContain('not on a terminal');
    expect(piped.err).toContain('--yes');
    const no = await natctl(['rollback', '--to', String(vA)], { answer: 'n' });
    expect(no.code).toBe(EXIT.ERROR);
    expect(no.prompts).toEqual([`Roll back to v${vA}? [y/N] `]);
    expect(no.err).toBe('error: rollback cancelled: nothing was written');
    expect(await desiredState()).toBe(before);
  });

  it('a change between the preview and the answer: 409 (exit 3), nothing of the rollback written', async () => {
    const r = await natctl(['rollback', '--to', String(vA)], {
      answer: async () => {
        await etcd.etcdctl(['put', poolKey('late'), poolJson('late', '10.84.0.0/16')]);
        return 'y';
      },
    });
    expect(r.code).toBe(EXIT.CONFLICT);
    expect(r.err).toContain('changed since the preview');
    expect(r.err).toContain('IPPool/late');
    expect(await pools()).toEqual(['a', 'b', 'late']);
    // Clean up in bundle order, so the next rollback's version changes only what it restores.
    await published('bundle with late', (b) => b.fleet.v4.masquerade.includes('10.84.0.0/16'));
    await etcd.etcdctl(['del', poolKey('late')]);
    await published('bundle without late', (b) => !b.fleet.v4.masquerade.includes('10.84.0.0/16'));
  });

  it('"y" on a terminal rolls back to a version in history: the earlier pools, the earlier sets, and CHANGE says "rollback of vN"', async () => {
    const r = await natctl(['rollback', '--to', String(vA)], { answer: 'y' });
    expect(r.code, r.err).toBe(EXIT.OK);
    expect(r.out).toContain(`rolled back to v${vA} at revision`);
    expect(await pools()).toEqual(['a']);
    expect(await client.get(felixKey('default')).string()).toBeNull();
    const vR = (await published('bundle of the rollback', (b) => b.version >= revisionIn(r.out.slice(r.out.indexOf('rolled back'))))).version;
    const restored = (await watch.latest())!;
    expect(restored.fleet).toEqual(bundleA.fleet);
    expect(restored.nodes).toEqual(bundleA.nodes);
    const h = await natctl(['history']);
    expect(row(h.out, vR)).toMatch(new RegExp(`IPPool/b deleted, FelixConfiguration/default deleted by rollback of v${vA} \\(alice\\)$`));
  });

  it('--yes skips the question; rollout undo --to-revision is rollback --to', async () => {
    const r = await natctl(['rollout', 'undo', '--to-revision', String(vC), '--yes'], { token: PLAIN, answer: 'n' });
    expect(r.code, r.err).toBe(EXIT.OK);
    expect(r.prompts).toEqual([]);
    expect(await pools()).toEqual(['a', 'b', 'broken']);
    const vU = (await published('bundle of the undo', (b) => b.version >= revisionIn(r.out.slice(r.out.indexOf('rolled back'))))).version;
    const h = await natctl(['history']);
    expect(row(h.out, vU)).toMatch(new RegExp(`IPPool/b created, IPPool/broken created, FelixConfiguration/default created by rollback of v${vC} \\(write\\)$`));
  });

  it('after etcd compaction, CHANGE says "(history compacted)" and a rollback to a compacted version is refused', async () => {
    await etcd.etcdctl(['compact', String(await etcdRevision())]);
    const h = await natctl(['history']);
    expect(h.code, h.err).toBe(EXIT.OK);
    expect(row(h.out, vB)).toMatch(/\(history compacted\)$/);
    const d = await natctl(['history', '--version', String(vB)]);
    expect(d.out).toContain('Changes:     (history compacted)');
    expect(d.out).toContain('+ v4 masquerade: 10.82.0.0/16'); // the sets come from the bundles, not etcd
    const before = await desiredState();
    const r = await natctl(['rollback', '--to', String(vA), '--yes']);
    expect(r.code).toBe(EXIT.NOT_FOUND);
    expect(r.err).toContain('compacted');
    expect(await desiredState()).toBe(before);
  });
});
