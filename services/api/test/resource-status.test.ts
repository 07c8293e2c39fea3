// natctl get's STATUS column: the compiler's verdict read from a real compiled bundle.
import { compile } from '@natfleet/compiler-core';
import type { Bundle } from '@natfleet/bundle';
import { DEFAULT_KEY_PREFIX } from '@natfleet/model';
import { describe, expect, it } from 'vitest';
import { resourceStatuses } from '../src/resource-status.js';

const P = DEFAULT_KEY_PREFIX;
const entry = (name: string, spec: Record<string, unknown>) => ({
  key: `${P}/ippools/${name}`,
  value: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec }),
});

function bundleOf(entries: { key: string; value: string }[]): Bundle {
  const { body } = compile({ entries }, 7, { cluster: 'c' });
  return { ...body, compiledAt: '', digest: '', signature: { keyId: '', value: '' } } as unknown as Bundle;
}

describe('resourceStatuses', () => {
  it('maps each warning of the bundle to the resource it concerns', () => {
    const b = bundleOf([
      entry('outer', { cidr: '10.0.0.0/16', natOutgoing: true }),
      entry('inner', { cidr: '10.0.8.0/24' }),
      entry('dup', { cidr: '10.0.0.0/16' }),
      entry('typo', { cidr: '10.9.0.0/16', natOutgoign: true, blockSzie: 26 }),
      entry('bad', { cidr: '10.7.0.1/16', blockSize: 99 }),
      entry('plain', { cidr: '10.8.0.0/16' }),
      { key: `${P}/ippools/notjson`, value: '{' },
    ]);
    const stored = (name: string, spec: Record<string, unknown> = {}) => ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec });
    const items = ['outer', 'inner', 'dup', 'bad', 'plain', 'notjson', 'absent'].map((n) => stored(n));
    items.splice(3, 0, stored('typo', { cidr: '10.9.0.0/16', natOutgoign: true, blockSzie: 26 }));
    const st = Object.fromEntries(resourceStatuses('IPPool', items, b, P).map((s) => [s.name, s.status]));
    expect(st).toEqual({
      // Equal CIDRs: the first by name wins, the other is skipped.
      outer: 'Skipped: same CIDR 10.0.0.0/16 as pool "dup"',
      dup: 'Active; Shadowed by inner',
      inner: 'Active; Inside dup (longest prefix wins)',
      typo: 'Active; Unknown fields: spec.natOutgoign, spec.blockSzie',
      bad: 'Skipped: spec.cidr: not strictly masked: host bits set; did you mean 10.7.0.0/16 (+1 more)',
      plain: 'Active',
      notjson: "Skipped: invalid JSON: Expected property name or '}' in JSON at position 1",
      absent: 'Active',
    });
  });

  it('says Unknown, not Active, when no bundle has been published', () => {
    expect(resourceStatuses('IPPool', [{ metadata: { name: 'a' } }], undefined, P)).toEqual([{ name: 'a', status: 'Unknown: no bundle published yet' }]);
  });
});
