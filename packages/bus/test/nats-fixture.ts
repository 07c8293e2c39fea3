// One real nats-server (JetStream) and a connection per describe block, stopped afterwards.
import { startNats, type NatsCluster } from '@natfleet/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll } from 'vitest';

/** Registers beforeAll/afterAll; the returned getters are valid inside the tests. */
export function useNatsServer(): { nats: () => NatsCluster; nc: () => NatsConnection } {
  let nats: NatsCluster | undefined;
  let nc: NatsConnection | undefined;
  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.destroy();
  });
  return { nats: () => nats!, nc: () => nc! };
}
