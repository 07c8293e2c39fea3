// Shared fixtures for the enforcer unit tests: signed bundles, a FakeNft-backed core
// with a temp state dir, and metric readers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUNDLE_API_VERSION,
  encodeBundle,
  generateSigningKeyPair,
  loadSigningKey,
  loadTrustedKeys,
  sealAdmission,
  encodeAdmission,
  sealBundle,
  type Admission,
  type AdmissionBody,
  type Bundle,
  type BundleBody,
  type SigningKey,
} from '@natfleet/bundle';
import { FakeNft, type Nft } from '@natfleet/nft';
import { createLogger } from '@natfleet/service-kit';
import { BundleStore, createMetrics, Enforcer, type EnforcerMetrics, type EnforcerStatus, type HealthMonitor, type IncomingBundle } from '../src/index.js';

export const NODE = 'node-1';
export const CLUSTER = 'test';

const pair = generateSigningKeyPair();
export const signingKey: SigningKey = loadSigningKey(pair.privateKeyPem);
export const trustedKeys = loadTrustedKeys([pair.publicKeyPem]);
const otherPair = generateSigningKeyPair();
export const untrustedKey: SigningKey = loadSigningKey(otherPair.privateKeyPem);

export function body(version: number, over: Partial<BundleBody> = {}): BundleBody {
  return {
    apiVersion: BUNDLE_API_VERSION,
    cluster: CLUSTER,
    version,
    sourceRevision: version,
    fleet: {
      v4: { masquerade: ['10.65.0.0/24'], noNat: ['10.65.0.0/24'] },
      v6: { masquerade: ['fd00:65::/64'], noNat: ['fd00:65::/64'] },
      settings: { fullyRandom: false, exclusions: 'IPPoolsOnly' },
      hostAddresses: { v4: [], v6: [] },
    },
    nodes: {},
    warnings: [],
    ...over,
  };
}

export const sealed = (version: number, over: Partial<BundleBody> = {}, key = signingKey): Bundle => sealBundle(body(version, over), key);

/** A message for offer(): seq defaults to the version. */
export function message(bundleOrBytes: Bundle | Uint8Array, seq?: number, headerVersion?: number): IncomingBundle {
  const data = bundleOrBytes instanceof Uint8Array ? bundleOrBytes : encodeBundle(bundleOrBytes);
  const version = headerVersion ?? (bundleOrBytes instanceof Uint8Array ? 0 : bundleOrBytes.version);
  return { seq: seq ?? version, version, data };
}

export interface Harness {
  enforcer: Enforcer;
  nft: FakeNft;
  store: BundleStore;
  metrics: EnforcerMetrics;
  changes: EnforcerStatus[];
}

const made: string[] = [];

/** A fresh temp dir, removed by removeTempDirs() (call it in afterAll). */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'natfleet-enforcer-unit-'));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Admission fields a test sets; the rest default to a staged policy `p` admitting nobody. */
export type AdmissionInput = Partial<Omit<AdmissionBody, 'apiVersion' | 'kind' | 'issuedAt'>> & { stateRevision: number; version: number; digest: string };

/** A sealed admission (policy `p`, no waves, no stable unless given). */
export function admission(a: AdmissionInput, key = signingKey): Admission {
  return sealAdmission({ cluster: CLUSTER, policy: 'p', everyone: false, waves: [], stable: null, phase: 'progressing', health: null, ...a }, key);
}

/** Wire bytes of admission(a). */
export const admissionBytes = (a: AdmissionInput, key = signingKey): Uint8Array => encodeAdmission(admission(a, key));

/** A wave naming `nodes`. */
export const wave = (name: string, nodes: string[], rest = false): { name: string; nodes: string[]; rest: boolean } => ({ name, nodes, rest });

export function harness(
  o: {
    nft?: Nft;
    dir?: string;
    driftIntervalMs?: number;
    retryIntervalMs?: number;
    maxBundleBytes?: number;
    fetchBundle?: (ref: { version: number; digest: string }) => Promise<Uint8Array | undefined>;
    health?: HealthMonitor;
  } = {},
): Harness {
  const nft = (o.nft ?? new FakeNft()) as FakeNft;
  const store = new BundleStore(o.dir ?? tempDir());
  const metrics = createMetrics();
  const changes: EnforcerStatus[] = [];
  const enforcer = new Enforcer({
    nodeName: NODE,
    cluster: CLUSTER,
    nft,
    store,
    trustedKeys,
    maxBundleBytes: o.maxBundleBytes ?? 1024 * 1024,
    driftIntervalMs: o.driftIntervalMs ?? 60_000,
    retryIntervalMs: o.retryIntervalMs ?? 60_000,
    logger: createLogger('enforcer-test', process.env.LOG_LEVEL ?? 'silent'),
    metrics,
    onChange: (s) => changes.push(s),
    ...(o.fetchBundle ? { fetchBundle: o.fetchBundle } : {}),
    ...(o.health ? { health: o.health } : {}),
  });
  return { enforcer, nft, store, metrics, changes };
}

/** Value of a counter/gauge series with `labels` (0 when absent). */
export async function metricValue(m: EnforcerMetrics, name: keyof EnforcerMetrics, labels: Record<string, string> = {}): Promise<number> {
  const metric = m[name] as unknown as { get(): Promise<{ values: { value: number; labels: Record<string, unknown>; metricName?: string }[] }> };
  const { values } = await metric.get();
  const hit = values.find((v) => !v.metricName?.endsWith('_bucket') && Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return hit?.value ?? 0;
}

/** Polls until `cond` holds (unit-test scale: 5 s). */
export async function eventually(cond: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
