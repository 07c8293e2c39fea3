// Log file naming (`<state dir>/logs/<daemon>.log`), the daemons `npm run logs` knows,
// choosing one by name, the merge by time, and the simple rotation at start.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { daemonLabel, daemonName, isLocalStackError, knownDaemons, logFile } from '../src/index.js';
import { LogFile, rotateIfLarge } from '../src/log-files.js';
import { entriesOf, mergeNewest, selectDaemons, showLogs } from '../src/logs-command.js';

const dir = mkdtempSync(join(tmpdir(), 'natfleet-logs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('log file names', () => {
  it('one file per daemon, named after its label; the label comes back from the name', () => {
    expect(logFile('/s', 'enforcer node-1')).toBe('/s/logs/enforcer-node-1.log');
    expect(logFile('/s', 'compiler-2')).toBe('/s/logs/compiler-2.log');
    expect(daemonName('../../etc/passwd')).toBe('-etc-passwd');
    expect(daemonLabel('enforcer-node-12')).toBe('enforcer node-12');
    expect(daemonLabel('api')).toBe('api');
  });

  it('knows the daemons with a file (not rotated generations); none before a first start', () => {
    expect(knownDaemons(join(dir, 'never'))).toEqual([]);
    const f = new LogFile(logFile(dir, 'enforcer node-1'));
    f.append('{"level":30,"time":"2026-12-02T10:00:02.000Z","msg":"b"}');
    f.close();
    f.append('after close: dropped');
    writeFileSync(logFile(dir, 'api'), '{"level":30,"time":"2026-12-02T10:00:01.000Z","msg":"a"}\nnot json\n{"level":40,"time":"2026-12-02T10:00:03.000Z","msg":"c"}\n');
    writeFileSync(`${logFile(dir, 'api')}.1`, 'old\n');
    expect(knownDaemons(dir)).toEqual(['api', 'enforcer-node-1']);
    expect(readFileSync(logFile(dir, 'enforcer node-1'), 'utf8')).not.toContain('dropped');
  });

  it('picks a daemon by file name, label or bare node name; an unknown one is an error listing the known', () => {
    const known = ['api', 'compiler-1', 'enforcer-node-1'];
    expect(selectDaemons(known, undefined)).toEqual(known);
    expect(selectDaemons(known, 'enforcer node-1')).toEqual(['enforcer-node-1']);
    expect(selectDaemons(known, 'node-1')).toEqual(['enforcer-node-1']);
    expect(selectDaemons(known, 'api')).toEqual(['api']);
    let err: unknown;
    try {
      selectDaemons(known, 'node-9');
    } catch (e) {
      err = e;
    }
    expect(isLocalStackError(err, 'UNKNOWN_DAEMON')).toBe(true);
    expect((err as Error).message).toBe('unknown daemon "node-9"; known: api, compiler-1, enforcer-node-1');
    expect(() => selectDaemons([], undefined)).toThrow(/no logs yet/);
  });

  it('merges files by time, an untimed line staying under the line before it, newest n kept', () => {
    const a = entriesOf('{"level":30,"time":"2026-12-02T10:00:01.000Z","msg":"a1"}\n  trace line\n{"level":30,"time":"2026-12-02T10:00:05.000Z","msg":"a5"}\n', 'api', 0);
    const b = entriesOf('{"level":30,"time":"2026-12-02T10:00:03.000Z","msg":"b3"}\n', 'compiler-1', 1e9);
    expect(mergeNewest([a, b], 10).map((t) => t.entry.msg)).toEqual(['a1', '  trace line', 'b3', 'a5']);
    expect(mergeNewest([a, b], 2).map((t) => t.entry.msg)).toEqual(['b3', 'a5']);
    expect(mergeNewest([a, b], 0)).toEqual([]);
  });

  it('showLogs prints the merge, then follows appended lines (a partial line waits for its end)', async () => {
    const out: string[] = [];
    let stop!: () => void;
    const until = new Promise<void>((r) => (stop = r));
    const running = showLogs({ stateDir: dir, follow: true, lines: 10, out: (l) => out.push(l), pollMs: 20, until });
    await new Promise((r) => setTimeout(r, 60));
    expect(out.map((l) => l.slice(9))).toEqual(['INFO  [api] a', 'INFO  [api] not json', 'INFO  [enforcer node-1] b', 'WARN  [api] c']);
    const f = new LogFile(logFile(dir, 'enforcer node-1'));
    f.append('{"level":50,"time":"2026-12-02T10:00:09.000Z","msg":"new"}');
    writeFileSync(logFile(dir, 'api'), '{"level":30,"msg":"half', { flag: 'a' });
    await new Promise((r) => setTimeout(r, 150));
    expect(out.slice(4).map((l) => l.slice(9))).toEqual(['ERROR [enforcer node-1] new']);
    writeFileSync(logFile(dir, 'api'), '"}\n', { flag: 'a' });
    await new Promise((r) => setTimeout(r, 150));
    stop();
    await running;
    f.close();
    expect(out.slice(5).map((l) => l.slice(9))).toEqual(['INFO  [api] half']);
  });

  it('rotates a file at or past the limit to .log.1 (replacing the older one), keeps a smaller one', () => {
    const file = join(dir, 'rot.log');
    writeFileSync(file, 'x'.repeat(100));
    expect(rotateIfLarge(file, 101)).toBe(false);
    expect(rotateIfLarge(file, 100)).toBe(true);
    expect(existsSync(file)).toBe(false);
    expect(statSync(`${file}.1`).size).toBe(100);
    expect(rotateIfLarge(join(dir, 'missing.log'), 1)).toBe(false);
  });

  it('a daemon writing for a long time rotates while it runs: never more than two generations of about the limit', () => {
    const file = join(dir, 'long-run.log');
    writeFileSync(file, 'x'.repeat(60) + '\n');
    const f = new LogFile(file, 100);
    for (let i = 0; i < 50; i++) f.append(`line ${String(i).padStart(3, '0')} ${'y'.repeat(20)}`);
    f.close();
    expect(statSync(file).size).toBeLessThan(100 + 30);
    expect(statSync(`${file}.1`).size).toBeLessThan(100 + 30);
    // Whole lines, the newest in the current file, the ones before it in .1.
    expect(readFileSync(file, 'utf8').trimEnd().split('\n').at(-1)).toBe(`line 049 ${'y'.repeat(20)}`);
    expect(readFileSync(`${file}.1`, 'utf8').endsWith('\n')).toBe(true);
  });
});
