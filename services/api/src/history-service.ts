/**
 * Safe history and rollback. History lists the bundles the stream keeps, each with what
 * changed since its predecessor and who changed it (etcd diffed between the two source
 * revisions, attributed from the API's audit trail: version-changes.ts); one version's
 * detail adds its NAT-set and settings diff against its predecessor and the full text of
 * its warnings. Rollback goes only to a version in history (NOT_FOUND otherwise, nothing
 * written) unless forced, in which case the number is an etcd revision as before; with
 * `previewRevision` it refuses (CONFLICT) when pools or NAT config changed since the
 * preview the operator confirmed. Each valid bundle also carries `rollout`: how its staged
 * rollout went, from the controller's outcome records (rollout-control-service.ts). Reads
 * the stream through RolloutService and etcd through the store; writes only through
 * ResourceService.rollback.
 */
import type { BundleBody, BundleWarning } from '@natfleet/bundle';
import { canonicalJson } from '@natfleet/bundle';
import { compile } from '@natfleet/compiler-core';
import { parseResourceKey } from '@natfleet/model';
import { RevisionReader, isStoreError } from '@natfleet/store';
import { ApiError } from './errors.js';
import { diffBodies, type NatDiff } from './nat-diff.js';
import type { ResourceService, WriteResult } from './resource-service.js';
import type { BundleSummary, HistoryItem, RolloutService } from './rollout-service.js';
import { RolloutControlService } from './rollout-control-service.js';
import { attributeChanges, type VersionChange } from './version-changes.js';
import type { GateFailure, Phase, RolloutOutcome, RolloutOutcomeRecord, RolloutStateRecord } from '@natfleet/rollout-planner';
import { auditTrail } from './write-audit.js';

/**
 * How a version's staged rollout went, from the controller's outcome record
 * (`<prefix>/rollout/outcomes/<version>`); for the current candidate with no outcome yet,
 * where its rollout stands (`outcome` null, `phase` from the state record).
 */
export interface HistoryRollout {
  outcome: RolloutOutcome | null;
  /** Only while the version's rollout is under way (no outcome yet). */
  phase?: Phase;
  policy: string;
  reason: string;
  /** Failing nodes with their gate, code and detail (halted / rolled back). */
  failures: GateFailure[];
  /** Skipped the waves (`apply --immediate`). */
  immediate: boolean;
  /** The waves admitted (outcome records only). */
  waves: { name: string; nodes: string[] }[];
  startedAt: string | null;
  endedAt: string | null;
}

/** A history row: the stream item and, for a valid bundle, its change against its predecessor and its rollout (null when no record tells). */
export type HistoryEntry = HistoryItem & { change?: VersionChange; rollout?: HistoryRollout | null };

/** The rollout of `version` from its outcome record, else from the state record when it is that record's candidate; null otherwise. */
export function historyRollout(version: number, outcome: RolloutOutcomeRecord | undefined, state: RolloutStateRecord | null): HistoryRollout | null {
  if (outcome) {
    return {
      outcome: outcome.outcome,
      policy: String(outcome.policy ?? ''),
      reason: String(outcome.reason ?? ''),
      failures: Array.isArray(outcome.failures) ? outcome.failures : [],
      immediate: outcome.immediate === true,
      waves: Array.isArray(outcome.waves) ? outcome.waves : [],
      startedAt: outcome.startedAt ?? null,
      endedAt: outcome.endedAt ?? null,
    };
  }
  if (state && state.state.candidate.version === version) {
    const aborted = state.state.conditions?.find((c) => c.type === 'Aborted' && c.status === 'True');
    const progressing = state.state.conditions?.find((c) => c.type === 'Progressing');
    return {
      outcome: null,
      phase: state.state.phase,
      policy: state.policy,
      reason: aborted?.message ?? progressing?.message ?? '',
      // The controller records failures in the outcome once the candidate ended; until then, the failed gates.
      failures: (state.gates ?? []).filter((g) => g.result === 'failed').map((g) => ({ node: g.node, gate: (g.gate ?? 'health') as GateFailure['gate'], code: g.code ?? '', detail: g.detail ?? '' })),
      immediate: state.immediate === true,
      waves: (state.state.admitted ?? []).map((w) => ({ name: w.name, nodes: [...w.nodes] })),
      startedAt: state.startedAt ?? null,
      endedAt: null,
    };
  }
  return null;
}

