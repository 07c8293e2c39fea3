// Calico selector parser: tables transcribed from projectcalico/calico
// libcalico-go/lib/selector/{parser/parser_test.go,tokenizer/tokenizer_test.go} at commit
// 87c15906f20c4ca1fda55af92295e7678b0cc0b2 (file:line beside each row), plus round-trip
// properties. Canonical prints come from Calico's canonicalisationTests and Visitor table where
// cited there; the others follow ast.go's collectFragments rules (and/or always parenthesised,
// values double-quoted unless they hold a ", sets sorted and de-duplicated).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SelectorError, isSelectorError } from '../src/errors.js';
import {
  type SelectorNode, isAllSelector, parseSelector, printSelector, selectorMatches, selectorUsesGlobal, trySelector,
} from '../src/selector.js';

type Labels = Record<string, string>;
interface ValidRow { sel: string; canon: string; matches?: Labels[]; nonMatches?: Labels[] }

const A512 = 'a'.repeat(512);

const VALID: ValidRow[] = [
  { sel: `a == "b"`, canon: `a == "b"`, matches: [{ a: 'b' }, { a: 'b', c: 'd' }], nonMatches: [{}, { a: 'c' }, { c: 'd' }] }, // parser_test.go:33
  { sel: `a == "b" && c == "d"`, canon: `(a == "b" && c == "d")`, matches: [{ a: 'b', c: 'd' }], nonMatches: [{}, { a: 'b', c: 'e' }, { a: 'c', c: 'd' }, { c: 'd' }, { a: 'b' }] }, // parser_test.go:42
  { sel: `a == "b" || c == "d"`, canon: `(a == "b" || c == "d")`, matches: [{ a: 'b', c: 'd' }, { a: 'b' }, { c: 'd' }], nonMatches: [{}, { a: 'e', c: 'e' }, { c: 'e' }, { a: 'e' }] }, // parser_test.go:52
  { sel: `a in {"'", '"', "c"}`, canon: `a in {'"', "'", "c"}`, matches: [{ a: 'c' }, { a: '"' }, { a: "'" }], nonMatches: [{}, { a: 'e' }] }, // parser_test.go:63
  { sel: `a not in {"'", '"', "c"}`, canon: `a not in {'"', "'", "c"}`, matches: [{}, { a: 'e' }], nonMatches: [{ a: 'c' }, { a: '"' }, { a: "'" }] }, // parser_test.go:73
  { sel: `a == 'a'`, canon: `a == "a"`, matches: [{ a: 'a' }] }, // parser_test.go:84
  { sel: `a == "a"`, canon: `a == "a"`, matches: [{ a: 'a' }] }, // parser_test.go:85
  { sel: `a != "b"`, canon: `a != "b"`, matches: [{ a: 'a' }] }, // parser_test.go:86
  { sel: `a != "a"`, canon: `a != "a"`, matches: [{}] }, // parser_test.go:87
  { sel: `a contains "a"`, canon: `a contains "a"`, matches: [{ a: 'a' }, { a: 'bab' }, { a: 'aaa', b: 'c' }], nonMatches: [{}, { a: 'b' }, { b: 'aaa' }] }, // parser_test.go:88
  { sel: `a starts with "a"`, canon: `a starts with "a"`, matches: [{ a: 'a' }, { a: 'abb' }, { a: 'aaa', b: 'c' }], nonMatches: [{}, { a: 'b' }, { a: 'baa' }, { b: 'aaa' }] }, // parser_test.go:97
  { sel: `a ends with "a"`, canon: `a ends with "a"`, matches: [{ a: 'a' }, { a: 'bba' }, { a: 'aaa', b: 'c' }], nonMatches: [{}, { a: 'b' }, { a: 'aab' }, { b: 'aaa' }] }, // parser_test.go:107
  { sel: `a in {"a"}`, canon: `a in {"a"}`, matches: [{ a: 'a' }] }, // parser_test.go:117
  { sel: `!a in {"a"}`, canon: `!a in {"a"}`, matches: [{ a: 'b' }] }, // parser_test.go:118
  { sel: `a in {"a", "b"}`, canon: `a in {"a", "b"}`, matches: [{ a: 'a' }] }, // parser_test.go:119
  { sel: `a in {"a", "b"}`, canon: `a in {"a", "b"}`, matches: [{ a: 'b' }] }, // parser_test.go:120
  { sel: `a not in {"d", "e"}`, canon: `a not in {"d", "e"}`, matches: [{ a: 'a' }] }, // parser_test.go:121
  { sel: `has(a)`, canon: `has(a)`, matches: [{ a: 'b' }] }, // parser_test.go:122
  { sel: `!has(a)`, canon: `!has(a)`, matches: [{ b: 'b' }] }, // parser_test.go:123
  { sel: ``, canon: `all()`, matches: [{}] }, // parser_test.go:124
  { sel: ` `, canon: `all()`, matches: [{}] }, // parser_test.go:125
  { sel: ``, canon: `all()`, matches: [{ a: 'b' }] }, // parser_test.go:126
  { sel: `all()`, canon: `all()`, matches: [{}] }, // parser_test.go:127
  { sel: ` all()`, canon: `all()`, matches: [{}] }, // parser_test.go:128
  { sel: ` all()`, canon: `all()`, matches: [{ a: 'b' }] }, // parser_test.go:129
  { sel: `global()`, canon: `global()`, matches: [{}] }, // parser_test.go:130
  { sel: ` global()`, canon: `global()`, matches: [{}] }, // parser_test.go:131
  { sel: ` global()`, canon: `global()`, matches: [{ a: 'b' }] }, // parser_test.go:132
  { sel: `a == 'a'`, canon: `a == "a"`, nonMatches: [{ a: 'b' }] }, // parser_test.go:134
  { sel: `a == 'a'`, canon: `a == "a"`, nonMatches: [{}] }, // parser_test.go:135
  { sel: `a != "a"`, canon: `a != "a"`, nonMatches: [{ a: 'a' }] }, // parser_test.go:136
  { sel: `a != 'a'`, canon: `a != "a"`, nonMatches: [{ a: 'a' }] }, // parser_test.go:137
  { sel: `a in {"a"}`, canon: `a in {"a"}`, nonMatches: [{ a: 'b' }] }, // parser_test.go:138
  { sel: `a not in {"a"}`, canon: `a not in {"a"}`, nonMatches: [{ a: 'a' }] }, // parser_test.go:139
  { sel: `a in {"a", "b"}`, canon: `a in {"a", "b"}`, nonMatches: [{ a: 'c' }] }, // parser_test.go:140
  { sel: `has(b)`, canon: `has(b)`, nonMatches: [{ a: 'b' }] }, // parser_test.go:141
  { sel: `!!has(b)`, canon: `has(b)`, nonMatches: [{ a: 'b' }] }, // parser_test.go:142
  { sel: `! has(a)`, canon: `!has(a)`, nonMatches: [{ a: 'b' }] }, // parser_test.go:143
  { sel: `!has(a)`, canon: `!has(a)`, nonMatches: [{ a: 'b' }] }, // parser_test.go:144
  { sel: `!!! has(a)`, canon: `!has(a)`, nonMatches: [{ a: 'b' }] }, // parser_test.go:145
  { sel: `!!!has(a)`, canon: `!has(a)`, nonMatches: [{ a: 'b' }] }, // parser_test.go:146
  { sel: `!! ! has(a)`, canon: `!has(a)`, nonMatches: [{ a: 'b' }] }, // parser_test.go:147
  { sel: `! !!has(a)`, canon: `!has(a)`, nonMatches: [{ a: 'b' }] }, // parser_test.go:148
  { sel: `a == 'a1' && b == 'b1'`, canon: `(a == "a1" && b == "b1")`, matches: [{ a: 'a1', b: 'b1' }] }, // parser_test.go:151
  { sel: `a == 'a1' && b != 'b1'`, canon: `(a == "a1" && b != "b1")`, nonMatches: [{ a: 'a1', b: 'b1' }] }, // parser_test.go:152
  { sel: `a != 'a1' && b == 'b1'`, canon: `(a != "a1" && b == "b1")`, nonMatches: [{ a: 'a1', b: 'b1' }] }, // parser_test.go:153
  { sel: `a != 'a1' && b != 'b1'`, canon: `(a != "a1" && b != "b1")`, nonMatches: [{ a: 'a1', b: 'b1' }] }, // parser_test.go:154
  { sel: `a != 'a1' && !b == 'b1'`, canon: `(a != "a1" && !b == "b1")`, nonMatches: [{ a: 'a1', b: 'b1' }] }, // parser_test.go:155
  { sel: `!a == 'a1' && b == 'b1'`, canon: `(!a == "a1" && b == "b1")`, nonMatches: [{ a: 'a1', b: 'b1' }] }, // parser_test.go:156
  { sel: `has(a) && !has(b)`, canon: `(has(a) && !has(b))`, matches: [{ a: 'a' }] }, // parser_test.go:157
  { sel: `!has(b) && has(a)`, canon: `(!has(b) && has(a))`, matches: [{ a: 'a' }] }, // parser_test.go:158
  { sel: `!(!has(a) || has(b))`, canon: `!(!has(a) || has(b))`, matches: [{ a: 'a' }] }, // parser_test.go:159
  { sel: `!(has(b) || !has(a))`, canon: `!(has(b) || !has(a))`, matches: [{ a: 'a' }] }, // parser_test.go:160
  { sel: `a == 'a1' || b == 'b1'`, canon: `(a == "a1" || b == "b1")`, matches: [{ a: 'a1', b: 'b1' }] }, // parser_test.go:162
  { sel: `a == 'a1' || b != 'b1'`, canon: `(a == "a1" || b != "b1")`, matches: [{ a: 'a1', b: 'b1' }] }, // parser_test.go:163
  { sel: `a != 'a1' || b == 'b1'`, canon: `(a != "a1" || b == "b1")`, matches: [{ a: 'a1', b: 'b1' }] }, // parser_test.go:164
  { sel: `a != 'a1' || b != 'b1'`, canon: `(a != "a1" || b != "b1")`, nonMatches: [{ a: 'a1', b: 'b1' }] }, // parser_test.go:165
  { sel: `! a == 'a1' || ! b == 'b1'`, canon: `(!a == "a1" || !b == "b1")`, nonMatches: [{ a: 'a1', b: 'b1' }] }, // parser_test.go:166
  // canonicalisationTests: the canonical form is Calico's own expected String().
  { sel: ``, canon: `all()` }, // parser_test.go:203
  { sel: ` all() `, canon: `all()` }, // parser_test.go:204
  { sel: ` (all() )`, canon: `all()` }, // parser_test.go:205
  { sel: `! (has( b)||! has(a ))`, canon: `!(has(b) || !has(a))` }, // parser_test.go:206
  { sel: `! (a == "b"&&! c != "d")`, canon: `!(a == "b" && !c != "d")` }, // parser_test.go:207
  { sel: `a == "'"`, canon: `a == "'"` }, // parser_test.go:208
  { sel: `a == '"'`, canon: `a == '"'` }, // parser_test.go:209
  { sel: `a contains '"'`, canon: `a contains '"'` }, // parser_test.go:210
  { sel: `a contains "'"`, canon: `a contains "'"` }, // parser_test.go:211
  { sel: `a startswith '"'`, canon: `a starts with '"'` }, // parser_test.go:212
  { sel: `a endswith "'"`, canon: `a ends with "'"` }, // parser_test.go:213
  { sel: `a!='"'`, canon: `a != '"'` }, // parser_test.go:214
  { sel: `a in {"d"}`, canon: `a in {"d"}` }, // parser_test.go:216
  { sel: `a in {"a", "b"}`, canon: `a in {"a", "b"}` }, // parser_test.go:217
  { sel: `a in {"d", "a", "b"}`, canon: `a in {"a", "b", "d"}` }, // parser_test.go:218
  { sel: `a in {"z", "x", "y", "a"}`, canon: `a in {"a", "x", "y", "z"}` }, // parser_test.go:219
  { sel: `a in {"z", "z", "x", "y", "x", "a"}`, canon: `a in {"a", "x", "y", "z"}` }, // parser_test.go:220
  // Visitor table: expected output with the visitor's "visited/" key prefix removed.
  { sel: `k == 'v'`, canon: `k == "v"` }, // parser_test.go:334
  { sel: `k != 'v'`, canon: `k != "v"` }, // parser_test.go:335
  { sel: `k contains 'v'`, canon: `k contains "v"` }, // parser_test.go:336
  { sel: `k starts with 'v'`, canon: `k starts with "v"` }, // parser_test.go:337
  { sel: `k ends with 'v'`, canon: `k ends with "v"` }, // parser_test.go:338
  { sel: `k == 'v' && x == 'y'`, canon: `(k == "v" && x == "y")` }, // parser_test.go:339
  { sel: `k == 'v' || has(x)`, canon: `(k == "v" || has(x))` }, // parser_test.go:340
  { sel: `!(k == 'v')`, canon: `!k == "v"` }, // parser_test.go:341
  { sel: `k in {'v'}`, canon: `k in {"v"}` }, // parser_test.go:342
  { sel: `k not in {'v'}`, canon: `k not in {"v"}` }, // parser_test.go:343
  { sel: `!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))`, canon: `!(!((k == "v" && has(t)) || all()) && a in {"b", "c"})` }, // parser_test.go:345
  // Inputs the tokenizer tests accept that are also complete selectors.
  { sel: `a=="b"`, canon: `a == "b"` }, // tokenizer_test.go:31
  { sel: `a!="b"`, canon: `a != "b"` }, // tokenizer_test.go:37
  { sel: `(a=="b")`, canon: `a == "b"` }, // tokenizer_test.go:49
  { sel: `label contains "value"`, canon: `label contains "value"` }, // tokenizer_test.go:70
  { sel: `contains contains "contains"`, canon: `contains contains "contains"` }, // tokenizer_test.go:76
  { sel: `contains contains 'contains'`, canon: `contains contains "contains"` }, // tokenizer_test.go:82
  { sel: `label contains"value"`, canon: `label contains "value"` }, // tokenizer_test.go:88
  { sel: `label startswith "value"`, canon: `label starts with "value"` }, // tokenizer_test.go:94
  { sel: `label endswith "value"`, canon: `label ends with "value"` }, // tokenizer_test.go:100
  { sel: `startswith starts with "value"`, canon: `startswith starts with "value"` }, // tokenizer_test.go:112
  { sel: `endswith ends with "value"`, canon: `endswith ends with "value"` }, // tokenizer_test.go:124
  { sel: `label starts  with "value"`, canon: `label starts with "value"` }, // tokenizer_test.go:130
  { sel: `label ends  with "value"`, canon: `label ends with "value"` }, // tokenizer_test.go:136
  { sel: `${A512} == "value"`, canon: `${A512} == "value"` }, // tokenizer_test.go:142
  { sel: `has(calico/k8s_ns)`, canon: `has(calico/k8s_ns)`, matches: [{ 'calico/k8s_ns': '' }], nonMatches: [{}] }, // tokenizer_test.go:177 (labels ours)
  { sel: `has(calico/k8s_NS-.1/role)`, canon: `has(calico/k8s_NS-.1/role)` }, // tokenizer_test.go:185
  { sel: `calico/k8s_ns == "kube-system" && k8s-app == "kube-dns"`, canon: `(calico/k8s_ns == "kube-system" && k8s-app == "kube-dns")`, matches: [{ 'calico/k8s_ns': 'kube-system', 'k8s-app': 'kube-dns' }], nonMatches: [{ 'calico/k8s_ns': 'kube-system' }] }, // tokenizer_test.go:189 (labels ours)
  { sel: `a not in {}`, canon: `a not in {}`, matches: [{}, { a: '' }] }, // tokenizer_test.go:225 (labels ours)
  { sel: `a not in {"a","B"}`, canon: `a not in {"B", "a"}`, matches: [{ a: 'b' }], nonMatches: [{ a: 'B' }] }, // tokenizer_test.go:240 (labels ours)
  { sel: `global( )`, canon: `global()` }, // tokenizer_test.go:254
  { sel: `all( )`, canon: `all()` }, // tokenizer_test.go:262
];

