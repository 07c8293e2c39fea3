/**
 * Read-back of the natfleet table: the parse of `nft -t list table inet natfleet` (terse
 * text, no set elements), or of the full listing with set elements, and the comparison
 * with what a bundle should have produced. The version and digest live in the comment of
 * the one element of set `marker` (marker.ts; the table comment is a fixed word); rule
 * comments carry rule hashes, so the comparison never needs to understand rule syntax;
 * set elements compare by the addresses they cover (set-elements.ts). Pure: never runs nft.
 *
 * Not seen by the terse read-back, by design: set elements, the marker's included
 * (listing 100k elements is slow; implementations take the comment from readMarker and
 * list elements only when the ruleset generation moved). Not seen by either: a rule whose
 * body was replaced while keeping its comment.
 */
import { MARKER_SET } from './nft.js';
import { compareElements } from './set-elements.js';

/** What the read-back sees of a table. */
export interface TableState {
  /**
   * The marker comment (`natfleet v<version> <digest>`): the comment of the one element of
   * set `marker`. Undefined when there is no such set, it is not listed with its elements
   * (terse listing), or it holds no element, several, or one without a comment.
   */
  comment?: string;
  /** Set names in listing order (`marker` included). */
  sets: string[];
  /** Chain names in listing order. */
  chains: string[];
  /** The comment of every rule of every chain, in listing order; '' for a rule without a comment. */
  ruleIds: string[];
  /**
   * Set name → its elements as listed (`a`, `a/len` or `a-b`, `0x0000002a` in `marker`;
   * annotations such as a comment dropped). Present only in a full read
   * (`parseTableListing`) and in what a bundle should produce (`expectedTableContents`,
   * which leaves `marker` out); a terse read leaves it out.
   */
  elements?: Record<string, readonly string[]>;
}

/** One way the live table differs from the expected one; tagged by `type`, with a log-ready `message`. */
export type TableDifference =
  | { type: 'table-missing'; message: string }
  | { type: 'comment'; expected: string | undefined; actual: string | undefined; message: string }
  | { type: 'set-missing' | 'set-unexpected' | 'chain-missing' | 'chain-unexpected'; name: string; message: string }
  | { type: 'rules'; expected: string[]; actual: string[]; message: string }
  | { type: 'elements'; name: string; missing: number; unexpected: number; message: string };

const QUOTED = /"(?:[^"\\]|\\.)*"/g;
const COMMENT_AT_END = /(?:^|\s)comment "((?:[^"\\]|\\.)*)"\s*$/;
const ELEMENT_COMMENT = /(?:^|\s)comment "((?:[^"\\]|\\.)*)"/;
const BLOCK_START = /^(set|map|chain|flowtable|counter|quota|limit|ct helper|ct timeout|ct expectation|secmark|synproxy)\s+(\S+)\s*\{$/;

/**
 * Parses nft's terse listing of ONE table (`nft -t list table …`; the full listing and
 * our own rendered table text parse the same way, elements are skipped). Lines at table
 * level give the set and chain names; lines inside a chain that are not its
 * `type … hook …` / `policy` header are rules; the marker element, when the text lists
 * it (a full listing or our rendered text, never nft's terse one), gives the comment.
 * Empty or unrecognised text gives `{ sets: [], chains: [], ruleIds: [] }` with no
 * comment; it never throws.
 */
export function parseTerseListing(text: string): TableState {
  return parseListing(text, false);
}

/**
 * Parses the full listing of ONE table (`nft list table …`, or our rendered text) like
 * parseTerseListing, plus `elements`: every set gets an entry, `[]` when it has none;
 * elements may span many lines. Never throws.
 */
export function parseTableListing(text: string): TableState {
  return parseListing(text, true);
}

function parseListing(text: string, withElements: boolean): TableState {
  const state: TableState = { sets: [], chains: [], ruleIds: [] };
  const elements: Record<string, string[]> = {};
  if (withElements) state.elements = elements;
  const marker: { token: string; comment?: string }[] = [];
  let depth = 0;
  let block: 'set' | 'chain' | 'other' | undefined;
  let set: string | undefined;
  let inElements = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const bare = line.replace(QUOTED, '""');
    const opens = (bare.match(/\{/g) ?? []).length;
    const closes = (bare.match(/\}/g) ?? []).length;
    if (depth === 0) {
      if (/^table\s+\S+\s+\S+\s*\{/.test(line)) depth = opens - closes;
      continue;
    }
    if (depth === 1) {
      // Table-level lines other than blocks (the table comment, flags) carry nothing we read.
      const start = BLOCK_START.exec(bare);
      if (start) {
        block = start[1] === 'set' || start[1] === 'chain' ? start[1] : 'other';
        if (start[1] === 'set') {
          set = start[2]!;
          state.sets.push(set);
          elements[set] = [];
        }
        if (start[1] === 'chain') state.chains.push(start[2]!);
      }
      depth += opens - closes;
      if (depth <= 0) break; // one table only
      continue;
    }
    if (block === 'set' && (inElements || (depth === 2 && bare.startsWith('elements = {')))) {
      // `elements = { a, b,` … `c comment "x, y", d }`, one or several per line.
      inElements = depth + opens - closes > 2;
      for (const item of elementItems(line.replace(/^elements = \{/, ''))) {
        const token = item.split(/\s/, 1)[0]!;
        if (withElements) elements[set!]!.push(token);
        if (set === MARKER_SET) marker.push({ token, comment: ELEMENT_COMMENT.exec(item)?.[1] });
      }
    }
    if (depth === 2 && block === 'chain' && !(opens === 0 && closes === 1 && bare === '}')) {
      // Chain header lines and a chain's own comment are not rules.
      const isHeader = /^type\s+\S+\s+hook\s/.test(line) || /^(policy|devices)\s/.test(line) || /^comment "(?:[^"\\]|\\.)*"\s*;?$/.test(line);
      if (!isHeader) state.ruleIds.push(COMMENT_AT_END.exec(line)?.[1] ?? '');
    }
    depth += opens - closes;
    if (depth <= 1) block = undefined;
  }
  if (marker.length === 1 && marker[0]!.comment !== undefined) state.comment = marker[0]!.comment;
  return state;
}

