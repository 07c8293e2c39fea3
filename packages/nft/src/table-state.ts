/**
 * Read-back of the natfleet table without its set elements: the parse of
 * `nft -t list table inet natfleet` (terse text, because nft 1.0.6's JSON output drops
 * the table comment) and the comparison with what a bundle should have produced.
 * The table comment carries version and digest; rule comments carry rule hashes, so the
 * comparison never needs to understand rule syntax. Pure: never runs nft.
 *
 * Not seen by this read-back, by design: set elements (listing 100k elements is slow) and
 * a rule whose body was replaced while keeping its comment.
 */

/** What the read-back sees of a table. */
export interface TableState {
  /** The table comment (`natfleet v<version> <digest>`), undefined when the table has none. */
  comment?: string;
  /** Set names in listing order. */
  sets: string[];
  /** Chain names in listing order. */
  chains: string[];
  /** The comment of every rule of every chain, in listing order; '' for a rule without a comment. */
  ruleIds: string[];
}

/** One way the live table differs from the expected one; tagged by `type`, with a log-ready `message`. */
export type TableDifference =
  | { type: 'table-missing'; message: string }
  | { type: 'comment'; expected: string | undefined; actual: string | undefined; message: string }
  | { type: 'set-missing' | 'set-unexpected' | 'chain-missing' | 'chain-unexpected'; name: string; message: string }
  | { type: 'rules'; expected: string[]; actual: string[]; message: string };

const QUOTED = /"(?:[^"\\]|\\.)*"/g;
const COMMENT_AT_END = /(?:^|\s)comment "((?:[^"\\]|\\.)*)"\s*$/;
const BLOCK_START = /^(set|map|chain|flowtable|counter|quota|limit|ct helper|ct timeout|ct expectation|secmark|synproxy)\s+(\S+)\s*\{$/;

/**
 * Parses nft's terse listing of ONE table (`nft -t list table …`; the full listing and
 * our own rendered table text parse the same way, elements are skipped). Lines at table
 * level give the comment and the set and chain names; lines inside a chain that are not
 * its `type … hook …` / `policy` header are rules. Empty or unrecognised text gives
 * `{ sets: [], chains: [], ruleIds: [] }` with no comment; it never throws.
 */
export function parseTerseListing(text: string): TableState {
  const state: TableState = { sets: [], chains: [], ruleIds: [] };
  let depth = 0;
  let block: 'set' | 'chain' | 'other' | undefined;
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
      const start = BLOCK_START.exec(bare);
      if (start) {
        block = start[1] === 'set' || start[1] === 'chain' ? start[1] : 'other';
        if (start[1] === 'set') state.sets.push(start[2]!);
        if (start[1] === 'chain') state.chains.push(start[2]!);
      } else {
        const comment = /^comment "((?:[^"\\]|\\.)*)"\s*;?$/.exec(line);
        if (comment) state.comment = comment[1]!;
      }
      depth += opens - closes;
      if (depth <= 0) break; // one table only
      continue;
    }
    if (depth === 2 && block === 'chain' && !(opens === 0 && closes === 1 && bare === '}')) {
      // Chain header lines and a chain's own comment are not rules.
      const isHeader = /^type\s+\S+\s+hook\s/.test(line) || /^(policy|devices)\s/.test(line) || /^comment "(?:[^"\\]|\\.)*"\s*;?$/.test(line);
      if (!isHeader) state.ruleIds.push(COMMENT_AT_END.exec(line)?.[1] ?? '');
    }
    depth += opens - closes;
    if (depth <= 1) block = undefined;
  }
  return state;
}

/**
 * Differences between the expected state (from `expectedTableState`) and the read-back
 * (`undefined` = the table does not exist). Sets and chains compare as name sets; rule
 * ids compare as an ordered list (order decides NAT). Empty when they are equal;
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
      message: `table comment is ${show(actual.comment)}, expected ${show(expected.comment)}`,
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
  return diffs;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const show = (s: string | undefined): string => (s === undefined ? 'absent' : JSON.stringify(s));
