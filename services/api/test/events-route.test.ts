import { connect } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_BUFFERED, fingerprint, registerEventsRoute, sseMessage } from '../src/events-route.js';
import type { ChangeSource } from '../src/live-view.js';

const allow = { preHandler: async () => undefined };

describe('events route helpers', () => {
  it('the change test ignores ages, heartbeats and bake countdowns only', () => {
    const a = { desired: { version: 3 }, nodes: [{ node: 'n1', heartbeatAgeSeconds: 1.2, heartbeatAt: 'x', appliedVersion: 3 }], staged: { waves: [{ bakeRemainingMs: 900 }] } };
    const b = { desired: { version: 3 }, nodes: [{ node: 'n1', heartbeatAgeSeconds: 7, heartbeatAt: 'y', appliedVersion: 3 }], staged: { waves: [{ bakeRemainingMs: 100 }] } };
    expect(fingerprint(a)).toBe(fingerprint(b));
    expect(fingerprint(a)).not.toBe(fingerprint({ ...b, nodes: [{ ...b.nodes[0], appliedVersion: 2 }] }));
  });

  it('frames one event per message, every line a data line', () => {
    expect(sseMessage('rollout', '{"a":1}')).toBe('event: rollout\ndata: {"a":1}\n\n');
    expect(sseMessage('x', 'one\ntwo')).toBe('event: x\ndata: one\ndata: two\n\n');
  });
});

describe('GET /v1/events', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** Reads the stream until `want` rollout events arrived; returns their data. */
  const read = async (res: Response, want: number): Promise<unknown[]> => {
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = '';
    const got = (): string[] => [...text.matchAll(/event: rollout\ndata: (.*)\n\n/g)].map((m) => m[1]!);
    while (got().length < want) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
    }
    await reader.cancel();
    return got().map((d) => JSON.parse(d));
  };

  /** A change source the test fires by hand; `aborted` counts the sources stopped. */
  const manual = () => {
    const fires: ((why: string) => void)[] = [];
    const state = { started: 0, aborted: 0, fire: (): void => fires.forEach((f) => f('test')) };
    const source: ChangeSource = (signal, changed) => {
      state.started++;
      fires.push(changed);
      return new Promise((resolve) => signal.addEventListener('abort', () => (state.aborted++, resolve()), { once: true }));
    };
    return { source, state };
  };

  it('sends on change only, a newcomer gets the warm view at once, stops after the last client leaves (linger), close ends the stream', async () => {
    let computes = 0;
    let version = 1;
    const { source, state } = manual();
    app = Fastify();
    registerEventsRoute(app, { view: async () => (computes++, { desired: { version }, nodes: [{ heartbeatAgeSeconds: computes }] }), logger: pino({ level: 'silent' }), sources: [source], debounceMs: 10, refreshMs: 60_000, lingerMs: 150 }, allow);
    const url = `${await app.listen({ port: 0, host: '127.0.0.1' })}/v1/events`;
    const res = await fetch(url);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const pending = read(res, 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(state.started).toBe(1);
    // Changes that move only ages: recomputed, not sent.
    for (let i = 0; i < 3; i++) {
      state.fire();
      await new Promise((r) => setTimeout(r, 40));
    }
    expect(computes).toBe(4);
    version = 2;
    state.fire();
    const events = await pending;
    expect(events.map((e) => (e as { desired: { version: number } }).desired.version)).toEqual([1, 2]);
    // Within the linger a newcomer gets the newest view at once, without a recompute.
    await new Promise((r) => setTimeout(r, 30));
    const before = computes;
    const again = await fetch(url);
    expect(await read(again, 1)).toEqual([{ desired: { version: 2 }, nodes: [{ heartbeatAgeSeconds: before }] }]);
    expect(computes).toBe(before);
    expect(state.aborted).toBe(0);
    // Everyone left: the source is stopped after the linger.
    await new Promise((r) => setTimeout(r, 400));
    expect(state.aborted).toBe(1);
    state.fire();
    await new Promise((r) => setTimeout(r, 50));
    expect(computes).toBe(before);
    // A listening client does not hold close().
    const held = await fetch(url);
    await new Promise((r) => setTimeout(r, 50));
    expect(state.started).toBe(2);
    await Promise.race([app.close(), new Promise((_, rej) => setTimeout(() => rej(new Error('close() hung')), 5000))]);
    app = undefined;
    expect(state.aborted).toBe(2);
    const rest = await held.text();
    expect(rest).toContain('event: rollout');
  });

  it('without sources it polls every intervalMs', async () => {
    let calls = 0;
    app = Fastify();
    registerEventsRoute(app, { view: async () => ({ n: ++calls }), logger: pino({ level: 'silent' }), intervalMs: 20, debounceMs: 1, lingerMs: 0 }, allow);
    const res = await fetch(`${await app.listen({ port: 0, host: '127.0.0.1' })}/v1/events`);
    expect((await read(res, 3)).map((e) => (e as { n: number }).n)).toEqual([1, 2, 3]);
  });

  it('a client that stops reading is cut off once more than MAX_BUFFERED bytes wait for it (the API does not buffer without bound)', async () => {
    let calls = 0;
    const pad = 'x'.repeat(256 * 1024);
    app = Fastify();
    registerEventsRoute(app, { view: async () => ({ n: ++calls, pad }), logger: pino({ level: 'silent' }), intervalMs: 5, debounceMs: 1, lingerMs: 0 }, allow);
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const port = Number(new URL(address).port);
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.pause(); // reads nothing: the kernel buffers fill, then the server's
    let received = 0;
    const ended = new Promise<boolean>((resolve) => {
      socket.on('data', (d: Buffer) => (received += d.length));
      socket.once('close', () => resolve(true));
      setTimeout(() => resolve(false), 15_000);
    });
    await new Promise((r) => setTimeout(r, 2_000)); // ~100 views of 256 KiB offered meanwhile
    socket.resume();
    expect(await ended, 'the server closed the stream of the client that did not read').toBe(true);
    // What it got is bounded: socket buffers plus at most MAX_BUFFERED and one view, not everything offered.
    expect(received).toBeLessThan(calls * pad.length);
    expect(MAX_BUFFERED).toBe(1024 * 1024);
    socket.destroy();
  }, 30_000);

  it('a failing view is retried on the next change, not sent', async () => {
    let calls = 0;
    app = Fastify();
    registerEventsRoute(app, { view: async () => {
      calls++;
      if (calls < 3) throw new Error('nats down');
      return { ok: calls };
    }, logger: pino({ level: 'silent' }), intervalMs: 20, debounceMs: 1 }, allow);
    const res = await fetch(`${await app.listen({ port: 0, host: '127.0.0.1' })}/v1/events`);
    expect(await read(res, 1)).toEqual([{ ok: 3 }]);
  });
});
