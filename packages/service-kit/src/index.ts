/**
 * @natfleet/service-kit — shared plumbing for natfleet daemons: settings parsers (for
 * commander options with env fallbacks), the pino logger, the ops HTTP server, process metrics, shutdown.
 */
export { parseDurationMs, parseLabels, parseList, parseLogLevel, parsePort, parsePositiveInt } from './parsers.js';
export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { startOpsServer } from './ops-server.js';
export { collectProcessMetrics } from './process-metrics.js';
export type { NatfleetService } from './process-metrics.js';
export type { OpsServer, OpsServerOptions, Readiness, ReadinessCheck } from './ops-server.js';
export { onShutdown, sleep } from './lifecycle.js';
export { etcdTlsOptions, loadEtcdTls } from './etcd-tls.js';
export type { EtcdCredentials, EtcdTlsFiles } from './etcd-tls.js';
export { loadNatsTls, natsTlsOptions } from './nats-tls.js';
export type { NatsTls, NatsTlsFiles } from './nats-tls.js';
