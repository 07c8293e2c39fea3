/**
 * The leader's rollout controller for one term (DESIGN.md §10, issue 14): runs the pure
 * planner over (RolloutPolicy, fleet, candidate, node statuses, operator commands, now),
 * persists the RolloutStateRecord with a txn fenced on the state key's mod revision, then —
 * when what enforcers must do changed — publishes ONE signed Admission (stateRevision = the
 * revision of that write) fenced on the admission subject's last sequence. Level-triggered:
 * a new leader reads the persisted state and resumes the same waves, bakes included.
 *
 * Steps run one at a time, on every input change (etcd watch, node status, a new
 * candidate, a webhook verdict) and on a timer (the next bake end or deadline, at least
 * every second while something is due). A step with nothing new writes and publishes
 * nothing.
 *
 * Never: rewrites desired state (Calico's keys), runs outside its term (every write and
 * publish is checked against the term's signal and fenced), throws out of run(), or lets an
 * invalid stored policy crash it (the rollout is held: no new admissions).
 */
import { encodeAdmission, sealAdmission, type SigningKey } from '@natfleet/bundle';
import { isBusError, type NodeStatus, type NodeStatusEvent } from '@natfleet/bus';
import { plan, sameRef, webhookFor, type FleetNode, type Observations, type RolloutPolicy as PlannerPolicy, type RolloutEvent, type RolloutEventRecord, type RolloutState, type RolloutStateRecord, type VersionRef } from '@natfleet/rollout-planner';
import { sleep, type Logger } from '@natfleet/service-kit';
import { admissionContent, admissionHealth, contentKey, contentOf, type AdmissionChannel, type AdmissionContent } from './rollout-admission.js';
import { fleetOf, observe, policyInput, selectCommands, webhookOf, type CommandSelection, type EntryLike, type PolicyInput } from './rollout-inputs.js';
import { buildRecord, describeEvent, gateResults, outcomesOf, significant, withCondition } from './rollout-record.js';
import type { RolloutStore, StoredRolloutState } from './rollout-store.js';
import { callWebhook, type WebhookCaller, type WebhookVerdict } from './rollout-webhook.js';
import { CompilerError } from './errors.js';
import type { CompilerMetrics } from './metrics.js';

export type RolloutMetrics = Pick<CompilerMetrics, 'rolloutsStarted' | 'rolloutsCompleted' | 'rolloutsAborted' | 'rolloutWaveDuration' | 'rolloutAdmissionsPublished' | 'rolloutPhase'>;

export interface RolloutControllerDeps {
  store: RolloutStore;
  channel: AdmissionChannel;
  /** Node statuses (current values, then changes) until the signal aborts. */
  statuses: (signal: AbortSignal) => AsyncIterable<NodeStatusEvent>;
  key: SigningKey;
  cluster: string;
  /** This replica's id, written into the state record. */
  leaderId: string;
  logger: Logger;
  metrics: RolloutMetrics;
  webhook?: WebhookCaller;
  now?: () => number;
  /** Longest wait between steps while nothing happens (ms). Default 1000. */
  tickMs?: number;
  /** Shortest pause between two steps, so a burst of status reports costs one step (ms). Default 100. */
  minStepGapMs?: number;
  /** Retry backoff after a failed step (ms). Default 200 → 5000. */
  retryMs?: number;
  maxRetryMs?: number;
  /**
   * A node whose last status (heartbeats included) NATS stored longer ago than this is
   * silent: its ACK no longer counts (pending) until it reports again — unknown is not a
   * passed gate. Measured against the stored time, so a new leader sees silence at once.
   * Default 30 s (the API's `--silent-after` default).
   */
  silentAfterMs?: number;
  /**
   * Without a RolloutPolicy a step only records that the newest bundle runs everywhere (the
   * enforcers apply it at once whatever the admission says), so such steps wait this long
   * and a burst of bundles costs one state write: its etcd fsync no longer lands on every
   * write's path. A policy appearing is still reflected before the next bundle (guardPublish).
   * Default 1000 ms.
   */
  policylessStepDelayMs?: number;
}

/** Default of RolloutControllerDeps.silentAfterMs. */
export const ROLLOUT_SILENT_AFTER_MS = 30_000;

interface Inputs {
  policy: PolicyInput;
  fleet: ReturnType<typeof fleetOf>;
  commands: EntryLike[];
}

