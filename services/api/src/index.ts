/** @natfleet/api — the REST API's building blocks (main.ts wires them to etcd and NATS). */
export { buildApp } from './app.js';
export type { AppDeps } from './app.js';
export { TokenSet, bearerToken } from './auth.js';
export type { Role } from './auth.js';
export { API_ERRORS, ApiError, isApiError, toApiError } from './errors.js';
export type { ApiErrorCode } from './errors.js';
export { diffBodies, natDiff } from './nat-diff.js';
export type { ListDiff, NatDiff } from './nat-diff.js';
export { openApiDocument } from './openapi.js';
export { ResourceService, WRITABLE_KINDS } from './resource-service.js';
export type { ResourceChange, WritableKind, WriteMode, WriteResult } from './resource-service.js';
export { RolloutService, classifyNode } from './rollout-service.js';
export type { BundleSummary, HistoryItem, InvalidBundleItem, NodeRolloutStatus, Rollout, RolloutNode } from './rollout-service.js';
export { StoredBundles, judgeStored } from './stored-bundles.js';
export type { InvalidCode, StoredBundlesOptions, StoredVerdict } from './stored-bundles.js';
export { readTrustedKeysFile } from './trusted-keys.js';
export { NodeService } from './node-service.js';
export type { NodeDescription } from './node-service.js';
