import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT, fieldDiff, findConfigUpwards, formatResources, historyTable, resolveConnection, run, type Io } from '../src/index.js';

function io(env: NodeJS.ProcessEnv = {}, cwd = tmpdir()): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), env, cwd, stdin: async () => '', sleep: async () => undefined };
}

const dir = mkdtempSync(join(tmpdir(), 'natctl-test-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('natctl validate (offline)', () => {
  it('accepts valid multi-document YAML', async () => {
    const f = file('ok.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: a}\nspec: {cidr: 10.0.0.0/16, natOutgoing: true}\n---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: b}\nspec: {cidr: 10.1.0.0/16, disabled: true}\n');
    const t = io();
    expect(await run(['validate', '-f', f], t)).toBe(EXIT.OK);
    expect(t.stdout.join()).toContain('2 resource(s) valid');
  });

  it('lists every problem with its field path and exits 2', async () => {
    const f = file('bad.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: a}\nspec: {cidr: 10.0.0.0/16, blockSize: 99, natOutgoing: yes}\n---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: b}\nspec: {cidr: 10.0.5.0/24}\n');
    const t = io();
    expect(await run(['validate', '-f', f], t)).toBe(EXIT.INVALID);
    const err = t.stderr.join('\n');
    expect(err).toMatch(/^error: .*3 problem\(s\)/);
    expect(err).toContain('spec.blockSize');
    expect(err).toContain('spec.natOutgoing');
    expect(err).toContain('spec.cidr');
    expect(err).toContain('overlaps');
  });

  it('reports malformed YAML and missing files clearly', async () => {
    const t = io();
    expect(await run(['validate', '-f', file('broken.yaml', 'kind: [unclosed')], t)).toBe(EXIT.INVALID);
    expect(await run(['validate', '-f', join(dir, 'missing.yaml')], t)).toBe(EXIT.INVALID);
    expect(t.stderr.join('\n')).toContain('ENOENT');
  });
});

describe('connection settings', () => {
  it('flags win over env, env over the config file; ./.natfleet/natctl.json is found', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'natctl-cwd-'));
    mkdirSync(join(cwd, '.natfleet'));
    writeFileSync(join(cwd, '.natfleet', 'natctl.json'), JSON.stringify({ apiUrl: 'http://127.0.0.1:9/', token: 'file-token' }));
    expect(resolveConnection({}, {}, cwd)).toMatchObject({ apiUrl: 'http://127.0.0.1:9', token: 'file-token' });
    expect(resolveConnection({}, { NATFLEET_API_TOKEN: 'env-token' }, cwd).token).toBe('env-token');
    expect(resolveConnection({ token: 'flag' }, { NATFLEET_API_TOKEN: 'env-token' }, cwd).token).toBe('flag');
    expect(() => resolveConnection({ config: join(cwd, 'nope.json') }, {}, cwd)).toThrow(/does not exist/);
  });

  it('an unreachable API is one clear line and exit 1', async () => {
    const t = io({ NATFLEET_API_URL: 'http://127.0.0.1:9' });
    expect(await run(['get', 'ippools'], t)).toBe(EXIT.ERROR);
    expect(t.stderr).toEqual([expect.stringMatching(/^error: cannot reach the natfleet API at http:\/\/127\.0\.0\.1:9/)]);
  });

  it('--help documents the exit codes', async () => {
    const t = io();
    expect(await run(['--help'], t)).toBe(EXIT.OK);
    expect(t.stdout.join('\n')).toContain('5  rollout incomplete');
  });
});

