// Turning text and stored bytes into raw resource objects.
//
// Owns: JSON and YAML decoding (single documents, JSON arrays, YAML sequences, multi-document YAML,
// `kind: List` / `<Kind>List` with `items`), skipping empty documents, and ParseErrors
// that name the document index and line/column. Also the shape limits every later stage
// relies on: no document nests deeper than MAX_NESTING_DEPTH (recursive code downstream —
// structuredClone, JSON.stringify, validators — would otherwise die with a RangeError),
// no YAML alias refers to a node containing it (a cycle), no `__proto__` key anywhere, and
// at most `maxResources` resources per input (YAML stops composing past it). Never:
// validating resource contents (the *-validation modules do), logging (the yaml library
// is run with logLevel 'silent'), or reading files and etcd itself.
import { type CST, Composer, Lexer, LineCounter, Parser } from 'yaml';
import { BatchTooLargeError, ParseError, type ParseLocation } from './errors.js';
import { lineColumnAt, locateJsonError } from './json-locate.js';
import type { RawResource } from './resources.js';

/** Input syntax; `auto` picks JSON when the first non-blank character is `{` or `[`. */
export type InputFormat = 'json' | 'yaml' | 'auto';

export interface ParseResourcesOptions {
  /** Default `auto`. */
  readonly format?: InputFormat;
  /** Label for error messages and `RawResource.source`: a file name, `-`, an etcd key. */
  readonly source?: string;
  /** Most resources accepted (List items and sequence elements count one each); default unlimited. */
  readonly maxResources?: number;
}

/**
 * Deepest nesting accepted in a document (the document's own object or array is level 1).
 * Calico resources need fewer than 10 levels; the bound keeps every recursive consumer
 * far from the stack limit.
 */
export const MAX_NESTING_DEPTH = 64;

/**
 * Keys refused anywhere in a document. `__proto__` is the one key JavaScript gives a
 * special meaning on assignment (`o[k] = v`, `Object.assign`, many YAML and merge
 * libraries), so a document using it means different things to different readers.
 * (`constructor` and `prototype` are plain data keys in a decoded document; the field
 * tables make them unknown fields.)
 */
const FORBIDDEN_KEY = '__proto__';

function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return 'the top level';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$-]*$/.test(p) ? (i === 0 ? p : `.${p}`) : `[${JSON.stringify(p)}]`)).join('');
}

/**
 * Throws ParseError (at `where`) when `value` nests deeper than MAX_NESTING_DEPTH counting
 * from `depth`, contains a cycle (a self-referencing YAML alias), or has a `__proto__`
 * key. Recursion is itself bounded by the depth limit. A node shared through YAML aliases
 * is walked again only when met at a greater depth, so alias fan-out cannot make this
 * exponential.
 */
function checkShape(value: unknown, where: ParseLocation, depth = 1): void {
  const deepest = new Map<object, number>();
  const onPath = new Set<object>();
  const path: (string | number)[] = [];
  const walk = (v: unknown, d: number): void => {
    if (v === null || typeof v !== 'object') return;
    if (onPath.has(v)) throw new ParseError(`a YAML alias at ${formatPath(path)} refers to a node that contains it (the value would be infinitely deep)`, where);
    if (d > MAX_NESTING_DEPTH) throw new ParseError(`nested deeper than ${MAX_NESTING_DEPTH} levels (at ${formatPath(path.slice(0, 8))}…)`, where);
    const seen = deepest.get(v);
    if (seen !== undefined && seen >= d) return; // already walked with no more room than now
    deepest.set(v, d);
    onPath.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        walk(v[i], d + 1);
        path.pop();
      }
    } else {
      for (const k of Object.keys(v)) {
        if (k === FORBIDDEN_KEY) throw new ParseError(`key "${FORBIDDEN_KEY}" is not allowed (at ${formatPath([...path, k])})`, where);
        path.push(k);
        walk((v as Record<string, unknown>)[k], d + 1);
        path.pop();
      }
    }
    onPath.delete(v);
  };
  walk(value, depth);
}

