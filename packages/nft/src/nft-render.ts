/**
 * Bundle → nft text for one node: the `inet natfleet` table, the whole-table swap, the
 * delta transaction from one bundle to the next, the repair of a drifted table, and the
 * state a read-back must find. Deterministic (same bundle and node, same bytes), so it is
 * golden-tested. Owns the shape of the table (DESIGN.md §6):
 *
 * - set `marker` (type mark): one element, key markerKey(version), comment
 *   `natfleet v<version> <digest>` (marker.ts); the table comment is the fixed word
 *   `natfleet` (the kernel ignores a new comment on an existing table, so it cannot carry
 *   the version);
 * - one hash set per family × kind × prefix length present in the data (`masq_v4_24`,
 *   `nonat_v6_64`, `hosts_v4_32`) holding network addresses masked to that length, looked
 *   up as `ip saddr & 255.255.255.0 @masq_v4_24` (no mask at /32 and /128; a /0 has no set,
 *   its rule has no lookup). Hash, not interval, sets: deleting 1,000 elements from a 100k
 *   interval set takes minutes, from a hash set milliseconds (bench/README.md, issue 16);
 * - chains `postrouting` (the base chain: interface filter, then a jump per family),
 *   `nat_v4`/`nat_v6` (noNat and host exclusions return, masquerade pools go to the action
 *   chain) and `masq_v4_do`/`masq_v6_do` (the masquerade/snat actions, with counters).
 *   Every rule carries its id `nf:<v4|v6|inet>:<kind>:<first 8 hex of sha256(rule text)>`
 *   as its comment.
 *
 * Must never emit text it has not validated: every CIDR, address, port and interface
 * filter is checked against a strict character set here (even though the bundle codec
 * already did), set elements are printed from numbers, the interface filter is always
 * quoted, and comments hold only fixed words, digits and hex. Pure: no processes, files
 * or network.
 */
import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { effectiveSettings, IFNAME_FILTER, type Bundle, type NatSettings } from '@natfleet/bundle';
import { NftRenderError } from './errors.js';
import { markerKey } from './marker.js';
import { MARKER_SET, TABLE_NAME, TABLE_REF } from './nft.js';
import { dotted, formatAddress, parseAddress, parseIPv4 } from './set-elements.js';
import type { TableState } from './table-state.js';

type Family = 'v4' | 'v6';
type Kind = 'masq' | 'nonat' | 'hosts';
const FAMILIES: readonly Family[] = ['v4', 'v6'];
const BASE_CHAIN = 'postrouting';
const BITS: Readonly<Record<Family, 32 | 128>> = { v4: 32, v6: 128 };
const V4_CHARS = /^[0-9.]+$/;
const V6_CHARS = /^[0-9A-Fa-f:.]+$/;

/** One rule: its stable id (also its nft comment) and its text without the comment. */
interface Rule {
  id: string;
  body: string;
}

/**
 * One data set: the masked network addresses of one family, kind and prefix length,
 * sorted by value, no duplicates — as numbers; texts are made only where printed (a
 * delta prints only what changed).
 */
interface DataSet {
  name: string;
  type: 'ipv4_addr' | 'ipv6_addr';
  values: Uint32Array | readonly bigint[];
}

interface Chain {
  name: string;
  /** The base chain's `type … hook …; policy …;` line; absent for the chains it jumps to. */
  header?: string;
  rules: Rule[];
}

/** Everything the table is made of, validated. */
interface TablePlan {
  marker: { key: string; comment: string };
  sets: DataSet[];
  chains: Chain[];
}

/**
 * The nft text of the `inet natfleet` table for `nodeName` (the node's override from
 * `bundle.nodes` applied; an unknown node gets the fleet settings). Ends with a newline.
 *
 * The sets present depend on the prefix lengths in the data (a set is never empty, so
 * never `elements = { }`, which nft rejects); the chains are always the same five, the
 * rules depend on the settings and on which sets exist. `hosts_*` sets exist only when the
 * node's effective exclusions are `IPPoolsAndHostIPs`. A bundle without any pool gives the
 * marker, the five chains and the jump rules. Throws NftRenderError when a value is not
 * safe to emit.
 */
