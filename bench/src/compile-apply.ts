/**
 * Compile and apply at 1k / 10k / 100k pools. For each size: compile (snapshot → signed
 * bundle), bundle size raw and on the wire, verify+render on a node, and natfleet's fresh
 * apply as the enforcer makes it since issue 16 (one transaction through libnftables in
 * process, plus the version-marker read-back) beside a raw `nft -f <file>` of the very same
 * text and the in-process raw commit alone, all in a fresh network namespace, same run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, decodeBundle, encodeBundle, generateSigningKeyPair, loadSigningKey, loadTrustedKeys } from '@natfleet/bundle';
import { compileBundle } from '@natfleet/compiler-core';
import { createNft, renderTransaction, tableComment } from '@natfleet/nft';
import { Netns, requireBinary } from '@natfleet/testkit';
import { median, printTable, timeRuns } from './stats.js';
import { syntheticPools } from './synthetic.js';

export interface CompileApplyRow {
  pools: number;
  compileMs: number;
  bundleRawKiB: number;
  bundleWireKiB: number;
  verifyRenderMs: number;
  natfleetApplyMs: number;
  rawNftMs: number;
  applyVsRaw: number;
  /** The same text committed in process (libnftables), no read-back: the in-process primitive. */
  rawInProcessMs: number;
  applyVsRawInProcess: number;
}

export async function benchCompileApply(sizes: readonly number[] = [1_000, 10_000, 100_000]): Promise<CompileApplyRow[]> {
  const pair = generateSigningKeyPair();
  const key = loadSigningKey(pair.privateKeyPem);
  const trusted = loadTrustedKeys([pair.publicKeyPem]);
  const nftBin = requireBinary('nft');
  const ipBin = requireBinary('ip');
  const rows: CompileApplyRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'natfleet-bench-'));
  const ns = await Netns.create('bench');
  try {
    for (const n of sizes) {
      const entries = syntheticPools(n);
      const runs = n >= 100_000 ? 3 : 5;
      let bundle = compileBundle({ entries }, 1, { cluster: 'bench', key }).bundle;
      const compileMs = median(await timeRuns(runs, () => (bundle = compileBundle({ entries }, 1, { cluster: 'bench', key }).bundle)));
      const wire = encodeBundle(bundle);
      const verifyRenderMs = median(await timeRuns(runs, () => renderTransaction(decodeBundle(wire, { trustedKeys: trusted }), 'node-0')));
      const text = renderTransaction(bundle, 'node-0');
      const file = join(dir, `table-${n}.nft`);
      writeFileSync(file, text);
      const nft = await createNft({ netns: ns.name, backend: 'libnftables', timeoutMs: 120_000 });
      const marker = tableComment(bundle);
      let natfleetApplyMs: number;
      let rawInProcessMs: number;
      try {
        natfleetApplyMs = median(
          await timeRuns(runs, async () => {
            await nft.applyTransaction(renderTransaction(bundle, 'node-0'));
            if ((await nft.readMarker()) !== marker) throw new Error('the version marker does not read back');
          }),
        );
        rawInProcessMs = median(await timeRuns(runs, () => nft.applyTransaction(text)));
      } finally {
        await nft.close();
      }
      const rawNftMs = median(
        await timeRuns(runs, () => {
          const r = spawnSync(ipBin, ['netns', 'exec', ns.name, nftBin, '-f', file]);
          if (r.status !== 0) throw new Error(`raw nft failed: ${r.stderr}`);
        }),
      );
      rows.push({
        pools: n,
        compileMs,
        bundleRawKiB: Buffer.byteLength(canonicalJson(bundle)) / 1024,
        bundleWireKiB: wire.length / 1024,
        verifyRenderMs,
        natfleetApplyMs,
        rawNftMs,
        applyVsRaw: natfleetApplyMs / rawNftMs,
        rawInProcessMs,
        applyVsRawInProcess: natfleetApplyMs / rawInProcessMs,
      });
    }
  } finally {
    await ns.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  printTable('compile + apply (median ms; natfleet apply = render + one libnftables transaction in process + marker read-back; raw = nft -f <file> of the same text; raw in process = the same text through libnftables)', rows as unknown as Record<string, number>[]);
  return rows;
}
