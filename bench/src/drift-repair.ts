/**
 * Drift repair at 1k / 10k / 100k pools (issue 16): the enforcer core (the daemon's
 * Enforcer, libnftables in process, drift checks every 250 ms as deployed) enforcing a
 * bundle in a fresh netns; someone else then changes its table with the nft binary — adds
 * an element, flushes a set, deletes the table — and the figure is the time from that
 * commit to the enforcer's repair (its drift-repair count moving, the table equal again).
 * Also the CPU the idle enforcer uses at that size (this process's CPU time over 10 s,
 * worker thread included, while nothing changes) and the same repair's cost before issue 16
 * (list the table with nft, then swap it whole) as the baseline measured in the same run.
 */
import { performance } from 'node:perf_hooks';
import { encodeBundle, generateSigningKeyPair, loadSigningKey, loadTrustedKeys } from '@natfleet/bundle';
import { compileBundle } from '@natfleet/compiler-core';
import type { Enforcer } from '@natfleet/enforcer';
import { createNft, RealNft, renderTransaction, tableComment, type Nft } from '@natfleet/nft';
import { makeTempDir, Netns, removeDir, waitUntil } from '@natfleet/testkit';
import { enforcerCore } from './enforcer-core.js';
import { median, printTable } from './stats.js';
import { syntheticPools } from './synthetic.js';

export interface DriftRow {
  pools: number;
  /** Worst of the three foreign changes: commit → repaired. */
  repairMs: number;
  addElementMs: number;
  flushSetMs: number;
  deleteTableMs: number;
  /** Idle enforcer CPU, % of one core, over 10 s. */
  idleCpuPct: number;
  /** Baseline, same run: `nft list table` + whole-table swap with the nft binary (the repair before issue 16, detection not included). */
  cliListAndSwapMs: number;
}

const NODE = 'bench-node'; // enforcerCore's node

export async function benchDrift(sizes: readonly number[] = [1_000, 10_000, 100_000], idleSeconds = 10): Promise<DriftRow[]> {
  const pair = generateSigningKeyPair();
  const key = loadSigningKey(pair.privateKeyPem);
  const trustedKeys = loadTrustedKeys([pair.publicKeyPem]);
  const rows: DriftRow[] = [];
  for (const n of sizes) {
    const ns = await Netns.create('bench-drift2');
    const dir = makeTempDir('bench-drift2');
    let nft: Nft | undefined;
    let enforcer: Enforcer | undefined;
    try {
      nft = await createNft({ netns: ns.name, backend: 'libnftables', timeoutMs: 120_000 });
      const bundle = compileBundle({ entries: syntheticPools(n) }, 1, { cluster: 'bench', key }).bundle;
      ({ enforcer } = enforcerCore({ nft, trustedKeys, dir, driftIntervalMs: 250, retryIntervalMs: 1_000 }));
      await enforcer.start();
      enforcer.offer({ seq: 1, version: 1, data: encodeBundle(bundle) });
      await waitUntil('applied', () => enforcer!.status().appliedVersion === 1, { timeoutMs: 120_000 });
      // Let the first drift check verify the fresh table, then measure idle CPU.
      await new Promise((r) => setTimeout(r, 1_500));
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, idleSeconds * 1_000));
      const cpu = process.cpuUsage(c0);
      const idleCpuPct = ((cpu.user + cpu.system) / 1_000 / (performance.now() - t0)) * 100;

      const masq = Object.keys((await nft.readTableContents())!.elements!).find((s) => s.startsWith('masq_v4_'))!;
      const repaired = async (change: string): Promise<number> => {
        const before = enforcer!.status().driftRepairs;
        await ns.nft(change);
        const t = performance.now();
        await waitUntil(`repaired after: ${change}`, () => enforcer!.status().driftRepairs > before, { timeoutMs: 60_000, intervalMs: 2 });
        const ms = performance.now() - t;
        if ((await nft!.readMarker()) !== tableComment(bundle)) throw new Error('marker not restored');
        await enforcer!.whenIdle();
        await new Promise((r) => setTimeout(r, 600)); // the next check re-verifies the repaired table
        return ms;
      };
      const addElementMs = await repaired(`add element inet natfleet ${masq} { 12.0.0.0 }`);
      const flushSetMs = await repaired(`flush set inet natfleet ${masq}`);
      const deleteTableMs = await repaired('delete table inet natfleet');
      await enforcer.stop();
      enforcer = undefined;
      // Baseline: what a repair cost before (nft binary: full listing, then the whole-table swap).
      const cli = new RealNft({ netns: ns.name, timeoutMs: 120_000 });
      const text = renderTransaction(bundle, NODE);
      const base: number[] = [];
      for (let i = 0; i < (n >= 100_000 ? 2 : 4); i++) {
        const tb = performance.now();
        await cli.readTableContents();
        await cli.applyTransaction(text);
        base.push(performance.now() - tb);
      }
      rows.push({ pools: n, repairMs: Math.max(addElementMs, flushSetMs, deleteTableMs), addElementMs, flushSetMs, deleteTableMs, idleCpuPct, cliListAndSwapMs: median(base) });
    } finally {
      await enforcer?.stop();
      await nft?.close();
      await ns.destroy();
      removeDir(dir);
    }
  }
  printTable('drift repair (ms, commit by someone else → repaired; drift checks every 250 ms, libnftables) and idle CPU (% of a core); baseline = nft list + whole-table swap with the nft binary, same run', rows as unknown as Record<string, number>[]);
  return rows;
}
