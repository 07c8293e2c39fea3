// deploy/nats/natfleet-auth.conf must stay exactly what the renderer produces (the local
// stack and the permission tests use the renderer), and the deploy files must parse.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, makeTempDir, removeDir, requireBinary, run } from '@natfleet/testkit';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseResources, validateResources } from '@natfleet/model';
import { natfleetUsers, renderAuthorization } from '../src/index.js';

const deploy = (...p: string[]): string => join(REPO_ROOT, 'deploy', ...p);

describe('deploy/', () => {
  it('nats/natfleet-auth.conf equals the rendered permissions for node-1..3', () => {
    const file = readFileSync(deploy('nats', 'natfleet-auth.conf'), 'utf8');
    const body = file.split('\n').filter((l) => !l.startsWith('#')).join('\n');
    expect(body).toBe(renderAuthorization(natfleetUsers(['node-1', 'node-2', 'node-3'])));
  });

  it('nats/nats.conf and the cluster configs pass nats-server -t', async () => {
    const dir = makeTempDir('deploy-check');
    try {
      // Same layout as deploy/nats (includes are relative to the config file); only store_dir moves.
      const fs = await import('node:fs');
      fs.mkdirSync(join(dir, 'cluster'));
      fs.copyFileSync(deploy('nats', 'natfleet-auth.conf'), join(dir, 'natfleet-auth.conf'));
      const env = { ...process.env, NATFLEET_COMPILER_PASSWORD: 'x', NATFLEET_API_PASSWORD: 'x', NATFLEET_ENFORCER_NODE_1_PASSWORD: 'x', NATFLEET_ENFORCER_NODE_2_PASSWORD: 'x', NATFLEET_ENFORCER_NODE_3_PASSWORD: 'x' };
      for (const rel of ['nats.conf', 'cluster/nats-1.conf', 'cluster/nats-2.conf', 'cluster/nats-3.conf']) {
        fs.writeFileSync(join(dir, rel), readFileSync(deploy('nats', rel), 'utf8').replace(/store_dir: .*/, `store_dir: ${JSON.stringify(join(dir, 'js'))}`));
        const r = await run(requireBinary('nats-server'), ['-t', '-c', join(dir, rel)], { env, allowFailure: true });
        expect(r.code, `${rel}: ${r.stderr}${r.stdout}`).toBe(0);
      }
    } finally {
      removeDir(dir);
    }
  });

  it('every Kubernetes manifest is valid YAML with apiVersion and kind', () => {
    const dir = deploy('kubernetes');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
        expect(doc.errors, f).toEqual([]);
        const o = doc.toJS() as { apiVersion?: string; kind?: string };
        expect(o.apiVersion, f).toBeTruthy();
        expect(o.kind, f).toBeTruthy();
      }
    }
  });

  it('every example in deploy/examples is a valid resource set', () => {
    const dir = deploy('examples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const r = validateResources(parseResources(readFileSync(join(dir, f), 'utf8'), { source: f }));
      expect(r.ok ? [] : r.issues, f).toEqual([]);
    }
  });
});
