/**
 * natfleet daemons as real processes in tests: `node services/<name>/dist/main.js …`,
 * started with an ops port chosen by the test, ready when /healthz (or /readyz) answers
 * 200. Stopped by PID (SIGTERM, then SIGKILL) or SIGKILLed to simulate a crash.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServerStartError } from './errors.js';
import { ManagedProcess, waitUntil } from './process.js';

/** Repository root (this file lives in packages/testkit/{src,dist}). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Path of a service's built entry point; throws when it has not been built. */
export function serviceEntry(name: string): string {
  const entry = join(REPO_ROOT, 'services', name, 'dist', 'main.js');
  if (!existsSync(entry)) throw new ServerStartError(`natfleet-${name}`, `${entry} is missing: run "npm run build" first`, '');
  return entry;
}

export interface ServiceStartOptions {
  /** Service directory name under services/ (compiler, enforcer, api). */
  name: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Ops port the service was told to listen on; readiness is polled there. */
  opsPort: number;
  /** Wait for /readyz (default) or only /healthz. */
  waitFor?: 'readyz' | 'healthz' | 'none';
  timeoutMs?: number;
}

/** A running natfleet service process. */
export class ServiceProcess {
  private constructor(
    readonly proc: ManagedProcess,
    readonly opsPort: number,
    readonly options: ServiceStartOptions,
  ) {}

  static async start(o: ServiceStartOptions): Promise<ServiceProcess> {
    const proc = new ManagedProcess(process.execPath, [serviceEntry(o.name), ...o.args], {
      env: { ...process.env, ...o.env },
      keepLines: 2_000,
    });
    const svc = new ServiceProcess(proc, o.opsPort, o);
    const waitFor = o.waitFor ?? 'readyz';
    if (waitFor !== 'none') await svc.waitReady(waitFor, o.timeoutMs ?? 20_000);
    return svc;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.running;
  }

  /** Polls the ops endpoint until it answers 200; ServerStartError (with log tail) otherwise. */
  async waitReady(path: 'readyz' | 'healthz' = 'readyz', timeoutMs = 20_000): Promise<void> {
    try {
      await waitUntil(
        `${this.options.name} /${path}`,
        async () => {
          if (!this.proc.running) throw new Error('exited');
          const res = await fetch(`http://127.0.0.1:${this.opsPort}/${path}`, { signal: AbortSignal.timeout(1_000) });
          return res.ok;
        },
        { timeoutMs, intervalMs: 50 },
      );
    } catch (err) {
      throw new ServerStartError(`natfleet-${this.options.name}`, this.proc.running ? `/${path} not ready in time` : 'process exited', this.proc.tail(60), { cause: err });
    }
  }

  /** GET a path on the ops port and parse JSON (e.g. /readyz). */
  async getJson<T = unknown>(path: string): Promise<{ status: number; body: T }> {
    const res = await fetch(`http://127.0.0.1:${this.opsPort}${path}`, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, body: (await res.json()) as T };
  }

  /** Log lines parsed as JSON (pino), skipping non-JSON lines. */
  logs(): Record<string, unknown>[] {
    return this.proc.output().flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  tail(n = 40): string {
    return this.proc.tail(n);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    await this.proc.stop(graceMs);
  }

  /** SIGKILL (crash). */
  async kill(): Promise<void> {
    await this.proc.kill();
  }
}
