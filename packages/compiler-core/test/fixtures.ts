// Builders for snapshot entries in Calico's etcd layout.
import type { SnapshotEntry } from '../src/index.js';

export const PREFIX = '/calico/resources/v3/projectcalico.org';

export function poolEntry(name: string, spec: Record<string, unknown>): SnapshotEntry {
  return {
    key: `${PREFIX}/ippools/${name}`,
    value: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec }),
  };
}

export function felixEntry(name: string, spec: Record<string, unknown>): SnapshotEntry {
  return {
    key: `${PREFIX}/felixconfigurations/${name}`,
    value: JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: { name }, spec }),
  };
}

export function nodeEntry(name: string, addresses: string[]): SnapshotEntry {
  return {
    key: `${PREFIX}/nodes/${name}`,
    value: JSON.stringify({
      apiVersion: 'projectcalico.org/v3',
      kind: 'Node',
      metadata: { name },
      spec: { addresses: addresses.map((address) => ({ address, type: 'InternalIP' })) },
    }),
  };
}

export const rawEntry = (key: string, value: string): SnapshotEntry => ({ key: `${PREFIX}/${key}`, value });
