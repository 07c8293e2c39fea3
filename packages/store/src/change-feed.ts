/**
 * A change feed over the resource prefix, for consumers that recompile from a fresh
 * snapshot on every change (the compiler): it only has to say *that* something changed,
 * never lose that fact, and say when its view may have gaps.
 *
 *   change      — keys under the prefix changed at `revision`
 *   resync      — the feed may have missed events (watch canceled by compaction, or the
 *                 stream reconnected): re-read a snapshot
 *   disconnected — etcd is unreachable; keep serving the last state
 *
 * etcd3's watcher reconnects by itself and resumes from its last revision. A compaction
 * past that revision makes etcd answer "created + canceled"; etcd3 1.1.2 then never
 * advances its internal attach queue, so later watchers on that client stall or get
 * mis-routed (seen here). The feed therefore owns its client: after a cancel it closes
 * it, makes a fresh one, watches from "now" and emits resync. Ends when the signal aborts.
 */
import type { Etcd3, Watcher } from 'etcd3';
import { AsyncQueue } from './async-queue.js';

export type ChangeEvent =
  | { type: 'change'; revision: number; keys: string[] }
  | { type: 'resync'; reason: string } // the watch is live again: snapshot now
  | { type: 'disconnected'; reason: string };

export interface ChangeFeedOptions {
  /** First revision to report (usually snapshot revision + 1). Omit to start from now. */
  fromRevision?: number;
  signal?: AbortSignal;
  /** Delay before re-creating a canceled watcher (ms). Default 200. */
  retryMs?: number;
}

/**
 * Watches `<prefix>/` and yields ChangeEvents until `signal` aborts. `makeClient` builds the
 * feed's own etcd3 client (called again after a canceled watch); the feed closes it.
 */
export function changeFeed(makeClient: () => Etcd3, prefix: string, options: ChangeFeedOptions = {}): AsyncIterable<ChangeEvent> {
  const queue = new AsyncQueue<ChangeEvent>();
  let client = makeClient();
  let watcher: Watcher | undefined;
  let stopped = false;
  let disconnected = false;

  /** `resyncReason`: emitted once the new watch is live, so a snapshot taken on it misses nothing. */
  const start = async (fromRevision?: number, resyncReason?: string): Promise<void> => {
    while (!stopped) {
      try {
        let b = client.watch().prefix(`${prefix}/`);
        if (fromRevision !== undefined) b = b.startRevision(String(fromRevision));
        const w = await b.create();
        if (stopped) {
          await w.cancel();
          return;
        }
        watcher = w;
        if (resyncReason) queue.push({ type: 'resync', reason: resyncReason });
        w.on('data', (res) => {
          if (res.events.length === 0) return;
          queue.push({ type: 'change', revision: Number(res.header.revision), keys: res.events.map((e) => e.kv.key.toString('utf8')) });
        });
        w.on('disconnected', (err: Error) => {
          disconnected = true;
          queue.push({ type: 'disconnected', reason: err?.message ?? 'watch stream lost' });
        });
        w.on('connected', () => {
          if (!disconnected) return;
          disconnected = false;
          // Events between the last one seen and the reconnect are replayed by etcd, but a
          // snapshot is cheap and makes convergence independent of that.
          queue.push({ type: 'resync', reason: 'watch reconnected' });
        });
        w.on('error', (err: Error) => {
          // Canceled by the server, typically "required revision has been compacted".
          watcher = undefined;
          w.removeAllListeners();
          client.close();
          if (stopped) return;
          client = makeClient();
          setTimeout(() => void start(undefined, `watch canceled: ${err?.message ?? 'unknown'}`), options.retryMs ?? 200);
        });
        return;
      } catch (err) {
        queue.push({ type: 'disconnected', reason: `cannot create watch: ${(err as Error).message}` });
        fromRevision = undefined; // whatever we missed, the resync once the watch is live covers it
        resyncReason = 'watch re-created';
        await new Promise((r) => setTimeout(r, options.retryMs ?? 200));
      }
    }
  };

  const stop = (): void => {
    stopped = true;
    watcher?.removeAllListeners();
    client.close();
    queue.close();
  };
  if (options.signal?.aborted) stop();
  else {
    options.signal?.addEventListener('abort', stop, { once: true });
    void start(options.fromRevision);
  }
  return queue;
}
