/**
 * The rollout's webhook gate (Flagger-like, DESIGN.md §10): once every node of the current
 * wave ACKed the candidate and is healthy, the controller POSTs one JSON document per wave
 * per candidate; a 2xx answer passes those nodes, anything else (status, network error,
 * timeout) fails them with WEBHOOK_FAILED and what was answered.
 *
 * Never: retries (a flaky webhook fails the wave, as the operator asked for a gate), follows
 * the answer's body for decisions, or logs (the controller logs the verdict).
 */

export interface WebhookRequest {
  cluster: string;
  policy: string;
  version: number;
  digest: string;
  wave: string;
  nodes: string[];
}

export interface WebhookTarget {
  url: string;
  timeoutMs: number;
  headers: Record<string, string>;
}

export type WebhookVerdict = { result: 'pass'; status: number } | { result: 'fail'; code: 'WEBHOOK_FAILED'; detail: string };

/** The largest part of an answer's body kept for the failure detail. */
const MAX_DETAIL_BODY = 512;

/** Calls the webhook; never throws (every failure is a 'fail' verdict). */
export type WebhookCaller = (target: WebhookTarget, request: WebhookRequest, signal: AbortSignal) => Promise<WebhookVerdict>;

/** Longest timer Node keeps (ms); AbortSignal.timeout throws past it or for a fraction. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real caller: fetch with the policy's headers and timeout (and the term's signal). */
export const callWebhook: WebhookCaller = async (target, request, signal) => {
  // A valid policy may say `1500us` (1.5 ms) or `2000h`: AbortSignal.timeout would throw
  // (fraction, out of range) and, never caught, crash every compiler that calls it.
  const ms = Number.isFinite(target.timeoutMs) ? Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(target.timeoutMs))) : 10_000;
  const timeout = AbortSignal.timeout(ms);
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: { ...target.headers, 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.any([timeout, signal]),
      redirect: 'manual',
    });
    const body = (await res.text().catch(() => '')).slice(0, MAX_DETAIL_BODY);
    if (res.status >= 200 && res.status < 300) return { result: 'pass', status: res.status };
    return { result: 'fail', code: 'WEBHOOK_FAILED', detail: `HTTP ${res.status}${body ? `: ${body}` : ''}` };
  } catch (err) {
    if (timeout.aborted) return { result: 'fail', code: 'WEBHOOK_FAILED', detail: `no answer within ${target.timeoutMs} ms` };
    const e = err as Error & { cause?: Error };
    return { result: 'fail', code: 'WEBHOOK_FAILED', detail: `request failed: ${e.cause?.message ?? e.message}` };
  }
};
