/**
 * What a drift check costs at 10 / 10k / 100k pools, real nft in a fresh netns. The idle
 * check now reads the ruleset generation (one netlink request through perl); before, it was
 * the terse listing (`nft -t list table`), which nft 1.0.6 pays for by fetching every set
 * element. When the generation moved, the enforcer lists the table with its elements and
 * compares (verify); a difference costs a re-apply plus its read-back (repair). Re-applying
 * on every move instead of verifying was the alternative: its cost is the last column.
 */
import { generateSigningKeyPair, loadSigningKey } from '@natfleet/bundle';
import { compileBundle } from '@natfleet/compiler-core';
import { compareTableState, expectedTableContents, expectedTableState, RealNft, renderTransaction } from '@natfleet/nft';
import { Netns } from '@natfleet/testkit';
import { median, printTable, timeRuns } from './stats.js';
import { syntheticPools } from './synthetic.js';

export interface DriftCheckRow {
  pools: number;
  elements: number;
  /** New idle check: Nft.generation(). */
  generationMs: number;
  /** Old idle check: Nft.readTable() (terse listing). */
  terseReadMs: number;
  /** Verify, part 1: Nft.readTableContents() (full listing). */
  fullReadMs: number;
  /** Verify, part 2: compareTableState with the expected elements, in process. */
  compareMs: number;
  /** Repair (or the re-apply-always alternative): applyTransaction + terse read-back. */
  reapplyMs: number;
}

export async function benchDriftCheck(sizes: readonly number[] = [10, 10_000, 100_000]): Promise<DriftCheckRow[]> {
  const key = loadSigningKey(generateSigningKeyPair().privateKeyPem);
  const rows: DriftCheckRow[] = [];
  const ns = await Netns.create('bench-drift');
  try {
    const nft = new RealNft({ netns: ns.name, timeoutMs: 60_000 });
    for (const n of sizes) {
      const bundle = compileBundle({ entries: syntheticPools(n) }, 1, { cluster: 'bench', key }).bundle;
      const text = renderTransaction(bundle, 'node-0');
      const expected = expectedTableState(bundle, 'node-0');
      const contents = expectedTableContents(bundle, 'node-0');
      await nft.applyTransaction(text);
      const runs = n >= 100_000 ? 3 : 7;
      const generationMs = median(await timeRuns(runs * 3, () => nft.generation()));
      const terseReadMs = median(await timeRuns(runs, () => nft.readTable()));
      const live = await nft.readTableContents();
      const fullReadMs = median(await timeRuns(runs, () => nft.readTableContents()));
      const compareMs = median(
        await timeRuns(runs, () => {
          const diff = compareTableState(contents, live);
          if (diff.length) throw new Error(`full read-back differs: ${JSON.stringify(diff.map((d) => d.message))}`);
        }),
      );
      const reapplyMs = median(
        await timeRuns(runs, async () => {
          await nft.applyTransaction(text);
          if (compareTableState(expected, await nft.readTable()).length) throw new Error('read-back differs');
        }),
      );
      const elements = Object.values(contents.elements).reduce((sum, e) => sum + e.length, 0);
      rows.push({ pools: n, elements, generationMs, terseReadMs, fullReadMs, compareMs, reapplyMs });
    }
  } finally {
    await ns.destroy();
  }
  printTable('drift check (median ms): idle check now = generation, before = terse read; verify = full read + compare; repair = re-apply + read-back', rows as unknown as Record<string, number>[]);
  return rows;
}
