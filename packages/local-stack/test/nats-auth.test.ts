// The permission model against a real nats-server (2.9), role by role: each can do its job
// with the daemons' own connect options (inbox prefix) and nothing more. Denied operations
// must fail at once with a permissions violation (or, for rollups, the bucket's refusal),
// not hang and not succeed. Node names include dotted EKS-style ones, one the prefix of
// another.
import {
  BUNDLE_STREAM,
  NODES_BUCKET,
  NODES_STREAM,
  bundleAfter,
  bundleHistory,
  deleteNodeStatus,
  ensureBundleStream,
  followBundles,
  inboxPrefix,
  latestBundle,
  openNodesBucket,
  pendingNodeStatus,
  publishBundle,
  putNodeStatus,
  readNodeStatusSnapshot,
  readNodeStatuses,
  watchNodeStatuses,
  type NodeStatus,
} from '@natfleet/bus';
import { startNats, waitUntil, type NatsCluster } from '@natfleet/testkit';
import { AckPolicy, connect, headers, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enforcerUser, natfleetUsers, passwordEnv, passwordEnvValue, renderAuthorization } from '../src/index.js';

const status = (node: string): NodeStatus => pendingNodeStatus(node, { enforcerVersion: 't' });
const enc = (s: string) => new TextEncoder().encode(s);
const DENIED = /permissions violation/i;

const NODE = 'node-1';
/** As on EKS; SHORT is a prefix of LONG, token for token. */
const LONG = 'ip-10-0-0-5.ec2.internal';
const SHORT = 'ip-10-0-0-5.ec2';
const ADMIN = 'test-admin'; // observes and sets up what no role may do; not a natfleet user