export function renderTable(bundle: Bundle, nodeName: string): string {
  return tableText(planTable(bundle, nodeName));
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
 * The delta from the table of `from` to the table of `to` on `nodeName`, as ONE
 * transaction: the marker element of `from` deleted and the one of `to` added, then per
 * set the elements to delete and to add (one `delete element` / `add element` line each,
 * only when non-empty: never empty braces). The marker delete makes it a compare-and-swap:
 * when the live marker is not `from`'s (another version, no table) the kernel refuses the
 * whole transaction and nothing changes. The marker key is the version modulo 2^32, so
 * a live table of the same version with another digest is not told apart here: read the
 * marker first. Equal bundles still give the two marker lines.
 *
 * Undefined when the shapes differ (set names or types, chains, rule ids: a settings
 * change, a prefix length appearing or disappearing): apply renderTransaction then.
 * Throws NftRenderError when either bundle is not safe to render.
 */
export function renderDelta(from: Bundle, to: Bundle, nodeName: string): string | undefined {
  const a = planTable(from, nodeName);
  const b = planTable(to, nodeName);
  if (shapeKey(a) !== shapeKey(b)) return undefined;
  const lines = markerSwap(a.marker.key, b.marker);
  b.sets.forEach((set, i) => {
    const { del, add } = sortedDifference(a.sets[i]!.values, set.values);
    lines.push(...elementLines(set.name, del.map(textOf), add.map(textOf)));
  });
  return `${lines.join('\n')}\n`;
}

/**
 * The repair of a drifted table towards `to`, from a FULL read-back of the live table
 * (`readTableContents`: `live.elements` required) as ONE transaction: per set, the
 * missing elements added and the unexpected ones deleted (compared by address value, not
 * text: nft prints IPv6 compressed), headed by a delete and re-add of the unchanged marker
 * element so that it fails whole when the table was replaced since the read.
 *
 * Undefined when only a whole-table swap can repair: the live table has no elements in
 * the read, its marker comment is not `to`'s or its marker set holds anything but `to`'s
 * one element, its set names, chain names or rule ids (in order) differ from what `to`
 * renders, or a set holds something that is not an address of its family. '' when every
 * set already holds exactly the expected elements (nothing to apply). Not seen, as by
 * every read-back: a rule whose body was replaced while keeping its comment, a set
 * recreated with another type (its repair then fails: fall back to the swap).
 * Throws NftRenderError when `to` is not safe to render.
 */
export function renderRepair(live: TableState, to: Bundle, nodeName: string): string | undefined {
  const plan = planTable(to, nodeName);
  const expected = stateOf(plan);
  const liveElements = live.elements;
  if (liveElements === undefined || live.comment !== plan.marker.comment) return undefined;
  const marker = liveElements[MARKER_SET];
  if (marker === undefined || marker.length !== 1 || markValue(marker[0]!) !== markValue(plan.marker.key)) return undefined;
  if (!sameNames(expected.sets, live.sets) || !sameNames(expected.chains, live.chains)) return undefined;
  if (expected.ruleIds.length !== live.ruleIds.length || expected.ruleIds.some((id, i) => live.ruleIds[i] !== id)) return undefined;
  const lines: string[] = [];
  for (const set of plan.sets) {
    const have = liveElements[set.name];
    const canonical = have && canonicalElements(have, set.type === 'ipv4_addr' ? 32 : 128);
    if (canonical === undefined) return undefined;
    const want = texts(set);
    const wanted = new Set(want);
    const had = new Set(canonical);
    lines.push(...elementLines(set.name, [...had].filter((e) => !wanted.has(e)), want.filter((e) => !had.has(e))));
  }
  if (lines.length === 0) return '';
  return `${[...markerSwap(plan.marker.key, plan.marker), ...lines].join('\n')}\n`;
}

/**
 * What `readTable` must return once the bundle is applied on `nodeName`: the marker
 * comment, the set names (`marker` first), the five chains and every rule id in listing
 * order (chains in the order they were created, rules in chain order). Throws
 * NftRenderError like renderTable.
 */
export function expectedTableState(bundle: Bundle, nodeName: string): Required<Omit<TableState, 'elements'>> {
  return stateOf(planTable(bundle, nodeName));
}

/**
 * expectedTableState plus `elements`: every data set's masked network addresses, as the
 * kernel lists them (IPv6 compressed), to compare with a full read (`readTableContents`).
 * The marker set is left out: the comment covers it. Throws NftRenderError like renderTable.
 */
export function expectedTableContents(bundle: Bundle, nodeName: string): Required<TableState> {
  const plan = planTable(bundle, nodeName);
  return { ...stateOf(plan), elements: Object.fromEntries(plan.sets.map((s) => [s.name, texts(s)])) };
}

/**
 * The marker comment for a bundle, `natfleet v<version> <digest>`: what readMarker and a
 * read-back's `comment` give once the bundle is applied. Throws NftRenderError on a
 * malformed version or digest.
 */
export function tableComment(bundle: Pick<Bundle, 'version' | 'digest'>): string {
  if (!Number.isSafeInteger(bundle.version) || bundle.version < 0) throw new NftRenderError('version', 'must be a non-negative integer');
  if (typeof bundle.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(bundle.digest)) {
    throw new NftRenderError('digest', 'must be sha256:<64 lowercase hex>');
  }
  return `natfleet v${bundle.version} ${bundle.digest}`;
}

function tableText(plan: TablePlan): string {
  const blocks = [
    `\tset ${MARKER_SET} {\n\t\ttype mark\n\t\telements = { ${plan.marker.key} comment "${plan.marker.comment}" }\n\t}`,
    ...plan.sets.map((s) => `\tset ${s.name} {\n\t\ttype ${s.type}\n\t\telements = { ${texts(s).join(', ')} }\n\t}`),
    ...plan.chains.map((c) =>
      [`\tchain ${c.name} {`, ...(c.header ? [`\t\t${c.header}`] : []), ...c.rules.map((r) => `\t\t${r.body} comment "${r.id}"`), '\t}'].join('\n'),
    ),
  ];
  return `table ${TABLE_REF} {\n\tcomment "${TABLE_NAME}"\n${blocks.join('\n\n')}\n}\n`;
}

function stateOf(plan: TablePlan): Required<Omit<TableState, 'elements'>> {
  return {
    comment: plan.marker.comment,
    sets: [MARKER_SET, ...plan.sets.map((s) => s.name)],
    chains: plan.chains.map((c) => c.name),
    ruleIds: plan.chains.flatMap((c) => c.rules.map((r) => r.id)),
  };
}

/** Everything but the elements: equal keys mean a delta can take one table to the other. */
function shapeKey(plan: TablePlan): string {
  return JSON.stringify([plan.sets.map((s) => [s.name, s.type]), plan.chains.map((c) => [c.name, c.header, c.rules.map((r) => r.id)])]);
}

function markerSwap(fromKey: string, to: TablePlan['marker']): string[] {
  return [`delete element ${TABLE_REF} ${MARKER_SET} { ${fromKey} }`, `add element ${TABLE_REF} ${MARKER_SET} { ${to.key} comment "${to.comment}" }`];
}

/** The lines deleting `del` from and adding `add` to `set`; none for an empty list (nft rejects empty braces). */
function elementLines(set: string, del: readonly string[], add: readonly string[]): string[] {
  return [
    ...(del.length > 0 ? [`delete element ${TABLE_REF} ${set} { ${del.join(', ')} }`] : []),
    ...(add.length > 0 ? [`add element ${TABLE_REF} ${set} { ${add.join(', ')} }`] : []),
  ];
}

/** What `have` holds that `want` does not (del) and the reverse (add): one merge walk over two sorted, duplicate-free lists. */
function sortedDifference(have: DataSet['values'], want: DataSet['values']): { del: (number | bigint)[]; add: (number | bigint)[] } {
  const del: (number | bigint)[] = [];
  const add: (number | bigint)[] = [];
  let i = 0;
  let j = 0;
  while (i < have.length || j < want.length) {
    if (j >= want.length || (i < have.length && have[i]! < want[j]!)) del.push(have[i++]!);
    else if (i >= have.length || want[j]! < have[i]!) add.push(want[j++]!);
    else {
      i++;
      j++;
    }
  }
  return { del, add };
}

/** An element value as the kernel lists it: a number is IPv4, a bigint IPv6. */
function textOf(value: number | bigint): string {
  return typeof value === 'number' ? dotted(value) : formatAddress(value, 128);
}

function texts(set: DataSet): string[] {
  return Array.from(set.values, textOf);
}

/** Live element texts as canonical address texts (duplicates kept once); undefined when one is not an address of `bits`. */
function canonicalElements(elements: readonly string[], bits: 32 | 128): string[] | undefined {
  const out: string[] = [];
  for (const text of elements) {
    if (bits === 32) {
      // A valid dotted quad (no leading zeros) is already canonical.
      if (parseIPv4(text) === undefined) return undefined;
      out.push(text);
      continue;
    }
    const a = parseAddress(text);
    if (a === undefined || a.bits !== bits) return undefined;
    out.push(formatAddress(a.value, bits));
  }
  return out;
}

/** A `mark` element as nft lists it (`0x0000002a`) or we render it, as a number; NaN when it is neither. */
function markValue(text: string): number {
  return /^0x[0-9a-f]{1,8}$/.test(text) ? parseInt(text.slice(2), 16) : Number.NaN;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(b);
  return a.length === b.length && a.every((n) => set.has(n));
}

/**
 * Plans already made, per bundle object and node: the enforcer renders a delta from the
 * bundle in force to the next one, and the bundle in force was planned when it was applied
 * (~28 ms at 100k pools, half of a delta's render). A bundle is never mutated once decoded,
 * and a WeakMap lets a plan go with its bundle.
 */
const plans = new WeakMap<Bundle, Map<string, TablePlan>>();

function planTable(bundle: Bundle, nodeName: string): TablePlan {
  let byNode = plans.get(bundle);
  const known = byNode?.get(nodeName);
  if (known) return known;
  const plan = makePlan(bundle, nodeName);
  if (!byNode) plans.set(bundle, (byNode = new Map()));
  byNode.set(nodeName, plan);
  return plan;
}

function makePlan(bundle: Bundle, nodeName: string): TablePlan {
  const comment = tableComment(bundle); // validates the version before markerKey uses it
  const marker = { key: markerKey(bundle.version), comment };
  const settings = checkSettings(effectiveSettings(bundle, nodeName), `settings of node ${JSON.stringify(nodeName)}`);
  const withHosts = settings.exclusions === 'IPPoolsAndHostIPs';
  const sets: DataSet[] = [];
  const familyChains: Chain[] = [];
  const actionChains: Chain[] = [];
  for (const fam of FAMILIES) {
    const sources: [Kind, readonly string[], string][] = [
      ['masq', bundle.fleet[fam].masquerade, `fleet.${fam}.masquerade`],
      ['nonat', bundle.fleet[fam].noNat, `fleet.${fam}.noNat`],
      ...(withHosts ? [['hosts', bundle.fleet.hostAddresses[fam], `fleet.hostAddresses.${fam}`] as [Kind, readonly string[], string]] : []),
    ];
    const byKind = new Map<Kind, Map<number, DataSet['values']>>();
    for (const [kind, list, path] of sources) {
      const groups = groupByPrefix(list, path, fam);
      byKind.set(kind, groups);
      for (const [len, values] of groups) {
        if (len === 0) continue; // matches everything: a rule without a lookup, no set
        sets.push({ name: setName(kind, fam, len), type: fam === 'v4' ? 'ipv4_addr' : 'ipv6_addr', values });
      }
    }
    const ip = fam === 'v4' ? 'ip' : 'ip6';
    const lookups = (kind: Kind, field: 'saddr' | 'daddr', verdict: string): Rule[] =>
      [...byKind.get(kind)!.keys()].map((len) => rule(fam, kind, len === 0 ? verdict : `${ip} ${field} ${maskText(fam, len)}@${setName(kind, fam, len)} ${verdict}`));
    familyChains.push({
      name: `nat_${fam}`,
      rules: [...lookups('nonat', 'daddr', 'return'), ...(withHosts ? lookups('hosts', 'daddr', 'return') : []), ...lookups('masq', 'saddr', `goto masq_${fam}_do`)],
    });
    actionChains.push({ name: `masq_${fam}_do`, rules: actionRules(fam, settings) });
  }
  // "*" alone means every interface; nft rejects an all-wildcard string, so no rule at all.
  const filter = settings.interfaceFilter !== undefined && settings.interfaceFilter !== '*' ? settings.interfaceFilter : undefined;
  const base: Chain = {
    name: BASE_CHAIN,
    header: 'type nat hook postrouting priority srcnat + 10; policy accept;',
    rules: [
      ...(filter === undefined ? [] : [rule('inet', 'iface', `oifname != "${filter}" return`)]),
      ...FAMILIES.map((fam) => rule(fam, 'jump', `meta nfproto ${fam === 'v4' ? 'ipv4' : 'ipv6'} jump nat_${fam}`)),
    ],
  };
  // Listing order is creation order, which is text order: keep expectedTableState's ruleIds in it.
  return { marker, sets, chains: [base, ...familyChains, ...actionChains] };
}

/**
 * The action rules of one family's masquerade chain. With a port range: first a tcp/udp
 * rule with the port mapping (nft accepts a port mapping only after a transport protocol
 * match), then the same action without ports for everything else (ICMP…) — as Felix does.
 */
function actionRules(fam: Family, s: NatSettings): Rule[] {
  const ip = fam === 'v4' ? 'ip' : 'ip6';
  const snat = s.natOutgoingAddress !== undefined && familyOf(s.natOutgoingAddress) === fam ? s.natOutgoingAddress : undefined;
  const to = snat === undefined ? undefined : fam === 'v6' ? `[${snat}]` : snat;
  const random = s.fullyRandom ? ' fully-random' : '';
  const plain = rule(fam, 'all', `counter ${to === undefined ? 'masquerade' : `snat ${ip} to ${to}`}${random}`);
  if (s.portRange === undefined) return [plain];
  const ports = `${s.portRange.from}-${s.portRange.to}`;
  const mapped = to === undefined ? `masquerade to :${ports}` : `snat ${ip} to ${to}:${ports}`;
  return [rule(fam, 'tcpudp', `meta l4proto { tcp, udp } counter ${mapped}${random}`), plain];
}

/** Rule id `nf:<scope>:<kind>:<first 8 hex of sha256(body)>`: changes exactly when the rule text does. */
function rule(scope: Family | 'inet', kind: string, body: string): Rule {
  return { id: `nf:${scope}:${kind}:${createHash('sha256').update(body).digest('hex').slice(0, 8)}`, body };
}

function setName(kind: Kind, fam: Family, len: number): string {
  return `${kind}_${fam}_${len}`;
}

/** `& <mask> ` before a lookup; '' for a full-length prefix (the lookup compares the whole address). */
function maskText(fam: Family, len: number): string {
  const bits = BITS[fam];
  if (len === bits) return '';
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - len)) - 1n);
  return `& ${formatAddress(mask, bits)} `;
}

