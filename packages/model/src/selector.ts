// Calico label selectors (`nodeSelector`, policy selectors), modelled on libcalico-go's
// lib/selector/tokenizer and lib/selector/parser.
//
// Owns: tokenising and parsing the selector grammar into a plain AST, printing an AST in
// Calico's canonical String() form, and evaluating an AST against a label map with Calico's
// semantics. It accepts exactly the inputs Calico's parser accepts, except that it refuses to
// nest parentheses deeper than MAX_DEPTH. Never: I/O, logging, caching, or trimming input;
// positions are 0-based UTF-16 offsets into the text given.
//
// Grammar (whitespace is only space and tab; anything else outside a string is an error):
//   selector := ε (means all()) | or
//   or       := and ('||' and)*              -- '&&' binds tighter than '||'
//   and      := op ('&&' op)*
//   op       := '!'* (has(KEY) | all() | global() | '(' or ')' | KEY cmp STRING
//                     | KEY ('in' | 'not in') '{' (STRING (',' STRING)* ','?)? '}')
//   cmp      := '==' | '!=' | 'contains' | 'starts with' | 'ends with'
//   KEY      := [A-Za-z0-9_./-]{1,512}
//   STRING   := '"' [^"]* '"' | "'" [^']* "'"  -- no escapes: a value can hold one quote kind
// `startswith`, `endswith` and `notin` (any space or tab between the words) are accepted.
// A run of '!' collapses to one negation or none, as in Calico.
import { SelectorError } from './errors.js';

/** One node of a parsed selector. `in` values are sorted (by code point) and de-duplicated. */
export type SelectorNode =
  | { type: 'all' }
  | { type: 'global' }
  | { type: 'has'; key: string }
  | { type: 'compare'; key: string; op: CompareOp; value: string }
  | { type: 'in'; key: string; values: string[]; negated: boolean }
  | { type: 'not'; operand: SelectorNode }
  | { type: 'and'; operands: SelectorNode[] }
  | { type: 'or'; operands: SelectorNode[] };

/** Operators comparing one label value with one string. */
export type CompareOp = '==' | '!=' | 'contains' | 'starts with' | 'ends with';

const MAX_KEY_LENGTH = 512; // tokenizer.MaxLabelLength
const MAX_DEPTH = 1000; // our guard against stack exhaustion; Calico has none
const KEY_CHAR = /[A-Za-z0-9_./-]/;

type Punct = '(' | ')' | '{' | '}' | ',' | '!' | '&&' | '||' | '==' | '!=' | 'in' | 'not in';
type Token =
  | { kind: Punct | CompareOp | 'all' | 'global' | 'eof'; pos: number }
  | { kind: 'label' | 'string' | 'has'; pos: number; text: string }
  | { kind: 'error'; pos: number; detail: string };

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t';
const isKeyChar = (c: string | undefined): boolean => c !== undefined && KEY_CHAR.test(c);