// position: where our parser reports the failure (hand-derived; Calico reports no position).
const INVALID: { sel: string; position: number }[] = [
  { sel: 'b == b', position: 5 }, // parser_test.go:170
  { sel: 'b contains b', position: 11 }, // parser_test.go:171
  { sel: 'b starts with b', position: 14 }, // parser_test.go:172
  { sel: 'b ends with b', position: 12 }, // parser_test.go:173
  { sel: "'b1' == b", position: 0 }, // parser_test.go:174
  { sel: 'b', position: 1 }, // parser_test.go:175
  { sel: 'a b', position: 2 }, // parser_test.go:176
  { sel: '!', position: 1 }, // parser_test.go:177
  { sel: 'foo == "bar" &', position: 13 }, // parser_test.go:178
  { sel: 'foo == "bar" |', position: 13 }, // parser_test.go:179
  { sel: 'foo != ||', position: 7 }, // parser_test.go:180
  { sel: 'foo in {"", ||', position: 12 }, // parser_test.go:181
  { sel: 'foo in ""', position: 7 }, // parser_test.go:182
  { sel: '"FOO', position: 0 }, // parser_test.go:183
  { sel: `"FOO'`, position: 0 }, // parser_test.go:184
  { sel: "'FOO", position: 0 }, // parser_test.go:186
  { sel: '(', position: 1 }, // parser_test.go:187
  { sel: '(a == "foo"', position: 11 }, // parser_test.go:188
  { sel: ')', position: 0 }, // parser_test.go:189
  { sel: '()', position: 1 }, // parser_test.go:190
  { sel: '%', position: 0 }, // parser_test.go:191
  { sel: 'a == "b" && %', position: 12 }, // parser_test.go:192
  { sel: 'a == "b" || %', position: 12 }, // parser_test.go:193
  { sel: 'a ', position: 2 }, // parser_test.go:194
  { sel: 'has(foo) &&', position: 11 }, // parser_test.go:195
  { sel: `${'a'.repeat(513)} == "value"`, position: 0 }, // tokenizer_test.go:148
  { sel: 'label == "value', position: 9 }, // tokenizer_test.go:149
  { sel: "label == 'value", position: 9 }, // tokenizer_test.go:150
  { sel: 'label = "value"', position: 6 }, // tokenizer_test.go:151
  { sel: 'all(', position: 4 }, // tokenizer_test.go:152
  { sel: 'global(', position: 7 }, // tokenizer_test.go:153
  { sel: 'has()', position: 4 }, // tokenizer_test.go:154
  { sel: 'has(foo', position: 7 }, // tokenizer_test.go:155
  { sel: 'has( foo ', position: 9 }, // tokenizer_test.go:156
  { sel: 'a == "b" & has(foo)', position: 9 }, // tokenizer_test.go:157
  { sel: 'a == "b" | has(foo)', position: 9 }, // tokenizer_test.go:158
  { sel: 'label starts foo "value"', position: 6 }, // tokenizer_test.go:159
  { sel: 'label inf "value"', position: 6 }, // tokenizer_test.go:160
  { sel: 'label ends foo "value"', position: 6 }, // tokenizer_test.go:161
  { sel: 'label ends withs "value"', position: 6 }, // tokenizer_test.go:162
  { sel: 'label squiggles "value"', position: 6 }, // tokenizer_test.go:163
  // Tokenizer-valid (tokenizer_test.go) but the parser wants a set literal after (not) in.
  { sel: 'a not in "bar" && !has(foo) || b in c', position: 9 }, // tokenizer_test.go:164
  { sel: 'a  not  in  "bar"  &&  ! has( foo )  ||  b  in  c ', position: 12 }, // tokenizer_test.go:199
  { sel: 'a notin"bar"&&!has(foo)||b in"c"', position: 7 }, // tokenizer_test.go:212
];

