import { connect, StorageType, type NatsConnection } from 'nats';
import { afterAll, describe, expect, it } from 'vitest';
import { renderNatsConfig, startNats, startNatsCluster, type NatsCluster } from '../src/index.js';

describe('renderNatsConfig', () => {
  it('renders a standalone JetStream server without a cluster block', () => {
    const text = renderNatsConfig({ name: 'n0', port: 4222, monitorPort: 8222, routes: [], storeDir: '/tmp/x' });
    expect(text).toContain('listen: "127.0.0.1:4222"');
    expect(text).toContain('store_dir: "/tmp/x"');
    expect(text).not.toContain('cluster {');
  });
});

describe('real nats-server with JetStream (standalone)', () => {
  let nats: NatsCluster;
  let nc: NatsConnection | undefined;
  afterAll(async () => {
    await nc?.close();
    await nats?.destroy();
  });

  it('serves a file stream with msg-id dedupe and a KV bucket', async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'T', subjects: ['t.>'], storage: StorageType.File, duplicate_window: 120e9 });
    const js = nc.jetstream();
    const a = await js.publish('t.a', new TextEncoder().encode('x'), { msgID: 'd1' });
    const b = await js.publish('t.a', new TextEncoder().encode('x'), { msgID: 'd1' });
    expect(a.duplicate).toBe(false);
    expect(b.duplicate).toBe(true);
    const kv = await js.views.kv('test-kv');
    await kv.put('node-a', 'v1');
    expect((await kv.get('node-a'))?.string()).toBe('v1');
  });

  it('keeps the stream across a stop/start on the same port', async () => {
    await nc?.close();
    nc = undefined;
    await nats.stop();
    await nats.startStopped();
    nc = await connect({ servers: nats.url });
    const info = await (await nc.jetstreamManager()).streams.info('T');
    expect(info.state.messages).toBe(1);
  });
});

describe('real nats-server cluster (3 nodes, JetStream R3)', () => {
  let nats: NatsCluster;
  let nc: NatsConnection | undefined;
  afterAll(async () => {
    await nc?.close();
    await nats?.destroy();
  });

  it('replicates a stream 3 ways and keeps accepting publishes with one node down', async () => {
    nats = await startNatsCluster();
    nc = await connect({ servers: nats.servers });
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.add({ name: 'R', subjects: ['r.>'], num_replicas: 3, storage: StorageType.File });
    expect(info.config.num_replicas).toBe(3);
    const js = nc.jetstream();
    await js.publish('r.1', new Uint8Array([1]));
    // Kill a node that is not the one we are connected to, so the test is about quorum, not reconnects.
    const connectedPort = Number(nc.getServer().split(':').pop());
    const victim = nats.nodes.find((n) => n.config.port !== connectedPort)!;
    await victim.kill();
    let acked = false;
    for (let i = 0; i < 50 && !acked; i++) {
      try {
        await js.publish('r.2', new Uint8Array([2]), { timeout: 2_000 });
        acked = true;
      } catch {
        await new Promise((r) => setTimeout(r, 200)); // stream leader may be moving
      }
    }
    expect(acked).toBe(true);
    expect((await jsm.streams.info('R')).state.messages).toBe(2);
  });
});
