/**
 * The NATS users and permissions of a natfleet deployment (DESIGN.md §5), rendered as a
 * nats-server `authorization` block. One source of truth for deploy/nats/natfleet.conf
 * (checked by a golden test) and the local stack:
 *   compiler          — manages the stream and bucket, publishes bundles, reads node status
 *   enforcer-<node>   — reads bundles, writes only its own key in natfleet-nodes
 *   api               — reads bundles and node status, nothing else
 * Passwords are `$NATFLEET_<ROLE>_PASSWORD` environment references (nats-server expands
 * `$VAR` in its config), so the file itself holds no secret.
 */
import { BUNDLE_STREAM, BUNDLE_SUBJECT_PREFIX, NODES_BUCKET, NODE_NAME_RE } from '@natfleet/bus';

const KV_STREAM = `KV_${NODES_BUCKET}`;
const JS = '$JS.API';

/** JetStream API subjects needed to read one stream with ordered consumers (nats.js 2.29, server 2.9/2.10). */
function readStream(stream: string): string[] {
  return [
    `${JS}.STREAM.INFO.${stream}`,
    `${JS}.STREAM.MSG.GET.${stream}`,
    `${JS}.CONSUMER.CREATE.${stream}`,
    `${JS}.CONSUMER.CREATE.${stream}.>`,
    `${JS}.CONSUMER.INFO.${stream}.>`,
    `${JS}.CONSUMER.DELETE.${stream}.>`,
    `${JS}.CONSUMER.MSG.NEXT.${stream}.>`,
    // KV buckets are created with allow_direct, so kv.get() uses the direct-get API.
    `${JS}.DIRECT.GET.${stream}.>`,
    `${JS}.DIRECT.GET.${stream}`,
  ];
}

export interface Permissions {
  publish: string[];
  subscribe: string[];
}

/** Replies to the client's own requests and JetStream flow control arrive on these. */
const COMMON_SUB = ['_INBOX.>'];
const COMMON_PUB = [`${JS}.INFO`, '$JS.FC.>'];

export function compilerPermissions(): Permissions {
  return {
    publish: [...COMMON_PUB, `${JS}.STREAM.CREATE.${BUNDLE_STREAM}`, `${JS}.STREAM.UPDATE.${BUNDLE_STREAM}`, `${JS}.STREAM.CREATE.${KV_STREAM}`, ...readStream(BUNDLE_STREAM), ...readStream(KV_STREAM), `${BUNDLE_SUBJECT_PREFIX}.>`],
    subscribe: COMMON_SUB,
  };
}

/** Throws RangeError for a node name NATS subjects cannot carry safely. */
export function enforcerPermissions(node: string): Permissions {
  if (!NODE_NAME_RE.test(node) || node.includes('.')) throw new RangeError(`node name ${JSON.stringify(node)} cannot be a single NATS subject token`);
  return {
    publish: [...COMMON_PUB, ...readStream(BUNDLE_STREAM), `${JS}.STREAM.INFO.${KV_STREAM}`, `$KV.${NODES_BUCKET}.${node}`],
    subscribe: COMMON_SUB,
  };
}

export function apiPermissions(): Permissions {
  return { publish: [...COMMON_PUB, ...readStream(BUNDLE_STREAM), ...readStream(KV_STREAM)], subscribe: COMMON_SUB };
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

/** The users of a deployment with these nodes, passwords as env references. */
export function natfleetUsers(nodes: readonly string[]): NatsUser[] {
  const ref = (u: string): string => `$${passwordEnv(u)}`;
  return [
    { user: 'compiler', password: ref('compiler'), permissions: compilerPermissions() },
    { user: 'api', password: ref('api'), permissions: apiPermissions() },
    ...[...nodes].sort().map((n) => ({ user: `enforcer-${n}`, password: ref(`enforcer-${n}`), permissions: enforcerPermissions(n) })),
  ];
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
