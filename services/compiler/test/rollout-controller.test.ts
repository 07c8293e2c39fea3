// The rollout controller against in-memory etcd, admission subject and node statuses
// (rollout-fakes.ts): first step, waves with bakes, admission mapping (rest waves, health in
// ms, stateRevision = the state write's revision), NACK/health/webhook failures with
// outcome records, commands consumed and dropped, fencing of the state write and of the
// admission publish, a held rollout under an invalid policy, the policy-activation race,
// and a second controller resuming from the persisted state.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sealAdmission, encodeAdmission, generateSigningKeyPair, loadSigningKey } from '@natfleet/bundle';
import { CLUSTER, harness, type Harness } from './rollout-fakes.js';
import type { WebhookCaller } from '../src/index.js';

const settle = { timeout: 5_000, interval: 5 };
const MIN = 60_000;

const SPEC = {
  waves: [
    { name: 'canary', selector: "role == 'canary'", bake: '1m' },
    { name: 'half', percent: 50, bake: '1m' },
    { name: 'rest', percent: 100, bake: '0s' },
  ],
  gates: { healthChecks: { commands: [{ name: 'ping', command: ['/bin/true', '-q'], timeout: '5s' }], conntrack: { dropDelta: 10 } } },
  onFailure: 'rollback',
  progressDeadline: '10m',
};

const running: { term: AbortController; done: Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    r.term.abort();
    await r.done;
  }
});

/** A harness with 4 nodes (n1 is the canary), a controller started, and v10 completed (no policy yet unless `policy`). */
async function started(opts: { policy?: Record<string, unknown>; webhook?: WebhookCaller } = {}) {
  const h = harness();
  h.store.node('n1', { role: 'canary' });
  for (const n of ['n2', 'n3', 'n4']) h.store.node(n, { role: 'worker' });
  if (opts.policy) h.store.policy('staged', opts.policy);
  const r = h.start(opts.webhook ? { webhook: opts.webhook } : {});
  running.push(r);
  r.controller.noteCandidate({ version: 10, digest: 'd10' });
  await vi.waitFor(() => expect(h.subject.last?.version).toBe(10), settle);
  return { h, ...r };
}

const ackAll = (h: Harness, nodes: string[], version: number): void => nodes.forEach((n) => h.statuses.ack(n, version));

