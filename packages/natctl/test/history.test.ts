// natctl history and rollback against a fake API that records every request: the CHANGE
// column, the version detail, and rollback's confirmation (TTY yes/no, --yes, no TTY),
// exit codes, and kubectl's aliases. The real API, etcd and NATS are exercised in
// test/integration/history-rollback.test.ts.
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { EXIT, changeText, confirms, formatVersionDetail, historyTable, run, type Io } from '../src/index.js';
import { withApi, type Route, type Seen } from './fake-api.js';

function io(url: string, over: Partial<Io> = {}): Io & { stdout: string[]; stderr: string[]; prompts: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const prompts: string[] = [];
  return { stdout, stderr, prompts, out: (s) => stdout.push(s), err: (s) => stderr.push(s), env: { NATFLEET_API_URL: url }, cwd: tmpdir(), stdin: async () => '', sleep: async () => undefined, ...over };
}
const tty = (answer: string) => (t: { prompts: string[] }) => ({ isTTY: true, readLine: async (p: string) => (t.prompts.push(p), answer) });

const summary = (version: number, change?: object) => ({ seq: version, version, digest: `sha256:${String(version).padStart(16, '0')}`, sourceRevision: version, compiledAt: 't', publishedAt: `p${version}`, warnings: 0, masquerade: { v4: 1, v6: 0 }, noNat: { v4: 1, v6: 0 }, ...(change ? { change } : {}) });
const HISTORY = {
  items: [
    summary(30, { status: 'ok', since: 20, resources: [{ kind: 'IPPool', name: 'b', action: 'deleted', via: 'rollback', by: 'alice', rollbackOf: 10 }] }),
    { seq: 25, version: 25, digest: 'sha256:bad', publishedAt: 'p25', invalid: { code: 'BAD_SIGNATURE', message: 'x' } },
    summary(20, { status: 'ok', since: 10, resources: [{ kind: 'IPPool', name: 'b', action: 'created', via: 'etcdctl' }] }),
    summary(10, { status: 'no-predecessor' }),
  ],
};
const PREVIEW = (version: number, revision = 31, over: object = {}) => ({
  dryRun: true,
  revision,
  changes: [{ kind: 'IPPool', name: 'b', action: 'deleted' }],
  nat: { changed: true, v4: { masquerade: { added: [], removed: ['10.2.0.0/16'] }, noNat: { added: [], removed: [] } }, v6: { masquerade: { added: [], removed: [] }, noNat: { added: [], removed: [] } }, settingsChanged: false, nodesChanged: [], warnings: [] },
  rollback: { version, sourceRevision: version, forced: false },
  ...over,
});
/** The API side of a rollback: dry runs answer PREVIEW, writes answer a result at revision 32. */
const rollbackApi: Route = (r) => {
  if (r.method === 'GET' && r.url === '/v1/history') return { body: HISTORY };
  if (r.method !== 'POST' || !r.url.startsWith('/v1/rollback')) return undefined;
  if (r.body.version === 1 && !r.body.force) return { status: 404, body: { code: 'NOT_FOUND', message: 'version 1 is not a bundle in history (kept: 10, 20, 30); nothing was written' } };
  const forced = r.body.force === true;
  if (r.url.includes('dryRun=true')) return { body: PREVIEW(r.body.version, 31, { rollback: { version: r.body.version, sourceRevision: r.body.version, forced } }) };
  return { body: { ...PREVIEW(r.body.version), dryRun: false, revision: 32, rollback: { version: r.body.version, sourceRevision: r.body.version, forced } } };
};
const writes = (seen: Seen[]): Seen[] => seen.filter((s) => s.url === '/v1/rollback');

