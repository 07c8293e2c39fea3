// Drift repair sees set elements (issue 12, item 12): after `nft flush set inet natfleet
// masq_v4` (the layout then) the node's pools stayed unenforced while it reported in sync, because the drift
// check read only the table comment and rule ids. A real enforcer in a netns with several
// pools: a flushed set, one deleted element and an added element are each restored within
// a few seconds and counted, the status stays `applied`, and pod traffic is NATed again.
// A commit to another table moves the ruleset generation too: verified, not repaired.
import { compareElements, expectedTableContents, type TableState } from '@natfleet/nft';
import { type ServiceProcess } from '@natfleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiled, metric, NODE, nodeStatus, pool, podPools, publish, startEnforcer, startWorld, stopWorld, waitApplied, waitStatus, type World } from './enforcer-world.js';

/** Eight pools besides the pod's own, all natOutgoing, like the incident's node (not adjacent, so none merge). */
const POOLS = Array.from({ length: 8 }, (_, i) => pool(`pool-${i}`, { cidr: `10.${70 + 2 * i}.0.0/16`, natOutgoing: true }));

describe('enforcer: drift repair covers set elements', () => {
  let w: World;
  let enforcer: ServiceProcess | undefined;
  let expected: Record<string, readonly string[]> = {};

  beforeAll(async () => {
    w = await startWorld();
    enforcer = await startEnforcer(w);
    const b = compiled(w, [...podPools(true), ...POOLS], 1);
    // One hash set per prefix length: the pod pool is the /24, the eight others the /16s.
    expected = expectedTableContents(b, NODE).elements;
    expect(expected.masq_v4_24).toEqual(['10.65.0.0']);
    expect(expected.masq_v4_16).toHaveLength(8);
    expect(expected.nonat_v4_16).toContain('10.76.0.0');
    await publish(w, b);
    await waitApplied(w, 1);
  }, 120_000);
  afterAll(async () => stopWorld(w, enforcer), 60_000);

  const contents = async (): Promise<TableState> => {
    const t = await w.nft.readTableContents();
    if (!t?.elements) throw new Error('table inet natfleet is missing');
    return t;
  };
  /** Live elements of `set` compared with the bundle's: [] and [] when the same addresses are covered. */
  const setDiff = async (set: string) => compareElements(expected[set]!, (await contents()).elements![set]!);

  it.each([
    ['flushes masq_v4_16', 'flush set inet natfleet masq_v4_16', 'masq_v4_16'],
    ['deletes one element of masq_v4_24 (the pod pool)', 'delete element inet natfleet masq_v4_24 { 10.65.0.0 }', 'masq_v4_24'],
    ['deletes one element of nonat_v4_16', 'delete element inet natfleet nonat_v4_16 { 10.76.0.0 }', 'nonat_v4_16'],
    ['adds an element to masq_v4_24', 'add element inet natfleet masq_v4_24 { 192.0.2.0 }', 'masq_v4_24'],
  ])('someone %s → restored within a few seconds, counted, status still applied', async (_what, command, set) => {
    const before = (await nodeStatus(w))!;
    const comment = (await contents()).comment;
    const t0 = Date.now();
    await w.topo.node.nft(command);
    const changed = await setDiff(set);
    expect(changed.missing.length + changed.unexpected.length).toBeGreaterThan(0);
    expect((await contents()).comment).toBe(comment); // the marker: all the old drift check looked at
    const s = await waitStatus(w, 'drift repaired', (x) => x.driftRepairs === before.driftRepairs + 1, 10_000);
    const repairMs = Date.now() - t0;
    expect(s).toMatchObject({ state: 'applied', appliedVersion: 1, appliedDigest: before.appliedDigest, errorCode: '' });
    for (const name of Object.keys(expected)) expect(await setDiff(name), name).toEqual({ missing: [], unexpected: [] });
    expect(await metric(enforcer!, 'natfleet_enforcer_drift_repairs_total')).toBe(before.driftRepairs + 1);
    expect(await w.topo.probe(w.server, 4, { timeoutMs: 3_000 })).toEqual({ ok: true, peer: w.topo.nodeExternal.v4 });
    expect(enforcer!.logs().some((l) => l.msg === 'natfleet table restored' && l.driftRepairs === s.driftRepairs)).toBe(true);
    console.info(`drift (${command}) repaired and reported in ${repairMs} ms`);
  });

  it('a commit to another table moves the generation: the table is verified, not repaired', async () => {
    const before = (await nodeStatus(w))!.driftRepairs;
    const checks = async (result: string): Promise<number> => metric(enforcer!, 'natfleet_enforcer_drift_checks_total', { result });
    const [okBefore, driftBefore] = [await checks('ok'), await checks('drift')];
    await w.topo.node.nft('add table ip someone_else\nadd chain ip someone_else c');
    await w.topo.node.nft('delete table ip someone_else');
    await new Promise((r) => setTimeout(r, 2_000)); // four check intervals
    expect(await checks('ok')).toBeGreaterThan(okBefore);
    expect(await checks('drift')).toBe(driftBefore);
    expect((await nodeStatus(w))!.driftRepairs).toBe(before);
  });
});
