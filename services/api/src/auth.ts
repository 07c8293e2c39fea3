/**
 * Bearer tokens with two roles and a name. The token file has one token per line:
 * `<token> <role> [name]` where role is `read` or `write` (write implies read) and the
 * optional name (e.g. `alice`, `ci-deploy`) is who the history says made a write; it
 * defaults to the role, so files without names keep working. `#` starts a comment.
 * Tokens are compared in constant time. Loading fails fast naming the bad line.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

export type Role = 'read' | 'write';

/** Who a token is: its role and the name recorded for its writes. */
export interface TokenIdentity {
  role: Role;
  name: string;
}

/** A token name: what `natctl history` prints as the author of a write. */
export const TOKEN_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,63}$/;

export class TokenSet {
  private constructor(private readonly entries: readonly ({ hash: Buffer } & TokenIdentity)[]) {}

  /** Parses token-file text. Throws Error naming the line for a malformed entry, short token or bad name. */
  static parse(text: string, source = 'token file'): TokenSet {
    const entries: ({ hash: Buffer } & TokenIdentity)[] = [];
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) return;
      const [token, role, name, extra] = line.split(/\s+/);
      if (!token || (role !== 'read' && role !== 'write') || extra !== undefined) {
        throw new Error(`${source} line ${i + 1}: expected "<token> read|write [name]"`);
      }
      if (token.length < 16) throw new Error(`${source} line ${i + 1}: token must be at least 16 characters`);
      if (name !== undefined && !TOKEN_NAME_RE.test(name)) throw new Error(`${source} line ${i + 1}: name must be 1-64 of letters, digits and . _ @ : - (starting with a letter or digit)`);
      entries.push({ hash: sha(token), role, name: name ?? role });
    });
    if (entries.length === 0) throw new Error(`${source}: no tokens`);
    return new TokenSet(entries);
  }

  static load(path: string): TokenSet {
    return TokenSet.parse(readFileSync(path, 'utf8'), path);
  }

  /**
   * The role and name of `token`, or undefined when unknown. A token listed more than once
   * gets its strongest role, named by the first line giving that role. Every entry is
   * compared, so the time taken does not depend on which one matches.
   */
  identify(token: string): TokenIdentity | undefined {
    const h = sha(token);
    let hit: TokenIdentity | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(e.hash, h) && (hit === undefined || (hit.role === 'read' && e.role === 'write'))) hit = { role: e.role, name: e.name };
    }
    return hit;
  }

  /** The role of `token`, or undefined when unknown. */
  roleOf(token: string): Role | undefined {
    return this.identify(token)?.role;
  }
}

// Hashing first gives equal-length buffers for timingSafeEqual whatever the token lengths.
const sha = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}
