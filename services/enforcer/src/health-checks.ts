/**
 * Post-apply health checks (staged rollouts, DESIGN.md §10): after every apply, the node's
 * own commands (--health-check / NATFLEET_HEALTH_CHECKS), then — when the applied bundle
 * is the rollout's candidate for this node — the policy's commands (only with
 * --allow-policy-health-commands: running argv from a signed message as root is a bigger
 * power than NAT rules) and conntrack thresholds; plus the kernel's conntrack counters
 * (conntrack.ts), sampled at the apply and then every second while the candidate phase is
 * in progress or for a watch window after any apply.
 *
 * The outcome is reported as NodeHealth (node status, /status, /readyz) and counted; a
 * failed check never touches the table (the rollout controller decides). Commands run
 * without a shell, in a process group of their own that is killed on timeout, with
 * NATFLEET_NODE and NATFLEET_VERSION set. Never touches nft.
 */
import { spawn } from 'node:child_process';
import type { AdmissionHealth } from '@natfleet/bundle';
import type { NodeHealth } from '@natfleet/bus';
import type { Logger } from '@natfleet/service-kit';
import { conntrackBreach, hasThreshold, parseConntrackStat, type ConntrackSample, type ConntrackThresholds } from './conntrack.js';
import type { EnforcerMetrics } from './metrics.js';

/** One command check: argv (no shell) and its timeout. */
export interface HealthCommand {
  name: string;
  command: string[];
  timeoutMs: number;
}

/** What the checks need to know about the bundle in force. */
export interface HealthContext {
  version: number;
  digest: string;
  /** The applied bundle is the rollout's candidate and this node is admitted: the policy's checks apply. */
  candidate: boolean;
  /** The candidate phase is in progress (not everyone admitted yet): the conntrack watch goes on. */
  inProgress: boolean;
  /** The policy's checks (candidate only). */
  policy: AdmissionHealth | null;
}

/** What the enforcer core calls (HealthChecks implements it). */
export interface HealthMonitor {
  /** A bundle was applied (or adopted at start): start its checks, ending those of the previous one. */
  applied(ctx: HealthContext): void;
  /** The admission changed while the same bundle is in force (e.g. the candidate phase ended). */
  update(ctx: HealthContext): void;
  /** The latest outcome; undefined before the first apply. */
  result(): NodeHealth | undefined;
  close(): Promise<void>;
}

/** After a timeout kill, how long to wait for the output pipes to close before giving up on them. */
const PIPE_GRACE_MS = 2_000;

/** Longest delay a Node timer keeps (ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Output kept per command: the last 2 KiB of stdout and stderr together. */
export const OUTPUT_LIMIT = 2048;

/** The outcome of one command. */
export interface CommandResult {
  ok: boolean;
  code: '' | 'HEALTH_CHECK_FAILED' | 'HEALTH_CHECK_TIMEOUT';
  output: string;
  /** Exit status (null when killed or not started). */
  exitCode: number | null;
}

/**
 * Runs `check` (argv, no shell) in its own process group with `env` added; kills the group
 * on timeout or when `signal` aborts. Exit 0 = ok. Never throws: a command that cannot be
 * started fails with the error as output.
 */
export function runHealthCommand(check: HealthCommand, env: Record<string, string>, signal?: AbortSignal): Promise<CommandResult> {
  return new Promise((resolve) => {
    let out = Buffer.alloc(0);
    const keep = (chunk: Buffer): void => {
      out = Buffer.concat([out, chunk]);
      if (out.length > OUTPUT_LIMIT) out = out.subarray(out.length - OUTPUT_LIMIT);
    };
    const [file, ...args] = check.command;
    let timedOut = false;
    let settled = false;
    const finish = (r: CommandResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', kill);
      resolve(r);
    };
    const child = spawn(file ?? '', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const kill = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timeoutText = (): string => {
      const text = out.toString('utf8');
      return `${text}${text && !text.endsWith('\n') ? '\n' : ''}timed out after ${check.timeoutMs} ms: process group killed`.slice(-OUTPUT_LIMIT);
    };
    // Past 2^31-1 ms Node fires a timer after 1 ms: a long (valid) timeout must not time every check out at once.
    let timer = setTimeout(() => {
      timedOut = true;
      kill();
      // A descendant that left the group (setsid) may hold the pipes open: do not wait for it.
      timer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish({ ok: false, code: 'HEALTH_CHECK_TIMEOUT', output: timeoutText(), exitCode: null });
      }, PIPE_GRACE_MS);
    }, Math.min(check.timeoutMs, MAX_TIMER_MS));
    signal?.addEventListener('abort', kill, { once: true });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => finish({ ok: false, code: 'HEALTH_CHECK_FAILED', output: `cannot run ${JSON.stringify(file)}: ${err.message}`, exitCode: null }));
    child.on('close', (exitCode, sig) => {
      const text = out.toString('utf8');
      if (timedOut) finish({ ok: false, code: 'HEALTH_CHECK_TIMEOUT', output: timeoutText(), exitCode: null });
      else if (exitCode === 0) finish({ ok: true, code: '', output: text, exitCode });
      else finish({ ok: false, code: 'HEALTH_CHECK_FAILED', output: `${text}${text && !text.endsWith('\n') ? '\n' : ''}exit ${exitCode ?? `signal ${sig}`}`.slice(-OUTPUT_LIMIT), exitCode });
    });
  });
}

