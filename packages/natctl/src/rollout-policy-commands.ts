/**
 * natctl's RolloutPolicy support (natfleet.io/v1, issue 14 foundation): `get
 * rolloutpolicies [NAME]` and `apply|create|replace -f FILE` of a file that holds
 * RolloutPolicies. Those go to /v1/rolloutpolicies one by one — not the all-or-nothing
 * /v1/resources batch, which takes Calico kinds only — so a file may not mix them with
 * Calico resources yet. RolloutPolicies are stored and validated; nothing enforces waves
 * yet. Pure formatting plus API calls.
 */
import { stringify } from 'yaml';
import { parseResources, type InputFormat } from '@natfleet/model';
import { CliError, type ApiClient } from './client.js';
import { EXIT } from './exit-codes.js';
import { table } from './format.js';

type Json = Record<string, any>;

const TYPES = new Set(['rolloutpolicy', 'rolloutpolicies', 'rp']);
const IN_FORCE_NOTE = 'note: the next NAT change rolls out in these waves (the first RolloutPolicy by name is in force); follow it with `natctl rollout status --watch`';

/** True for the type names `get` sends here. */
export const isRolloutPolicyType = (t: string): boolean => TYPES.has(t.toLowerCase());

/** `get rolloutpolicies` output: NAME, WAVES (name:selector/percent/bake), ON-FAILURE, PROGRESS-DEADLINE. 'No resources found' when empty. */
export function formatRolloutPolicies(items: Json[], output: string, single: boolean, noHeaders: boolean): string {
  if (output === 'json') return JSON.stringify(single ? items[0] : { apiVersion: 'natfleet.io/v1', kind: 'RolloutPolicyList', items }, null, 2);
  if (output === 'yaml') return items.map((i) => stringify(i).trimEnd()).join('\n---\n');
  if (output === 'name') return items.map((i) => `rolloutpolicy/${i.metadata?.name}`).join('\n');
  if (items.length === 0) return 'No resources found';
  const wave = (w: Json): string => `${w.name}(${[w.selector, w.percent !== undefined ? `${w.percent}%` : undefined, `bake ${w.bake}`].filter((x) => x !== undefined).join(', ')})`;
  const headers = ['NAME', 'WAVES', 'ON-FAILURE', 'PROGRESS-DEADLINE'];
  const rows = items.map((p) => [p.metadata?.name ?? '', ((p.spec?.waves ?? []) as Json[]).map(wave).join(' → '), p.spec?.onFailure ?? '', p.spec?.progressDeadline ?? '']);
  return noHeaders ? table(headers.map(() => ''), rows).split('\n').slice(1).join('\n') : table(headers, rows);
}

/** Lists or gets RolloutPolicies and formats them (see {@link formatRolloutPolicies}). */
export async function getRolloutPolicies(client: ApiClient, name: string | undefined, output: string, noHeaders: boolean): Promise<string> {
  const items = name ? [await client.request('GET', `/v1/rolloutpolicies/${encodeURIComponent(name)}`)] : ((await client.request('GET', '/v1/rolloutpolicies')).items as Json[]);
  return formatRolloutPolicies(items, output, name !== undefined, noHeaders);
}

/** True when the file holds a RolloutPolicy (false when it does not parse: the usual path reports that). */
export function isRolloutPolicyFile(input: { text: string; format: InputFormat }): boolean {
  try {
    return parseResources(input.text, { format: input.format }).some((d) => d.object.kind === 'RolloutPolicy');
  } catch {
    return false;
  }
}

/**
 * Writes the RolloutPolicies of a file (create = POST, replace = PUT, apply = PUT
 * ?apply=true), one request each, and returns the output text. `undefined` when the file
 * holds no RolloutPolicy (or does not parse: the usual path reports that), so the caller
 * sends it to /v1/resources as before. A file mixing RolloutPolicies and Calico kinds is
 * refused (exit INVALID) with nothing written.
 */
export async function writeRolloutPolicyFile(
  client: ApiClient,
  input: { text: string; format: InputFormat; type: string },
  mode: 'apply' | 'create' | 'replace',
  o: { dryRun?: boolean; validate: string },
): Promise<string | undefined> {
  let docs;
  try {
    docs = parseResources(input.text, { format: input.format });
  } catch {
    return undefined;
  }
  const policies = docs.filter((d) => d.object.kind === 'RolloutPolicy');
  if (policies.length === 0) return undefined;
  if (policies.length !== docs.length) {
    throw new CliError('this file mixes RolloutPolicy with Calico resources: apply RolloutPolicies from a file of their own (one batch cannot hold both yet)', EXIT.INVALID);
  }
  const q = [o.dryRun ? 'dryRun=true' : '', o.validate === 'warn' ? 'validate=warn' : '', mode === 'apply' ? 'apply=true' : ''].filter((s) => s !== '').join('&');
  const lines: string[] = [];
  for (const d of policies) {
    const obj = d.object as Json;
    const name = typeof obj.metadata?.name === 'string' ? obj.metadata.name : '';
    if (name === '' && mode !== 'create') throw new CliError(`RolloutPolicy[${d.docIndex}]: metadata.name is required`, EXIT.INVALID);
    const r = mode === 'create'
      ? await client.request('POST', `/v1/rolloutpolicies${q ? `?${q}` : ''}`, obj)
      : await client.request('PUT', `/v1/rolloutpolicies/${encodeURIComponent(name)}${q ? `?${q}` : ''}`, obj);
    for (const c of r.changes as Json[]) lines.push(`${r.dryRun ? '(dry run) ' : ''}${c.kind}/${c.name}: ${c.action}`);
    for (const w of (r.warnings as Json[] | undefined) ?? []) lines.push(`warning: ${w.resource} ${w.path}: ${w.reason}`);
  }
  lines.push(IN_FORCE_NOTE);
  return lines.join('\n');
}
