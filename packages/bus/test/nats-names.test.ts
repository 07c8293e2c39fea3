// Node names, their KV subjects and per-user inbox prefixes: every Kubernetes node name
// fits, a name never becomes an empty or wildcard subject token, and no user's inbox
// prefix covers another's.
import { describe, expect, it } from 'vitest';
import { NODE_NAME_RE, inboxPrefix, nodeStatusSubject } from '../src/index.js';

/** Deterministic pseudo-random generator (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random name from the characters node names may hold (dots included, so labels vary). */
function randomName(r: () => number): string {
  const chars = 'ab0-_.A9';
  const labels = 1 + Math.floor(r() * 4);
  return Array.from({ length: labels }, () => Array.from({ length: 1 + Math.floor(r() * 3) }, () => chars[Math.floor(r() * (chars.length - 1))]).join('')).join('.');
}

describe('node names', () => {
  it('accepts every Kubernetes node name shape (DNS-1123 subdomains up to 253) and host names', () => {
    const label63 = 'a'.repeat(63);
    for (const name of ['node-1', 'ip-10-0-0-5.ec2.internal', 'ip-10-0-0-5.eu-west-1.compute.internal', 'gke-pool-1-abcd-xyz0', '1', 'a.b', `${label63}.${label63}.${label63}.${'b'.repeat(61)}`, 'Worker_7']) {
      expect(NODE_NAME_RE.test(name), name).toBe(true);
    }
  });

  it('refuses names that would be empty or wildcard subject tokens, or too long', () => {
    for (const name of ['', '.', 'a..b', '.a', 'a.', 'a b', 'a*', 'a.>', '>', 'a/b', 'ä', 'a'.repeat(254), `${'a'.repeat(200)}.${'b'.repeat(53)}`]) {
      expect(NODE_NAME_RE.test(name), name).toBe(false);
    }
  });

  it('a dotted name is a multi-token KV subject; an invalid one is a RangeError', () => {
    expect(nodeStatusSubject('ip-10-0-0-5.ec2.internal')).toBe('$KV.natfleet-nodes.ip-10-0-0-5.ec2.internal');
    expect(() => nodeStatusSubject('a..b')).toThrow(RangeError);
  });
});

describe('inbox prefixes', () => {
  it('is _INBOX_<user> as one token, escaping what is not [A-Za-z0-9-]', () => {
    expect(inboxPrefix('compiler')).toBe('_INBOX_compiler');
    expect(inboxPrefix('enforcer-node-1')).toBe('_INBOX_enforcer-node-1');
    expect(inboxPrefix('enforcer-ip-10-0-0-5.ec2.internal')).toBe('_INBOX_enforcer-ip-10-0-0-5_2eec2_2einternal');
    expect(inboxPrefix('enforcer-a_b')).toBe('_INBOX_enforcer-a_5fb');
    expect(inboxPrefix('ü')).toBe('_INBOX__c3_bc');
  });

  it("without a user it is nats.js's default", () => {
    expect(inboxPrefix(undefined)).toBe('_INBOX');
    expect(inboxPrefix('')).toBe('_INBOX');
  });

  it('never holds a dot or wildcard, and differs for different users (20 000 random names)', () => {
    const r = rng(12);
    const seen = new Map<string, string>();
    for (let i = 0; i < 20_000; i++) {
      const user = `enforcer-${randomName(r)}`;
      const prefix = inboxPrefix(user);
      expect(prefix).toMatch(/^_INBOX_[A-Za-z0-9_-]+$/);
      const other = seen.get(prefix);
      if (other !== undefined) expect(other).toBe(user);
      seen.set(prefix, user);
    }
    // Names that collapse under a naive dot/underscore replacement stay apart.
    const tricky = ['a.b', 'a_b', 'a-b', 'a_2eb', 'a._', 'a_.'].map((n) => inboxPrefix(`enforcer-${n}`));
    expect(new Set(tricky).size).toBe(tricky.length);
  });
});
