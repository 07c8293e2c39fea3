/**
 * The NATS users and permissions of a natfleet deployment (DESIGN.md §5), rendered as a
 * nats-server `authorization` block. One source of truth for deploy/nats/natfleet-auth.conf
 * (checked by a golden test) and the local stack:
 *   compiler          — manages the stream and bucket, publishes bundles and evaluation
 *                       records (natfleet.evaluated.<cluster>), reads both
 *   enforcer-<node>   — reads bundles, writes only its own key in natfleet-nodes
 *   api               — reads bundles and node status, nothing else
 * Every user subscribes only under its own inbox prefix (`inboxPrefix(user)` from
 * @natfleet/bus, which the daemons pass to nats.js), so nobody reads another client's
 * replies. Only the JetStream API calls each role makes (nats.js 2.29, nats-server 2.9) are
 * allowed: no consumer delete (nats.js deletes a replaced ordered consumer best-effort; the
 * server drops it after its inactive threshold), no stream changes but the compiler's, no
 * durable creates on the legacy subject. Known limit: nats.js 2.29 creates its ordered
 * consumers by name (`CONSUMER.CREATE.<stream>.<name>.<filter>`), and nats-server accepts a
 * `durable_name` on that subject too, so a reader can still create a durable consumer on a
 * stream it may read; subject permissions cannot tell the two apart.
 * Rollups on natfleet-nodes are refused by the bucket itself (allow_rollup_hdrs: false,
 * see @natfleet/bus openNodesBucket), not here: a permission cannot see headers.
 * Passwords are `$NATFLEET_<USER>_PASSWORD` environment references (nats-server expands
 * `$VAR` in its config), so the file itself holds no secret. Never logs.
 */
import { ADMISSION_SUBJECT_PREFIX, BUNDLE_STREAM, BUNDLE_SUBJECT_PREFIX, EVALUATED_SUBJECT_PREFIX, NODES_BUCKET, NODES_STREAM, inboxPrefix, nodeStatusSubject } from '@natfleet/bus';

const JS = '$JS.API';

/** JetStream API subjects to read one stream: stored-message gets and nats.js 2.29 ordered (pull) consumers. */
function readStream(stream: string): string[] {
  return [
    // consumers.get() checks the stream first; kv.status() of a bound bucket.
    `${JS}.STREAM.INFO.${stream}`,
    // latestBundle / bundleAfter, and kv.get() on a bucket opened with bindOnly.
    `${JS}.STREAM.MSG.GET.${stream}`,
    // Ordered consumers are created by name: CONSUMER.CREATE.<stream>.<name>.<filter>.
    `${JS}.CONSUMER.CREATE.${stream}.>`,
    `${JS}.CONSUMER.INFO.${stream}.>`,
    `${JS}.CONSUMER.MSG.NEXT.${stream}.>`,
  ];
}

export interface Permissions {
  publish: string[];
  subscribe: string[];
}

/** The NATS user of `node`'s enforcer. */
export const enforcerUser = (node: string): string => `enforcer-${node}`;

/** Replies and deliveries of `user`'s requests and consumers arrive under its own prefix only. */
const inbox = (user: string): string[] => [`${inboxPrefix(user)}.>`];

export function compilerPermissions(user = 'compiler'): Permissions {
  return {
    publish: [
      `${JS}.INFO`,
      `${JS}.STREAM.CREATE.${BUNDLE_STREAM}`,
      `${JS}.STREAM.UPDATE.${BUNDLE_STREAM}`,
      ...readStream(BUNDLE_STREAM),
      `${BUNDLE_SUBJECT_PREFIX}.>`,
      // The newest etcd revision evaluated (DESIGN.md §9), read by the API with the bundles.
      `${EVALUATED_SUBJECT_PREFIX}.>`,
      // Rollout admissions (DESIGN.md §10), signed: only the compiler may publish them.
      `${ADMISSION_SUBJECT_PREFIX}.>`,
      // openNodesBucket: creates the bucket, or turns rollups off on an existing one.
      `${JS}.STREAM.CREATE.${NODES_STREAM}`,
      `${JS}.STREAM.UPDATE.${NODES_STREAM}`,
      ...readStream(NODES_STREAM),
      // kv.get() on a bucket opened in create mode uses direct get (the bucket allows it).
      `${JS}.DIRECT.GET.${NODES_STREAM}`,
      `${JS}.DIRECT.GET.${NODES_STREAM}.>`,
      // kv.watch() is an ordered push consumer: re-created on the legacy (ephemeral-only)
      // subject after a gap, and it answers the server's flow control.
      `${JS}.CONSUMER.CREATE.${NODES_STREAM}`,
      `$JS.FC.${NODES_STREAM}.>`,
      // Node GC (--node-gc-after) deletes a silent node's key: a KV delete is a publish on
      // the key's subject, which NATS cannot tell from a put (the compiler already owns the bucket).
      `$KV.${NODES_BUCKET}.>`,
    ],
    subscribe: inbox(user),
  };
}

