/**
 * The compiler's one settings schema: every setting is a flag with an env fallback and a
 * documented default, parsed and checked at start so a bad value fails before anything
 * connects, with a message naming the setting (commander reports the flag and, for env
 * values, the variable). Also declares the `keygen` subcommand. Owns no I/O beyond what
 * commander does with argv/env; the handlers do the work.
 */
import { hostname } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { bundleSubject } from '@natfleet/bus';
import { DEFAULT_KEY_PREFIX, DEFAULT_NATFLEET_KEY_PREFIX, natfleetPrefixOverlapsCalico } from '@natfleet/model';
import { etcdTlsOptions, loadEtcdTls, loadNatsTls, natsTlsOptions, parseDurationMs, parseList, parseLogLevel, parsePort, parsePositiveInt, type EtcdCredentials, type EtcdTlsFiles, type NatsTls, type NatsTlsFiles } from '@natfleet/service-kit';

export interface CompilerConfig {
  etcdEndpoints: string[];
  /** TLS to etcd (from --etcd-ca-file/--etcd-cert-file/--etcd-key-file); undefined = plain. */
  etcdCredentials: EtcdCredentials | undefined;
  /** Calico v3 resource prefix, without a trailing slash. */
  etcdPrefix: string;
  /** natfleet's own prefix (RolloutPolicies, rollout state, commands, outcomes), outside etcdPrefix. */
  natfleetPrefix: string;
  natsServers: string[];
  natsUser: string | undefined;
  natsPassword: string | undefined;
  /** TLS to NATS (from --nats-ca-file/--nats-cert-file/--nats-key-file); undefined = plain. */
  natsTls: NatsTls | undefined;
  cluster: string;
  signingKeyFile: string;
  /** Quiet period after the last change before compiling. */
  debounceMs: number;
  /** Longest a pending change waits, however steady the stream of writes. */
  maxDelayMs: number;
  /** etcd lease TTL of the leader election (whole seconds: etcd leases have 1 s granularity). */
  leaseTtlSeconds: number;
  replicaId: string;
  streamReplicas: number;
  /** Node GC: decommission nodes silent longer than this (ms); undefined = off (the default). */
  nodeGcAfterMs: number | undefined;
  opsHost: string;
  opsPort: number;
  logLevel: string;
}

export interface KeygenOptions {
  out: string;
  force: boolean;
}

export interface CliHandlers {
  run(config: CompilerConfig): Promise<void>;
  keygen(options: KeygenOptions): Promise<void>;
}

/** Default replica id: unique per process on a host, readable in logs and /readyz. */
export const defaultReplicaId = (): string => `${hostname()}-${process.pid}`;

export const DEFAULTS = {
  etcdEndpoints: ['http://127.0.0.1:2379'],
  etcdPrefix: DEFAULT_KEY_PREFIX,
  natfleetPrefix: DEFAULT_NATFLEET_KEY_PREFIX,
  natsServers: ['nats://127.0.0.1:4222'],
  cluster: 'default',
  debounceMs: 15,
  maxDelayMs: 250,
  leaseTtlSeconds: 5,
  streamReplicas: 1,
  opsHost: '127.0.0.1',
  opsPort: 9464,
  logLevel: 'info',
} as const;

function parseEtcdEndpoints(raw: string): string[] {
  const list = parseList(raw);
  if (list.length === 0) throw new InvalidArgumentError('must list at least one http(s)://host:port URL');
  for (const url of list) {
    if (!/^https?:\/\/[^/\s]+\/?$/.test(url)) throw new InvalidArgumentError(`"${url}" is not an http(s)://host:port URL`);
  }
  return list;
}

function parseNatsServers(raw: string): string[] {
  const list = parseList(raw);
  if (list.length === 0) throw new InvalidArgumentError('must list at least one nats://host:port URL');
  for (const url of list) {
    if (!/^((nats|tls|ws|wss):\/\/)?[^/\s]+(:\d+)?$/.test(url)) throw new InvalidArgumentError(`"${url}" is not a nats://host:port URL`);
  }
  return list;
}

function parsePrefix(raw: string): string {
  const p = raw.trim().replace(/\/+$/, '');
  if (!p.startsWith('/') || p.length < 2) throw new InvalidArgumentError('must be an absolute etcd key prefix like /calico/resources/v3/projectcalico.org');
  return p;
}

