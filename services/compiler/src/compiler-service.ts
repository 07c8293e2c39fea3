/**
 * The compiler daemon's wiring: NATS connection and stream setup, the leader election
 * loop, and per term the pipeline, the node registrar and the rollout controller. Holds what /readyz reports.
 *
 * Start order: NATS (waiting for it), stream + KV bucket ensured, then campaign — a
 * replica that cannot publish never takes the lease. Shutdown reverses it: stop
 * campaigning (the leader resigns, so a standby takes over at once), let the term's work
 * end, drain NATS, close etcd.
 */
import { connect, type JetStreamClient, type JetStreamManager, type KV, type NatsConnection } from 'nats';
import type { Etcd3 } from 'etcd3';
import type { SigningKey } from '@natfleet/bundle';
import { ensureBundleStream, inboxPrefix, isBusError, openNodesBucket, watchNodeStatuses } from '@natfleet/bus';
import { EtcdStore, changeFeed } from '@natfleet/store';
import type { Logger, Readiness } from '@natfleet/service-kit';
import { sleep } from '@natfleet/service-kit';
import { BundlePublisher, natsBundleChannel, ownKeys } from './bundle-publisher.js';
import type { CompilerConfig } from './config.js';
import { etcdClientFactory } from './etcd-client.js';
import { EvaluationRecorder, natsEvaluationChannel } from './evaluation-recorder.js';
import { ForeignMessageTracker } from './foreign-message-tracker.js';
import { leaderElection } from './leader-election.js';
import { LeaderPipeline } from './leader-pipeline.js';
import type { CompilerMetrics } from './metrics.js';
import { NodeRegistrar } from './node-registration.js';
import { natsAdmissionChannel } from './rollout-admission.js';
import { RolloutController } from './rollout-controller.js';
import { EtcdRolloutStore } from './rollout-store.js';
import { WarningTracker } from './warning-tracker.js';

export interface CompilerServiceDeps {
  config: CompilerConfig;
  key: SigningKey;
  logger: Logger;
  metrics: CompilerMetrics;
}

type Role = 'starting' | 'standby' | 'leader';

interface Nats {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  kv: KV;
}

/** Election name shared by the replicas of one cluster. */
export const electionName = (cluster: string): string => `natfleet-compiler-${cluster}`;

