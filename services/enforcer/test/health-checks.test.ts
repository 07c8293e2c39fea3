// Post-apply health checks with real child processes (exit codes, timeouts killing the
// process group, output capture, env), conntrack statistics parsing and deltas from sample
// file text, and the HealthChecks monitor's results over a sequence of samples.
import { createLogger } from '@natfleet/service-kit';
import { describe, expect, it } from 'vitest';
import { conntrackBreach, createMetrics, HealthChecks, OUTPUT_LIMIT, parseConntrackStat, parseHealthChecks, runHealthCommand, type HealthChecksOptions, type HealthContext } from '../src/index.js';
import { eventually, metricValue } from './helpers.js';

const logger = createLogger('health-test', process.env.LOG_LEVEL ?? 'silent');

/** Two CPUs; insert_failed and drop set per test. */
function statText(cpus: { insertFailed: number; drop: number }[]): string {
  const header = 'entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart';
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  const lines = cpus.map((c) => [0, 0, 0, 0, 0, 0, 0, 0, 0, c.insertFailed, c.drop, 0, 0, 0, 0, 0, 0].map(hex).join(' '));
  return `${header}\n${lines.join('\n')}\n`;
}

describe('commands', () => {
  it('a timeout longer than a Node timer holds (a policy may say 600h) does not time the check out at once', async () => {
    const r = await runHealthCommand({ name: 'slow', command: ['sh', '-c', 'sleep 0.2; echo done'], timeoutMs: 3_000_000_000 }, {});
    expect(r).toMatchObject({ ok: true, code: '', exitCode: 0 });
  });

  it('exit 0 passes, with NATFLEET_NODE and NATFLEET_VERSION set', async () => {
    const r = await runHealthCommand({ name: 'env', command: ['sh', '-c', 'echo "$NATFLEET_NODE $NATFLEET_VERSION"'], timeoutMs: 10_000 }, { NATFLEET_NODE: 'n1', NATFLEET_VERSION: '7' });
    expect(r).toEqual({ ok: true, code: '', output: 'n1 7\n', exitCode: 0 });
  });

  it('a non-zero exit fails with HEALTH_CHECK_FAILED and the output of stdout and stderr', async () => {
    const r = await runHealthCommand({ name: 'x', command: ['sh', '-c', 'echo out; echo err >&2; exit 3'], timeoutMs: 10_000 }, {});
    expect(r.ok).toBe(false);
    expect(r.code).toBe('HEALTH_CHECK_FAILED');
    expect(r.exitCode).toBe(3);
    expect(r.output).toContain('out\n');
    expect(r.output).toContain('err\n');
    expect(r.output).toMatch(/exit 3$/);
  });

  it('keeps the last 2 KiB of output', async () => {
    const r = await runHealthCommand({ name: 'big', command: ['sh', '-c', 'i=0; while [ $i -lt 500 ]; do echo "line $i"; i=$((i+1)); done; exit 1'], timeoutMs: 10_000 }, {});
    expect(r.output.length).toBeLessThanOrEqual(OUTPUT_LIMIT);
    expect(r.output).toContain('line 499');
    expect(r.output).not.toContain('line 1\n');
  });

  it('a command past its timeout fails with HEALTH_CHECK_TIMEOUT and its whole process group is killed', async () => {
    const t0 = Date.now();
    // The grandchild sleep would keep the pipes open if only sh were killed.
    const r = await runHealthCommand({ name: 'slow', command: ['sh', '-c', 'echo started; sleep 30 & wait'], timeoutMs: 300 }, {});
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(r.code).toBe('HEALTH_CHECK_TIMEOUT');
    expect(r.output).toContain('started');
    expect(r.output).toContain('timed out after 300 ms');
  });

  it('a descendant that left the process group (setsid) holding the output open does not hang the check', async () => {
    const t0 = Date.now();
    const r = await runHealthCommand({ name: 'escapee', command: ['sh', '-c', 'setsid sleep 8 & echo spawned; sleep 8'], timeoutMs: 300 }, {});
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(r.code).toBe('HEALTH_CHECK_TIMEOUT');
    expect(r.output).toContain('spawned');
  });

  it('a command that cannot be started fails with the reason', async () => {
    const r = await runHealthCommand({ name: 'missing', command: ['/nonexistent/check'], timeoutMs: 1_000 }, {});
    expect(r).toMatchObject({ ok: false, code: 'HEALTH_CHECK_FAILED' });
    expect(r.output).toMatch(/ENOENT/);
  });

  it('the NATFLEET_HEALTH_CHECKS JSON: timeout default 10s, bad entries refused with their index', () => {
    expect(parseHealthChecks('[{"name":"a","command":["true"]},{"name":"b","command":["sh","-c","exit 0"],"timeout":"2s"}]')).toEqual([
      { name: 'a', command: ['true'], timeoutMs: 10_000 },
      { name: 'b', command: ['sh', '-c', 'exit 0'], timeoutMs: 2_000 },
    ]);
    expect(() => parseHealthChecks('{}')).toThrow(/JSON list/);
    expect(() => parseHealthChecks('[{"name":"a","command":"true"}]')).toThrow(/\[0\]\.command/);
    expect(() => parseHealthChecks('[{"name":"a","command":["true"],"timeout":"soon"}]')).toThrow(/\[0\]\.timeout/);
    expect(() => parseHealthChecks('[{"name":"a","command":["true"]},{"name":"a","command":["true"]}]')).toThrow(/given twice/);
    expect(() => parseHealthChecks('[{"name":"a","command":["true"],"shell":true}]')).toThrow(/unknown field "shell"/);
  });
});

