/**
 * Leader election among compiler replicas, on etcd leases (etcd3's `election().campaign()`).
 *
 * Each campaign gets its own etcd3 client (closed when the campaign ends), so a watch
 * canceled inside etcd3's election code cannot wedge later campaigns. Leadership is
 * taken from the campaign's own `elected` / `error` events, confirmed by reading the
 * election keys once (etcd3@1.1.2's `observe()` can name the wrong leader right after a
 * campaign, so it is not used), and kept only while the {@link LeaseWatchdog} says the
 * lease is certainly alive. Every term is an AbortSignal: aborted the moment the lease is
 * in doubt, the campaign errors, or the service stops — the pipeline stops publishing on
 * it. Then the replica resigns and campaigns again. When resigning fails (etcd
 * unreachable), the old lease is revoked as soon as etcd answers again, before the next
 * campaign: otherwise its key — which etcd keeps alive through a restart — would make
 * every replica wait a full TTL for it.
 *
 * Never: publishes, compiles or logs; it reports what happens as events.
 */
import { Election, EtcdLeaseInvalidError, type Etcd3 } from 'etcd3';
import type { EventEmitter } from 'node:events';
import { AsyncQueue } from '@natfleet/store';
import { sleep } from '@natfleet/service-kit';
import { CompilerError } from './errors.js';
import { LeaseWatchdog } from './lease-watchdog.js';

export type ElectionEvent =
  | { type: 'campaigning'; attempt: number }
  /** This replica leads until `term` aborts (its reason says why). */
  | { type: 'elected'; term: AbortSignal }
  /** The term that began with the last `elected` has ended; `term` is already aborted. */
  | { type: 'deposed'; reason: string }
  /** A campaign ended without leadership; the next starts after `retryInMs`. */
  | { type: 'failed'; reason: string; retryInMs: number };

export interface LeaderElectionOptions {
  makeClient: () => Etcd3;
  /** Election name; replicas of one cluster share it. */
  name: string;
  /** This replica's campaign value (shown in the election key's value). */
  id: string;
  ttlSeconds: number;
  /** First delay after a failed campaign (doubles up to `maxRetryMs`). Default 250 ms. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Bound on resigning (revoking the lease) when a campaign ends. Default 2 s. */
  resignTimeoutMs?: number;
}

type Campaign = ReturnType<ReturnType<Etcd3['election']>['campaign']>;

/** etcd3 keeps the campaign's lease private; its keepalive events are what the watchdog needs. */
function leaseOf(campaign: Campaign): Pick<EventEmitter, 'on' | 'off'> {
  const lease = (campaign as unknown as { lease?: unknown }).lease;
  if (!lease || typeof (lease as EventEmitter).on !== 'function') {
    throw new CompilerError('LEADERSHIP_LOST', 'etcd3 Campaign exposes no lease: unsupported etcd3 version');
  }
  return lease as EventEmitter;
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T | undefined> =>
  Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]);

/**
 * Why this campaign's key is not the oldest in the election (i.e. not the leader), or
 * undefined when it is. One linearizable range read.
 */
async function leadershipProblem(client: Etcd3, campaign: Campaign, name: string): Promise<string | undefined> {
  const mine = await campaign.getCampaignKey();
  const [first] = await client.getAll().prefix(`${Election.prefix}/${name}/`).sort('Create', 'Ascend').limit(1).keys();
  if (first === mine) return undefined;
  return first === undefined ? 'elected, but the election has no keys (lease expired?)' : `elected, but ${first} is older than our ${mine}`;
}

/**
 * Campaigns until `signal` aborts, yielding what happens. The iterable ends after the
 * last campaign has resigned and its client is closed.
 */
export function leaderElection(o: LeaderElectionOptions, signal: AbortSignal): AsyncIterable<ElectionEvent> {
  const queue = new AsyncQueue<ElectionEvent>();
  const retryMs = o.retryMs ?? 250;
  const maxRetryMs = o.maxRetryMs ?? 5_000;

  const run = async (): Promise<void> => {
    let failures = 0;
    let staleLease: string | undefined;
    for (let attempt = 1; !signal.aborted; attempt++) {
      queue.push({ type: 'campaigning', attempt });
      const client = o.makeClient();
      if (staleLease !== undefined && (await revokeLease(client, staleLease, o.resignTimeoutMs ?? 2_000))) staleLease = undefined;
      const { led, reason, unrevokedLease } = await campaignOnce(o, client, signal, (e) => queue.push(e));
      staleLease = unrevokedLease ?? staleLease;
      if (signal.aborted) break;
      // After a term, campaign again at once (the lease may just have expired); after
      // failures, back off so an unreachable etcd is not hammered.
      failures = led ? 0 : failures + 1;
      const delay = led ? retryMs : Math.min(maxRetryMs, retryMs * 2 ** Math.max(0, failures - 1));
      if (!led) queue.push({ type: 'failed', reason, retryInMs: delay });
      await sleep(delay, signal);
    }
  };
  void run().finally(() => queue.close());
  return queue;
}