describe('NATS per-role permissions', () => {
  let nats: NatsCluster;
  const conns: NatsConnection[] = [];
  const users = natfleetUsers([NODE, LONG, SHORT]);
  // Passwords that start with a digit broke nats-server's $VAR parsing until quoted.
  const pw = (user: string): string => `1${user === 'api' ? '' : '-'}${user}`;
  /** Connects as the daemons do: the user's own inbox prefix. */
  const as = async (user: string): Promise<NatsConnection> => {
    const nc = await connect({ servers: nats.url, user, pass: pw(user), inboxPrefix: inboxPrefix(user) });
    conns.push(nc);
    return nc;
  };
  let admin: NatsConnection;
  /** What the server logged refusing a publish or subscribe (not the refused logins). */
  const violations = (): string[] => nats.nodes[0]!.tail(200).split('\n').filter((l) => /(publish|subscription) violation/i.test(l));

  /** Subscribes and expects the server to refuse it (nats.js then ends the subscription with the error). */
  const subscribeDenied = async (nc: NatsConnection, subject: string): Promise<void> => {
    const sub = nc.subscribe(subject);
    const outcome = await Promise.race([
      (async () => {
        try {
          for await (const _ of sub) return 'received a message';
          return 'closed without error';
        } catch (err) {
          return (err as Error).message;
        }
      })(),
      new Promise<string>((r) => setTimeout(() => r('still subscribed after 3 s'), 3_000)),
    ]);
    sub.unsubscribe();
    expect(outcome, subject).toMatch(DENIED);
  };
  /** Publishes `key`'s subject in the nodes bucket with a rollup header. */
  const rollup = async (nc: NatsConnection, key: string, how: 'all' | 'sub'): Promise<unknown> => {
    const h = headers();
    h.set('Nats-Rollup', how);
    return nc.jetstream().publish(`$KV.${NODES_BUCKET}.${key}`, enc(JSON.stringify(status(key))), { headers: h, timeout: 2_000 });
  };
  const bundleConsumers = async (): Promise<string[]> => {
    const names: string[] = [];
    for await (const c of (await admin.jetstreamManager()).consumers.list(BUNDLE_STREAM)) names.push(c.name);
    return names;
  };
  const statusOf = async (node: string): Promise<string | undefined> => {
    const e = await (await openNodesBucket(admin.jetstream(), { bindOnly: true })).get(node);
    return e?.operation === 'PUT' ? e.json<NodeStatus>().node : undefined;
  };

  beforeAll(async () => {
    // Passwords are $ENV references in the config: nats-server expands them at start.
    for (const u of users) process.env[passwordEnv(u.user)] = passwordEnvValue(pw(u.user));
    nats = await startNats({ extraConfig: renderAuthorization([...users, { user: ADMIN, password: 'admin-secret', permissions: { publish: ['>'], subscribe: ['>'] } }]) });
    admin = await connect({ servers: nats.url, user: ADMIN, pass: 'admin-secret' });
    conns.push(admin);
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
    await nats?.destroy();
  });

  it('renders env references unquoted so nats-server expands them; one inbox per user', () => {
    const text = renderAuthorization(users);
    expect(text).toContain('password: $NATFLEET_ENFORCER_NODE_1_PASSWORD');
    expect(text).toContain('password: $NATFLEET_ENFORCER_IP_10_0_0_5_EC2_INTERNAL_PASSWORD');
    expect(text).toContain(`"$KV.${NODES_BUCKET}.${LONG}"`);
    expect(text).toContain('"_INBOX_enforcer-ip-10-0-0-5_2eec2_2einternal.>"');
    expect(text).not.toContain('"_INBOX.>"');
    expect(text).not.toContain('CONSUMER.DELETE');
    expect(text).not.toContain('DURABLE');
  });

  it('rejects unknown users and wrong passwords', async () => {
    await expect(connect({ servers: nats.url, user: 'compiler', pass: 'wrong' })).rejects.toThrow(/Authorization/i);
    await expect(connect({ servers: nats.url })).rejects.toThrow(/Authorization/i);
  });

  describe('what each role needs works', () => {
    it('compiler: creates the stream and the bucket (rollups refused), publishes bundles, reads them back', async () => {
      const nc = await as('compiler');
      await ensureBundleStream(await nc.jetstreamManager());
      await openNodesBucket(nc.jetstream());
      expect((await (await admin.jetstreamManager()).streams.info(NODES_STREAM)).config.allow_rollup_hdrs).toBe(false);
      await publishBundle(nc.jetstream(), { cluster: 'default', data: enc('b1'), version: 1, digest: 'sha256:1', contentDigest: 'c1' });
      expect((await latestBundle(await nc.jetstreamManager(), 'default'))?.version).toBe(1);
      expect((await bundleHistory(nc.jetstream(), 'default')).map((b) => b.version)).toEqual([1]);
    });

    it('enforcer: reads the latest bundle and follows, writes its own key', async () => {
      const nc = await as(enforcerUser(NODE));
      const js = nc.jetstream();
      const jsm = await nc.jetstreamManager();
      expect((await latestBundle(jsm, 'default'))?.version).toBe(1);
      expect(await bundleAfter(jsm, 'default', 2)).toBeUndefined();
      const ac = new AbortController();
      for await (const b of followBundles(js, 'default', { signal: ac.signal, onEvent: () => undefined })) {
        expect(b.version).toBe(1);
        ac.abort();
      }
      await putNodeStatus(await openNodesBucket(js, { bindOnly: true }), status(NODE));
    });

    it('enforcers with dotted node names write their own keys', async () => {
      for (const node of [LONG, SHORT]) {
        const nc = await as(enforcerUser(node));
        await putNodeStatus(await openNodesBucket(nc.jetstream(), { bindOnly: true }), status(node));
        const ac = new AbortController();
        for await (const b of followBundles(nc.jetstream(), 'default', ac.signal)) {
          expect(b.version).toBe(1);
          ac.abort();
        }
      }
      expect(await statusOf(LONG)).toBe(LONG);
      expect(await statusOf(SHORT)).toBe(SHORT);
    });

    it('enforcer: deletes its own key (uninstall deregisters the node) and can announce itself again', async () => {
      const nc = await as(enforcerUser(SHORT));
      const kv = await openNodesBucket(nc.jetstream(), { bindOnly: true });
      expect(await deleteNodeStatus(kv, SHORT)).toBe(true);
      expect((await readNodeStatusSnapshot(admin.jetstream())).deleted).toContain(SHORT);
      await putNodeStatus(kv, status(SHORT));
      expect(await statusOf(SHORT)).toBe(SHORT);
    });

    it('api: reads bundles, history and every node status (dotted keys whole)', async () => {
      const nc = await as('api');
      const js = nc.jetstream();
      expect((await latestBundle(await nc.jetstreamManager(), 'default'))?.version).toBe(1);
      expect((await bundleHistory(js, 'default')).map((b) => b.version)).toEqual([1]);
      expect((await readNodeStatuses(js)).map((s) => s.node)).toEqual([LONG, SHORT, NODE].sort());
      expect((await (await openNodesBucket(js, { bindOnly: true })).get(LONG))?.json<NodeStatus>().node).toBe(LONG);
    });

    it('compiler: watches node status (kv.watch) and reads keys with direct get', async () => {
      const nc = await as('compiler');
      const kv = await openNodesBucket(nc.jetstream());
      expect((await kv.get(LONG))?.json<NodeStatus>().node).toBe(LONG);
      const ac = new AbortController();
      const seen: string[] = [];
      for await (const e of watchNodeStatuses(kv, ac.signal)) {
        if (e.type === 'put') seen.push(e.status.node);
        if (seen.length === 3) ac.abort();
      }
      expect(seen.sort()).toEqual([LONG, SHORT, NODE].sort());
    });

    /** Refusals in the flows above other than consumer deletes (followBundles deletes its consumer when done, best-effort). */
    const unexpected = (): string[] => violations().filter((l) => !/Subject "\$JS\.API\.CONSUMER\.DELETE\.(NATFLEET_BUNDLES|KV_natfleet-nodes)\./.test(l));

    it('none of that ran into a refusal but best-effort consumer clean-ups', () => {
      expect(unexpected()).toEqual([]);
    });

    it('a nats.js ordered consumer (bundleHistory, readNodeStatuses) recovers from losing its consumer without CONSUMER.DELETE', async () => {
      const nc = await as('api');
      const before = new Set(await bundleConsumers()); // earlier readers' consumers linger until inactive
      const consumer = await nc.jetstream().consumers.get(BUNDLE_STREAM, { filterSubjects: 'natfleet.bundle.default' });
      // Short pulls so nats.js notices the lost consumer (missed heartbeats) in seconds, not 30 s.
      const messages = await consumer.consume({ expires: 2_000 });
      const got: number[] = [];
      const done = (async () => {
        for await (const m of messages) got.push(m.seq);
      })();
      await waitUntil('the first bundle', () => got.length === 1);
      const mine = (await bundleConsumers()).find((n) => !before.has(n));
      await (await admin.jetstreamManager()).consumers.delete(BUNDLE_STREAM, mine!);
      await publishBundle((await as('compiler')).jetstream(), { cluster: 'default', data: enc('b2'), version: 2, digest: 'sha256:2', contentDigest: 'c2' });
      await waitUntil('bundle 2 through the re-created consumer', () => got.length === 2, { timeoutMs: 30_000 });
      await messages.close();
      await done;
      expect(unexpected()).toEqual([]);
    });

    it("the compiler's kv.watch (ordered push consumer) recovers from losing its consumer: legacy create and flow control allowed", async () => {
      const nc = await as('compiler');
      const ac = new AbortController();
      const heartbeats: string[] = [];
      const done = (async () => {
        for await (const e of watchNodeStatuses(await openNodesBucket(nc.jetstream()), ac.signal)) if (e.type === 'put' && e.status.node === NODE) heartbeats.push(e.status.heartbeatAt);
      })();
      await waitUntil('the current value', () => heartbeats.length === 1);
      const jsm = await admin.jetstreamManager();
      for await (const c of jsm.consumers.list(NODES_STREAM)) if (c.config.deliver_subject?.startsWith(`${inboxPrefix('compiler')}.`)) await jsm.consumers.delete(NODES_STREAM, c.name);
      const kv = await openNodesBucket((await as(enforcerUser(NODE))).jetstream(), { bindOnly: true });
      await waitUntil(
        'a new status through the re-created watch',
        async () => {
          await putNodeStatus(kv, status(NODE));
          return heartbeats.length >= 2;
        },
        { timeoutMs: 45_000, intervalMs: 1_000 },
      );
      ac.abort();
      await done;
      expect(unexpected()).toEqual([]);
    });
  });

  describe('everything else is refused', () => {
    /** A consumer of another client (the API following bundles), for the others to attack. */
    let victim = '';
    const following = new AbortController();
    beforeAll(async () => {
      const before = new Set(await bundleConsumers());
      const nc = await as('api');
      void (async () => {
        for await (const _ of followBundles(nc.jetstream(), 'default', following.signal)) void _;
      })();
      await waitUntil('the API consumer', async () => (await bundleConsumers()).some((n) => !before.has(n)));
      victim = (await bundleConsumers()).find((n) => !before.has(n))!;
    });
    afterAll(() => following.abort());

    it('enforcer: no other node key (dotted prefixes included), no rollup, no bundle, no stream or consumer admin', async () => {
      const nc = await as(enforcerUser(NODE));
      const js = nc.jetstream();
      const jsm = await nc.jetstreamManager();
      const kv = await openNodesBucket(js, { bindOnly: true });
      await expect(putNodeStatus(kv, status(LONG))).rejects.toThrow(DENIED);
      await expect(js.publish(`$KV.${NODES_BUCKET}.${NODE}.x`, enc('{}'))).rejects.toThrow(DENIED);
      await expect(kv.get(LONG)).rejects.toThrow(DENIED); // other nodes' statuses are not its business
      await expect(js.publish('natfleet.bundle.default', enc('forged'))).rejects.toThrow(DENIED);
      await expect(jsm.streams.delete(BUNDLE_STREAM)).rejects.toThrow(DENIED);
      await expect(jsm.streams.purge(NODES_STREAM)).rejects.toThrow(DENIED);
      await expect(jsm.streams.update(NODES_STREAM, { allow_rollup_hdrs: true })).rejects.toThrow(DENIED);
      await expect(jsm.streams.deleteMessage(NODES_STREAM, 1)).rejects.toThrow(DENIED);
      await expect(jsm.consumers.delete(BUNDLE_STREAM, victim)).rejects.toThrow(DENIED);
      await expect(jsm.consumers.list(BUNDLE_STREAM).next()).rejects.toThrow(DENIED);
      await expect(nc.request(`$JS.API.CONSUMER.DURABLE.CREATE.${BUNDLE_STREAM}.evil`, enc(JSON.stringify({ stream_name: BUNDLE_STREAM, config: { durable_name: 'evil', ack_policy: AckPolicy.Explicit } })))).rejects.toThrow(DENIED);
      await expect(nc.request(`$JS.API.CONSUMER.CREATE.${BUNDLE_STREAM}`, enc(JSON.stringify({ stream_name: BUNDLE_STREAM, config: { ack_policy: AckPolicy.None } })))).rejects.toThrow(DENIED);
      expect(await bundleConsumers()).toContain(victim);
    });

    it('enforcer: deletes (uninstall) only its own key, never another node’s', async () => {
      const kv = await openNodesBucket((await as(enforcerUser(SHORT))).jetstream(), { bindOnly: true });
      await expect(deleteNodeStatus(kv, LONG)).rejects.toThrow(DENIED);
      await expect(deleteNodeStatus(kv, NODE)).rejects.toThrow(DENIED);
      for (const node of [NODE, LONG]) expect(await statusOf(node)).toBe(node);
    });

    it('enforcer: a rollup on its own key is refused by the bucket and every other key survives', async () => {
      const nc = await as(enforcerUser(NODE));
      await expect(rollup(nc, NODE, 'all')).rejects.toThrow(/rollup not permitted/i);
      await expect(rollup(nc, NODE, 'sub')).rejects.toThrow(/rollup not permitted/i);
      await expect((await openNodesBucket(nc.jetstream(), { bindOnly: true })).purge(NODE)).rejects.toThrow(/rollup not permitted/i);
      for (const node of [NODE, LONG, SHORT]) expect(await statusOf(node)).toBe(node);
    });

    it('dotted enforcers: neither writes the key of the other, which shares its leading tokens', async () => {
      const long = await openNodesBucket((await as(enforcerUser(LONG))).jetstream(), { bindOnly: true });
      const short = await openNodesBucket((await as(enforcerUser(SHORT))).jetstream(), { bindOnly: true });
      await expect(putNodeStatus(long, status(SHORT))).rejects.toThrow(DENIED);
      await expect(putNodeStatus(short, status(LONG))).rejects.toThrow(DENIED);
      await expect(putNodeStatus(short, status(`${SHORT}.internal2`))).rejects.toThrow(DENIED);
      await expect(putNodeStatus(long, status(NODE))).rejects.toThrow(DENIED);
    });

    it("nobody reads another client's inbox (the old shared _INBOX.> included)", async () => {
      const attempts: [string, string][] = [
        [enforcerUser(NODE), '_INBOX.>'],
        [enforcerUser(NODE), `${inboxPrefix('api')}.>`],
        [enforcerUser(NODE), `${inboxPrefix('compiler')}.>`],
        [enforcerUser(SHORT), `${inboxPrefix(enforcerUser(LONG))}.>`],
        [enforcerUser(LONG), `${inboxPrefix(enforcerUser(SHORT))}.>`],
        ['api', `${inboxPrefix('compiler')}.>`],
        ['api', `${inboxPrefix(enforcerUser(NODE))}.>`],
        ['compiler', `${inboxPrefix('api')}.>`],
        ['compiler', '_INBOX.>'],
        [enforcerUser(NODE), '>'],
        [enforcerUser(NODE), 'natfleet.bundle.>'],
        ['api', `$KV.${NODES_BUCKET}.>`],
      ];
      for (const [user, subject] of attempts) await subscribeDenied(await as(user), subject);
    });

    it('a client that does not use its inbox prefix gets no replies at all (the daemons must set it)', async () => {
      const nc = await connect({ servers: nats.url, user: 'api', pass: pw('api') });
      conns.push(nc);
      await expect(nc.jetstreamManager()).rejects.toThrow(DENIED);
    });

    it('api: writes no bundle and changes no stream; it may only delete node statuses (natctl node delete)', async () => {
      const nc = await as('api');
      const js = nc.jetstream();
      const jsm = await nc.jetstreamManager();
      await expect(js.publish('natfleet.bundle.default', enc('x'))).rejects.toThrow(DENIED);
      // Decommissioning: a KV delete of a node's key is allowed (NATS cannot tell it from a
      // put: the API, an admin component behind write tokens, is trusted with status keys).
      await (await openNodesBucket(js, { bindOnly: true })).delete('decommissioned-node');
      await expect(rollup(nc, NODE, 'all')).rejects.toThrow(/rollup not permitted/); // refused by the bucket itself
      await expect(jsm.streams.add({ name: 'EVIL', subjects: ['evil.>'] })).rejects.toThrow(DENIED);
      await expect(jsm.streams.update(BUNDLE_STREAM, { max_msgs_per_subject: 1 })).rejects.toThrow(DENIED);
      await expect(jsm.streams.purge(BUNDLE_STREAM)).rejects.toThrow(DENIED);
      await expect(jsm.streams.delete(NODES_STREAM)).rejects.toThrow(DENIED);
      await expect(jsm.consumers.delete(NODES_STREAM, 'any')).rejects.toThrow(DENIED);
      await expect(nc.request(`$JS.API.CONSUMER.DURABLE.CREATE.${NODES_STREAM}.evil`, enc(JSON.stringify({ stream_name: NODES_STREAM, config: { durable_name: 'evil', ack_policy: AckPolicy.Explicit } })))).rejects.toThrow(DENIED);
    });

    it("compiler: may only delete node statuses (node GC), and deletes no one's consumer", async () => {
      const nc = await as('compiler');
      // Node GC (--node-gc-after): a KV delete of a silent node's key is allowed (NATS cannot
      // tell it from a put; the compiler already creates and updates the bucket).
      expect(await deleteNodeStatus(await openNodesBucket(nc.jetstream()), 'collected-node')).toBe(true);
      await expect(rollup(nc, NODE, 'all')).rejects.toThrow(/rollup not permitted/); // refused by the bucket itself
      await expect((await nc.jetstreamManager()).consumers.delete(BUNDLE_STREAM, victim)).rejects.toThrow(DENIED);
      expect(await bundleConsumers()).toContain(victim);
    });

    it('nothing the others tried changed the bundles or the statuses', async () => {
      const info = await (await admin.jetstreamManager()).streams.info(BUNDLE_STREAM);
      expect(info.state.messages).toBe(2);
      expect((await readNodeStatuses(admin.jetstream())).map((s) => s.node)).toEqual([LONG, SHORT, NODE].sort());
    });
  });
});
