/**
 * The nft dataplane contract: one interface with three implementations in this package,
 * LibNft (libnftables in a worker thread, reads by netlink dumps), RealNft (shells out to
 * `nft`, the fallback) and FakeNft (in memory), in the manner of kubernetes-sigs/knftables. Owns the name of natfleet's one table; nothing in this
 * package may ever name another table.
 */
import type { TableState } from './table-state.js';

/** nft family of natfleet's table. */
export const TABLE_FAMILY = 'inet';
/** Name of natfleet's table: the only table the enforcer creates, reads or deletes. */
export const TABLE_NAME = 'natfleet';
/** `inet natfleet`, as it appears in nft commands. */
export const TABLE_REF = `${TABLE_FAMILY} ${TABLE_NAME}`;

/** Name of the one-element set whose element comment is the version marker (marker.ts). */
export const MARKER_SET = 'marker';

/** Which implementation answers: libnftables in a worker thread, the nft binary, or the in-memory fake. */
export type NftBackend = 'libnftables' | 'cli' | 'fake';

/** natfleet's view of nftables. Every method only ever concerns the `inet natfleet` table. */
export interface Nft {
  /** Which implementation this is (for logs, metrics and /status). */
  readonly backend: NftBackend;
  /**
   * Runs `text` as ONE nft transaction (`nft -f -`): it applies entirely or not at all.
   * Pass the output of `renderTransaction` or `renderDelta`. Rejects with an NftError subclass; on
   * NftTimeoutError whether it committed is unknown (read back).
   */
  applyTransaction(text: string): Promise<void>;
  /**
   * Reads only the version marker: the comment of the one element of set `marker`
   * (`natfleet v<version> <digest>`), written in the same transaction as everything else.
   * Costs the same at any table size (`list set inet natfleet marker` does not fetch other
   * sets' elements: ~0.3 ms in process at 100k elements). Resolves undefined when the table
   * or the marker set does not exist, or the set holds no commented element.
   */
  readMarker(): Promise<string | undefined>;
  /**
   * Reads the table back without set elements, its `comment` being the version marker
   * (LibNft: netlink dumps fetching only the marker's elements, ~1–3 ms at 100k; RealNft:
   * `nft -t list table`, which still fetches every element, plus the marker listing).
   * Resolves undefined when the table does not exist (that is not an error).
   */
  readTable(): Promise<TableState | undefined>;
  /**
   * Reads the whole table, set elements included (LibNft: netlink dumps decoded as nft
   * lists them, 0.25–0.4 s at 100k elements; RealNft: `nft list table`, ~1.6–1.9 s), so
   * call it only when `generation()` moved. Resolves undefined when the table does not exist.
   */
  readTableContents(): Promise<TableState | undefined>;
  /**
   * The kernel's nftables ruleset generation id in this network namespace (nft-generation.ts;
   * NFT_MSG_GETGEN on the worker's netlink socket with LibNft, a perl one-shot with RealNft):
   * bumped by one on every committed transaction, by anyone, to any table. Costs the same
   * at any table size. Rejects with an NftError when it cannot be read.
   */
  generation(): Promise<number>;
  /** Deletes the table; resolves true when it existed, false when there was nothing to delete. */
  deleteTable(): Promise<boolean>;
  /** Validates `text` as a transaction without committing it (`nft -c -f -`). */
  check(text: string): Promise<void>;
  /** Releases what the implementation holds (libnftables: its worker thread). Idempotent; later calls reject. */
  close(): Promise<void>;
}
