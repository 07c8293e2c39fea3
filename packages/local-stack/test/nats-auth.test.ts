// The permission model against a real nats-server: each role can do its job and nothing
// more. Denied operations must fail (not hang, not succeed).
import { BUNDLE_STREAM, ensureBundleStream, followBundles, latestBundle, openNodesBucket, pendingNodeStatus, publishBundle, putNodeStatus, readNodeStatuses, type NodeStatus } from '@natfleet/bus';
import { startNats, type NatsCluster } from '@natfleet/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natfleetUsers, passwordEnv, passwordEnvValue, renderAuthorization } from '../src/index.js';

const status = (node: string): NodeStatus => pendingNodeStatus(node, { enforcerVersion: 't' });
const enc = (s: string) => new TextEncoder().encode(s);

describe('NATS per-role permissions', () => {
  let nats: NatsCluster;
  const conns: NatsConnection[] = [];
  const users = natfleetUsers(['node-1', 'node-2']);
  // Passwords that start with a digit broke nats-server's $VAR parsing until quoted.
  const pw = (user: string): string => `1${user === 'api' ? '' : '-'}${user}`;
  const as = async (user: string): Promise<NatsConnection> => {
    const nc = await connect({ servers: nats.url, user, pass: pw(user) });
    conns.push(nc);
    return nc;
  };

  beforeAll(async () => {
    // Passwords are $ENV references in the config: nats-server expands them at start.
    for (const u of users) process.env[passwordEnv(u.user)] = passwordEnvValue(pw(u.user));
    nats = await startNats({ extraConfig: renderAuthorization(users) });
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close()));
    await nats?.destroy();
  });

  it('renders env references unquoted so nats-server expands them', () => {
    expect(renderAuthorization(users)).toContain('password: $NATFLEET_ENFORCER_NODE_1_PASSWORD');
  });

  it('rejects unknown users and wrong passwords', async () => {
    await expect(connect({ servers: nats.url, user: 'compiler', pass: 'wrong' })).rejects.toThrow(/Authorization/i);
    await expect(connect({ servers: nats.url })).rejects.toThrow(/Authorization/i);
  });

  it('compiler: creates the stream and bucket, publishes bundles, reads node status', async () => {
    const nc = await as('compiler');
    await ensureBundleStream(await nc.jetstreamManager());
    await openNodesBucket(nc.jetstream());
    await publishBundle(nc.jetstream(), { cluster: 'default', data: enc('b1'), version: 1, digest: 'sha256:1', contentDigest: 'c1' });
    expect((await latestBundle(await nc.jetstreamManager(), 'default'))?.version).toBe(1);
  });

  it('enforcer: reads bundles and writes only its own key', async () => {
    const nc = await as('enforcer-node-1');
    const js = nc.jetstream();
    const ac = new AbortController();
    for await (const b of followBundles(js, 'default', ac.signal)) {
      expect(b.version).toBe(1);
      ac.abort();
    }
    const kv = await openNodesBucket(js, { bindOnly: true });
    await putNodeStatus(kv, status('node-1'));
    await expect(putNodeStatus(kv, status('node-2'))).rejects.toThrow();
    await expect(js.publish('natfleet.bundle.default', enc('forged'), { timeout: 1_500 })).rejects.toThrow();
    await expect((await nc.jetstreamManager()).streams.delete(BUNDLE_STREAM)).rejects.toThrow();
  });

  it('api: reads bundles and statuses, writes nothing', async () => {
    const nc = await as('api');
    const js = nc.jetstream();
    expect((await latestBundle(await nc.jetstreamManager(), 'default'))?.version).toBe(1);
    expect((await readNodeStatuses(js)).map((s) => s.node)).toEqual(['node-1']);
    expect((await (await openNodesBucket(js, { bindOnly: true })).get('node-1'))?.json<NodeStatus>().node).toBe('node-1');
    await expect(js.publish('natfleet.bundle.default', enc('x'), { timeout: 1_500 })).rejects.toThrow();
    const kv = await openNodesBucket(js, { bindOnly: true });
    await expect(putNodeStatus(kv, status('node-1'))).rejects.toThrow();
  });

  it('compiler: kv.get works in create mode (direct get); nothing the others tried changed the stream', async () => {
    const nc = await as('compiler');
    // The compiler opens the bucket in create mode, which makes nats.js use direct get.
    expect((await (await openNodesBucket(nc.jetstream())).get('node-1'))?.json<NodeStatus>().node).toBe('node-1');
    const info = await (await nc.jetstreamManager()).streams.info(BUNDLE_STREAM);
    expect(info.state.messages).toBe(1);
  });
});
