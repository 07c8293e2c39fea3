/**
 * `npm run bench`: runs every benchmark, prints tables, writes JSON to bench/results/.
 * Needs root (network namespaces, nft). Select with `--only compile-apply`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCompileApply } from './compile-apply.js';
import { benchDriftCheck } from './drift-check.js';
import { benchWriteToEnforced } from './write-to-enforced.js';
import { benchFanout } from './fanout.js';
import { benchLargeTableChange } from './large-table-change.js';
import { benchDrift } from './drift-repair.js';

const BENCHES: Record<string, () => Promise<unknown>> = {
  'write-to-enforced': () => benchWriteToEnforced(),
  fanout: () => benchFanout(),
  'compile-apply': () => benchCompileApply(),
  'drift-check': () => benchDriftCheck(),
  'large-table-change': () => benchLargeTableChange(),
  drift: () => benchDrift(),
};

async function main(): Promise<void> {
  const onlyIdx = process.argv.indexOf('--only');
  const only = onlyIdx >= 0 ? process.argv[onlyIdx + 1] : undefined;
  const results: Record<string, unknown> = { startedAt: new Date().toISOString(), node: process.version };
  for (const [name, run] of Object.entries(BENCHES)) {
    if (only && name !== only) continue;
    results[name] = await run();
  }
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${results.startedAt as string}.json`.replace(/:/g, '-'));
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(`\nresults written to ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