/** Tokens up to and including `eof`, or up to the first `error` (thrown only if the parser reaches it). */
function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const skip = (): void => {
    while (isSpace(text[i])) i++;
  };
  const fail = (pos: number, detail: string): Token[] => {
    out.push({ kind: 'error', pos, detail });
    return out;
  };
  /** Reads a label key at i: the key, or undefined (with i unmoved) when none starts here. */
  const key = (): string | undefined => {
    const start = i;
    while (isKeyChar(text[i])) i++;
    return i === start ? undefined : text.slice(start, i);
  };
  /** Matches words separated by optional whitespace and ending at a word boundary; advances i. */
  const words = (...ws: string[]): boolean => {
    let j = i;
    for (const [n, w] of ws.entries()) {
      if (n > 0) while (isSpace(text[j])) j++;
      if (!text.startsWith(w, j)) return false;
      j += w.length;
    }
    if (isKeyChar(text[j])) return false;
    i = j;
    return true;
  };
  for (;;) {
    skip();
    const pos = i;
    const c = text[i];
    const two = text.slice(i, i + 2);
    if (c === undefined) {
      out.push({ kind: 'eof', pos });
      return out;
    } else if ('(){},'.includes(c)) {
      out.push({ kind: c as Punct, pos });
      i++;
    } else if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) return fail(pos, `unterminated string: no closing ${c}`);
      out.push({ kind: 'string', pos, text: text.slice(i + 1, end) });
      i = end + 1;
    } else if (two === '==' || two === '!=' || two === '&&' || two === '||') {
      out.push({ kind: two, pos });
      i += 2;
    } else if (c === '!') {
      out.push({ kind: '!', pos });
      i++;
    } else if (c === '=' || c === '&' || c === '|') {
      return fail(pos, `expected ${c}${c}`);
    } else if (out.at(-1)?.kind === 'label') {
      // Right after a label only a word operator may follow (Calico's tokenizer rule).
      const kind = words('contains') ? 'contains' : words('starts', 'with') ? 'starts with'
        : words('ends', 'with') ? 'ends with' : words('not', 'in') ? 'not in' : words('in') ? 'in' : undefined;
      if (kind === undefined) {
        return fail(pos, 'expected an operator (==, !=, in, not in, contains, starts with, ends with) after a label');
      }
      out.push({ kind, pos });
    } else {
      const fn = ['has(', 'all(', 'global('].find((f) => text.startsWith(f, i));
      let k: string | undefined;
      if (fn !== undefined) {
        i += fn.length;
        skip();
        if (fn === 'has(') {
          const at = i;
          if ((k = key()) === undefined) return fail(at, 'expected a label key inside has()');
          if (k.length > MAX_KEY_LENGTH) return fail(at, `label key is longer than ${MAX_KEY_LENGTH} characters`);
          skip();
        }
        if (text[i] !== ')') return fail(i, `expected ) to close ${fn}`);
        i++;
        out.push(k !== undefined ? { kind: 'has', pos, text: k } : { kind: fn === 'all(' ? 'all' : 'global', pos });
      } else if ((k = key()) === undefined) {
        return fail(pos, `unexpected character ${JSON.stringify(c)}`);
      } else if (k.length > MAX_KEY_LENGTH) {
        return fail(pos, `label key is longer than ${MAX_KEY_LENGTH} characters`);
      } else {
        out.push({ kind: 'label', pos, text: k });
      }
    }
  }
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'the end of the selector';
  if (t.kind === 'label' || t.kind === 'string') return `${t.kind} ${JSON.stringify(t.text)}`;
  if (t.kind === 'has') return `has(${t.text})`;
  return t.kind === 'all' || t.kind === 'global' ? `${t.kind}()` : t.kind;
}

const COMPARE_OPS: ReadonlySet<string> = new Set<CompareOp>(['==', '!=', 'contains', 'starts with', 'ends with']);

class Parser {
  private at = 0;
  constructor(private readonly text: string, private readonly tokens: Token[]) {}

