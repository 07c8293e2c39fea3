/**
 * Names and shapes shared by every natfleet process on NATS (DESIGN.md §5). Changing
 * any of these is a protocol change between compiler, enforcers and API.
 */

export const BUNDLE_STREAM = 'NATFLEET_BUNDLES';
export const BUNDLE_SUBJECT_PREFIX = 'natfleet.bundle';
export const NODES_BUCKET = 'natfleet-nodes';

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
}

/** Node names are KV keys: keep them to characters NATS KV keys allow. */
export const NODE_NAME_RE = /^[A-Za-z0-9_.-]{1,253}$/;
