// In-memory stand-ins for the rollout controller's edges, with the semantics it relies on:
// etcd revisions and mod-revision fenced txns (the state key), JetStream msg-id dedupe and
// expected-last-subject-sequence fencing (the admission subject), a pushable node-status
// watch and a settable clock.
import { decodeAdmission, generateSigningKeyPair, loadSigningKey, loadTrustedKeys, type Admission } from '@natfleet/bundle';
import { BusError, pendingNodeStatus, type NodeStatus, type NodeStatusEvent, type PublishResult } from '@natfleet/bus';
import { kindKeyPrefix, rolloutPolicyKeyPrefix } from '@natfleet/model';
import {
  decodeOutcomeRecord,
  decodeStateRecord,
  rolloutCommandKeyPrefix,
  rolloutOutcomeKey,
  rolloutStateKey,
  type RolloutOutcomeRecord,
  type RolloutStateRecord,
} from '@natfleet/rollout-planner';
import { AsyncQueue } from '@natfleet/store';
import { CompilerMetrics, RolloutController, type AdmissionChannel, type AdmissionSubjectState, type EntryLike, type RolloutStore, type StoredRolloutState, type WebhookCaller } from '../src/index.js';
import { memoryLogger } from './fakes.js';

export const NATFLEET = '/natfleet/v1';
export const CALICO = '/calico/resources/v3/projectcalico.org';
export const CLUSTER = 'unit';

export const pair = generateSigningKeyPair();
export const key = loadSigningKey(pair.privateKeyPem);
export const trustedKeys = loadTrustedKeys([pair.publicKeyPem]);

export class FakeRolloutStore implements RolloutStore {
  readonly policyPrefix = rolloutPolicyKeyPrefix(NATFLEET);
  readonly nodesPrefix = kindKeyPrefix('Node', CALICO);
  readonly commandPrefix = rolloutCommandKeyPrefix(NATFLEET);
  readonly stateKey = rolloutStateKey(NATFLEET);
  readonly kv = new Map<string, { value: string; mod: number; create: number }>();
  revision = 1;
  stateWrites = 0;
  failReads = 0;
  private listeners: ((keys: string[] | undefined) => void)[] = [];

  put(key: string, value: string): number {
    const rev = ++this.revision;
    this.kv.set(key, { value, mod: rev, create: this.kv.get(key)?.create ?? rev });
    for (const l of this.listeners) l([key]);
    return rev;
  }

  delete(key: string): void {
    if (!this.kv.delete(key)) return;
    ++this.revision;
    for (const l of this.listeners) l([key]);
  }

  list(prefix: string): EntryLike[] {
    return [...this.kv.entries()].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => ({ key: k, value: v.value, createRevision: v.create }));
  }

  get state(): RolloutStateRecord | undefined {
    const v = this.kv.get(this.stateKey);
    return v && decodeStateRecord(v.value);
  }

  get stateModRevision(): number {
    return this.kv.get(this.stateKey)?.mod ?? 0;
  }

  outcome(version: number): RolloutOutcomeRecord | undefined {
    const v = this.kv.get(rolloutOutcomeKey(NATFLEET, version));
    return v && decodeOutcomeRecord(v.value);
  }

  node(name: string, labels: Record<string, string> = {}): void {
    this.put(`${this.nodesPrefix}${name}`, JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name, labels }, spec: {} }));
  }

  policy(name: string, spec: Record<string, unknown>): void {
    this.put(`${this.policyPrefix}${name}`, JSON.stringify({ apiVersion: 'natfleet.io/v1', kind: 'RolloutPolicy', metadata: { name }, spec }));
  }

  command(id: string, record: Record<string, unknown>): string {
    const k = `${this.commandPrefix}${id}`;
    this.put(k, JSON.stringify(record));
    return k;
  }

  private async io(): Promise<void> {
    await Promise.resolve();
    if (this.failReads > 0) {
      this.failReads--;
      throw new Error('etcd unavailable');
    }
  }

  async readInputs() {
    await this.io();
    return { policies: this.list(this.policyPrefix), nodes: this.list(this.nodesPrefix), commands: this.list(this.commandPrefix) };
  }

  async countPolicies(): Promise<number> {
    await this.io();
    return this.list(this.policyPrefix).length;
  }

  async readState(): Promise<StoredRolloutState> {
    await this.io();
    const v = this.kv.get(this.stateKey);
    return { record: v && decodeStateRecord(v.value), modRevision: v?.mod ?? 0 };
  }

  async writeState(value: string, expectedModRevision: number, deleteKeys: readonly string[]): Promise<{ succeeded: boolean; revision: number }> {
    await this.io();
    if (this.stateModRevision !== expectedModRevision) return { succeeded: false, revision: this.revision };
    const rev = ++this.revision;
    this.kv.set(this.stateKey, { value, mod: rev, create: this.kv.get(this.stateKey)?.create ?? rev });
    for (const k of deleteKeys) this.kv.delete(k);
    this.stateWrites++;
    for (const l of this.listeners) l([this.stateKey, ...deleteKeys]);
    return { succeeded: true, revision: rev };
  }

  async deleteKeys(keys: readonly string[]): Promise<void> {
    await this.io();
    for (const k of keys) this.delete(k);
  }

  async putOutcome(record: RolloutOutcomeRecord): Promise<void> {
    await this.io();
    this.put(rolloutOutcomeKey(NATFLEET, record.version), JSON.stringify(record));
  }

  async watch(signal: AbortSignal, onChange: (keys: string[] | undefined) => void): Promise<void> {
    this.listeners.push(onChange);
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    this.listeners = this.listeners.filter((l) => l !== onChange);
  }
}

