/**
 * @natfleet/bus — natfleet's NATS contracts: stream NATFLEET_BUNDLES, KV natfleet-nodes,
 * bundle publish/read/follow, node status. Libraries never log; errors are BusError.
 */
export {
  ADMISSION_SUBJECT_PREFIX,
  BUNDLE_STREAM,
  BUNDLE_SUBJECT_PREFIX,
  EVALUATED_SUBJECT_PREFIX,
  NODES_BUCKET,
  HDR_CONTENT,
  HDR_DIGEST,
  HDR_VERSION,
  NODE_NAME_RE,
  admissionSubject,
  bundleSubject,
  evaluatedSubject,
  inboxPrefix,
  nodeStatusSubject,
} from './contracts.js';
export type { NodeHealth, NodeState, NodeStatus } from './contracts.js';
export { BusError, isBusError } from './errors.js';
export type { BusErrorCode } from './errors.js';
export { NODES_STREAM, bundleStreamConfig, ensureBundleStream, nodesBucketStreamConfig, openNodesBucket } from './setup.js';
export type { BucketOptions, StreamOptions } from './setup.js';
export { bundleAfter, bundleHistory, followBundles, latestBundle, publishBundle } from './bundles.js';
export type { FollowEvent, FollowOptions, PublishBundleInput, PublishResult, StoredBundle } from './bundles.js';
export { latestEvaluation, publishEvaluation } from './evaluations.js';
export type { PublishEvaluationInput, StoredEvaluation } from './evaluations.js';
export { MonotonicNodeStatuses, READ_CONSUMER_IDLE_MS, decodeNodeStatus, deleteNodeStatus, pendingNodeStatus, putNodeStatus, readNodeStatusSnapshot, readNodeStatuses, watchNodeStatuses } from './node-status.js';
export type { NodeStatusEvent, NodeStatusSnapshot } from './node-status.js';
export { latestAdmission, publishAdmission, subscribeAdmissions } from './admissions.js';
export type { PublishAdmissionInput, StoredAdmission } from './admissions.js';
