// Settings: defaults, env fallbacks, flags over env, and failing fast naming the setting.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKeyPair } from '@natfleet/bundle';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { addRunOptions, addUninstallOptions, ConfigError, parseSize, runConfigFrom, uninstallConfigFrom, type RunConfig, type UninstallConfig } from '../src/index.js';
import { tempDir, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

const keysFile = (() => {
  const f = join(tempDir(), 'trusted.pem');
  writeFileSync(f, generateSigningKeyPair().publicKeyPem + generateSigningKeyPair().publicKeyPem);
  return f;
})();

const touched: string[] = [];
function setEnv(vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) {
    touched.push(k);
    process.env[k] = v;
  }
}
afterEach(() => {
  for (const k of touched.splice(0)) delete process.env[k];
});

function parse(args: string[]): RunConfig {
  const cmd = addRunOptions(new Command('run')).exitOverride().configureOutput({ writeErr: () => undefined });
  cmd.parse(args, { from: 'user' });
  return runConfigFrom(cmd.opts());
}

describe('run settings', () => {
  it('documented defaults', () => {
    const c = parse(['--trusted-keys-file', keysFile]);
    expect(c).toMatchObject({
      cluster: 'default',
      labels: {},
      addresses: [],
      natsServers: ['nats://127.0.0.1:4222'],
      stateDir: '/var/lib/natfleet',
      heartbeatMs: 5_000,
      feedHeartbeatMs: 500,
      feedCheckIntervalMs: 1_000,
      nftBackend: 'auto',
      retryIntervalMs: 5_000,
      maxBundleBytes: 32 * 1024 * 1024,
      opsHost: '127.0.0.1',
      opsPort: 9465,
      logLevel: 'info',
    });
    expect(c.nodeName).not.toBe('');
    expect(c.netns).toBeUndefined();
    expect(c.driftIntervalMs).toBeUndefined(); // by backend: 250 ms with libnftables, 2 s with the nft binary
    expect(c.natsUser).toBeUndefined();
    expect(c.trustedKeys.size).toBe(2);
  });

  it('env variables, and flags over env', () => {
    setEnv({
      NATFLEET_NODE_NAME: 'env-node',
      NATFLEET_LABELS: 'zone=a,rack=7',
      NATFLEET_ADDRESSES: '192.0.2.10,2001:db8::10',
      NATFLEET_TRUSTED_KEYS_FILE: keysFile,
      NATFLEET_DRIFT_INTERVAL: '500ms',
      NATFLEET_FEED_HEARTBEAT: '2s',
      NATFLEET_FEED_CHECK_INTERVAL: '5s',
      NATFLEET_MAX_BUNDLE_BYTES: '64KiB',
      NATFLEET_NATS_URL: 'nats://a:4222,nats://b:4222',
      NATFLEET_NATS_USER: 'enf',
      NATFLEET_NATS_PASSWORD: 's3cret',
    });
    const c = parse(['--node-name', 'flag-node', '--netns', 'nf-1-abc-node', '--feed-check-interval', '0', '--nft-backend', 'cli', '--nft-library', '/opt/lib/libnftables.so.1']);
    expect(c).toMatchObject({
      nodeName: 'flag-node',
      feedHeartbeatMs: 2_000,
      feedCheckIntervalMs: 0,
      labels: { zone: 'a', rack: '7' },
      addresses: ['192.0.2.10', '2001:db8::10'],
      driftIntervalMs: 500,
      maxBundleBytes: 65_536,
      natsServers: ['nats://a:4222', 'nats://b:4222'],
      natsUser: 'enf',
      natsPassword: 's3cret',
      netns: 'nf-1-abc-node',
      nftBackend: 'cli',
      nftLibrary: '/opt/lib/libnftables.so.1',
    });
  });

  it('the trusted keys file is required, must exist and must hold Ed25519 public keys', () => {
    expect(() => parse([])).toThrow(/--trusted-keys-file \(NATFLEET_TRUSTED_KEYS_FILE\): is required/);
    expect(() => parse(['--trusted-keys-file', '/nonexistent/keys.pem'])).toThrow(/--trusted-keys-file.*ENOENT/);
    const junk = join(tempDir(), 'junk.pem');
    writeFileSync(junk, 'not a key');
    expect(() => parse(['--trusted-keys-file', junk])).toThrow(ConfigError);
    const priv = join(tempDir(), 'private.pem');
    writeFileSync(priv, generateSigningKeyPair().privateKeyPem);
    expect(() => parse(['--trusted-keys-file', priv])).toThrow(/--trusted-keys-file.*private key/);
  });

  it.each([
    [['--heartbeat', 'soon'], /--heartbeat/],
    [['--drift-interval', '0'], /--drift-interval/],
    [['--feed-heartbeat', '50ms'], /--feed-heartbeat/],
    [['--feed-heartbeat', '20s'], /--feed-heartbeat/],
    [['--feed-check-interval', 'often'], /--feed-check-interval/],
    [['--node-name', 'has space'], /--node-name/],
    // Names the Node resource could not carry: the node would report but never be registered.
    [['--node-name', 'WEB01'], /--node-name.*did you mean web01\?/],
    [['--node-name', 'ip_10_0_0_5'], /--node-name.*Kubernetes node name/],
    [['--cluster', 'a.b'], /--cluster/],
    [['--addresses', '10.0.0.1,nope'], /--addresses.*nope/],
    [['--labels', 'novalue'], /--labels/],
    [['--ops-port', '70000'], /--ops-port/],
    [['--max-bundle-bytes', 'lots'], /--max-bundle-bytes/],
    [['--log-level', 'loud'], /--log-level/],
    [['--netns', '../etc'], /--netns/],
    [['--nats-url', 'http://x y'], /--nats-url/],
    [['--nft-backend', 'kernel'], /--nft-backend.*must be one of auto, libnftables, cli/],
  ])('%j fails naming the setting', (args, re) => {
    expect(() => parse([...args, '--trusted-keys-file', keysFile])).toThrow(re);
  });

  it('a NATS user needs a password', () => {
    expect(() => parse(['--trusted-keys-file', keysFile, '--nats-user', 'enf'])).toThrow(/--nats-password/);
  });

  it('parseSize', () => {
    expect(parseSize('65536')).toBe(65_536);
    expect(parseSize('64KiB')).toBe(65_536);
    expect(parseSize('32MiB')).toBe(33_554_432);
    expect(parseSize('1MB')).toBe(1_000_000);
    expect(() => parseSize('0')).toThrow();
    expect(() => parseSize('1TiB')).toThrow();
  });
});

