/**
 * Process and runtime metrics for a natfleet daemon: prom-client's defaults under their
 * standard names (`process_*`, `nodejs_*`, as every Node exporter and Grafana board
 * expects them: no natfleet prefix), each carrying a `service` label (api, compiler,
 * enforcer) so one Prometheus can tell the daemons apart on a host that runs several.
 * Owns only that registration; never touches prom-client's global registry, never logs.
 */
import { collectDefaultMetrics, type Registry } from 'prom-client';

/** A metric every call of collectDefaultMetrics registers; its presence means they are in. */
const MARKER = 'process_cpu_user_seconds_total';

/** The services natfleet runs (the `service` label's values). */
export type NatfleetService = 'api' | 'compiler' | 'enforcer';

/**
 * Registers the default process/runtime metrics on `registry` with `service` as a label.
 * Idempotent per registry: returns false (and registers nothing) when `registry` already
 * holds them, so two callers can never double-register (prom-client would throw).
 */
export function collectProcessMetrics(registry: Registry, service: NatfleetService): boolean {
  if (registry.getSingleMetric(MARKER) !== undefined) return false;
  collectDefaultMetrics({ register: registry, labels: { service } });
  return true;
}