export interface HealthChecksOptions {
  nodeName: string;
  /** The node's own checks, run after every apply. */
  commands: HealthCommand[];
  /** Run the policy's commands for the candidate (else logged once and skipped). */
  allowPolicyCommands: boolean;
  /** The node's own conntrack thresholds (the policy's override them for the candidate). */
  conntrack: ConntrackThresholds;
  /** Watch the conntrack counters this long after any apply. */
  watchMs: number;
  /** Pause between conntrack samples. */
  sampleIntervalMs: number;
  /** The text of /proc/net/stat/nf_conntrack in the enforcer's netns (conntrack.ts readConntrackStat). */
  readConntrack: () => Promise<string>;
  logger: Logger;
  metrics: EnforcerMetrics;
  /** Called (must not throw) when `result()` changed. */
  onChange: () => void;
}

export class HealthChecks implements HealthMonitor {
  private current: NodeHealth | undefined;
  private ctx: HealthContext | undefined;
  private run: { abort: AbortController; done: Promise<void> } | undefined;
  private policyCommandsSkippedLogged = false;
  private conntrackUnreadableLogged = false;
  /** Why the last conntrack sample could not be read ('' when it could). */
  private lastSampleError = '';
  private closed = false;

  constructor(private readonly o: HealthChecksOptions) {}

  result(): NodeHealth | undefined {
    return this.current;
  }

  applied(ctx: HealthContext): void {
    if (this.closed) return;
    this.ctx = ctx;
    this.run?.abort.abort();
    const abort = new AbortController();
    const done = this.checkAll(ctx, abort.signal).catch((err: unknown) => this.o.logger.error({ err }, 'health checks failed unexpectedly'));
    this.run = { abort, done };
  }

  update(ctx: HealthContext): void {
    if (this.ctx && this.ctx.digest === ctx.digest) this.ctx = ctx;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.run?.abort.abort();
    await this.run?.done;
  }

  /** For /readyz: fails with the code and output while the latest result is failed. */
  readiness(): { ok: boolean; detail: string } {
    const h = this.current;
    if (!h) return { ok: true, detail: 'no bundle checked yet' };
    if (h.result === 'failed') return { ok: false, detail: `v${h.version} health check ${h.check} failed (${h.code}): ${h.output}` };
    return { ok: true, detail: `v${h.version} health ${h.result}` };
  }

  /** Thresholds for `ctx`: the node's, overridden by the policy's for the candidate. */
  private thresholds(ctx: HealthContext): ConntrackThresholds {
    const p = ctx.candidate ? ctx.policy?.conntrack : undefined;
    return { insertFailedDelta: p?.insertFailedDelta ?? this.o.conntrack.insertFailedDelta, dropDelta: p?.dropDelta ?? this.o.conntrack.dropDelta };
  }

  private set(h: Omit<NodeHealth, 'checkedAt'>, signal: AbortSignal): void {
    if (signal.aborted) return;
    this.current = { ...h, checkedAt: new Date().toISOString() };
    try {
      this.o.onChange();
    } catch (err) {
      this.o.logger.error({ err }, 'health listener failed');
    }
  }

