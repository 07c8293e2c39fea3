import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile, explain, isExplainInputError, type SnapshotEntry } from '../src/index.js';
import { felixEntry, nodeEntry, poolEntry } from './fixtures.js';

const C = { cluster: 'default' };

describe('explain', () => {
  const { body, pools } = compile(
    {
      entries: [
        poolEntry('default-ipv4-ippool', { cidr: '192.168.0.0/16', natOutgoing: true }),
        poolEntry('no-nat-corp', { cidr: '172.16.0.0/12', disabled: true }),
        poolEntry('public', { cidr: '198.51.100.0/24', natOutgoing: false }),
        poolEntry('v6', { cidr: 'fd00:10::/64', natOutgoing: true }),
        felixEntry('node.edge', { natOutgoingAddress: '203.0.113.5', natOutgoingExclusions: 'IPPoolsAndHostIPs' }),
        felixEntry('default', { natOutgoingInterfaceFilter: 'eth*' }),
        nodeEntry('edge', ['192.0.2.1']),
      ],
    },
    12,
    C,
  );

  it('masquerades a natOutgoing source to an outside destination, naming the pool', () => {
    const e = explain(body, 'worker', '192.168.4.7', '8.8.8.8', pools);
    expect(e.decision).toBe('masquerade');
    expect(e.source.pool?.name).toBe('default-ipv4-ippool');
    expect(e.reason).toContain('natOutgoing: true');
    expect(e.settingsFrom).toBe('default');
    expect(e.conditions).toEqual(['only for traffic leaving through an interface matching "eth*"']);
  });

  it('does not NAT towards a disabled pool range', () => {
    const e = explain(body, 'worker', '192.168.4.7', '172.20.1.1', pools);
    expect(e).toMatchObject({ decision: 'none', destination: { noNatCidr: '172.16.0.0/12', pool: { name: 'no-nat-corp', disabled: true } } });
    expect(e.reason).toContain('disabled');
  });

  it('does not NAT a pool with natOutgoing false', () => {
    const e = explain(body, 'worker', '198.51.100.9', '8.8.8.8', pools);
    expect(e).toMatchObject({ decision: 'none', source: { pool: { name: 'public', natOutgoing: false } } });
  });

  it('SNATs on a node with natOutgoingAddress, and exempts host addresses there only', () => {
    expect(explain(body, 'edge', '192.168.4.7', '8.8.8.8', pools)).toMatchObject({ decision: 'snat', snatAddress: '203.0.113.5', settingsFrom: 'node.edge' });
    expect(explain(body, 'edge', '192.168.4.7', '192.0.2.1', pools)).toMatchObject({ decision: 'none', destination: { hostAddress: '192.0.2.1/32' } });
    expect(explain(body, 'worker', '192.168.4.7', '192.0.2.1', pools).decision).toBe('masquerade');
  });

  it('IPv6 sources masquerade (a v4 natOutgoingAddress does not apply to them)', () => {
    expect(explain(body, 'edge', 'fd00:10::5', '2001:db8::1', pools).decision).toBe('masquerade');
  });

  it('cross-family flows are never NATed; works without pools (CIDRs only)', () => {
    expect(explain(body, 'worker', '192.168.4.7', '2001:db8::1').decision).toBe('none');
    const e = explain(body, 'worker', '192.168.4.7', '8.8.8.8');
    expect(e).toMatchObject({ decision: 'masquerade', source: { masqueradeCidr: '192.168.0.0/16' } });
    expect(e.source.pool).toBeUndefined();
  });

  it('rejects non-IP input naming the field', () => {
    let err: unknown;
    try {
      explain(body, 'worker', '192.168.4.7', 'example.com');
    } catch (e) {
      err = e;
    }
    expect(isExplainInputError(err) && err.field).toBe('dst');
  });
});

// ---- property test: explain (from the compiled sets) == brute force (from the raw pools) ----

interface P {
  name: string;
  family: 4 | 6;
  offset: number; // network index inside the test space
  prefix: number;
  natOutgoing: boolean;
  disabled: boolean;
  lb: boolean;
}

const V4_BASE = 10n << 24n; // 10.0.0.0, space 10.0.0.0/16
const V6_BASE = 0xfd00n << 112n; // fd00::, space fd00::/112

