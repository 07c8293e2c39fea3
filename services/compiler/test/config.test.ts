import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildCli, DEFAULTS, type CompilerConfig, type KeygenOptions } from '../src/index.js';

/** Parses `args` as the CLI would; returns the config handed to run, or commander's error text. */
async function parse(args: string[]): Promise<{ config?: CompilerConfig; keygen?: KeygenOptions; error?: string }> {
  const out: { config?: CompilerConfig; keygen?: KeygenOptions; error?: string } = {};
  const cli = buildCli({
    run: async (config) => void (out.config = config),
    keygen: async (o) => void (out.keygen = o),
  });
  let stderr = '';
  cli.exitOverride().configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => undefined });
  for (const c of cli.commands) c.exitOverride().configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => undefined });
  try {
    await cli.parseAsync(args, { from: 'user' });
  } catch {
    out.error = stderr;
  }
  return out;
}

describe('compiler settings', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('documented defaults apply; only the signing key is required', async () => {
    const { config } = await parse(['--signing-key-file', '/k']);
    expect(config).toMatchObject({
      etcdEndpoints: DEFAULTS.etcdEndpoints,
      etcdPrefix: '/calico/resources/v3/projectcalico.org',
      natsServers: ['nats://127.0.0.1:4222'],
      cluster: 'default',
      debounceMs: 15,
      maxDelayMs: 250,
      leaseTtlSeconds: 5,
      streamReplicas: 1,
      opsHost: '127.0.0.1',
      opsPort: 9464,
      logLevel: 'info',
      natsUser: undefined,
      nodeGcAfterMs: undefined,
      natfleetPrefix: '/natfleet/v1',
    });
    expect(config?.replicaId).toMatch(/-\d+$/);
    expect((await parse([])).error).toMatch(/--signing-key-file.*NATFLEET_SIGNING_KEY_FILE.*not specified/);
  });

  it('env fills in, flags win over env', async () => {
    vi.stubEnv('NATFLEET_SIGNING_KEY_FILE', '/env/key');
    vi.stubEnv('NATFLEET_DEBOUNCE', '40ms');
    vi.stubEnv('NATFLEET_ETCD_ENDPOINTS', 'http://e1:2379, http://e2:2379');
    vi.stubEnv('NATFLEET_CLUSTER', 'prod-eu');
    const { config } = await parse(['--debounce', '30ms', '--lease-ttl', '2s', '--etcd-prefix', '/x/y/']);
    expect(config).toMatchObject({ signingKeyFile: '/env/key', debounceMs: 30, leaseTtlSeconds: 2, etcdEndpoints: ['http://e1:2379', 'http://e2:2379'], cluster: 'prod-eu', etcdPrefix: '/x/y' });
  });

  it.each([
    [['--debounce', 'soon'], /--debounce/],
    [['--lease-ttl', '1500ms'], /--lease-ttl.*whole seconds/],
    [['--ops-port', '70000'], /--ops-port/],
    [['--cluster', 'a.b'], /--cluster/],
    [['--etcd-endpoints', 'etcd:2379'], /--etcd-endpoints/],
    [['--etcd-prefix', 'relative'], /--etcd-prefix/],
    [['--log-level', 'loud'], /--log-level/],
    [['--stream-replicas', '0'], /--stream-replicas/],
    [['--max-delay', '5ms'], /--max-delay.*--debounce/],
    [['--nats-user', 'u'], /--nats-user.*--nats-password/],
    [['--node-gc-after', '500ms'], /--node-gc-after.*at least 1s/],
    [['--natfleet-prefix', 'natfleet'], /--natfleet-prefix/],
    [['--natfleet-prefix', '/calico/resources/v3/projectcalico.org/natfleet'], /--natfleet-prefix.*outside.*--etcd-prefix/],
    [['--natfleet-prefix', '/x', '--etcd-prefix', '/x/calico'], /--natfleet-prefix.*outside.*--etcd-prefix/],
    [['--node-gc-after', 'soon'], /--node-gc-after/],
  ])('bad value %j fails naming the setting', async (args, named) => {
    const { error, config } = await parse(['--signing-key-file', '/k', ...args]);
    expect(config).toBeUndefined();
    expect(error).toMatch(named);
  });

  it('node GC is off unless --node-gc-after (NATFLEET_NODE_GC_AFTER) is given', async () => {
    expect((await parse(['--signing-key-file', '/k', '--node-gc-after', '24h'])).config?.nodeGcAfterMs).toBe(24 * 3_600_000);
    vi.stubEnv('NATFLEET_NODE_GC_AFTER', '90m');
    expect((await parse(['--signing-key-file', '/k'])).config?.nodeGcAfterMs).toBe(90 * 60_000);
    expect((await parse(['--signing-key-file', '/k', '--node-gc-after', '2s'])).config?.nodeGcAfterMs).toBe(2_000);
  });

  it('a bad env value names the variable', async () => {
    vi.stubEnv('NATFLEET_MAX_DELAY', 'later');
    expect((await parse(['--signing-key-file', '/k'])).error).toMatch(/--max-delay.*env 'NATFLEET_MAX_DELAY'/);
  });

  it('keygen takes --out and --force', async () => {
    expect((await parse(['keygen', '--out', '/tmp/k'])).keygen).toEqual({ out: '/tmp/k', force: false });
    expect((await parse(['keygen', '--out', '/tmp/k', '--force'])).keygen).toEqual({ out: '/tmp/k', force: true });
    expect((await parse(['keygen'])).error).toMatch(/--out/);
  });
});