// Our own cases, derived from tokenizer.go / parser.go rules rather than a Calico test row.
const INVALID_DERIVED: { sel: string; position: number; detail: RegExp }[] = [
  { sel: 'foo == bar', position: 7, detail: /expected a quoted string after ==/ },
  { sel: 'a == "b"\n', position: 8, detail: /unexpected character "\\n"/ }, // only ' ' and '\t' are whitespace
  { sel: 'has (a)', position: 4, detail: /expected an operator after label "has"/ }, // "has(" must be contiguous
  { sel: 'all ()', position: 4, detail: /expected an operator after label "all"/ },
  { sel: 'a in {,}', position: 6, detail: /expected a quoted string or }/ },
  { sel: 'a in {"x" "y"}', position: 10, detail: /expected , or }/ },
  { sel: 'a == "b" c == "d"', position: 9, detail: /unexpected label "c" after a complete expression/ },
  { sel: 'a == "b")', position: 8, detail: /unexpected \)/ },
  { sel: '(a == "b"))', position: 10, detail: /unexpected \)/ },
  { sel: 'é == "x"', position: 0, detail: /unexpected character "é"/ },
  { sel: 'a ! "b"', position: 2, detail: /expected an operator after label "a", found !/ },
  { sel: 'has(a) contains "x"', position: 7, detail: /unexpected label "contains" after a complete expression/ },
];