function familyOf(address: string): Family {
  return address.includes(':') ? 'v6' : 'v4';
}

function isAddress(text: string, fam: Family): boolean {
  return fam === 'v4' ? V4_CHARS.test(text) && isIPv4(text) : V6_CHARS.test(text) && text.includes(':') && isIPv6(text);
}

/**
 * Validates every CIDR of `list` and groups the network addresses (host bits cleared) by
 * prefix length, ascending: each group sorted by value without duplicates. Throws
 * NftRenderError naming the first bad entry. IPv4 takes a path without BigInt, slices,
 * regular expressions or per-element objects: 100k pools per list, every list of two
 * bundles per delta.
 */
function groupByPrefix(list: readonly string[], path: string, fam: Family): Map<number, DataSet['values']> {
  if (!Array.isArray(list)) throw new NftRenderError(path, 'must be an array of CIDRs');
  return fam === 'v4' ? groupV4(list, path) : groupV6(list, path);
}

const TWO_32 = 2 ** 32;

function groupV4(list: readonly string[], path: string): Map<number, Uint32Array> {
  // One sort of `len · 2³² + network` orders by prefix length, then by address.
  const keys = new Float64Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const cidr = list[i];
    const parsed = typeof cidr === 'string' ? parseCidrV4(cidr) : -1;
    if (parsed < 0) throw badCidr(path, i, cidr, 'v4');
    const len = Math.floor(parsed / TWO_32);
    const address = parsed - len * TWO_32;
    keys[i] = len * TWO_32 + (len === 0 ? 0 : (address & (0xffffffff << (32 - len))) >>> 0); // a shift by 32 would be a shift by 0
  }
  keys.sort();
  const groups = new Map<number, Uint32Array>();
  for (let start = 0; start < keys.length; ) {
    const len = Math.floor(keys[start]! / TWO_32);
    let end = start;
    while (end < keys.length && keys[end]! < (len + 1) * TWO_32) end++;
    const values = new Uint32Array(end - start);
    let n = 0;
    for (let k = start; k < end; k++) if (k === start || keys[k] !== keys[k - 1]) values[n++] = keys[k]! - len * TWO_32;
    groups.set(len, values.subarray(0, n));
    start = end;
  }
  return groups;
}

