/**
 * The enforcer's state dir: the last good bundle, saved so a node that boots while the
 * control plane is down still enforces it (fail static). The file holds the verified
 * bundle as canonical JSON; it is verified again on load, so a tampered file is refused,
 * never applied.
 *
 * Writes are atomic: a temp file in the same directory is written and fsynced, renamed
 * over the old file, and the directory is fsynced, so a crash or power loss leaves either
 * the old or the new bundle, never a torn one. Owns only the files it names.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StateFileError } from './errors.js';

/** Name of the saved bundle inside the state dir. */
export const BUNDLE_FILE = 'bundle.json';
/** Name of the saved newest verified admission (staged rollouts) inside the state dir. */
export const ADMISSION_FILE = 'admission.json';

/**
 * One saved file in one directory: the last-good bundle (BUNDLE_FILE, the default) or the
 * newest verified admission (ADMISSION_FILE), same atomic write either way.
 */
export class BundleStore {
  readonly path: string;
  private readonly tmpPrefix: string;
  /** The dir is known to exist: saves skip the mkdir (one syscall per bundle on every node). */
  private dirReady = false;

  constructor(
    readonly dir: string,
    readonly file: string = BUNDLE_FILE,
  ) {
    this.path = join(dir, file);
    this.tmpPrefix = `.${file}.tmp-`;
  }

  /**
   * The saved bytes, or undefined when no bundle was ever saved (file or dir absent).
   * Throws StateFileError STATE_READ_FAILED when the file exists but cannot be read.
   */
  async load(): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateFileError('STATE_READ_FAILED', this.path, { cause: err });
    }
  }

  /**
   * Replaces the saved bundle with `bytes`: write temp + fsync + rename + fsync dir.
   * Creates the dir (0700) when missing. Throws StateFileError STATE_WRITE_FAILED; the
   * previous file is then unchanged and no temp file is left behind.
   */
  async save(bytes: Uint8Array): Promise<void> {
    const tmp = join(this.dir, `${this.tmpPrefix}${randomBytes(4).toString('hex')}`);
    try {
      if (!this.dirReady) {
        await mkdir(this.dir, { recursive: true, mode: 0o700 });
        this.dirReady = true;
      }
      let fh;
      try {
        fh = await open(tmp, 'wx', 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await mkdir(this.dir, { recursive: true, mode: 0o700 }); // removed under us since the last save
        fh = await open(tmp, 'wx', 0o600);
      }
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
      await syncDir(this.dir);
    } catch (err) {
      this.dirReady = false;
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new StateFileError('STATE_WRITE_FAILED', this.path, { cause: err });
    }
  }

  /**
   * Removes the saved file and any temp files left by a crash, then the dir itself when
   * that leaves it empty. Returns the paths removed (empty when there was nothing).
   */
  async remove(): Promise<string[]> {
    this.dirReady = false;
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StateFileError('STATE_WRITE_FAILED', this.dir, { cause: err });
    }
    const ours = names.filter((n) => n === this.file || n.startsWith(this.tmpPrefix)).map((n) => join(this.dir, n));
    try {
      for (const p of ours) await rm(p, { force: true });
      if (names.length === ours.length) await rmdir(this.dir).catch(() => undefined);
      await syncDir(this.dir).catch(() => undefined);
    } catch (err) {
      throw new StateFileError('STATE_WRITE_FAILED', this.dir, { cause: err });
    }
    return ours;
  }
}

/** fsync a directory so a rename in it is durable. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