describe('parseSelector on Calico’s valid selectors', () => {
  it.each(VALID)('$sel', ({ sel, canon, matches = [], nonMatches = [] }) => {
    const ast = parseSelector(sel);
    expect(printSelector(ast)).toBe(canon);
    const again = parseSelector(canon);
    expect(again).toEqual(ast);
    expect(printSelector(again)).toBe(canon);
    for (const labels of matches) {
      expect(selectorMatches(ast, labels), JSON.stringify(labels)).toBe(true);
      expect(selectorMatches(again, labels), JSON.stringify(labels)).toBe(true);
    }
    for (const labels of nonMatches) {
      expect(selectorMatches(ast, labels), JSON.stringify(labels)).toBe(false);
      expect(selectorMatches(again, labels), JSON.stringify(labels)).toBe(false);
    }
  });

  it('builds the AST Calico builds: && binds tighter than ||, !-runs collapse, sets sorted', () => {
    const eq = (key: string, value: string): SelectorNode => ({ type: 'compare', key, op: '==', value });
    expect(parseSelector('a == "1" || b == "2" && c == "3"')).toEqual({
      type: 'or', operands: [eq('a', '1'), { type: 'and', operands: [eq('b', '2'), eq('c', '3')] }],
    });
    expect(parseSelector('(a == "1" || b == "2") && c == "3"')).toEqual({
      type: 'and', operands: [{ type: 'or', operands: [eq('a', '1'), eq('b', '2')] }, eq('c', '3')],
    });
    expect(parseSelector('a == "1" && b == "2" && c == "3"')).toEqual({ type: 'and', operands: [eq('a', '1'), eq('b', '2'), eq('c', '3')] });
    expect(parseSelector('(a == "1" && b == "2") && c == "3"')).toEqual({
      type: 'and', operands: [{ type: 'and', operands: [eq('a', '1'), eq('b', '2')] }, eq('c', '3')],
    });
    expect(parseSelector('!!has(x)')).toEqual({ type: 'has', key: 'x' });
    expect(parseSelector('!(!has(x))')).toEqual({ type: 'not', operand: { type: 'not', operand: { type: 'has', key: 'x' } } });
    expect(parseSelector('a notin {"b", "a", "b",}')).toEqual({ type: 'in', key: 'a', values: ['a', 'b'], negated: true });
    expect(parseSelector('a in {"\u{1F600}", "\uFFFD"}')).toEqual({ type: 'in', key: 'a', values: ['\uFFFD', '\u{1F600}'], negated: false });
    expect(parseSelector("a == 'x\ny'")).toEqual(eq('a', 'x\ny'));
    expect(parseSelector('\tin in {} ||has == "" || not not in {"with"}')).toBeTruthy();
  });
});