function groupV6(list: readonly string[], path: string): Map<number, bigint[]> {
  const byLen = new Map<number, bigint[]>();
  list.forEach((cidr, i) => {
    const slash = typeof cidr === 'string' ? cidr.indexOf('/') : -1;
    const lenText = slash > 0 ? cidr.slice(slash + 1) : '';
    const len = /^(?:0|[1-9]\d{0,2})$/.test(lenText) ? Number(lenText) : Number.NaN;
    const text = slash > 0 ? cidr.slice(0, slash) : '';
    const a = isAddress(text, 'v6') ? parseAddress(text) : undefined;
    if (a === undefined || a.bits !== 128 || !(len <= 128)) throw badCidr(path, i, cidr, 'v6');
    const host = BigInt(128 - len);
    (byLen.get(len) ?? byLen.set(len, []).get(len)!).push((a.value >> host) << host);
  });
  const groups = new Map<number, bigint[]>();
  for (const len of [...byLen.keys()].sort((x, y) => x - y)) {
    const sorted = byLen.get(len)!.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    groups.set(len, sorted.filter((v, j) => j === 0 || v !== sorted[j - 1]));
  }
  return groups;
}

/**
 * `a.b.c.d/len` — four octets 0–255 and a length 0–32, all decimal without leading zeros —
 * as `len · 2³² + address`; -1 for anything else.
 */
function parseCidrV4(text: string): number {
  let address = 0;
  let part = 0; // the octet, then the length
  let digits = 0;
  let dots = 0;
  let slash = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // leading zero
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46 && !slash && dots < 3 && digits > 0) {
      address = address * 256 + part;
      dots++;
      part = 0;
      digits = 0;
    } else if (c === 47 && !slash && dots === 3 && digits > 0) {
      address = address * 256 + part;
      slash = true;
      part = 0;
      digits = 0;
    } else return -1;
  }
  return slash && digits > 0 && part <= 32 ? part * TWO_32 + address : -1;
}

function badCidr(path: string, i: number, cidr: unknown, fam: Family): NftRenderError {
  return new NftRenderError(`${path}[${i}]`, `not an IP${fam} CIDR: ${JSON.stringify(cidr)}`);
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
