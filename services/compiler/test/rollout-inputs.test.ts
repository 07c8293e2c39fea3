// The controller's pure input conversions and the webhook call against a local HTTP server.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pendingNodeStatus } from '@natfleet/bus';
import { IMMEDIATE_TTL_MS, callWebhook, fleetOf, observe, policyInput, selectCommands } from '../src/index.js';

const PP = '/natfleet/v1/rolloutpolicies/';
const NP = '/calico/resources/v3/projectcalico.org/nodes/';
const policy = (name: string, spec: Record<string, unknown>) => ({ key: `${PP}${name}`, value: JSON.stringify({ apiVersion: 'natfleet.io/v1', kind: 'RolloutPolicy', metadata: { name }, spec }) });
const SPEC = { waves: [{ name: 'canary', selector: "role == 'canary'", percent: 50, bake: '90s' }, { name: 'rest', percent: 100, bake: '0s' }], gates: { webhook: { url: 'http://x.example/', timeout: '2s' } }, onFailure: 'halt', progressDeadline: '5m' };

describe('policyInput / toPlannerPolicy', () => {
  it('none stored → none; first by name wins, the others listed', () => {
    expect(policyInput([], PP)).toEqual({ type: 'none' });
    const r = policyInput([policy('zeta', SPEC), policy('alpha', SPEC)], PP);
    expect(r.type).toBe('ok');
    if (r.type !== 'ok') return;
    expect(r.name).toBe('alpha');
    expect(r.ignored).toEqual(['zeta']);
    expect(r.planner.onFailure).toBe('halt');
    expect(r.planner.progressDeadlineMs).toBe(300_000);
    expect(r.planner.webhook).toBe(true);
    const [w0, w1] = r.planner.waves;
    expect(w0).toMatchObject({ name: 'canary', bakeMs: 90_000, percent: 50, selectorText: "role == 'canary'" });
    expect(w0!.selector!({ role: 'canary' })).toBe(true);
    expect(w0!.selector!({ role: 'worker' })).toBe(false);
    expect(w1!.selector).toBeUndefined();
    expect(w0!.webhook).toBeUndefined(); // no own gates: the policy's flag applies
    expect(r.perWaveGates).toEqual([]);
  });

  it('a wave with its own gates gets its own webhook flag; other healthChecks are reported', () => {
    const own = { ...SPEC, gates: { healthChecks: { commands: [{ name: 'a', command: ['/bin/true'], timeout: '1s' }] } }, waves: [{ ...SPEC.waves[0], gates: { webhook: { url: 'http://x.example/', timeout: '1s' } } }, { ...SPEC.waves[1], gates: { healthChecks: { commands: [{ name: 'a', command: ['/bin/true'], timeout: '1s' }] } } }] };
    const r = policyInput([policy('p', own)], PP);
    if (r.type !== 'ok') throw new Error(JSON.stringify(r));
    expect(r.planner.webhook).toBeUndefined();
    expect(r.planner.waves.map((w) => w.webhook)).toEqual([true, false]);
    expect(r.perWaveGates).toEqual(['canary']);
  });

  it('an invalid first policy → invalid with the reason (never falls back to the next)', () => {
    const r = policyInput([policy('a', { waves: [] }), policy('b', SPEC)], PP);
    expect(r).toMatchObject({ type: 'invalid', name: 'a', ignored: ['b'] });
    expect(policyInput([{ key: `${PP}x`, value: '{nope' }], PP)).toMatchObject({ type: 'invalid', reason: 'stored value is not JSON' });
  });
});

describe('fleetOf', () => {
  it('names and string labels of Node resources; junk skipped; sorted', () => {
    const fleet = fleetOf(
      [
        { key: `${NP}b`, value: JSON.stringify({ kind: 'Node', metadata: { name: 'b', labels: { role: 'x', n: 1 } } }) },
        { key: `${NP}a`, value: JSON.stringify({ kind: 'Node', metadata: {} }) },
        { key: `${NP}c`, value: 'not json' },
      ],
      NP,
    );
    expect(fleet).toEqual([
      { name: 'a', labels: {} },
      { name: 'b', labels: { role: 'x' } },
    ]);
  });
});

describe('observe', () => {
  const health = (version: number, result: 'none' | 'running' | 'passed' | 'failed') => ({ version, result, code: result === 'failed' ? 'HEALTH_CHECK_FAILED' : '', check: 'c', output: 'out', checkedAt: '' });
  it('ACK needs applied at the candidate and no pending health for it', () => {
    expect(observe(pendingNodeStatus('n', { state: 'applied', appliedVersion: 5 }), 5)).toEqual({ appliedVersion: 5 }); // no health at all: old enforcer
    expect(observe(pendingNodeStatus('n', { state: 'applied', appliedVersion: 5, health: health(5, 'passed') }), 5)).toEqual({ appliedVersion: 5 });
    expect(observe(pendingNodeStatus('n', { state: 'applied', appliedVersion: 5, health: health(5, 'none') }), 5)).toEqual({ appliedVersion: 5 });
    expect(observe(pendingNodeStatus('n', { state: 'applied', appliedVersion: 5, health: health(5, 'running') }), 5)).toEqual({ appliedVersion: null });
    expect(observe(pendingNodeStatus('n', { state: 'applied', appliedVersion: 5, health: health(4, 'passed') }), 5)).toEqual({ appliedVersion: null });
    expect(observe(pendingNodeStatus('n', { state: 'applied', appliedVersion: 4 }), 5)).toEqual({ appliedVersion: 4 });
  });
  it('NACK for the candidate and failed health for it', () => {
    expect(observe(pendingNodeStatus('n', { state: 'failed', appliedVersion: 4, failedVersion: 5, errorCode: 'NFT', error: 'bad' }), 5)).toEqual({ appliedVersion: 4, nack: { code: 'NFT', message: 'bad' } });
    expect(observe(pendingNodeStatus('n', { state: 'failed', appliedVersion: 4, failedVersion: 3, errorCode: 'NFT', error: 'bad' }), 5)).toEqual({ appliedVersion: 4 });
    expect(observe(pendingNodeStatus('n', { state: 'applied', appliedVersion: 5, health: health(5, 'failed') }), 5)).toEqual({ appliedVersion: 5, healthFailed: { code: 'HEALTH_CHECK_FAILED', output: 'out' } });
  });
});

