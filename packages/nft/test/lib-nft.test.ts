// LibNft's own behaviour beyond the shared contract (nft-contract.test.ts): a call that
// hangs is abandoned with its worker, the event loop keeps running during a long apply,
// an unloadable library makes createNft fall back to the nft binary and say so once. Real
// nft in a throwaway netns. Also prints in-process vs CLI timings (figures, not assertions).
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { makeTempDir, Netns, removeDir } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNft,
  isNftError,
  isNftTimeoutError,
  LibNft,
  NftTimeoutError,
  NftUnavailableError,
  parseTableListing,
  RealNft,
  renderTransaction,
  tableComment,
  type Nft,
} from '../src/index.js';
import { digestFor, makeBundle, V4_POOLS, V6_POOLS, caught } from './fixtures.js';

const MISSING_LIBRARY = '/nonexistent/libnftables.so.1';


/** `count` distinct /32 pools: 10.100.0.0, 10.100.0.1, … */
const hostPools = (count: number) => Array.from({ length: count }, (_, i) => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`);

describe('LibNft in a throwaway netns', () => {
  let ns: Netns;
  let tmp: string;
  const opened: Nft[] = [];
  const track = <T extends Nft>(nft: T): T => {
    opened.push(nft);
    return nft;
  };

  beforeAll(async () => {
    ns = await Netns.create('libnft');
    tmp = makeTempDir('libnft-test');
  });
  afterAll(async () => {
    for (const nft of opened) await nft.close();
    await ns?.destroy();
    if (tmp) removeDir(tmp);
  });

  it('a call that does not answer in time rejects with NftTimeoutError; the next call gets a fresh worker', async () => {
    // nft blocks opening a FIFO it includes until someone writes to it: a hang that costs no CPU.
    const fifo = join(tmp, 'hang.nft');
    execFileSync('mkfifo', [fifo]);
    const nft = track(new LibNft({ netns: ns.name, timeoutMs: 5_000 }));
    expect(await nft.readMarker()).toBeUndefined(); // the first worker is up
    const err = await caught(nft.applyTransaction(`include "${fifo}"\n`));
    expect(err).toBeInstanceOf(NftTimeoutError);
    expect(isNftTimeoutError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'NFT_TIMEOUT', operation: 'apply', timeoutMs: 5_000, retryable: true });
    // The abandoned worker is still stuck in open(); only a fresh one can answer these.
    expect(await nft.readMarker()).toBeUndefined();
    const b = makeBundle({ version: 3, digest: digestFor(3), v4: V4_POOLS, v6: V6_POOLS });
    await nft.applyTransaction(renderTransaction(b, 'n'));
    expect(await nft.readMarker()).toBe(tableComment(b));
    // Release the stuck thread (an empty include: nothing to apply).
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    expect(await nft.readMarker()).toBe(tableComment(b));
  }, 60_000);

  it('close() during a call that hangs returns, and that call rejects with NFT_UNAVAILABLE', async () => {
    const fifo = join(tmp, 'close.nft');
    execFileSync('mkfifo', [fifo]);
    const nft = new LibNft({ netns: ns.name });
    const apply = caught(nft.applyTransaction(`include "${fifo}"\n`));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await nft.close();
    expect(isNftError(await apply, 'NFT_UNAVAILABLE')).toBe(true);
    // Release the thread if it got as far as opening the FIFO (ENXIO: it never did).
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
    }
  }, 60_000);

  it('does not block the event loop during a call: timers fire while the worker is busy', async () => {
    const nft = track(new LibNft({ netns: ns.name }));
    // Deterministic: the apply waits on a FIFO that only this event loop can release.
    const fifo = join(tmp, 'wait.nft');
    execFileSync('mkfifo', [fifo]);
    let settled = false;
    const apply = nft.applyTransaction(`include "${fifo}"\n`).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(settled).toBe(false);
    // Release it once nft has the FIFO open for reading (a loaded machine may start the
    // worker late: a non-blocking open for writing fails with ENXIO until a reader is there).
    await waitForReader(fifo);
    await apply;
    // And a real long apply: 100k elements, counting interval ticks while it runs.
    const b = makeBundle({ version: 4, digest: digestFor(4), v4: { masquerade: hostPools(100_000), noNat: ['10.64.0.0/10'] } });
    const text = renderTransaction(b, 'n');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = performance.now();
    await nft.applyTransaction(text);
    const ms = performance.now() - started;
    clearInterval(timer);
    console.log(`LibNft: 100k-element apply took ${ms.toFixed(0)} ms; the event loop ticked ${ticks} times meanwhile (every 5 ms)`);
    expect(ticks).toBeGreaterThan(0);
    expect(await nft.readMarker()).toBe(tableComment(b));
  }, 60_000);

  it('with the library missing, every call is NftUnavailableError (missing-library, names libnftables1)', async () => {
    const nft = track(new LibNft({ netns: ns.name, libraryPath: MISSING_LIBRARY }));
    for (const call of [() => nft.readMarker(), () => nft.generation(), () => nft.applyTransaction('add table ip x\n')]) {
      const err = await caught(call());
      expect(err).toBeInstanceOf(NftUnavailableError);
      expect(err).toMatchObject({ code: 'NFT_UNAVAILABLE', reason: 'missing-library', debianPackage: 'libnftables1' });
      expect((err as Error).message).toContain(MISSING_LIBRARY);
    }
  });

  it('createNft: auto uses libnftables when it loads; cli never tries it', async () => {
    const reasons: string[] = [];
    const auto = track(await createNft({ netns: ns.name }, (r) => reasons.push(r)));
    expect(auto.backend).toBe('libnftables');
    expect(auto).toBeInstanceOf(LibNft);
    const cli = track(await createNft({ netns: ns.name, backend: 'cli', libraryPath: MISSING_LIBRARY }, (r) => reasons.push(r)));
    expect(cli.backend).toBe('cli');
    expect(reasons).toEqual([]);
  });

  it('createNft: an unloadable library falls back to the nft binary, says why once, and the fallback works', async () => {
    const reasons: string[] = [];
    const nft = track(await createNft({ netns: ns.name, libraryPath: MISSING_LIBRARY }, (r) => reasons.push(r)));
    expect(nft.backend).toBe('cli');
    expect(nft).toBeInstanceOf(RealNft);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toContain('libnftables unavailable');
    expect(reasons[0]).toContain(MISSING_LIBRARY);
    const b = makeBundle({ version: 5, digest: digestFor(5), v4: V4_POOLS });
    await nft.applyTransaction(renderTransaction(b, 'n'));
    expect(await nft.readMarker()).toBe(tableComment(b));
    expect(reasons).toHaveLength(1);
  });

  it('createNft: backend libnftables does not fall back: it rejects with the reason', async () => {
    const reasons: string[] = [];
    const err = await caught(createNft({ netns: ns.name, backend: 'libnftables', libraryPath: MISSING_LIBRARY }, (r) => reasons.push(r)));
    expect(err).toMatchObject({ reason: 'missing-library' });
    expect(reasons).toEqual([]);
  });

  it('prints in-process vs CLI timings (apply, readMarker, generation)', async () => {
    const lib = track(new LibNft({ netns: ns.name }));
    const cli = track(new RealNft({ netns: ns.name }));
    const median = async (n: number, fn: () => Promise<unknown>): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await fn();
        times.push(performance.now() - t);
      }
      return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
    };
    const small = renderTransaction(makeBundle({ version: 6, digest: digestFor(6), v4: V4_POOLS, v6: V6_POOLS }), 'n');
    const large = renderTransaction(makeBundle({ version: 7, digest: digestFor(7), v4: { masquerade: hostPools(100_000), noNat: ['10.64.0.0/10'] } }), 'n');
    const rows: [string, number, number][] = [];
    for (const [name, n, op] of [
      ['apply (small table)', 20, (x: Nft) => x.applyTransaction(small)],
      ['readMarker (small table)', 50, (x: Nft) => x.readMarker()],
      ['generation', 50, (x: Nft) => x.generation()],
      ['apply (100k elements)', 3, (x: Nft) => x.applyTransaction(large)],
      ['readMarker (100k elements)', 50, (x: Nft) => x.readMarker()],
      ['readTable (100k elements)', 5, (x: Nft) => x.readTable()],
      ['readTableContents (100k elements)', 3, (x: Nft) => x.readTableContents()],
    ] as const) {
      rows.push([name, await median(n, () => op(lib)), await median(n, () => op(cli))]);
    }
    console.log(['median ms: operation | libnftables in process | nft CLI', ...rows.map(([name, a, b]) => `${name} | ${a.toFixed(2)} | ${b.toFixed(2)}`)].join('\n'));
    expect(await lib.readMarker()).toBe(await cli.readMarker());
    // The dump-based read is exactly what parsing nft's listing gives, at 100k elements too.
    const listing = (await ns.exec('nft', ['list', 'table', 'inet', 'natfleet'])).stdout;
    const contents = await lib.readTableContents();
    expect(contents?.elements?.masq_v4_32).toHaveLength(100_000);
    expect(contents).toEqual(parseTableListing(listing));
  }, 180_000);
});

/** Opens and closes `fifo` for writing as soon as a reader has it open (ENXIO until then). */
async function waitForReader(fifo: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO' || Date.now() > end) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
