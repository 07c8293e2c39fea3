// A nats-server running the deployment's users and permissions (renderAuthorization of
// natfleetUsers) plus an unrestricted `test-admin`, for the permission tests of one
// subject family each. Not a test file itself.
import { inboxPrefix } from '@natfleet/bus';
import { startNats, type NatsCluster } from '@natfleet/testkit';
import { connect, type NatsConnection } from 'nats';
import { natfleetUsers, passwordEnv, passwordEnvValue, renderAuthorization } from '../src/index.js';

export interface AuthServer {
  nats: NatsCluster;
  /** Connects as `user` with its password and its own inbox prefix (as the daemons do). */
  as(user: string): Promise<NatsConnection>;
  /** Connected as test-admin (publish and subscribe anything). */
  admin: NatsConnection;
  close(): Promise<void>;
}

/** Starts the server with the users of `nodes`' enforcers, the compiler and the API; passwords are `pw-<user>`. */
export async function startAuthServer(nodes: readonly string[]): Promise<AuthServer> {
  const users = natfleetUsers(nodes);
  const pw = (user: string): string => `pw-${user}`;
  for (const u of users) process.env[passwordEnv(u.user)] = passwordEnvValue(pw(u.user));
  const nats = await startNats({ extraConfig: renderAuthorization([...users, { user: 'test-admin', password: 'admin-secret', permissions: { publish: ['>'], subscribe: ['>'] } }]) });
  const conns: NatsConnection[] = [];
  const admin = await connect({ servers: nats.url, user: 'test-admin', pass: 'admin-secret' });
  conns.push(admin);
  return {
    nats,
    admin,
    async as(user) {
      const nc = await connect({ servers: nats.url, user, pass: pw(user), inboxPrefix: inboxPrefix(user) });
      conns.push(nc);
      return nc;
    },
    async close() {
      await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
      await nats.destroy();
    },
  };
}
