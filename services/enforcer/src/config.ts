/**
 * The enforcer's settings: one schema (flag, env variable, default, parser) from which
 * both the commander options and `--help` are made, and the validation that turns the
 * parsed values into a RunConfig. Bad values fail at start with a message naming the
 * flag and its env variable. Reads only the trusted-keys file; never connects anywhere.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { loadTrustedKeys, DEFAULT_MAX_BUNDLE_BYTES, type TrustedKeys } from '@natfleet/bundle';
import { NODE_NAME_RE } from '@natfleet/bus';
import { loadNatsTls, parseDurationMs, parseLabels, parseList, parseLogLevel, parsePort, type NatsTls } from '@natfleet/service-kit';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ConfigError } from './errors.js';
import type { HealthCommand } from './health-checks.js';

/** Everything `natfleet-enforcer run` needs, validated. */
export interface RunConfig {
  nodeName: string;
  cluster: string;
  labels: Record<string, string>;
  /** The node's host IPs: reported so the compiler registers the Node. */
  addresses: string[];
  natsServers: string[];
  natsUser?: string;
  natsPassword?: string;
  /** TLS to NATS (--nats-ca-file/--nats-cert-file/--nats-key-file); absent = plain. */
  natsTls?: NatsTls;
  trustedKeysFile: string;
  trustedKeys: TrustedKeys;
  stateDir: string;
  /** Run nft inside this network namespace (tests, local stack); undefined = the enforcer's own. */
  netns?: string;
  heartbeatMs: number;
  /** Idle heartbeat asked of the bundle consumer; two missed = the feed is stalled. */
  feedHeartbeatMs: number;
  /** How often the stream is asked whether a bundle went undelivered; 0 = never. */
  feedCheckIntervalMs: number;
  /** Pause between drift checks; undefined = by backend (DEFAULT_DRIFT_INTERVAL_MS). */
  driftIntervalMs?: number;
  /** Which nft implementation: `auto` (libnftables in process, else the nft binary), `libnftables` or `cli`. */
  nftBackend: NftBackendChoice;
  /** The libnftables shared object to load; undefined = `libnftables.so.1` from the system's library path. */
  nftLibrary?: string;
  retryIntervalMs: number;
  maxBundleBytes: number;
  opsHost: string;
  opsPort: number;
  logLevel: string;
  /** Re-read the newest admission this often (besides after every reconnect). */
  admissionPollMs: number;
  /** The node's own post-apply health checks. */
  healthChecks: HealthCommand[];
  /** Run the RolloutPolicy's health commands (argv from a signed admission, as root). */
  allowPolicyHealthCommands: boolean;
  /** Watch the conntrack counters this long after any apply. */
  healthWatchMs: number;
  /** Fail health when conntrack insert_failed grows by more than this after an apply; undefined = not checked. */
  conntrackInsertFailedDelta?: number;
  /** Same for conntrack drop. */
  conntrackDropDelta?: number;
}

/** Where and as whom to reach NATS (the daemon's NATS settings). */
export interface NatsSettings {
  servers: string[];
  user?: string;
  password?: string;
  tls?: NatsTls;
}

/** Settings of `natfleet-enforcer uninstall`. */
export interface UninstallConfig {
  stateDir: string;
  netns?: string;
  logLevel: string;
  /** The node whose key in natfleet-nodes is deleted (deregistration). */
  nodeName: string;
  /** NATS to deregister through; undefined when no --nats-url / NATFLEET_NATS_URL was given. */
  nats?: NatsSettings;
  /** --skip-deregister: leave the node registered even when NATS settings are given. */
  skipDeregister: boolean;
}

export const DEFAULT_STATE_DIR = '/var/lib/natfleet';
const CLUSTER_RE = /^[A-Za-z0-9_-]{1,64}$/;
const NETNS_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

/** One setting: flag, env variable, help, default (already parsed) and how it shows in --help. */
interface Setting {
  key: string;
  flags: string;
  env: string;
  help: string;
  parse?: (raw: string) => unknown;
  default?: unknown;
  defaultText?: string;
}

/** A Kubernetes node name: DNS-1123 subdomain (what the Node resource it registers as must be called). */
const DNS1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

