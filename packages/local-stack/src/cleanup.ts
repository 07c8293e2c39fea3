/**
 * What a stack that did not stop (its supervisor was SIGKILLed, or the machine's OOM
 * killer hit it) left behind, and removing it before the next start (and in `npm stop`).
 * The decision is pure (leftovers()): a recorded PID is ours only while its live command
 * line is the one recorded when it was spawned (or, for `ip netns exec`, the command it
 * exec'd into: a tail of it) and its start time the recorded one, so a PID the kernel
 * reused for something else — another stack's daemon with the same command line too — is
 * never killed; namespaces are ours when stack.json names them or they carry the dead
 * supervisor's PID (`nf-<pid>-…`). The executor (removeLeftovers) kills by PID with
 * SIGKILL, then every process still inside those namespaces, then deletes them. Never
 * signals anything by name and never touches another live stack's namespaces.
 */
import { readFileSync } from 'node:fs';
import { Netns, listTestNamespaces, pidAlive, run } from '@natfleet/testkit';
import type { StackRecord } from './state.js';

export interface HostView {
  /** argv of a live process; undefined when no such process exists. */
  cmdline(pid: number): string[] | undefined;
  /** A live process's start time (procStartTime); undefined when unknown. */
  startTime?(pid: number): number | undefined;
  /** Network namespaces that exist now (`ip netns list` names). */
  namespaces: readonly string[];
  /** The calling process (never a leftover). */
  self: number;
}

export interface Leftovers {
  /** Recorded children still running their recorded command: to SIGKILL. */
  kill: { pid: number; name: string }[];
  /** Recorded PIDs alive but running something else now (reused): left alone. */
  spared: { pid: number; name: string; running: string }[];
  /** The dead supervisor's namespaces that still exist: to delete. */
  namespaces: string[];
  /** The recorded supervisor is still alive (its namespaces and children are then not leftovers). */
  supervisorAlive: boolean;
}

/**
 * True when `live` is the process spawned as `recorded`: the same argv, or a tail of it of
 * two or more words (`ip netns exec <ns> node x` runs on as `node x`). Empty either: false.
 */
export function sameCommand(live: readonly string[], recorded: readonly string[]): boolean {
  if (live.length === 0 || recorded.length === 0 || live.length > recorded.length) return false;
  if (live.length < 2 && live.length !== recorded.length) return false;
  const off = recorded.length - live.length;
  return live.every((w, i) => w === recorded[off + i]);
}

/**
 * True when the live process `pid` is the one recorded as `c`: it runs the recorded command
 * (sameCommand) and, when a start time was recorded, started then (a PID reused by another
 * stack's daemon runs the same command line, but started later).
 */
function isRecorded(host: HostView, pid: number, live: readonly string[], c: { argv: string[]; startTime?: number }): boolean {
  if (!sameCommand(live, c.argv)) return false;
  if (c.startTime === undefined || host.startTime === undefined) return true;
  return host.startTime(pid) === c.startTime;
}

/**
 * What of `r`'s stack is left to clean up. A record without spawn-time command lines
 * (written by an older version) yields no PIDs to kill, only namespaces. When the recorded
 * supervisor still runs its recorded command, nothing is a leftover.
 */
export function leftovers(r: StackRecord, host: HostView): Leftovers {
  const sup = r.children?.[String(r.supervisorPid)];
  const supLive = r.supervisorPid !== host.self ? host.cmdline(r.supervisorPid) : undefined;
  const supervisorAlive = supLive !== undefined && (sup === undefined || isRecorded(host, r.supervisorPid, supLive, sup));
  const out: Leftovers = { kill: [], spared: [], namespaces: [], supervisorAlive };
  if (supervisorAlive) return out;
  const pids = new Set<number>([...r.pids, ...(r.services ?? []).map((s) => s.pid)]);
  for (const pid of pids) {
    if (pid === host.self || pid === r.supervisorPid) continue;
    const live = host.cmdline(pid);
    if (live === undefined) continue;
    const child = r.children?.[String(pid)];
    const name = child?.name ?? r.services?.find((s) => s.pid === pid)?.name ?? `pid ${pid}`;
    if (child && isRecorded(host, pid, live, child)) out.kill.push({ pid, name });
    else out.spared.push({ pid, name, running: live.join(' ').slice(0, 120) });
  }
  const recorded = new Set(r.nodes.flatMap((n) => [n.podNetns, n.nodeNetns, n.extNetns]));
  const prefix = `nf-${r.supervisorPid}-`;
  out.namespaces = host.namespaces.filter((n) => recorded.has(n) || n.startsWith(prefix)).sort();
  return out;
}

/** argv of a live process from /proc/<pid>/cmdline; undefined when it does not exist (or is a zombie with none). */
export function procCmdline(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const argv = raw.split('\0');
    if (argv[argv.length - 1] === '') argv.pop();
    return argv.length > 0 ? argv : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A live process's start time: field 22 of /proc/<pid>/stat (clock ticks after boot; kept
 * across exec, so `ip netns exec` and the command it runs share it). Undefined when the
 * process does not exist.
 */
export function procStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3.
    const v = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3]);
    return Number.isSafeInteger(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The real host: /proc and /run/netns. */
export function hostView(): HostView {
  return { cmdline: procCmdline, startTime: procStartTime, namespaces: listTestNamespaces(), self: process.pid };
}

/** PIDs of the processes inside a namespace (`ip netns pids`); empty when it has none or is gone. */
export async function namespacePids(ns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns], { allowFailure: true });
  return r.stdout.split(/\s+/).filter(Boolean).map(Number).filter((p) => Number.isInteger(p) && p > 0);
}

/** SIGKILL by PID, then wait (up to 5 s) until it is gone. A PID already gone is fine. */
export async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && pidAlive(pid) && procCmdline(pid) !== undefined; i++) await new Promise((r) => setTimeout(r, 50));
}

/**
 * Kills `l.kill` and every process inside `l.namespaces`, then deletes those namespaces.
 * Returns the lines saying what it did (empty when there was nothing to clean).
 */
export async function removeLeftovers(l: Leftovers): Promise<string[]> {
  const said: string[] = [];
  for (const { pid, name } of l.kill) {
    await killAndWait(pid);
    said.push(`killed ${name} (pid ${pid})`);
  }
  for (const s of l.spared) said.push(`left pid ${s.pid} alone (recorded as ${s.name}, now runs something else: ${s.running})`);
  for (const ns of l.namespaces) {
    for (const pid of await namespacePids(ns)) await killAndWait(pid);
    await Netns.attach(ns).destroy();
  }
  if (l.namespaces.length > 0) said.push(`removed namespaces ${l.namespaces.join(', ')}`);
  return said;
}
