/** Resident memory of processes by PID, sampled from /proc (Linux). */
import { readFileSync } from 'node:fs';

/** VmRSS of `pid` in MiB, or NaN when the process is gone. */
export function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** CPU time (user+system) of `pid` in seconds, from /proc/<pid>/stat; NaN when gone. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return Number.NaN;
  }
}

/** Samples peak RSS of several processes every `everyMs` until stopped. */
export class RssSampler {
  private readonly peaks = new Map<string, number>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly pids: Record<string, number | undefined>, everyMs = 100) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  private sample(): void {
    for (const [name, pid] of Object.entries(this.pids)) {
      const v = rssMiB(pid);
      if (!Number.isNaN(v)) this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, v));
    }
  }

  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.sample();
    return Object.fromEntries(this.peaks);
  }
}