const nodeName = (raw: string): string => {
  // Both: its KV key must be a NATS subject, and its Node resource a valid Calico name —
  // otherwise the node reports but is never registered, described or decommissioned.
  if (!NODE_NAME_RE.test(raw) || !DNS1123_SUBDOMAIN.test(raw)) {
    const hint = raw.toLowerCase() !== raw && DNS1123_SUBDOMAIN.test(raw.toLowerCase()) ? ` (did you mean ${raw.toLowerCase()}?)` : '';
    throw new InvalidArgumentError(`must be a Kubernetes node name: lower-case letters, digits, '-' and '.', at most 253 characters${hint}`);
  }
  return raw;
};
const cluster = (raw: string): string => {
  if (!CLUSTER_RE.test(raw)) throw new InvalidArgumentError(`must match ${CLUSTER_RE} (one NATS subject token)`);
  return raw;
};
const addresses = (raw: string): string[] => {
  const list = parseList(raw);
  const bad = list.find((a) => isIP(a) === 0);
  if (bad !== undefined) throw new InvalidArgumentError(`"${bad}" is not an IP address`);
  return list;
};
const natsServers = (raw: string): string[] => {
  const list = parseList(raw);
  if (list.length === 0) throw new InvalidArgumentError('must name at least one server');
  const bad = list.find((u) => !/^(nats|tls|ws|wss):\/\/[^\s/]+$|^[^\s:/]+(:\d+)?$/.test(u));
  if (bad !== undefined) throw new InvalidArgumentError(`"${bad}" is not a NATS URL like nats://host:4222`);
  return list;
};
const netns = (raw: string): string => {
  if (!NETNS_RE.test(raw)) throw new InvalidArgumentError('must be a network namespace name (as in `ip netns list`)');
  return raw;
};
/** `--nft-backend`: which Nft implementation the daemon uses. */
export type NftBackendChoice = 'auto' | 'libnftables' | 'cli';
const NFT_BACKENDS: readonly NftBackendChoice[] = ['auto', 'libnftables', 'cli'];
const nftBackend = (raw: string): NftBackendChoice => {
  if (!(NFT_BACKENDS as readonly string[]).includes(raw)) throw new InvalidArgumentError(`must be one of ${NFT_BACKENDS.join(', ')}`);
  return raw as NftBackendChoice;
};

/** Drift-check interval when none is configured: a generation read costs ~0.1 ms in process, a perl process with the nft binary. */
export const DEFAULT_DRIFT_INTERVAL_MS: Readonly<Record<'libnftables' | 'cli' | 'fake', number>> = { libnftables: 250, cli: 2_000, fake: 2_000 };

const positiveDuration = (raw: string): number => {
  const ms = parseDurationMs(raw);
  if (ms < 1) throw new InvalidArgumentError('must be longer than 0');
  return ms;
};
/** The server refuses a pull heartbeat over half the pull expiry (nats.js: 30 s). */
const feedHeartbeat = (raw: string): number => {
  const ms = parseDurationMs(raw);
  if (ms < 100 || ms > 15_000) throw new InvalidArgumentError('must be between 100ms and 15s');
  return ms;
};

const count = (raw: string): number => {
  if (!/^\d+$/.test(raw.trim())) throw new InvalidArgumentError('must be a non-negative integer');
  return Number(raw.trim());
};

/**
 * The node's health checks: a JSON list of {name, command: [argv...], timeout: "10s"}
 * (timeout optional, default 10s). The command runs without a shell.
 */
export function parseHealthChecks(raw: string): HealthCommand[] {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new InvalidArgumentError('must be a JSON list like [{"name":"dns","command":["dig","+short","example.com"],"timeout":"5s"}]');
  }
  if (!Array.isArray(v)) throw new InvalidArgumentError('must be a JSON list of {name, command, timeout}');
  const names = new Set<string>();
  return v.map((c: unknown, i) => {
    const o = c as Record<string, unknown>;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new InvalidArgumentError(`[${i}]: must be an object {name, command, timeout}`);
    const unknown = Object.keys(o).find((k) => !['name', 'command', 'timeout'].includes(k));
    if (unknown !== undefined) throw new InvalidArgumentError(`[${i}]: unknown field ${JSON.stringify(unknown)} (name, command, timeout)`);
    if (typeof o.name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(o.name)) throw new InvalidArgumentError(`[${i}].name: must be 1-64 of letters, digits, '_', '.', '-'`);
    if (names.has(o.name)) throw new InvalidArgumentError(`[${i}].name: ${o.name} given twice`);
    names.add(o.name);
    if (!Array.isArray(o.command) || o.command.length === 0 || !o.command.every((x) => typeof x === 'string') || o.command[0] === '') {
      throw new InvalidArgumentError(`[${i}].command: must be a non-empty list of strings (argv, no shell)`);
    }
    let timeoutMs = 10_000;
    if (o.timeout !== undefined) {
      if (typeof o.timeout !== 'string') throw new InvalidArgumentError(`[${i}].timeout: must be a duration like "10s"`);
      try {
        timeoutMs = parseDurationMs(o.timeout);
      } catch {
        throw new InvalidArgumentError(`[${i}].timeout: must be a duration like "10s"`);
      }
      if (timeoutMs < 1) throw new InvalidArgumentError(`[${i}].timeout: must be longer than 0`);
    }
    return { name: o.name, command: o.command as string[], timeoutMs };
  });
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, kb: 1000, mib: 1024 ** 2, mb: 1000 ** 2, gib: 1024 ** 3 };