export class FakeAdmissionSubject implements AdmissionChannel {
  readonly messages: { seq: number; msgId: string; data: Uint8Array }[] = [];
  failNext = 0;

  /** The genuine admissions (signed with the test key), oldest first. */
  get admissions(): Admission[] {
    return this.messages.flatMap((m) => {
      try {
        return [decodeAdmission(m.data, { trustedKeys })];
      } catch {
        return [];
      }
    });
  }

  get last(): Admission | undefined {
    return this.admissions.at(-1);
  }

  async latest(): Promise<AdmissionSubjectState | undefined> {
    await Promise.resolve();
    const m = this.messages.at(-1);
    if (!m) return undefined;
    let admission: Admission | undefined;
    try {
      admission = decodeAdmission(m.data, { trustedKeys });
    } catch {
      admission = undefined;
    }
    return { seq: m.seq, admission };
  }

  /** A publish by someone else (no fencing). */
  inject(data: Uint8Array, msgId = `x${this.messages.length}`): void {
    this.messages.push({ seq: this.messages.length + 1, msgId, data });
  }

  async publish(input: { data: Uint8Array; msgId: string; expectedLastSubjectSequence: number }): Promise<PublishResult> {
    await Promise.resolve();
    if (this.failNext > 0) {
      this.failNext--;
      throw new BusError('PUBLISH_FAILED', 'timeout', true);
    }
    const dup = this.messages.find((m) => m.msgId === input.msgId);
    if (dup) return { seq: dup.seq, duplicate: true };
    const lastSeq = this.messages.at(-1)?.seq ?? 0;
    if (input.expectedLastSubjectSequence !== lastSeq) throw new BusError('PUBLISH_FENCED', `wrong last sequence: ${lastSeq}`, false);
    this.messages.push({ seq: lastSeq + 1, msgId: input.msgId, data: input.data });
    return { seq: lastSeq + 1, duplicate: false };
  }
}

/** A node-status watch the test pushes into (current values replayed to every new watcher). */
export class FakeStatuses {
  readonly current = new Map<string, NodeStatus>();
  private queues: AsyncQueue<NodeStatusEvent>[] = [];
  private revision = 0;
  /** When NATS "stored" a status (ms epoch): real time unless a test ties it to its fake clock. */
  stamp: () => number = () => Date.now();
  private readonly stampedAt = new Map<string, number>();

  set(node: string, over: Partial<NodeStatus>): void {
    const s = pendingNodeStatus(node, { cluster: CLUSTER, ...this.current.get(node), ...over });
    this.current.set(node, s);
    this.stampedAt.set(node, this.stamp());
    for (const q of this.queues) q.push({ type: 'put', status: s, revision: ++this.revision, storedAt: new Date(this.stampedAt.get(node)!) });
  }

  /** ACK of `version` (applied, health passed for it). */
  ack(node: string, version: number): void {
    this.set(node, { state: 'applied', appliedVersion: version, failedVersion: 0, error: '', errorCode: '', health: { version, result: 'passed', code: '', check: '', output: '', checkedAt: '' } });
  }

  watch = (signal: AbortSignal): AsyncIterable<NodeStatusEvent> => {
    const q = new AsyncQueue<NodeStatusEvent>();
    for (const s of this.current.values()) q.push({ type: 'put', status: s, revision: ++this.revision, storedAt: new Date(this.stampedAt.get(s.node) ?? this.stamp()) });
    this.queues.push(q);
    signal.addEventListener('abort', () => q.close(), { once: true });
    return q;
  };
}

export class Clock {
  constructor(public t = 1_000_000) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface Harness {
  store: FakeRolloutStore;
  subject: FakeAdmissionSubject;
  statuses: FakeStatuses;
  clock: Clock;
  metrics: CompilerMetrics;
  lines: Record<string, unknown>[];
  start(opts?: { webhook?: WebhookCaller; leaderId?: string }): { controller: RolloutController; term: AbortController; done: Promise<void> };
}

export function harness(): Harness {
  const store = new FakeRolloutStore();
  const subject = new FakeAdmissionSubject();
  const statuses = new FakeStatuses();
  const clock = new Clock();
  const metrics = new CompilerMetrics({ withProcessMetrics: false });
  const { logger, lines } = memoryLogger();
  return {
    store,
    subject,
    statuses,
    clock,
    metrics,
    lines,
    start(opts = {}) {
      const term = new AbortController();
      const controller = new RolloutController(
        { store, channel: subject, statuses: statuses.watch, key, cluster: CLUSTER, leaderId: opts.leaderId ?? 'c1', logger, metrics, now: clock.now, tickMs: 10, minStepGapMs: 0, policylessStepDelayMs: 0, retryMs: 5, maxRetryMs: 20, ...(opts.webhook ? { webhook: opts.webhook } : {}) },
        term.signal,
      );
      return { controller, term, done: controller.run() };
    },
  };
}
