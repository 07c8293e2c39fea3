// Valid resources: defaults, normalisation, unknown fields kept; FelixConfiguration and
// Node successes; NAT settings resolution and node address extraction.
import { describe, expect, it } from 'vitest';
import {
  NAT_DEFAULTS, type IPPool, defaultPool, felixConfigScope, nodeAddresses, parseResources, natFieldsOf,
  validateFelixConfigurationOrThrow, validateNodeOrThrow, validatePool, validatePoolOrThrow, validateResources,
} from '../src/index.js';
import { felix, node, pool } from './helpers.js';

const v4Defaults = {
  natOutgoing: false,
  disabled: false,
  blockSize: 26,
  ipipMode: 'Never',
  vxlanMode: 'Never',
  nodeSelector: 'all()',
  allowedUses: ['Workload', 'Tunnel'],
  disableBGPExport: false,
  assignmentMode: 'Automatic',
};

interface ValidCase {
  readonly name: string;
  readonly spec: Record<string, unknown>;
  readonly expected: Record<string, unknown>;
  readonly meta?: Record<string, unknown>;
}

const validCases: ValidCase[] = [
  { name: 'minimal v4', spec: { cidr: '10.0.0.0/16' }, expected: { ...v4Defaults, cidr: '10.0.0.0/16' } },
  { name: 'v6 upper-case, uncompressed', spec: { cidr: '2001:DB8:0:0::/64' }, expected: { ...v4Defaults, cidr: '2001:db8::/64', blockSize: 122 } },
  { name: 'name part longer than 63 (only the whole name is capped, at 253)', spec: { cidr: '10.0.0.0/16' }, meta: { name: `${'a'.repeat(64)}.b` }, expected: { ...v4Defaults, cidr: '10.0.0.0/16' } },
  { name: 'v6 long form', spec: { cidr: '2001:0db8:0000:0000:0000:0000:0000:0000/48' }, expected: { ...v4Defaults, cidr: '2001:db8::/48', blockSize: 122 } },
  { name: 'Go zero values mean defaults', spec: { cidr: '10.0.0.0/16', blockSize: 0, ipipMode: '', vxlanMode: null, nodeSelector: '', allowedUses: [] }, expected: { ...v4Defaults, cidr: '10.0.0.0/16' } },
  { name: 'explicit values kept', spec: { cidr: '10.8.0.0/14', natOutgoing: true, blockSize: 24, vxlanMode: 'CrossSubnet', nodeSelector: "zone == 'a'", assignmentMode: 'Manual', disableBGPExport: true }, expected: { ...v4Defaults, cidr: '10.8.0.0/14', natOutgoing: true, blockSize: 24, vxlanMode: 'CrossSubnet', nodeSelector: "zone == 'a'", assignmentMode: 'Manual', disableBGPExport: true } },
  { name: 'pool exactly one block', spec: { cidr: '10.0.0.0/26' }, expected: { ...v4Defaults, cidr: '10.0.0.0/26' } },
  { name: 'enabled /32 with blockSize 32', spec: { cidr: '10.0.0.7/32', blockSize: 32 }, expected: { ...v4Defaults, cidr: '10.0.0.7/32', blockSize: 32 } },
  { name: 'disabled pool smaller than a block (Calico skips the size rule)', spec: { cidr: '192.168.7.1/32', disabled: true }, expected: { ...v4Defaults, cidr: '192.168.7.1/32', disabled: true } },
  { name: 'disabled v6 /128', spec: { cidr: '2001:db8::1/128', disabled: true }, expected: { ...v4Defaults, cidr: '2001:db8::1/128', disabled: true, blockSize: 122 } },
  { name: 'v6 VXLAN', spec: { cidr: 'fd00:10::/48', vxlanMode: 'Always', natOutgoing: true }, expected: { ...v4Defaults, cidr: 'fd00:10::/48', vxlanMode: 'Always', natOutgoing: true, blockSize: 122 } },
  { name: 'LoadBalancer pool', spec: { cidr: '203.0.113.0/24', allowedUses: ['LoadBalancer'] }, expected: { ...v4Defaults, cidr: '203.0.113.0/24', allowedUses: ['LoadBalancer'] } },
  { name: 'IPIP v4', spec: { cidr: '172.16.0.0/12', ipipMode: 'CrossSubnet', blockSize: 20 }, expected: { ...v4Defaults, cidr: '172.16.0.0/12', ipipMode: 'CrossSubnet', blockSize: 20 } },
  { name: 'next to link-local is fine', spec: { cidr: '169.255.0.0/16' }, expected: { ...v4Defaults, cidr: '169.255.0.0/16' } },
];

