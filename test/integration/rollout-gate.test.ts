// `natctl rollout status` as a gate, with a real enforcer (nft in a netns) frozen by
// SIGSTOP past the silent threshold while a change turns NAT off: the gate must fail
// naming it (its rules are unknown — here it really still masquerades), pass with
// --ignore-silent when the other nodes are in sync, and pass once it is thawed and applies.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeService, ResourceService, RolloutService, TokenSet, buildApp } from '@natfleet/api';
import { pendingNodeStatus, putNodeStatus } from '@natfleet/bus';
import { EXIT, run, type Io } from '@natfleet/natctl';
import { EtcdStore } from '@natfleet/store';
import { startEtcd, waitUntil, type EtcdCluster, type ServiceProcess } from '@natfleet/testkit';
import { Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER, NODE, compiled, podPools, publish, startEnforcer, startWorld, stopWorld, waitApplied, type World } from './enforcer-world.js';

const TOKEN = 'gate-token-0123456789';
const SILENT_AFTER_MS = 2_500;

describe('rollout status with a frozen enforcer', () => {
  let w: World;
  let etcd: EtcdCluster;
  let client: Etcd3;
  let enforcer: ServiceProcess;
  let app: FastifyInstance;
  let apiUrl: string;
  const dir = mkdtempSync(join(tmpdir(), 'natfleet-gate-'));

  async function natctl(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = { out: (s) => out.push(s), err: (s) => err.push(s), env: { NATFLEET_API_URL: apiUrl, NATFLEET_API_TOKEN: TOKEN }, cwd: dir, stdin: async () => '', sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
    const code = await run(args, io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }
  /** A second node, in sync with `version` and heartbeating now (a stand-in for a healthy peer). */
  const peer = (version: number) => putNodeStatus(w.kv, pendingNodeStatus('node-2', { cluster: CLUSTER, state: 'applied', appliedVersion: version, heartbeatAt: new Date().toISOString() }));

  beforeAll(async () => {
    [w, etcd] = await Promise.all([startWorld(), startEtcd()]);
    client = new Etcd3({ hosts: etcd.endpoints });
    const store = new EtcdStore(client);
    const rollout = new RolloutService({ js: w.nc.jetstream(), jsm: await w.nc.jetstreamManager(), store, cluster: CLUSTER, silentAfterMs: SILENT_AFTER_MS });
    app = await buildApp({
      resources: new ResourceService(store),
      rollout,
      nodes: new NodeService({ rollout, store, js: w.nc.jetstream() }),
      tokens: TokenSet.parse(`${TOKEN} write\n`),
      registry: new Registry(),
      readiness: () => ({}),
      logger: pino({ level: 'silent' }),
      bodyLimit: 64 * 1024,
    });
    apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    enforcer = await startEnforcer(w, ['--heartbeat', '500ms']);
  }, 90_000);

  afterAll(async () => {
    enforcer?.proc.signal('SIGCONT');
    await app?.close();
    client?.close();
    await stopWorld(w, enforcer);
    await etcd?.destroy();
  }, 60_000);

  it('fails naming the frozen node, passes with --ignore-silent, and passes once it is thawed', async () => {
    await publish(w, compiled(w, podPools(true), 10));
    await waitApplied(w, 10);
    await peer(10);
    expect((await natctl(['rollout', 'status'])).code).toBe(EXIT.OK);

    enforcer.proc.signal('SIGSTOP');
    await new Promise((r) => setTimeout(r, SILENT_AFTER_MS + 1_000));
    await publish(w, compiled(w, podPools(false), 11)); // NAT off: the frozen node cannot apply it
    await peer(11);
    const frozen = await natctl(['rollout', 'status', '--min-version', '11']);
    expect(frozen.code).toBe(EXIT.ROLLOUT_INCOMPLETE);
    expect(frozen.err).toMatch(new RegExp(`rollout incomplete: ${NODE} \\(silent \\(last applied v10, heartbeat \\d+s ago\\)\\)`));
    // Its rules really are the old ones: it still masquerades the pod.
    const seen = await w.topo.probe(w.server, 4, { timeoutMs: 3_000 });
    expect(seen).toEqual({ ok: true, peer: w.topo.nodeExternal.v4 });

    const ignoring = await natctl(['rollout', 'status', '--min-version', '11', '--ignore-silent']);
    expect(ignoring.code, ignoring.err).toBe(EXIT.OK);

    enforcer.proc.signal('SIGCONT');
    await waitApplied(w, 11, 30_000);
    await peer(11);
    await waitUntil('gate passes', async () => (await natctl(['rollout', 'status', '--min-version', '11'])).code === EXIT.OK, { timeoutMs: 15_000, intervalMs: 250 });
  }, 90_000);
});
