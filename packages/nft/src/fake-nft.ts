/**
 * The in-memory Nft for unit tests of the enforcer (like knftables' Fake): it accepts
 * the two transaction shapes this package renders — the whole-table swap
 * (renderTransaction) and element deltas (renderDelta, renderRepair) — keeps the resulting
 * table as text, answers read-backs from it and can be told to fail the next call. It
 * keeps a ruleset generation like the kernel's: +1 per commit, its own or one simulated
 * with `foreignCommit` (someone else's change, to this table or another).
 *
 * What it checks, like nft and the kernel would (all or nothing: a failed transaction
 * changes nothing): a swap is `table inet natfleet {}`, `delete table inet natfleet`, then
 * one table block of the rendered shape (sets of type ipv4_addr, ipv6_addr or mark whose
 * elements are values of that type, never `elements = { }`; rules ending in an `nf:` id
 * comment, referring only to sets defined before them and chains defined in the block; a
 * port mapping only after `meta l4proto`). A delta is only `add element` / `delete element`
 * lines on sets of the live table; adding an element that is there is a no-op, deleting
 * one that is not fails the whole transaction with NftKernelError ("No such file or
 * directory"), as the kernel does — which makes the marker compare-and-swap work here
 * too. A missing table or set fails with the error class nft gives (NftSyntaxError).
 * Elements are compared by value and listed afterwards as the kernel prints them, sorted,
 * so a delta leaves exactly the text renderTable gives for the target bundle.
 *
 * Deliberately small: it checks the structure of our own text, not nft's grammar. The
 * real nft tests (and `nft -c` on every golden file) are what prove the text is valid
 * nft. Must never run processes or touch the system.
 */
import { NftError, NftSyntaxError, nftErrorFromFailure } from './errors.js';
import { parseMarkerListing } from './marker.js';
import { nextGeneration } from './nft-generation.js';
import { MARKER_SET, TABLE_NAME, TABLE_REF, type Nft } from './nft.js';
import { formatAddress, parseAddress } from './set-elements.js';
import { elementItems, parseTableListing, parseTerseListing, type TableState } from './table-state.js';

/** In-memory Nft holding at most the one `inet natfleet` table. */
export class FakeNft implements Nft {
  readonly backend = 'fake' as const;
  private table: string | undefined;
  private readonly failures: Error[] = [];
  private readonly generationFailures: Error[] = [];
  private appliedCount = 0;
  private gen = 1;
  private closed = false;

  /** Number of transactions applied successfully (0 at start). */
  get applied(): number {
    return this.appliedCount;
  }

  /**
   * Makes the next call (of any method but `generation` and `close`) reject with `err`
   * without changing anything. Calls queue: two failNext calls fail the next two operations.
   */
  failNext(err: Error): void {
    this.failures.push(err);
  }

  /** Makes the next `generation()` call reject with `err` (queued like failNext, separately). */
  failNextGeneration(err: Error): void {
    this.generationFailures.push(err);
  }

  /**
   * Another process commits a transaction: the generation moves on and, when given,
   * `edit` turns the table text (`dump()`; '' when there is none) into the new one ('' deletes
   * it). Without `edit` the commit changed some other table. The text is not validated.
   */
  foreignCommit(edit?: (table: string) => string): void {
    if (edit) {
      const next = edit(this.table ?? '');
      this.table = next === '' ? undefined : next;
    }
    this.gen = nextGeneration(this.gen);
  }

  /** Runs a swap or a delta (see the module comment); rejects (table unchanged) like nft would. */
  async applyTransaction(text: string): Promise<void> {
    this.takeFailure();
    this.table = runTransaction(this.table, text, 'apply');
    this.appliedCount++;
    this.gen = nextGeneration(this.gen);
  }

  /** Validates like applyTransaction (against the live table, for a delta), changes nothing. */
  async check(text: string): Promise<void> {
    this.takeFailure();
    runTransaction(this.table, text, 'check');
  }

  /** The comment of the marker set's first element; undefined without a table, a marker set or a commented element. */
  async readMarker(): Promise<string | undefined> {
    this.takeFailure();
    return this.marker();
  }