function checkCount(count: number, max: number | undefined): void {
  if (max !== undefined && count > max) throw new BatchTooLargeError(max);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/**
 * Adds one decoded document to `out`: either the object itself or, for a List, its items.
 * Items of a typed list (`IPPoolList`) that lack `kind`/`apiVersion` inherit them, which is
 * how `kubectl get -o yaml` output often looks.
 */
function expandDocument(value: unknown, docIndex: number, source: string | undefined, out: RawResource[]): void {
  const where = { documentIndex: docIndex, ...(source !== undefined ? { source } : {}) };
  if (!isPlainObject(value)) throw new ParseError(`expected a resource object, got ${describe(value)}`, where);
  const kind = value['kind'];
  if (typeof kind === 'string' && kind.endsWith('List') && 'items' in value) {
    const items = value['items'];
    if (items === null || items === undefined) return;
    if (!Array.isArray(items)) throw new ParseError(`${kind}.items must be an array, got ${describe(items)}`, where);
    const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
    items.forEach((item: unknown, itemIndex) => {
      if (!isPlainObject(item)) {
        throw new ParseError(`${kind}.items[${itemIndex}]: expected a resource object, got ${describe(item)}`, where);
      }
      const object = { ...item };
      if (itemKind !== undefined && object['kind'] === undefined) object['kind'] = itemKind;
      if (object['apiVersion'] === undefined && value['apiVersion'] !== undefined) object['apiVersion'] = value['apiVersion'];
      out.push({ docIndex, itemIndex, object, ...(source !== undefined ? { source } : {}) });
    });
    return;
  }
  out.push({ docIndex, object: value, ...(source !== undefined ? { source } : {}) });
}

/** A YAML document whose top level is a list: each element is a resource (or a List), labelled `[doc][item]`. */
function expandSequence(values: unknown[], docIndex: number, source: string | undefined, out: RawResource[]): void {
  values.forEach((v, itemIndex) => {
    const before = out.length;
    expandDocument(v, docIndex, source, out);
    // A plain resource element gets its position; List elements already carry item indexes.
    if (out.length === before + 1 && out[before]!.itemIndex === undefined) out[before] = { ...out[before]!, itemIndex };
  });
}

function parseJson(text: string, source: string | undefined): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const offset = locateJsonError(text);
    const pos = offset === undefined ? {} : lineColumnAt(text, offset);
    const detail = `invalid JSON: ${(e as Error).message}`;
    throw new ParseError(detail, { documentIndex: 0, ...pos, ...(source !== undefined ? { source } : {}) }, { cause: e });
  }
}

/** Thrown from inside the token stream; turned into a ParseError for the current document. */
class FlowTooDeep extends Error {
  /** The document it was found in, when known before composing (the block-nesting pre-scan). */
  constructor(readonly documentIndex?: number) {
    super('nested too deeply');
  }
}

/** The lexer's marker before a scalar's text (yaml's CST.SCALAR) and for a flow collection cut short (CST.FLOW_END). */
const YAML_SCALAR = '\x1f';
const YAML_FLOW_END = '\x18';

/**
 * yaml's `Parser.parse`, with the lexer's flow brackets counted on the way: `[[[[…` nested
 * past MAX_NESTING_DEPTH stops here, before the parser spends seconds on it (its cost per
 * token grows with the flow depth). Block nesting needs indentation, so a body of a given
 * size can only nest so far that way, and the depth check after decoding catches it.
 */
function* yamlTokens(text: string, lines: LineCounter): Generator<CST.Token> {
  blockNestingProblem(text);
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0);
  let depth = 0;
  let atScalar = false;
  for (const lexeme of new Lexer().lex(text)) {
    if (atScalar) atScalar = false;
    else if (lexeme === YAML_SCALAR) atScalar = true;
    else if (lexeme === '[' || lexeme === '{') {
      if (++depth > MAX_NESTING_DEPTH) throw new FlowTooDeep();
    } else if ((lexeme === ']' || lexeme === '}') && depth > 0) depth--;
    else if (lexeme === YAML_FLOW_END) depth = 0;
    yield* parser.next(lexeme);
  }
  yield* parser.end();
}

/** Deepest indentation (in columns) a YAML line may have; no resource comes near it. */
const MAX_YAML_INDENT = 256;
const LINE_START = /^( *)((?:[-?:](?: +|$))*)/gm;

/**
 * Block nesting, bounded before the yaml library recurses into it: `- - - - x` (compact
 * nested sequences, or `? ? ?`, `: : :`) nests one level per indicator on one line, and
 * indentation one level per column at most. Past ~900 levels the library overflows the
 * stack, and V8 does not always survive a second overflow (seen here: a 4 KB body of
 * `- ` repeated aborted the API process on its second request). Linear in the text.
 */
function blockNestingProblem(text: string): void {
  LINE_START.lastIndex = 0;
  for (let m = LINE_START.exec(text); m !== null; m = LINE_START.exec(text)) {
    if (m[0].length === 0) LINE_START.lastIndex++;
    const indicators = m[2]!.length === 0 ? 0 : m[2]!.split(/ +/).filter((x) => x !== '').length;
    if (m[1]!.length > MAX_YAML_INDENT || indicators > MAX_NESTING_DEPTH) throw new FlowTooDeep(documentAt(text, m.index));
  }
}

