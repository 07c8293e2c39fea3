// History's pure parts: token names, the audit record, who changed what in a window, and
// the settings leaf diff. The etcd/NATS side is in test/integration/history-rollback.test.ts.
import { describe, expect, it } from 'vitest';
import { TokenSet } from '../src/auth.js';
import { leafChanges } from '../src/history-service.js';
import { attributeChanges } from '../src/version-changes.js';
import { auditKey, parseAuditRecord, type AuditEntry } from '../src/write-audit.js';

const P = '/calico/resources/v3/projectcalico.org';
const entry = (path: string, modRevision: number, createRevision: number) => ({ key: `${P}/${path}`, value: '{}', modRevision, createRevision });
const rec = (revision: number, over: Partial<AuditEntry>): AuditEntry => ({ by: 'alice', action: 'write', changes: [], at: '', revision, ...over });

describe('token names', () => {
  it('the optional third column names a token; without it the name is the role', () => {
    const t = TokenSet.parse('alice-token-0123456789 write alice\nreader-token-0123456789 read\nbot-token-0123456789 write ci-deploy@example # comment\n');
    expect(t.identify('alice-token-0123456789')).toEqual({ role: 'write', name: 'alice' });
    expect(t.identify('reader-token-0123456789')).toEqual({ role: 'read', name: 'read' });
    expect(t.identify('bot-token-0123456789')).toEqual({ role: 'write', name: 'ci-deploy@example' });
    expect(t.identify('nobody-token-0123456789')).toBeUndefined();
    expect(t.roleOf('alice-token-0123456789')).toBe('write');
  });

  it('a token listed twice gets its strongest role and that line\'s name', () => {
    const t = TokenSet.parse('same-token-0123456789 read viewer\nsame-token-0123456789 write admin\nsame-token-0123456789 write later\n');
    expect(t.identify('same-token-0123456789')).toEqual({ role: 'write', name: 'admin' });
  });

  it('a bad name or a fourth column fails naming the line', () => {
    expect(() => TokenSet.parse('ok-token-0123456789 write\nbad-token-0123456789 write -x\n')).toThrow(/line 2: name must be/);
    expect(() => TokenSet.parse('bad-token-0123456789 write a b\n')).toThrow(/line 1: expected "<token> read\|write \[name\]"/);
    expect(() => TokenSet.parse(`bad-token-0123456789 write ${'n'.repeat(65)}\n`)).toThrow(/line 1: name/);
  });
});

describe('audit record', () => {
  it('sits next to the prefix, not under it (neither watched nor compiled)', () => {
    expect(auditKey(P)).toBe(`${P}.natfleet-audit/last-write`);
    expect(auditKey(P).startsWith(`${P}/`)).toBe(false);
  });

  it('parses what the API writes and names nobody for anything else', () => {
    expect(parseAuditRecord(JSON.stringify({ by: 'a', action: 'rollback', changes: [{ kind: 'IPPool', name: 'x', action: 'deleted' }, { bogus: 1 }], rollbackOf: 5, forced: true, at: 't' }))).toEqual({
      by: 'a',
      action: 'rollback',
      changes: [{ kind: 'IPPool', name: 'x', action: 'deleted' }],
      rollbackOf: 5,
      forced: true,
      at: 't',
    });
    for (const bad of ['not json', '[]', 'null', '{"by":"a","action":"rm","changes":[]}', '{"action":"write","changes":[]}']) expect(parseAuditRecord(bad)).toBeUndefined();
  });
});

