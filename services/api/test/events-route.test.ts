import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { fingerprint, registerEventsRoute, sseMessage } from '../src/events-route.js';

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

  it('sends the view at once and then only on change; polls only while someone listens; close ends the stream', async () => {
    let polls = 0;
    let version = 1;
    app = Fastify();
    registerEventsRoute(app, { view: async () => (polls++, { desired: { version }, nodes: [{ heartbeatAgeSeconds: polls }] }), logger: pino({ level: 'silent' }), intervalMs: 20, refreshMs: 60_000 }, allow);
    const url = `${await app.listen({ port: 0, host: '127.0.0.1' })}/v1/events`;
    const res = await fetch(url);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const pending = read(res, 2);
    await new Promise((r) => setTimeout(r, 200)); // ~10 polls, ages moving, nothing else
    version = 2;
    const events = await pending;
    expect(events.map((e) => (e as { desired: { version: number } }).desired.version)).toEqual([1, 2]);
    expect(polls).toBeGreaterThan(5);
    // The client left: polling stops.
    await new Promise((r) => setTimeout(r, 100));
    const after = polls;
    await new Promise((r) => setTimeout(r, 200));
    expect(polls - after).toBeLessThanOrEqual(1);
    // A listening client does not hold close().
    const held = await fetch(url);
    await new Promise((r) => setTimeout(r, 50));
    await Promise.race([app.close(), new Promise((_, rej) => setTimeout(() => rej(new Error('close() hung')), 5000))]);
    app = undefined;
    const rest = await held.text();
    expect(rest).toContain('event: rollout');
  });

  it('a failing view is retried, not sent', async () => {
    let calls = 0;
    app = Fastify();
    registerEventsRoute(app, { view: async () => {
      calls++;
      if (calls < 3) throw new Error('nats down');
      return { ok: calls };
    }, logger: pino({ level: 'silent' }), intervalMs: 20 }, allow);
    const res = await fetch(`${await app.listen({ port: 0, host: '127.0.0.1' })}/v1/events`);
    expect(await read(res, 1)).toEqual([{ ok: 3 }]);
  });
});
