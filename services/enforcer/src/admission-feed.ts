/**
 * Admission messages from NATS into the enforcer (staged rollouts, DESIGN.md §10): after
 * every (re)connect the newest stored admission (one stored-message get), then every new
 * one on a plain core subscription (no consumer per node), and the newest again every
 * `pollMs` as a safety net for core messages lost around a reconnect (core delivery is at
 * most once). Hands raw bytes to `offer`; verification and "highest stateRevision wins"
 * belong to the enforcer core, so re-reading the same admission is harmless.
 *
 * A forged or garbage newest admission must not hide the genuine one from a node that holds
 * none (a new node, a wiped state dir): it would then apply every new bundle at once, past
 * the rollout. When the newest stored admission does not verify and the core holds none,
 * the kept admissions of the subject are walked (one stored-message get each) and the
 * newest genuine one is offered.
 *
 * Never publishes to NATS. An admission subject that has nothing yet is normal (no rollout
 * controller has published): the node then applies every new bundle at once.
 */
import { BUNDLE_STREAM, admissionSubject, latestAdmission, subscribeAdmissions } from '@natfleet/bus';
import type { Logger } from '@natfleet/service-kit';
import { sleep } from '@natfleet/service-kit';
import type { JetStreamManager, MsgRequest, NatsConnection } from 'nats';
import type { NatsLink } from './nats-link.js';

export interface AdmissionFeedOptions {
  link: NatsLink;
  cluster: string;
  /** The core's Enforcer.offerAdmission. */
  offer: (data: Uint8Array) => void;
  /** The core's Enforcer.genuineAdmission (verifies, touches no state). */
  isGenuine: (data: Uint8Array) => boolean;
  /** True when the core holds a verified admission (then a forged newest one needs no walk). */
  held: () => boolean;
  /** Pause between re-reads of the newest admission (safety net); 0 = only after connects. */
  pollMs: number;
  /** Pause before starting over after an error. */
  retryMs: number;
  logger: Logger;
}

/** Timeout of the stored-message get. */
const GET_TIMEOUT_MS = 2_000;

export class AdmissionFeed {
  private readonly stop = new AbortController();
  private loop: Promise<void> = Promise.resolve();
  private subscribed = false;
  /** Seq of the newest admission last found not genuine with no genuine one kept (logged once). */
  private walkedPast = 0;
  private firstReadDone: () => void = () => undefined;
  private readonly firstReadPromise = new Promise<void>((resolve) => (this.firstReadDone = resolve));

  constructor(private readonly o: AdmissionFeedOptions) {}

  /**
   * Resolves once the newest admission was read the first time (offered to the core, or
   * none stored), or a read failed while the core holds an admission (restored from the
   * state dir), or the feed closed. The daemon starts following bundles only then, so a
   * node that holds no admission (new, or state wiped) does not apply the newest bundle —
   * maybe a candidate a rollout holds back — before it learns the admission: while the
   * read fails it keeps its table (fail static) and retries.
   */
  firstRead(): Promise<void> {
    return this.firstReadPromise;
  }

  start(): void {
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.stop.abort();
    this.firstReadDone();
    await this.loop;
  }

  /**
   * Reads the newest admission now and offers it (walking past a forged newest one when no
   * admission is held), for the bundle feed's session start. Never throws: a failed read is
   * logged at debug (the poll loop reports and retries it).
   */
  async readLatest(nc: NatsConnection): Promise<void> {
    try {
      const latest = await latestAdmission(await nc.jetstreamManager({ timeout: GET_TIMEOUT_MS }), this.o.cluster);
      if (!latest) return;
      if (!this.o.held() && !this.o.isGenuine(latest.data)) await this.offerNewestGenuine(nc, latest.seq);
      this.o.offer(latest.data);
    } catch (err) {
      this.o.logger.debug({ err }, 'reading the latest admission before following bundles failed');
    }
  }

  /** True while the subscription is live. */
  get isSubscribed(): boolean {
    return this.subscribed;
  }

  private async run(): Promise<void> {
    let lastError = '';
    while (!this.stop.signal.aborted) {
      const nc = await this.o.link.whenConnected();
      if (!nc || this.stop.signal.aborted) return;
      // One session per connection epoch: a disconnect (or shutdown) ends it, the next re-reads the latest.
      const session = new AbortController();
      const endSession = (): void => session.abort();
      this.stop.signal.addEventListener('abort', endSession, { once: true });
      const unsubscribe = this.o.link.subscribe((e) => {
        if (e.type !== 'connected') endSession();
      });
      let failed = false;
      try {
        // Subscribe first, then read the latest: one published in between is seen either way.
        const messages = subscribeAdmissions(nc, this.o.cluster, session.signal);
        const following = this.follow(messages);
        this.subscribed = true;
        // Quiet while the same failure repeats (e.g. no permission on the subject): said once above.
        if (lastError === '') this.o.logger.info({ cluster: this.o.cluster }, 'following admissions');
        else this.o.logger.debug({ cluster: this.o.cluster }, 'following admissions again');
        const polling = this.poll(nc, session.signal);
        await Promise.race([following, polling]);
        if (!session.signal.aborted) throw new Error('admission subscription ended');
        await Promise.all([following, polling]);
        lastError = '';
      } catch (err) {
        failed = true;
        const text = (err as Error).message;
        if (text !== lastError) this.o.logger.warn({ err, retryInMs: this.o.retryMs }, 'following admissions failed: starting over');
        lastError = text;
      } finally {
        session.abort();
        unsubscribe();
        this.stop.signal.removeEventListener('abort', endSession);
        if (this.subscribed && !failed && !this.stop.signal.aborted) this.o.logger.warn({ connected: this.o.link.isConnected }, 'admission subscription lost: re-reading the latest when connected again');
        this.subscribed = false;
      }
      if (failed && !this.stop.signal.aborted) await sleep(this.o.retryMs, this.stop.signal);
    }
  }