describe('history output', () => {
  it('CHANGE names the resources and who changed them; invalid rows have none', () => {
    const lines = historyTable(HISTORY.items).split('\n');
    expect(lines[0]).toMatch(/^VERSION\s+PUBLISHED\s+DIGEST\s+MASQ\(v4\/v6\)\s+NONAT\(v4\/v6\)\s+WARNINGS\s+CHANGE$/);
    expect(lines[1]).toMatch(/^30\s+p30\s+sha256:000000000000\s+1\/0\s+1\/0\s+0\s+IPPool\/b deleted by rollback of v10 \(alice\)$/);
    expect(lines[2]).toMatch(/INVALID BAD_SIGNATURE\s+-\s+-$/);
    expect(lines[3]).toMatch(/IPPool\/b created by etcdctl$/);
    expect(lines[4]).toMatch(/\(oldest kept: no earlier bundle\)$/);
  });

  it('groups by author, caps each group, and says when history is compacted', () => {
    const r = (name: string, over: object) => ({ kind: 'IPPool', name, action: 'created', ...over });
    const many = ['a', 'b', 'c', 'd', 'e'].map((n) => r(n, { via: 'api', by: 'alice' }));
    expect(changeText({ status: 'ok', since: 1, resources: [...many, r('x', { via: 'etcdctl', action: 'updated' }), { kind: 'Node', name: 'n1', action: 'created', via: 'inventory' }] })).toBe(
      'IPPool/a created, IPPool/b created, IPPool/c created (+2 more) by alice; IPPool/x updated by etcdctl; Node/n1 created by node inventory',
    );
    expect(changeText({ status: 'ok', since: 1, resources: [r('z', { via: 'rollback', by: 'ops', rollbackOf: 1, forced: true, action: 'deleted' })] })).toBe('IPPool/z deleted by forced rollback to revision 1 (ops)');
    expect(changeText({ status: 'compacted', since: 4 })).toBe('(history compacted)');
    expect(changeText({ status: 'ok', since: 4, resources: [] })).toBe('(no resource changed)');
    expect(changeText(undefined)).toBe('');
  });

  it('--version N: changes, set diff, settings and every warning in full', () => {
    const text = formatVersionDetail({
      version: 20,
      digest: 'sha256:abc',
      sourceRevision: 20,
      compiledAt: 'c',
      publishedAt: 'p',
      previous: { version: 10, digest: 'sha256:def' },
      change: { status: 'ok', since: 10, resources: [{ kind: 'IPPool', name: 'b', action: 'created', via: 'api', by: 'alice' }] },
      nat: { changed: true, v4: { masquerade: { added: ['10.2.0.0/16'], removed: [] }, noNat: { added: ['10.2.0.0/16'], removed: [] } }, v6: { masquerade: { added: [], removed: [] }, noNat: { added: [], removed: ['fd00::/48'] } }, settingsChanged: true, nodesChanged: [], warnings: [] },
      settings: [{ path: 'settings.natOutgoingAddress', after: '192.0.2.1' }],
      warnings: [{ key: '/k/ippools/bad', code: 'INVALID_RESOURCE', reason: 'spec.cidr: not a network address', new: true }, { key: '/k/ippools/old', code: 'OVERLAP', reason: 'overlaps a', new: false }],
    });
    expect(text).toContain('Compared to: v10');
    expect(text).toContain('Changes since v10:\n  IPPool/b created by alice');
    expect(text).toContain('  + v4 masquerade: 10.2.0.0/16\n  + v4 noNat: 10.2.0.0/16\n  - v6 noNat: fd00::/48');
    expect(text).toContain('Settings:\n  settings.natOutgoingAddress: (unset) → 192.0.2.1');
    expect(text).toContain('Warnings (2):\n  + /k/ippools/bad: INVALID_RESOURCE: spec.cidr: not a network address\n  /k/ippools/old: OVERLAP: overlaps a');
    const oldest = formatVersionDetail({ version: 10, previous: null, change: { status: 'no-predecessor' }, nat: { changed: false }, settings: [], warnings: [] });
    expect(oldest).toContain('Compared to: nothing (the oldest bundle kept)');
    expect(oldest).toContain('Warnings (0): none');
  });

  it('history, rollout history, --version/--revision and -o json hit the history endpoints', async () => {
    const detail = { version: 20, previous: null, change: { status: 'no-predecessor' }, nat: { changed: false }, settings: [], warnings: [] };
    await withApi((r) => (r.url === '/v1/history' ? { body: HISTORY } : r.url === '/v1/history/20' ? { body: detail } : undefined), async (url) => {
      const a = io(url);
      expect(await run(['history'], a)).toBe(EXIT.OK);
      const b = io(url);
      expect(await run(['rollout', 'history'], b)).toBe(EXIT.OK);
      expect(b.stdout).toEqual(a.stdout);
      const j = io(url);
      expect(await run(['history', '-o', 'json'], j)).toBe(EXIT.OK);
      expect(JSON.parse(j.stdout.join('\n'))[0].change.resources[0].via).toBe('rollback');
      const d = io(url);
      expect(await run(['history', '--version', '20'], d)).toBe(EXIT.OK);
      const e = io(url);
      expect(await run(['rollout', 'history', '--revision', '20'], e)).toBe(EXIT.OK);
      expect(e.stdout).toEqual(d.stdout);
      expect(d.stdout.join('\n')).toContain('Version:     20');
      const dj = io(url);
      expect(await run(['history', '--version', '20', '-o', 'json'], dj)).toBe(EXIT.OK);
      expect(JSON.parse(dj.stdout.join('\n'))).toEqual(detail);
      const missing = io(url);
      expect(await run(['history', '--version', '99'], missing)).toBe(EXIT.NOT_FOUND);
      const bad = io(url);
      expect(await run(['history', '--version', 'x'], bad)).toBe(EXIT.INVALID);
      expect(bad.stderr.join('\n')).toContain('--version must be a version number');
      expect(await run(['history', '-o', 'yaml'], io(url))).toBe(EXIT.ERROR);
    });
  });
});

