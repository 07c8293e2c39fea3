/** Temporary directories for server data; removed by the owner's destroy(). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A new empty directory under the OS temp dir, named `natfleet-<prefix>-XXXXXX`. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `natfleet-${prefix}-`));
}

/** Removes `dir` recursively; a missing directory is not an error. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
