// A write that changes nothing enforced resolves (DESIGN.md §9): `apply` says there is
// nothing to roll out, and `rollout status --min-version N` succeeds once the desired bundle
// was evaluated at or past N. And `natctl version`, against a fake API and without one.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { EXIT, formatWriteResult, rolloutLine, run, type Io } from '../src/index.js';
import { NATCTL_VERSION } from '../src/version-command.js';

function io(env: NodeJS.ProcessEnv = {}): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), env, cwd: tmpdir(), stdin: async () => '', sleep: async () => undefined };
}

/** A fake API: `handler` answers each request; the paths asked are recorded. */
async function withApi(handler: (req: IncomingMessage) => { status?: number; body: unknown }, fn: (url: string, asked: string[]) => Promise<void>): Promise<void> {
  const asked: string[] = [];
  const srv = createServer((req: IncomingMessage, res: ServerResponse) => {
    asked.push(`${req.method} ${req.url}`);
    const r = handler(req);
    res.statusCode = r.status ?? 200;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(r.body));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${(srv.address() as { port: number }).port}`, asked);
  } finally {
    srv.close();
  }
}

const nat = (changed: boolean) => ({
  changed,
  v4: { masquerade: { added: changed ? ['10.0.0.0/16'] : [], removed: [] }, noNat: { added: [], removed: [] } },
  v6: { masquerade: { added: [], removed: [] }, noNat: { added: [], removed: [] } },
  hostAddresses: { added: [], removed: [] },
  settingsChanged: false,
  nodesChanged: [],
  warnings: [],
});

describe('a write that changes nothing enforced', () => {
  it('apply says there is nothing to roll out (no bundle version will carry it)', () => {
    const text = formatWriteResult({ dryRun: false, revision: 42, changes: [{ kind: 'IPPool', name: 'p', action: 'updated' }], nat: nat(false) }, 'applied');
    expect(text.split('\n')).toEqual(['IPPool/p: updated', 'no NAT change: nothing to roll out (stored at revision 42)', 'NAT sets: no change']);
    const changed = formatWriteResult({ dryRun: false, revision: 43, changes: [{ kind: 'IPPool', name: 'p', action: 'updated' }], nat: nat(true) }, 'applied');
    expect(changed).toContain('applied at revision 43 (the bundle version that will carry it)');
    expect(changed).toContain('follow the rollout: natctl rollout status --watch --min-version 43');
    expect(changed).not.toContain('nothing to roll out');
  });

  const rollout = (evaluated: object | null, appliedVersion = 40) => ({
    cluster: 'default',
    desired: { version: 40, digest: 'sha256:forty', publishedAt: '' },
    evaluated,
    nodes: [{ node: 'n1', status: appliedVersion >= 40 ? 'in-sync' : 'behind', state: 'applied', appliedVersion, heartbeatAgeSeconds: 1, driftRepairs: 0, error: '', errorCode: '' }],
    summary: { total: 1, inSync: appliedVersion >= 40 ? 1 : 0, behind: appliedVersion >= 40 ? 0 : 1, failed: 0, silent: 0 },
    complete: appliedVersion >= 40,
  });

  it('rollout status --min-version N succeeds once the desired bundle was evaluated at or past N', async () => {
    const current = rollout({ revision: 42, bundleVersion: 40, bundleDigest: 'sha256:forty', evaluatedAt: '' });
    await withApi(() => ({ body: current }), async (url) => {
      const t = io({ NATFLEET_API_URL: url });
      expect(await run(['rollout', 'status', '--watch', '--interval', '1ms', '--timeout', '5s', '--min-version', '42'], t)).toBe(EXIT.OK);
      expect(t.stdout.join('\n')).toContain('version 40 (current as of revision 42): 1/1 node(s) in sync');
      expect(await run(['rollout', 'status', '--min-version', '42'], io({ NATFLEET_API_URL: url }))).toBe(EXIT.OK);
    });
  });

  it('not before: evaluated below N, for another bundle, or nodes behind', async () => {
    const cases = [
      rollout({ revision: 41, bundleVersion: 40, bundleDigest: 'sha256:forty', evaluatedAt: '' }),
      rollout({ revision: 45, bundleVersion: 39, bundleDigest: 'sha256:old', evaluatedAt: '' }), // the record of an older bundle
      rollout({ revision: 45, bundleVersion: 40, bundleDigest: 'sha256:other', evaluatedAt: '' }), // same version, another body
      rollout(null),
    ];
    for (const r of cases) {
      await withApi(() => ({ body: r }), async (url) => {
        const t = io({ NATFLEET_API_URL: url });
        expect(await run(['rollout', 'status', '--watch', '--interval', '1ms', '--timeout', '30ms', '--min-version', '42'], t)).toBe(EXIT.ROLLOUT_INCOMPLETE);
        expect(t.stderr.join('\n')).toMatch(/rollout incomplete: version 42 not published yet, nor evaluated \(newest published: 40/);
      });
    }
    await withApi(() => ({ body: rollout({ revision: 42, bundleVersion: 40, bundleDigest: 'sha256:forty', evaluatedAt: '' }, 39) }), async (url) => {
      const t = io({ NATFLEET_API_URL: url });
      expect(await run(['rollout', 'status', '--min-version', '42'], t)).toBe(EXIT.ROLLOUT_INCOMPLETE);
      expect(t.stderr.join('\n')).toContain('rollout incomplete: n1 (behind: applied v39)');
    });
  });

  it('the rollout line says how current the desired bundle is only when the record is about it', () => {
    const r = rollout({ revision: 42, bundleVersion: 40, bundleDigest: 'sha256:forty', evaluatedAt: '' });
    expect(rolloutLine(r)).toBe('version 40 (current as of revision 42): 1/1 node(s) in sync, 0 behind, 0 failed, 0 silent');
    expect(rolloutLine(rollout({ revision: 40, bundleVersion: 40, bundleDigest: 'sha256:forty', evaluatedAt: '' }))).toBe('version 40: 1/1 node(s) in sync, 0 behind, 0 failed, 0 silent');
    expect(rolloutLine(rollout({ revision: 45, bundleVersion: 39, bundleDigest: 'sha256:old', evaluatedAt: '' }))).toMatch(/^version 40: /);
  });
});

describe('natctl version', () => {
  const server = { version: '9.8.7', bundleApiVersion: 'natfleet.io/v1', cluster: 'prod-eu' };

  it('prints the client version, and the server version, bundle apiVersion and cluster; -o json', async () => {
    expect(NATCTL_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    await withApi(() => ({ body: server }), async (url, asked) => {
      const t = io({ NATFLEET_API_URL: url });
      expect(await run(['version'], t)).toBe(EXIT.OK);
      expect(t.stdout).toEqual([`Client Version: ${NATCTL_VERSION}\nServer Version: 9.8.7\nBundle API Version: natfleet.io/v1\nCluster: prod-eu`]);
      expect(asked).toEqual(['GET /v1/version']);
      const j = io({ NATFLEET_API_URL: url });
      expect(await run(['version', '-o', 'json'], j)).toBe(EXIT.OK);
      expect(JSON.parse(j.stdout.join('\n'))).toEqual({ clientVersion: NATCTL_VERSION, serverVersion: '9.8.7', bundleApiVersion: 'natfleet.io/v1', cluster: 'prod-eu' });
      const c = io({ NATFLEET_API_URL: url });
      expect(await run(['version', '--client'], c)).toBe(EXIT.OK);
      expect(c.stdout).toEqual([`Client Version: ${NATCTL_VERSION}`]);
      expect(asked).toHaveLength(2);
    });
  });

  it('an unreachable API: the client version, then the error; exit 1 (text and json)', async () => {
    const t = io({ NATFLEET_API_URL: 'http://127.0.0.1:9' });
    expect(await run(['version'], t)).toBe(EXIT.ERROR);
    expect(t.stdout).toEqual([`Client Version: ${NATCTL_VERSION}`]);
    expect(t.stderr).toEqual([expect.stringMatching(/^error: cannot reach the natfleet API at http:\/\/127\.0\.0\.1:9/)]);
    const j = io({ NATFLEET_API_URL: 'http://127.0.0.1:9' });
    expect(await run(['version', '-o', 'json'], j)).toBe(EXIT.ERROR);
    const out = JSON.parse(j.stdout.join('\n'));
    expect(out).toEqual({ clientVersion: NATCTL_VERSION, error: expect.stringMatching(/^cannot reach the natfleet API/) });
  });

  it('an API error keeps its exit code (a bad token is 6)', async () => {
    await withApi(() => ({ status: 401, body: { code: 'UNAUTHORIZED', message: 'unknown token' } }), async (url) => {
      const t = io({ NATFLEET_API_URL: url });
      expect(await run(['version'], t)).toBe(EXIT.UNAUTHORIZED);
      expect(t.stdout).toEqual([`Client Version: ${NATCTL_VERSION}`]);
      expect(t.stderr).toEqual(['error: unknown token']);
    });
  });
});