interface Published {
  seq: number;
  key: string;
  stateRevision: number;
  content: AdmissionContent | undefined;
}

/** Whether any wave of the policy has a webhook gate. */
const usesWebhook = (p: PlannerPolicy): boolean => p.webhook === true || p.waves.some((w) => w.webhook === true);

/** The fields of a node status the gates read (observe() in rollout-inputs.ts). */
const gateFingerprint = (s: NodeStatus): string =>
  JSON.stringify([s.appliedVersion, s.state, s.failedVersion, s.errorCode, s.error, s.health?.version, s.health?.result, s.health?.code, s.health?.output]);

const PHASES = ['progressing', 'paused', 'halted', 'rolled-back', 'completed', 'aborted'] as const;

export class RolloutController {
  private candidate: VersionRef | undefined;
  private readonly statuses = new Map<string, NodeStatus>();
  /** When NATS stored each node's last status (ms epoch): silence check. */
  private readonly storedAt = new Map<string, number>();
  /** Cached etcd inputs; undefined = re-read (the watch said something changed). */
  private inputs: Inputs | undefined;
  private stored: StoredRolloutState | undefined;
  private published: Published | undefined;
  private readonly firstSeen = new Map<string, number>();
  private webhookFor = '';
  private readonly webhookResults = new Map<string, { result: 'pass' | 'fail'; detail?: string }>();
  private readonly webhookCalled = new Set<string>();
  private lastWarning = '';
  /** The etcd watch ended (never expected): every step re-reads its inputs. */
  private watchDown = false;
  private poked = true;
  private wakeUp: (() => void) | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private failures = 0;

  constructor(
    private readonly deps: RolloutControllerDeps,
    private readonly term: AbortSignal,
  ) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Told by the pipeline after every publish or skip: the newest bundle on the stream. */
  noteCandidate(ref: VersionRef): void {
    if (ref.digest === '' || (this.candidate && this.candidate.version === ref.version && this.candidate.digest === ref.digest)) return;
    if (this.candidate && ref.version < this.candidate.version) return;
    this.candidate = { version: ref.version, digest: ref.digest };
    this.poke();
  }

  /**
   * The policy-activation race: the pipeline runs the publish of every NEW bundle through
   * this. When a RolloutPolicy exists but the newest admission says policy '' (enforcers
   * apply every bundle at once), it steps first, so enforcers are told the policy before
   * the bundle and hold it. Steps are held off until the publish returned (and the
   * pipeline noted the new candidate): a step never decides from a candidate older than
   * what enforcers under a policy-less admission already took. One count-only etcd read
   * when nothing is to be done. Throws (without publishing) when it cannot make sure (etcd
   * or NATS failing): the pipeline then retries its cycle. `current` is the newest bundle
   * on the stream before this publish: a new term's first publish comes before the
   * pipeline ever told the controller a candidate, and without one the check above would
   * be skipped (the bundle then reached every node at once under a policy-less admission).
   */
  async guardPublish<T>(publish: () => Promise<T>, current?: VersionRef): Promise<T> {
    if (this.term.aborted) return publish(); // the publisher refuses after the term anyway
    if (current) this.noteCandidate(current);
    // The common cases — enforcers already hold new bundles, or no policy exists — publish at
    // once, never queued behind a step in progress (its etcd and NATS I/O): a bundle's
    // latency must not depend on the controller. Only a policy not yet on the stream waits.
    if (!(await this.policyNeedsReflecting())) return publish();
    return this.serialized(async () => {
      await this.ensurePolicyReflected();
      return publish();
    });
  }

  /** True when a RolloutPolicy exists but the newest admission published (as known) says policy ''. */
  private async policyNeedsReflecting(): Promise<boolean> {
    if (this.term.aborted || !this.candidate) return false;
    if (this.published?.content && this.published.content.policy !== '') return false;
    return (await this.deps.store.countPolicies()) > 0;
  }

  /** guardPublish without a publish (tests, tools). */
  beforeNewBundle(): Promise<void> {
    return this.guardPublish(async () => undefined);
  }