/** Throws RangeError for a node name outside NODE_NAME_RE (@natfleet/bus). Dotted names are fine. */
export function enforcerPermissions(node: string, user = enforcerUser(node)): Permissions {
  return {
    publish: [
      `${JS}.INFO`,
      ...readStream(BUNDLE_STREAM),
      // kv.status() when binding the bucket; nothing else of it but its own key.
      `${JS}.STREAM.INFO.${NODES_STREAM}`,
      nodeStatusSubject(node),
    ],
    // New admissions arrive on a plain subscription (no consumer per node); the newest is
    // read with a stored-message get (readStream) after every (re)connect.
    subscribe: [...inbox(user), `${ADMISSION_SUBJECT_PREFIX}.>`],
  };
}

/**
 * The API reads both streams, and may publish on node status keys for one purpose:
 * `natctl node delete` decommissions a node by deleting its key (a KV delete is a publish
 * on the key's subject; NATS permissions cannot tell it from a put, so the API — an admin
 * component behind write tokens — is trusted with it, as the compiler is with the bucket).
 */
export function apiPermissions(user = 'api'): Permissions {
  return { publish: [`${JS}.INFO`, ...readStream(BUNDLE_STREAM), ...readStream(NODES_STREAM), `$KV.${NODES_BUCKET}.>`], subscribe: inbox(user) };
}

export interface NatsUser {
  user: string;
  /** A literal password, or an env reference like `$NATFLEET_COMPILER_PASSWORD`. */
  password: string;
  permissions: Permissions;
}

/**
 * The value to put in that env variable for `password`. nats-server parses a `$VAR`'s
 * value as a config value, so an unquoted password that starts with a digit (or looks
 * like a number or boolean) breaks the parse and the server exits: the value must be a
 * quoted string.
 */
export const passwordEnvValue = (password: string): string => JSON.stringify(password);

/** Env variable holding a user's password: NATFLEET_<USER>_PASSWORD, upper-cased, non-alnum → _. */
export const passwordEnv = (user: string): string => `NATFLEET_${user.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PASSWORD`;

/**
 * The users of a deployment with these nodes (any order), passwords as env references.
 * Throws RangeError for a node name outside NODE_NAME_RE, and for two names whose password
 * variables would be the same (`a.b` and `a-b`, `Node1` and `node1`, or a name given twice):
 * they would share one password.
 */
export function natfleetUsers(nodes: readonly string[]): NatsUser[] {
  const ref = (u: string): string => `$${passwordEnv(u)}`;
  const users = [
    { user: 'compiler', password: ref('compiler'), permissions: compilerPermissions() },
    { user: 'api', password: ref('api'), permissions: apiPermissions() },
    ...[...nodes].sort().map((n) => ({ user: enforcerUser(n), password: ref(enforcerUser(n)), permissions: enforcerPermissions(n) })),
  ];
  const byEnv = new Map<string, string>();
  for (const u of users) {
    const other = byEnv.get(u.password);
    if (other !== undefined) throw new RangeError(`users ${JSON.stringify(other)} and ${JSON.stringify(u.user)} would share the password variable ${u.password.slice(1)}`);
    byEnv.set(u.password, u.user);
  }
  return users;
}

const q = (s: string): string => JSON.stringify(s);
const list = (xs: readonly string[], indent: string): string => `[\n${xs.map((x) => `${indent}  ${q(x)}`).join(',\n')}\n${indent}]`;

/** The nats-server `authorization { users = [...] }` block. Env references stay unquoted so nats-server expands them. */
export function renderAuthorization(users: readonly NatsUser[]): string {
  const body = users
    .map((u) => {
      const pw = u.password.startsWith('$') ? u.password : q(u.password);
      return [
        `    {`,
        `      user: ${q(u.user)}`,
        `      password: ${pw}`,
        `      permissions: {`,
        `        publish: { allow: ${list(u.permissions.publish, '        ')} }`,
        `        subscribe: { allow: ${list(u.permissions.subscribe, '        ')} }`,
        `      }`,
        `    }`,
      ].join('\n');
    })
    .join(',\n');
  return `authorization {\n  users = [\n${body}\n  ]\n}\n`;
}
