/**
 * The dashboard's HTTP client: every call carries `Authorization: Bearer <token>` (never
 * the URL), JSON in and out, and an API refusal becomes ApiRefused with the server's code
 * and message. Owns no state beyond the token it was made with.
 */
import { errorText } from './format.js';

export class ApiRefused extends Error {
  override readonly name = 'ApiRefused';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class ApiClient {
  constructor(readonly token: string) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, ...extra };
  }

  async get<T>(path: string): Promise<T> {
    return this.call<T>(path, { method: 'GET' });
  }

  /** POST with a JSON body (`{}` when none: command routes take an empty object). */
  async post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.call<T>(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  }

  private async call<T>(path: string, init: { method: string; body?: string; headers?: Record<string, string> }): Promise<T> {
    const res = await fetch(path, { ...init, headers: this.headers(init.headers) });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      body = null;
    }
    if (!res.ok) {
      const code = body !== null && typeof body === 'object' && typeof (body as { code?: unknown }).code === 'string' ? (body as { code: string }).code : `HTTP_${res.status}`;
      throw new ApiRefused(res.status, code, errorText(res.status, body));
    }
    return body as T;
  }
}