describe('formatting', () => {
  const pools = [
    { metadata: { name: 'default-ipv4-ippool' }, spec: { cidr: '192.168.0.0/16', natOutgoing: true, nodeSelector: 'all()', ipipMode: 'Never', vxlanMode: 'Never', disabled: false, disableBGPExport: false } },
    { metadata: { name: 'no-nat-corp' }, spec: { cidr: '172.16.0.0/12', natOutgoing: false, nodeSelector: 'all()', disabled: true } },
  ];
  it('prints IPPools with calicoctl columns', () => {
    expect(formatResources('IPPool', pools, 'table')).toBe(
      ['NAME                  CIDR             SELECTOR', 'default-ipv4-ippool   192.168.0.0/16   all()', 'no-nat-corp           172.16.0.0/12    all()'].join('\n'),
    );
    expect(formatResources('IPPool', pools, 'wide').split('\n')[0]).toBe('NAME                  CIDR             NAT     IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR');
    expect(formatResources('IPPool', pools, 'yaml')).toContain('cidr: 192.168.0.0/16');
  });
});


describe('rollout status --watch', () => {
  /** A fake API: each GET /v1/rollout returns the next canned response (the last one repeats). */
  async function withApi(responses: object[], fn: (url: string) => Promise<void>): Promise<void> {
    const { createServer } = await import('node:http');
    let i = 0;
    const srv = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(responses[Math.min(i++, responses.length - 1)]));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const addr = srv.address() as { port: number };
    try {
      await fn(`http://127.0.0.1:${addr.port}`);
    } finally {
      srv.close();
    }
  }
  /** A canned /v1/rollout with nodes made from the counts (n1, n2, …: in-sync, then behind, failed, silent). */
  const rollout = (version: number, summary: Partial<Record<'total' | 'inSync' | 'behind' | 'failed' | 'silent', number>>, complete: boolean) => {
    const sum = { inSync: 0, behind: 0, failed: 0, silent: 0, ...summary };
    const nodes: object[] = [];
    const add = (n: number, status: string, over: object) => {
      for (let k = 0; k < n; k++) nodes.push({ node: `n${nodes.length + 1}`, status, state: 'applied', appliedVersion: status === 'in-sync' ? version : version - 1, heartbeatAgeSeconds: 1, driftRepairs: 0, error: '', errorCode: '', ...over });
    };
    add(sum.inSync, 'in-sync', {});
    add(sum.behind, 'behind', {});
    add(sum.failed, 'failed', { state: 'failed', errorCode: 'NFT_SYNTAX', error: 'bad rule' });
    add(sum.silent, 'silent', { heartbeatAgeSeconds: 47 });
    return { cluster: 'default', desired: { version, digest: 'sha256:x', publishedAt: '' }, nodes, summary: { ...sum, total: nodes.length }, complete };
  };

  it('waits for --min-version before taking "complete" (or a failure) as final', async () => {
    // v7 is complete but older than the write (v9); v9 arrives behind, then completes.
    await withApi([rollout(7, { inSync: 2 }, true), rollout(7, { failed: 1, inSync: 1 }, false), rollout(9, { behind: 2 }, false), rollout(9, { inSync: 2 }, true)], async (url) => {
      const t = io({ NATFLEET_API_URL: url });
      expect(await run(['rollout', 'status', '--watch', '--interval', '1ms', '--min-version', '9'], t)).toBe(EXIT.OK);
      expect(t.stderr.join('\n')).toContain('waiting for version 9');
    });
  });

  it('exits 5 with the failing nodes once the desired version failed, and on timeout', async () => {
    await withApi([rollout(9, { failed: 1, inSync: 1 }, false)], async (url) => {
      expect(await run(['rollout', 'status', '--watch', '--interval', '1ms', '--min-version', '9'], io({ NATFLEET_API_URL: url }))).toBe(EXIT.ROLLOUT_INCOMPLETE);
    });
    await withApi([rollout(7, { inSync: 2 }, true)], async (url) => {
      const t = io({ NATFLEET_API_URL: url });
      expect(await run(['rollout', 'status', '--watch', '--interval', '1ms', '--timeout', '50ms', '--min-version', '9'], t)).toBe(EXIT.ROLLOUT_INCOMPLETE);
      expect(t.stderr.join('\n')).toContain('version 9 not published yet');
    });
  });
});

