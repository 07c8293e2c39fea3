#!/usr/bin/env node
/**
 * natfleet-api: the REST API. Settings from flags or NATFLEET_* env (flags win); a bad
 * setting stops it at start with a message naming the setting.
 */
import { Command, Option } from 'commander';
import { Etcd3 } from 'etcd3';
import { connect, type NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import type { TrustedKeys } from '@natfleet/bundle';
import { inboxPrefix } from '@natfleet/bus';
import { DEFAULT_KEY_PREFIX, DEFAULT_NATFLEET_KEY_PREFIX } from '@natfleet/model';
import { EtcdStore } from '@natfleet/store';
import { collectProcessMetrics, createLogger, etcdTlsOptions, loadEtcdTls, loadNatsTls, natsTlsOptions, onShutdown, parseDurationMs, parseList, parseLogLevel, parsePort, parsePositiveInt, type EtcdCredentials, type NatsTls } from '@natfleet/service-kit';
import { buildApp } from './app.js';
import { TokenSet } from './auth.js';
import { ResourceService } from './resource-service.js';
import { RolloutPolicyService } from './rollout-policy-service.js';
import { RolloutControlService } from './rollout-control-service.js';
import { NodeService } from './node-service.js';
import { RolloutService } from './rollout-service.js';
import { readTrustedKeysFile } from './trusted-keys.js';

const program = new Command('natfleet-api')
  .description('natfleet REST API: pools and NAT config in (Calico v3 shape), rollout status out.')
  .addOption(new Option('--etcd-endpoints <urls>', 'etcd client URLs, comma-separated').env('NATFLEET_ETCD_ENDPOINTS').default(['http://127.0.0.1:2379'], 'http://127.0.0.1:2379').argParser(parseList))
  .addOption(new Option('--etcd-prefix <prefix>', 'key prefix of the Calico v3 resources').env('NATFLEET_ETCD_PREFIX').default(DEFAULT_KEY_PREFIX))
  .addOption(new Option('--natfleet-prefix <prefix>', "key prefix of natfleet's own resources (RolloutPolicy, rollout state, commands, outcomes); must lie outside --etcd-prefix").env('NATFLEET_NATFLEET_PREFIX').default(DEFAULT_NATFLEET_KEY_PREFIX))
  .addOption(new Option('--nats-url <urls>', 'NATS server URLs, comma-separated').env('NATFLEET_NATS_URL').default(['nats://127.0.0.1:4222'], 'nats://127.0.0.1:4222').argParser(parseList))
  .addOption(new Option('--nats-user <user>', 'NATS user').env('NATFLEET_NATS_USER'))
  .addOption(new Option('--nats-password <password>', 'NATS password').env('NATFLEET_NATS_PASSWORD'))
  .addOption(new Option('--cluster <name>', 'cluster name (bundle subject natfleet.bundle.<cluster>)').env('NATFLEET_CLUSTER').default('default'))
  .addOption(new Option('--token-file <file>', 'bearer tokens, one "<token> read|write" per line').env('NATFLEET_API_TOKEN_FILE').makeOptionMandatory())
  .addOption(new Option('--host <host>', 'listen address').env('NATFLEET_API_HOST').default('127.0.0.1'))
  .addOption(new Option('--port <port>', 'listen port (0 = any free port)').env('NATFLEET_API_PORT').default(8080).argParser(parsePort))
  .addOption(new Option('--body-limit <bytes>', 'largest request body').env('NATFLEET_API_BODY_LIMIT').default(1024 * 1024, '1 MiB').argParser(parsePositiveInt))
  .addOption(new Option('--trusted-keys-file <file>', 'PEM public key(s) bundles are signed with (the enforcers\' file); without it bundle views check format and digest only').env('NATFLEET_TRUSTED_KEYS_FILE'))
  .addOption(new Option('--silent-after <duration>', 'a node with no heartbeat for this long is "silent"').env('NATFLEET_SILENT_AFTER').default(30_000, '30s').argParser(parseDurationMs))
  .addOption(new Option('--log-level <level>', 'pino log level').env('NATFLEET_LOG_LEVEL').default('info').argParser(parseLogLevel));

for (const opt of [...etcdTlsOptions(), ...natsTlsOptions()]) program.addOption(opt);

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{
    etcdEndpoints: string[];
    etcdPrefix: string;
    natfleetPrefix: string;
    etcdCaFile?: string;
    etcdCertFile?: string;
    etcdKeyFile?: string;
    natsCaFile?: string;
    natsCertFile?: string;
    natsKeyFile?: string;
    natsUrl: string[];
    natsUser?: string;
    natsPassword?: string;
    cluster: string;
    tokenFile: string;
    trustedKeysFile?: string;
    host: string;
    port: number;
    bodyLimit: number;
    silentAfter: number;
    logLevel: string;
  }>();
  const log = createLogger('natfleet-api', o.logLevel);
  let tokens: TokenSet;
  try {
    tokens = TokenSet.load(o.tokenFile);
  } catch (err) {
    return program.error(`error: option '--token-file <file>' is invalid: ${(err as Error).message}`);
  }
  let trustedKeys: TrustedKeys | undefined;
  if (o.trustedKeysFile !== undefined) {
    try {
      trustedKeys = readTrustedKeysFile(o.trustedKeysFile);
    } catch (err) {
      return program.error(`error: option '--trusted-keys-file <file>' (env NATFLEET_TRUSTED_KEYS_FILE) is invalid: ${(err as Error).message}`);
    }
  } else {
    log.warn('no --trusted-keys-file: bundle history, explain and rollout check bundles by digest only, so a well-formed forged bundle on the stream would be shown as genuine');
  }
  const registry = new Registry();
  // process_* / nodejs_* with service="api"; request and fleet metrics are buildApp's (metrics.ts).
  collectProcessMetrics(registry, 'api');

  let credentials: EtcdCredentials | undefined;
  let natsTls: NatsTls | undefined;
  try {
    credentials = loadEtcdTls(o, o.etcdEndpoints);
    natsTls = loadNatsTls(o);
  } catch (err) {
    return program.error(`error: ${(err as Error).message}`);
  }
  const etcd = new Etcd3({ hosts: o.etcdEndpoints, dialTimeout: 2_000, ...(credentials ? { credentials } : {}) });
  const store = new EtcdStore(etcd, o.etcdPrefix);
  let nc: NatsConnection | undefined;
  let etcdOk = false;
  const connectNats = async (): Promise<NatsConnection> => {
    for (;;) {
      try {
        return await connect({ servers: o.natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 500, name: 'natfleet-api', ...(o.natsUser ? { user: o.natsUser, pass: o.natsPassword ?? '', inboxPrefix: inboxPrefix(o.natsUser) } : {}), ...(natsTls ? { tls: natsTls } : {}) });
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'NATS not reachable yet; retrying');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  };
  nc = await connectNats();
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  const probeEtcd = async (): Promise<void> => {
    try {
      await etcd.get('/natfleet-api-probe').exec();
      etcdOk = true;
    } catch {
      etcdOk = false;
    }
  };
  await probeEtcd();
  const probeTimer = setInterval(() => void probeEtcd(), 2_000);

  const rollout = new RolloutService({ js, jsm, store, cluster: o.cluster, silentAfterMs: o.silentAfter, trustedKeys });
  const app = await buildApp({
    resources: new ResourceService(store),
    rolloutPolicies: new RolloutPolicyService(store, o.natfleetPrefix),
    rolloutControl: new RolloutControlService(store, o.natfleetPrefix),
    rollout,
    nodes: new NodeService({ rollout, store, js }),
    tokens,
    registry,
    logger: log,
    bodyLimit: o.bodyLimit,
    readiness: () => ({ etcd: { ok: etcdOk }, nats: { ok: !nc!.isClosed() && nc!.info !== undefined } }),
  });
  await app.listen({ host: o.host, port: o.port });
  const addr = app.server.address();
  log.info({ url: `http://${o.host}:${typeof addr === 'object' && addr ? addr.port : o.port}`, cluster: o.cluster }, 'natfleet-api listening');

  onShutdown(async () => {
    clearInterval(probeTimer);
    await app.close();
    await nc?.drain().catch(() => undefined);
    etcd.close();
  }, log);
}

main().catch((err: unknown) => {
  console.error(`natfleet-api: ${(err as Error).message}`);
  process.exit(1);
});