  fail(pos: number, detail: string): never {
    throw new SelectorError(this.text, pos, detail);
  }
  peek(): Token {
    const t = this.tokens[this.at] as Token; // the list always ends with eof or error
    if (t.kind === 'error') this.fail(t.pos, t.detail);
    return t;
  }
  next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.at++;
    return t;
  }
  root(): SelectorNode {
    if (this.peek().kind === 'eof') return { type: 'all' };
    const node = this.or(0);
    const rest = this.peek();
    if (rest.kind !== 'eof') this.fail(rest.pos, `unexpected ${describe(rest)} after a complete expression`);
    return node;
  }
  or(depth: number): SelectorNode {
    const operands = [this.and(depth)];
    while (this.peek().kind === '||') this.next(), operands.push(this.and(depth));
    return operands.length === 1 ? (operands[0] as SelectorNode) : { type: 'or', operands };
  }
  and(depth: number): SelectorNode {
    const operands = [this.operation(depth)];
    while (this.peek().kind === '&&') this.next(), operands.push(this.operation(depth));
    return operands.length === 1 ? (operands[0] as SelectorNode) : { type: 'and', operands };
  }
  operation(depth: number): SelectorNode {
    let negated = false;
    while (this.peek().kind === '!') this.next(), (negated = !negated);
    const t = this.next();
    let node: SelectorNode;
    if (t.kind === 'has') node = { type: 'has', key: t.text };
    else if (t.kind === 'all' || t.kind === 'global') node = { type: t.kind };
    else if (t.kind === 'label') node = this.labelOperation(t.text);
    else if (t.kind === '(') {
      if (depth >= MAX_DEPTH) this.fail(t.pos, `parentheses nested deeper than ${MAX_DEPTH}`);
      node = this.or(depth + 1);
      const close = this.next();
      if (close.kind !== ')') this.fail(close.pos, `expected ) to match ( at position ${t.pos}, found ${describe(close)}`);
    } else this.fail(t.pos, `expected a label, has(), all(), global(), ! or ( but found ${describe(t)}`);
    return negated ? { type: 'not', operand: node } : node;
  }
  labelOperation(key: string): SelectorNode {
    const op = this.next();
    if (COMPARE_OPS.has(op.kind)) {
      const v = this.next();
      if (v.kind !== 'string') this.fail(v.pos, `expected a quoted string after ${op.kind}, found ${describe(v)}`);
      return { type: 'compare', key, op: op.kind as CompareOp, value: v.text };
    }
    if (op.kind !== 'in' && op.kind !== 'not in') {
      this.fail(op.pos, `expected an operator after label ${JSON.stringify(key)}, found ${describe(op)}`);
    }
    const open = this.next();
    if (open.kind !== '{') this.fail(open.pos, `expected { after ${op.kind}, found ${describe(open)}`);
    const values: string[] = [];
    let afterValue = false; // Calico allows `{}` and a trailing comma, `{"a",}`
    for (let t = this.peek(); t.kind === 'string'; t = this.peek()) {
      values.push(t.text);
      this.next();
      afterValue = this.peek().kind !== ',';
      if (afterValue) break;
      this.next();
    }
    const close = this.next();
    if (close.kind !== '}') {
      const want = afterValue ? ', or }' : 'a quoted string or }';
      this.fail(close.pos, `expected ${want} in the set after ${op.kind}, found ${describe(close)}`);
    }
    return { type: 'in', key, values: canonicalSet(values), negated: op.kind === 'not in' };
  }
}

