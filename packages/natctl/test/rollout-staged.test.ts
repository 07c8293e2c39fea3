// natctl's staged-rollout surface against a fake API: rollout status with the waves table
// and its exit codes per state (complete 0, progressing 5, halted / rolled back / aborted
// 7, --watch stopping there), pause/resume/abort/promote (202 → 0, 409 → 3, 403 → 6,
// 404 → 4), apply --immediate, and history's ROLLOUT column and failing nodes. The real
// API and etcd: test/integration/rollout-operator.test.ts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT, durationText, formatVersionDetail, gatesText, historyTable, rolloutOutcomeText, run } from '../src/index.js';
import { io, withApi, type Route } from './fake-api.js';

const node = (name: string, status: string, applied: number) => ({ node: name, cluster: 'default', status, appliedVersion: applied, state: 'applied', heartbeatAt: 't', heartbeatAgeSeconds: 1, driftRepairs: 0, error: '', errorCode: '', failedVersion: 0, registered: true });
const wave = (index: number, name: string, state: string, nodes: [string, object | null][], bakeRemainingMs: number | null = null) => ({
  index,
  name,
  selector: null,
  percent: 50,
  bakeMs: 600_000,
  state,
  admittedAt: state === 'pending' ? null : 't',
  bakeRemainingMs,
  nodes: nodes.map(([n, gate]) => ({ node: n, gate })),
});
const staged = (phase: string, waves: object[], over: object = {}) => ({
  policy: 'canary-first',
  phase,
  candidate: { version: 42, digest: 'sha256:c' },
  stable: { version: 40, digest: 'sha256:s' },
  conditions: [],
  paused: phase === 'paused',
  promoted: false,
  immediate: false,
  startedAt: 't0',
  updatedAt: 't1',
  onFailure: 'rollback',
  waves,
  events: [{ at: 't1', type: 'WaveAdmitted', message: 'wave half admitted: 2 node(s)' }],
  ...over,
});
const HEALTH = { result: 'failed', gate: 'health', code: 'HEALTH_CHECK_FAILED', detail: 'curl: (28) timed out' };
function rollout(kind: 'progressing' | 'rolled-back' | 'completed' | 'none') {
  const base = { cluster: 'default', desired: { version: 42, digest: 'sha256:c', publishedAt: 'p' }, evaluated: null };
  if (kind === 'completed') {
    const nodes = [node('node-1', 'in-sync', 42), node('node-2', 'in-sync', 42), node('node-3', 'in-sync', 42)];
    return { ...base, nodes, summary: { total: 3, inSync: 3, behind: 0, failed: 0, silent: 0 }, complete: true, aborted: false, staged: staged('completed', [wave(0, 'canary', 'passed', [['node-1', { result: 'passed' }]]), wave(1, 'rest', 'passed', [['node-2', { result: 'passed' }], ['node-3', { result: 'passed' }]])]) };
  }
  if (kind === 'none') return { ...base, nodes: [node('node-1', 'in-sync', 42)], summary: { total: 1, inSync: 1, behind: 0, failed: 0, silent: 0 }, complete: true, aborted: false, staged: null };
  const nodes = [node('node-1', 'in-sync', 42), node('node-2', kind === 'progressing' ? 'in-sync' : 'behind', kind === 'progressing' ? 42 : 40), node('node-3', 'behind', 40)];
  const summary = { total: 3, inSync: kind === 'progressing' ? 2 : 1, behind: kind === 'progressing' ? 1 : 2, failed: 0, silent: 0 };
  if (kind === 'progressing') {
    return { ...base, nodes, summary, complete: false, aborted: false, staged: staged('progressing', [wave(0, 'canary', 'passed', [['node-1', { result: 'passed' }]]), wave(1, 'half', 'admitted', [['node-2', { result: 'passed' }], ['node-3', { result: 'pending', gate: 'ack' }]], 480_000), wave(2, 'rest', 'pending', [])]) };
  }
  return {
    ...base,
    nodes,
    summary,
    complete: false,
    aborted: true,
    abortedReason: 'GateFailed: candidate v42 aborted (rolled back, every node runs stable): node-2: health HEALTH_CHECK_FAILED',
    staged: staged('rolled-back', [wave(0, 'canary', 'passed', [['node-1', { result: 'passed' }]]), wave(1, 'half', 'failed', [['node-2', HEALTH], ['node-3', { result: 'passed' }]]), wave(2, 'rest', 'pending', [])]),
  };
}
const statusApi = (kind: Parameters<typeof rollout>[0]): Route => (r) => (r.url === '/v1/rollout' ? { body: rollout(kind) } : undefined);

