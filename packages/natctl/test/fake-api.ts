// A fake natfleet API for natctl tests: `route` answers each request (404 when it returns
// undefined) and every request is recorded. Not a test file itself.
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import type { Io } from '../src/index.js';

export type Seen = { method: string; url: string; body: any };
export type Route = (req: Seen) => { status?: number; body: object } | undefined;

export async function withApi(route: Route, fn: (url: string, seen: Seen[]) => Promise<void>): Promise<void> {
  const seen: Seen[] = [];
  const text = (req: IncomingMessage): Promise<string> =>
    new Promise((r) => {
      let s = '';
      req.on('data', (c) => (s += c));
      req.on('end', () => r(s));
    });
  const srv = createServer(async (req, res) => {
    const raw = await text(req);
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      // YAML or text bodies stay strings
    }
    const s: Seen = { method: req.method!, url: req.url!, body };
    seen.push(s);
    const a = route(s) ?? { status: 404, body: { code: 'NOT_FOUND', message: `no route ${s.method} ${s.url}` } };
    res.statusCode = a.status ?? 200;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(a.body));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${(srv.address() as { port: number }).port}`, seen);
  } finally {
    srv.close();
  }
}

export function io(url: string, over: Partial<Io> = {}): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), env: { NATFLEET_API_URL: url }, cwd: tmpdir(), stdin: async () => '', sleep: async () => undefined, ...over };
}