/** Revokes `leaseId`; true when it is gone (revoked now, or already expired). */
async function revokeLease(client: Etcd3, leaseId: string, timeoutMs: number): Promise<boolean> {
  const revoked = client.leaseClient.leaseRevoke({ ID: leaseId }).then(
    () => true,
    (err: unknown) => err instanceof EtcdLeaseInvalidError,
  );
  return (await withTimeout(revoked, timeoutMs)) ?? false;
}

interface CampaignResult {
  led: boolean;
  reason: string;
  /** A lease this campaign held that could not be revoked (etcd unreachable). */
  unrevokedLease?: string;
}

/** One campaign on `client` (closed before returning), from candidacy to its end. */
async function campaignOnce(o: LeaderElectionOptions, client: Etcd3, signal: AbortSignal, emit: (e: ElectionEvent) => void): Promise<CampaignResult> {
  let campaign: Campaign | undefined;
  let watchdog: LeaseWatchdog | undefined;
  let onAbort: (() => void) | undefined;
  let result: CampaignResult;
  try {
    campaign = client.election(o.name, o.ttlSeconds).campaign(o.id);
    const c = campaign;
    // Listeners first: an unhandled 'error' event would crash the process.
    const ended = new Promise<string>((resolve) => {
      c.on('error', (err: Error) => resolve(`campaign failed: ${err?.message ?? String(err)}`));
      onAbort = () => resolve('shutting down');
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const elected = new Promise<undefined>((resolve) => c.once('elected', () => resolve(undefined)));
    watchdog = new LeaseWatchdog(leaseOf(c), { ttlMs: o.ttlSeconds * 1000 });
    result = await lead(client, c, watchdog, elected, ended, o.name, emit);
  } catch (err) {
    result = { led: false, reason: `campaign failed: ${(err as Error).message}` };
  }
  if (onAbort) signal.removeEventListener('abort', onAbort);
  watchdog?.stop();
  if (campaign) {
    // Revoking the lease hands leadership over at once instead of after the TTL.
    // resign() stops the keepalives; its revoke is skipped when etcd3 already resigned
    // after an error, hence the explicit, idempotent revoke.
    const leaseId = await withTimeout(leaseIdOf(campaign), 100);
    void campaign.resign().catch(() => undefined);
    if (leaseId !== undefined && !(await revokeLease(client, leaseId, o.resignTimeoutMs ?? 2_000))) result.unrevokedLease = leaseId;
  }
  client.close();
  return result;
}

/** Waits for election, confirms it, then holds the term until the campaign ends or the lease is in doubt. */
async function lead(
  client: Etcd3,
  c: Campaign,
  watchdog: LeaseWatchdog,
  elected: Promise<undefined>,
  ended: Promise<string>,
  name: string,
  emit: (e: ElectionEvent) => void,
): Promise<CampaignResult> {
  const notElected = await Promise.race([elected, ended]);
  if (notElected !== undefined) return { led: false, reason: notElected };
  const problem = await leadershipProblem(client, c, name).catch((err: Error) => `cannot confirm leadership: ${err.message}`);
  if (problem) return { led: false, reason: problem };
  if (!watchdog.healthy) return { led: false, reason: 'elected on a lease that may already have expired' };

  const term = new AbortController();
  const expiring = new Promise<string>((resolve) => watchdog.arm(resolve));
  emit({ type: 'elected', term: term.signal });
  const reason = await Promise.race([ended, expiring]);
  term.abort(new CompilerError('LEADERSHIP_LOST', reason));
  emit({ type: 'deposed', reason });
  return { led: true, reason };
}

/** The campaign's lease id, or undefined when it was never granted. */
function leaseIdOf(campaign: Campaign): Promise<string | undefined> {
  const lease = (campaign as unknown as { lease?: { grant?: () => Promise<string> } }).lease;
  return lease?.grant ? lease.grant().catch(() => undefined) : Promise.resolve(undefined);
}
