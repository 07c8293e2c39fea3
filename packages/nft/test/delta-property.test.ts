// Property, on the real kernel (nft in throwaway netns): for random sequences of bundles,
// applying renderDelta when it is defined (else renderTransaction) leaves exactly the
// table that a fresh whole-table apply of the same bundle leaves in a second namespace —
// compared as read back from the kernel (sets, chains, rule ids in order, the marker, and
// every set's elements as values) — also after a foreign change repaired with
// renderRepair (or a swap when it declines), and a delta from a table someone changed
// under it fails whole (the marker compare-and-swap). Seeded: NATFLEET_SEED=<n> replays.
import { Netns } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, NatSettings } from '@natfleet/bundle';
import {
  expectedTableContents,
  formatAddress,
  isNftKernelError,
  parseAddress,
  RealNft,
  renderDelta,
  renderRepair,
  renderTransaction,
  type TableState,
} from '../src/index.js';
import { digestFor, makeBundle } from './fixtures.js';

const SEQUENCES = 15;
const STEPS = 8;
const NODE = 'n';

/** mulberry32: a small seeded PRNG, so a failing sequence can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface Pool {
  cidr: string;
  masq: boolean;
}

/** Random pools of common prefix lengths (always present in a few hundred), and rare ones (/20, /120) that come and go. */
function randomPool(rnd: () => number): Pool {
  const n = (max: number) => Math.floor(rnd() * max);
  const v4 = (len: number) => {
    const v = (0x0a000000 + n(0x1000000)) >>> 0;
    return `${formatAddress(BigInt(v), 32)}/${len}`;
  };
  const v6 = (len: number) => `fd00:${n(0x10000).toString(16)}:${n(0x10000).toString(16)}:${n(0x10000).toString(16)}::${n(0x10000).toString(16)}/${len}`;
  const r = rnd();
  const cidr =
    r < 0.25 ? v4(24) : r < 0.4 ? v4(16) : r < 0.5 ? v4(26) : r < 0.6 ? v4(32) : r < 0.61 ? v4(20) : r < 0.8 ? v6(64) : r < 0.9 ? v6(48) : r < 0.99 ? v6(128) : v6(120);
  return { cidr, masq: rnd() < 0.7 };
}

function toBundle(version: number, pools: readonly Pool[], settings: Partial<NatSettings>, hosts: { v4: string[]; v6: string[] }): Bundle {
  const fam = (p: Pool) => (p.cidr.includes(':') ? 'v6' : 'v4');
  const sets = (f: 'v4' | 'v6') => ({
    masquerade: pools.filter((p) => fam(p) === f && p.masq).map((p) => p.cidr),
    noNat: pools.filter((p) => fam(p) === f).map((p) => p.cidr),
  });
  return makeBundle({ version, digest: digestFor(version), v4: sets('v4'), v6: sets('v6'), settings, hostAddresses: hosts });
}

/** A read-back with every set's elements as sorted canonical values (hash-set listings come in hash order). */
function normalised(state: TableState | undefined): TableState | undefined {
  if (state?.elements === undefined) return state;
  const elements: Record<string, string[]> = {};
  for (const [name, list] of Object.entries(state.elements)) {
    const values = list.map((e) => {
      const a = parseAddress(e);
      return a === undefined ? e : formatAddress(a.value, a.bits);
    });
    elements[name] = [...new Set(values)].sort();
    expect(elements[name], `duplicates in ${name}`).toHaveLength(list.length);
  }
  return { ...state, elements };
}