describe('parseSelector on Calico’s invalid selectors', () => {
  it.each(INVALID)('$sel', ({ sel, position }) => {
    const r = trySelector(sel);
    expect(r.ok).toBe(false);
    const error = r.ok ? undefined : r.error;
    expect(isSelectorError(error)).toBe(true);
    expect(error?.input).toBe(sel);
    expect(error?.position).toBe(position);
    expect(error?.message).toBe(`at position ${position}: ${error?.detail}`);
    expect(() => parseSelector(sel)).toThrow(SelectorError);
  });

  it.each(INVALID_DERIVED)('$sel', ({ sel, position, detail }) => {
    const r = trySelector(sel);
    expect(r.ok ? undefined : [r.error.position, r.error.detail]).toEqual([position, expect.stringMatching(detail)]);
  });

  it('refuses parentheses nested past the depth guard rather than exhausting the stack', () => {
    expect(parseSelector(`${'('.repeat(1000)}all()${')'.repeat(1000)}`)).toEqual({ type: 'all' });
    const r = trySelector(`${'('.repeat(5000)}all()${')'.repeat(5000)}`);
    expect(r.ok ? undefined : r.error.position).toBe(1000);
  });
});

describe('helpers', () => {
  it('isAllSelector is true exactly when the text parses to all()', () => {
    for (const s of ['', ' \t', 'all()', ' ( all( ) ) ', '!!all()']) expect(isAllSelector(s), s).toBe(true);
    for (const s of ['all()\n', '!all()', 'global()', 'all() && all()', 'all(', 'has(a)']) expect(isAllSelector(s), s).toBe(false);
  });

  it('selectorUsesGlobal finds global() at any depth', () => {
    expect(selectorUsesGlobal(parseSelector('global()'))).toBe(true);
    expect(selectorUsesGlobal(parseSelector('has(a) && (b == "c" || !global())'))).toBe(true);
    expect(selectorUsesGlobal(parseSelector('all() && global == "x"'))).toBe(false);
    expect(selectorUsesGlobal(parseSelector(''))).toBe(false);
  });

  it('selectorMatches: absent labels satisfy only != and not in; inherited properties are not labels', () => {
    const none = {};
    const cases: [string, boolean][] = [
      ['constructor != "x"', true], ['has(constructor)', false], ['toString not in {"x"}', true],
      ['a == ""', false], ['a in {""}', false], ['a contains ""', false], ['!a starts with ""', true],
    ];
    for (const [sel, want] of cases) expect(selectorMatches(parseSelector(sel), none), sel).toBe(want);
    expect(selectorMatches(parseSelector('a == "" && a contains "" && a ends with ""'), { a: '' })).toBe(true);
  });

  it('printSelector refuses ASTs no selector text can express', () => {
    const bad: SelectorNode[] = [
      { type: 'compare', key: 'a', op: '==', value: `it's "x"` },
      { type: 'has', key: 'a b' },
      { type: 'has', key: '' },
      { type: 'in', key: 'a'.repeat(513), values: [], negated: false },
      { type: 'and', operands: [] },
    ];
    for (const node of bad) expect(() => printSelector(node), JSON.stringify(node)).toThrow(SelectorError);
    // Shapes the parser never builds (or builds only from `!(!x)`) print as their simplest form.
    expect(printSelector({ type: 'or', operands: [{ type: 'all' }] })).toBe('all()');
    expect(printSelector(parseSelector('!(!has(x))'))).toBe('has(x)');
    expect(printSelector({ type: 'not', operand: { type: 'and', operands: [{ type: 'not', operand: { type: 'global' } }] } })).toBe('global()');
  });
});