function parseCluster(raw: string): string {
  try {
    bundleSubject(raw);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return raw;
}

function parseLeaseTtl(raw: string): number {
  const ms = parseDurationMs(raw);
  if (ms < 1000 || ms % 1000 !== 0) throw new InvalidArgumentError('must be whole seconds, at least 1s (etcd leases count seconds)');
  return ms / 1000;
}

/** The node GC threshold: a duration of at least 1s (hours or days are typical). */
function parseNodeGcAfter(raw: string): number {
  const ms = parseDurationMs(raw);
  if (ms < 1000) throw new InvalidArgumentError('must be at least 1s (and far longer than the enforcers\' --heartbeat, 5s by default: hours are typical)');
  return ms;
}

function parseNonEmpty(raw: string): string {
  if (raw.trim() === '') throw new InvalidArgumentError('must not be empty');
  return raw.trim();
}

const opt = (flags: string, description: string, env: string): Option => new Option(flags, description).env(env);

/** Options of the daemon, in --help order. Defaults are given parsed, with their text for --help. */
function daemonOptions(): Option[] {
  return [
    opt('--etcd-endpoints <urls>', 'etcd client URLs, comma-separated', 'NATFLEET_ETCD_ENDPOINTS')
      .argParser(parseEtcdEndpoints)
      .default([...DEFAULTS.etcdEndpoints], DEFAULTS.etcdEndpoints.join(',')),
    opt('--etcd-prefix <prefix>', 'etcd key prefix of the Calico v3 resources (ippools, felixconfigurations, nodes below it)', 'NATFLEET_ETCD_PREFIX')
      .argParser(parsePrefix)
      .default(DEFAULTS.etcdPrefix),
    opt('--natfleet-prefix <prefix>', "etcd key prefix of natfleet's own resources: RolloutPolicies, rollout state, commands and outcomes (must lie outside --etcd-prefix)", 'NATFLEET_NATFLEET_PREFIX')
      .argParser(parsePrefix)
      .default(DEFAULTS.natfleetPrefix),
    ...etcdTlsOptions(),
    opt('--nats-url <urls>', 'NATS server URLs, comma-separated', 'NATFLEET_NATS_URL')
      .argParser(parseNatsServers)
      .default([...DEFAULTS.natsServers], DEFAULTS.natsServers.join(',')),
    opt('--nats-user <user>', 'NATS user (optional)', 'NATFLEET_NATS_USER'),
    opt('--nats-password <password>', 'NATS password (optional; prefer the env variable)', 'NATFLEET_NATS_PASSWORD'),
    ...natsTlsOptions(),
    opt('--cluster <name>', 'cluster name: bundles go to natfleet.bundle.<name>', 'NATFLEET_CLUSTER').argParser(parseCluster).default(DEFAULTS.cluster),
    opt('--signing-key-file <path>', 'Ed25519 private key (PKCS#8 PEM) that signs bundles; required (make one with `keygen`)', 'NATFLEET_SIGNING_KEY_FILE'),
    opt('--debounce <duration>', 'quiet period that collapses bursts of etcd changes (the first change after a quiet spell compiles at once)', 'NATFLEET_DEBOUNCE')
      .argParser(parseDurationMs)
      .default(DEFAULTS.debounceMs, `${DEFAULTS.debounceMs}ms`),
    opt('--max-delay <duration>', 'longest a change waits for a compile while writes keep coming', 'NATFLEET_MAX_DELAY')
      .argParser(parseDurationMs)
      .default(DEFAULTS.maxDelayMs, `${DEFAULTS.maxDelayMs}ms`),
    opt('--lease-ttl <duration>', 'leader lease TTL in whole seconds: standbys take over within about this long', 'NATFLEET_LEASE_TTL')
      .argParser(parseLeaseTtl)
      .default(DEFAULTS.leaseTtlSeconds, `${DEFAULTS.leaseTtlSeconds}s`),
    // No commander default: the value depends on the process; toConfig() fills it in.
    opt('--replica-id <id>', "this replica's name in the election, logs and /readyz; must be unique (default: <hostname>-<pid>)", 'NATFLEET_REPLICA_ID')
      .argParser(parseNonEmpty),
    opt('--stream-replicas <n>', 'JetStream replicas for the bundle stream and the nodes bucket', 'NATFLEET_STREAM_REPLICAS')
      .argParser(parsePositiveInt)
      .default(DEFAULTS.streamReplicas),
    // No default: off unless asked for.
    opt('--node-gc-after <duration>', 'decommission nodes whose last status is older than this (status key and Node resource deleted, logged, counted); only the leader does it. Off by default', 'NATFLEET_NODE_GC_AFTER')
      .argParser(parseNodeGcAfter),
    opt('--ops-host <host>', 'listen address of /healthz, /readyz, /metrics', 'NATFLEET_OPS_HOST').argParser(parseNonEmpty).default(DEFAULTS.opsHost),
    opt('--ops-port <port>', 'listen port of /healthz, /readyz, /metrics', 'NATFLEET_OPS_PORT').argParser(parsePort).default(DEFAULTS.opsPort),
    opt('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'NATFLEET_LOG_LEVEL').argParser(parseLogLevel).default(DEFAULTS.logLevel),
  ];
}

interface RawOptions extends EtcdTlsFiles, NatsTlsFiles {
  etcdEndpoints: string[];
  etcdPrefix: string;
  natfleetPrefix: string;
  natsUrl: string[];
  natsUser?: string;
  natsPassword?: string;
  cluster: string;
  signingKeyFile?: string;
  debounce: number;
  maxDelay: number;
  leaseTtl: number;
  replicaId?: string;
  streamReplicas: number;
  nodeGcAfter?: number;
  opsHost: string;
  opsPort: number;
  logLevel: string;
}

/**
 * Cross-setting checks commander cannot express. Returns the problem naming the
 * setting(s), or undefined when the settings are consistent.
 */
export function configProblem(o: RawOptions): string | undefined {
  if (!o.signingKeyFile) return "required option '--signing-key-file <path>' (env NATFLEET_SIGNING_KEY_FILE) not specified";
  if (natfleetPrefixOverlapsCalico(o.natfleetPrefix, o.etcdPrefix)) return `option '--natfleet-prefix' (${o.natfleetPrefix}) must lie outside '--etcd-prefix' (${o.etcdPrefix})`;
  if (o.maxDelay < o.debounce) return `option '--max-delay' (${o.maxDelay}ms) must not be shorter than '--debounce' (${o.debounce}ms)`;
  if ((o.natsUser === undefined) !== (o.natsPassword === undefined)) return "options '--nats-user' and '--nats-password' must be given together";
  try {
    loadEtcdTls(o, o.etcdEndpoints);
    loadNatsTls(o);
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

function toConfig(o: RawOptions): CompilerConfig {
  return {
    etcdEndpoints: o.etcdEndpoints,
    etcdCredentials: loadEtcdTls(o, o.etcdEndpoints),
    etcdPrefix: o.etcdPrefix,
    natfleetPrefix: o.natfleetPrefix,
    natsServers: o.natsUrl,
    natsUser: o.natsUser,
    natsPassword: o.natsPassword,
    natsTls: loadNatsTls(o),
    cluster: o.cluster,
    signingKeyFile: o.signingKeyFile ?? '',
    debounceMs: o.debounce,
    maxDelayMs: o.maxDelay,
    leaseTtlSeconds: o.leaseTtl,
    replicaId: o.replicaId ?? defaultReplicaId(),
    streamReplicas: o.streamReplicas,
    nodeGcAfterMs: o.nodeGcAfter,
    opsHost: o.opsHost,
    opsPort: o.opsPort,
    logLevel: o.logLevel,
  };
}

/**
 * The `natfleet-compiler` command line: the daemon (root command) and `keygen`. Parse with
 * `parseAsync(argv)`; invalid settings end the process through commander (exit code 1,
 * message on stderr) unless the caller set `exitOverride()`.
 */
export function buildCli(handlers: CliHandlers): Command {
  const program = new Command('natfleet-compiler')
    .description(
      'Watches IPPools, FelixConfigurations and Nodes in etcd, compiles them into one signed NAT bundle per ' +
        'change (version = etcd revision) and publishes it to NATS JetStream (stream NATFLEET_BUNDLES, subject ' +
        'natfleet.bundle.<cluster>). Replicas elect one leader in etcd; standbys take over within the lease TTL. ' +
        'Registers enforcers announced in the natfleet-nodes KV bucket as Node resources.',
    )
    .showHelpAfterError('(see natfleet-compiler --help for every setting)')
    .allowExcessArguments(false);
  for (const o of daemonOptions()) program.addOption(o);
  program.action(async () => {
    const raw = program.opts<RawOptions>();
    const problem = configProblem(raw);
    if (problem) program.error(`error: ${problem}`, { code: 'natfleet.config', exitCode: 1 });
    await handlers.run(toConfig(raw));
  });

  program
    .command('keygen')
    .description('writes a new Ed25519 signing key pair: <out>/signing.key (0600, for --signing-key-file) and <out>/signing.pub (for enforcers); prints the keyId')
    .requiredOption('--out <dir>', 'directory to write signing.key and signing.pub into (created if missing)')
    .option('--force', 'overwrite an existing signing.key', false)
    .action(async (o: { out: string; force: boolean }) => handlers.keygen({ out: o.out, force: o.force }));
  return program;
}
