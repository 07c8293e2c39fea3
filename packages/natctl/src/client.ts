/**
 * A thin client for the natfleet API. Connection settings come from (first wins) flags,
 * NATFLEET_API_URL / NATFLEET_API_TOKEN, or a JSON config file `{apiUrl, token}`
 * (NATFLEET_CONFIG, else .natfleet/natctl.json in the current directory or the nearest one
 * above it up to the repository root, else ~/.config/natfleet/natctl.json — the local
 * stack writes the second). Errors are CliError with the API's code and issues.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { exitFor } from './exit-codes.js';

export interface FieldIssue {
  resource: string;
  path: string;
  reason: string;
}

export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
    readonly issues: readonly FieldIssue[] = [],
  ) {
    super(message);
  }
}

export interface Connection {
  apiUrl: string;
  token: string | undefined;
  source: string;
}

/**
 * `.natfleet/natctl.json` in `cwd` or the nearest directory above it, stopping after the
 * repository root (a directory holding `.git`) or the filesystem root; undefined when none.
 * So `natctl` run anywhere inside a checkout finds the config the local stack wrote.
 */
export function findConfigUpwards(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, '.natfleet', 'natctl.json');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (existsSync(join(dir, '.git')) || parent === dir) return undefined;
    dir = parent;
  }
}

/** Resolves the API URL and token. Throws CliError when a named config file is unreadable. */
export function resolveConnection(flags: { apiUrl?: string; token?: string; config?: string }, env = process.env, cwd = process.cwd()): Connection {
  const candidates = [flags.config, env.NATFLEET_CONFIG, findConfigUpwards(cwd), join(homedir(), '.config', 'natfleet', 'natctl.json')].filter(
    (p): p is string => !!p,
  );
  let file: { apiUrl?: string; token?: string } = {};
  let source = 'defaults';
  const explicit = flags.config ?? env.NATFLEET_CONFIG;
  for (const p of candidates) {
    if (!existsSync(p)) {
      if (p === explicit) throw new CliError(`config file ${p} does not exist`, 1);
      continue;
    }
    try {
      file = JSON.parse(readFileSync(p, 'utf8')) as typeof file;
      source = p;
      break;
    } catch (err) {
      throw new CliError(`config file ${p} is not valid JSON: ${(err as Error).message}`, 1);
    }
  }
  const apiUrl = flags.apiUrl ?? env.NATFLEET_API_URL ?? file.apiUrl ?? 'http://127.0.0.1:8080';
  const token = flags.token ?? env.NATFLEET_API_TOKEN ?? file.token;
  return { apiUrl: apiUrl.replace(/\/+$/, ''), token, source };
}

export class ApiClient {
  constructor(readonly conn: Connection) {}

  /** Calls the API; resolves the parsed JSON body on 2xx, throws CliError otherwise. */
  async request<T = any>(method: string, path: string, body?: { text: string; type: string } | object): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.conn.token) headers.authorization = `Bearer ${this.conn.token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      if ('text' in body && 'type' in body && typeof body.text === 'string') {
        payload = body.text;
        headers['content-type'] = body.type as string;
      } else {
        payload = JSON.stringify(body);
        headers['content-type'] = 'application/json';
      }
    }
    let res: Response;
    try {
      res = await fetch(`${this.conn.apiUrl}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}), signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      throw new CliError(`cannot reach the natfleet API at ${this.conn.apiUrl} (${(err as Error).cause ?? (err as Error).message}); is it running? (config: ${this.conn.source})`, 1);
    }
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new CliError(`unexpected response from ${this.conn.apiUrl} (HTTP ${res.status})`, 1);
    }
    if (!res.ok) throw new CliError(json.message ?? `HTTP ${res.status}`, exitFor(json.code), json.issues ?? []);
    return json as T;
  }
}
