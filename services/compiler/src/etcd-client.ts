/**
 * How the compiler talks to etcd: one factory for every etcd3 client it makes (snapshot
 * and node writes, the change feed's own client, one per election campaign — etcd3@1.1.2
 * needs fresh clients after a canceled watch, see @natfleet/store's change feed).
 *
 * etcd3's defaults suit long-lived apps, not a control plane that must converge quickly
 * after an etcd restart or leader change: watch reconnects back off to 30 s and a host's
 * circuit breaker stays open 5 s. Here both are capped at about a second or two, unary
 * calls get a deadline (a hung call would stall the pipeline), and gRPC keepalive pings
 * notice a silently dead connection.
 */
import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry } from 'cockatiel';
import { Etcd3, isRecoverableError, type IOptions } from 'etcd3';

export interface EtcdClientOptions {
  endpoints: string[];
  /** TLS material (service-kit loadEtcdTls); undefined = plain. */
  credentials?: IOptions['credentials'];
  /** Deadline of unary calls (ms). Default 5000. */
  callTimeoutMs?: number;
}

type WatchBackoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

/** Options for `new Etcd3(...)`; exported so tests can inspect them. */
export function etcdClientOptions(o: EtcdClientOptions): IOptions {
  const callTimeoutMs = o.callTimeoutMs ?? 5_000;
  return {
    hosts: o.endpoints,
    ...(o.credentials ? { credentials: o.credentials } : {}),
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    grpcOptions: {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2_000,
      // etcd's default keepalive enforcement allows pings every 5 s; stay well above it.
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
    },
    faultHandling: {
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(3) }),
      global: retry(handleWhen(isRecoverableError), { maxAttempts: 3 }),
      // etcd3 reads `.next()` for the first delay, like cockatiel's factories.
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2_000 }) as unknown as WatchBackoff,
    },
  };
}

/** A factory of fresh, independently closable clients. */
export function etcdClientFactory(o: EtcdClientOptions): () => Etcd3 {
  const options = etcdClientOptions(o);
  return () => new Etcd3(options);
}