export class CompilerService {
  private readonly stopping = new AbortController();
  private readonly makeEtcdClient: () => Etcd3;
  private readonly etcd: Etcd3;
  private readonly store: EtcdStore;
  private readonly warnings = new WarningTracker();
  /** Shared across terms, so a re-elected leader does not report known foreign messages again. */
  private readonly foreign = new ForeignMessageTracker();
  private nc: NatsConnection | undefined;
  private nats: Nats | undefined;
  private natsConnected = false;
  private streamReady = false;
  private role: Role = 'starting';
  private campaigning = false;
  private electionDetail = 'not started';
  private pipeline: LeaderPipeline | undefined;
  private electionDone: Promise<void> = Promise.resolve();
  private termDone: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: CompilerServiceDeps) {
    this.makeEtcdClient = etcdClientFactory({ endpoints: deps.config.etcdEndpoints, credentials: deps.config.etcdCredentials });
    this.etcd = this.makeEtcdClient();
    this.store = new EtcdStore(this.etcd, deps.config.etcdPrefix);
  }

  /** /readyz: ready when NATS is connected, the stream ensured, and the role is healthy. */
  readiness(): Readiness {
    const leader = this.role === 'leader';
    const health = this.pipeline?.health;
    return {
      nats: { ok: this.natsConnected, detail: this.natsConnected ? 'connected' : 'not connected' },
      stream: { ok: this.streamReady, detail: this.streamReady ? 'ensured' : 'not ensured yet' },
      role: { ok: leader || this.campaigning, detail: this.role },
      pipeline: leader
        ? { ok: !!health && health.lastCycleOk && health.watchLive, detail: health?.detail ?? 'starting' }
        : { ok: true, detail: this.campaigning ? 'standby: campaigning' : `standby: ${this.electionDetail}` },
    };
  }

  /**
   * Connects NATS (waiting until it answers), ensures the stream and bucket, then starts
   * campaigning in the background. Throws BusError STREAM_CONFLICT when the stream
   * exists with settings natfleet will not take over.
   */
  async start(): Promise<void> {
    const { config, logger } = this.deps;
    // First connect in our own loop (not nats.js's waitOnFirstConnect, which retries
    // silently): an operator must see why the compiler is not ready (refused, TLS, auth).
    let nc: NatsConnection | undefined;
    for (let attempt = 1; !nc; attempt++) {
      try {
        nc = await connect({
          servers: config.natsServers,
          name: `natfleet-compiler ${config.replicaId}`,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          // Replies arrive under the user's own inbox prefix, the only one it may subscribe to.
          ...(config.natsUser !== undefined ? { user: config.natsUser, pass: config.natsPassword ?? '', inboxPrefix: inboxPrefix(config.natsUser) } : {}),
          ...(config.natsTls ? { tls: config.natsTls } : {}),
        });
      } catch (err) {
        logger.warn({ attempt, servers: config.natsServers, err: (err as Error).message }, 'cannot connect to NATS yet; retrying');
        await sleep(Math.min(250 * 2 ** Math.min(attempt, 3), 2_000));
      }
    }
    this.nc = nc;
    this.natsConnected = true;
    logger.info({ server: nc.getServer() }, 'connected to NATS');
    void this.watchNatsStatus(nc);
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const kv = await this.ensureStreams(js, jsm);
    if (!kv) return; // stopping
    this.nats = { nc, js, jsm, kv };
    this.electionDone = this.runElection(this.nats);
  }

  /** Stops campaigning (resigning when leader), waits for the term's work, closes connections. */
  async close(): Promise<void> {
    this.stopping.abort();
    await this.electionDone;
    await this.termDone;
    await this.nc?.drain().catch(() => undefined);
    this.etcd.close();
  }

  private async watchNatsStatus(nc: NatsConnection): Promise<void> {
    const log = this.deps.logger;
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.natsConnected = false;
        log.warn({ server: s.data }, 'NATS disconnected; reconnecting');
      } else if (s.type === 'reconnect') {
        this.natsConnected = true;
        log.info({ server: s.data }, 'NATS reconnected');
      }
    }
  }

  private async ensureStreams(js: JetStreamClient, jsm: JetStreamManager): Promise<KV | undefined> {
    const { config, logger } = this.deps;
    for (let attempt = 1; !this.stopping.signal.aborted; attempt++) {
      try {
        await ensureBundleStream(jsm, { replicas: config.streamReplicas });
        const kv = await openNodesBucket(js, { replicas: config.streamReplicas });
        this.streamReady = true;
        logger.info({ replicas: config.streamReplicas }, 'bundle stream and nodes bucket ready');
        return kv;
      } catch (err) {
        if (isBusError(err) && !err.recoverable) throw err;
        logger.warn({ err, attempt }, 'cannot ensure the bundle stream / nodes bucket yet; retrying');
        await sleep(Math.min(5_000, 250 * 2 ** Math.min(attempt, 5)), this.stopping.signal);
      }
    }
    return undefined;
  }

  private async runElection(nats: Nats): Promise<void> {
    const { config, logger, metrics } = this.deps;
    const events = leaderElection(
      { makeClient: this.makeEtcdClient, name: electionName(config.cluster), id: config.replicaId, ttlSeconds: config.leaseTtlSeconds },
      this.stopping.signal,
    );
    for await (const ev of events) {
      switch (ev.type) {
        case 'campaigning':
          this.campaigning = true;
          if (this.role === 'starting') this.role = 'standby';
          logger.debug({ attempt: ev.attempt }, 'campaigning for leadership');
          break;
        case 'elected':
          this.role = 'leader';
          metrics.isLeader.set(1);
          logger.info({ leaseTtlSeconds: config.leaseTtlSeconds }, 'elected leader: compiling and publishing');
          this.termDone = this.runTerm(nats, ev.term);
          break;
        case 'deposed':
          this.role = 'standby';
          this.campaigning = false;
          metrics.isLeader.set(0);
          logger.warn({ reason: ev.reason }, 'leadership ended: stopped publishing');
          await this.termDone;
          this.pipeline = undefined;
          break;
        case 'failed':
          this.campaigning = false;
          this.electionDetail = `campaign failed: ${ev.reason}`;
          logger.warn({ reason: ev.reason, retryInMs: ev.retryInMs }, 'campaign failed; retrying');
          break;
      }
    }
  }

  private runTerm(nats: Nats, term: AbortSignal): Promise<unknown> {
    const { config, key, logger, metrics } = this.deps;
    // Only bundles signed with our own key count as published; anything else on the subject
    // moves the fence but never the content decision (published-state.ts).
    const publisher = new BundlePublisher(natsBundleChannel(nats.js, config.cluster, ownKeys(key)), undefined, (foreign) => {
      this.foreign.update(foreign, logger, metrics);
    });
    const evaluations = new EvaluationRecorder({ channel: natsEvaluationChannel(nats.js, nats.jsm, config.cluster, ownKeys(key)), key, cluster: config.cluster, logger, metrics }, term);
    // The staged rollout (DESIGN.md §10): admits each new bundle wave by wave under the RolloutPolicy.
    const rollout = new RolloutController(
      {
        store: new EtcdRolloutStore({ client: this.etcd, makeClient: this.makeEtcdClient, natfleetPrefix: config.natfleetPrefix, calicoPrefix: config.etcdPrefix }),
        channel: natsAdmissionChannel(nats.js, nats.jsm, config.cluster, ownKeys(key)),
        statuses: (signal) => watchNodeStatuses(nats.kv, signal),
        key,
        cluster: config.cluster,
        leaderId: config.replicaId,
        logger: logger.child({ component: 'rollout' }),
        metrics,
      },
      term,
    );
    const pipeline = new LeaderPipeline({
      snapshot: () => this.store.snapshot(),
      feed: (fromRevision, signal) => changeFeed(this.makeEtcdClient, config.etcdPrefix, { fromRevision, signal, retryMs: 200 }),
      publisher,
      key,
      cluster: config.cluster,
      prefix: config.etcdPrefix,
      // Leading edge: an isolated write compiles at once; bursts still collapse.
      debounce: { quietMs: config.debounceMs, maxDelayMs: config.maxDelayMs, leading: true },
      metrics,
      logger,
      warnings: this.warnings,
      // Every evaluation is recorded on natfleet.evaluated.<cluster> (DESIGN.md §9).
      evaluations,
      rollout,
    });
    this.pipeline = pipeline;
    const registrar = new NodeRegistrar({ kv: nats.kv, store: this.store, prefix: config.etcdPrefix, cluster: config.cluster, logger, metrics, ...(config.nodeGcAfterMs !== undefined ? { gcAfterMs: config.nodeGcAfterMs } : {}) });
    return Promise.all([pipeline.run(term).then(() => evaluations.settled()), registrar.run(term), rollout.run()]);
  }
}