describe('rollout status is an honest gate', () => {
  async function withApi(response: object, fn: (url: string) => Promise<void>): Promise<void> {
    const { createServer } = await import('node:http');
    const srv = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(response));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      await fn(`http://127.0.0.1:${(srv.address() as { port: number }).port}`);
    } finally {
      srv.close();
    }
  }
  const node = (name: string, status: string, over: object = {}) => ({ node: name, status, state: 'applied', appliedVersion: 9, heartbeatAgeSeconds: 1, driftRepairs: 0, error: '', errorCode: '', ...over });
  const view = (nodes: object[]) => {
    const c = (st: string) => nodes.filter((n: any) => n.status === st).length;
    return { cluster: 'default', desired: { version: 9, digest: 'sha256:x', publishedAt: '' }, nodes, summary: { total: nodes.length, inSync: c('in-sync'), behind: c('behind'), failed: c('failed'), silent: c('silent') }, complete: nodes.length > 0 && c('in-sync') === nodes.length };
  };
  const silentOne = view([node('a', 'in-sync'), node('b', 'silent', { appliedVersion: 8, heartbeatAgeSeconds: 47.2 })]);

  it('a silent node fails the gate, named with its last version and heartbeat age; --ignore-silent opts out', async () => {
    await withApi(silentOne, async (url) => {
      const t = io({ NATFLEET_API_URL: url });
      expect(await run(['rollout', 'status'], t)).toBe(EXIT.ROLLOUT_INCOMPLETE);
      expect(t.stderr.join('\n')).toContain('rollout incomplete: b (silent (last applied v8, heartbeat 47s ago))');
      expect(t.stdout.join('\n')).toContain('version 9: 1/2 node(s) in sync, 0 behind, 0 failed, 1 silent');
      const u = io({ NATFLEET_API_URL: url });
      expect(await run(['rollout', 'status', '--ignore-silent'], u)).toBe(EXIT.OK);
    });
  });

  it('--expect-nodes fails when fewer are registered; no nodes at all is a failure, not success', async () => {
    const two = view([node('a', 'in-sync'), node('b', 'in-sync')]);
    await withApi(two, async (url) => {
      expect(await run(['rollout', 'status', '--expect-nodes', '2'], io({ NATFLEET_API_URL: url }))).toBe(EXIT.OK);
      const t = io({ NATFLEET_API_URL: url });
      expect(await run(['rollout', 'status', '--expect-nodes', '3'], t)).toBe(EXIT.ROLLOUT_INCOMPLETE);
      expect(t.stderr.join('\n')).toContain('2 node(s) registered, --expect-nodes 3');
      expect(await run(['rollout', 'status', '--expect-nodes', 'x'], io({ NATFLEET_API_URL: url }))).toBe(EXIT.INVALID);
    });
    await withApi(view([]), async (url) => {
      const t = io({ NATFLEET_API_URL: url });
      expect(await run(['rollout', 'status'], t)).toBe(EXIT.ROLLOUT_INCOMPLETE);
      expect(t.stderr.join('\n')).toContain('no nodes are registered');
    });
  });

  it('--watch prints a line per change naming the nodes behind when not a TTY, and redraws in place on a TTY', async () => {
    await withApi(silentOne, async (url) => {
      const t = io({ NATFLEET_API_URL: url });
      expect(await run(['rollout', 'status', '--watch', '--interval', '1ms', '--timeout', '30ms'], t)).toBe(EXIT.ROLLOUT_INCOMPLETE);
      const lines = t.stderr.filter((l) => l.startsWith('version 9'));
      expect(lines).toEqual(['version 9: 1/2 node(s) in sync, 0 behind, 0 failed, 1 silent b (silent (last applied v8, heartbeat 47s ago))']);
      const tty = { ...io({ NATFLEET_API_URL: url }), isTTY: true };
      expect(await run(['rollout', 'status', '--watch', '--interval', '1ms', '--timeout', '30ms'], tty)).toBe(EXIT.ROLLOUT_INCOMPLETE);
      const frames = tty.stderr.filter((l) => l.includes('NODE'));
      expect(frames.length).toBeGreaterThan(1);
      expect(frames[1]).toMatch(/^\x1b\[\d+A\x1b\[J/);
    });
  });
});

