// Finds where malformed JSON goes wrong.
//
// Owns: a small strict JSON scanner (RFC 8259 grammar, no values built) used only after
// JSON.parse has failed, because V8's messages do not always carry a position. Never:
// building values (JSON.parse does that) or being used on the happy path.

class JsonSyntaxAt {
  constructor(readonly offset: number) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;

function skipWs(t: string, i: number): number {
  while (i < t.length) {
    const c = t.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}

function scanString(t: string, i: number): number {
  i++; // opening quote
  for (;;) {
    if (i >= t.length) throw new JsonSyntaxAt(i);
    const c = t[i]!;
    if (c === '"') return i + 1;
    if (c === '\\') {
      const e = t[i + 1];
      if (e === 'u') {
        if (!HEX4.test(t.slice(i + 2, i + 6))) throw new JsonSyntaxAt(i);
        i += 6;
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
        i += 2;
      } else {
        throw new JsonSyntaxAt(i);
      }
    } else if (c.charCodeAt(0) < 0x20) {
      throw new JsonSyntaxAt(i);
    } else {
      i++;
    }
  }
}

function scanLiteral(t: string, i: number, word: string): number {
  if (t.startsWith(word, i)) return i + word.length;
  throw new JsonSyntaxAt(i);
}

function scanValue(t: string, i: number): number {
  i = skipWs(t, i);
  const c = t[i];
  switch (c) {
    case '{':
      return scanContainer(t, i, '}', true);
    case '[':
      return scanContainer(t, i, ']', false);
    case '"':
      return scanString(t, i);
    case 't':
      return scanLiteral(t, i, 'true');
    case 'f':
      return scanLiteral(t, i, 'false');
    case 'n':
      return scanLiteral(t, i, 'null');
    default: {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(t);
      if (m === null || m[0] === '' || m[0] === '-') throw new JsonSyntaxAt(i);
      return i + m[0].length;
    }
  }
}

function scanContainer(t: string, i: number, close: '}' | ']', isObject: boolean): number {
  i = skipWs(t, i + 1);
  if (t[i] === close) return i + 1;
  for (;;) {
    if (isObject) {
      i = skipWs(t, i);
      if (t[i] !== '"') throw new JsonSyntaxAt(i);
      i = skipWs(t, scanString(t, i));
      if (t[i] !== ':') throw new JsonSyntaxAt(i);
      i++;
    }
    i = skipWs(t, scanValue(t, i));
    if (t[i] === ',') {
      i++;
    } else if (t[i] === close) {
      return i + 1;
    } else {
      throw new JsonSyntaxAt(i);
    }
  }
}

/**
 * Offset of the first JSON syntax error in `text`, or `undefined` when the scanner finds
 * none (the text is valid JSON) or the nesting is too deep to scan.
 */
export function locateJsonError(text: string): number | undefined {
  try {
    const end = skipWs(text, scanValue(text, 0));
    return end < text.length ? end : undefined;
  } catch (e) {
    if (e instanceof JsonSyntaxAt) return e.offset;
    return undefined; // RangeError from very deep nesting: position unknown.
  }
}

/** 1-based line and column of an offset (columns count UTF-16 units). Offsets past the end map to the end. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
