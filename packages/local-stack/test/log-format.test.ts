// The foreground/`npm run logs` formatter: pino JSON lines, nats-server text lines and
// anything else a daemon printed, as `HH:MM:SS LEVEL [label] msg key=value…`.
import { describe, expect, it } from 'vitest';
import { LEVELS, formatEntry, formatLine, parseLogLine, toLogRecord } from '../src/index.js';

// Local time, as the formatter shows it (the machine's zone, whatever it is).
const at = (h: number, m: number, s: number): string => new Date(2026, 11, 2, h, m, s, 250).toISOString();

describe('formatLine', () => {
  it('renders a pino warning with its fields, hiding the bound ones the label already says', () => {
    const line = JSON.stringify({ level: 40, time: at(9, 5, 7), service: 'enforcer', pid: 12, node: 'node-1', cluster: 'default', version: 6, reason: 'nft said no', msg: 'apply failed' });
    expect(formatLine(line, 'enforcer node-1')).toBe('09:05:07 WARN  [enforcer node-1] apply failed version=6 reason="nft said no"');
  });

  it('keeps a node field that is not the label\'s, shortens digests, JSON for objects, an error by its code and message', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const line = JSON.stringify({ level: 50, time: at(23, 59, 59), service: 'compiler', replica: 'local-1', node: 'node-2', digest, labels: { a: 'b' }, err: { type: 'Error', code: 'NFT_FAILED', message: 'boom', stack: 'Error: boom\n  at x' }, msg: 'x' });
    expect(formatLine(line, 'compiler-1')).toBe(`23:59:59 ERROR [compiler-1] x node=node-2 digest=sha256:${'ab'.repeat(6)}… labels={"a":"b"} err="NFT_FAILED: boom"`);
  });

  it('accepts pino epoch-millisecond times and unknown levels', () => {
    const t = new Date(2026, 0, 1, 1, 2, 3).getTime();
    expect(formatLine(JSON.stringify({ level: 35, time: t, msg: 'odd' }), 'api')).toBe('01:02:03 L35   [api] odd');
  });

  it('parses nats-server lines (level and local time from the prefix)', () => {
    const e = parseLogLine('[4242] 2026/12/02 16:05:42.123456 [WRN] JetStream is slow');
    expect(e).toEqual({ time: new Date(2026, 11, 2, 16, 5, 42, 123).getTime(), level: LEVELS.warn, msg: 'JetStream is slow', fields: {} });
    expect(formatEntry(e!, 'nats-server')).toBe('16:05:42 WARN  [nats-server] JetStream is slow');
  });

  it('keeps any other text verbatim without a time; an empty line is nothing', () => {
    expect(formatLine('    at Object.<anonymous> (/x.js:1:1)', 'api')).toBe('         INFO  [api]     at Object.<anonymous> (/x.js:1:1)');
    expect(formatLine('{not json', 'api')).toBe('         INFO  [api] {not json');
    expect(formatLine('   ', 'api')).toBeUndefined();
  });
});

describe('toLogRecord (what the supervisor writes to a daemon\'s file)', () => {
  const now = Date.parse('2026-12-02T10:00:00.000Z');

  it('keeps pino lines as they are', () => {
    const line = JSON.stringify({ level: 30, time: 'x', msg: 'bundle applied' });
    expect(toLogRecord(`${line}  `, 'enforcer node-1', 'stdout', now)).toBe(line);
  });

  it('wraps other output as a pino line: stderr at warn (shown in the foreground), stdout at info', () => {
    const err = JSON.parse(toLogRecord('Error: boom', 'api', 'stderr', now)) as Record<string, unknown>;
    expect(err).toEqual({ level: 40, time: '2026-12-02T10:00:00.000Z', service: 'api', msg: 'Error: boom', stream: 'stderr' });
    expect((JSON.parse(toLogRecord('{"a":1}', 'api', 'stdout', now)) as { level: number; msg: string })).toMatchObject({ level: 30, msg: '{"a":1}' });
  });
});