describe('history', () => {
  it('shows messages the API flags invalid without breaking the table', () => {
    const out = historyTable([
      { seq: 3, version: 9_007_199_254_740_000, digest: 'sha256:feedfacefeedface', publishedAt: 't3', invalid: { code: 'BAD_SIGNATURE', message: 'signature does not verify' } },
      { seq: 2, version: 7, digest: 'sha256:0123456789abcdef', sourceRevision: 7, compiledAt: 't', publishedAt: 't2', warnings: 1, masquerade: { v4: 2, v6: 0 }, noNat: { v4: 3, v6: 1 } },
    ]).split('\n');
    expect(out[1]).toMatch(/^\(9007199254740000\)\s+t3\s+sha256:feedfacefeed\s+INVALID BAD_SIGNATURE\s+-\s+-$/);
    expect(out[2]).toMatch(/^7\s+t2\s+sha256:0123456789ab\s+2\/0\s+3\/1\s+1$/);
  });
});

describe('natctl as an operator\'s tool', () => {
  const pools = [
    { metadata: { name: 'a' }, spec: { cidr: '10.0.0.0/16', nodeSelector: 'all()' } },
    { metadata: { name: 'b' }, spec: { cidr: '10.1.0.0/16', nodeSelector: 'all()' } },
  ];
  it('-o json of a list request is always a List; -o name; --no-headers; an empty list says so', () => {
    expect(JSON.parse(formatResources('IPPool', [pools[0]!], 'json'))).toMatchObject({ kind: 'IPPoolList', items: [{ metadata: { name: 'a' } }] });
    expect(JSON.parse(formatResources('IPPool', [], 'json'))).toMatchObject({ kind: 'IPPoolList', items: [] });
    expect(JSON.parse(formatResources('IPPool', [pools[0]!], 'json', undefined, { single: true }))).toMatchObject({ metadata: { name: 'a' } });
    expect(formatResources('IPPool', pools, 'name')).toBe('ippool/a\nippool/b');
    expect(formatResources('IPPool', pools, 'table', undefined, { noHeaders: true })).toBe('a   10.0.0.0/16   all()\nb   10.1.0.0/16   all()');
    expect(formatResources('IPPool', [], 'table')).toBe('No resources found');
  });
  it('field-level diff: one line per changed leaf, server-side fields ignored by the caller', () => {
    expect(fieldDiff({ spec: { natOutgoing: true, cidr: '10.0.0.0/16' }, metadata: { labels: { a: 'x' } } }, { spec: { natOutgoing: false, cidr: '10.0.0.0/16' }, metadata: { labels: { a: 'y', b: 'z' } } })).toEqual([
      'metadata.labels.a: x → y',
      'metadata.labels.b: (unset) → z',
      'spec.natOutgoing: true → false',
    ]);
    expect(fieldDiff({ spec: { allowedUses: ['Workload'] } }, { spec: { allowedUses: ['Workload'] } })).toEqual([]);
  });
  it('finds .natfleet/natctl.json in the nearest directory above, up to the repository root', () => {
    const root = mkdtempSync(join(tmpdir(), 'natctl-walk-'));
    mkdirSync(join(root, '.git'));
    mkdirSync(join(root, '.natfleet'));
    writeFileSync(join(root, '.natfleet', 'natctl.json'), JSON.stringify({ apiUrl: 'http://127.0.0.1:1234' }));
    const deep = join(root, 'services', 'api', 'src');
    mkdirSync(deep, { recursive: true });
    expect(findConfigUpwards(deep)).toBe(join(root, '.natfleet', 'natctl.json'));
    expect(resolveConnection({}, {}, deep).apiUrl).toBe('http://127.0.0.1:1234');
    // Not past the repository root.
    const inner = join(root, 'nested-repo');
    mkdirSync(join(inner, '.git'), { recursive: true });
    expect(findConfigUpwards(inner)).toBeUndefined();
  });
});
