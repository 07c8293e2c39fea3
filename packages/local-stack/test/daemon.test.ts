// A SupervisedDaemon with a real (tiny) child process: its lines go to its log file (pino
// as is, other output wrapped), warnings reach the foreground, a crash is announced and
// restarted after the back-off with the new PID reported, and stop() never restarts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from '@natfleet/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { Backoff, SupervisedDaemon } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'natfleet-daemon-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Prints one info and one warn pino line and a stderr line, then exits 3 after `ms`.
const SCRIPT = `
const t = () => new Date().toISOString();
console.log(JSON.stringify({ level: 30, time: t(), msg: 'hello', run: process.pid }));
console.log(JSON.stringify({ level: 40, time: t(), msg: 'careful', run: process.pid }));
console.error('plain stderr text');
setTimeout(() => process.exit(3), Number(process.argv[1]));`;

describe('SupervisedDaemon', () => {
  it('logs to its file, shows warnings, restarts a crash after the back-off, and stop() does not restart', async () => {
    const said: string[] = [];
    const started: { pid: number; restart: boolean }[] = [];
    const exited: number[] = [];
    const file = join(dir, 'logs', 'toy.log');
    const d = new SupervisedDaemon(
      { label: 'toy one', command: process.execPath, args: ['-e', SCRIPT, '300'], env: process.env, logFile: file, exitNote: 'nothing lost' },
      { say: (l) => said.push(l), started: (pid, _argv, restart) => started.push({ pid, restart }), exited: (pid) => exited.push(pid), backoff: new Backoff({ initialMs: 200, maxMs: 400, resetAfterMs: 60_000 }) },
    );
    d.start();
    const first = d.pid!;
    expect(started).toEqual([{ pid: first, restart: false }]);
    const until = async (what: () => boolean, ms = 10_000): Promise<void> => {
      for (const end = Date.now() + ms; !what(); ) {
        if (Date.now() > end) throw new Error(`timed out; said:\n${said.join('\n')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(() => started.length === 2);
    expect(exited).toEqual([first]);
    const second = started[1]!;
    expect(second.restart).toBe(true);
    expect(second.pid).not.toBe(first);
    expect(said).toContain('natfleet-local: toy one exited (code 3); restarting in 0.2s — nothing lost');
    expect(said).toContain(`natfleet-local: toy one restarted (pid ${second.pid})`);
    expect(said).toContainEqual(expect.stringMatching(new RegExp(`^\\d\\d:\\d\\d:\\d\\d WARN  \\[toy one\\] careful run=${first}$`)));
    expect(said.some((l) => l.includes('hello')), 'info lines stay out of the foreground').toBe(false);
    // Second crash: the delay doubled.
    await until(() => said.some((l) => l.includes('restarting in 0.4s')));
    await until(() => started.length === 3);
    await d.stop();
    const last = started[2]!.pid;
    expect(pidAlive(last)).toBe(false);
    await new Promise((r) => setTimeout(r, 600));
    expect(started).toHaveLength(3);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string; service?: string; stream?: string });
    expect(lines.filter((l) => l.msg === 'hello').length).toBeGreaterThanOrEqual(2);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: 'plain stderr text', service: 'toy one', stream: 'stderr' }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, service: 'natfleet-local', msg: 'exited (code 3); restarting in 0.2s — nothing lost' }));
  }, 30_000);
});