// ---- properties ----

const KEY_UNIT = fc.constantFrom(...'abcxyzABZ019_./-');
const keyArb = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: KEY_UNIT, minLength: 1, maxLength: 10 }) },
  { weight: 2, arbitrary: fc.constantFrom('in', 'not', 'notin', 'contains', 'starts', 'with', 'has', 'all', 'global', '-', '.', '/') },
  { weight: 1, arbitrary: fc.constant('k'.repeat(512)) },
);
const TRICKY = fc.constantFrom('"', "'", ' ', '\t', '\n', '&', '|', '(', ')', '{', '}', ',', '!', '=', '\\', 'a', 'é', '\u{1F600}', '\uFFFD');
const valueArb = fc
  .oneof(fc.string({ unit: TRICKY, maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 }))
  .filter((v) => !(v.includes('"') && v.includes("'"))); // Calico strings have no escapes

function astArb(key: fc.Arbitrary<string>, value: fc.Arbitrary<string>): fc.Arbitrary<SelectorNode> {
  const ops = ['==', '!=', 'contains', 'starts with', 'ends with'] as const;
  return fc.letrec<{ node: SelectorNode }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant<SelectorNode>({ type: 'all' }),
      fc.constant<SelectorNode>({ type: 'global' }),
      key.map((k): SelectorNode => ({ type: 'has', key: k })),
      fc.record({ key, op: fc.constantFrom(...ops), value }).map((r): SelectorNode => ({ type: 'compare', ...r })),
      fc.record({ key, values: fc.array(value, { maxLength: 4 }), negated: fc.boolean() }).map((r): SelectorNode => ({ type: 'in', ...r })),
      tie('node').map((operand): SelectorNode => ({ type: 'not', operand })),
      fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((operands): SelectorNode => ({ type: 'and', operands })),
      fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((operands): SelectorNode => ({ type: 'or', operands })),
    ),
  })).node;
}

