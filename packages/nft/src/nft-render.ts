/**
 * Bundle → nft text for one node: the `inet natfleet` table, the atomic replace
 * transaction, and the state a read-back must find. Deterministic (same bundle and node,
 * same bytes), so it is golden-tested. Owns the shape of the table (DESIGN.md §6).
 *
 * Must never emit text it has not validated: every CIDR, address, port and interface
 * filter is checked against a strict character set here (even though the bundle codec
 * already did), the interface filter is always quoted, and comments hold only fixed
 * words, digits and hex. Pure: no processes, files or network.
 */
import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { effectiveSettings, IFNAME_FILTER, type Bundle, type NatSettings } from '@natfleet/bundle';
import { NftRenderError } from './errors.js';
import { TABLE_REF } from './nft.js';
import type { TableState } from './table-state.js';

type Family = 'v4' | 'v6';
const FAMILIES: readonly Family[] = ['v4', 'v6'];
const CHAIN = 'postrouting';

/** One rule of the postrouting chain: its stable id (also its nft comment) and its text without the comment. */
interface Rule {
  id: string;
  body: string;
}

/** Everything the table is made of, validated. */
interface TablePlan {
  comment: string;
  sets: { name: string; type: 'ipv4_addr' | 'ipv6_addr'; elements: readonly string[] }[];
  rules: Rule[];
}

/**
 * The nft text of the `inet natfleet` table for `nodeName` (the node's override from
 * `bundle.nodes` applied; an unknown node gets the fleet settings). Ends with a newline.
 *
 * The shape is fixed by the settings alone, never by the data: all four sets and every
 * family's rules are always present, so a read-back can check set names and rule ids
 * without knowing the pools. An empty set has no `elements` line (nft rejects
 * `elements = { }`) and its rules simply match nothing. `hosts_v4`/`hosts_v6` exist only
 * when the node's effective exclusions are `IPPoolsAndHostIPs`. Throws NftRenderError
 * when a value is not safe to emit.
 */
export function renderTable(bundle: Bundle, nodeName: string): string {
  const plan = planTable(bundle, nodeName);
  const blocks = plan.sets.map((s) =>
    [
      `\tset ${s.name} {`,
      `\t\ttype ${s.type}`,
      '\t\tflags interval',
      ...(s.elements.length > 0 ? [`\t\telements = { ${s.elements.join(', ')} }`] : []),
      '\t}',
    ].join('\n'),
  );
  blocks.push(
    [
      `\tchain ${CHAIN} {`,
      '\t\ttype nat hook postrouting priority srcnat + 10; policy accept;',
      ...plan.rules.map((r) => `\t\t${r.body} comment "${r.id}"`),
      '\t}',
    ].join('\n'),
  );
  return `table ${TABLE_REF} {\n\tcomment "${plan.comment}"\n${blocks.join('\n\n')}\n}\n`;
}

/**
 * One atomic nft transaction that replaces the table: create it empty if absent, delete
 * it, then define the new one. Given to `nft -f -` it applies all or nothing, so a
 * failure leaves the previous table in force. Throws NftRenderError like renderTable.
 */
export function renderTransaction(bundle: Bundle, nodeName: string): string {
  return `table ${TABLE_REF} {}\ndelete table ${TABLE_REF}\n${renderTable(bundle, nodeName)}`;
}

/**
 * What `readTable` must return once the bundle is applied on `nodeName`: the table
 * comment, the set names, the one chain and the rule ids in order (2 rules, or 4 with a
 * port range). Throws NftRenderError like renderTable.
 */
export function expectedTableState(bundle: Bundle, nodeName: string): Required<Omit<TableState, 'elements'>> {
  const plan = planTable(bundle, nodeName);
  return { comment: plan.comment, sets: plan.sets.map((s) => s.name), chains: [CHAIN], ruleIds: plan.rules.map((r) => r.id) };
}

/**
 * expectedTableState plus `elements`: every set's CIDRs as the bundle gives them (the
 * bundle's own arrays, not copies), to compare with a full read (`readTableContents`).
 * Throws NftRenderError like renderTable.
 */
export function expectedTableContents(bundle: Bundle, nodeName: string): Required<TableState> {
  const plan = planTable(bundle, nodeName);
  return {
    comment: plan.comment,
    sets: plan.sets.map((s) => s.name),
    chains: [CHAIN],
    ruleIds: plan.rules.map((r) => r.id),
    elements: Object.fromEntries(plan.sets.map((s) => [s.name, s.elements])),
  };
}

/** The table comment for a bundle: `natfleet v<version> <digest>`. Throws NftRenderError on a malformed version or digest. */
export function tableComment(bundle: Pick<Bundle, 'version' | 'digest'>): string {
  if (!Number.isSafeInteger(bundle.version) || bundle.version < 0) throw new NftRenderError('version', 'must be a non-negative integer');
  if (typeof bundle.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(bundle.digest)) {
    throw new NftRenderError('digest', 'must be sha256:<64 lowercase hex>');
  }
  return `natfleet v${bundle.version} ${bundle.digest}`;
}