describe('rollback confirmation', () => {
  it('without a terminal and without --yes: shows the change, refuses with exit 2, writes nothing', async () => {
    await withApi(rollbackApi, async (url, seen) => {
      const t = io(url);
      expect(await run(['rollback', '--to', '10'], t)).toBe(EXIT.INVALID);
      expect(t.stdout.join('\n')).toBe('Rolling back to v10 changes:\n  IPPool/b: deleted\nNAT sets:\n  - v4 masquerade: 10.2.0.0/16');
      expect(t.stderr.join('\n')).toMatch(/^error: not rolling back: confirmation needed and natctl is not on a terminal; .*--yes/);
      expect(writes(seen)).toEqual([]);
      // stderr on a terminal but nothing to read an answer from (stdin piped): still refused.
      const noReader = io(url, { isTTY: true });
      expect(await run(['rollback', '--to', '10'], noReader)).toBe(EXIT.INVALID);
      expect(writes(seen)).toEqual([]);
    });
  });

  it('on a terminal: y writes (with the preview revision), anything else cancels with exit 1', async () => {
    await withApi(rollbackApi, async (url, seen) => {
      const no = io(url);
      Object.assign(no, tty('')(no));
      expect(await run(['rollback', '--to', '10'], no)).toBe(EXIT.ERROR);
      expect(no.prompts).toEqual(['Roll back to v10? [y/N] ']);
      expect(no.stderr.join('\n')).toBe('error: rollback cancelled: nothing was written');
      for (const answer of ['n', 'no', 'yess', ' ']) {
        const t = io(url);
        Object.assign(t, tty(answer)(t));
        expect(await run(['rollback', '--to', '10'], t)).toBe(EXIT.ERROR);
      }
      expect(writes(seen)).toEqual([]);

      const yes = io(url);
      Object.assign(yes, tty('Y')(yes));
      expect(await run(['rollback', '--to', '10'], yes)).toBe(EXIT.OK);
      expect(writes(seen)).toEqual([{ method: 'POST', url: '/v1/rollback', body: { version: 10, previewRevision: 31 } }]);
      expect(yes.stdout.join('\n')).toContain('Rolling back to v10 changes:');
      expect(yes.stdout.join('\n')).toContain('rolled back to v10 at revision 32 (the bundle version that will carry it)\nfollow the rollout: natctl rollout status --watch --min-version 32');
    });
    expect(['y', 'Y', 'yes', ' YES '].every(confirms)).toBe(true);
    expect(['', 'n', 'ye', 'yes please', 'ja'].some(confirms)).toBe(false);
  });

  it('--yes skips the question; --dry-run only shows; -y is --yes', async () => {
    await withApi(rollbackApi, async (url, seen) => {
      const dry = io(url);
      expect(await run(['rollback', '--to', '10', '--dry-run'], dry)).toBe(EXIT.OK);
      expect(dry.stdout.at(-1)).toBe('(dry run: nothing was written)');
      expect(writes(seen)).toEqual([]);
      const t = io(url);
      Object.assign(t, tty('n')(t)); // never asked
      expect(await run(['rollback', '--to', '10', '--yes'], t)).toBe(EXIT.OK);
      expect(t.prompts).toEqual([]);
      expect(await run(['rollback', '--to', '10', '-y'], io(url))).toBe(EXIT.OK);
      expect(writes(seen)).toHaveLength(2);
    });
  });

  it('a version not in history is the API\'s 404 (exit 4) before anything is asked; --force takes a revision', async () => {
    await withApi(rollbackApi, async (url, seen) => {
      const t = io(url);
      expect(await run(['rollback', '--to', '1', '--yes'], t)).toBe(EXIT.NOT_FOUND);
      expect(t.stderr.join('\n')).toContain('version 1 is not a bundle in history');
      expect(writes(seen)).toEqual([]);
      const f = io(url);
      expect(await run(['rollback', '--to', '1', '--force', '--yes'], f)).toBe(EXIT.OK);
      expect(f.stdout.join('\n')).toContain('Rolling back to etcd revision 1 (forced) changes:');
      expect(writes(seen)).toEqual([{ method: 'POST', url: '/v1/rollback', body: { version: 1, force: true, previewRevision: 31 } }]);
      for (const bad of ['0', '-1', 'abc', '1.5', '0x10']) expect(await run(['rollback', '--to', bad, '--yes'], io(url))).toBe(EXIT.INVALID);
    });
  });

  it('nothing to roll back: says so and writes nothing, without asking', async () => {
    await withApi((r) => (r.url.startsWith('/v1/rollback') ? { body: PREVIEW(10, 31, { changes: [], nat: { changed: false } }) } : undefined), async (url, seen) => {
      const t = io(url);
      expect(await run(['rollback', '--to', '10'], t)).toBe(EXIT.OK);
      expect(t.stdout).toEqual(['Nothing to roll back: pools and NAT config already match v10.']);
      expect(writes(seen)).toEqual([]);
    });
  });

  it('a change between preview and write is the API\'s 409: exit 3', async () => {
    const route: Route = (r) => (r.url === '/v1/rollback' ? { status: 409, body: { code: 'CONFLICT', message: 'pools or NAT config changed since the preview at revision 31 (IPPool/x); nothing was written: preview the rollback again' } } : rollbackApi(r));
    await withApi(route, async (url) => {
      const t = io(url);
      expect(await run(['rollback', '--to', '10', '--yes'], t)).toBe(EXIT.CONFLICT);
      expect(t.stderr.join('\n')).toContain('changed since the preview');
    });
  });

  it('rollout undo: --to-revision N is rollback --to N; without it, the version before the newest', async () => {
    await withApi(rollbackApi, async (url, seen) => {
      expect(await run(['rollout', 'undo', '--to-revision', '10', '--yes'], io(url))).toBe(EXIT.OK);
      expect(writes(seen).at(-1)!.body).toEqual({ version: 10, previewRevision: 31 });
      const prev = io(url);
      expect(await run(['rollout', 'undo', '--yes'], prev)).toBe(EXIT.OK);
      expect(writes(seen).at(-1)!.body).toEqual({ version: 20, previewRevision: 31 }); // 30 is newest; 25 is invalid
      const refused = io(url);
      expect(await run(['rollout', 'undo', '--to-revision', '10'], refused)).toBe(EXIT.INVALID);
      expect(writes(seen)).toHaveLength(2);
    });
    await withApi((r) => (r.url === '/v1/history' ? { body: { items: [summary(10)] } } : undefined), async (url) => {
      const t = io(url);
      expect(await run(['rollout', 'undo', '--yes'], t)).toBe(EXIT.NOT_FOUND);
      expect(t.stderr.join('\n')).toContain('no earlier version in history to undo to (kept: 10)');
    });
  });
});
