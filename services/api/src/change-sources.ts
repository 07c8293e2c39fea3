/**
 * What tells the live view (live-view.ts) that the rollout view may have changed, read
 * from NATS with only what the API's NATS user may do (read streams: stream info, stored
 * message gets, ordered pull consumers — local-stack nats-auth.ts apiPermissions):
 *   node statuses — a watch of the natfleet-nodes bucket (an ordered pull consumer from
 *                   "new" on; not kv.watch / watchNodeStatuses, whose push consumer needs
 *                   flow-control replies on $JS.FC.> and a legacy create subject the API
 *                   user may not publish on). A write counts as a change only when more
 *                   than the heartbeat moved (a heartbeat every few seconds per node would
 *                   otherwise recompute the view all the time; ages are refreshed by the
 *                   live view's 10 s refresh, which also catches a node going silent).
 *   bundles, admissions, evaluation records — the API user may not subscribe to
 *                   natfleet.> (only to its inbox), so instead the bundle stream's last
 *                   sequence is checked every `pollMs` (1 s): one small STREAM.INFO
 *                   request; any new message on the stream counts as a change.
 * Never writes NATS; consumers are left to the server (readers may not delete them).
 */
import { BUNDLE_STREAM, NODES_BUCKET, NODES_STREAM, READ_CONSUMER_IDLE_MS, decodeNodeStatus } from '@natfleet/bus';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from 'nats';
import { sleep, type ChangeSource } from './live-view.js';

/** A status without its heartbeat, for "did more than the heartbeat change". */
function visiblePart(data: Uint8Array, deleted: boolean): string {
  if (deleted) return 'deleted';
  const s = decodeNodeStatus(data);
  if (!s) return 'undecodable';
  const { heartbeatAt: _hb, ...rest } = s;
  return JSON.stringify(rest);
}

/**
 * Watches natfleet-nodes: `changed('node-status')` for each write of a node whose status
 * changed beyond its heartbeat (the first write seen of a node counts: its earlier state is
 * unknown here). Runs until `signal` aborts.
 */
export function nodeStatusChanges(js: JetStreamClient): ChangeSource {
  return async (signal, changed) => {
    const seen = new Map<string, string>();
    const consumer = await js.consumers.get(NODES_STREAM, { filterSubjects: `$KV.${NODES_BUCKET}.>`, deliver_policy: DeliverPolicy.New, inactive_threshold: READ_CONSUMER_IDLE_MS });
    const messages = await consumer.consume();
    const stop = (): void => void messages.close();
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) stop();
    try {
      for await (const m of messages) {
        const key = m.subject.slice(`$KV.${NODES_BUCKET}.`.length);
        const op = m.headers?.get('KV-Operation');
        const part = visiblePart(m.data, op === 'DEL' || op === 'PURGE');
        if (seen.get(key) !== part) {
          seen.set(key, part);
          changed('node-status');
        }
      }
    } finally {
      signal.removeEventListener('abort', stop);
      await messages.close();
    }
  };
}

/**
 * Polls the bundle stream's last sequence every `pollMs`: `changed('stream')` when it
 * moved (a bundle, an admission or an evaluation record was stored). The first read only
 * sets the baseline. Runs until `signal` aborts; throws when the stream cannot be read.
 */
export function streamChanges(jsm: JetStreamManager, { pollMs = 1000, stream = BUNDLE_STREAM }: { pollMs?: number; stream?: string } = {}): ChangeSource {
  return async (signal, changed) => {
    let last: number | undefined;
    while (!signal.aborted) {
      const seq = (await jsm.streams.info(stream)).state.last_seq;
      if (last !== undefined && seq !== last) changed('stream');
      last = seq;
      await sleep(pollMs, signal);
    }
  };
}

/** Both sources for one API process; `bus` is read when a source starts (the first listener). */
export function natsChangeSources(bus: () => { js: JetStreamClient; jsm: JetStreamManager }): ChangeSource[] {
  return [(signal, changed) => nodeStatusChanges(bus().js)(signal, changed), (signal, changed) => streamChanges(bus().jsm)(signal, changed)];
}
