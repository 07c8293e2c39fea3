/**
 * The operator's side of staged rollouts (DESIGN.md §10): reads the records the leader's
 * rollout controller keeps under natfleet's etcd prefix (`<prefix>/rollout/state`, the
 * outcomes) and writes operator commands (`<prefix>/rollout/commands/<id>`) for it to
 * consume. Record shapes and keys are packages/rollout-planner records.ts (the contract).
 * Owns: refusing a command that cannot apply (no record, wrong phase, not the current
 * candidate) before writing it. Must never write the state or outcome records (the
 * controller alone does), never delete commands (the controller does once they took
 * effect) and never touch Calico's prefix. Owns no HTTP concerns.
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_NATFLEET_KEY_PREFIX } from '@natfleet/model';
import {
  decodeOutcomeRecord,
  decodeStateRecord,
  rolloutCommandKeyPrefix,
  rolloutOutcomeKey,
  rolloutOutcomeKeyPrefix,
  rolloutStateKey,
  type Phase,
  type RolloutCommandRecord,
  type RolloutCommandType,
  type RolloutOutcomeRecord,
  type RolloutStateRecord,
} from '@natfleet/rollout-planner';
import type { EtcdStore } from '@natfleet/store';
import { ApiError } from './errors.js';

/** The store calls this service makes (a fake implements them in unit tests). */
export type RecordStore = Pick<EtcdStore, 'get' | 'list' | 'commit'>;

/** Commands an operator sends for the current candidate (immediate comes with a write). */
export type OperatorCommandType = Exclude<RolloutCommandType, 'immediate'>;
export const OPERATOR_COMMANDS: readonly OperatorCommandType[] = ['pause', 'resume', 'abort', 'promote'];

/** Phases each command applies in (planner.ts ignores it in any other). */
const APPLIES_IN: Readonly<Record<OperatorCommandType, readonly Phase[]>> = {
  pause: ['progressing'],
  resume: ['paused'],
  abort: ['progressing', 'paused', 'halted'],
  promote: ['progressing', 'paused'],
};

/** A command as written, with its key and the etcd revision of the write. */
export interface WrittenCommand {
  command: RolloutCommandRecord;
  key: string;
  revision: number;
}

/** The state record as read: null when there is none or it does not decode. */
export interface StateRead {
  record: RolloutStateRecord | null;
  /** The key holds something that is not a state record (written with etcdctl?). */
  malformed: boolean;
}

/**
 * A fresh command key: time first so keys list in the order they were asked (the
 * controller applies them in key order), then a random part so two at the same ms differ.
 */
export function commandKey(prefix: string, now: number): string {
  return `${rolloutCommandKeyPrefix(prefix)}${String(now).padStart(15, '0')}-${randomUUID()}`;
}

export class RolloutControlService {
  constructor(
    private readonly store: RecordStore,
    readonly prefix: string = DEFAULT_NATFLEET_KEY_PREFIX,
  ) {}

  /** The controller's state record; `record` null when absent or undecodable. */
  async state(): Promise<StateRead> {
    const e = await this.store.get(rolloutStateKey(this.prefix));
    if (!e) return { record: null, malformed: false };
    const record = decodeStateRecord(e.value) ?? null;
    return { record, malformed: record === null };
  }

  /** Every decodable outcome record by version (the controller keeps the newest 100). Empty when none. */
  async outcomes(): Promise<Map<number, RolloutOutcomeRecord>> {
    const snap = await this.store.list(rolloutOutcomeKeyPrefix(this.prefix));
    const out = new Map<number, RolloutOutcomeRecord>();
    for (const e of snap.entries) {
      const o = decodeOutcomeRecord(e.value);
      if (o) out.set(o.version, o);
    }
    return out;
  }

  /** The outcome record of `version`, or undefined when there is none (or it does not decode). */
  async outcome(version: number): Promise<RolloutOutcomeRecord | undefined> {
    const e = await this.store.get(rolloutOutcomeKey(this.prefix, version));
    return e ? decodeOutcomeRecord(e.value) : undefined;
  }

  /**
   * Writes `type` for `version` (default: the current candidate). Refusals write nothing:
   * NOT_FOUND when the controller has written no state record; CONFLICT when `version` is
   * not the current candidate, or the rollout is in no phase the command applies to.
   */
  async command(type: OperatorCommandType, o: { version?: number; by: string; reason?: string; now?: number }): Promise<WrittenCommand> {
    const { record, malformed } = await this.state();
    if (record === null) {
      throw new ApiError(
        'NOT_FOUND',
        malformed
          ? `the rollout state record at ${rolloutStateKey(this.prefix)} is not one the controller wrote; nothing to ${type}`
          : `no staged rollout to ${type}: the rollout controller has written no state (${rolloutStateKey(this.prefix)}); is a compiler leader running?`,
      );
    }
    const s = record.state;
    const version = o.version ?? s.candidate.version;
    if (version !== s.candidate.version) {
      throw new ApiError('CONFLICT', `version ${version} is not the current candidate (v${s.candidate.version}, ${s.phase}); nothing was written. Check the rollout (natctl rollout status) and retry for v${s.candidate.version}`);
    }
    if (record.policy === '') {
      throw new ApiError('CONFLICT', `v${version} has no staged rollout to ${type}: no RolloutPolicy applies, so every node was admitted at once; nothing was written`);
    }
    if (!APPLIES_IN[type].includes(s.phase)) {
      throw new ApiError('CONFLICT', `cannot ${type} the rollout of v${version}: it is ${s.phase} (${type} applies when ${APPLIES_IN[type].join(' or ')}); nothing was written`);
    }
    if (type === 'promote' && s.promoted) throw new ApiError('CONFLICT', `the rollout of v${version} is already promoted (remaining bakes are skipped); nothing was written`);
    return this.write({ type, version, by: o.by, at: new Date(o.now ?? Date.now()).toISOString(), ...(o.reason !== undefined ? { reason: o.reason } : {}) }, o.now);
  }

  /**
   * The `immediate` command of a write committed at `revision` (`apply --immediate`): the
   * first candidate at or past it is admitted to every node as one final wave. Written
   * whatever the current state (the controller applies it when that candidate comes).
   */
  async immediate(revision: number, by: string, now = Date.now()): Promise<WrittenCommand> {
    return this.write({ type: 'immediate', version: revision, by, at: new Date(now).toISOString() }, now);
  }

  private async write(command: RolloutCommandRecord, now = Date.now()): Promise<WrittenCommand> {
    const key = commandKey(this.prefix, now);
    const r = await this.store.commit([{ type: 'put', key, value: JSON.stringify(command), expectedModRevision: 0 }]);
    if (!r.succeeded) throw new ApiError('CONFLICT', `command key ${key} exists already; nothing was written, retry`);
    return { command, key, revision: r.revision };
  }
}