describe('natctl rollout status with a staged rollout', () => {
  it('progressing: the policy/phase line and the waves table (bake left, gates); exit 5', async () => {
    await withApi(statusApi('progressing'), async (url) => {
      const t = io(url);
      expect(await run(['rollout', 'status'], t)).toBe(EXIT.ROLLOUT_INCOMPLETE);
      const out = t.stdout.join('\n');
      expect(out).toContain('staged rollout of v42 (policy canary-first, on failure rollback): progressing, wave 2/3 half admitted; stable v40');
      const lines = out.split('\n');
      const head = lines.findIndex((l) => /^WAVE\s+NODES\s+STATE\s+BAKE LEFT\s+GATES$/.test(l));
      expect(head).toBeGreaterThan(0);
      expect(lines[head + 1]).toMatch(/^canary\s+node-1\s+passed\s+-\s+1\/1 passed$/);
      expect(lines[head + 2]).toMatch(/^half\s+node-2,node-3\s+admitted\s+8m0s\s+1\/2 passed, 1 pending$/);
      expect(lines[head + 3]).toMatch(/^rest\s+-\s+pending\s+-\s+-$/);
      expect(out).toContain('WaveAdmitted: wave half admitted: 2 node(s)');
      expect(out).toMatch(/NODE\s+STATUS\s+APPLIED/);
      expect(t.stderr.join('\n')).toMatch(/^rollout incomplete: node-3 \(behind: applied v40\)$/);
    });
  });

  it('rolled back: exit 7 with the reason and every failing node', async () => {
    await withApi(statusApi('rolled-back'), async (url) => {
      const t = io(url);
      expect(await run(['rollout', 'status'], t)).toBe(EXIT.ROLLOUT_ABORTED);
      expect(t.stdout.join('\n')).toMatch(/^half\s+node-2,node-3\s+failed\s+-\s+node-2: health HEALTH_CHECK_FAILED \(curl: \(28\) timed out\)$/m);
      expect(t.stderr.join('\n')).toBe('rollout aborted: v42 rolled-back: GateFailed: candidate v42 aborted (rolled back, every node runs stable): node-2: health HEALTH_CHECK_FAILED\n  failing: node-2: health HEALTH_CHECK_FAILED (curl: (28) timed out)');
    });
  });

  it('every node runs the candidate but its last wave is still under its gates: exit 5, not 0 (it can still roll back)', async () => {
    const done = rollout('completed');
    const lastWave = { ...done, complete: false, staged: staged('progressing', [wave(0, 'canary', 'passed', [['node-1', { result: 'passed' }]]), wave(1, 'rest', 'admitted', [['node-2', { result: 'passed' }], ['node-3', { result: 'pending', gate: 'ack', detail: 'applied; health checks pending' }]])]) };
    await withApi((r) => (r.url === '/v1/rollout' ? { body: lastWave } : undefined), async (url) => {
      const t = io(url);
      expect(await run(['rollout', 'status'], t)).toBe(EXIT.ROLLOUT_INCOMPLETE);
      expect(t.stderr.join('\n')).toMatch(/^rollout incomplete: the staged rollout of v42 is still progressing/);
    });
  });

  it('a node whose health checks of the desired version failed (the API counts it failed) is named with the check and its output', async () => {
    const none = rollout('none');
    const failing = { ...none, complete: false, summary: { ...none.summary, inSync: 0, failed: 1 }, nodes: [{ ...none.nodes[0], status: 'failed', state: 'applied', health: { version: 42, result: 'failed', code: 'HEALTH_CHECK_FAILED', check: 'probe', output: 'curl: (28)\ntimed out', checkedAt: 'c' } }] };
    await withApi((r) => (r.url === '/v1/rollout' ? { body: failing } : undefined), async (url) => {
      const t = io(url);
      expect(await run(['rollout', 'status'], t)).toBe(EXIT.ROLLOUT_INCOMPLETE);
      expect(t.stderr.join('\n')).toBe('rollout incomplete: node-1 (failed: HEALTH_CHECK_FAILED: probe: curl: (28) timed out)');
      expect(t.stdout.join('\n')).toMatch(/node-1\s+failed\s+42\s+applied\s+.*HEALTH_CHECK_FAILED: probe: curl: \(28\) timed out$/m);
    });
  });

  it('completed: exit 0; no staged section (no controller yet): as before', async () => {
    for (const kind of ['completed', 'none'] as const) {
      await withApi(statusApi(kind), async (url) => {
        const t = io(url);
        expect(await run(['rollout', 'status'], t)).toBe(EXIT.OK);
        expect(t.stdout.join('\n').includes('WAVE')).toBe(kind === 'completed');
      });
    }
  });

  it('--watch stops as soon as the rollout is rolled back, with exit 7 (not at its timeout)', async () => {
    let n = 0;
    await withApi((r) => (r.url === '/v1/rollout' ? { body: rollout(++n < 3 ? 'progressing' : 'rolled-back') } : undefined), async (url) => {
      const t = io(url);
      expect(await run(['rollout', 'status', '--watch', '--timeout', '60m', '--interval', '1ms'], t)).toBe(EXIT.ROLLOUT_ABORTED);
      expect(n).toBe(3);
      const err = t.stderr.join('\n');
      expect(err).toContain('| staged rollout of v42 (policy canary-first, on failure rollback): progressing, wave 2/3 half admitted');
      expect(err).toContain('| staged rollout of v42 (policy canary-first, on failure rollback): rolled-back');
      expect(err).toContain('rollout aborted: v42 rolled-back');
    });
  });

  it('--help documents exit code 7', async () => {
    const t = io('http://127.0.0.1:9');
    expect(await run(['--help'], t)).toBe(EXIT.OK);
    expect(t.stdout.join('\n')).toContain('7  rollout aborted');
  });
});