/** Byte size: `65536`, `64KiB`, `32MiB`, `1MB`. Returns bytes (≥ 1). */
export function parseSize(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$/i.exec(raw);
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined) throw new InvalidArgumentError('must be a size like 65536, 64KiB, 32MiB');
  const n = Math.floor(Number(m[1]) * unit);
  if (n < 1) throw new InvalidArgumentError('must be at least 1 byte');
  return n;
}

const STATE_DIR: Setting = { key: 'stateDir', flags: '--state-dir <dir>', env: 'NATFLEET_STATE_DIR', help: 'where the last good bundle is kept (fail static)', default: DEFAULT_STATE_DIR };
const NETNS: Setting = { key: 'netns', flags: '--netns <name>', env: 'NATFLEET_NETNS', help: 'run nft inside this network namespace (tests, local stack)', parse: netns };
const LOG_LEVEL: Setting = { key: 'logLevel', flags: '--log-level <level>', env: 'NATFLEET_LOG_LEVEL', help: 'fatal, error, warn, info, debug, trace or silent', parse: parseLogLevel, default: 'info' };

/** The schema of `run`. Defaults are documented here and shown by --help. */
const RUN_SETTINGS: readonly Setting[] = [
  { key: 'nodeName', flags: '--node-name <name>', env: 'NATFLEET_NODE_NAME', help: "this node's name (its KV key and Node resource)", parse: nodeName, default: hostname().toLowerCase(), defaultText: 'the host name, lower-cased (as the kubelet names nodes)' },
  { key: 'cluster', flags: '--cluster <name>', env: 'NATFLEET_CLUSTER', help: 'cluster whose bundles to enforce (subject natfleet.bundle.<cluster>)', parse: cluster, default: 'default' },
  { key: 'labels', flags: '--labels <k=v,...>', env: 'NATFLEET_LABELS', help: "the node's labels, reported for the Node resource", parse: parseLabels, default: {}, defaultText: 'none' },
  { key: 'addresses', flags: '--addresses <ip,...>', env: 'NATFLEET_ADDRESSES', help: "the node's host IPs, reported for the Node resource", parse: addresses, default: [], defaultText: 'none' },
  { key: 'natsServers', flags: '--nats-url <url,...>', env: 'NATFLEET_NATS_URL', help: 'NATS server URL(s)', parse: natsServers, default: ['nats://127.0.0.1:4222'], defaultText: 'nats://127.0.0.1:4222' },
  { key: 'natsUser', flags: '--nats-user <user>', env: 'NATFLEET_NATS_USER', help: 'NATS user name (optional)' },
  { key: 'natsPassword', flags: '--nats-password <password>', env: 'NATFLEET_NATS_PASSWORD', help: 'NATS password (optional; prefer the env variable)' },
  { key: 'natsCaFile', flags: '--nats-ca-file <file>', env: 'NATFLEET_NATS_CA_FILE', help: 'CA certificate (PEM) that signed the NATS servers; requires TLS to NATS' },
  { key: 'natsCertFile', flags: '--nats-cert-file <file>', env: 'NATFLEET_NATS_CERT_FILE', help: 'client certificate (PEM) for NATS TLS client auth' },
  { key: 'natsKeyFile', flags: '--nats-key-file <file>', env: 'NATFLEET_NATS_KEY_FILE', help: 'private key (PEM) of --nats-cert-file' },
  { key: 'trustedKeysFile', flags: '--trusted-keys-file <file>', env: 'NATFLEET_TRUSTED_KEYS_FILE', help: 'PEM file of one or more Ed25519 public keys whose bundles are trusted (required)' },
  STATE_DIR,
  NETNS,
  { key: 'heartbeatMs', flags: '--heartbeat <duration>', env: 'NATFLEET_HEARTBEAT', help: 'how often the node status is rewritten', parse: positiveDuration, default: 5_000, defaultText: '5s' },
  { key: 'feedHeartbeatMs', flags: '--feed-heartbeat <duration>', env: 'NATFLEET_FEED_HEARTBEAT', help: 'idle heartbeat of the bundle consumer: two missed in a row mean its NATS server is gone, and the consumer is re-created (100ms-15s)', parse: feedHeartbeat, default: 500, defaultText: '500ms' },
  { key: 'feedCheckIntervalMs', flags: '--feed-check-interval <duration>', env: 'NATFLEET_FEED_CHECK_INTERVAL', help: 'how often to ask the stream whether a bundle went undelivered (seen twice in a row = stalled, consumer re-created); 0 = never', parse: parseDurationMs, default: 1_000, defaultText: '1s' },
  {
    key: 'driftIntervalMs',
    flags: '--drift-interval <duration>',
    env: 'NATFLEET_DRIFT_INTERVAL',
    help: 'pause between checks that the table is still as applied (one ruleset-generation read each; stretched when a full read-back is slow)',
    parse: positiveDuration,
    defaultText: '250ms with libnftables, 2s with the nft binary',
  },
  {
    key: 'nftBackend',
    flags: '--nft-backend <backend>',
    env: 'NATFLEET_NFT_BACKEND',
    help: 'auto (libnftables in process, falling back to the nft binary when it cannot be loaded, logged), libnftables (required) or cli (the nft binary, a process per call)',
    parse: nftBackend,
    default: 'auto',
  },
  { key: 'nftLibrary', flags: '--nft-library <path>', env: 'NATFLEET_NFT_LIBRARY', help: 'the libnftables shared object to load (Debian package libnftables1)', defaultText: 'libnftables.so.1' },
  { key: 'retryIntervalMs', flags: '--retry-interval <duration>', env: 'NATFLEET_RETRY_INTERVAL', help: 'first retry after a failed apply or save, doubling up to 12x', parse: positiveDuration, default: 5_000, defaultText: '5s' },
  { key: 'maxBundleBytes', flags: '--max-bundle-bytes <size>', env: 'NATFLEET_MAX_BUNDLE_BYTES', help: 'refuse bundles larger than this, compressed or inflated', parse: parseSize, default: DEFAULT_MAX_BUNDLE_BYTES, defaultText: '32MiB' },
  { key: 'admissionPollMs', flags: '--admission-poll <duration>', env: 'NATFLEET_ADMISSION_POLL', help: 'how often the newest rollout admission is re-read (it is also read after every reconnect and followed on a subscription; this catches one lost around a reconnect)', parse: positiveDuration, default: 10_000, defaultText: '10s' },
  {
    key: 'healthChecks',
    flags: '--health-checks <json>',
    env: 'NATFLEET_HEALTH_CHECKS',
    help: 'post-apply health checks of this node, run after every apply: JSON list of {"name", "command": [argv, no shell], "timeout": "10s"}; exit 0 = healthy, else the node reports health failed (HEALTH_CHECK_FAILED / HEALTH_CHECK_TIMEOUT, last 2 KiB of output) and a staged rollout halts; env NATFLEET_NODE and NATFLEET_VERSION are set',
    parse: parseHealthChecks,
    default: [],
    defaultText: 'none',
  },
  { key: 'healthWatchMs', flags: '--health-watch <duration>', env: 'NATFLEET_HEALTH_WATCH', help: 'watch the conntrack counters this long after any apply (and for as long as a staged rollout of the applied candidate is in progress)', parse: parseDurationMs, default: 30_000, defaultText: '30s' },
  { key: 'conntrackInsertFailedDelta', flags: '--conntrack-insert-failed-delta <n>', env: 'NATFLEET_CONNTRACK_INSERT_FAILED_DELTA', help: 'health fails (CONNTRACK_INSERT_FAILED) when conntrack insert_failed (summed over CPUs, in the netns) grows by more than n since the apply; a RolloutPolicy may set its own for its candidate', parse: count, defaultText: 'off' },
  { key: 'conntrackDropDelta', flags: '--conntrack-drop-delta <n>', env: 'NATFLEET_CONNTRACK_DROP_DELTA', help: 'health fails (CONNTRACK_DROP) when conntrack drop grows by more than n since the apply', parse: count, defaultText: 'off' },
  { key: 'opsHost', flags: '--ops-host <host>', env: 'NATFLEET_OPS_HOST', help: 'address of /healthz, /readyz, /metrics, /status', default: '127.0.0.1' },
  { key: 'opsPort', flags: '--ops-port <port>', env: 'NATFLEET_OPS_PORT', help: 'port of the ops endpoints (0 = any)', parse: parsePort, default: 9465 },
  LOG_LEVEL,
];

