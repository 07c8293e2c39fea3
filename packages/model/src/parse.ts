// Turning text and stored bytes into raw resource objects.
//
// Owns: JSON and YAML decoding (single documents, JSON arrays, YAML sequences, multi-document YAML,
// `kind: List` / `<Kind>List` with `items`), skipping empty documents, and ParseErrors
// that name the document index and line/column. Never: validating resource contents (the
// *-validation modules do), logging (the yaml library is run with logLevel 'silent'), or
// reading files and etcd itself.
import { parseAllDocuments } from 'yaml';
import { ParseError } from './errors.js';
import { lineColumnAt, locateJsonError } from './json-locate.js';
import type { RawResource } from './resources.js';

/** Input syntax; `auto` picks JSON when the first non-blank character is `{` or `[`. */
export type InputFormat = 'json' | 'yaml' | 'auto';

export interface ParseResourcesOptions {
  /** Default `auto`. */
  readonly format?: InputFormat;
  /** Label for error messages and `RawResource.source`: a file name, `-`, an etcd key. */
  readonly source?: string;
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

function parseYaml(text: string, source: string | undefined, out: RawResource[]): void {
  const docs = parseAllDocuments(text, { logLevel: 'silent', prettyErrors: true, uniqueKeys: true });
  let docIndex = 0;
  for (const doc of docs) {
    const where = { documentIndex: docIndex, ...(source !== undefined ? { source } : {}) };
    const err = doc.errors[0];
    if (err !== undefined) {
      const pos = err.linePos?.[0];
      const detail = `invalid YAML: ${(err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '')}`;
      throw new ParseError(detail, { ...where, ...(pos ? { line: pos.line, column: pos.col } : {}) }, { cause: err });
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw new ParseError(`invalid YAML: ${(e as Error).message}`, where, { cause: e });
    }
    // An empty document (`---` followed by nothing, or only comments) decodes to null.
    // A document that is a sequence of resources is accepted as calicoctl does (the JSON
    // array form already is); its elements are items of that document.
    if (Array.isArray(value)) expandSequence(value, docIndex, source, out);
    else if (value !== null && value !== undefined) expandDocument(value, docIndex, source, out);
    docIndex++;
  }
}

/**
 * Decodes every resource in `text`, in input order, each with its document index (and
 * item index inside a List). Empty documents are skipped but still counted, so indexes
 * match positions in the input. Returns [] for empty or blank input. Throws ParseError for
 * malformed JSON/YAML (with line and column where known), for a document that is not an
 * object, and for a List whose `items` is not an array of objects.
 */
export function parseResources(text: string, options: ParseResourcesOptions = {}): RawResource[] {
  const { source } = options;
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.trim() === '') return [];
  let format = options.format ?? 'auto';
  if (format === 'auto') format = /^\s*[[{]/.test(body) ? 'json' : 'yaml';
  const out: RawResource[] = [];
  if (format === 'yaml') {
    parseYaml(body, source, out);
    return out;
  }
  const value = parseJson(body, source);
  if (Array.isArray(value)) value.forEach((v: unknown, i) => expandDocument(v, i, source, out));
  else expandDocument(value, 0, source, out);
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
 * UTF-8, malformed JSON, empty values and non-objects.
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
  const object = { ...value };
  if (options.modRevision !== undefined && isPlainObject(object['metadata'])) {
    object['metadata'] = { ...object['metadata'], resourceVersion: String(options.modRevision) };
  }
  return { docIndex: 0, source: key, object };
}