describe('delta applies on the real kernel equal fresh swaps', () => {
  let live: Netns;
  let fresh: Netns;
  let nft: RealNft;
  let freshNft: RealNft;
  const seed = Number(process.env.NATFLEET_SEED ?? Math.floor(Math.random() * 2 ** 31));

  beforeAll(async () => {
    live = await Netns.create('delta');
    fresh = await Netns.create('fresh');
    nft = new RealNft({ netns: live.name });
    freshNft = new RealNft({ netns: fresh.name });
  });
  afterAll(async () => {
    await live?.destroy();
    await fresh?.destroy();
  });

  /** The live table equals a fresh swap of `b` (in the other namespace) and what expectedTableContents says. */
  async function expectSameAsFresh(b: Bundle, where: string): Promise<void> {
    await freshNft.applyTransaction(renderTransaction(b, NODE));
    const got = normalised(await nft.readTableContents());
    expect(got, where).toEqual(normalised(await freshNft.readTableContents()));
    const expected = expectedTableContents(b, NODE);
    const { marker: _, ...data } = got!.elements!;
    expect({ ...got, elements: data }, where).toEqual(normalised(expected));
  }

  /** One foreign change someone else commits to the live table (or another table). */
  async function foreignChange(rnd: () => number, b: Bundle): Promise<string> {
    const sets = Object.entries(expectedTableContents(b, NODE).elements);
    const [name, elements] = sets[Math.floor(rnd() * sets.length)]!;
    const v6 = name.includes('_v6_');
    const r = rnd();
    const cmd =
      r < 0.3
        ? `add element inet natfleet ${name} { ${v6 ? 'fd99::7' : '192.0.2.77'} }`
        : r < 0.55
          ? `flush set inet natfleet ${name}`
          : r < 0.75
            ? `delete element inet natfleet ${name} { ${elements[Math.floor(rnd() * elements.length)]} }`
            : r < 0.85
              ? 'flush set inet natfleet marker'
              : r < 0.93
                ? 'add rule inet natfleet nat_v4 ip saddr 192.0.2.1 accept'
                : 'add table ip someone_else';
    await live.nft(`${cmd}\n`);
    return cmd;
  }

  it('a delta is a compare-and-swap: refused whole when another version is in force or the marker is gone', async () => {
    const pools = (n: number) => Array.from({ length: 50 }, (_, i) => ({ cidr: `10.${n}.${i}.0/24`, masq: true }));
    const v1 = toBundle(1, pools(1), {}, { v4: [], v6: [] });
    const v2 = toBundle(2, pools(2), {}, { v4: [], v6: [] });
    const v9 = toBundle(9, pools(9), {}, { v4: [], v6: [] });
    const delta = renderDelta(v1, v2, NODE)!;
    expect(delta).toBeDefined();
    await nft.applyTransaction(renderTransaction(v9, NODE));
    await expect(nft.applyTransaction(delta)).rejects.toSatisfy(isNftKernelError);
    await expectSameAsFresh(v9, 'v9 stays after a refused delta');
    await nft.applyTransaction(renderTransaction(v1, NODE));
    await live.nft('flush set inet natfleet marker\n');
    await expect(nft.applyTransaction(delta)).rejects.toSatisfy(isNftKernelError);
    expect(normalised(await nft.readTableContents())?.elements?.masq_v4_24).toEqual(normalised(expectedTableContents(v1, NODE))!.elements!.masq_v4_24);
    await nft.applyTransaction(renderTransaction(v1, NODE));
    await nft.applyTransaction(delta);
    await expectSameAsFresh(v2, 'v1 → v2 by delta');
  });

  it(`${SEQUENCES} random sequences of ${STEPS} bundles, with foreign changes repaired`, async () => {
    let deltas = 0;
    let swaps = 0;
    let repairs = 0;
    let refused = 0;
    let version = 0;
    for (let s = 0; s < SEQUENCES; s++) {
      const rnd = prng(seed + s);
      const where = (step: number, what = '') => `seed ${seed + s} (NATFLEET_SEED=${seed} sequence ${s}) step ${step} ${what}`;
      let pools = Array.from({ length: 150 + Math.floor(rnd() * 200) }, () => randomPool(rnd));
      let settings: Partial<NatSettings> = {};
      const hosts = { v4: ['192.0.2.10/32', '192.0.2.11/32'], v6: ['2001:db8:2::10/128'] };
      let current = toBundle(++version, pools, settings, hosts);
      await nft.deleteTable();
      await nft.applyTransaction(renderTransaction(current, NODE));
      for (let step = 1; step <= STEPS; step++) {
        // Pools removed, added, their natOutgoing flipped; sometimes a settings change (a new shape).
        pools = pools.filter(() => rnd() > 0.08);
        pools.push(...Array.from({ length: Math.floor(rnd() * 40) }, () => randomPool(rnd)));
        for (const p of pools) if (rnd() < 0.03) p.masq = !p.masq;
        if (rnd() < 0.15) {
          const r = rnd();
          settings =
            r < 0.33
              ? { ...settings, portRange: settings.portRange ? undefined : { from: 1024, to: 65535 } }
              : r < 0.66
                ? { ...settings, interfaceFilter: settings.interfaceFilter ? undefined : 'eth*' }
                : { ...settings, exclusions: settings.exclusions === 'IPPoolsAndHostIPs' ? 'IPPoolsOnly' : 'IPPoolsAndHostIPs' };
        }
        const next = toBundle(++version, pools, settings, hosts);
        const delta = renderDelta(current, next, NODE);
        await nft.applyTransaction(delta ?? renderTransaction(next, NODE));
        if (delta === undefined) swaps++;
        else deltas++;
        current = next;
        await expectSameAsFresh(current, where(step, delta ? 'delta' : 'swap'));

        if (rnd() < 0.35) {
          const cmd = await foreignChange(rnd, current);
          if (cmd.includes('marker')) {
            // A delta from the bundle in force is refused whole (nothing changes) once someone removed the marker.
            const text = renderDelta(current, toBundle(version + 1, pools, settings, hosts), NODE);
            if (text !== undefined) {
              const before = normalised(await nft.readTableContents());
              const err = await nft.applyTransaction(text).catch((e: unknown) => e);
              expect(isNftKernelError(err), where(step, `delta after "${cmd}"`)).toBe(true);
              expect(normalised(await nft.readTableContents()), where(step, 'unchanged after a refused delta')).toEqual(before);
              refused++;
            }
          }
          const read = await nft.readTableContents();
          const repair = renderRepair(read!, current, NODE);
          if (cmd.includes('marker') || cmd.includes('add rule')) expect(repair, where(step, `repair after "${cmd}"`)).toBeUndefined();
          if (cmd.includes('someone_else')) expect(repair, where(step, `repair after "${cmd}"`)).toBe('');
          if (repair) repairs++;
          if (repair !== '') await nft.applyTransaction(repair ?? renderTransaction(current, NODE));
          await expectSameAsFresh(current, where(step, `after "${cmd}" and ${repair === undefined ? 'a swap' : 'renderRepair'}`));
        }
      }
    }
    // The property must have been exercised: mostly deltas, some swaps, some repairs.
    expect(deltas).toBeGreaterThan(SEQUENCES * STEPS * 0.6);
    expect(swaps).toBeGreaterThan(0);
    expect(repairs).toBeGreaterThan(0);
    console.log(`delta property (seed ${seed}): ${deltas} deltas, ${swaps} swaps, ${repairs} element repairs, ${refused} refused deltas`);
  }, 180_000);
});
