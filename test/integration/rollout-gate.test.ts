// `natctl rollout status` as a gate, with a real enforcer (nft in a netns) frozen by
// SIGSTOP past the silent threshold while a change turns NAT off: the gate must fail
// naming it (its rules are unknown — here it really still masquerades), pass with
// --ignore-silent when the other nodes are in sync, and pass once it is thawed and applies.
import { pendingNodeStatus, putNodeStatus } from '@natfleet/bus';
import { EXIT } from '@natfleet/natctl';
import { startEtcd, waitUntil, type EtcdCluster, type ServiceProcess } from '@natfleet/testkit';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApi, natctlAgainst, type TestApi } from './api-harness.js';
import { CLUSTER, NODE, compiled, podPools, publish, startEnforcer, startWorld, stopWorld, waitApplied, type World } from './enforcer-world.js';

const TOKEN = 'gate-token-0123456789';
const SILENT_AFTER_MS = 2_500;

describe('rollout status with a frozen enforcer', () => {
  let w: World;
  let etcd: EtcdCluster;
  let client: Etcd3;
  let enforcer: ServiceProcess;
  let api: TestApi;

  const natctl = natctlAgainst(() => api.url, TOKEN);
  /** A second node, in sync with `version` and heartbeating now (a stand-in for a healthy peer). */
  const peer = (version: number) => putNodeStatus(w.kv, pendingNodeStatus('node-2', { cluster: CLUSTER, state: 'applied', appliedVersion: version, heartbeatAt: new Date().toISOString() }));

  beforeAll(async () => {
    [w, etcd] = await Promise.all([startWorld(), startEtcd()]);
    client = new Etcd3({ hosts: etcd.endpoints });
    api = await buildTestApi({ etcd: client, js: w.nc.jetstream(), jsm: await w.nc.jetstreamManager(), cluster: CLUSTER, tokens: `${TOKEN} write
`, silentAfterMs: SILENT_AFTER_MS });
    await api.listen();
    enforcer = await startEnforcer(w, ['--heartbeat', '500ms']);
  }, 90_000);

  afterAll(async () => {
    enforcer?.proc.signal('SIGCONT');
    await api?.app.close();
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
