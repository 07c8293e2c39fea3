/**
 * natctl's node inventory commands: `get nodes [NAME] [-o wide|yaml|json|name]`,
 * `describe node NAME` (addresses, labels, applied version and digest, state, last error
 * with its code, apply latency, drift repairs, heartbeat age, enforcer version, and the
 * desired-vs-enforced NAT diff) and `node delete NAME` (decommission a node gone for good).
 * Pure formatting plus API calls; exit codes come from the API's error codes.
 */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { CliError, type ApiClient } from './client.js';
import { EXIT } from './exit-codes.js';
import { formatNatDiff, table } from './format.js';

type Json = Record<string, any>;

const NODE_TYPES = new Set(['node', 'nodes', 'no']);

/** True for the type names `get` should send here. */
export const isNodeType = (t: string): boolean => NODE_TYPES.has(t.toLowerCase());

const age = (s: number | null | undefined): string => (s === null || s === undefined ? 'never' : s < 90 ? `${Math.round(s)}s` : s < 5400 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`);
const errorText = (n: Json): string => (n.error ? `${n.errorCode ? `${n.errorCode}: ` : ''}${n.error}` : '');

/** `get nodes` output; `wide` adds addresses, labels, digest, latency, drift and the enforcer version. */
export function formatNodes(items: Json[], output: string, single: boolean, noHeaders: boolean): string {
  if (output === 'json') return JSON.stringify(single ? items[0] : { kind: 'NodeList', items }, null, 2);
  if (output === 'yaml') return items.map((i) => stringify(i).trimEnd()).join('\n---\n');
  if (output === 'name') return items.map((i) => `node/${i.node}`).join('\n');
  if (items.length === 0) return 'No resources found';
  const wide = output === 'wide';
  const headers = ['NAME', 'STATUS', 'APPLIED', 'STATE', 'HEARTBEAT', ...(wide ? ['ADDRESSES', 'DIGEST', 'APPLY-MS', 'DRIFT', 'ENFORCER', 'LABELS'] : []), 'ERROR'];
  const rows = items.map((n) => [
    n.node,
    n.status,
    n.appliedVersion ? `v${n.appliedVersion}` : '-',
    n.state,
    n.heartbeatAgeSeconds === null ? 'never' : `${age(n.heartbeatAgeSeconds)} ago`,
    ...(wide
      ? [(n.addresses ?? []).join(',') || '-', String(n.appliedDigest ?? '').slice(0, 19) || '-', String(n.applyMs ?? '-'), String(n.driftRepairs ?? 0), n.enforcerVersion || '-', Object.entries(n.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '-']
      : []),
    errorText(n),
  ]);
  return noHeaders ? table(headers.map(() => ''), rows).split('\n').slice(1).join('\n') : table(headers, rows);
}

/** `describe node`: kubectl-style sections. */
export function formatNodeDescription(d: Json): string {
  const n = d.node;
  const labels = Object.entries(n.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  const resourceAddresses = ((d.resource?.spec?.addresses ?? []) as Json[]).map((a) => `${a.address}${a.type ? ` (${a.type})` : ''}`);
  const lines = [
    `Name:             ${n.node}`,
    `Registered:       ${n.registered ? 'yes (Node resource in etcd)' : 'no (reporting only)'}`,
    `Labels:           ${labels.length ? labels.join('\n                  ') : '<none>'}`,
    `Addresses:        ${(resourceAddresses.length ? resourceAddresses : n.addresses ?? []).join(', ') || '<none>'}`,
    `Status:           ${n.status}`,
    `State:            ${n.state}`,
    `Applied:          ${n.appliedVersion ? `v${n.appliedVersion} ${n.appliedDigest}` : 'nothing yet'}`,
    `Desired:          ${d.desired ? `v${d.desired.version} ${d.desired.digest}` : 'no bundle published yet'}`,
    `Applied at:       ${n.appliedAt || '-'}${n.applyMs ? ` (apply took ${n.applyMs} ms)` : ''}`,
    `Heartbeat:        ${n.heartbeatAgeSeconds === null ? 'never' : `${age(n.heartbeatAgeSeconds)} ago (${n.heartbeatAt})`}`,
    `Drift repairs:    ${n.driftRepairs ?? 0}`,
    `Enforcer:         ${n.enforcerVersion || '-'}`,
    `Last error:       ${errorText(n) || '<none>'}${n.failedVersion ? ` (v${n.failedVersion})` : ''}`,
  ];
  if (d.diff) lines.push('Desired vs enforced:', ...formatNatDiff(d.diff).split('\n').map((l) => `  ${l}`));
  else if (d.diffUnavailable) lines.push(`Desired vs enforced: unknown (${d.diffUnavailable})`);
  else lines.push('Desired vs enforced: in sync');
  return lines.join('\n');
}

/** Registers `describe` and `node` on the program; `get nodes` is routed here by cli.ts. */
export function registerNodeCommands(program: Command, deps: { client: () => ApiClient; out: (s: string) => void }): void {
  program
    .command('describe')
    .description('show one node in detail, with what it enforces against what is desired')
    .argument('<type>', 'node')
    .argument('<name>')
    .action(async (type: string, name: string) => {
      if (!isNodeType(type)) throw new CliError(`describe supports nodes only (got "${type}")`, EXIT.INVALID);
      deps.out(formatNodeDescription(await deps.client().request('GET', `/v1/nodes/${encodeURIComponent(name)}`)));
    });
  const node = program.command('node').description('node inventory');
  node
    .command('delete')
    .description('decommission a node that is gone for good: remove its Node resource and its status (it stops counting in rollout status)')
    .argument('<name>')
    .action(async (name: string) => {
      const r = await deps.client().request('DELETE', `/v1/nodes/${encodeURIComponent(name)}`);
      deps.out(`node/${r.node} deleted (${[r.removed.resource ? 'Node resource' : '', r.removed.status ? 'status' : ''].filter(Boolean).join(' and ')})`);
    });
}

/** `get nodes [NAME]`. */
export async function getNodes(client: ApiClient, name: string | undefined, output: string, noHeaders: boolean): Promise<string> {
  const items = name ? [(await client.request('GET', `/v1/nodes/${encodeURIComponent(name)}`)).node] : (await client.request('GET', '/v1/nodes')).items;
  return formatNodes(items, output, name !== undefined, noHeaders);
}
