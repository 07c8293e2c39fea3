/**
 * The in-memory Nft for unit tests of the enforcer (like knftables' Fake): it accepts
 * only transactions of the shape renderTransaction produces, keeps the resulting table
 * as text, answers read-backs from it and can be told to fail the next call. It keeps a
 * ruleset generation like the kernel's: +1 per commit, its own or one simulated with
 * `foreignCommit` (someone else's change, to this table or another).
 *
 * Deliberately small: it checks the structure of our own text, not nft's grammar. The
 * real nft tests (and `nft -c` on every golden file) are what prove the text is valid
 * nft. Must never run processes or touch the system.
 */
import { NftSyntaxError } from './errors.js';
import { nextGeneration } from './nft-generation.js';
import { TABLE_REF, type Nft } from './nft.js';
import { parseTableListing, parseTerseListing, type TableState } from './table-state.js';

/** In-memory Nft holding at most the one `inet natfleet` table. */
export class FakeNft implements Nft {
  private table: string | undefined;
  private readonly failures: Error[] = [];
  private readonly generationFailures: Error[] = [];
  private appliedCount = 0;
  private gen = 1;

  /** Number of transactions applied successfully (0 at start). */
  get applied(): number {
    return this.appliedCount;
  }

  /**
   * Makes the next call (of any method but `generation`) reject with `err` without
   * changing anything. Calls queue: two failNext calls fail the next two operations.
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

  /** Replaces the table with the one in `text`; NftSyntaxError (table unchanged) when `text` is not our transaction shape. */
  async applyTransaction(text: string): Promise<void> {
    this.takeFailure();
    this.table = parseTransaction(text);
    this.appliedCount++;
    this.gen = nextGeneration(this.gen);
  }

  /** Validates like applyTransaction, changes nothing. */
  async check(text: string): Promise<void> {
    this.takeFailure();
    parseTransaction(text);
  }

  /** The read-back of the current table; undefined when there is none. */
  async readTable(): Promise<TableState | undefined> {
    this.takeFailure();
    return this.table === undefined ? undefined : parseTerseListing(this.table);
  }

  /** The read-back with set elements; undefined when there is no table. */
  async readTableContents(): Promise<TableState | undefined> {
    this.takeFailure();
    return this.table === undefined ? undefined : parseTableListing(this.table);
  }

  /** The generation: 1 at start, +1 per commit (apply, delete of an existing table, foreignCommit). */
  async generation(): Promise<number> {
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

  /** The current table text exactly as renderTable produced it, or '' when there is no table. */
  dump(): string {
    return this.table ?? '';
  }

  private takeFailure(): void {
    const err = this.failures.shift();
    if (err) throw err;
  }
}

const SET_START = /^set ([a-z0-9_]+) \{$/;
const CHAIN_START = /^chain ([a-z0-9_]+) \{$/;
const CHAIN_HEADER = /^type nat hook postrouting priority srcnat \+ 10; policy accept;$/;
const ELEMENTS = /^elements = \{ ([0-9A-Fa-f:./]+(?:, [0-9A-Fa-f:./]+)*) \}$/;
const RULE_COMMENT = / comment "nf:v[46]:[a-z]+:[0-9a-f]{8}"$/;

/**
 * Checks that `text` is `table inet natfleet {}`, `delete table inet natfleet`, then one
 * table block of the rendered shape, and returns that block (with a final newline).
 * Throws NftSyntaxError with the 1-based line of the first problem.
 */
function parseTransaction(text: string): string {
  const lines = text.split('\n');
  const fail = (index: number, why: string): never => {
    throw new NftSyntaxError(`fake nft: line ${index + 1}: ${why}`, '', index + 1, 1);
  };
  if (lines[0] !== `table ${TABLE_REF} {}`) fail(0, `expected "table ${TABLE_REF} {}"`);
  if (lines[1] !== `delete table ${TABLE_REF}`) fail(1, `expected "delete table ${TABLE_REF}"`);
  if (lines[2] !== `table ${TABLE_REF} {`) fail(2, `expected "table ${TABLE_REF} {"`);
  const sets = new Set<string>();
  let where: 'table' | 'set' | 'chain' | 'done' = 'table';
  let end = -1;
  for (let i = 3; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (where === 'done') {
      if (line !== '') fail(i, 'text after the table');
      continue;
    }
    if (line === '') continue;
    if (line === '}') {
      if (where === 'table') {
        where = 'done';
        end = i;
      } else where = 'table';
      continue;
    }
    if (where === 'table') {
      const set = SET_START.exec(line);
      if (set) {
        if (sets.has(set[1]!)) fail(i, `set ${set[1]} defined twice`);
        sets.add(set[1]!);
        where = 'set';
      } else if (CHAIN_START.test(line)) where = 'chain';
      else if (!/^comment "[A-Za-z0-9 .:_-]*"$/.test(line)) fail(i, `unexpected table statement: ${line}`);
    } else if (where === 'set') {
      if (line === 'elements = { }') fail(i, "syntax error, unexpected '}'");
      if (!/^type ipv[46]_addr$/.test(line) && line !== 'flags interval' && !ELEMENTS.test(line)) fail(i, `unexpected set statement: ${line}`);
    } else {
      if (CHAIN_HEADER.test(line)) continue;
      if (!RULE_COMMENT.test(line)) fail(i, `not a natfleet rule: ${line}`);
      for (const ref of line.matchAll(/@([a-z0-9_]+)/g)) {
        if (!sets.has(ref[1]!)) fail(i, `set ${ref[1]} does not exist`);
      }
      if (/ to :|\]:\d|\d:\d+-\d+/.test(line) && !line.startsWith('meta l4proto')) {
        fail(i, 'transport protocol mapping is only valid after transport protocol match');
      }
    }
  }
  if (end < 0) fail(lines.length - 1, 'unexpected end of file');
  return `${lines.slice(2, end + 1).join('\n')}\n`;
}
