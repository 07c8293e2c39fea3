/**
 * The ops HTTP endpoints every daemon serves: /healthz (the process is alive and its loop
 * turns), /readyz (it can do its job now: 200 or 503 with the failing checks), /metrics
 * (Prometheus text from the service's own registry), plus optional GET routes returning
 * JSON. Plain node:http on purpose: these daemons need four GET routes, and fastify alone
 * adds ~19 MB of RSS to a process that should stay under 80 MB (bench/README.md).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  ok: boolean;
  detail?: string;
}

export type Readiness = Record<string, ReadinessCheck>;

export interface OpsServerOptions {
  host: string;
  port: number;
  registry: Registry;
  /** Current readiness; ready when every check is ok (an empty record is ready). */
  readiness: () => Readiness;
  /** Extra GET routes (path → JSON body), e.g. the enforcer's /status. */
  routes?: Record<string, () => unknown>;
}

export interface OpsServer {
  /** The bound port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string, type = 'application/json; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Starts listening; resolves once bound. Unknown paths get 404, other methods 405. */
export async function startOpsServer(o: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, JSON.stringify({ code: 'METHOD_NOT_ALLOWED' }));
    void (async () => {
      try {
        if (path === '/healthz') return send(res, 200, JSON.stringify({ status: 'ok' }));
        if (path === '/readyz') {
          const checks = o.readiness();
          const ready = Object.values(checks).every((c) => c.ok);
          return send(res, ready ? 200 : 503, JSON.stringify({ ready, checks }));
        }
        if (path === '/metrics') return send(res, 200, await o.registry.metrics(), o.registry.contentType);
        const route = o.routes?.[path];
        if (route) return send(res, 200, JSON.stringify(await route()));
        send(res, 404, JSON.stringify({ code: 'NOT_FOUND', message: `no route ${path}` }));
      } catch {
        send(res, 500, JSON.stringify({ code: 'INTERNAL' }));
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : o.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