  /** The terse read-back (no elements) with the marker comment, as the real implementations give it; undefined when there is no table. */
  async readTable(): Promise<TableState | undefined> {
    this.takeFailure();
    if (this.table === undefined) return undefined;
    const { comment: _, ...state } = parseTerseListing(this.table);
    const marker = this.marker();
    return marker === undefined ? state : { ...state, comment: marker };
  }

  /** The read-back with set elements; undefined when there is no table. */
  async readTableContents(): Promise<TableState | undefined> {
    this.takeFailure();
    return this.table === undefined ? undefined : parseTableListing(this.table);
  }

  /** The generation: 1 at start, +1 per commit (apply, delete of an existing table, foreignCommit). */
  async generation(): Promise<number> {
    this.assertOpen();
    const err = this.generationFailures.shift();
    if (err) throw err;
    return this.gen;
  }

  /** Removes the table; false when there was none. */
  async deleteTable(): Promise<boolean> {
    this.takeFailure();
    const existed = this.table !== undefined;
    this.table = undefined;
    if (existed) this.gen = nextGeneration(this.gen);
    return existed;
  }

  /** Idempotent; every later call but close rejects with an NftError of code NFT_UNAVAILABLE. The table is kept (as the kernel keeps it). */
  async close(): Promise<void> {
    this.closed = true;
  }

  /** The current table text (as renderTable produced it, or as deltas left it), or '' when there is no table. */
  dump(): string {
    return this.table ?? '';
  }

  private marker(): string | undefined {
    if (this.table === undefined) return undefined;
    const block = new RegExp(`\\tset ${MARKER_SET} \\{\\n[\\s\\S]*?\\n\\t\\}`).exec(this.table);
    return block ? parseMarkerListing(block[0]) : undefined;
  }

  private assertOpen(): void {
    if (this.closed) throw new NftError('NFT_UNAVAILABLE', 'fake nft: closed');
  }

  private takeFailure(): void {
    this.assertOpen();
    const err = this.failures.shift();
    if (err) throw err;
  }
}