describe('natctl rollout pause|resume|abort|promote', () => {
  const api: Route = (r) => {
    if (r.method !== 'POST' || !r.url.startsWith('/v1/rollout/')) return undefined;
    const type = r.url.split('/').pop()!;
    if (r.body?.version === 41) return { status: 409, body: { code: 'CONFLICT', message: 'version 41 is not the current candidate (v42, progressing); nothing was written' } };
    if (type === 'resume') return { status: 409, body: { code: 'CONFLICT', message: 'cannot resume the rollout of v42: it is progressing (resume applies when paused); nothing was written' } };
    return { status: 202, body: { command: { type, version: r.body?.version ?? 42, by: 'alice', at: 't' }, key: '/natfleet/v1/rollout/commands/000001764669600000-abc', revision: 77 } };
  };

  it('202: prints what was requested and that the controller applies it; exit 0; body carries --version and --reason', async () => {
    await withApi(api, async (url, seen) => {
      for (const type of ['pause', 'abort', 'promote']) {
        const t = io(url);
        expect(await run(['rollout', type], t)).toBe(EXIT.OK);
        expect(t.stdout[0]).toBe(`${type} requested for the rollout of v42 (by alice, command 000001764669600000-abc)`);
        expect(t.stdout[1]).toMatch(/the rollout controller applies it at its next step/);
      }
      expect(await run(['rollout', 'pause', '--version', '42', '--reason', 'bad canary'], io(url))).toBe(EXIT.OK);
      expect(seen.map((s) => [s.url, s.body])).toEqual([
        ['/v1/rollout/pause', {}],
        ['/v1/rollout/abort', {}],
        ['/v1/rollout/promote', {}],
        ['/v1/rollout/pause', { version: 42, reason: 'bad canary' }],
      ]);
    });
  });

  it('409 → exit 3 with the API message; 403 → 6; 404 → 4; a bad --version → 2 without a request', async () => {
    await withApi(api, async (url, seen) => {
      const stale = io(url);
      expect(await run(['rollout', 'pause', '--version', '41'], stale)).toBe(EXIT.CONFLICT);
      expect(stale.stderr[0]).toBe('error: version 41 is not the current candidate (v42, progressing); nothing was written');
      expect(await run(['rollout', 'resume'], io(url))).toBe(EXIT.CONFLICT);
      const bad = io(url);
      expect(await run(['rollout', 'abort', '--version', 'x'], bad)).toBe(EXIT.INVALID);
      expect(seen.length).toBe(2);
    });
    await withApi(() => ({ status: 403, body: { code: 'FORBIDDEN', message: 'this token may only read' } }), async (url) => {
      expect(await run(['rollout', 'pause'], io(url))).toBe(EXIT.UNAUTHORIZED);
    });
    await withApi(() => ({ status: 404, body: { code: 'NOT_FOUND', message: 'no staged rollout to pause' } }), async (url) => {
      expect(await run(['rollout', 'pause'], io(url))).toBe(EXIT.NOT_FOUND);
    });
  });
});