describe('selectCommands', () => {
  const CP = '/natfleet/v1/rollout/commands/';
  const cmd = (id: string, r: Record<string, unknown>) => ({ key: `${CP}${id}`, value: JSON.stringify(r) });
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('applies those for the candidate in key order, drops others and junk, keeps a waiting immediate', () => {
    const sel = selectCommands(
      [cmd('3', { type: 'resume', version: 7 }), cmd('1', { type: 'pause', version: 7 }), cmd('2', { type: 'abort', version: 6 }), cmd('4', { type: 'immediate', version: 9, at: new Date(now).toISOString() }), { key: `${CP}5`, value: '{}' }],
      { version: 7, digest: 'd' },
      now,
      () => now,
    );
    expect(sel.apply).toEqual([{ type: 'pause' }, { type: 'resume' }]);
    expect(sel.consumed).toEqual([`${CP}1`, `${CP}3`]);
    expect(sel.dropped.map((d) => d.key)).toEqual([`${CP}2`, `${CP}5`]);
    expect(sel.immediate).toBe(false);
  });
  it('immediate applies at or past its revision, and expires unused', () => {
    const im = [cmd('1', { type: 'immediate', version: 9, at: new Date(now).toISOString() })];
    expect(selectCommands(im, { version: 9, digest: 'd' }, now, () => now)).toMatchObject({ apply: [{ type: 'immediate' }], immediate: true });
    expect(selectCommands(im, { version: 12, digest: 'd' }, now, () => now).immediate).toBe(true);
    expect(selectCommands(im, { version: 8, digest: 'd' }, now + IMMEDIATE_TTL_MS, () => now).dropped).toEqual([]);
    expect(selectCommands(im, { version: 8, digest: 'd' }, now + IMMEDIATE_TTL_MS + 1, () => now).dropped).toHaveLength(1);
    // `at` unparsable: first seen counts
    const noAt = [cmd('1', { type: 'immediate', version: 9 })];
    expect(selectCommands(noAt, { version: 8, digest: 'd' }, now + IMMEDIATE_TTL_MS + 1, () => now + 5).dropped).toEqual([]);
  });
});

describe('callWebhook (local HTTP server)', () => {
  let server: Server;
  let url: string;
  const seen: { headers: IncomingMessage['headers']; body: unknown }[] = [];
  let answer: { status: number; body: string; delayMs?: number } = { status: 200, body: 'ok' };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body: JSON.parse(data) });
        const a = answer;
        setTimeout(() => res.writeHead(a.status).end(a.body), a.delayMs ?? 0);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gate`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const req = { cluster: 'c', policy: 'p', version: 7, digest: 'd7', wave: 'canary', nodes: ['n1'] };
  const signal = new AbortController().signal;

  it('2xx passes; the JSON body and headers are sent', async () => {
    answer = { status: 204, body: '' };
    expect(await callWebhook({ url, timeoutMs: 2_000, headers: { authorization: 'Bearer t' } }, req, signal)).toEqual({ result: 'pass', status: 204 });
    expect(seen.at(-1)!.body).toEqual(req);
    expect(seen.at(-1)!.headers['authorization']).toBe('Bearer t');
    expect(seen.at(-1)!.headers['content-type']).toBe('application/json');
  });
  it('non-2xx fails with the status and body', async () => {
    answer = { status: 503, body: 'not now' };
    expect(await callWebhook({ url, timeoutMs: 2_000, headers: {} }, req, signal)).toEqual({ result: 'fail', code: 'WEBHOOK_FAILED', detail: 'HTTP 503: not now' });
  });
  it('no answer in time fails', async () => {
    answer = { status: 200, body: 'late', delayMs: 1_000 };
    expect(await callWebhook({ url, timeoutMs: 100, headers: {} }, req, signal)).toEqual({ result: 'fail', code: 'WEBHOOK_FAILED', detail: 'no answer within 100 ms' });
  });
  it('a timeout a valid policy allows but a timer does not (a fraction of a ms, past ~24 days) never throws', async () => {
    answer = { status: 200, body: 'ok' };
    expect(await callWebhook({ url, timeoutMs: 2_000.5, headers: {} }, req, signal)).toEqual({ result: 'pass', status: 200 });
    expect(await callWebhook({ url, timeoutMs: 7_200_000_000, headers: {} }, req, signal)).toEqual({ result: 'pass', status: 200 });
  });
  it('a refused connection fails', async () => {
    const v = await callWebhook({ url: 'http://127.0.0.1:1/', timeoutMs: 1_000, headers: {} }, req, signal);
    expect(v).toMatchObject({ result: 'fail', code: 'WEBHOOK_FAILED' });
  });
});
