// natctl as the local stack's user runs it, in process: the stack's natctl.json (API URL
// and write token) from its state dir. Shared by the end-to-end tests; not a test file.
import { join } from 'node:path';
import { run as natctl, type Io } from '@natfleet/natctl';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** A natctl runner bound to the local stack whose state dir is `stateDir`. */
export function stackCli(stateDir: string): (...args: string[]) => Promise<CliResult> {
  return async (...args) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = {
      out: (s) => out.push(s),
      err: (s) => err.push(s),
      env: { NATFLEET_CONFIG: join(stateDir, 'natctl.json') },
      cwd: stateDir,
      stdin: async () => '',
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    };
    const code = await natctl(args, io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
}
