/**
 * The shapes of the API answers the dashboard reads (a subset of services/api's types,
 * restated so the browser bundle imports nothing from the server). Types only.
 */

export type NodeRolloutStatus = 'in-sync' | 'behind' | 'failed' | 'silent';

export interface RolloutNode {
  node: string;
  labels: Record<string, string>;
  addresses: string[];
  appliedVersion: number;
  state: string;
  error: string;
  errorCode: string;
  failedVersion: number;
  applyMs: number;
  driftRepairs: number;
  heartbeatAt: string;
  heartbeatAgeSeconds: number | null;
  status: NodeRolloutStatus;
  registered: boolean;
  health?: { version: number; result: string; code: string; check: string; output?: string };
}

export interface GateResult {
  result: 'passed' | 'pending' | 'failed';
  gate?: string;
  code?: string;
  detail?: string;
}

export interface StagedWave {
  index: number;
  name: string;
  selector: string | null;
  percent: number | null;
  bakeMs: number;
  state: 'pending' | 'admitted' | 'baking' | 'passed' | 'failed';
  admittedAt: string | null;
  bakeRemainingMs: number | null;
  nodes: { node: string; gate: GateResult | null }[];
}

export interface StagedRollout {
  policy: string;
  phase: string;
  candidate: { version: number; digest: string };
  stable: { version: number; digest: string } | null;
  conditions: { type: string; status: string; reason: string; message: string }[];
  paused: boolean;
  promoted: boolean;
  immediate: boolean;
  startedAt: string;
  updatedAt: string;
  onFailure: string;
  waves: StagedWave[];
  events: { at: string; type: string; message: string }[];
}

export interface RolloutView {
  cluster: string;
  desired: { version: number; digest: string; publishedAt: string } | null;
  evaluated: { revision: number; bundleVersion: number } | null;
  nodes: RolloutNode[];
  summary: { total: number; inSync: number; behind: number; failed: number; silent: number };
  complete: boolean;
  staged: StagedRollout | null;
  aborted: boolean;
  abortedReason?: string;
  /** Browser clock (ms) when this view arrived; set by the page, not the API. */
  receivedAt?: number;
}

export interface ListDiff {
  added: string[];
  removed: string[];
}

export interface NatDiff {
  changed: boolean;
  v4: { masquerade: ListDiff; noNat: ListDiff };
  v6: { masquerade: ListDiff; noNat: ListDiff };
  hostAddresses: ListDiff;
  settingsChanged: boolean;
  nodesChanged: string[];
  warnings: { code?: string; message?: string; resource?: string; [k: string]: unknown }[];
}

export interface NodeDescription {
  node: RolloutNode;
  resource: Record<string, unknown> | null;
  desired: { version: number; digest: string } | null;
  diff: NatDiff | null;
  diffUnavailable?: string;
}

export interface ChangedResource {
  kind: string;
  name: string;
  action: string;
  via: string;
  by?: string;
  [k: string]: unknown;
}

export interface HistoryEntry {
  seq: number;
  version: number;
  digest: string;
  publishedAt: string;
  warnings?: number;
  masquerade?: { v4: number; v6: number };
  noNat?: { v4: number; v6: number };
  invalid?: { code: string; message: string };
  change?: { status: 'ok'; since: number; resources: ChangedResource[] } | { status: 'compacted'; since: number } | { status: 'no-predecessor' };
  rollout?: { outcome: string | null; phase?: string; policy: string; reason: string; immediate: boolean; failures: { node: string; gate?: string; code?: string; detail?: string }[] } | null;
}

export interface Explanation {
  decision: string;
  snatAddress?: string;
  reason: string;
  version: number;
  source: { address: string; pool?: { name: string; cidr: string; natOutgoing: boolean; disabled: boolean } };
  destination: { address: string; hostAddress?: string; pool?: { name: string; cidr: string; disabled: boolean } };
  settingsFrom: string;
  conditions?: string[];
}

export interface Whoami {
  name: string;
  write: boolean;
}

export interface VersionDetail {
  version: number;
  previous: { version: number; digest: string } | null;
  nat: NatDiff;
  settings: { path: string; before?: unknown; after?: unknown }[];
  warnings: { code?: string; message?: string; new?: boolean; [k: string]: unknown }[];
}

/** The parts of GET /v1/bundles/:version the node page shows. */
export interface BundleSets {
  version: number;
  fleet: {
    v4: { masquerade: string[]; noNat: string[] };
    v6: { masquerade: string[]; noNat: string[] };
    settings: Record<string, unknown>;
    hostAddresses: { v4: string[]; v6: string[] };
  };
  nodes: Record<string, Record<string, unknown>>;
}
