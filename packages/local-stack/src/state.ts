/**
 * The local stack's state directory (default `<repo>/.natfleet`, or NATFLEET_STATE_DIR):
 * etcd data, the NATS store, keys, tokens, passwords, chosen ports and the supervisor's
 * PID. Everything but the PID and namespaces survives a stop, so a re-run reuses the data.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKeyPair } from '@natfleet/bundle';

export interface StackPorts {
  etcdClient: number;
  etcdPeer: number;
  nats: number;
  natsMonitor: number;
  api: number;
  compilerOps: number;
  /** The standby compiler's ops port, when the stack runs two (NATFLEET_COMPILERS=2). */
  standbyCompilerOps?: number;
  enforcerOps: number[];
}

export interface NodeRecord {
  name: string;
  podNetns: string;
  nodeNetns: string;
  extNetns: string;
  podAddress: string;
  nodeAddress: string;
  extAddress: string;
  peerPort: number;
}

export interface StackRecord {
  supervisorPid: number;
  startedAt: string;
  state: 'starting' | 'running' | 'stopped';
  ports: StackPorts;
  nodes: NodeRecord[];
  /** Every child PID the supervisor started (for `stop` to verify nothing is left). */
  pids: number[];
  /** Each daemon's name (`compiler-1`, `compiler-2`, `api`, `enforcer node-1`, …) and PID, newest start last. */
  services?: { name: string; pid: number }[];
  /**
   * Each recorded PID's name, command line as spawned and start time (/proc/<pid>/stat
   * field 22, clock ticks after boot; the supervisor's own too), so a later start or stop
   * kills only the very processes recorded (cleanup.ts): the daemons of two stacks share
   * one command line (their settings are in the environment), a start time they do not.
   */
  children?: Record<string, { name: string; argv: string[]; startTime?: number }>;
}

export interface Secrets {
  passwords: Record<string, string>;
  writeToken: string;
  readToken: string;
}

export class StackState {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  get recordFile(): string {
    return this.path('stack.json');
  }

  readRecord(): StackRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.recordFile, 'utf8')) as StackRecord;
    } catch {
      return undefined;
    }
  }

  /** Writes stack.json whole (a temp file renamed over it: a reader never sees half a record). */
  writeRecord(r: StackRecord): void {
    const tmp = `${this.recordFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(r, null, 2) + '\n');
    renameSync(tmp, this.recordFile);
  }

  /** Passwords for every NATS user and the API tokens, made once and reused. */
  secrets(users: readonly string[]): Secrets {
    const file = this.path('secrets.json');
    const rnd = (): string => randomBytes(18).toString('base64url');
    const s: Secrets = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Secrets) : { passwords: {}, writeToken: rnd(), readToken: rnd() };
    for (const u of users) s.passwords[u] ??= rnd();
    writeFileSync(file, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
    writeFileSync(this.path('api-tokens'), `${s.writeToken} write\n${s.readToken} read\n`, { mode: 0o600 });
    return s;
  }

  /** The compiler's signing key pair (keys/signing.key, keys/signing.pub), made once. */
  keys(): { privateKeyFile: string; publicKeyFile: string } {
    const dir = this.path('keys');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const privateKeyFile = join(dir, 'signing.key');
    const publicKeyFile = join(dir, 'signing.pub');
    if (!existsSync(privateKeyFile) || !existsSync(publicKeyFile)) {
      const k = generateSigningKeyPair();
      writeFileSync(privateKeyFile, k.privateKeyPem, { mode: 0o600 });
      writeFileSync(publicKeyFile, k.publicKeyPem);
    }
    return { privateKeyFile, publicKeyFile };
  }

  /** natctl's config for this stack ({apiUrl, token}); natctl finds ./.natfleet/natctl.json by itself. */
  writeNatctlConfig(apiUrl: string, token: string): string {
    const file = this.path('natctl.json');
    writeFileSync(file, JSON.stringify({ apiUrl, token }, null, 2) + '\n', { mode: 0o600 });
    return file;
  }

  /**
   * `<state dir>/natctl`: a shell script running `node <natctlMain>` with this stack's
   * NATFLEET_CONFIG, so the printed command works from any folder. Rewritten each start.
   */
  writeNatctlWrapper(nodePath: string, natctlMain: string, configFile: string): string {
    const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
    const file = this.path('natctl');
    writeFileSync(file, `#!/bin/sh\n# natctl for the local stack in ${this.dir} (written by npm start)\nNATFLEET_CONFIG=${q(configFile)}\nexport NATFLEET_CONFIG\nexec ${q(nodePath)} ${q(natctlMain)} "$@"\n`, { mode: 0o700 });
    chmodSync(file, 0o700);
    return file;
  }
}