describe('natctl apply --immediate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'natctl-immediate-'));
  const pool = join(dir, 'pool.yaml');
  writeFileSync(pool, 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: a}\nspec: {cidr: 10.0.0.0/16, natOutgoing: true}\n');
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'apiVersion: natfleet.io/v1\nkind: RolloutPolicy\nmetadata: {name: p}\nspec: {waves: [{percent: 100, bake: 1m}]}\n');
  const nat = { changed: true, v4: { masquerade: { added: ['10.0.0.0/16'], removed: [] }, noNat: { added: [], removed: [] } }, v6: { masquerade: { added: [], removed: [] }, noNat: { added: [], removed: [] } }, nodesChanged: [], warnings: [] };

  it('asks the API for ?immediate=true and says the change skips the waves', async () => {
    await withApi((r) => (r.url.startsWith('/v1/resources') ? { body: { dryRun: false, revision: 57, changes: [{ kind: 'IPPool', name: 'a', action: 'created' }], nat, immediate: { written: true, command: { type: 'immediate', version: 57, by: 'alice', at: 't' }, key: 'k', revision: 58 } } } : undefined), async (url, seen) => {
      const t = io(url);
      expect(await run(['apply', '-f', pool, '--immediate'], t)).toBe(EXIT.OK);
      expect(seen[0]!.url).toBe('/v1/resources?mode=apply&immediate=true');
      expect(t.stdout.join('\n')).toContain('immediate: this change skips the staged-rollout waves — the bundle carrying revision 57 goes to every node at once (gates still apply)');
      expect(await run(['create', '-f', pool, '--immediate', '--dry-run'], io(url))).toBe(EXIT.OK);
      expect(seen[1]!.url).toBe('/v1/resources?mode=create&dryRun=true&immediate=true');
      expect(await run(['apply', '-f', pool], io(url))).toBe(EXIT.OK);
      expect(seen[2]!.url).toBe('/v1/resources?mode=apply');
    });
  });

  it('says so when no command was written; refuses --immediate for a RolloutPolicy file', async () => {
    await withApi((r) => (r.url.startsWith('/v1/resources') ? { body: { dryRun: false, revision: 57, changes: [{ kind: 'IPPool', name: 'a', action: 'unchanged' }], nat: { changed: false }, immediate: { written: false, reason: 'no NAT change: no bundle will carry this write, so no immediate command was written' } } } : undefined), async (url, seen) => {
      const t = io(url);
      expect(await run(['apply', '-f', pool, '--immediate'], t)).toBe(EXIT.OK);
      expect(t.stdout.join('\n')).toContain('immediate: no command written (no NAT change');
      const p = io(url);
      expect(await run(['apply', '-f', policy, '--immediate'], p)).toBe(EXIT.INVALID);
      expect(p.stderr[0]).toMatch(/--immediate applies to pool and NAT config changes/);
      expect(seen.length).toBe(1);
    });
  });
});

