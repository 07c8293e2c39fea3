/**
 * One-pool change on a large table (issue 16): the enforcer core (the daemon's Enforcer,
 * libnftables in process, real kernel in a fresh netns) holding a bundle of 1k / 10k / 100k
 * pools is handed the next bundle, which adds or removes one pool; the figure is the time
 * from the bundle message to the `applied` report (verify, delta render, one transaction,
 * marker read-back). Beside it, in the same run: the whole-table swap of the same bundle
 * (what every apply cost before issue 16), and the compiler's side of the same change
 * (compile with its DecodeCache, sign, encode), so a write → enforced estimate is
 * compile + enforce (transport, ~1 ms in write-to-enforced, left out).
 */
import { performance } from 'node:perf_hooks';
import { encodeBundle, generateSigningKeyPair, loadSigningKey, loadTrustedKeys, type Bundle, type SigningKey } from '@natfleet/bundle';
import { compileBundle, DecodeCache, type SnapshotEntry } from '@natfleet/compiler-core';
import type { Enforcer, EnforcerMetrics, EnforcerStatus } from '@natfleet/enforcer';
import { createNft, renderTransaction, tableComment, type Nft } from '@natfleet/nft';
import { makeTempDir, Netns, removeDir } from '@natfleet/testkit';
import { enforcerCore } from './enforcer-core.js';
import { median, percentile, printTable } from './stats.js';
import { syntheticPools } from './synthetic.js';

export interface LargeTableChangeRow {
  pools: number;
  changes: number;
  /** Bundle message → applied report, one-pool change (delta). */
  p50Ms: number;
  p99Ms: number;
  /** Applies that went in as deltas (of `changes`). */
  deltas: number;
  /** Baseline, same run: whole-table swap of the same bundle (render + one transaction + marker read). */
  fullSwapP50Ms: number;
  /** p50 / fullSwapP50. */
  ratioToFullSwap: number;
  /** Compiler side of the same change: compile (DecodeCache) + sign + encode, median. */
  compileMs: number;
}

const NODE = 'bench-node'; // enforcerCore's node
const PREFIX = '/calico/resources/v3/projectcalico.org';

/** The pool added (odd steps) and removed again (even steps): a /26 outside syntheticPools' range. */
const extraPool = (i: number): SnapshotEntry => {
  const name = `extra-${i}`;
  return { key: `${PREFIX}/ippools/${name}`, value: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr: `11.${i >> 2}.${(i & 3) * 64}.0/26`, natOutgoing: true } }) };
};

export async function benchLargeTableChange(sizes: readonly number[] = [1_000, 10_000, 100_000], changes = 20): Promise<LargeTableChangeRow[]> {
  const pair = generateSigningKeyPair();
  const key = loadSigningKey(pair.privateKeyPem);
  const trustedKeys = loadTrustedKeys([pair.publicKeyPem]);
  const rows: LargeTableChangeRow[] = [];
  for (const n of sizes) rows.push(await one(n, changes, key, trustedKeys));
  printTable('one-pool change on a large table (ms): bundle → applied with deltas (libnftables, real kernel) vs the whole-table swap of the same bundle, same run; compile = the compiler side of the change', rows as unknown as Record<string, number>[]);
  return rows;
}

async function one(n: number, changes: number, key: SigningKey, trustedKeys: ReturnType<typeof loadTrustedKeys>): Promise<LargeTableChangeRow> {
  const ns = await Netns.create('bench-ltc');
  const dir = makeTempDir('bench-ltc');
  let nft: Nft | undefined;
  let enforcer: Enforcer | undefined;
  try {
    nft = await createNft({ netns: ns.name, backend: 'libnftables', timeoutMs: 120_000 });
    const base = syntheticPools(n);
    const cache = new DecodeCache();
    let version = 1;
    const bundleAt = (entries: SnapshotEntry[]): Bundle => compileBundle({ entries }, version++, { cluster: 'bench', key, cache }).bundle;
    const statuses: EnforcerStatus[] = [];
    let onStatus: (s: EnforcerStatus) => void = () => undefined;
    let metrics: EnforcerMetrics;
    ({ enforcer, metrics } = enforcerCore({
      nft,
      trustedKeys,
      dir,
      driftIntervalMs: 250,
      retryIntervalMs: 5_000,
      onChange: (s) => {
        statuses.push(s);
        onStatus(s);
      },
    }));
    await enforcer.start();
    const appliedAt = (v: number): Promise<number> =>
      new Promise((resolve) => {
        onStatus = (s) => {
          if (s.appliedVersion === v && s.state === 'applied') resolve(performance.now());
        };
      });
    let seq = 1;
    const offer = async (b: Bundle): Promise<number> => {
      const data = encodeBundle(b);
      const done = appliedAt(b.version);
      const t0 = performance.now();
      enforcer!.offer({ seq: seq++, version: b.version, data });
      return (await done) - t0;
    };
    await offer(bundleAt(base));
    await enforcer.whenIdle();
    const deltasBefore = await counter(metrics, 'delta');
    const lat: number[] = [];
    const compileMs: number[] = [];
    const bundles: Bundle[] = [];
    for (let i = 0; i < changes; i++) {
      const entries = i % 2 === 0 ? [...base, extraPool(i)] : base;
      const tc = performance.now();
      const b = bundleAt(entries);
      encodeBundle(b);
      compileMs.push(performance.now() - tc);
      bundles.push(b);
      lat.push(await offer(b));
      await enforcer.whenIdle(); // the save and the generation read after the report
    }
    const deltas = (await counter(metrics, 'delta')) - deltasBefore;
    await enforcer.stop();
    enforcer = undefined;
    // Baseline: the whole-table swap of the same bundles, as every apply was before.
    const full: number[] = [];
    for (const b of bundles.slice(0, n >= 100_000 ? 4 : 8)) {
      const t0 = performance.now();
      await nft.applyTransaction(renderTransaction(b, NODE));
      if ((await nft.readMarker()) !== tableComment(b)) throw new Error('whole-table swap: marker does not read back');
      full.push(performance.now() - t0);
    }
    const p50 = median(lat);
    return { pools: n, changes, p50Ms: p50, p99Ms: percentile(lat, 99), deltas, fullSwapP50Ms: median(full), ratioToFullSwap: p50 / median(full), compileMs: median(compileMs) };
  } finally {
    await enforcer?.stop();
    await nft?.close();
    await ns.destroy();
    removeDir(dir);
  }
}

async function counter(metrics: EnforcerMetrics, mode: string): Promise<number> {
  const m = await metrics.appliesByMode.get();
  return m.values.find((v) => v.labels.mode === mode)?.value ?? 0;
}
