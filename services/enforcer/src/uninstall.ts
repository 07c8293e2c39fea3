/**
 * `natfleet-enforcer uninstall`: deletes the `inet natfleet` table and the saved bundle,
 * nothing else (other tables and the NATS status are untouched). Idempotent: running it
 * again, or on a node that never ran the enforcer, succeeds and removes nothing. Stop the
 * enforcer service first, or its drift repair will put the table back.
 */
import { RealNft } from '@natfleet/nft';
import type { Logger } from '@natfleet/service-kit';
import type { UninstallConfig } from './config.js';
import { BundleStore } from './state-store.js';

export interface UninstallResult {
  /** True when the table existed and was deleted. */
  tableDeleted: boolean;
  /** State files removed (empty when there were none). */
  removedFiles: string[];
}

/** Rejects with NftError / StateFileError when nft or the file system refuse. */
export async function uninstall(config: UninstallConfig, logger: Logger): Promise<UninstallResult> {
  const tableDeleted = await new RealNft(config.netns !== undefined ? { netns: config.netns } : {}).deleteTable();
  const removedFiles = await new BundleStore(config.stateDir).remove();
  logger.info({ tableDeleted, removedFiles, netns: config.netns, stateDir: config.stateDir }, 'natfleet enforcer uninstalled');
  return { tableDeleted, removedFiles };
}
