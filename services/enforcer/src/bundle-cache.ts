/**
 * Verified bundles this node holds by version (staged rollouts): what is applied, the
 * admission's candidate and stable, and the newest seen, so a rollback or an admission
 * needs no fetch in the common case. Holds only bundles that verified; never touches nft.
 */
import type { Bundle } from '@natfleet/bundle';

/** A verified bundle and the bytes saved for it (its canonical JSON). */
export interface Held {
  bundle: Bundle;
  bytes: Uint8Array;
}

export class BundleCache {
  private readonly byVersion = new Map<number, Held>();

  /** Keeps `h` (replacing another bundle of the same version: the newest arrival wins). */
  put(h: Held): void {
    this.byVersion.set(h.bundle.version, h);
  }

  /** The held bundle of `version` with `digest`; undefined when not held (or held with another digest). */
  find(version: number, digest: string): Held | undefined {
    const h = this.byVersion.get(version);
    return h && h.bundle.digest === digest ? h : undefined;
  }

  /** True when a bundle with this digest is held. */
  hasDigest(digest: string): boolean {
    for (const h of this.byVersion.values()) if (h.bundle.digest === digest) return true;
    return false;
  }

  /** Drops every bundle whose digest is not in `keep` (empty strings ignored). */
  prune(keep: readonly (string | undefined)[]): void {
    const wanted = new Set(keep.filter((d): d is string => !!d));
    for (const [v, h] of this.byVersion) if (!wanted.has(h.bundle.digest)) this.byVersion.delete(v);
  }

  /** Versions held, ascending (for /status). */
  versions(): number[] {
    return [...this.byVersion.keys()].sort((a, b) => a - b);
  }
}
