/**
 * What `npm run probe [node]` does besides connecting: choosing the simulated nodes to
 * probe from and wording what the external host saw. Pure, so it is tested without
 * starting the stack; main.ts does the connecting.
 */
import { LocalStackError } from './errors.js';
import type { NodeRecord } from './state.js';

/**
 * The nodes to probe: every node of the running stack, or the one named `only`. Throws
 * LocalStackError UNKNOWN_NODE naming the known nodes when `only` is not one of them —
 * printing nothing and succeeding would read as "nothing to report".
 */
export function probeTargets(nodes: readonly NodeRecord[], only?: string): NodeRecord[] {
  if (only === undefined) return [...nodes];
  const hit = nodes.filter((n) => n.name === only);
  if (hit.length === 0) {
    const known = nodes.map((n) => n.name).join(', ') || 'none';
    throw new LocalStackError('UNKNOWN_NODE', `no node ${JSON.stringify(only)} in the running stack (its nodes: ${known})`);
  }
  return hit;
}

/** One probe's outcome as a line: the source address the external host saw, and what that means. */
export function probeLine(n: NodeRecord, res: { ok: true; peer: string } | { ok: false; error: string }): string {
  const verdict = !res.ok ? `no answer (${res.error})` : res.peer === n.podAddress ? 'not NATed' : res.peer === n.nodeAddress ? 'masqueraded to the node address' : 'SNATed';
  return `${n.name}: pod ${n.podAddress} → ${n.extAddress}:${n.peerPort} seen as ${res.ok ? res.peer : '-'} (${verdict})`;
}
