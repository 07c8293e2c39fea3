/**
 * Names and shapes shared by every natfleet process on NATS (DESIGN.md §5). Changing
 * any of these is a protocol change between compiler, enforcers and API.
 */

export const BUNDLE_STREAM = 'NATFLEET_BUNDLES';
export const BUNDLE_SUBJECT_PREFIX = 'natfleet.bundle';
export const NODES_BUCKET = 'natfleet-nodes';
/**
 * Subjects `natfleet.evaluated.<cluster>` in the bundle stream: the compiler's signed
 * evaluation records ("etcd evaluated up to revision R; bundle V enforces it"), read
 * last-per-subject. A subject of their own rather than a key in natfleet-nodes, whose
 * every key is a node (the API and the compiler read all keys as node statuses), and in
 * the stream every reader of bundles can already read, under the compiler's publish
 * permission only. See @natfleet/bundle evaluation.ts and the compiler's
 * evaluation-recorder.ts.
 */
export const EVALUATED_SUBJECT_PREFIX = 'natfleet.evaluated';

/**
 * Subjects `natfleet.admission.<cluster>` in the bundle stream: the rollout controller's
 * signed admissions (DESIGN.md §10, @natfleet/bundle admission.ts), one message per change
 * of the admitted set. Enforcers read the newest with a stored-message get when they
 * (re)connect and receive new ones on a plain subscription (a JetStream publish is also
 * delivered to core subscribers): no consumer per node.
 */
export const ADMISSION_SUBJECT_PREFIX = 'natfleet.admission';

/** Headers on every published bundle, so readers can index without decoding the body. */
export const HDR_VERSION = 'Natfleet-Version';
export const HDR_DIGEST = 'Natfleet-Digest';
/** sha256 of the bundle body without version/sourceRevision: equal when nothing enforced changed. */
export const HDR_CONTENT = 'Natfleet-Content';

const CLUSTER_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** `natfleet.bundle.<cluster>`. Throws RangeError for a cluster name that is not a single subject token. */
export function bundleSubject(cluster: string): string {
  if (!CLUSTER_RE.test(cluster)) throw new RangeError(`cluster name ${JSON.stringify(cluster)} must match ${CLUSTER_RE}`);
  return `${BUNDLE_SUBJECT_PREFIX}.${cluster}`;
}

/** `natfleet.evaluated.<cluster>`. Throws RangeError for a cluster name that is not a single subject token. */
export function evaluatedSubject(cluster: string): string {
  if (!CLUSTER_RE.test(cluster)) throw new RangeError(`cluster name ${JSON.stringify(cluster)} must match ${CLUSTER_RE}`);
  return `${EVALUATED_SUBJECT_PREFIX}.${cluster}`;
}

/** `natfleet.admission.<cluster>`. Throws RangeError for a cluster name that is not a single subject token. */
export function admissionSubject(cluster: string): string {
  if (!CLUSTER_RE.test(cluster)) throw new RangeError(`cluster name ${JSON.stringify(cluster)} must match ${CLUSTER_RE}`);
  return `${ADMISSION_SUBJECT_PREFIX}.${cluster}`;
}

export type NodeState = 'applied' | 'failed' | 'pending';

/** The value of key `<node>` in the natfleet-nodes bucket, written only by that node's enforcer. */
export interface NodeStatus {
  node: string;
  cluster: string;
  labels: Record<string, string>;
  addresses: string[];
  /** 0 until the first bundle is applied. */
  appliedVersion: number;
  appliedDigest: string;
  state: NodeState;
  /** Why the last bundle was refused or failed (a NACK); empty when applied. */
  error: string;
  /** Stable code of `error` (e.g. BAD_SIGNATURE, NFT_SYNTAX); empty when applied. */
  errorCode: string;
  /** Version of the bundle that failed, when state is failed. */
  failedVersion: number;
  appliedAt: string;
  applyMs: number;
  driftRepairs: number;
  enforcerVersion: string;
  heartbeatAt: string;
  /** Post-apply health checks of the applied version (staged rollouts); absent from enforcers that predate them. */
  health?: NodeHealth;
  /** The newest verified admission the enforcer acted on (its stateRevision); 0 = none. */
  admissionRevision?: number;
}

/**
 * The outcome of an enforcer's post-apply health checks (its own, and the RolloutPolicy's
 * when admitted as a candidate) for the version it applied. A failed check is reported like
 * a NACK, with its own code and the check's output, and fails the rollout's gate.
 */
export interface NodeHealth {
  /** The applied version the checks ran against. */
  version: number;
  /** `none`: no check configured. `running`: checks or the conntrack watch still going. */
  result: 'none' | 'running' | 'passed' | 'failed';
  /** When failed: HEALTH_CHECK_FAILED, HEALTH_CHECK_TIMEOUT, CONNTRACK_INSERT_FAILED, CONNTRACK_DROP, CONNTRACK_UNREADABLE; else ''. */
  code: string;
  /** Name of the failed check ('' otherwise). */
  check: string;
  /** The failed check's output (stdout+stderr, last 2 KiB) or the counter deltas; '' otherwise. */
  output: string;
  checkedAt: string;
}

/**
 * Node names are KV keys, so subject tokens: dot-separated labels of `[A-Za-z0-9_-]`, at
 * most 253 characters. Every Kubernetes node name (a DNS-1123 subdomain such as
 * `ip-10-0-0-5.ec2.internal`) fits; a dot makes the key's subject longer
 * (`$KV.natfleet-nodes.ip-10-0-0-5.ec2.internal`), which exact permissions handle. Empty
 * labels (`a..b`, a leading or trailing dot) would be empty subject tokens: refused.
 */
export const NODE_NAME_RE = /^(?=.{1,253}$)[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/** The subject of `node`'s key in the nodes bucket (what its enforcer may publish to). Throws RangeError for a name outside NODE_NAME_RE. */
export function nodeStatusSubject(node: string): string {
  if (!NODE_NAME_RE.test(node)) throw new RangeError(`node name ${JSON.stringify(node)} must match ${NODE_NAME_RE}`);
  return `$KV.${NODES_BUCKET}.${node}`;
}

const INBOX_SAFE = /^[A-Za-z0-9-]$/;

/**
 * The inbox prefix (nats.js `inboxPrefix`) of NATS user `user`: `_INBOX_<user>`, one
 * subject token. Replies to the client's requests and its consumers' deliveries arrive
 * under `<prefix>.>`, and each user may subscribe to its own prefix only, so no client
 * reads another's replies (consumer names, bundles, statuses). Bytes of the user name
 * outside `[A-Za-z0-9-]` are written `_` + two hex digits (`.` → `_2e`, `_` → `_5f`): the
 * prefix stays one token for a dotted node name, and two users never share a prefix or
 * cover each other's (`_INBOX_a.b.>` would also cover the inbox of a user `a.b.c`).
 * Without a user (an unauthenticated server) nats.js's default, `_INBOX`.
 */
export function inboxPrefix(user: string | undefined): string {
  if (!user) return '_INBOX';
  let token = '';
  for (const byte of new TextEncoder().encode(user)) {
    const ch = String.fromCharCode(byte);
    token += INBOX_SAFE.test(ch) ? ch : `_${byte.toString(16).padStart(2, '0')}`;
  }
  return `_INBOX_${token}`;
}
