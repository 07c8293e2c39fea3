/**
 * @natfleet/enforcer — the per-node enforcer: verify → render → one nft transaction →
 * read back → persist → report; fail static from the state dir; drift repair. The core
 * (Enforcer) is usable without NATS (offer() bundle messages) and with FakeNft.
 */
export { Enforcer, DRIFT_DUTY_FACTOR, MAX_RETRY_FACTOR } from './enforcer.js';
export type { EnforcerOptions, IncomingBundle } from './enforcer.js';
export { statusOf } from './enforcer-status.js';
export type { EnforcerStatus, Problem, RestoreOutcome, UnverifiedRefusal } from './enforcer-status.js';
export { BundleStore, BUNDLE_FILE } from './state-store.js';
export { createMetrics } from './metrics.js';
export type { EnforcerMetrics } from './metrics.js';
export { addRunOptions, addUninstallOptions, parseSize, runConfigFrom, uninstallConfigFrom, DEFAULT_STATE_DIR } from './config.js';
export type { NatsSettings, RunConfig, UninstallConfig } from './config.js';
export { NatsLink } from './nats-link.js';
export type { LinkEvent, NatsLinkOptions } from './nats-link.js';
export { BundleFeed } from './bundle-feed.js';
export type { BundleFeedOptions, StallReason } from './bundle-feed.js';
export { StatusReporter, nodeStatusOf } from './status-reporter.js';
export type { NodeIdentity, StatusReporterOptions } from './status-reporter.js';
export { runEnforcer } from './daemon.js';
export type { RunningEnforcer } from './daemon.js';
export { uninstall, DEREGISTER_TIMEOUT_MS } from './uninstall.js';
export type { Deregistration, UninstallResult } from './uninstall.js';
export { buildProgram, main } from './cli.js';
export { ENFORCER_VERSION } from './version.js';
export {
  EnforcerError,
  ConfigError,
  StaleBundleError,
  WrongClusterError,
  HeaderMismatchError,
  ReadBackError,
  StateFileError,
  isEnforcerError,
  failureCode,
  failureMessage,
} from './errors.js';
export type { EnforcerErrorCode } from './errors.js';