/** UTF-8 byte order, as Go sorts strings: an independent check of the parser's ordering. */
const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * The AST a print/parse round trip should give. No and/or flattening: Calico (and our printer)
 * parenthesise every and/or of 2+ operands, so nesting survives. What changes: a one-operand
 * and/or becomes its operand, double negations vanish, sets are sorted and de-duplicated.
 */
function normalise(n: SelectorNode): SelectorNode {
  switch (n.type) {
    case 'not': {
      const inner = normalise(n.operand);
      return inner.type === 'not' ? inner.operand : { type: 'not', operand: inner };
    }
    case 'and':
    case 'or': {
      const operands = n.operands.map(normalise);
      return operands.length === 1 ? (operands[0] as SelectorNode) : { type: n.type, operands };
    }
    case 'in':
      return { ...n, values: [...new Set(n.values)].sort(utf8Order) };
    default:
      return n;
  }
}

describe('selector properties', () => {
  it('parse(print(x)) is x up to normalisation, and print is a fixpoint', () => {
    fc.assert(
      fc.property(astArb(keyArb, valueArb), (ast) => {
        const text = printSelector(ast);
        const back = parseSelector(text);
        expect(back).toEqual(normalise(ast));
        expect(printSelector(back)).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('evaluation survives the round trip', () => {
    const smallKey = fc.constantFrom('a', 'b', 'in');
    const smallValue = fc.constantFrom('', 'x', 'xy', "'", '"');
    const labelsArb = fc.dictionary(smallKey, smallValue, { maxKeys: 3 });
    fc.assert(
      fc.property(astArb(smallKey, smallValue), labelsArb, (ast, labels) => {
        expect(selectorMatches(parseSelector(printSelector(ast)), labels)).toBe(selectorMatches(ast, labels));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws anything but SelectorError on arbitrary text; accepted text re-prints stably', () => {
    const tokenish = fc.constantFrom('a', 'b', ' ', '\t', '"', "'", '(', ')', '{', '}', ',', '!', '=', '&', '|', 'in', 'not', 'has(', 'all(', 'global(', 'contains', 'starts', 'with', '\n', '%');
    const textArb = fc.oneof(fc.string(), fc.array(tokenish, { maxLength: 12 }).map((p) => p.join('')));
    fc.assert(
      fc.property(textArb, (text) => {
        const r = trySelector(text);
        if (!r.ok) {
          expect(r.error.position).toBeGreaterThanOrEqual(0);
          expect(r.error.position).toBeLessThanOrEqual(text.length);
          return;
        }
        const canon = printSelector(r.ast);
        const back = parseSelector(canon);
        expect(back).toEqual(normalise(r.ast));
        expect(printSelector(back)).toBe(canon);
      }),
      { numRuns: 2000 },
    );
  });
});