/**
 * The non-empty, trimmed items of one line of an elements list (after `elements = {`, or
 * the inside of `add element … { … }`): split at commas outside quotes, up to an unquoted
 * `}`. Shared with the fake; not part of the package's API.
 */
export function elementItems(text: string): string[] {
  const items: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '\\') current += text[i++] ?? '';
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',' || c === '}') {
      if (current.trim()) items.push(current.trim());
      current = '';
      if (c === '}') return items;
      continue;
    }
    current += c;
  }
  if (current.trim()) items.push(current.trim());
  return items;
}

/**
 * Differences between the expected state (from `expectedTableState` or
 * `expectedTableContents`) and the read-back (`undefined` = the table does not exist).
 * Sets and chains compare as name sets; rule ids compare as an ordered list (order decides
 * NAT); when both sides carry `elements`, each expected set that exists compares by the
 * addresses it covers (one `elements` difference per set). Empty when they are equal;
 * a missing table gives exactly one `table-missing` difference.
 */
export function compareTableState(expected: TableState, actual: TableState | undefined): TableDifference[] {
  if (actual === undefined) return [{ type: 'table-missing', message: 'table inet natfleet does not exist' }];
  const diffs: TableDifference[] = [];
  if (expected.comment !== actual.comment) {
    diffs.push({
      type: 'comment',
      expected: expected.comment,
      actual: actual.comment,
      message: `marker is ${show(actual.comment)}, expected ${show(expected.comment)}`,
    });
  }
  for (const [kind, exp, act] of [['set', expected.sets, actual.sets] as const, ['chain', expected.chains, actual.chains] as const]) {
    for (const name of exp.filter((n) => !act.includes(n))) {
      diffs.push({ type: `${kind}-missing`, name, message: `${kind} ${name} is missing` });
    }
    for (const name of act.filter((n) => !exp.includes(n))) {
      diffs.push({ type: `${kind}-unexpected`, name, message: `unexpected ${kind} ${name}` });
    }
  }
  if (!sameList(expected.ruleIds, actual.ruleIds)) {
    const missing = expected.ruleIds.filter((id) => !actual.ruleIds.includes(id));
    const extra = actual.ruleIds.filter((id) => !expected.ruleIds.includes(id)).map((id) => id || '(rule without comment)');
    const detail = missing.length || extra.length ? `missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]` : 'same rules in another order or repeated';
    diffs.push({ type: 'rules', expected: [...expected.ruleIds], actual: [...actual.ruleIds], message: `rules differ: ${detail}` });
  }
  if (expected.elements && actual.elements) {
    for (const [name, want] of Object.entries(expected.elements)) {
      const have = actual.elements[name];
      if (have === undefined) continue; // reported as set-missing
      const { missing, unexpected } = compareElements(want, have);
      if (missing.length === 0 && unexpected.length === 0) continue;
      diffs.push({
        type: 'elements',
        name,
        missing: missing.length,
        unexpected: unexpected.length,
        message: `set ${name}: ${missing.length} of ${want.length} elements missing${sample(missing)}, ${unexpected.length} unexpected${sample(unexpected)}`,
      });
    }
  }
  return diffs;
}

/** ` (a, b, c, …)` for a log line; '' for none. */
function sample(items: readonly string[]): string {
  if (items.length === 0) return '';
  return ` (${items.slice(0, 3).join(', ')}${items.length > 3 ? ', …' : ''})`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const show = (s: string | undefined): string => (s === undefined ? 'absent' : JSON.stringify(s));
