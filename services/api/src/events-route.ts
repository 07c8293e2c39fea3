/**
 * GET /v1/events: Server-Sent Events for the dashboard (read token, the usual bearer
 * header — the page reads the stream with fetch(), so the token never goes in a URL).
 * Event `rollout` carries the GET /v1/rollout body. Fed by polling that same view every
 * `intervalMs` (1 s) while at least one client listens, sending only when something an
 * operator sees changed (ages and bake countdowns excluded: they move every second), plus
 * a refresh every `refreshMs` (10 s) so the ages shown stay true, and a `: ping` comment
 * every 15 s so idle proxies keep the connection. One poll serves every client. Owns the
 * stream framing and the poller's lifetime (stopped when the last client leaves and
 * before the server closes); never writes anything but the stream.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

type Guard = { preHandler: (req: FastifyRequest, reply: FastifyReply) => Promise<void> };

export interface EventsOptions {
  /** The body of each `rollout` event (GET /v1/rollout's). */
  view: () => Promise<unknown>;
  logger: Logger;
  /** Poll period while clients listen; default 1000 ms. */
  intervalMs?: number;
  /** Re-send an unchanged view this often; default 10 000 ms. */
  refreshMs?: number;
  /** Keep-alive comment period; default 15 000 ms. */
  pingMs?: number;
}

/** Fields that change every second without anything happening: left out of the change test. */
const VOLATILE = new Set(['heartbeatAgeSeconds', 'heartbeatAt', 'bakeRemainingMs']);

/** What the change test compares: the view without its volatile fields. */
export function fingerprint(view: unknown): string {
  return JSON.stringify(view, (k, v: unknown) => (VOLATILE.has(k) ? undefined : v));
}

/** One SSE message: `event:` then the data split on newlines (JSON has none, but be exact). */
export function sseMessage(event: string, data: string): string {
  return `event: ${event}\n${data.split(/\r\n|\r|\n/).map((l) => `data: ${l}`).join('\n')}\n\n`;
}

/** The shared poller and its listeners; one per app. */
class EventFeed {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private ping: NodeJS.Timeout | undefined;
  private last: { print: string; message: string; sentAt: number } | undefined;
  private failing = false;
  private closed = false;

  constructor(private readonly o: Required<EventsOptions>) {}

  add(res: ServerResponse): void {
    if (this.closed) {
      res.end();
      return;
    }
    this.clients.add(res);
    res.on('close', () => this.remove(res));
    // A newcomer gets the newest view at once (or with the first poll).
    if (this.last) res.write(this.last.message);
    if (this.clients.size === 1) this.start();
  }

  private remove(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size === 0) this.stop();
  }

  private start(): void {
    this.last = undefined;
    this.ping = setInterval(() => this.broadcast(': ping\n\n'), this.o.pingMs);
    void this.poll();
  }

  private stop(): void {
    clearTimeout(this.timer);
    clearInterval(this.ping);
    this.timer = undefined;
    this.ping = undefined;
  }

  private async poll(): Promise<void> {
    this.timer = undefined;
    try {
      const view = await this.o.view();
      const print = fingerprint(view);
      const now = Date.now();
      if (!this.last || this.last.print !== print || now - this.last.sentAt >= this.o.refreshMs) {
        this.last = { print, message: sseMessage('rollout', JSON.stringify(view)), sentAt: now };
        this.broadcast(this.last.message);
      }
      if (this.failing) this.o.logger.info('events feed: the rollout view reads again');
      this.failing = false;
    } catch (err) {
      // Said once per failure spell, not every second.
      if (!this.failing) this.o.logger.warn({ err }, 'events feed: reading the rollout view failed; retrying');
      this.failing = true;
    }
    if (this.clients.size > 0 && !this.closed) this.timer = setTimeout(() => void this.poll(), this.o.intervalMs);
  }

  private broadcast(text: string): void {
    for (const c of this.clients) c.write(text);
  }

  /** Ends every stream (server shutdown: open streams would hold close() forever). */
  close(): void {
    this.closed = true;
    this.stop();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}

export function registerEventsRoute(app: FastifyInstance, options: EventsOptions, read: Guard): void {
  const feed = new EventFeed({ intervalMs: 1000, refreshMs: 10_000, pingMs: 15_000, ...options });
  app.addHook('preClose', (done) => {
    feed.close();
    done();
  });
  app.get('/v1/events', read, async (_req, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    reply.raw.write(': natfleet events\n\n');
    feed.add(reply.raw);
  });
}
