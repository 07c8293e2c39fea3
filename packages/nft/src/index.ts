/**
 * @natfleet/nft — natfleet's nftables dataplane: render a bundle into the `inet natfleet`
 * table for one node, apply it as one atomic `nft -f -` transaction, read it back
 * without listing set elements (or with them, when the ruleset generation moved), and
 * compare. One `Nft` interface with two real implementations, libnftables in a worker
 * thread (LibNft) and the nft binary (RealNft; perl for the generation), either inside a
 * netns, chosen at start by createNft, and an in-memory fake.
 */
// Re-exported so enforcer code needs one import; the merge rule lives in @natfleet/bundle,
// shared with the compiler's explain.
export { effectiveSettings } from '@natfleet/bundle';
export { expectedTableContents, expectedTableState, renderDelta, renderRepair, renderTable, renderTransaction, tableComment } from './nft-render.js';
export { markerKey } from './marker.js';
export { compareTableState, parseTableListing, parseTerseListing } from './table-state.js';
export { compareElements, elementRange, formatAddress, parseAddress } from './set-elements.js';
export type { AddressRange, ElementDifference } from './set-elements.js';
export { GENERATION_PROGRAM, nextGeneration, parseGeneration } from './nft-generation.js';
export type { TableDifference, TableState } from './table-state.js';
export { TABLE_FAMILY, TABLE_NAME, TABLE_REF } from './nft.js';
export type { Nft, NftBackend } from './nft.js';
export { DEFAULT_NFT_TIMEOUT_MS, RealNft } from './real-nft.js';
export type { RealNftOptions } from './real-nft.js';
export { DEFAULT_LIBNFTABLES, LibNft } from './lib-nft.js';
export type { LibNftOptions } from './lib-nft.js';
export { createNft } from './create-nft.js';
export type { CreateNftOptions, NftBackendChoice } from './create-nft.js';
export { FakeNft } from './fake-nft.js';
export {
  NftError,
  NftSyntaxError,
  NftKernelError,
  NftNotFoundError,
  NftTimeoutError,
  NftUnavailableError,
  NftCommandError,
  NftRenderError,
  isNftError,
  isNftSyntaxError,
  isNftKernelError,
  isNftNotFoundError,
  isNftTimeoutError,
  isNftUnavailableError,
  isNftRenderError,
  nftErrorFromFailure,
} from './errors.js';
export type { NftErrorCode, NftOperation, NftUnavailableReason } from './errors.js';
