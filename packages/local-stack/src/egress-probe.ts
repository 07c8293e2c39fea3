/**
 * The local stack's post-apply health check (issue 14: "each node's check is a real TCP
 * probe from its pod namespace to the external host through the NAT"). Each enforcer runs
 *
 *   ip netns exec <pod netns> node egress-probe.js <ext address> <peer port> <node address>
 *
 * after every apply: one TCP connection from the pod to the external host's peer server,
 * which answers with the source address it saw. Healthy (exit 0) only when that is the
 * node's address: the pod's egress is masqueraded. Anything else fails with what was seen
 * (exit 1), or with why there was no answer (exit 2).
 *
 * Why "must be the node address" and not just "an answer came back": the local stack's ext
 * namespace routes pod subnets back through the node (a BGP-peered network), so egress that
 * is NOT NATed still gets an answer here; on a real network without those routes the same
 * change leaves pods with no egress at all. The simulated nodes' pods are in natOutgoing
 * pools by default, so any change that stops masquerading them breaks egress for real.
 *
 * A script, not a module with exports: it runs in the pod namespace as its own process.
 */
import { connect } from 'node:net';

const [host, portText, expected, timeoutText] = process.argv.slice(2);
if (!host || !portText || !expected) {
  process.stdout.write('usage: egress-probe <ext address> <port> <expected source address> [timeout ms]\n');
  process.exit(64);
}
const timeoutMs = Number(timeoutText ?? '2000');
const socket = connect({ host, port: Number(portText) });
const timer = setTimeout(() => {
  process.stdout.write(`no answer from ${host}:${portText} within ${timeoutMs} ms: egress broken\n`);
  process.exit(2);
}, timeoutMs);
let buf = '';
socket.on('data', (d) => {
  buf += d.toString();
  const i = buf.indexOf('\n');
  if (i < 0) return;
  clearTimeout(timer);
  const seen = buf.slice(0, i).trim();
  socket.destroy();
  if (seen === expected) {
    process.stdout.write(`${host}:${portText} saw ${seen} (the node address): egress is masqueraded\n`);
    process.exit(0);
  }
  process.stdout.write(`${host}:${portText} saw ${seen}, expected the node address ${expected}: egress from this pod is not masqueraded (a network without return routes to pods drops it)\n`);
  process.exit(1);
});
socket.on('error', (e: NodeJS.ErrnoException) => {
  clearTimeout(timer);
  process.stdout.write(`connecting to ${host}:${portText}: ${e.code ?? e.message}: egress broken\n`);
  process.exit(2);
});