const setting = (key: string): Setting => RUN_SETTINGS.find((s) => s.key === key)!;

/**
 * The schema of `uninstall`: the daemon's state, netns, node name and NATS settings (so the
 * same env file serves both), except that the NATS URL has no default: without one, the
 * node is not deregistered.
 */
const UNINSTALL_SETTINGS: readonly Setting[] = [
  STATE_DIR,
  NETNS,
  setting('nodeName'),
  { ...setting('natsServers'), help: 'NATS server URL(s): when given, uninstall also deregisters the node (deletes its natfleet-nodes key)', default: undefined, defaultText: undefined },
  setting('natsUser'),
  setting('natsPassword'),
  setting('natsCaFile'),
  setting('natsCertFile'),
  setting('natsKeyFile'),
  LOG_LEVEL,
];

function addSettings(cmd: Command, settings: readonly Setting[]): Command {
  for (const s of settings) {
    const opt = new Option(s.flags, s.help).env(s.env);
    if (s.parse) opt.argParser(s.parse);
    if (s.default !== undefined) opt.default(s.default, s.defaultText);
    cmd.addOption(opt);
  }
  return cmd;
}

/** Adds the `run` options (with env fallbacks and defaults) to `cmd`. */
export const addRunOptions = (cmd: Command): Command =>
  // A security decision on the command line: no env variable (commander would take any value of one as true).
  addSettings(cmd, RUN_SETTINGS).addOption(
    new Option(
      '--allow-policy-health-commands',
      "run the health commands a RolloutPolicy asks for (its argv comes in a signed admission and runs as this enforcer's user, usually root: anyone who can get the compiler key or write RolloutPolicies can then run code on every admitted node, a bigger power than NAT rules). Without it they are skipped (logged once); the policy's conntrack thresholds always apply",
    ).default(false),
  );
