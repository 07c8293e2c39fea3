/**
 * The ops HTTP endpoints every daemon serves: /healthz (the process is alive and its loop
 * turns), /readyz (it can do its job now: 200 or 503 with the failing checks), /metrics
 * (Prometheus text from the service's own registry). Services may add routes.
 */
import Fastify, { type FastifyInstance } from 'fastify';
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
  /** Extra routes (e.g. the API). Called before listen. */
  routes?: (app: FastifyInstance) => void | Promise<void>;
}

export interface OpsServer {
  app: FastifyInstance;
  /** The bound port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

export async function startOpsServer(o: OpsServerOptions): Promise<OpsServer> {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks = o.readiness();
    const ready = Object.values(checks).every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({ ready, checks });
  });
  app.get('/metrics', async (_req, reply) => reply.type(o.registry.contentType).send(await o.registry.metrics()));
  if (o.routes) await o.routes(app);
  await app.listen({ host: o.host, port: o.port });
  const addr = app.server.address();
  return { app, port: typeof addr === 'object' && addr ? addr.port : o.port, close: () => app.close() };
}