  private async checkAll(ctx: HealthContext, signal: AbortSignal): Promise<void> {
    const log = this.o.logger.child({ version: ctx.version, digest: ctx.digest });
    const v = ctx.version;
    const commands = [...this.o.commands];
    const policyCommands = ctx.candidate ? (ctx.policy?.commands ?? []) : [];
    if (policyCommands.length > 0) {
      if (this.o.allowPolicyCommands) commands.push(...policyCommands.map((c) => ({ ...c, name: `policy:${c.name}` })));
      else if (!this.policyCommandsSkippedLogged) {
        this.policyCommandsSkippedLogged = true;
        log.warn({ checks: policyCommands.map((c) => c.name) }, "the rollout policy's health commands are not run: the enforcer runs without --allow-policy-health-commands (logged once)");
      }
    }
    const watching = hasThreshold(this.thresholds(ctx));
    if (commands.length === 0 && !watching) {
      this.set({ version: v, result: 'none', code: '', check: '', output: '' }, signal);
      return;
    }
    this.set({ version: v, result: 'running', code: '', check: '', output: '' }, signal);
    const appliedAt = Date.now();
    const base = watching ? await this.sample() : undefined;
    if (watching && !base) {
      // Thresholds are set but the counters cannot be read: the check has no evidence, and
      // unknown is not healthy (the gate would otherwise pass without what the policy asked for).
      this.o.metrics.healthChecks.inc({ result: 'failed' });
      const output = `cannot read /proc/net/stat/nf_conntrack: ${this.lastSampleError}; conntrack thresholds are set, so the check cannot pass without the counters`;
      log.warn({ code: 'CONNTRACK_UNREADABLE' }, 'conntrack health check failed: statistics unreadable');
      this.set({ version: v, result: 'failed', code: 'CONNTRACK_UNREADABLE', check: 'conntrack', output }, signal);
      return;
    }
    const env = { NATFLEET_NODE: this.o.nodeName, NATFLEET_VERSION: String(v) };
    for (const c of commands) {
      const r = await runHealthCommand(c, env, signal);
      if (signal.aborted) return;
      this.o.metrics.healthChecks.inc({ result: r.ok ? 'passed' : r.code === 'HEALTH_CHECK_TIMEOUT' ? 'timeout' : 'failed' });
      if (!r.ok) {
        log.warn({ check: c.name, code: r.code, exitCode: r.exitCode, output: r.output }, 'health check failed (the table stays; the rollout controller decides)');
        this.set({ version: v, result: 'failed', code: r.code, check: c.name, output: r.output }, signal);
        return;
      }
      log.debug({ check: c.name }, 'health check passed');
    }
    if (!base) {
      this.passed(v, log, signal);
      return;
    }
    let reported = false;
    for (;;) {
      const now = this.ctx ?? ctx;
      const inWindow = Date.now() - appliedAt < this.o.watchMs;
      if (!inWindow && !reported) {
        reported = true;
        this.passed(v, log, signal);
      }
      if (!inWindow && !(now.digest === ctx.digest && now.inProgress)) return;
      await sleep(this.o.sampleIntervalMs, signal);
      if (signal.aborted) return;
      const s = await this.sample();
      if (!s) continue;
      const breach = conntrackBreach(base, s, this.thresholds(this.ctx ?? ctx));
      if (breach) {
        this.o.metrics.healthChecks.inc({ result: 'failed' });
        log.warn({ counter: breach.counter, delta: breach.delta, threshold: breach.threshold }, 'conntrack health check failed (the table stays; the rollout controller decides)');
        this.set({ version: v, result: 'failed', code: breach.code, check: 'conntrack', output: breach.output }, signal);
        return;
      }
    }
  }

  private passed(version: number, log: Logger, signal: AbortSignal): void {
    if (signal.aborted) return;
    this.o.metrics.healthChecks.inc({ result: 'passed' });
    log.info('health checks passed');
    this.set({ version, result: 'passed', code: '', check: '', output: '' }, signal);
  }

  /** One conntrack sample; undefined when it cannot be read (logged once; the first sample of a check failing is a failure, see run). */
  private async sample(): Promise<ConntrackSample | undefined> {
    try {
      const s = parseConntrackStat(await this.o.readConntrack());
      this.conntrackUnreadableLogged = false;
      this.lastSampleError = '';
      return s;
    } catch (err) {
      this.lastSampleError = (err as Error).message;
      if (!this.conntrackUnreadableLogged) this.o.logger.warn({ err }, 'cannot read the conntrack statistics: the conntrack check is skipped while they are unreadable');
      this.conntrackUnreadableLogged = true;
      return undefined;
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
