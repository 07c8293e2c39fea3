/**
 * GET /v1/events: Server-Sent Events for the dashboard (read token, the usual bearer
 * header — the page reads the stream with fetch(), so the token never goes in a URL).
 * Event `rollout` carries the GET /v1/rollout body. Fed by change notifications (the
 * live view, live-view.ts: given `sources`, e.g. change-sources.ts's watch of the
 * node-status bucket and check of the bundle stream; without them, a poll every
 * `intervalMs`), coalesced, sent only when something an operator sees changed, plus a
 * refresh every `refreshMs` (10 s) so the ages shown stay true, and a `: ping` comment
 * every 15 s so idle proxies keep the connection. A newcomer gets the newest view at once
 * when the live view is warm, so the page can draw the fleet from the first event. One
 * live view serves every client: started with the first, stopped `lingerMs` after the
 * last leaves (a page reload finds it warm) and before the server closes. Owns the stream
 * framing and the clients; never writes anything but the stream.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { LiveView, sleep, type ChangeSource } from './live-view.js';

/** Most bytes a slow events client may have waiting before it is disconnected. */
export const MAX_BUFFERED = 1024 * 1024;

export { fingerprint, sseMessage } from './live-view.js';

type Guard = { preHandler: (req: FastifyRequest, reply: FastifyReply) => Promise<void> };

export interface EventsOptions {
  /** The body of each `rollout` event (GET /v1/rollout's). */
  view: () => Promise<unknown>;
  logger: Logger;
  /** What says the view may have changed; default: a poll every `intervalMs`. */
  sources?: readonly ChangeSource[];
  /** Poll period when no `sources` are given; default 1000 ms. */
  intervalMs?: number;
  /** Coalescing window after a change; default 100 ms. */
  debounceMs?: number;
  /** Re-send an unchanged view this often; default 10 000 ms. */
  refreshMs?: number;
  /** Keep-alive comment period; default 15 000 ms. */
  pingMs?: number;
  /** Keep the live view running this long after the last client left; default 10 000 ms. */
  lingerMs?: number;
}

/** A change source that says "may have changed" every `ms` (the feed without notifications). */
export function pollEvery(ms: number): ChangeSource {
  return async (signal, changed) => {
    while (!signal.aborted) {
      await sleep(ms, signal);
      changed('poll');
    }
  };
}

/** The live view and its listeners; one per app. */
export class EventFeed {
  private readonly clients = new Set<ServerResponse>();
  private readonly live: LiveView;
  private ping: NodeJS.Timeout | undefined;
  private linger: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: EventsOptions & { pingMs: number; lingerMs: number }) {
    this.live = new LiveView({
      view: o.view,
      sources: o.sources ?? [pollEvery(o.intervalMs ?? 1000)],
      emit: (m) => this.broadcast(m),
      logger: o.logger,
      ...(o.debounceMs !== undefined ? { debounceMs: o.debounceMs } : {}),
      ...(o.refreshMs !== undefined ? { refreshMs: o.refreshMs } : {}),
    });
  }

  /** The live view is running (a client listens, or the last left less than `lingerMs` ago). */
  get running(): boolean {
    return this.live.running;
  }

  add(res: ServerResponse): void {
    if (this.closed) {
      res.end();
      return;
    }
    this.clients.add(res);
    res.on('close', () => this.remove(res));
    clearTimeout(this.linger);
    this.linger = undefined;
    // A newcomer gets the newest view at once when warm (else with the first recompute).
    const latest = this.live.latest;
    if (latest !== undefined) res.write(latest);
    this.ping ??= setInterval(() => this.broadcast(': ping\n\n'), this.o.pingMs);
    this.live.start();
  }

  private remove(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size > 0 || this.closed) return;
    clearInterval(this.ping);
    this.ping = undefined;
    this.linger ??= setTimeout(() => {
      this.linger = undefined;
      if (this.clients.size === 0) this.live.stop();
    }, this.o.lingerMs);
  }

  private broadcast(text: string): void {
    for (const c of this.clients) {
      // A client that stopped reading would make the API buffer every view for it, without
      // bound: past MAX_BUFFERED bytes it is cut off (a live page reconnects at once).
      if (c.writableLength > MAX_BUFFERED) {
        c.destroy();
        continue;
      }
      c.write(text);
    }
  }

  /** Ends every stream (server shutdown: open streams would hold close() forever). */
  close(): void {
    this.closed = true;
    clearInterval(this.ping);
    clearTimeout(this.linger);
    this.live.stop();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}

export function registerEventsRoute(app: FastifyInstance, options: EventsOptions, read: Guard): void {
  const feed = new EventFeed({ pingMs: 15_000, lingerMs: 10_000, ...options });
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