/** One setting that differs between a version and its predecessor (`nodes.<node>.<field>` for node overrides). */
export interface SettingChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

export interface VersionDetail {
  version: number;
  digest: string;
  sourceRevision: number;
  compiledAt: string;
  publishedAt: string;
  /** The bundle this one is compared with (the newest valid one before it), or null for the oldest kept. */
  previous: { version: number; digest: string } | null;
  change: VersionChange;
  /** The enforced sets and settings against `previous` (against an empty fleet when null). */
  nat: NatDiff;
  /** Every fleet setting and node override that differs, leaf by leaf. */
  settings: SettingChange[];
  /** The bundle's warnings in full; `new` when the predecessor did not have it (absent without one). */
  warnings: (BundleWarning & { new?: boolean })[];
  /** How its staged rollout went (null when no record tells). */
  rollout: HistoryRollout | null;
}

export interface RollbackOptions {
  dryRun?: boolean;
  /** Take `version` as an etcd revision even when it is no bundle in history. */
  force?: boolean;
  /** The API token's name, recorded with the rollback. */
  by?: string;
  /** The read revision of the preview the operator confirmed: refuse if pools or NAT config changed after it. */
  previewRevision?: number;
}

export type RollbackResult = WriteResult & { rollback: { version: number; sourceRevision: number; forced: boolean } };

const isBundle = (h: HistoryItem): h is BundleSummary => !('invalid' in h);

/** `path: before → after` leaves of two JSON values (arrays compared whole); empty when equal. */
export function leafChanges(before: unknown, after: unknown, path: string): SettingChange[] {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(before) || isObj(after)) {
    const b = isObj(before) ? before : {};
    const a = isObj(after) ? after : {};
    return [...new Set([...Object.keys(b), ...Object.keys(a)])].sort().flatMap((k) => leafChanges(b[k], a[k], `${path}.${k}`));
  }
  if (canonicalJson(before ?? null) === canonicalJson(after ?? null)) return [];
  return [{ path, ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) }];
}

export class HistoryService {
  private readonly control: RolloutControlService;

  constructor(
    private readonly resources: ResourceService,
    private readonly rollout: RolloutService,
    control?: RolloutControlService,
  ) {
    this.control = control ?? new RolloutControlService(resources.store);
  }

  /** Outcome records by version and the state record, for `rollout` on each entry. */
  private async rolloutRecords(): Promise<{ outcomes: Map<number, RolloutOutcomeRecord>; state: RolloutStateRecord | null }> {
    const [outcomes, state] = await Promise.all([this.control.outcomes(), this.control.state()]);
    return { outcomes, state: state.record };
  }

  private get prefix(): string {
    return this.resources.store.prefix;
  }

  /**
   * The stream's messages, newest first, each valid bundle with its change since the
   * previous valid one (`no-predecessor` for the oldest kept, `compacted` when etcd no
   * longer has the revisions). Empty when nothing was published.
   */
  async list(): Promise<HistoryEntry[]> {
    const [items, records] = await Promise.all([this.rollout.history(), this.rolloutRecords()]);
    const reader = new RevisionReader(this.resources.store);
    const valid = items.filter(isBundle);
    const changes = await Promise.all(valid.map((b, i) => this.changeOf(reader, valid[i + 1], b)));
    const byItem = new Map(valid.map((b, i) => [b, changes[i]!]));
    return items.map((h) => (isBundle(h) ? { ...h, change: byItem.get(h)!, rollout: historyRollout(h.version, records.outcomes.get(h.version), records.state) } : h));
  }

  /** One version's detail (see VersionDetail); NOT_FOUND when it is not a valid bundle in the stream. */
  async version(v: number): Promise<VersionDetail> {
    const valid = (await this.rollout.history()).filter(isBundle);
    const cur = valid.find((b) => b.version === v);
    if (!cur) throw new ApiError('NOT_FOUND', `bundle version ${v} is not in history (kept: ${keptList(valid)})`);
    const prev = valid.filter((b) => b.version < v).sort((a, b) => b.version - a.version)[0];
    const [bundle, prevBundle, records] = await Promise.all([this.rollout.bundle(v), prev ? this.rollout.bundle(prev.version) : undefined, this.rolloutRecords()]);
    const base: BundleBody = prevBundle ?? compile({ entries: [] }, 0, { cluster: bundle.cluster, prefix: this.prefix }).body;
    const had = new Set(prevBundle?.warnings.map(warningId) ?? []);
    return {
      version: bundle.version,
      digest: bundle.digest,
      sourceRevision: bundle.sourceRevision,
      compiledAt: bundle.compiledAt,
      publishedAt: cur.publishedAt,
      previous: prevBundle ? { version: prevBundle.version, digest: prevBundle.digest } : null,
      change: await this.changeOf(new RevisionReader(this.resources.store), prev, cur),
      nat: diffBodies(base, bundle),
      settings: [...leafChanges(base.fleet.settings, bundle.fleet.settings, 'settings'), ...leafChanges(base.nodes, bundle.nodes, 'nodes')],
      warnings: bundle.warnings.map((w) => (prevBundle ? { ...w, new: !had.has(warningId(w)) } : { ...w })),
      rollout: historyRollout(bundle.version, records.outcomes.get(bundle.version), records.state),
    };
  }

