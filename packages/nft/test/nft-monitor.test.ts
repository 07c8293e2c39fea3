import { Netns } from '@natfleet/testkit';
import { describe, expect, it } from 'vitest';
import { MonitorParser, RealNft, watchTableChanges } from '../src/index.js';

// Captured from `nft monitor` (nft 1.0.6) while a chain was flushed, a rule added, the
// table deleted, another table added and the table re-created.
const SAMPLE = `delete rule inet natfleet postrouting handle 4
# new generation 3 by process 26044 (nft)
add rule inet natfleet postrouting counter packets 0 bytes 0
# new generation 4 by process 26045 (nft)
delete set inet natfleet masq_v4
delete table inet natfleet
# new generation 5 by process 26046 (nft)
add table ip other
# new generation 6 by process 26047 (nft)
add table inet natfleet
add element inet natfleet masq_v4 { 10.0.0.0/8 }
# new generation 7 by process 26048 (nft)
`;

describe('MonitorParser', () => {
  it('reports one change per transaction that touched inet natfleet, with its PID', () => {
    const changes = new MonitorParser().push(SAMPLE);
    expect(changes).toEqual([
      { generation: 3, pid: 26044, process: 'nft' },
      { generation: 4, pid: 26045, process: 'nft' },
      { generation: 5, pid: 26046, process: 'nft' },
      { generation: 7, pid: 26048, process: 'nft' },
    ]);
  });

  it('handles lines and trailers split across chunks', () => {
    const p = new MonitorParser();
    const all = [...SAMPLE].reduce<number[]>((acc, ch, i) => (i % 7 === 0 ? acc.concat(p.push(SAMPLE.slice(i, i + 7)).map((c) => c.generation)) : acc), []);
    expect(all).toEqual([3, 4, 5, 7]);
  });
});

describe('watchTableChanges with real nft in a netns', () => {
  it('sees our own apply (our PID) and someone else\'s changes (another PID)', async () => {
    const ns = await Netns.create('mon');
    const ac = new AbortController();
    try {
      const nft = new RealNft({ netns: ns.name });
      const seen: { pid: number; own: boolean }[] = [];
      const done = (async () => {
        for await (const c of watchTableChanges(nft.target, ac.signal)) seen.push({ pid: c.pid, own: nft.isOwnPid(c.pid) });
      })();
      await new Promise((r) => setTimeout(r, 300)); // monitor subscribed
      const table = 'table inet natfleet {}\ndelete table inet natfleet\ntable inet natfleet {\n comment "natfleet v1 sha256:ab"\n chain postrouting { type nat hook postrouting priority srcnat + 10; policy accept; counter comment \"r\"; }\n}\n';
      await nft.applyTransaction(table);
      await ns.nft('table ip bystander { }'); // not ours: no event
      await ns.nft('flush chain inet natfleet postrouting');
      await ns.nft('delete table inet natfleet');
      const deadline = Date.now() + 5_000;
      while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      ac.abort();
      await done;
      expect(seen.map((s) => s.own)).toEqual([true, false, false]);
    } finally {
      ac.abort();
      await ns.destroy();
    }
  });
});
