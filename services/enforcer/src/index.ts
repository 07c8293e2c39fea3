/**
 * @natfleet/enforcer — the per-node enforcer: verify → render → one nft transaction →
 * read back → persist → report; fail static from the state dir; drift repair. The core
 * (Enforcer) is usable without NATS (offer() bundle messages) and with FakeNft.
 */
export { Enforcer, DRIFT_DUTY_FACTOR, MAX_RETRY_FACTOR } from './enforcer.js';
export type { EnforcerOptions, IncomingBundle } from './enforcer.js';
export { statusOf } from './enforcer-status.js';
export type { AdmissionView, EnforcerStatus, Problem, RestoreOutcome, TargetWait, UnverifiedRefusal } from './enforcer-status.js';
export { BundleStore, BUNDLE_FILE, ADMISSION_FILE } from './state-store.js';
export { AdmissionState } from './admission-state.js';
export type { AdmissionStateOptions, UnverifiedAdmission } from './admission-state.js';
export { AdmissionFeed } from './admission-feed.js';
export type { AdmissionFeedOptions } from './admission-feed.js';
export { BundleCache } from './bundle-cache.js';
export type { Held } from './bundle-cache.js';
export { HealthChecks, runHealthCommand, OUTPUT_LIMIT } from './health-checks.js';
export type { CommandResult, HealthChecksOptions, HealthCommand, HealthContext, HealthMonitor } from './health-checks.js';
export { CONNTRACK_STAT_PATH, conntrackBreach, hasThreshold, parseConntrackStat, readConntrackStat } from './conntrack.js';
export type { ConntrackBreach, ConntrackSample, ConntrackThresholds } from './conntrack.js';
export { createMetrics } from './metrics.js';
export type { EnforcerMetrics } from './metrics.js';
export { addRunOptions, addUninstallOptions, parseHealthChecks, parseSize, runConfigFrom, uninstallConfigFrom, DEFAULT_STATE_DIR } from './config.js';
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
  AdmissionClusterError,
  HeaderMismatchError,
  ReadBackError,
  StateFileError,
  isEnforcerError,
  failureCode,
  failureMessage,
} from './errors.js';
export type { EnforcerErrorCode } from './errors.js';
