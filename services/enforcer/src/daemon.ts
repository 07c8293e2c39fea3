/**
 * `natfleet-enforcer run`: wires the core to the real world — nftables (libnftables in a
 * worker thread, or the nft binary when the library cannot be loaded; optionally in a
 * netns), the state dir, NATS (bundles in, node status out) and the ops endpoints — in
 * the order that makes fail static work: the saved bundle is enforced before NATS is
 * even tried. Owns the process's one set of resources; `stop()` releases them all and
 * leaves the table in force.
 */
import { bundleHistory } from '@natfleet/bus';
import { createNft } from '@natfleet/nft';
import { startOpsServer, type Logger, type OpsServer } from '@natfleet/service-kit';
import { DEFAULT_DRIFT_INTERVAL_MS, type RunConfig } from './config.js';
import { AdmissionFeed } from './admission-feed.js';
import { BundleFeed, FEED_API_TIMEOUT_MS } from './bundle-feed.js';
import { readConntrackStat } from './conntrack.js';
import { HealthChecks } from './health-checks.js';
import { Enforcer } from './enforcer.js';
import type { RestoreOutcome } from './enforcer-status.js';
import { createMetrics } from './metrics.js';
import { NatsLink } from './nats-link.js';
import { BundleStore } from './state-store.js';
import { nodeStatusOf, StatusReporter } from './status-reporter.js';
import { ENFORCER_VERSION } from './version.js';

export interface RunningEnforcer {
  enforcer: Enforcer;
  ops: OpsServer;
  restored: RestoreOutcome;
  /** Stops following, reporting and enforcing; closes NATS and the ops server. The table stays. */
  stop(): Promise<void>;
}