function planTable(bundle: Bundle, nodeName: string): TablePlan {
  const comment = tableComment(bundle);
  const settings = checkSettings(effectiveSettings(bundle, nodeName), `settings of node ${JSON.stringify(nodeName)}`);
  const withHosts = settings.exclusions === 'IPPoolsAndHostIPs';
  const sets: TablePlan['sets'] = [];
  for (const fam of FAMILIES) {
    const type = fam === 'v4' ? 'ipv4_addr' : 'ipv6_addr';
    sets.push({ name: `masq_${fam}`, type, elements: checkCidrs(bundle.fleet[fam].masquerade, `fleet.${fam}.masquerade`, fam) });
    sets.push({ name: `nonat_${fam}`, type, elements: checkCidrs(bundle.fleet[fam].noNat, `fleet.${fam}.noNat`, fam) });
  }
  if (withHosts) {
    for (const fam of FAMILIES) {
      const type = fam === 'v4' ? 'ipv4_addr' : 'ipv6_addr';
      sets.push({ name: `hosts_${fam}`, type, elements: checkCidrs(bundle.fleet.hostAddresses[fam], `fleet.hostAddresses.${fam}`, fam) });
    }
  }
  return { comment, sets, rules: FAMILIES.flatMap((fam) => familyRules(fam, settings, withHosts)) };
}

/**
 * The rules of one family, in chain order. With a port range: first a tcp/udp rule with
 * the port mapping (nft accepts a port mapping only after a transport protocol match),
 * then the same match without ports for everything else (ICMP…) — as Felix does.
 */
function familyRules(fam: Family, s: NatSettings, withHosts: boolean): Rule[] {
  const ip = fam === 'v4' ? 'ip' : 'ip6';
  const match = [
    // "*" alone means every interface; nft rejects an all-wildcard string, so no match at all.
    ...(s.interfaceFilter !== undefined && s.interfaceFilter !== '*' ? [`oifname "${s.interfaceFilter}"`] : []),
    `${ip} saddr @masq_${fam}`,
    `${ip} daddr != @nonat_${fam}`,
    ...(withHosts ? [`${ip} daddr != @hosts_${fam}`] : []),
    'counter',
  ].join(' ');
  const snat = s.natOutgoingAddress !== undefined && familyOf(s.natOutgoingAddress) === fam ? s.natOutgoingAddress : undefined;
  const to = snat === undefined ? undefined : fam === 'v6' ? `[${snat}]` : snat;
  const random = s.fullyRandom ? ' fully-random' : '';
  const plain = rule(fam, 'all', `${match} ${to === undefined ? 'masquerade' : `snat ${ip} to ${to}`}${random}`);
  if (s.portRange === undefined) return [plain];
  const ports = `${s.portRange.from}-${s.portRange.to}`;
  const mapped = to === undefined ? `masquerade to :${ports}` : `snat ${ip} to ${to}:${ports}`;
  return [rule(fam, 'tcpudp', `meta l4proto { tcp, udp } ${match} ${mapped}${random}`), plain];
}

/** Rule id `nf:<family>:<kind>:<first 8 hex of sha256(body)>`: changes exactly when the rule text does. */
function rule(fam: Family, kind: 'all' | 'tcpudp', body: string): Rule {
  return { id: `nf:${fam}:${kind}:${createHash('sha256').update(body).digest('hex').slice(0, 8)}`, body };
}

function familyOf(address: string): Family {
  return address.includes(':') ? 'v6' : 'v4';
}

const V4_CHARS = /^[0-9.]+$/;
const V6_CHARS = /^[0-9A-Fa-f:.]+$/;

function isAddress(text: string, fam: Family): boolean {
  return fam === 'v4' ? V4_CHARS.test(text) && isIPv4(text) : V6_CHARS.test(text) && text.includes(':') && isIPv6(text);
}

function checkCidrs(list: readonly string[], path: string, fam: Family): readonly string[] {
  if (!Array.isArray(list)) throw new NftRenderError(path, 'must be an array of CIDRs');
  const max = fam === 'v4' ? 32 : 128;
  list.forEach((cidr, i) => {
    const m = typeof cidr === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(cidr) : null;
    if (!m || !isAddress(m[1]!, fam) || Number(m[2]) > max) {
      throw new NftRenderError(`${path}[${i}]`, `not an IP${fam} CIDR: ${JSON.stringify(cidr)}`);
    }
  });
  return list;
}

function checkSettings(s: NatSettings, path: string): NatSettings {
  const a = s.natOutgoingAddress;
  if (a !== undefined && (typeof a !== 'string' || !isAddress(a, familyOf(a)))) {
    throw new NftRenderError(`${path}.natOutgoingAddress`, `not an IP address: ${JSON.stringify(a)}`);
  }
  const pr = s.portRange;
  if (pr !== undefined) {
    const ok = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
    if (typeof pr !== 'object' || pr === null || !ok(pr.from) || !ok(pr.to) || pr.from > pr.to) {
      throw new NftRenderError(`${path}.portRange`, 'must be {from, to} with 1 ≤ from ≤ to ≤ 65535');
    }
  }
  if (s.interfaceFilter !== undefined && (typeof s.interfaceFilter !== 'string' || !IFNAME_FILTER.test(s.interfaceFilter))) {
    throw new NftRenderError(`${path}.interfaceFilter`, `not an interface name or prefix*: ${JSON.stringify(s.interfaceFilter)}`);
  }
  if (typeof s.fullyRandom !== 'boolean') throw new NftRenderError(`${path}.fullyRandom`, 'must be a boolean');
  if (s.exclusions !== 'IPPoolsOnly' && s.exclusions !== 'IPPoolsAndHostIPs') {
    throw new NftRenderError(`${path}.exclusions`, 'must be IPPoolsOnly or IPPoolsAndHostIPs');
  }
  return s;
}
