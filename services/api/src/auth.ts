/**
 * Bearer tokens with two roles. The token file has one token per line: `<token> <role>`
 * where role is `read` or `write` (write implies read); `#` starts a comment. Tokens are
 * compared in constant time. Loading fails fast naming the bad line.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

export type Role = 'read' | 'write';

export class TokenSet {
  private constructor(private readonly entries: readonly { hash: Buffer; role: Role }[]) {}

  /** Parses token-file text. Throws Error naming the line for a malformed entry or short token. */
  static parse(text: string, source = 'token file'): TokenSet {
    const entries: { hash: Buffer; role: Role }[] = [];
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) return;
      const [token, role, extra] = line.split(/\s+/);
      if (!token || (role !== 'read' && role !== 'write') || extra !== undefined) {
        throw new Error(`${source} line ${i + 1}: expected "<token> read|write"`);
      }
      if (token.length < 16) throw new Error(`${source} line ${i + 1}: token must be at least 16 characters`);
      entries.push({ hash: sha(token), role });
    });
    if (entries.length === 0) throw new Error(`${source}: no tokens`);
    return new TokenSet(entries);
  }

  static load(path: string): TokenSet {
    return TokenSet.parse(readFileSync(path, 'utf8'), path);
  }

  /** The role of `token`, or undefined when unknown. */
  roleOf(token: string): Role | undefined {
    const h = sha(token);
    let role: Role | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.hash, h)) role = role === 'write' ? role : e.role;
    return role;
  }
}

// Hashing first gives equal-length buffers for timingSafeEqual whatever the token lengths.
const sha = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}
