/**
 * `natfleet-enforcer uninstall`: deletes the `inet natfleet` table and the saved bundle,
 * then deregisters the node — deletes its own key in natfleet-nodes (a KV delete marker,
 * which the enforcer's NATS user may write: it is a publish on its own key's subject), so
 * the compiler deletes its Node and the fleet stops expecting it (DESIGN.md §9). Nothing
 * else is touched: other tables, other nodes' keys.
 *
 * Deregistration needs the NATS settings (the daemon's); without a NATS URL, or with
 * --skip-deregister, the node stays registered and the result says so. The table goes
 * first: a node being decommissioned must stop NATing even when NATS is unreachable, and
 * the result then reports the deregistration as failed, for the CLI to exit non-zero.
 * Idempotent: running it again, or on a node that never ran the enforcer, succeeds.
 * Stop the enforcer service first, or its drift repair puts the table back and its next
 * heartbeat registers the node again.
 */
import { deleteNodeStatus, inboxPrefix, openNodesBucket } from '@natfleet/bus';
import { RealNft } from '@natfleet/nft';
import type { Logger } from '@natfleet/service-kit';
import { connect, type NatsConnection } from 'nats';
import type { NatsSettings, UninstallConfig } from './config.js';
import { failureMessage } from './errors.js';
import { ADMISSION_FILE, BundleStore } from './state-store.js';

/** What became of the node's registration, tagged by `type`. */
export type Deregistration =
  | { type: 'deleted' } // its key in natfleet-nodes is deleted: the compiler deletes its Node
  | { type: 'skipped' } // --skip-deregister
  | { type: 'not-configured' } // no NATS URL given: still registered
  | { type: 'failed'; message: string }; // NATS unreachable or refused: still registered

export interface UninstallResult {
  /** True when the table existed and was deleted. */
  tableDeleted: boolean;
  /** State files removed (empty when there were none). */
  removedFiles: string[];
  deregistration: Deregistration;
}

/** How long deregistering may take in all (connect, bind, delete) before it counts as failed. */
export const DEREGISTER_TIMEOUT_MS = 15_000;

/**
 * Rejects with NftError / StateFileError when nft or the file system refuse (nothing is
 * deregistered then). A NATS failure does not reject: it is `deregistration.type: 'failed'`.
 */
export async function uninstall(config: UninstallConfig, logger: Logger): Promise<UninstallResult> {
  const tableDeleted = await new RealNft(config.netns !== undefined ? { netns: config.netns } : {}).deleteTable();
  // The admission first: the dir goes with the second removal once nothing else is in it.
  const removedFiles = [...(await new BundleStore(config.stateDir, ADMISSION_FILE).remove()), ...(await new BundleStore(config.stateDir).remove())];
  logger.info({ tableDeleted, removedFiles, netns: config.netns, stateDir: config.stateDir }, 'natfleet table and state removed');
  const log = logger.child({ node: config.nodeName });
  let deregistration: Deregistration;
  if (config.skipDeregister) deregistration = { type: 'skipped' };
  else if (!config.nats) deregistration = { type: 'not-configured' };
  else {
    try {
      await deregister(config.nodeName, config.nats);
      deregistration = { type: 'deleted' };
    } catch (err) {
      deregistration = { type: 'failed', message: failureMessage(err) };
    }
  }
  if (deregistration.type === 'failed') log.error({ reason: deregistration.message, servers: config.nats?.servers }, 'node NOT deregistered: it stays registered (its natfleet-nodes key and Node remain)');
  else log.info({ deregistration: deregistration.type }, deregistration.type === 'deleted' ? 'node deregistered' : 'node left registered');
  return { tableDeleted, removedFiles, deregistration };
}

/** Deletes `node`'s key in natfleet-nodes. Throws when NATS cannot be reached or refuses, or past DEREGISTER_TIMEOUT_MS. */
async function deregister(node: string, nats: NatsSettings): Promise<void> {
  let nc: NatsConnection | undefined;
  let expired = false;
  let timer: NodeJS.Timeout | undefined;
  const work = (async () => {
    try {
      nc = await connect({
        servers: nats.servers,
        // Replies arrive under the user's own inbox prefix, the only one it may subscribe to.
        ...(nats.user !== undefined ? { user: nats.user, pass: nats.password ?? '', inboxPrefix: inboxPrefix(nats.user) } : {}),
        ...(nats.tls ? { tls: nats.tls } : {}),
        name: `natfleet-enforcer/${node} uninstall`,
        timeout: 5_000,
        reconnect: false,
      });
    } catch (err) {
      throw new Error(`cannot connect to NATS (${nats.servers.join(', ')}): ${failureMessage(err)}`, { cause: err });
    }
    if (expired) return; // too late: the finally below already ran
    const kv = await openNodesBucket(nc.jetstream({ timeout: 5_000 }), { bindOnly: true });
    await deleteNodeStatus(kv, node);
  })();
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`NATS (${nats.servers.join(', ')}) did not answer within ${DEREGISTER_TIMEOUT_MS / 1_000}s`)), DEREGISTER_TIMEOUT_MS);
  });
  try {
    await Promise.race([work, deadline]);
  } finally {
    expired = true;
    clearTimeout(timer);
    // A connect still under way when the deadline passed is closed once it completes.
    void work.catch(() => undefined).then(() => (nc as NatsConnection | undefined)?.close().catch(() => undefined));
    await (nc as NatsConnection | undefined)?.close().catch(() => undefined);
  }
}