describe('valid pools', () => {
  it.each(validCases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const r = validatePool(pool(c.spec, c.meta));
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.value.spec).toEqual(c.expected);
  });

  it('under unknownFields: warn, keeps unknown fields everywhere, warns about each and does not mutate its input', () => {
    const input = {
      ...pool({ cidr: '10.0.0.0/16', futureField: { a: [1, 2] } }, { name: 'p', uid: 'u-1', resourceVersion: '17', annotations: { note: 'x' }, generation: 3 }),
      status: { conditions: [] },
    };
    const before = structuredClone(input);
    const r = validatePool(input, { unknownFields: 'warn' });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect((r.warnings ?? []).map((w) => w.path)).toEqual(['spec.futureField', 'status']);
    const out = r.value;
    expect(input).toEqual(before);
    expect(out.spec['futureField']).toEqual({ a: [1, 2] });
    expect(out.metadata).toEqual({ name: 'p', uid: 'u-1', resourceVersion: '17', annotations: { note: 'x' }, generation: 3 });
    expect(out['status']).toEqual({ conditions: [] });
  });

  it('round-trips parse → validate → serialise → parse → validate unchanged', () => {
    const yaml = [
      'apiVersion: projectcalico.org/v3',
      'kind: IPPool',
      'metadata: {name: rt, labels: {team: net}}',
      'spec:',
      '  cidr: 2001:DB8:1::/48',
      '  natOutgoing: true',
      '  disableBGPExport: true',
    ].join('\n');
    const first = validateResources(parseResources(yaml));
    if (!first.ok) throw new Error(JSON.stringify(first.issues));
    const text = JSON.stringify(first.value[0]);
    const second = validateResources(parseResources(text));
    if (!second.ok) throw new Error(JSON.stringify(second.issues));
    expect(second.value[0]).toEqual(first.value[0]);
    const p = second.value[0] as IPPool;
    expect(p.spec.cidr).toBe('2001:db8:1::/48');
    expect(p.spec.disableBGPExport).toBe(true);
    expect(p.metadata.labels).toEqual({ team: 'net' });
  });

  it('defaultPool fills defaults without validating', () => {
    expect(defaultPool({ spec: { cidr: '2001:db8::/64' } }).spec).toEqual({ ...v4Defaults, cidr: '2001:db8::/64', blockSize: 122 });
    const odd = defaultPool({ metadata: { name: 'x' }, spec: { cidr: 'nonsense', natOutgoing: 'yes' as never } });
    expect(odd.spec.natOutgoing).toBe('yes');
    expect(odd.spec.blockSize).toBe(26);
    expect(defaultPool({}).spec.nodeSelector).toBe('all()');
  });
});

describe('FelixConfiguration and Node', () => {
  it('normalises NAT fields and keeps other Felix fields untouched', () => {
    const fc = validateFelixConfigurationOrThrow(
      felix({ natOutgoingAddress: '2001:DB8::0:1', natPortRange: 1024, logSeverityScreen: 'Info', natOutgoingInterfaceFilter: 'eth*' }, 'node.worker-1'),
    );
    expect(fc.spec).toEqual({ natOutgoingAddress: '2001:db8::1', natPortRange: '1024:1024', logSeverityScreen: 'Info', natOutgoingInterfaceFilter: 'eth*' });
    expect(validateFelixConfigurationOrThrow(felix({ natPortRange: '32768:65535' })).spec.natPortRange).toBe('32768:65535');
    expect(validateFelixConfigurationOrThrow(felix({ natPortRange: '2000' })).spec.natPortRange).toBe('2000:2000');
    expect(validateFelixConfigurationOrThrow({ ...felix({}), spec: undefined }).spec).toEqual({});
    expect(validateFelixConfigurationOrThrow(felix({ iptablesNATOutgoingInterfaceFilter: 'eth+' })).spec.iptablesNATOutgoingInterfaceFilter).toBe('eth+');
  });

  it('reads the NAT fields a FelixConfiguration sets, and nothing else', () => {
    const global = validateFelixConfigurationOrThrow(
      felix({ natOutgoingAddress: '198.51.100.1', natPortRange: '1024:2047', natOutgoingExclusions: 'IPPoolsAndHostIPs', iptablesNATOutgoingInterfaceFilter: 'ens+' }),
    );
    const perNode = validateFelixConfigurationOrThrow(felix({ natOutgoingFullyRandom: false, natOutgoingInterfaceFilter: 'eth0' }, 'node.n1'));
    expect(natFieldsOf(global.spec)).toEqual({
      natOutgoingAddress: '198.51.100.1',
      portRange: { from: 1024, to: 2047 },
      exclusions: 'IPPoolsAndHostIPs',
      interfaceFilter: 'ens*',
    });
    expect(natFieldsOf(perNode.spec)).toEqual({ interfaceFilter: 'eth0', fullyRandom: false });
    expect(natFieldsOf(undefined)).toEqual({});
    expect(NAT_DEFAULTS).toEqual({ exclusions: 'IPPoolsOnly', fullyRandom: true });
    expect(felixConfigScope('default')).toEqual({ scope: 'global' });
    expect(felixConfigScope('node.n1')).toEqual({ scope: 'node', node: 'n1' });
    expect(felixConfigScope('other')).toBeUndefined();
  });

  it('accepts Calico-style node addresses and extracts bare IPs', () => {
    const n = validateNodeOrThrow(
      node({
        addresses: [
          { address: '10.0.0.5/24', type: 'CalicoNodeIP' },
          { address: '10.0.0.5', type: 'InternalIP' },
          { address: '2001:DB8::5', type: 'InternalIP' },
        ],
        bgp: { ipv4Address: '10.0.0.5/24', ipv6Address: '2001:db8::6/64', asNumber: 64512 },
        orchRefs: [{ nodeName: 'k8s-1', orchestrator: 'k8s' }],
      }),
    );
    expect(nodeAddresses(n)).toEqual(['10.0.0.5', '2001:db8::5', '2001:db8::6']);
    expect(n.spec['orchRefs']).toEqual([{ nodeName: 'k8s-1', orchestrator: 'k8s' }]);
    expect(nodeAddresses(validateNodeOrThrow({ ...node({}), spec: undefined }))).toEqual([]);
    expect(nodeAddresses({ spec: { addresses: [{ address: 'junk' }] } })).toEqual([]);
  });
});
