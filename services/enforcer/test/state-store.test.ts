// The state dir: atomic save, load, idempotent remove.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleStore, isEnforcerError } from '../src/index.js';
import { tempDir, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

describe('BundleStore', () => {
  it('load is undefined before the first save, also when the dir does not exist', async () => {
    expect(await new BundleStore(join(tempDir(), 'missing', 'deeper')).load()).toBeUndefined();
  });

  it('saves atomically (no temp file left) and loads the same bytes; creates the dir', async () => {
    const dir = join(tempDir(), 'state');
    const store = new BundleStore(dir);
    await store.save(new TextEncoder().encode('{"v":1}'));
    await store.save(new TextEncoder().encode('{"v":2}'));
    expect(new TextDecoder().decode(await store.load())).toBe('{"v":2}');
    expect(readdirSync(dir)).toEqual(['bundle.json']);
  });

  it('a failed save leaves the previous file and no temp file', async () => {
    const dir = tempDir();
    const store = new BundleStore(dir);
    await store.save(new TextEncoder().encode('old'));
    // A directory where the temp file's rename target is: rename fails.
    const blocked = new BundleStore(join(dir, 'bundle.json', 'x'));
    const err = await blocked.save(new TextEncoder().encode('new')).catch((e: unknown) => e);
    expect(isEnforcerError(err, 'STATE_WRITE_FAILED')).toBe(true);
    expect(new TextDecoder().decode(await store.load())).toBe('old');
    expect(readdirSync(dir)).toEqual(['bundle.json']);
  });

  it('remove deletes the bundle, crash leftovers and the then-empty dir; idempotent', async () => {
    const dir = join(tempDir(), 'state');
    const store = new BundleStore(dir);
    await store.save(new TextEncoder().encode('x'));
    writeFileSync(join(dir, '.bundle.json.tmp-deadbeef'), 'partial');
    expect((await store.remove()).sort()).toEqual([join(dir, '.bundle.json.tmp-deadbeef'), join(dir, 'bundle.json')]);
    expect(existsSync(dir)).toBe(false);
    expect(await store.remove()).toEqual([]);
  });

  it('remove keeps files it does not own, and their dir', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'someone-elses'), 'keep');
    const store = new BundleStore(dir);
    await store.save(new TextEncoder().encode('x'));
    await store.remove();
    expect(readdirSync(dir)).toEqual(['someone-elses']);
  });

  it('saves again after the state dir was removed under it', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = join(mkdtempSync(join(tmpdir(), 'nf-store-')), 'state');
    const store = new BundleStore(dir);
    await store.save(new TextEncoder().encode('one'));
    rmSync(dir, { recursive: true, force: true });
    await store.save(new TextEncoder().encode('two'));
    expect(new TextDecoder().decode(await store.load())).toBe('two');
  });
});
