/**
 * Gate evaluation for a set of admitted nodes: ACK of the candidate, no NACK, post-apply
 * health checks, optional webhook. Pure: observations in, verdict out.
 */
import { cmp } from './membership.js';
import type { GateFailure, Observations } from './types.js';

export interface GateVerdict {
  /** Nodes that failed a gate, sorted by node then gate. */
  readonly failures: readonly GateFailure[];
  /** Nodes with no failure that have not yet passed every gate (no ACK, or no webhook pass yet). */
  readonly pending: readonly string[];
}

/**
 * Evaluates `nodes` against their observations for `version`. A node passes when it applied
 * `version`, reported no NACK and no health failure, and (when `webhook` is true, or returns
 * true for the node) the webhook said
 * 'pass'. A node with no observation is pending. Empty `nodes` → no failures, none pending.
 */
export function evaluateGates(nodes: readonly string[], observations: Observations, version: number, webhook: boolean | ((node: string) => boolean)): GateVerdict {
  const hookFor = typeof webhook === 'function' ? webhook : () => webhook;
  const failures: GateFailure[] = [];
  const pending: string[] = [];
  for (const node of [...nodes].sort(cmp)) {
    const o = Object.hasOwn(observations, node) ? observations[node] : undefined;
    if (!o) {
      pending.push(node);
      continue;
    }
    const hook = hookFor(node);
    const before = failures.length;
    if (o.nack) failures.push({ node, gate: 'nack', code: o.nack.code, detail: o.nack.message });
    if (o.healthFailed) failures.push({ node, gate: 'health', code: o.healthFailed.code, detail: o.healthFailed.output });
    if (hook && o.webhook === 'fail') failures.push({ node, gate: 'webhook', code: 'WEBHOOK_FAILED', detail: o.webhookDetail ?? 'webhook reported fail' });
    if (failures.length > before) continue;
    if (o.appliedVersion !== version || (hook && o.webhook !== 'pass')) pending.push(node);
  }
  return { failures, pending };
}

/** One line per failure for a condition message, e.g. "n1: nack E_NFT (syntax error)". Empty → "". */
export function describeFailures(failures: readonly GateFailure[]): string {
  return failures.map((f) => `${f.node}: ${f.gate} ${f.code} (${f.detail})`).join('; ');
}
