/**
 * The API's own Prometheus metrics, registered on the registry main.ts creates (never
 * prom-client's global one): per-request latency and counts, and the fleet gauges of
 * fleet-metrics.ts. buildApp calls `registerApiMetrics` once per app.
 *
 *   natfleet_api_request_duration_seconds{method,route,status_code}   histogram
 *   natfleet_api_requests_total{method,route,status}                  counter (kept for existing queries)
 *
 * `route` is fastify's route pattern (`/v1/:plural/:name`), never the raw URL, and
 * `unmatched` for a request no route took (404s, malformed URLs): its cardinality is the
 * number of routes, whatever clients send. Process metrics (process_*, nodejs_*) are
 * main.ts's, through service-kit's collectProcessMetrics.
 * Must never read a request body or a header value into a label.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram } from 'prom-client';
import { FleetMetrics, type FleetMetricsOptions } from './fleet-metrics.js';

/** The `route` label of a request no route matched. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Latency buckets, seconds: reads answer in ms; a write waits for etcd, an explain may compile. */
export const REQUEST_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface ApiMetrics {
  requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  requests: Counter<'method' | 'route' | 'status'>;
  fleet: FleetMetrics;
}

/**
 * Registers the request metrics (an onResponse hook on `app`: call it before the routes
 * are added) and the fleet gauges on `o.registry`. Throws prom-client's "already
 * registered" error when called twice with one registry.
 */
export function registerApiMetrics(app: FastifyInstance, o: FleetMetricsOptions): ApiMetrics {
  const registers = [o.registry];
  const requestDuration = new Histogram({
    name: 'natfleet_api_request_duration_seconds',
    help: 'HTTP request latency, from the request reaching fastify to the response sent, by method, route pattern (unmatched when no route took it) and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: REQUEST_DURATION_BUCKETS,
    registers,
  });
  const requests = new Counter({
    name: 'natfleet_api_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? UNMATCHED_ROUTE;
    const status = String(reply.statusCode);
    requestDuration.observe({ method: req.method, route, status_code: status }, reply.elapsedTime / 1_000);
    requests.inc({ method: req.method, route, status });
  });
  return { requestDuration, requests, fleet: new FleetMetrics(o) };
}