/** Adds the `uninstall` options to `cmd`. */
export const addUninstallOptions = (cmd: Command): Command =>
  // A one-off decision on the command line: no env variable (commander would take any value of one as true).
  addSettings(cmd, UNINSTALL_SETTINGS).addOption(new Option('--skip-deregister', 'remove the table and state only; leave the node registered (its natfleet-nodes key and Node stay)').default(false));

/** Re-keys commander's `opts()` (named after the flags) by setting key. */
function valuesOf(settings: readonly Setting[], opts: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(settings.map((s) => [s.key, opts[new Option(s.flags).attributeName()]]));
}

/** `--flag (ENV)`, how errors name a setting. */
function settingName(key: string): string {
  const s = RUN_SETTINGS.find((x) => x.key === key)!;
  return `${s.flags.split(' ')[0]} (${s.env})`;
}

/**
 * Validates parsed `run` options (commander's `opts()`) into a RunConfig, reading the
 * trusted keys. Throws ConfigError naming the setting: the keys file missing, unreadable,
 * or holding anything but Ed25519 public keys; a user without a password or vice versa.
 */
export function runConfigFrom(parsed: Record<string, unknown>): RunConfig {
  const opts = valuesOf(RUN_SETTINGS, parsed);
  const file = opts.trustedKeysFile as string | undefined;
  if (!file) throw new ConfigError(settingName('trustedKeysFile'), 'is required: the PEM public key(s) bundles must be signed with');
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(settingName('trustedKeysFile'), `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  // node:crypto derives a public key from a private one: refuse it, the signing key must never sit on nodes.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new ConfigError(settingName('trustedKeysFile'), `${file} holds a private key: give the public key(s) only`);
  }
  let trustedKeys: TrustedKeys;
  try {
    trustedKeys = loadTrustedKeys([pem]);
  } catch (err) {
    throw new ConfigError(settingName('trustedKeysFile'), `${file}: ${(err as Error).message}`, { cause: err });
  }
  if (trustedKeys.size === 0) throw new ConfigError(settingName('trustedKeysFile'), `${file} holds no public key`);
  const { user: natsUser, password: natsPassword, tls: natsTls } = natsCredentials(opts);
  const stateDir = opts.stateDir as string;
  if (!stateDir) throw new ConfigError(settingName('stateDir'), 'must not be empty');
  return {
    nodeName: opts.nodeName as string,
    cluster: opts.cluster as string,
    labels: opts.labels as Record<string, string>,
    addresses: opts.addresses as string[],
    natsServers: opts.natsServers as string[],
    ...(natsUser !== undefined ? { natsUser, natsPassword } : {}),
    ...(natsTls ? { natsTls } : {}),
    trustedKeysFile: file,
    trustedKeys,
    stateDir,
    ...(opts.netns !== undefined ? { netns: opts.netns as string } : {}),
    heartbeatMs: opts.heartbeatMs as number,
    feedHeartbeatMs: opts.feedHeartbeatMs as number,
    feedCheckIntervalMs: opts.feedCheckIntervalMs as number,
    ...(opts.driftIntervalMs !== undefined ? { driftIntervalMs: opts.driftIntervalMs as number } : {}),
    nftBackend: opts.nftBackend as NftBackendChoice,
    ...(opts.nftLibrary !== undefined ? { nftLibrary: opts.nftLibrary as string } : {}),
    retryIntervalMs: opts.retryIntervalMs as number,
    maxBundleBytes: opts.maxBundleBytes as number,
    opsHost: opts.opsHost as string,
    opsPort: opts.opsPort as number,
    logLevel: opts.logLevel as string,
    admissionPollMs: opts.admissionPollMs as number,
    healthChecks: opts.healthChecks as HealthCommand[],
    allowPolicyHealthCommands: parsed['allowPolicyHealthCommands'] === true,
    healthWatchMs: opts.healthWatchMs as number,
    ...(opts.conntrackInsertFailedDelta !== undefined ? { conntrackInsertFailedDelta: opts.conntrackInsertFailedDelta as number } : {}),
    ...(opts.conntrackDropDelta !== undefined ? { conntrackDropDelta: opts.conntrackDropDelta as number } : {}),
  };
}

/** User/password (given together) and TLS files of the NATS settings; throws ConfigError naming the setting. */
function natsCredentials(opts: Record<string, unknown>): Omit<NatsSettings, 'servers'> {
  const user = opts.natsUser as string | undefined;
  const password = opts.natsPassword as string | undefined;
  if ((user === undefined) !== (password === undefined)) {
    throw new ConfigError(user === undefined ? settingName('natsUser') : settingName('natsPassword'), 'NATS user and password go together');
  }
  let tls: NatsTls | undefined;
  try {
    tls = loadNatsTls({ natsCaFile: opts.natsCaFile as string | undefined, natsCertFile: opts.natsCertFile as string | undefined, natsKeyFile: opts.natsKeyFile as string | undefined });
  } catch (err) {
    throw new ConfigError(settingName('natsCaFile'), (err as Error).message, { cause: err });
  }
  return { ...(user !== undefined ? { user, password: password ?? '' } : {}), ...(tls ? { tls } : {}) };
}

/**
 * Validates parsed `uninstall` options. `nats` is set only when a NATS URL was given (flag
 * or env) and --skip-deregister was not; the credentials are checked as for `run` either way.
 */
export function uninstallConfigFrom(parsed: Record<string, unknown>): UninstallConfig {
  const opts = valuesOf(UNINSTALL_SETTINGS, parsed);
  const stateDir = opts.stateDir as string;
  if (!stateDir) throw new ConfigError('--state-dir (NATFLEET_STATE_DIR)', 'must not be empty');
  const credentials = natsCredentials(opts);
  const servers = opts.natsServers as string[] | undefined;
  const skipDeregister = parsed['skipDeregister'] === true;
  return {
    stateDir,
    ...(opts.netns !== undefined ? { netns: opts.netns as string } : {}),
    logLevel: opts.logLevel as string,
    nodeName: opts.nodeName as string,
    ...(servers !== undefined && !skipDeregister ? { nats: { servers, ...credentials } } : {}),
    skipDeregister,
  };
}