  /**
   * Restores pools and NAT config as they were at bundle `version` (at its source
   * revision). Refusals write nothing: BAD_REQUEST for a future revision, NOT_FOUND for a
   * version that is not a bundle in history (unless `force`), CONFLICT when something
   * changed after `previewRevision`.
   */
  async rollback(version: number, o: RollbackOptions = {}): Promise<RollbackResult> {
    const reader = new RevisionReader(this.resources.store);
    const now = await reader.currentRevision();
    if (version > now) throw new ApiError('BAD_REQUEST', `version ${version} is in the future (current revision ${now})`);
    let revision = version;
    if (!o.force) {
      const valid = (await this.rollout.history()).filter(isBundle);
      const hit = valid.find((b) => b.version === version);
      if (!hit) {
        throw new ApiError(
          'NOT_FOUND',
          `version ${version} is not a bundle in history (kept: ${keptList(valid)}); nothing was written. Roll back to one of those, or force it to restore etcd revision ${version} as it was`,
        );
      }
      revision = hit.sourceRevision;
    }
    if (o.previewRevision !== undefined && !o.dryRun) await this.unchangedSince(reader, o.previewRevision, now);
    const r = await this.resources.rollback(revision, { dryRun: o.dryRun === true, rollbackOf: version, forced: o.force === true, ...(o.by !== undefined ? { by: o.by } : {}) });
    return { ...r, rollback: { version, sourceRevision: revision, forced: o.force === true } };
  }

  /** CONFLICT when an IPPool or FelixConfiguration changed after `since`. */
  private async unchangedSince(reader: RevisionReader, since: number, now: number): Promise<void> {
    let moved: string[];
    try {
      const w = await reader.changesBetween(since, now);
      moved = [...w.changed.map((e) => e.key), ...w.deleted].flatMap((k) => {
        const p = parseResourceKey(k, this.prefix);
        return p && p.kind !== 'Node' ? [`${p.kind}/${p.name}`] : [];
      });
    } catch (err) {
      if (isStoreError(err, 'NOT_FOUND')) throw new ApiError('CONFLICT', `the preview's revision ${since} has been compacted, so changes since it cannot be ruled out; nothing was written: preview the rollback again`);
      throw err;
    }
    if (moved.length > 0) {
      throw new ApiError('CONFLICT', `pools or NAT config changed since the preview at revision ${since} (${moved.slice(0, 5).join(', ')}${moved.length > 5 ? `, … ${moved.length} in all` : ''}); nothing was written: preview the rollback again`);
    }
  }

  /** `cur`'s change since `prev` (its predecessor in history, if any). */
  private async changeOf(reader: RevisionReader, prev: BundleSummary | undefined, cur: BundleSummary): Promise<VersionChange> {
    if (!prev) return { status: 'no-predecessor' };
    const from = prev.sourceRevision;
    const to = cur.sourceRevision;
    try {
      const [window, trail] = await Promise.all([reader.changesBetween(from, to), auditTrail(reader, this.prefix, from, to)]);
      return { status: 'ok', since: prev.version, resources: attributeChanges(this.prefix, window, from, trail) };
    } catch (err) {
      if (isStoreError(err, 'NOT_FOUND')) return { status: 'compacted', since: prev.version };
      throw err;
    }
  }
}

const warningId = (w: BundleWarning): string => `${w.key}\u0000${w.code}\u0000${w.reason}`;

const keptList = (valid: readonly BundleSummary[]): string =>
  valid.length === 0 ? 'none' : valid.map((b) => b.version).sort((a, b) => a - b).join(', ');