describe('rollout controller', () => {
  it('first step: the current candidate is completed everywhere; without a policy the admission says policy ""', async () => {
    const { h } = await started();
    const a = h.subject.last!;
    expect(a).toMatchObject({ cluster: CLUSTER, policy: '', version: 10, digest: 'd10', everyone: true, waves: [], phase: 'completed', health: null, stable: { version: 10, digest: 'd10' } });
    expect(a.stateRevision).toBe(h.store.stateModRevision);
    expect(h.subject.messages[0]!.msgId).toBe(`${CLUSTER}.admission.${a.stateRevision}`);
    expect(h.store.state).toMatchObject({ policy: '', leader: 'c1', state: { phase: 'completed' } });
    expect(h.store.outcome(10)).toMatchObject({ outcome: 'completed', policy: '' });
  });

  it('without a policy every new candidate completes at once', async () => {
    const { h, controller } = await started();
    controller.noteCandidate({ version: 11, digest: 'd11' });
    await vi.waitFor(() => expect(h.subject.last).toMatchObject({ version: 11, everyone: true, policy: '', phase: 'completed' }), settle);
  });

  it('waves 1 → 2 → 4 nodes, each after its bake, with rest and health mapped; stateRevision grows', async () => {
    const { h, controller } = await started({ policy: SPEC });
    // The first step ran under the policy: the admission names it (enforcers hold new bundles).
    expect(h.subject.last).toMatchObject({ policy: 'staged', version: 10, everyone: true, phase: 'completed' });
    expect(h.subject.last!.health).toEqual({ commands: [{ name: 'ping', command: ['/bin/true', '-q'], timeoutMs: 5_000 }], conntrack: { dropDelta: 10 } });

    controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h.subject.last).toMatchObject({ version: 20, everyone: false, phase: 'progressing', waves: [{ name: 'canary', nodes: ['n1'], rest: false }], stable: { version: 10, digest: 'd10' } }), settle);
    const revs = [h.subject.last!.stateRevision];

    ackAll(h, ['n1'], 20);
    h.clock.advance(30_000);
    await new Promise((r) => setTimeout(r, 60));
    expect(h.subject.last!.waves).toHaveLength(1); // still baking
    expect(h.store.state!.gates).toEqual([{ node: 'n1', wave: 0, result: 'passed' }]);

    h.clock.advance(31_000);
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(2), settle);
    const half = h.subject.last!.waves[1]!;
    expect(half).toMatchObject({ name: 'half', rest: false });
    expect(half.nodes).toHaveLength(2);
    revs.push(h.subject.last!.stateRevision);

    ackAll(h, half.nodes, 20);
    h.clock.advance(MIN + 1_000);
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(3), settle);
    expect(h.subject.last!.waves[2]).toEqual({ name: 'rest', nodes: [], rest: true });
    revs.push(h.subject.last!.stateRevision);

    const last = ['n2', 'n3', 'n4'].filter((n) => !half.nodes.includes(n));
    ackAll(h, last, 20);
    await vi.waitFor(() => expect(h.subject.last).toMatchObject({ everyone: true, phase: 'completed', version: 20 }), settle);
    revs.push(h.subject.last!.stateRevision);
    expect([...revs].sort((a, b) => a - b)).toEqual(revs);
    expect(new Set(revs).size).toBe(revs.length);
    expect(h.store.outcome(20)).toMatchObject({ outcome: 'completed', policy: 'staged' });
    expect(h.store.state!.events.map((e) => e.type)).toEqual(expect.arrayContaining(['Superseded', 'WaveAdmitted', 'WavePassed', 'Completed']));
    const text = await h.metrics.registry.metrics();
    expect(text).toMatch(/natfleet_rollouts_started_total 1/);
    expect(text).toMatch(/natfleet_rollout_wave_duration_seconds_count 3/);
    expect(text).toMatch(/natfleet_rollout_phase\{phase="completed"\} 1/);
  });

  it('a policy edited mid-rollout to fewer waves: never sent as rest; the rollout restarts from the first wave of the policy as it is now', async () => {
    const { h, controller } = await started({ policy: SPEC });
    controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(1), settle);
    ackAll(h, ['n1'], 20);
    h.clock.advance(MIN + 1_000);
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(2), settle);
    const half = h.subject.last!.waves[1]!;
    expect(half).toMatchObject({ name: 'half', rest: false });
    // The operator drops the middle wave: wave index 1 is now the policy's last one ('rest').
    h.store.policy('staged', { ...SPEC, waves: [SPEC.waves[0], SPEC.waves[2]] });
    await vi.waitFor(() => expect(h.store.state!.waves.map((w) => w.name)).toEqual(['canary', 'rest']), settle);
    await vi.waitFor(() => expect(h.subject.last).toMatchObject({ version: 20, everyone: false, phase: 'progressing', waves: [{ name: 'canary', nodes: ['n1'], rest: false }] }), settle);
    expect(h.subject.last!.waves.some((w) => w.rest)).toBe(false);
    expect(h.store.state!.events.some((e) => e.type === 'PolicyChanged')).toBe(true);
    // The half wave's nodes are no longer admitted: they run the stable version again.
    expect(h.subject.last!.stable).toMatchObject({ version: 10 });
    expect(half.nodes.length).toBeGreaterThan(0);
  });

  it('a NACK on the canary rolls back: no waves, outcome names the node and reason', async () => {
    const { h, controller } = await started({ policy: SPEC });
    controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(1), settle);
    h.statuses.set('n1', { state: 'failed', failedVersion: 20, appliedVersion: 10, errorCode: 'NFT_SYNTAX', error: 'syntax error, line 3' });
    await vi.waitFor(() => expect(h.subject.last).toMatchObject({ version: 20, phase: 'rolled-back', waves: [], everyone: false, stable: { version: 10 } }), settle);
    expect(h.store.outcome(20)).toMatchObject({ outcome: 'rolled-back', failures: [{ node: 'n1', gate: 'nack', code: 'NFT_SYNTAX', detail: 'syntax error, line 3' }], waves: [{ name: 'canary', nodes: ['n1'] }] });
    expect(await h.metrics.registry.metrics()).toMatch(/natfleet_rollouts_aborted_total\{reason="GateFailed"\} 1/);
  });

  it('a canary that ACKed and then went silent (no status stored for 30 s) does not pass its wave: pending until it reports again', async () => {
    const { h, controller } = await started({ policy: SPEC });
    h.statuses.stamp = h.clock.now; // stored times on the controller's clock
    controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(1), settle);
    ackAll(h, ['n1'], 20);
    await vi.waitFor(() => expect(h.store.state!.gates).toEqual([{ node: 'n1', wave: 0, result: 'passed' }]), settle);
    h.clock.advance(61_000); // bake over, but nothing heard from n1 for 61 s
    await new Promise((r) => setTimeout(r, 80));
    expect(h.subject.last!.waves).toHaveLength(1);
    expect(h.store.state!.gates).toMatchObject([{ node: 'n1', result: 'pending' }]);
    ackAll(h, ['n1'], 20); // a heartbeat: heard again
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(2), settle);
  });

  it('a failed health check rolls back; running checks keep the node pending', async () => {
    const { h, controller } = await started({ policy: SPEC });
    controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(1), settle);
    h.statuses.set('n1', { state: 'applied', appliedVersion: 20, health: { version: 20, result: 'running', code: '', check: '', output: '', checkedAt: '' } });
    h.clock.advance(2 * MIN);
    await vi.waitFor(() => expect(h.store.state!.gates).toEqual([{ node: 'n1', wave: 0, result: 'pending', gate: 'ack', detail: 'applied; health checks pending' }]), settle);
    expect(h.subject.last!.waves).toHaveLength(1);
    h.statuses.set('n1', { health: { version: 20, result: 'failed', code: 'HEALTH_CHECK_FAILED', check: 'ping', output: 'no route', checkedAt: '' } });
    await vi.waitFor(() => expect(h.subject.last).toMatchObject({ phase: 'rolled-back', waves: [] }), settle);
    expect(h.store.outcome(20)!.failures).toEqual([{ node: 'n1', gate: 'health', code: 'HEALTH_CHECK_FAILED', detail: 'no route' }]);
  });

  it('commands: for this candidate consumed, for another dropped, immediate waits for its revision then expires', async () => {
    const { h, controller } = await started({ policy: SPEC });
    controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(1), settle);
    const stale = h.store.command('0001', { type: 'abort', version: 19, by: 'ops', at: new Date(h.clock.t).toISOString() });
    const pause = h.store.command('0002', { type: 'pause', version: 20, by: 'ops', at: new Date(h.clock.t).toISOString() });
    const later = h.store.command('0003', { type: 'immediate', version: 99, by: 'ops', at: new Date(h.clock.t).toISOString() });
    await vi.waitFor(() => expect(h.subject.last!.phase).toBe('paused'), settle);
    expect(h.store.kv.has(stale)).toBe(false);
    expect(h.store.kv.has(pause)).toBe(false);
    expect(h.store.kv.has(later)).toBe(true);
    expect(h.lines.some((l) => l.msg === 'rollout command dropped: for candidate v19, not the current v20')).toBe(true);

    h.clock.advance(11 * MIN);
    await vi.waitFor(() => expect(h.store.kv.has(later)).toBe(false), settle);
    expect(h.subject.last!.phase).toBe('paused'); // paused: no deadline, nothing admitted

    h.store.command('0004', { type: 'resume', version: 20, by: 'ops', at: '' });
    await vi.waitFor(() => expect(h.subject.last!.phase).toBe('progressing'), settle);
    h.store.command('0005', { type: 'immediate', version: 20, by: 'ops', at: '' });
    await vi.waitFor(() => expect(h.subject.last!.waves).toEqual([{ name: 'canary', nodes: ['n1'], rest: false }, { name: 'immediate', nodes: [], rest: true }]), settle);
    expect(h.store.state!.immediate).toBe(true);
    h.store.command('0006', { type: 'abort', version: 20, by: 'ops', at: '' });
    await vi.waitFor(() => expect(h.subject.last).toMatchObject({ phase: 'aborted', waves: [] }), settle);
    expect(h.store.outcome(20)).toMatchObject({ outcome: 'aborted', immediate: true });
    expect(h.store.list(h.store.commandPrefix)).toEqual([]);
  });

  it('promote skips the remaining bakes', async () => {
    const { h, controller } = await started({ policy: SPEC });
    controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(1), settle);
    h.store.command('0001', { type: 'promote', version: 20, by: 'ops', at: '' });
    ackAll(h, ['n1', 'n2', 'n3', 'n4'], 20);
    await vi.waitFor(() => expect(h.subject.last).toMatchObject({ phase: 'completed', everyone: true }), settle);
  });

  it('a webhook fail rolls back with WEBHOOK_FAILED and what it answered; a pass admits the next wave', async () => {
    const calls: { wave: string; nodes: string[] }[] = [];
    const webhook: WebhookCaller = async (_t, req) => {
      calls.push({ wave: req.wave, nodes: req.nodes });
      return req.wave === 'canary' ? { result: 'pass', status: 200 } : { result: 'fail', code: 'WEBHOOK_FAILED', detail: 'HTTP 503: busy' };
    };
    const { h, controller } = await started({ policy: { ...SPEC, gates: { webhook: { url: 'http://127.0.0.1:9/hook', timeout: '1s' } } }, webhook });
    controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(1), settle);
    expect(h.subject.last!.health).toBeNull();
    ackAll(h, ['n1'], 20);
    await vi.waitFor(() => expect(calls).toEqual([{ wave: 'canary', nodes: ['n1'] }]), settle);
    h.clock.advance(2 * MIN);
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(2), settle);
    ackAll(h, h.subject.last!.waves[1]!.nodes, 20);
    await vi.waitFor(() => expect(h.subject.last).toMatchObject({ phase: 'rolled-back', waves: [] }), settle);
    expect(calls).toHaveLength(2);
    expect(h.store.outcome(20)!.failures[0]).toMatchObject({ gate: 'webhook', code: 'WEBHOOK_FAILED', detail: 'HTTP 503: busy' });
  });

  it('a webhook caller that throws fails the gate (WEBHOOK_FAILED), never an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown): void => void unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      const webhook: WebhookCaller = async () => {
        throw new RangeError('The value of "delay" is out of range');
      };
      const { h, controller } = await started({ policy: { ...SPEC, gates: { webhook: { url: 'http://127.0.0.1:9/hook', timeout: '1s' } } }, webhook });
      controller.noteCandidate({ version: 20, digest: 'd20' });
      await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(1), settle);
      ackAll(h, ['n1'], 20);
      await vi.waitFor(() => expect(h.subject.last).toMatchObject({ phase: 'rolled-back', waves: [] }), settle);
      expect(h.store.outcome(20)!.failures[0]).toMatchObject({ node: 'n1', gate: 'webhook', code: 'WEBHOOK_FAILED' });
      expect(h.store.outcome(20)!.failures[0]!.detail).toContain('out of range');
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a wave\'s own gates decide its webhook: only that wave calls it, with its own target', async () => {
    const calls: { url: string; wave: string }[] = [];
    const webhook: WebhookCaller = async (t, req) => {
      calls.push({ url: t.url, wave: req.wave });
      return { result: 'pass', status: 200 };
    };
    const waves = [SPEC.waves[0], { ...SPEC.waves[1], gates: { ...SPEC.gates, webhook: { url: 'http://127.0.0.1:9/half', timeout: '1s' } } }, SPEC.waves[2]];
    const { h, controller } = await started({ policy: { ...SPEC, waves }, webhook });
    controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(1), settle);
    ackAll(h, ['n1'], 20);
    h.clock.advance(MIN + 1_000);
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(2), settle);
    expect(calls).toEqual([]); // the canary wave has no webhook
    ackAll(h, h.subject.last!.waves[1]!.nodes, 20);
    h.clock.advance(MIN + 1_000);
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(3), settle);
    expect(calls).toEqual([{ url: 'http://127.0.0.1:9/half', wave: 'half' }]);
  });

  it('a new leader keeps the webhook passes its predecessor recorded: one call per wave', async () => {
    const calls: string[] = [];
    const webhook: WebhookCaller = async (_t, req) => {
      calls.push(req.wave);
      return { result: 'pass', status: 200 };
    };
    const { h, controller, term, done } = await started({ policy: { ...SPEC, gates: { webhook: { url: 'http://127.0.0.1:9/hook', timeout: '1s' } } }, webhook });
    controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(1), settle);
    ackAll(h, ['n1'], 20);
    await vi.waitFor(() => expect(h.store.state!.gates).toEqual([{ node: 'n1', wave: 0, result: 'passed' }]), settle);
    term.abort();
    await done;
    const next = h.start({ leaderId: 'c2', webhook });
    running.push(next);
    next.controller.noteCandidate({ version: 20, digest: 'd20' });
    h.clock.advance(2 * MIN);
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(2), settle);
    expect(calls).toEqual(['canary']);
  });

  it('a state written by someone else fences the write: re-read, re-planned from it', async () => {
    const { h, controller } = await started({ policy: SPEC });
    controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(1), settle);
    // Another leader moved the state on (paused it) behind this one's back.
    const other = h.store.state!;
    h.store.put(h.store.stateKey, JSON.stringify({ ...other, leader: 'c2', state: { ...other.state, phase: 'paused', pausedAt: h.clock.t } }));
    ackAll(h, ['n1'], 20);
    await vi.waitFor(() => expect(h.subject.last!.phase).toBe('paused'), settle);
    expect(h.lines.some((l) => l.msg === 'rollout state changed under this leader: re-reading it')).toBe(true);
    expect(h.store.state!.leader).toBe('c1');
  });

  it('a deposed controller never writes or publishes', async () => {
    const { h, controller, term, done } = await started({ policy: SPEC });
    term.abort();
    await done;
    const writes = h.store.stateWrites;
    const published = h.subject.messages.length;
    controller.noteCandidate({ version: 20, digest: 'd20' });
    await controller.beforeNewBundle();
    await new Promise((r) => setTimeout(r, 50));
    expect(h.store.stateWrites).toBe(writes);
    expect(h.subject.messages).toHaveLength(published);
  });

  it('a foreign message on the subject fences the publish; the admission is re-published after it', async () => {
    const { h, controller } = await started({ policy: SPEC });
    const forger = loadSigningKey(generateSigningKeyPair().privateKeyPem);
    h.subject.inject(encodeAdmission(sealAdmission({ ...h.subject.last!, stateRevision: 9_999, waves: [], everyone: true }, forger)));
    controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h.subject.last?.version).toBe(20), settle);
    // ours, the forgery, ours again: the newest message is genuine
    expect(h.subject.messages).toHaveLength(3);
    expect(h.subject.admissions).toHaveLength(2);
  });

  it('an admission lost between state write and publish is published at the next step (the same stateRevision)', async () => {
    const { h, controller } = await started({ policy: SPEC });
    h.subject.failNext = 1;
    controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h.subject.last!.version).toBe(20), settle);
    expect(h.subject.last!.stateRevision).toBe(h.store.stateModRevision);
  });

  it('an invalid stored policy holds the rollout: nothing new admitted, never crashes', async () => {
    const { h, controller } = await started({ policy: SPEC });
    h.store.put(`${h.store.policyPrefix}staged`, JSON.stringify({ apiVersion: 'natfleet.io/v1', kind: 'RolloutPolicy', metadata: { name: 'staged' }, spec: { waves: [] } }));
    controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h.store.state!.state.conditions.find((c) => c.type === 'Progressing')?.reason).toBe('InvalidRolloutPolicy'), settle);
    expect(h.subject.last).toMatchObject({ version: 10, policy: 'staged', everyone: true });
    expect(h.lines.some((l) => l.level === 'warn' && String(l.msg).startsWith('RolloutPolicy staged is invalid'))).toBe(true);
    expect(h.store.state!.events.some((e) => e.type === 'PolicyInvalid')).toBe(true);
    h.store.policy('staged', SPEC);
    await vi.waitFor(() => expect(h.subject.last).toMatchObject({ version: 20, waves: [{ name: 'canary' }] }), settle);
  });

  it('a rollout held by an invalid policy still fails on a NACK (as the last valid policy says) and still takes an abort', async () => {
    const invalid = JSON.stringify({ apiVersion: 'natfleet.io/v1', kind: 'RolloutPolicy', metadata: { name: 'staged' }, spec: { waves: [] } });
    const a = await started({ policy: SPEC });
    a.controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(a.h.subject.last!.waves).toHaveLength(1), settle);
    a.h.store.put(`${a.h.store.policyPrefix}staged`, invalid);
    await vi.waitFor(() => expect(a.h.store.state!.state.conditions.find((c) => c.type === 'Progressing')?.reason).toBe('InvalidRolloutPolicy'), settle);
    a.h.statuses.set('n1', { state: 'failed', failedVersion: 20, appliedVersion: 10, errorCode: 'NFT_SYNTAX', error: 'syntax error' });
    await vi.waitFor(() => expect(a.h.subject.last).toMatchObject({ version: 20, phase: 'rolled-back', waves: [] }), settle);
    expect(a.h.store.outcome(20)).toMatchObject({ outcome: 'rolled-back', failures: [{ node: 'n1', gate: 'nack' }] });

    const b = await started({ policy: SPEC });
    b.controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(b.h.subject.last!.waves).toHaveLength(1), settle);
    b.h.store.put(`${b.h.store.policyPrefix}staged`, invalid);
    await vi.waitFor(() => expect(b.h.store.state!.state.conditions.find((c) => c.type === 'Progressing')?.reason).toBe('InvalidRolloutPolicy'), settle);
    b.h.store.command('x-promote', { type: 'promote', version: 20, by: 't', at: '' });
    b.h.store.command('y-abort', { type: 'abort', version: 20, by: 't', at: '' });
    await vi.waitFor(() => expect(b.h.subject.last).toMatchObject({ version: 20, phase: 'aborted', waves: [] }), settle);
    // The abort was consumed; the promote waits for a valid policy.
    expect([...b.h.store.kv.keys()].filter((k) => k.startsWith(b.h.store.commandPrefix))).toEqual([`${b.h.store.commandPrefix}x-promote`]);
  });

  it('several policies: the first by name, with a warning event', async () => {
    const h0 = await started({ policy: SPEC });
    h0.h.store.policy('aaa', { ...SPEC, waves: [{ name: 'all', percent: 100, bake: '0s' }] });
    h0.controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h0.h.subject.last).toMatchObject({ version: 20, policy: 'aaa' }), settle);
    expect(h0.h.store.state!.events.some((e) => e.type === 'PolicyWarning' && e.message.includes('only aaa'))).toBe(true);
    h0.h.store.policy('aaa', { ...SPEC, waves: [{ name: 'all', percent: 100, bake: '0s', gates: { webhook: { url: 'http://127.0.0.1:9/', timeout: '1s' } } }] });
    await vi.waitFor(() => expect(h0.h.store.state!.events.some((e) => e.type === 'PolicyWarning' && e.message.includes('per-wave healthChecks (waves all) are not enforced yet'))).toBe(true), settle);
  });

  it('policy activation: a policy created after the last admission is published before a new bundle', async () => {
    const { h, controller } = await started();
    expect(h.subject.last!.policy).toBe('');
    await controller.beforeNewBundle(); // no policy: nothing to do
    expect(h.subject.messages).toHaveLength(1);
    h.store.policy('staged', SPEC);
    await controller.beforeNewBundle();
    expect(h.subject.last).toMatchObject({ policy: 'staged', version: 10, everyone: true });
    const n = h.subject.messages.length;
    await controller.beforeNewBundle(); // already reflected: one count read, nothing published
    expect(h.subject.messages).toHaveLength(n);
  });

  it("policy activation in a new term: the first publish, before any noteCandidate, still waits for the policy's admission", async () => {
    const { h, term, done } = await started();
    term.abort();
    await done;
    h.store.policy('staged', SPEC); // created while no leader stepped
    const next = h.start({ leaderId: 'c2' });
    running.push(next);
    const seen: unknown[] = [];
    // The pipeline's first cycle of the term: a new bundle, the stream's newest being v10.
    await next.controller.guardPublish(async () => seen.push(h.subject.last!.policy), { version: 10, digest: 'd10' });
    expect(seen).toEqual(['staged']);
    expect(h.subject.last).toMatchObject({ policy: 'staged', version: 10, everyone: true });
  });

  it('a candidate taken under a policy-less admission completes when the policy shows up with it (never rolled back)', async () => {
    const { h, controller } = await started();
    // Both arrive before the next step: v20 was published while the admission said '' (every node applied it).
    h.store.policy('staged', SPEC);
    controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h.subject.last).toMatchObject({ version: 20, policy: 'staged', everyone: true, phase: 'completed' }), settle);
    expect(h.subject.admissions.filter((a) => a.version === 20 && !a.everyone)).toEqual([]);
    controller.noteCandidate({ version: 30, digest: 'd30' });
    await vi.waitFor(() => expect(h.subject.last).toMatchObject({ version: 30, waves: [{ name: 'canary' }], stable: { version: 20 } }), settle);
  });

  it('guardPublish does not queue a bundle behind the controller when enforcers already hold new bundles', async () => {
    const { h, controller } = await started({ policy: SPEC });
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    // A step in progress that takes long (its etcd or NATS I/O)…
    const stepping = (controller as unknown as { serialized<T>(f: () => Promise<T>): Promise<T> }).serialized(() => stuck);
    let published = false;
    await controller.guardPublish(async () => {
      published = true;
    });
    expect(published, 'the bundle went out without waiting for the step').toBe(true);
    release();
    await stepping;
    expect(h.subject.last!.policy).toBe('staged');
  });

  it('guardPublish holds steps off until the publish returned while a policy is not yet on the stream', async () => {
    const { h, controller } = await started();
    h.store.policy('staged', SPEC);
    const seen: number[] = [];
    await controller.guardPublish(async () => {
      controller.noteCandidate({ version: 20, digest: 'd20' });
      await new Promise((r) => setTimeout(r, 50));
      seen.push(h.subject.messages.length);
    });
    expect(seen).toEqual([2]); // the policy's admission before the bundle, nothing for v20 while it ran
    await vi.waitFor(() => expect(h.subject.last!.version).toBe(20), settle);
  });

  it('a new leader resumes from the persisted state: same waves, bake not skipped, stateRevision grows', async () => {
    const { h, controller, term, done } = await started({ policy: SPEC });
    controller.noteCandidate({ version: 20, digest: 'd20' });
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(1), settle);
    ackAll(h, ['n1'], 20);
    h.clock.advance(MIN + 1_000);
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(2), settle);
    const before = h.subject.last!;
    term.abort();
    await done;

    const next = h.start({ leaderId: 'c2' });
    running.push(next);
    next.controller.noteCandidate({ version: 20, digest: 'd20' });
    ackAll(h, before.waves[1]!.nodes, 20);
    h.clock.advance(30_000);
    await vi.waitFor(() => expect(h.store.state!.leader).toBe('c2'), settle);
    await new Promise((r) => setTimeout(r, 60));
    expect(h.subject.last!.waves).toEqual(before.waves); // same waves, still baking
    h.clock.advance(31_000);
    await vi.waitFor(() => expect(h.subject.last!.waves).toHaveLength(3), settle);
    expect(h.subject.last!.stateRevision).toBeGreaterThan(before.stateRevision);
  });
});