/** Starts the daemon. Rejects only when the ops port cannot be bound. */
export async function runEnforcer(config: RunConfig, logger: Logger): Promise<RunningEnforcer> {
  const log = logger.child({ node: config.nodeName, cluster: config.cluster });
  const metrics = createMetrics({ readConntrack: () => readConntrackStat(config.netns) });
  const identity = { node: config.nodeName, cluster: config.cluster, labels: config.labels, addresses: config.addresses, enforcerVersion: ENFORCER_VERSION };
  const link = new NatsLink({
    servers: config.natsServers,
    ...(config.natsUser !== undefined ? { user: config.natsUser, password: config.natsPassword ?? '' } : {}),
    ...(config.natsTls ? { tls: config.natsTls } : {}),
    name: `natfleet-enforcer/${config.nodeName}`,
    logger: log.child({ component: 'nats' }),
    metrics,
  });
  let notify = (): void => undefined;
  const health = new HealthChecks({
    nodeName: config.nodeName,
    commands: config.healthChecks,
    allowPolicyCommands: config.allowPolicyHealthCommands,
    conntrack: { insertFailedDelta: config.conntrackInsertFailedDelta, dropDelta: config.conntrackDropDelta },
    watchMs: config.healthWatchMs,
    sampleIntervalMs: 1_000,
    readConntrack: () => readConntrackStat(config.netns),
    logger: log.child({ component: 'health' }),
    metrics,
    onChange: () => notify(),
  });
  const nft = await createNft(
    {
      ...(config.netns !== undefined ? { netns: config.netns } : {}),
      ...(config.nftLibrary !== undefined ? { libraryPath: config.nftLibrary } : {}),
      backend: config.nftBackend,
    },
    (reason) =>
    log.warn({ reason, requested: config.nftBackend }, 'libnftables unavailable: using the nft binary (a process per call; slower applies and drift checks)'),
  );
  metrics.nftBackend.set({ backend: nft.backend }, 1);
  const driftIntervalMs = config.driftIntervalMs ?? DEFAULT_DRIFT_INTERVAL_MS[nft.backend];
  log.info({ backend: nft.backend, driftIntervalMs, netns: config.netns }, 'nftables backend ready');
  const enforcer = new Enforcer({
    nodeName: config.nodeName,
    cluster: config.cluster,
    nft,
    store: new BundleStore(config.stateDir),
    trustedKeys: config.trustedKeys,
    maxBundleBytes: config.maxBundleBytes,
    driftIntervalMs,
    retryIntervalMs: config.retryIntervalMs,
    logger: log,
    metrics,
    onChange: () => notify(),
    health,
    // A bundle the admission names but this node does not hold (e.g. a rollback to a stable
    // version it never ran): searched in the stream's kept history, by version AND digest.
    fetchBundle: async ({ version, digest }) => {
      const nc = link.isConnected ? await link.whenConnected() : undefined;
      if (!nc) throw new Error('not connected to NATS');
      const history = await bundleHistory(nc.jetstream({ timeout: FEED_API_TIMEOUT_MS }), config.cluster);
      return history.find((b) => b.version === version && b.digest === digest)?.data;
    },
  });
  const reporter = new StatusReporter({
    link,
    identity,
    status: () => enforcer.status(),
    heartbeatMs: config.heartbeatMs,
    retryMs: Math.min(config.retryIntervalMs, 2_000),
    logger: log.child({ component: 'status' }),
    metrics,
  });
  notify = () => reporter.notify();
  const feed = new BundleFeed({
    link,
    cluster: config.cluster,
    offer: (m) => enforcer.offer(m),
    genuineVersion: (m) => enforcer.genuineVersion(m),
    heldVersion: () => enforcer.heldVersion(),
    retryMs: config.retryIntervalMs,
    heartbeatMs: config.feedHeartbeatMs,
    checkIntervalMs: config.feedCheckIntervalMs,
    logger: log.child({ component: 'feed' }),
    metrics,
    // After a reconnect the newest admission is known before the newest bundle is offered.
    beforeSession: (nc) => admissions.readLatest(nc),
  });

  const admissions = new AdmissionFeed({
    link,
    cluster: config.cluster,
    offer: (data) => enforcer.offerAdmission(data),
    isGenuine: (data) => enforcer.genuineAdmission(data),
    held: () => enforcer.admission() !== undefined,
    pollMs: config.admissionPollMs,
    retryMs: config.retryIntervalMs,
    logger: log.child({ component: 'admissions' }),
  });

  let restoring = true;
  const ops = await startOpsServer({
    host: config.opsHost,
    port: config.opsPort,
    registry: metrics.registry,
    readiness: () => ({
      restore: restoring ? { ok: false, detail: 'enforcing the saved bundle' } : { ok: true },
      bundle: enforcer.readiness(),
      nats: link.readiness(),
      feed: feed.readiness(),
      health: health.readiness(),
    }),
    routes: {
      '/status': () => ({
        ...nodeStatusOf(identity, enforcer.status(), new Date()),
        desiredVersion: enforcer.status().desiredVersion,
        natsConnected: link.isConnected,
        nftBackend: nft.backend,
        lastUnverified: enforcer.lastUnverified() ?? null,
        admission: enforcer.admissionView(),
        lastUnverifiedAdmission: enforcer.lastUnverifiedAdmission() ?? null,
        admissionsFollowed: admissions.isSubscribed,
        reported: reporter.written ?? null,
      }),
    },
  });
  log.info({ ops: `${config.opsHost}:${ops.port}`, stateDir: config.stateDir, netns: config.netns, version: ENFORCER_VERSION }, 'enforcer starting');

  // Fail static: the saved bundle is in force before NATS is tried (the control plane may be down).
  const restored = await enforcer.start();
  restoring = false;
  log.info({ restored }, 'saved bundle handled; connecting to NATS');
  link.start();
  admissions.start();
  // Bundles only once the newest admission was read (or, holding a restored admission, the
  // read failed): a node holding no admission must not apply the newest bundle just before
  // learning a rollout holds it back.
  void admissions.firstRead().then(() => feed.start());
  reporter.start();

  return {
    enforcer,
    ops,
    restored,
    async stop() {
      const loops = Promise.all([feed.close(), admissions.close(), reporter.close()]);
      await enforcer.stop();
      await nft.close();
      await link.close();
      await loops;
      await ops.close();
      log.info('enforcer stopped; the natfleet table stays in force');
    },
  };
}