describe('natctl history with rollout outcomes', () => {
  const summary = (version: number, rollout: object | null) => ({ seq: version, version, digest: `sha256:${version}`, sourceRevision: version, compiledAt: 'c', publishedAt: `p${version}`, warnings: 0, masquerade: { v4: 1, v6: 0 }, noNat: { v4: 0, v6: 0 }, change: { status: 'no-predecessor' }, rollout });
  const failure = { node: 'node-2', gate: 'health', code: 'HEALTH_CHECK_FAILED', detail: 'curl: (28) timed out' };
  const out = (outcome: string | null, over: object = {}) => ({ outcome, policy: 'canary-first', reason: '', failures: [], immediate: false, waves: [], startedAt: 's', endedAt: 'e', ...over });
  const HISTORY = {
    items: [
      summary(45, out(null, { phase: 'paused', endedAt: null })),
      summary(44, out('completed', { immediate: true })),
      summary(43, out('aborted', { reason: 'aborted by an operator' })),
      summary(42, out('rolled-back', { reason: 'node-2: health HEALTH_CHECK_FAILED', failures: [failure, { ...failure, node: 'node-3' }], waves: [{ name: 'canary', nodes: ['node-1'] }, { name: 'half', nodes: ['node-2', 'node-3'] }] })),
      summary(41, out('superseded')),
      summary(40, null),
    ],
  };

  it('ROLLOUT column: outcome, immediate, first failing node, phase while under way', () => {
    const lines = historyTable(HISTORY.items).split('\n');
    expect(lines[0]).toMatch(/WARNINGS\s+ROLLOUT\s+CHANGE$/);
    expect(lines[1]).toMatch(/\s0\s+paused \(in progress\)\s+\(oldest/);
    expect(lines[2]).toMatch(/\s0\s+immediate\s+\(oldest/);
    expect(lines[3]).toMatch(/\s0\s+aborted\s+\(oldest/);
    expect(lines[4]).toMatch(/\s0\s+rolled-back: node-2: health HEALTH_CHECK_FAILED \(curl: \(28\) timed out\) \+1 more\s+\(oldest/);
    expect(lines[5]).toMatch(/\s0\s+superseded\s+\(oldest/);
    expect(lines[6]).toMatch(/\s0\s+-\s+\(oldest/);
    // No rollout records at all (an older API): no column.
    expect(historyTable([summary(1, null)]).split('\n')[0]).not.toContain('ROLLOUT');
    expect(rolloutOutcomeText(out('halted', { immediate: true }))).toBe('halted (immediate)');
    // No outcome record yet: the state record's phase, "in progress" only while under way.
    expect(rolloutOutcomeText(out(null, { phase: 'completed', immediate: true }))).toBe('immediate');
    expect(rolloutOutcomeText(out(null, { phase: 'rolled-back', failures: [failure] }))).toBe('rolled-back: node-2: health HEALTH_CHECK_FAILED (curl: (28) timed out)');
    expect(rolloutOutcomeText(out(null, { phase: 'progressing' }))).toBe('progressing (in progress)');
  });

  it('natctl history VERSION prints the outcome, reason and every failing node', async () => {
    const detail = { version: 42, digest: 'd', sourceRevision: 42, compiledAt: 'c', publishedAt: 'p', previous: null, change: { status: 'no-predecessor' }, nat: { changed: false }, settings: [], warnings: [], rollout: HISTORY.items[3]!.rollout };
    await withApi((r) => (r.url === '/v1/history' ? { body: HISTORY } : r.url === '/v1/history/42' ? { body: detail } : undefined), async (url) => {
      const t = io(url);
      expect(await run(['history', '42'], t)).toBe(EXIT.OK);
      const text = t.stdout.join('\n');
      expect(text).toContain('Rollout:     rolled-back (policy canary-first)\n  Reason:    node-2: health HEALTH_CHECK_FAILED\n  Failing nodes (2):\n    node-2: health HEALTH_CHECK_FAILED: curl: (28) timed out\n    node-3: health HEALTH_CHECK_FAILED: curl: (28) timed out\n  Waves:     canary: node-1; half: node-2, node-3');
      const same = io(url);
      expect(await run(['history', '--version', '42'], same)).toBe(EXIT.OK);
      expect(same.stdout).toEqual(t.stdout);
      expect(await run(['history', '42', '--version', '41'], io(url))).toBe(EXIT.INVALID);
      const list = io(url);
      expect(await run(['history'], list)).toBe(EXIT.OK);
      expect(list.stdout.join('\n')).toMatch(/rolled-back: node-2/);
    });
    expect(formatVersionDetail({ version: 1, previous: null, change: { status: 'no-predecessor' }, nat: { changed: false }, settings: [], warnings: [], rollout: null })).toContain('Rollout:     no record');
  });

  it('small formatters', () => {
    expect(durationText(480_000)).toBe('8m0s');
    expect(durationText(1)).toBe('1s');
    expect(durationText(3_720_000)).toBe('1h2m');
    expect(gatesText({ nodes: [] })).toBe('-');
    expect(gatesText({ nodes: [{ node: 'a', gate: null }] })).toBe('0/1 passed, 1 unknown');
    expect(gatesText({ nodes: [{ node: 'a', gate: null }, { node: 'b', gate: { result: 'pending' } }, { node: 'c', gate: { result: 'passed' } }] })).toBe('1/3 passed, 1 pending, 1 unknown');
  });
});

describe('without a RolloutPolicy (every node at once, as before staged rollouts)', () => {
  it('rollout status and history look as they did', async () => {
    const noPolicy = { ...rollout('none'), staged: staged('completed', [], { policy: '' }) };
    await withApi((r) => (r.url === '/v1/rollout' ? { body: noPolicy } : undefined), async (url) => {
      const t = io(url);
      expect(await run(['rollout', 'status'], t)).toBe(EXIT.OK);
      expect(t.stdout.join('\n')).not.toMatch(/staged|WAVE/);
    });
    const row = { seq: 1, version: 1, digest: 'sha256:1', sourceRevision: 1, compiledAt: 'c', publishedAt: 'p', warnings: 0, masquerade: { v4: 1, v6: 0 }, noNat: { v4: 0, v6: 0 }, change: { status: 'no-predecessor' }, rollout: { outcome: 'completed', policy: '', reason: '', failures: [], immediate: false, waves: [] } };
    expect(historyTable([row]).split('\n')[0]).not.toContain('ROLLOUT');
    expect(historyTable([row, { ...row, version: 2, rollout: { ...row.rollout, immediate: true } }]).split('\n')[0]).toContain('ROLLOUT');
  });
});