const SET_START = /^set ([a-z0-9_]+) \{$/;
const CHAIN_START = /^chain ([a-z0-9_]+) \{$/;
const CHAIN_HEADER = /^type nat hook postrouting priority srcnat \+ 10; policy accept;$/;
const RULE_COMMENT = / comment "nf:(?:v4|v6|inet):[a-z]+:[0-9a-f]{8}"$/;
const DELTA_LINE = /^(add|delete) element inet natfleet ([a-z0-9_]+) \{ (.+) \}$/;
type SetType = 'ipv4_addr' | 'ipv6_addr' | 'mark';

/** `text` applied to `table` (undefined: no table): the new table text. Throws like nft; never changes anything itself. */
function runTransaction(table: string | undefined, text: string, operation: 'apply' | 'check'): string {
  return text.startsWith(`table ${TABLE_REF} {}\n`) ? parseSwap(text) : applyDelta(table, text, operation);
}

function syntaxError(index: number, why: string): never {
  throw new NftSyntaxError(`fake nft: line ${index + 1}: ${why}`, '', index + 1, 1);
}

/**
 * Checks that `text` is `table inet natfleet {}`, `delete table inet natfleet`, then one
 * table block of the rendered shape, and returns that block (with a final newline).
 * Throws NftSyntaxError with the 1-based line of the first problem.
 */
function parseSwap(text: string): string {
  const lines = text.split('\n');
  if (lines[1] !== `delete table ${TABLE_REF}`) syntaxError(1, `expected "delete table ${TABLE_REF}"`);
  if (lines[2] !== `table ${TABLE_REF} {`) syntaxError(2, `expected "table ${TABLE_REF} {"`);
  const sets = new Map<string, SetType | undefined>(); // undefined until its `type` line
  const chains = new Set<string>();
  const chainRefs: [number, string][] = [];
  let where: 'table' | 'set' | 'chain' | 'done' = 'table';
  let set: string | undefined;
  let end = -1;
  for (let i = 3; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (where === 'done') {
      if (line !== '') syntaxError(i, 'text after the table');
      continue;
    }
    if (line === '') continue;
    if (line === '}') {
      if (where === 'set' && sets.get(set!) === undefined) syntaxError(i, `set ${set} has no type`);
      if (where === 'table') {
        where = 'done';
        end = i;
      } else where = 'table';
      continue;
    }
    if (where === 'table') {
      const setStart = SET_START.exec(line);
      const chainStart = CHAIN_START.exec(line);
      if (setStart) {
        set = setStart[1]!;
        if (sets.has(set)) syntaxError(i, `set ${set} defined twice`);
        sets.set(set, undefined);
        where = 'set';
      } else if (chainStart) {
        if (chains.has(chainStart[1]!)) syntaxError(i, `chain ${chainStart[1]} defined twice`);
        chains.add(chainStart[1]!);
        where = 'chain';
      } else if (!/^comment "[A-Za-z0-9 .:_-]*"$/.test(line)) syntaxError(i, `unexpected table statement: ${line}`);
    } else if (where === 'set') {
      const type = /^type (ipv4_addr|ipv6_addr|mark)$/.exec(line);
      if (type) sets.set(set!, type[1] as SetType);
      else if (line === 'elements = { }') syntaxError(i, "syntax error, unexpected '}'");
      else if (line.startsWith('elements = { ') && line.endsWith(' }') && sets.get(set!) !== undefined) {
        for (const item of elementItems(line.slice('elements = {'.length))) {
          if (elementKey(item, sets.get(set!)!) === undefined) syntaxError(i, `not a ${sets.get(set!)} element: ${item}`);
        }
      } else syntaxError(i, `unexpected set statement: ${line}`);
    } else {
      if (CHAIN_HEADER.test(line)) continue;
      if (!RULE_COMMENT.test(line)) syntaxError(i, `not a natfleet rule: ${line}`);
      for (const ref of line.matchAll(/@([a-z0-9_]+)/g)) {
        if (!sets.has(ref[1]!)) syntaxError(i, `set ${ref[1]} does not exist`);
      }
      for (const ref of line.matchAll(/\b(?:jump|goto) ([a-z0-9_]+)/g)) chainRefs.push([i, ref[1]!]);
      if (/ to :|\]:\d|\d:\d+-\d+/.test(line) && !line.startsWith('meta l4proto')) {
        syntaxError(i, 'transport protocol mapping is only valid after transport protocol match');
      }
    }
  }
  if (end < 0) syntaxError(lines.length - 1, 'unexpected end of file');
  for (const [i, chain] of chainRefs) if (!chains.has(chain)) syntaxError(i, `chain ${chain} does not exist`);
  return `${lines.slice(2, end + 1).join('\n')}\n`;
}

/** One set of the live table text: where it is and what it holds (canonical item text by value key). */
interface LiveSet {
  type: SetType | undefined;
  /** Line index of `\tset <name> {` and of its closing `\t}`. */
  start: number;
  end: number;
  items: Map<string, { text: string; order: bigint }>;
  changed: boolean;
}

/** The delta `text` applied to `table`; throws (nothing changed) like nft and the kernel. */
function applyDelta(table: string | undefined, text: string, operation: 'apply' | 'check'): string {
  const lines = text.split('\n');
  const ops: { index: number; add: boolean; set: string; items: string[] }[] = [];
  lines.forEach((raw, index) => {
    if (raw.trim() === '') return;
    const m = DELTA_LINE.exec(raw);
    if (!m) syntaxError(index, `not a natfleet transaction line: ${raw.slice(0, 80)}`);
    ops.push({ index, add: m[1] === 'add', set: m[2]!, items: elementItems(m[3]!) });
  });
  if (ops.length === 0) syntaxError(0, 'empty transaction');
  const tableLines = table?.split('\n') ?? [];
  const sets = liveSets(tableLines);
  const fail = (index: number, kernel: boolean, column: number, width: number): never => {
    const prefix = kernel ? 'Could not process rule: ' : '';
    const caret = `${' '.repeat(column - 1)}${'^'.repeat(width)}`;
    throw nftErrorFromFailure({
      stderr: `/dev/stdin:${index + 1}:${column}-${column + width - 1}: Error: ${prefix}No such file or directory\n${lines[index]}\n${caret}`,
      exitCode: 1,
      operation,
    });
  };
  for (const op of ops) {
    const line = lines[op.index]!;
    if (table === undefined) fail(op.index, false, line.indexOf(` ${TABLE_NAME} `) + 2, TABLE_NAME.length);
    const set = sets.get(op.set);
    if (!set) fail(op.index, false, line.indexOf(` ${op.set} `) + 2, op.set.length);
    if (set!.type === undefined) syntaxError(op.index, `set ${op.set} has no type the fake knows`);
    for (const item of op.items) {
      const key = elementKey(item, set!.type!);
      if (key === undefined) syntaxError(op.index, `not a ${set!.type} element: ${item}`);
      if (op.add) {
        if (!set!.items.has(key.key)) set!.items.set(key.key, { text: key.text, order: key.order });
      } else if (!set!.items.delete(key.key)) {
        fail(op.index, true, line.indexOf(item) + 1, item.split(' ', 1)[0]!.length);
      }
      set!.changed = true;
    }
  }
  // Rewrite the changed sets' elements, last set first so earlier line indexes stay valid.
  const out = [...tableLines];
  for (const set of [...sets.values()].filter((s) => s.changed).sort((a, b) => b.start - a.start)) {
    const old = out.slice(set.start + 1, set.end);
    const mask = elementsMask(old);
    const body = old.filter((_, i) => !mask[i]);
    const items = [...set.items.values()].sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0)).map((v) => v.text);
    if (items.length > 0) body.push(`\t\telements = { ${items.join(', ')} }`);
    out.splice(set.start + 1, set.end - set.start - 1, ...body);
  }
  return out.join('\n');
}

