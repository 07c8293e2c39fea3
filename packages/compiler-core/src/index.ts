/**
 * @natfleet/compiler-core — the pure compile core (DESIGN.md §3, §4): snapshot at an etcd
 * revision → bundle, plus explain() for one flow. Imports no etcd, NATS, fs or processes.
 */
export { compile, compileBundle } from './compile.js';
export type { CompileOptions, CompileResult } from './compile.js';
export { DecodeCache, decodeSnapshot } from './snapshot.js';
export type { DecodedSnapshot, Keyed, Snapshot, SnapshotEntry, WarningCode } from './snapshot.js';
export { resolvePools } from './pool-resolution.js';
export type { PoolResolution, ResolvedPool } from './pool-resolution.js';
export { resolveSettings } from './nat-settings.js';
export type { ResolvedSettings } from './nat-settings.js';
export { explain } from './explain.js';
export type { Explanation, NatDecision, PoolRef } from './explain.js';
export { ExplainInputError, isExplainInputError } from './errors.js';