/** Index of the YAML document holding `offset`: `---` markers before it (a leading one opens document 0). */
function documentAt(text: string, offset: number): number {
  const before = text.slice(0, offset);
  const markers = before.match(/^---(?=[ \t]|$)/gm)?.length ?? 0;
  const leading = /^(?:[ \t]*#[^\n]*\n|[ \t]*\n)*---(?=[ \t\r\n]|$)/.test(text) ? 1 : 0;
  return Math.max(0, markers - leading);
}

function yamlFailure(e: unknown, where: ParseLocation): ParseError {
  if (e instanceof FlowTooDeep || e instanceof RangeError) {
    const at = e instanceof FlowTooDeep && e.documentIndex !== undefined ? { ...where, documentIndex: e.documentIndex } : where;
    return new ParseError(`nested deeper than ${MAX_NESTING_DEPTH} levels`, at, { cause: e });
  }
  return new ParseError(`invalid YAML: ${e instanceof Error ? e.message : String(e)}`, where, { cause: e });
}

/**
 * Composes documents one at a time (not parseAllDocuments), so a stream with too many
 * documents stops at the first one past `max` instead of building them all.
 */
function parseYaml(text: string, source: string | undefined, out: RawResource[], max: number | undefined): void {
  const lines = new LineCounter();
  const docs = new Composer({ logLevel: 'silent', uniqueKeys: true }).compose(yamlTokens(text, lines));
  let docIndex = 0;
  for (;;) {
    const where = { documentIndex: docIndex, ...(source !== undefined ? { source } : {}) };
    let next: ReturnType<typeof docs.next>;
    try {
      next = docs.next();
    } catch (e) {
      throw yamlFailure(e, where); // the yaml library's own limits (stack depth) and bugs
    }
    if (next.done === true) return;
    const doc = next.value;
    const err = doc.errors[0];
    if (err !== undefined) {
      const pos = lines.linePos(err.pos[0]);
      const detail = `invalid YAML: ${(err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '')}`;
      throw new ParseError(detail, { ...where, line: pos.line, column: pos.col }, { cause: err });
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw yamlFailure(e, where);
    }
    checkShape(value, where);
    // An empty document (`---` followed by nothing, or only comments) decodes to null.
    // A document that is a sequence of resources is accepted as calicoctl does (the JSON
    // array form already is); its elements are items of that document.
    if (Array.isArray(value)) expandSequence(value, docIndex, source, out);
    else if (value !== null && value !== undefined) expandDocument(value, docIndex, source, out);
    checkCount(out.length, max);
    docIndex++;
  }
}

/**
 * Decodes every resource in `text`, in input order, each with its document index (and
 * item index inside a List). Empty documents are skipped but still counted, so indexes
 * match positions in the input. Returns [] for empty or blank input. Throws ParseError for
 * malformed JSON/YAML (with line and column where known), for a document that is not an
 * object, for a List whose `items` is not an array of objects, and for a document nested
 * deeper than MAX_NESTING_DEPTH, holding a cycle or a `__proto__` key. Throws
 * BatchTooLargeError when there are more than `maxResources` resources.
 */
export function parseResources(text: string, options: ParseResourcesOptions = {}): RawResource[] {
  const { source, maxResources } = options;
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.trim() === '') return [];
  let format = options.format ?? 'auto';
  if (format === 'auto') format = /^\s*[[{]/.test(body) ? 'json' : 'yaml';
  const out: RawResource[] = [];
  if (format === 'yaml') {
    parseYaml(body, source, out, maxResources);
    return out;
  }
  const value = parseJson(body, source);
  const at = (documentIndex: number): ParseLocation => ({ documentIndex, ...(source !== undefined ? { source } : {}) });
  if (Array.isArray(value)) {
    checkCount(value.length, maxResources);
    value.forEach((v: unknown, i) => {
      checkShape(v, at(i), 2);
      expandDocument(v, i, source, out);
    });
  } else {
    checkShape(value, at(0));
    expandDocument(value, 0, source, out);
  }
  checkCount(out.length, maxResources);
  return out;
}

/** Options for {@link parseStoredValue}. */
export interface ParseStoredValueOptions {
  /** etcd mod revision of the key; written to `metadata.resourceVersion` as a string. */
  readonly modRevision?: string | number | bigint;
}

/**
 * Decodes a value read from etcd: UTF-8 JSON holding one resource object. Lists are not
 * expanded (Calico never stores them). With `modRevision`, `metadata.resourceVersion` is
 * set from it when `metadata` is an object. Throws ParseError (source = key) for invalid
 * UTF-8, malformed JSON, empty values, non-objects and the shapes parseResources refuses
 * (too deep, `__proto__` keys).
 */
export function parseStoredValue(
  key: string,
  bytes: Uint8Array | string,
  options: ParseStoredValueOptions = {},
): RawResource {
  let text: string;
  if (typeof bytes === 'string') {
    text = bytes;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (e) {
      throw new ParseError('value is not valid UTF-8', { source: key }, { cause: e });
    }
  }
  if (text.trim() === '') throw new ParseError('value is empty', { source: key });
  const value = parseJson(text, key);
  if (!isPlainObject(value)) throw new ParseError(`expected a resource object, got ${describe(value)}`, { source: key });
  checkShape(value, { source: key });
  const object = { ...value };
  if (options.modRevision !== undefined && isPlainObject(object['metadata'])) {
    object['metadata'] = { ...object['metadata'], resourceVersion: String(options.modRevision) };
  }
  return { docIndex: 0, source: key, object };
}