/** For each line of a set body: whether it belongs to its `elements = { … }` list (which may span lines). */
function elementsMask(body: readonly string[]): boolean[] {
  let inside = false;
  return body.map((raw) => {
    const line = raw.trim().replace(/"(?:[^"\\]|\\.)*"/g, '""');
    if (!inside && line.startsWith('elements = {')) inside = true;
    const member = inside;
    if (inside && line.includes('}')) inside = false;
    return member;
  });
}

/** The sets of a table text (`\tset <name> {` … `\t}` at table level) with their elements. */
function liveSets(lines: readonly string[]): Map<string, LiveSet> {
  const sets = new Map<string, LiveSet>();
  for (let i = 0; i < lines.length; i++) {
    const start = /^\tset ([A-Za-z0-9_]+) \{$/.exec(lines[i]!);
    if (!start) continue;
    let end = i + 1;
    while (end < lines.length && lines[end] !== '\t}') end++;
    const body = lines.slice(i + 1, end);
    const type = /^\t\ttype (ipv4_addr|ipv6_addr|mark)$/m.exec(body.join('\n'))?.[1] as SetType | undefined;
    const items = new Map<string, { text: string; order: bigint }>();
    const mask = elementsMask(body);
    const listed = body
      .filter((_, j) => mask[j])
      .join(' ')
      .trim()
      .replace(/^elements = \{/, '');
    for (const item of elementItems(listed)) {
      const key = type && elementKey(item, type);
      if (key) items.set(key.key, { text: key.text, order: key.order });
    }
    sets.set(start[1]!, { type, start: i, end, items, changed: false });
    i = end;
  }
  return sets;
}

/**
 * An element item (`value` or `value comment "…"`) of a set of `type`: its identity (the
 * value), its text as the kernel lists it and its sort order. Undefined when the value is
 * not of that type, or is a prefix or range (these sets have no `flags interval`).
 */
function elementKey(item: string, type: SetType): { key: string; text: string; order: bigint } | undefined {
  const [value, ...rest] = item.split(' ');
  const annotation = rest.length > 0 ? ` ${rest.join(' ')}` : '';
  if (annotation !== '' && !/^ comment "(?:[^"\\]|\\.)*"$/.test(annotation)) return undefined;
  if (type === 'mark') {
    if (!/^(?:0x[0-9a-fA-F]{1,8}|\d{1,10})$/.test(value!)) return undefined;
    const n = Number(value);
    if (n > 0xffffffff) return undefined;
    return { key: String(n), text: `0x${n.toString(16).padStart(8, '0')}${annotation}`, order: BigInt(n) };
  }
  const a = parseAddress(value!);
  const bits = type === 'ipv4_addr' ? 32 : 128;
  if (a === undefined || a.bits !== bits) return undefined;
  return { key: a.value.toString(), text: `${formatAddress(a.value, bits)}${annotation}`, order: a.value };
}