describe('conntrack statistics', () => {
  it('sums insert_failed and drop over the CPU lines (hex)', () => {
    expect(parseConntrackStat(statText([{ insertFailed: 0x10, drop: 1 }, { insertFailed: 0xff, drop: 2 }]))).toEqual({ insertFailed: 0x10f, drop: 3 });
    expect(parseConntrackStat(statText([]))).toEqual({ insertFailed: 0, drop: 0 });
    expect(() => parseConntrackStat('entries found\n00000001 00000002\n')).toThrow(/insert_failed/);
    expect(() => parseConntrackStat(`${statText([]).split('\n')[0]}\nzz zz\n`)).toThrow(/hex/);
  });

  it('a delta above its threshold is a breach naming the counter, delta and threshold; equal is not; unset is not checked', () => {
    const base = { insertFailed: 10, drop: 5 };
    expect(conntrackBreach(base, { insertFailed: 13, drop: 100 }, { insertFailedDelta: 3 })).toBeUndefined();
    expect(conntrackBreach(base, { insertFailed: 14, drop: 5 }, { insertFailedDelta: 3 })).toMatchObject({ code: 'CONNTRACK_INSERT_FAILED', delta: 4, threshold: 3, output: 'conntrack insert_failed grew by 4 since the apply (threshold 3)' });
    expect(conntrackBreach(base, { insertFailed: 10, drop: 7 }, { dropDelta: 1 })).toMatchObject({ code: 'CONNTRACK_DROP', counter: 'drop', delta: 2, threshold: 1 });
    expect(conntrackBreach(base, { insertFailed: 99, drop: 99 }, {})).toBeUndefined();
  });
});

