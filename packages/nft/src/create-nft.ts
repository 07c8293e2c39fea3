/**
 * Choosing the Nft backend at start: libnftables in process (lib-nft.ts) when it loads and
 * answers, else the nft binary (real-nft.ts), saying why through `onFallback` so the
 * service logs it once. Owns only that choice; never logs itself.
 */
import { LibNft } from './lib-nft.js';
import type { Nft } from './nft.js';
import { RealNft, type RealNftOptions } from './real-nft.js';

/** `auto`: libnftables, else the CLI; `libnftables`: libnftables or fail; `cli`: the nft binary. */
export type NftBackendChoice = 'auto' | 'libnftables' | 'cli';

export interface CreateNftOptions extends RealNftOptions {
  /** Default `auto`. */
  backend?: NftBackendChoice;
  /** libnftables to load (soname or path). Default `libnftables.so.1`. */
  libraryPath?: string;
}

/**
 * The Nft for `options.backend`. For `auto` and `libnftables` it starts LibNft and runs one
 * cheap command through it (reading the version marker, which costs the same at any table
 * size; a missing table is a fine answer), so a library that cannot be loaded, a missing
 * namespace or a missing permission shows here, not at the first apply. `auto` then falls
 * back to RealNft and calls `onFallback` once with the reason; `libnftables` rejects with
 * that error instead. Throws NftUnavailableError (reason `netns`) for a malformed netns
 * name, whatever the backend.
 */
export async function createNft(options: CreateNftOptions = {}, onFallback?: (reason: string) => void): Promise<Nft> {
  const { backend = 'auto', libraryPath, ...cliOptions } = options;
  if (backend === 'cli') return new RealNft(cliOptions);
  const lib = new LibNft({
    ...(options.netns !== undefined && { netns: options.netns }),
    ...(libraryPath !== undefined && { libraryPath }),
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
  });
  try {
    await lib.readMarker();
    return lib;
  } catch (err) {
    await lib.close();
    if (backend === 'libnftables') throw err;
    onFallback?.(`libnftables unavailable, using the nft binary: ${err instanceof Error ? err.message : String(err)}`);
    return new RealNft(cliOptions);
  }
}
