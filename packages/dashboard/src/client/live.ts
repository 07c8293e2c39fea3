/**
 * The live feed: GET /v1/events read with fetch() (the bearer header, never the token in a
 * URL) and parsed as Server-Sent Events; reconnects with back-off (1 s doubling to 15 s)
 * until stopped. A 401/403 stops it and reports the refusal. Owns one connection at a time.
 */
import { readEvents, type SseEvent } from './sse.js';

export interface LiveHandlers {
  onEvent: (e: SseEvent) => void;
  /** Connected (true) or lost (false), for the status indicator. */
  onConnected: (up: boolean) => void;
  /** The token was refused: the feed has stopped. */
  onRefused: (status: number) => void;
}

/** Starts the feed; the returned function stops it (idempotent). */
export function startLive(token: string, h: LiveHandlers): () => void {
  const abort = new AbortController();
  let delay = 1000;
  const loop = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      try {
        const res = await fetch('/v1/events', { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: abort.signal });
        if (res.status === 401 || res.status === 403) {
          h.onRefused(res.status);
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        h.onConnected(true);
        delay = 1000;
        await readEvents(res.body, h.onEvent);
      } catch {
        // lost or refused by the network: retry below
      }
      if (abort.signal.aborted) return;
      h.onConnected(false);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  };
  void loop();
  return () => abort.abort();
}