  private async ensurePolicyReflected(): Promise<void> {
    if (this.term.aborted || !this.candidate) return;
    // Enforcers already hold new bundles: nothing to read. (A policy deleted meanwhile only
    // delays the new bundle until the next step publishes policy ''.)
    if (this.published?.content && this.published.content.policy !== '') return;
    const count = await this.deps.store.countPolicies();
    if (count === 0) return;
    this.inputs = undefined; // the watch may not have delivered the policy yet
    await this.stepOnce();
    this.published ??= await this.readPublished();
    if (!this.term.aborted && (!this.published.content || this.published.content.policy === '')) {
      throw new CompilerError('ROLLOUT_ADMISSION_PENDING', "a RolloutPolicy exists but the newest admission still says policy '': the new bundle waits until the policy's admission is published");
    }
  }

  /** Runs until the term aborts. Never throws. */
  async run(): Promise<void> {
    const { logger } = this.deps;
    const watching = [this.followStatuses(), this.followEtcd()];
    while (!this.term.aborted) {
      await this.waitForPoke(this.nextWakeMs());
      if (this.quiet()) await sleep(this.deps.policylessStepDelayMs ?? 1_000, this.term);
      this.poked = false;
      if (this.term.aborted) break;
      try {
        await this.serialized(() => this.stepOnce());
        this.failures = 0;
        await sleep(this.deps.minStepGapMs ?? 100, this.term);
      } catch (err) {
        this.inputs = undefined;
        this.stored = undefined;
        this.published = undefined;
        const retryInMs = Math.min(this.deps.maxRetryMs ?? 5_000, (this.deps.retryMs ?? 200) * 2 ** Math.min(this.failures++, 10));
        const level = this.failures === 1 || this.failures % 10 === 0 ? 'warn' : 'debug';
        logger[level]({ err, retryInMs, failures: this.failures }, 'rollout step failed; the last admission stays in force, retrying');
        await sleep(retryInMs, this.term);
        this.poked = true;
      }
    }
    await Promise.all(watching);
    // A standby reports no phase: dashboards summing over replicas see the leader's only.
    for (const p of PHASES) this.deps.metrics.rolloutPhase.set({ phase: p }, 0);
  }