/** Orders strings by code point, which is the byte order of their UTF-8 (Go's string order). */
function byCodePoint(a: string, b: string): number {
  for (let i = 0; i < a.length && i < b.length; ) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

function canonicalSet(values: readonly string[]): string[] {
  return [...new Set(values)].sort(byCodePoint);
}

/**
 * Parses selector text. "" and space/tab-only text parse as `{ type: 'all' }` (Calico's rule);
 * `!!x` parses as `x`; `in` values come back sorted and de-duplicated; `&&`/`||` chains become
 * one `and`/`or` node each, while parenthesised sub-chains stay nested as written (as does
 * `!(!x)`: only adjacent `!`s collapse).
 * @throws SelectorError with the 0-based position of the offending token (input.length at an
 *   unexpected end), for anything Calico rejects and for nesting deeper than 1000 parentheses.
 */
export function parseSelector(text: string): SelectorNode {
  return new Parser(text, tokenize(text)).root();
}

/** {@link parseSelector} without throwing: a SelectorError comes back as `{ ok: false }`; "" is ok (all()). */
export function trySelector(text: string): { ok: true; ast: SelectorNode } | { ok: false; error: SelectorError } {
  try {
    return { ok: true, ast: parseSelector(text) };
  } catch (e) {
    if (e instanceof SelectorError) return { ok: false, error: e };
    throw e;
  }
}

function quote(value: string): string {
  if (!value.includes('"')) return `"${value}"`;
  if (value.includes("'")) {
    throw new SelectorError(value, value.indexOf("'"), 'a value holding both \' and " cannot be written as a selector string');
  }
  return `'${value}'`;
}

/** Strips one-operand and/or wrappers, which print as their operand. */
function unwrap(node: SelectorNode): SelectorNode {
  while ((node.type === 'and' || node.type === 'or') && node.operands.length === 1) node = node.operands[0] as SelectorNode;
  return node;
}

function checkKey(key: string): string {
  const bad = key.search(/[^A-Za-z0-9_./-]/);
  if (bad < 0 && key.length > 0 && key.length <= MAX_KEY_LENGTH) return key;
  throw new SelectorError(key, bad >= 0 ? bad : Math.min(key.length, MAX_KEY_LENGTH), 'not a valid label key ([A-Za-z0-9_./-]{1,512})');
}

/**
 * Canonical text, character for character Calico's Selector.String() for every AST parsed from
 * text without a `!(!…)`: `a == "b"`, values double-quoted unless they hold a `"`
 * (then single-quoted), `in` sets sorted and de-duplicated as `{"a", "b"}`, every `and`/`or` of
 * two or more operands parenthesised (`(a && b)`, even at top level), `not` as a bare `!` prefix.
 * So that the text is a fixpoint (print(parse(print(n))) === print(n)), a double negation
 * (`!(!x)`, where Calico prints `!!x`) prints as x, and a one-operand `and`/`or` (never parsed)
 * prints as its operand.
 * @throws SelectorError (input: the offending key or value) for an invalid key, a value holding
 *   both quote kinds, or an `and`/`or` with no operands: none of these can be written.
 */
export function printSelector(node: SelectorNode): string {
  switch (node.type) {
    case 'all':
    case 'global':
      return `${node.type}()`;
    case 'has':
      return `has(${checkKey(node.key)})`;
    case 'compare':
      return `${checkKey(node.key)} ${node.op} ${quote(node.value)}`;
    case 'in':
      return `${checkKey(node.key)} ${node.negated ? 'not in' : 'in'} {${canonicalSet(node.values).map(quote).join(', ')}}`;
    case 'not': {
      const inner = unwrap(node.operand);
      return inner.type === 'not' ? printSelector(inner.operand) : `!${printSelector(inner)}`;
    }
    case 'and':
    case 'or':
      if (node.operands.length === 0) throw new SelectorError('', 0, `an empty ${node.type} cannot be written`);
      if (node.operands.length === 1) return printSelector(node.operands[0] as SelectorNode);
      return `(${node.operands.map(printSelector).join(node.type === 'and' ? ' && ' : ' || ')})`;
  }
}

/** True when a `global()` term appears anywhere in the tree, even under `!`; false for `all()`/"". */
export function selectorUsesGlobal(node: SelectorNode): boolean {
  if (node.type === 'global') return true;
  if (node.type === 'not') return selectorUsesGlobal(node.operand);
  if (node.type === 'and' || node.type === 'or') return node.operands.some(selectorUsesGlobal);
  return false;
}

/**
 * True when the text parses to exactly `all()`: "", space/tab-only text, `all()`, `( all( ) )`,
 * `!!all()`. False for invalid text (including "all()\n": only spaces and tabs are whitespace),
 * and for merely equivalent selectors such as `all() && all()` or `global()`.
 */
export function isAllSelector(text: string): boolean {
  const r = trySelector(text);
  return r.ok && r.ast.type === 'all';
}

/**
 * Evaluates with Calico's semantics. An absent label fails ==, contains, starts with, ends with
 * and in, but satisfies != and not in; `all()` and `global()` match every label map (what
 * global() scopes to, non-namespaced resources, is the caller's business: see
 * selectorUsesGlobal). Only own properties of `labels` count as labels.
 */
export function selectorMatches(node: SelectorNode, labels: Readonly<Record<string, string>>): boolean {
  switch (node.type) {
    case 'all':
    case 'global':
      return true;
    case 'has':
      return Object.hasOwn(labels, node.key);
    case 'not':
      return !selectorMatches(node.operand, labels);
    case 'and':
      return node.operands.every((o) => selectorMatches(o, labels));
    case 'or':
      return node.operands.some((o) => selectorMatches(o, labels));
    case 'in': {
      const v = Object.hasOwn(labels, node.key) ? labels[node.key] : undefined;
      return v === undefined ? node.negated : node.values.includes(v) !== node.negated;
    }
    case 'compare': {
      const v = Object.hasOwn(labels, node.key) ? labels[node.key] : undefined;
      if (v === undefined) return node.op === '!=';
      if (node.op === '==') return v === node.value;
      if (node.op === '!=') return v !== node.value;
      if (node.op === 'contains') return v.includes(node.value);
      return node.op === 'starts with' ? v.startsWith(node.value) : v.endsWith(node.value);
    }
  }
}