describe('HealthChecks', () => {
  const ctx = (over: Partial<HealthContext> = {}): HealthContext => ({ version: 4, digest: 'sha256:aa', candidate: false, inProgress: false, policy: null, ...over });
  function monitor(o: Partial<HealthChecksOptions>): { hc: HealthChecks; changes: number[]; metrics: ReturnType<typeof createMetrics> } {
    const metrics = createMetrics();
    const changes: number[] = [];
    const hc = new HealthChecks({
      nodeName: 'node-1',
      commands: [],
      allowPolicyCommands: false,
      conntrack: {},
      watchMs: 200,
      sampleIntervalMs: 20,
      readConntrack: async () => statText([{ insertFailed: 0, drop: 0 }]),
      logger,
      metrics,
      onChange: () => changes.push(Date.now()),
      ...o,
    });
    return { hc, changes, metrics };
  }

  it('no check configured: none', async () => {
    const { hc } = monitor({});
    hc.applied(ctx());
    await eventually(() => hc.result()?.result === 'none');
    expect(hc.result()).toMatchObject({ version: 4, code: '', check: '' });
    await hc.close();
  });

  it("the node's failing command: failed with its code, name and output; /readyz health fails", async () => {
    const { hc, metrics } = monitor({ commands: [{ name: 'ok', command: ['true'], timeoutMs: 5_000 }, { name: 'bad', command: ['sh', '-c', 'echo broken >&2; exit 1'], timeoutMs: 5_000 }] });
    hc.applied(ctx());
    await eventually(() => hc.result()?.result === 'failed');
    expect(hc.result()).toMatchObject({ version: 4, code: 'HEALTH_CHECK_FAILED', check: 'bad' });
    expect(hc.result()?.output).toContain('broken');
    expect(hc.readiness()).toMatchObject({ ok: false });
    expect(hc.readiness().detail).toContain('HEALTH_CHECK_FAILED');
    expect(await metricValue(metrics, 'healthChecks', { result: 'failed' })).toBe(1);
    expect(await metricValue(metrics, 'healthChecks', { result: 'passed' })).toBe(1);
    // The next apply starts over.
    hc.applied(ctx({ version: 5, digest: 'sha256:bb' }));
    await eventually(() => hc.result()?.version === 5 && hc.result()?.result === 'failed');
    await hc.close();
  });

  it("the policy's commands run for the candidate only with allowPolicyCommands", async () => {
    const policy = { commands: [{ name: 'p', command: ['sh', '-c', 'exit 1'], timeoutMs: 5_000 }], conntrack: {} };
    const off = monitor({});
    off.hc.applied(ctx({ candidate: true, inProgress: true, policy }));
    await eventually(() => off.hc.result()?.result === 'none');
    await off.hc.close();
    const on = monitor({ allowPolicyCommands: true });
    on.hc.applied(ctx({ candidate: true, inProgress: true, policy }));
    await eventually(() => on.hc.result()?.result === 'failed');
    expect(on.hc.result()).toMatchObject({ check: 'policy:p', code: 'HEALTH_CHECK_FAILED' });
    await on.hc.close();
  });

  it('conntrack: running during the watch window, then passed; a later growth past the threshold while the candidate is in progress fails', async () => {
    let drop = 0;
    const { hc } = monitor({ readConntrack: async () => statText([{ insertFailed: 1, drop }, { insertFailed: 1, drop: 0 }]) });
    hc.applied(ctx({ candidate: true, inProgress: true, policy: { commands: [], conntrack: { dropDelta: 10 } } }));
    await eventually(() => hc.result()?.result === 'running');
    drop = 10; // equal to the threshold: fine
    await eventually(() => hc.result()?.result === 'passed', 3_000);
    drop = 11;
    await eventually(() => hc.result()?.result === 'failed', 3_000);
    expect(hc.result()).toMatchObject({ code: 'CONNTRACK_DROP', check: 'conntrack', output: 'conntrack drop grew by 11 since the apply (threshold 10)' });
    await hc.close();
  });

  it("conntrack: the node's threshold applies to any apply within the watch window; unreadable statistics fail it (unknown is not healthy)", async () => {
    let failed = 0;
    const { hc } = monitor({ conntrack: { insertFailedDelta: 0 }, readConntrack: async () => statText([{ insertFailed: failed, drop: 0 }]) });
    hc.applied(ctx());
    await eventually(() => hc.result()?.result === 'running');
    failed = 1;
    await eventually(() => hc.result()?.result === 'failed');
    expect(hc.result()?.code).toBe('CONNTRACK_INSERT_FAILED');
    await hc.close();
    const unreadable = monitor({ conntrack: { insertFailedDelta: 0 }, readConntrack: async () => Promise.reject(new Error('no such file')) });
    unreadable.hc.applied(ctx());
    await eventually(() => unreadable.hc.result()?.result === 'failed');
    expect(unreadable.hc.result()).toMatchObject({ code: 'CONNTRACK_UNREADABLE', check: 'conntrack' });
    expect(unreadable.hc.result()?.output).toContain('no such file');
    await unreadable.hc.close();
  });
});