  private async follow(messages: AsyncIterable<{ data: Uint8Array }>): Promise<void> {
    for await (const m of messages) {
      this.o.logger.debug({ bytes: m.data.length, via: 'subscription' }, 'admission message');
      this.o.offer(m.data);
    }
  }

  /** The latest now, then every pollMs until `signal` aborts. A failed read is logged, not fatal. */
  private async poll(nc: NatsConnection, signal: AbortSignal): Promise<void> {
    let failing = '';
    while (!signal.aborted) {
      let read = false;
      try {
        const latest = await latestAdmission(await nc.jetstreamManager({ timeout: GET_TIMEOUT_MS }), this.o.cluster);
        if (signal.aborted) return;
        if (latest) {
          this.o.logger.debug({ seq: latest.seq, bytes: latest.data.length, via: 'latest' }, 'admission message');
          if (!this.o.held() && !this.o.isGenuine(latest.data)) await this.offerNewestGenuine(nc, latest.seq);
          this.o.offer(latest.data);
        }
        read = true;
        if (failing) this.o.logger.info('reading the latest admission works again');
        failing = '';
      } catch (err) {
        const text = (err as Error).message;
        const waiting = this.o.held() ? '' : ' (holding no admission: bundles are not followed until it is read)';
        if (text !== failing) this.o.logger.warn({ err }, `cannot read the latest admission: retrying${waiting}`);
        failing = text;
      }
      // Without an admission, a failed read must not let bundles in: the newest may be a candidate this node is not admitted for.
      if (read || this.o.held()) this.firstReadDone();
      if (this.o.pollMs <= 0) {
        await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
        return;
      }
      // A failed read (e.g. the first one right after a reconnect) is retried sooner than the next poll.
      await sleep(failing ? Math.min(this.o.pollMs, this.o.retryMs) : this.o.pollMs, signal);
    }
  }

  /**
   * Walks the kept admissions of the subject before `latestSeq` (oldest first, one get
   * each, at most MAX_WALK) and offers the newest genuine one. A failed walk is logged: the
   * next session (or a new genuine admission) tries again.
   */
  private async offerNewestGenuine(nc: NatsConnection, latestSeq: number): Promise<void> {
    let genuine: { seq: number; data: Uint8Array } | undefined;
    try {
      const jsm = await nc.jetstreamManager({ timeout: GET_TIMEOUT_MS });
      for (const m of await keptAdmissions(jsm, this.o.cluster, latestSeq)) if (this.o.isGenuine(m.data)) genuine = m;
    } catch (err) {
      this.o.logger.warn({ err }, 'cannot read the kept admissions to look past one that is not genuine');
      return;
    }
    if (!genuine) {
      // Every poll walks again while this lasts: loud once per newest message, then quiet.
      if (this.walkedPast !== latestSeq) this.o.logger.warn({ latestSeq }, 'the newest admission is not genuine and no kept one is: acting as without an admission');
      this.walkedPast = latestSeq;
      return;
    }
    this.o.logger.warn({ latestSeq, seq: genuine.seq }, 'the newest admission on the subject is not genuine: offering the newest genuine one instead');
    this.o.offer(genuine.data);
  }
}

/** Most kept admissions walked (the stream keeps 20 per subject by default). */
const MAX_WALK = 100;

/**
 * The stored admissions of `cluster` before `beforeSeq`, oldest first, by "next message on
 * the subject from seq" gets (nats-server 2.9+). Empty when none.
 */
async function keptAdmissions(jsm: JetStreamManager, cluster: string, beforeSeq: number): Promise<{ seq: number; data: Uint8Array }[]> {
  const out: { seq: number; data: Uint8Array }[] = [];
  let seq = 1;
  while (seq < beforeSeq && out.length < MAX_WALK) {
    let m;
    try {
      // nats.js types only {seq} and {last_by_subj}; the server's MSG.GET also takes next_by_subj.
      m = await jsm.streams.getMessage(BUNDLE_STREAM, { seq, next_by_subj: admissionSubject(cluster) } as unknown as MsgRequest);
    } catch (err) {
      if (/no message found|not found/i.test(String((err as Error).message))) break;
      throw err;
    }
    if (m.seq >= beforeSeq) break;
    out.push({ seq: m.seq, data: m.data });
    seq = m.seq + 1;
  }
  return out;
}