describe('uninstall settings', () => {
  function parseUninstall(args: string[]): UninstallConfig {
    const cmd = addUninstallOptions(new Command('uninstall')).exitOverride().configureOutput({ writeErr: () => undefined });
    cmd.parse(args, { from: 'user' });
    return uninstallConfigFrom(cmd.opts());
  }

  it('without a NATS URL nothing is deregistered (no default server is tried)', () => {
    const c = parseUninstall([]);
    expect(c).toMatchObject({ stateDir: '/var/lib/natfleet', skipDeregister: false, logLevel: 'info' });
    expect(c.nats).toBeUndefined();
    expect(c.nodeName).not.toBe('');
  });

  it("the daemon's NATS and node settings (same env file), flags over env", () => {
    setEnv({ NATFLEET_NODE_NAME: 'ip-10-0-0-5.ec2.internal', NATFLEET_NATS_URL: 'nats://a:4222,nats://b:4222', NATFLEET_NATS_USER: 'enforcer-x', NATFLEET_NATS_PASSWORD: 'pw' });
    expect(parseUninstall([])).toMatchObject({ nodeName: 'ip-10-0-0-5.ec2.internal', nats: { servers: ['nats://a:4222', 'nats://b:4222'], user: 'enforcer-x', password: 'pw' } });
    expect(parseUninstall(['--node-name', 'other', '--nats-url', 'nats://c:4222'])).toMatchObject({ nodeName: 'other', nats: { servers: ['nats://c:4222'] } });
  });

  it('--skip-deregister leaves the node registered even with NATS settings', () => {
    setEnv({ NATFLEET_NATS_URL: 'nats://a:4222' });
    const c = parseUninstall(['--skip-deregister']);
    expect(c.skipDeregister).toBe(true);
    expect(c.nats).toBeUndefined();
  });

  it('bad NATS settings fail naming the setting, as for run', () => {
    expect(() => parseUninstall(['--nats-url', 'nats://a:4222', '--nats-user', 'enf'])).toThrow(/--nats-password/);
    expect(() => parseUninstall(['--nats-url', 'http://x y'])).toThrow(/--nats-url/);
    expect(() => parseUninstall(['--node-name', 'a..b'])).toThrow(/--node-name/);
    expect(() => parseUninstall(['--nats-cert-file', '/x.pem', '--nats-key-file', '/y.pem'])).toThrow(/--nats-ca-file/);
  });
});

describe('staged-rollout settings', () => {
  it('defaults: admissions re-read every 10s, no health checks, policy commands not run, conntrack thresholds off, 30s watch', () => {
    const c = parse(['--trusted-keys-file', keysFile]);
    expect(c).toMatchObject({ admissionPollMs: 10_000, healthChecks: [], allowPolicyHealthCommands: false, healthWatchMs: 30_000 });
    expect(c.conntrackInsertFailedDelta).toBeUndefined();
    expect(c.conntrackDropDelta).toBeUndefined();
  });

  it('from env and flags; --allow-policy-health-commands is a flag only (an env variable cannot turn it on)', () => {
    setEnv({
      NATFLEET_HEALTH_CHECKS: '[{"name":"gw","command":["ping","-c1","10.0.0.1"],"timeout":"3s"}]',
      NATFLEET_CONNTRACK_DROP_DELTA: '7',
      NATFLEET_ADMISSION_POLL: '2s',
      NATFLEET_ALLOW_POLICY_HEALTH_COMMANDS: 'true',
    });
    const c = parse(['--trusted-keys-file', keysFile, '--conntrack-insert-failed-delta', '0', '--health-watch', '5s']);
    expect(c).toMatchObject({
      healthChecks: [{ name: 'gw', command: ['ping', '-c1', '10.0.0.1'], timeoutMs: 3_000 }],
      conntrackDropDelta: 7,
      conntrackInsertFailedDelta: 0,
      admissionPollMs: 2_000,
      healthWatchMs: 5_000,
      allowPolicyHealthCommands: false,
    });
    expect(parse(['--trusted-keys-file', keysFile, '--allow-policy-health-commands']).allowPolicyHealthCommands).toBe(true);
  });

  it('bad values fail naming the setting', () => {
    expect(() => parse(['--trusted-keys-file', keysFile, '--health-checks', '[{"name":"x"}]'])).toThrow(/--health-checks.*\[0\]\.command/);
    expect(() => parse(['--trusted-keys-file', keysFile, '--conntrack-drop-delta', '-1'])).toThrow(/--conntrack-drop-delta.*non-negative integer/);
  });

  it('the help says what running policy commands means', () => {
    const help = addRunOptions(new Command('run')).helpInformation();
    expect(help).toMatch(/--allow-policy-health-commands/);
    expect(help).toMatch(/root/);
  });
});