describe('attributeChanges', () => {
  it('an API write names the token; a change no record covers is etcdctl; Nodes are the inventory', () => {
    const window = {
      changed: [entry('ippools/by-api', 12, 12), entry('ippools/by-etcdctl', 13, 3), entry('nodes/n1', 14, 14), entry('felixconfigurations/default', 15, 2), entry('bgppeers/other', 15, 15)],
      deleted: [`${P}/ippools/gone-api`, `${P}/ippools/gone-etcdctl`],
    };
    const trail = {
      complete: true,
      entries: [
        rec(15, { by: 'bob', changes: [{ kind: 'FelixConfiguration', name: 'default', action: 'updated' }] }),
        rec(12, { changes: [{ kind: 'IPPool', name: 'by-api', action: 'created' }] }),
        rec(11, { action: 'delete', changes: [{ kind: 'IPPool', name: 'gone-api', action: 'disabled' }, { kind: 'IPPool', name: 'gone-api', action: 'deleted' }] }),
      ],
    };
    expect(attributeChanges(P, window, 10, trail)).toEqual([
      { kind: 'IPPool', name: 'by-api', action: 'created', via: 'api', by: 'alice' },
      { kind: 'IPPool', name: 'by-etcdctl', action: 'updated', via: 'etcdctl' },
      { kind: 'IPPool', name: 'gone-api', action: 'deleted', via: 'api', by: 'alice' },
      { kind: 'IPPool', name: 'gone-etcdctl', action: 'deleted', via: 'etcdctl' },
      { kind: 'FelixConfiguration', name: 'default', action: 'updated', via: 'api', by: 'bob' },
      { kind: 'Node', name: 'n1', action: 'created', via: 'inventory' },
    ]);
  });

  it('a record only covers what it names, at its own revision', () => {
    // An etcdctl put after the API write (same key, later revision) is etcdctl's.
    const window = { changed: [entry('ippools/a', 13, 2)], deleted: [] };
    const trail = { complete: true, entries: [rec(12, { changes: [{ kind: 'IPPool', name: 'a', action: 'updated' }] })] };
    expect(attributeChanges(P, window, 10, trail)).toEqual([{ kind: 'IPPool', name: 'a', action: 'updated', via: 'etcdctl' }]);
    // A record at the right revision naming another resource does not cover it.
    const other = { complete: true, entries: [rec(13, { changes: [{ kind: 'IPPool', name: 'b', action: 'updated' }] })] };
    expect(attributeChanges(P, window, 10, other)[0]!.via).toBe('etcdctl');
  });

  it('rollbacks say which version they restored', () => {
    const window = { changed: [entry('ippools/a', 20, 20)], deleted: [`${P}/ippools/b`] };
    const trail = { complete: true, entries: [rec(20, { action: 'rollback', rollbackOf: 7, changes: [{ kind: 'IPPool', name: 'a', action: 'created' }, { kind: 'IPPool', name: 'b', action: 'deleted' }] })] };
    expect(attributeChanges(P, window, 10, trail)).toEqual([
      { kind: 'IPPool', name: 'a', action: 'created', via: 'rollback', by: 'alice', rollbackOf: 7 },
      { kind: 'IPPool', name: 'b', action: 'deleted', via: 'rollback', by: 'alice', rollbackOf: 7 },
    ]);
  });

  it('with an incomplete trail, what predates the records read is unknown, not etcdctl', () => {
    const window = { changed: [entry('ippools/old', 12, 12), entry('ippools/new', 30, 30)], deleted: [`${P}/ippools/gone`] };
    const trail = { complete: false, entries: [rec(25, { changes: [] })] };
    expect(attributeChanges(P, window, 10, trail).map((r) => `${r.name}:${r.via}`)).toEqual(['gone:unknown', 'new:etcdctl', 'old:unknown']);
  });

  it('nothing changed: empty', () => {
    expect(attributeChanges(P, { changed: [], deleted: [] }, 10, { complete: true, entries: [] })).toEqual([]);
  });
});

describe('leafChanges', () => {
  it('lists each differing leaf with its path; absent values are left out', () => {
    expect(leafChanges({ fullyRandom: false, exclusions: 'IPPoolsOnly' }, { fullyRandom: true, exclusions: 'IPPoolsOnly', natOutgoingAddress: '192.0.2.1', portRange: { from: 1, to: 2 } }, 'settings')).toEqual([
      { path: 'settings.fullyRandom', before: false, after: true },
      { path: 'settings.natOutgoingAddress', after: '192.0.2.1' },
      { path: 'settings.portRange.from', after: 1 },
      { path: 'settings.portRange.to', after: 2 },
    ]);
    expect(leafChanges({ n1: { fullyRandom: true } }, {}, 'nodes')).toEqual([{ path: 'nodes.n1.fullyRandom', before: true }]);
    expect(leafChanges({ a: [1, 2] }, { a: [1, 2] }, 'x')).toEqual([]);
  });
});