  /** Resolves on a poke, after `ms`, or when the term ends. */
  private async waitForPoke(ms: number): Promise<void> {
    if (this.poked || this.term.aborted) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.term.removeEventListener('abort', done);
        this.wakeUp = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.term.addEventListener('abort', done, { once: true });
      this.wakeUp = done;
    });
  }

  /** No policy before or now and no command waiting: the next step is bookkeeping only. */
  private quiet(): boolean {
    const i = this.inputs;
    return this.stored?.record?.policy === '' && i !== undefined && i.policy.type === 'none' && i.commands.length === 0;
  }

  private poke(): void {
    this.poked = true;
    this.wakeUp?.();
  }

  /**
   * Until the next bake end or deadline of the current wave, at most tickMs. Outside a
   * progressing rollout nothing is due on the clock but an `immediate` command's expiry:
   * 30 ticks (every input change pokes a step anyway).
   */
  private nextWakeMs(): number {
    const tick = this.deps.tickMs ?? 1_000;
    const rec = this.stored?.record;
    const s = rec?.state;
    if (s && s.phase !== 'progressing') return tick * 30;
    if (!s || s.waveStartedAt === null) return tick;
    const bake = rec.waves[s.waveIndex]?.bakeMs ?? 0;
    const now = this.now();
    const due = [s.waveStartedAt + bake, s.waveStartedAt + rec.progressDeadlineMs + 1].filter((t) => t > now);
    return due.length === 0 ? tick : Math.max(10, Math.min(tick, Math.min(...due) - now + 5));
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async followStatuses(): Promise<void> {
    for (let attempt = 0; !this.term.aborted; attempt++) {
      try {
        for await (const ev of this.deps.statuses(this.term)) {
          if (ev.type === 'put') {
            const before = this.statuses.get(ev.status.node);
            this.statuses.set(ev.status.node, ev.status);
            this.storedAt.set(ev.status.node, ev.storedAt.getTime());
            // Heartbeats change nothing a gate reads: no step for them.
            if (before && gateFingerprint(before) === gateFingerprint(ev.status)) continue;
          } else {
            this.storedAt.delete(ev.node);
            if (!this.statuses.delete(ev.node)) continue;
          }
          this.poke();
        }
      } catch (err) {
        this.deps.logger.warn({ err }, 'watching node statuses failed; retrying');
      }
      await sleep(Math.min(5_000, 200 * 2 ** Math.min(attempt, 5)), this.term);
    }
  }

  private async followEtcd(): Promise<void> {
    const { store } = this.deps;
    try {
      await store.watch(this.term, (keys) => {
        // Our own state and outcome writes are not inputs.
        if (keys && keys.every((k) => k === store.stateKey || k.includes('/rollout/outcomes/'))) return;
        this.inputs = undefined;
        this.poke();
      });
    } catch (err) {
      if (this.term.aborted) return;
      this.watchDown = true;
      this.deps.logger.warn({ err }, 'watching rollout inputs in etcd ended; inputs are re-read every step');
    }
  }

  private async readInputs(): Promise<Inputs> {
    const { store } = this.deps;
    const read = await store.readInputs();
    return { policy: policyInput(read.policies, store.policyPrefix), fleet: fleetOf(read.nodes, store.nodesPrefix), commands: read.commands };
  }

  private async readPublished(): Promise<Published> {
    const l = await this.deps.channel.latest();
    const content = l?.admission ? contentOf(l.admission) : undefined;
    return { seq: l?.seq ?? 0, key: content ? contentKey(content) : '', stateRevision: l?.admission?.stateRevision ?? 0, content };
  }

  private observations(candidate: VersionRef, now: number): Observations {
    const obs: Record<string, ReturnType<typeof observe> & { webhook?: 'pass' | 'fail'; webhookDetail?: string }> = {};
    const silentAfter = this.deps.silentAfterMs ?? ROLLOUT_SILENT_AFTER_MS;
    for (const [node, s] of this.statuses) {
      const w = this.webhookResults.get(node);
      const o = observe(s, candidate.version);
      // Silent: what it said last still fails it (NACK, health), but no longer passes it.
      const silent = now - (this.storedAt.get(node) ?? now) > silentAfter;
      obs[node] = { ...o, ...(silent ? { appliedVersion: null } : {}), ...(w ? { webhook: w.result, ...(w.detail !== undefined ? { webhookDetail: w.detail } : {}) } : {}) };
    }
    return obs;
  }

  /** One planner step: read what changed, plan, persist, publish. Throws on I/O failure. */
  private async stepOnce(): Promise<void> {
    const candidate = this.candidate;
    if (!candidate || this.term.aborted) return;
    const { store, logger, cluster } = this.deps;
    const now = this.now();
    if (this.watchDown) this.inputs = undefined;
    this.inputs ??= await this.readInputs();
    this.stored ??= await store.readState();
    this.published ??= await this.readPublished();
    const inputs = this.inputs;
    const prev = this.stored.record;
    const policy = inputs.policy;
    const log = logger.child({ version: candidate.version, digest: candidate.digest });
    const extra: RolloutEventRecord[] = [];
    const at = new Date(now).toISOString();

    const warnings: string[] = [];
    if (policy.type === 'invalid') warnings.push(`RolloutPolicy ${policy.name} is invalid: ${policy.reason}`);
    if (policy.type !== 'none' && policy.ignored.length > 0) warnings.push(`${policy.ignored.length} more RolloutPolicies stored (${policy.ignored.join(', ')}); only ${policy.name}, the first by name, is used`);
    if (policy.type === 'ok' && policy.perWaveGates.length > 0) warnings.push(`RolloutPolicy ${policy.name}: per-wave healthChecks (waves ${policy.perWaveGates.join(', ')}) are not enforced yet; spec.gates.healthChecks apply to every wave`);
    const warning = warnings.join('; ');
    if (warning !== this.lastWarning) {
      this.lastWarning = warning;
      if (warning) {
        log.warn({ policy: policy.type === 'none' ? '' : policy.name }, warning);
        extra.push({ at, type: policy.type === 'invalid' ? 'PolicyInvalid' : 'PolicyWarning', message: warning });
      }
    }

    for (const c of inputs.commands) if (!this.firstSeen.has(c.key)) this.firstSeen.set(c.key, now);
    const commands = selectCommands(inputs.commands, candidate, now, (k) => this.firstSeen.get(k) ?? now);
    this.seedWebhook(candidate, prev, policy);

    let state: RolloutState;
    let events: readonly RolloutEvent[] = [];
    let consumed: string[] = [];
    let startedUnderPolicy = false;
    const obs = this.observations(candidate, now);
    if (policy.type === 'invalid' && prev) {
      // Hold: nothing new is admitted; the record names the policy so enforcers hold new bundles.
      state = withCondition(prev.state, { type: 'Progressing', status: 'False', reason: 'InvalidRolloutPolicy', message: `RolloutPolicy ${policy.name} is invalid (rollout held): ${policy.reason}` });
      // A hold must not disarm the gates: an admitted node failing (NACK, health, silent is
      // only pending) still halts or rolls back as the last valid policy said, and an
      // operator's abort still works. Other commands wait for a valid policy.
      const held = heldStep(prev, candidate, inputs.fleet, obs, commands, now);
      if (held) {
        state = held.state;
        events = held.events;
        consumed = held.consumed;
      }
    } else {
      // First step ever, or the first under a policy after steps without one: the current
      // candidate is what every node runs already (a policy-less admission let them apply
      // every bundle at once), so it completes; the policy applies from the next candidate.
      const plannerPolicy = prev && prev.policy !== '' && policy.type === 'ok' ? policy.planner : null;
      let base = prev?.state ?? null;
      let initialStable: VersionRef | null = null;
      if (base && plannerPolicy && reshaped(base, plannerPolicy)) {
        // The policy's waves were edited under an admitted wave (renamed, removed, reordered):
        // its index no longer means the same wave, so the rollout restarts from the first
        // wave of the policy as it is now (as a newer candidate would).
        extra.push({ at, type: 'PolicyChanged', message: `RolloutPolicy ${policy.type === 'ok' ? policy.name : ''} changed its waves during the rollout of v${candidate.version}: restarting from the first wave` });
        log.warn('RolloutPolicy waves changed under admitted waves: restarting the rollout from the first wave');
        initialStable = base.stable;
        base = null;
      }
      const res = plan({ policy: plannerPolicy, fleet: inputs.fleet, candidate, state: base, initialStable, observations: obs, commands: commands.apply, now });
      state = res.state;
      events = res.events;
      consumed = commands.consumed;
      startedUnderPolicy = plannerPolicy !== null && events.some((e) => e.type === 'Started' || e.type === 'Superseded');
    }
    const started = !prev || events.some((e) => e.type === 'Started' || e.type === 'Superseded');
    const webhook = policy.type === 'ok' && usesWebhook(policy.planner);
    const record = buildRecord({
      cluster,
      leader: this.deps.leaderId,
      policy,
      prev,
      state,
      gates: gateResults(state, obs, inputs.fleet, policy.type === 'ok' ? webhookFor(state, policy.planner) : false),
      events: [...extra, ...events.map((e) => ({ at, type: e.type, message: describeEvent(e) }))],
      immediate: commands.immediate && consumed.length > 0,
      started,
      now,
    });
    const health = policy.type === 'ok' ? admissionHealth(policy.model) : (this.published.content?.health ?? null);
    const content = admissionContent(cluster, record, health);
    const key = contentKey(content);
    const contentChanged = key !== this.published.key;
    const dropped = commands.dropped.map((d) => d.key);
    const mustWrite = !prev || significant(prev) !== significant(record) || consumed.length > 0 || dropped.length > 0 || (contentChanged && this.stored.modRevision <= this.published.stateRevision);

    if (mustWrite) {
      if (this.term.aborted) return;
      const res = await store.writeState(JSON.stringify(record), this.stored.modRevision, [...consumed, ...dropped]);
      if (!res.succeeded) {
        // Someone else wrote the state (a newer leader, or an operator): re-read and re-plan.
        const expected = this.stored.modRevision;
        log.warn({ expectedModRevision: expected }, 'rollout state changed under this leader: re-reading it');
        this.stored = undefined;
        this.published = undefined;
        throw new CompilerError('ROLLOUT_STATE_FENCED', `the rollout state moved past mod revision ${expected}: re-reading it`);
      }
      this.stored = { record, modRevision: res.revision };
      if (startedUnderPolicy) this.deps.metrics.rolloutsStarted.inc();
      for (const d of commands.dropped) log.info({ command: d.record?.type, commandVersion: d.record?.version, by: d.record?.by, key: d.key }, `rollout command dropped: ${d.why}`);
      for (const k of consumed) this.firstSeen.delete(k);
      for (const d of dropped) this.firstSeen.delete(d);
      this.report(events, prev, record, log, now);
      for (const o of outcomesOf(events, prev, record, now)) {
        await store.putOutcome(o).catch((err: unknown) => log.warn({ err, outcome: o.outcome, outcomeVersion: o.version }, 'cannot write the rollout outcome record'));
      }
    }
    this.setPhase(record.state.phase);
    if (contentChanged) await this.publish(content, key, log);
    if (webhook && policy.type === 'ok') this.maybeCallWebhook(candidate, record, policy.name, webhookOf(policy.model, record.state.waveIndex));
  }

  private async publish(content: AdmissionContent, key: string, log: Logger): Promise<void> {
    const stateRevision = this.stored!.modRevision;
    const published = this.published!;
    if (this.term.aborted) return;
    const admission = sealAdmission({ ...content, stateRevision }, this.deps.key);
    try {
      const res = await this.deps.channel.publish({ data: encodeAdmission(admission), msgId: `${this.deps.cluster}.admission.${stateRevision}`, expectedLastSubjectSequence: published.seq });
      if (res.duplicate) {
        this.published = undefined; // our earlier try landed; re-read what the subject holds
        return;
      }
      this.published = { seq: res.seq, key, stateRevision, content };
      this.deps.metrics.rolloutAdmissionsPublished.inc();
      log.info({ stateRevision, seq: res.seq, policy: content.policy, phase: content.phase, everyone: content.everyone, waves: content.waves.map((w) => (w.rest ? `${w.name}(rest)` : `${w.name}(${w.nodes.length})`)) }, 'admission published');
    } catch (err) {
      this.published = undefined;
      if (isBusError(err, 'PUBLISH_FENCED')) this.stored = undefined; // a newer leader may have moved on: re-read both
      throw err;
    }
  }

  private report(events: readonly RolloutEvent[], prev: RolloutStateRecord | undefined, record: RolloutStateRecord, log: Logger, now: number): void {
    const { metrics } = this.deps;
    for (const e of events) {
      const fields: Record<string, unknown> = { event: e.type, policy: record.policy, phase: record.state.phase };
      if (e.type === 'WaveAdmitted' || e.type === 'WavePassed') fields.wave = e.name;
      if (e.type === 'WaveAdmitted') fields.nodes = e.nodes;
      if (e.type === 'Failed') {
        fields.nodes = e.failures.map((f) => f.node);
        fields.failures = e.failures;
        fields.pending = e.pending;
        metrics.rolloutsAborted.inc({ reason: e.reason });
      }
      if (e.type === 'Aborted') metrics.rolloutsAborted.inc({ reason: 'OperatorAborted' });
      if (e.type === 'Completed') metrics.rolloutsCompleted.inc();
      if (e.type === 'WavePassed') {
        const w = [...record.state.admitted, ...(prev?.state.admitted ?? [])].find((x) => x.index === e.wave && x.name === e.name);
        if (w) metrics.rolloutWaveDuration.observe(Math.max(0, now - w.admittedAt) / 1000);
      }
      (e.type === 'Failed' ? log.warn.bind(log) : log.info.bind(log))(fields, `rollout: ${describeEvent(e)}`);
    }
  }

  private setPhase(phase: string): void {
    for (const p of PHASES) this.deps.metrics.rolloutPhase.set({ phase: p }, p === phase ? 1 : 0);
  }

  /** Webhook verdicts belong to one candidate; a new leader takes the 'passed' gates its predecessor recorded. */
  private seedWebhook(candidate: VersionRef, prev: RolloutStateRecord | undefined, policy: PolicyInput): void {
    const id = `${candidate.version}:${candidate.digest}`;
    if (id === this.webhookFor) return;
    this.webhookFor = id;
    this.webhookResults.clear();
    this.webhookCalled.clear();
    if (!prev || policy.type !== 'ok' || !usesWebhook(policy.planner)) return;
    if (prev.state.candidate.version !== candidate.version || prev.state.candidate.digest !== candidate.digest) return;
    for (const g of prev.gates) if (g.result === 'passed') this.webhookResults.set(g.node, { result: 'pass' });
  }

  /** Once every present node of the current wave ACKed and is healthy: one call for the wave. */
  private maybeCallWebhook(candidate: VersionRef, record: RolloutStateRecord, policyName: string, target: ReturnType<typeof webhookOf>): void {
    const s = record.state;
    const wave = s.admitted.at(-1);
    if (!target || s.phase !== 'progressing' || !wave) return;
    const id = `${s.waveIndex}:${wave.name}`;
    if (this.webhookCalled.has(id)) return;
    const gates = record.gates.filter((g) => wave.nodes.includes(g.node));
    // Every node ACKed and healthy: passed, or waiting for the webhook only (a new leader
    // keeps its predecessor's passes, so a wave may hold both).
    const waitingForHook = (g: (typeof gates)[number]): boolean => g.result === 'pending' && g.gate === 'webhook';
    if (!gates.some(waitingForHook) || !gates.every((g) => g.result === 'passed' || waitingForHook(g))) return;
    const nodes = gates.map((g) => g.node);
    this.webhookCalled.add(id);
    const forCandidate = this.webhookFor;
    const call = this.deps.webhook ?? callWebhook;
    const log = this.deps.logger.child({ version: candidate.version, wave: wave.name });
    log.info({ url: target.url, nodes }, 'calling the rollout webhook');
    // A caller that throws anyway is a failed webhook, never an unhandled rejection (a crashed leader).
    const verdict = (async () => call(target, { cluster: this.deps.cluster, policy: policyName, version: candidate.version, digest: candidate.digest, wave: wave.name, nodes }, this.term))().catch(
      (err: unknown): WebhookVerdict => ({ result: 'fail', code: 'WEBHOOK_FAILED', detail: `webhook call failed: ${(err as Error)?.message ?? String(err)}` }),
    );
    void verdict.then((v) => {
      if (this.webhookFor !== forCandidate || this.term.aborted) return;
      for (const n of nodes) this.webhookResults.set(n, v.result === 'pass' ? { result: 'pass' } : { result: 'fail', detail: v.detail });
      if (v.result === 'pass') log.info({ status: v.status, nodes }, 'rollout webhook passed');
      else log.warn({ detail: v.detail, nodes }, 'rollout webhook failed');
      this.poke();
    });
  }
}