function cidrOf(p: P): { text: string; first: bigint; last: bigint } {
  const bits = p.family === 4 ? 32 : 128;
  const base = p.family === 4 ? V4_BASE : V6_BASE;
  const size = 1n << BigInt(bits - p.prefix);
  const first = base + ((BigInt(p.offset) * size) % (1n << 16n));
  const net = first - (first % size);
  return { text: p.family === 4 ? `${v4(net)}/${p.prefix}` : `${v6(net)}/${p.prefix}`, first: net, last: net + size - 1n };
}
const v4 = (n: bigint): string => [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
const v6 = (n: bigint): string => `fd00::${((n >> 16n) & 0xffffn).toString(16)}:${(n & 0xffffn).toString(16)}`;

const poolArb = fc.record({
  family: fc.constantFrom(4 as const, 6 as const),
  offset: fc.nat(300),
  prefixDelta: fc.nat(10),
  natOutgoing: fc.boolean(),
  disabled: fc.boolean(),
  lb: fc.nat(9).map((n) => n < 2),
});

const addrArb = fc.record({ family: fc.constantFrom(4 as const, 6 as const), n: fc.nat(0x1ffff) }).map(({ family, n }) =>
  family === 4 ? { family, value: V4_BASE + BigInt(n), text: v4(V4_BASE + BigInt(n)) } : { family, value: V6_BASE + BigInt(n), text: v6(V6_BASE + BigInt(n)) },
);

function bruteForce(pools: P[], src: { family: number; value: bigint }, dst: { family: number; value: bigint }, snat: string | undefined, hosts: bigint[], hostIPs: boolean) {
  // Dedupe exact CIDRs: first by name wins (the compiler's documented rule). LB pools are out.
  const seen = new Map<string, P>();
  for (const p of [...pools].sort((a, b) => (a.name < b.name ? -1 : 1))) if (!seen.has(cidrOf(p).text)) seen.set(cidrOf(p).text, p);
  const live = [...seen.values()].filter((p) => !p.lb);
  const containing = (a: { family: number; value: bigint }) =>
    live.filter((p) => p.family === a.family && cidrOf(p).first <= a.value && a.value <= cidrOf(p).last);
  const srcPool = containing(src).sort((a, b) => b.prefix - a.prefix)[0];
  if (src.family !== dst.family || !srcPool?.natOutgoing) return { decision: 'none', srcPool: srcPool?.name };
  if (containing(dst).length > 0) return { decision: 'none', srcPool: srcPool.name };
  if (hostIPs && dst.family === 4 && hosts.includes(dst.value)) return { decision: 'none', srcPool: srcPool.name };
  return { decision: snat && src.family === 4 ? 'snat' : 'masquerade', srcPool: srcPool.name };
}

describe('explain agrees with a brute-force evaluation of the semantics', () => {
  it('for random pools and random flows', () => {
    fc.assert(
      fc.property(
        fc.array(poolArb, { minLength: 0, maxLength: 12 }),
        fc.array(fc.tuple(addrArb, addrArb), { minLength: 1, maxLength: 20 }),
        fc.option(fc.constant('203.0.113.5')),
        fc.boolean(),
        fc.array(fc.nat(0xffff), { maxLength: 3 }),
        (rawPools, flows, snat, hostIPs, hostOffsets) => {
          const pools: P[] = rawPools.map((r, i) => ({
            name: `p${String(i).padStart(2, '0')}`,
            family: r.family,
            offset: r.offset,
            // blockSize is 26 / 122 by default, so enabled pools must be at least that big.
            prefix: (r.family === 4 ? 16 : 112) + r.prefixDelta,
            natOutgoing: r.natOutgoing,
            disabled: r.disabled,
            lb: r.lb,
          }));
          const hosts = hostOffsets.map((o) => V4_BASE + BigInt(o));
          const entries: SnapshotEntry[] = pools.map((p) =>
            poolEntry(p.name, {
              cidr: cidrOf(p).text,
              natOutgoing: p.lb ? false : p.natOutgoing,
              disabled: p.disabled,
              ...(p.lb ? { allowedUses: ['LoadBalancer'] } : {}),
            }),
          );
          // natOutgoing is forced false on LB pools above (Calico rejects natOutgoing there); mirror it.
          pools.forEach((p) => p.lb && (p.natOutgoing = false));
          entries.push(
            felixEntry('default', { ...(snat ? { natOutgoingAddress: snat } : {}), natOutgoingExclusions: hostIPs ? 'IPPoolsAndHostIPs' : 'IPPoolsOnly' }),
            ...hosts.map((h, i) => nodeEntry(`n${i}`, [v4(h)])),
          );
          const compiled = compile({ entries }, 1, C);
          const rejected = compiled.body.warnings.filter((w) => w.code === 'INVALID_RESOURCE');
          if (rejected.length > 0) throw new Error(`generator made an invalid pool: ${JSON.stringify(rejected)}`);
          for (const [src, dst] of flows) {
            const want = bruteForce(pools, src, dst, snat ?? undefined, hosts, hostIPs);
            const got = explain(compiled.body, 'any-node', src.text, dst.text, compiled.pools);
            expect(got.decision).toBe(want.decision);
            expect(got.source.pool?.name).toBe(want.srcPool);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