/**
 * One planner step for a rollout held by an invalid RolloutPolicy: the last valid policy's
 * failure action and the admitted waves as they are, with bakes and the deadline that never
 * end (nothing new is admitted) and only `abort` commands. Undefined when nothing changes
 * (no failure, no abort), when the held candidate is not the current one (a new candidate
 * waits for a valid policy), or when the step would admit anything.
 */
export function heldStep(
  prev: RolloutStateRecord,
  candidate: VersionRef,
  fleet: readonly FleetNode[],
  observations: Observations,
  commands: CommandSelection,
  now: number,
): { state: RolloutState; events: readonly RolloutEvent[]; consumed: string[] } | undefined {
  const phase = prev.state.phase;
  if (prev.policy === '' || prev.waves.length === 0 || !sameRef(prev.state.candidate, candidate)) return undefined;
  if (phase !== 'progressing' && phase !== 'paused' && phase !== 'halted') return undefined;
  const never = Number.MAX_SAFE_INTEGER;
  const frozen: PlannerPolicy = { waves: prev.waves.map((w) => ({ name: w.name, bakeMs: never, percent: 0 })), onFailure: prev.onFailure, progressDeadlineMs: never };
  const aborts = commands.apply.map((c, i) => ({ c, key: commands.consumed[i]! })).filter((x) => x.c.type === 'abort');
  const res = plan({ policy: frozen, fleet, candidate, state: prev.state, observations, commands: aborts.map((x) => x.c), now });
  if (res.events.some((e) => e.type === 'WaveAdmitted' || e.type === 'WavePassed' || e.type === 'Completed')) return undefined;
  if (!res.events.some((e) => e.type === 'Failed' || e.type === 'Aborted')) return undefined;
  return { state: res.state, events: res.events, consumed: aborts.map((x) => x.key) };
}

/**
 * True when a rollout in progress has an admitted wave whose index now names another wave
 * of the policy (or none): the policy's waves were edited mid-rollout.
 */
export function reshaped(state: RolloutState, policy: PlannerPolicy): boolean {
  if (state.phase !== 'progressing' && state.phase !== 'paused') return false;
  return state.admitted.some((w) => w.name !== 'immediate' && w.index >= 0 && policy.waves[w.index]?.name !== w.name);
}
