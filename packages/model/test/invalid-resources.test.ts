// Table of invalid resources: every rule, each asserting the exact set of issue paths (so
// all problems are collected and nothing extra is reported) and a reason substring.
import { describe, expect, it } from 'vitest';
import {
  type FieldIssue, type ValidationResult, ValidationError, isValidationError, validatePool, validatePoolOrThrow,
  validateResource,
} from '../src/index.js';
import { V3, felix, node, pool, pathsOf } from './helpers.js';

interface Case {
  readonly name: string;
  readonly resource: unknown;
  /** [path, reason substring]; the issue list must match this set exactly. */
  readonly expect: ReadonlyArray<readonly [string, string]>;
  readonly run?: (raw: unknown) => ValidationResult<unknown>;
  readonly label?: string;
}

const existing = [
  pool({ cidr: '10.50.0.0/16' }, { name: 'other-v4' }),
  pool({ cidr: '2001:db8:50::/48', disabled: true }, { name: 'other-v6-disabled' }),
];
const withExisting = (raw: unknown): ValidationResult<unknown> => validatePool(raw, { existing });

const cases: Case[] = [
  // envelope
  { name: 'missing apiVersion', resource: { kind: 'IPPool', metadata: { name: 'a' }, spec: { cidr: '10.0.0.0/16' } }, expect: [['apiVersion', 'required']] },
  { name: 'wrong apiVersion', resource: { ...pool({ cidr: '10.0.0.0/16' }), apiVersion: 'projectcalico.org/v2' }, expect: [['apiVersion', 'must be projectcalico.org/v3']] },
  { name: 'wrong kind given to validatePool', resource: { ...pool({ cidr: '10.0.0.0/16' }), kind: 'Pool' }, run: (r) => validatePool(r), expect: [['kind', 'must be IPPool']] },
  { name: 'unknown kind', resource: { apiVersion: V3, kind: 'NetworkPolicy', metadata: { name: 'x' } }, expect: [['kind', 'unknown kind']] },
  { name: 'missing kind', resource: { apiVersion: V3, metadata: { name: 'x' } }, expect: [['kind', 'required']] },
  { name: 'not an object', resource: 'IPPool', run: (r) => validatePool(r), expect: [['', 'must be an object']] },
  { name: 'missing metadata', resource: { apiVersion: V3, kind: 'IPPool', spec: { cidr: '10.0.0.0/16' } }, expect: [['metadata.name', 'required']] },
  { name: 'metadata not an object', resource: pool({ cidr: '10.0.0.0/16' }, 'p' as never), expect: [['metadata', 'must be an object']] },
  // names
  { name: 'upper-case name', resource: pool({ cidr: '10.0.0.0/16' }, { name: 'Pool-A' }), expect: [['metadata.name', 'DNS-1123']] },
  { name: 'name starting with -', resource: pool({ cidr: '10.0.0.0/16' }, { name: '-pool' }), expect: [['metadata.name', 'DNS-1123']] },
  { name: 'name with underscore', resource: node({}, 'node_1'), expect: [['metadata.name', 'DNS-1123']] },
  { name: 'name longer than 253', resource: pool({ cidr: '10.0.0.0/16' }, { name: `${'a'.repeat(60)}.`.repeat(4) + 'b'.repeat(20) }), expect: [['metadata.name', 'at most 253']] },
  { name: 'upper-case name suggests the lower-case one', resource: pool({ cidr: '10.0.0.0/16' }, { name: 'Edge.Pool' }), expect: [['metadata.name', 'did you mean edge.pool?']] },
  { name: 'name not a string', resource: pool({ cidr: '10.0.0.0/16' }, { name: 42 }), expect: [['metadata.name', 'must be a string']] },
  { name: 'label value not a string', resource: pool({ cidr: '10.0.0.0/16' }, { name: 'a', labels: { zone: 1 } }), expect: [['metadata.labels["zone"]', 'must be a string']] },
  { name: 'bad annotation key', resource: pool({ cidr: '10.0.0.0/16' }, { name: 'a', annotations: { 'bad key!': 'x' } }), expect: [['metadata.annotations["bad key!"]', 'invalid annotation key']] },
  { name: 'annotation key with an empty prefix', resource: pool({ cidr: '10.0.0.0/16' }, { name: 'a', annotations: { '/x': 'x' } }), expect: [['metadata.annotations["/x"]', 'invalid annotation key: prefix']] },
  { name: 'annotations over 256 KiB in total', resource: pool({ cidr: '10.0.0.0/16' }, { name: 'a', annotations: { a: 'x'.repeat(200_000), b: 'y'.repeat(62_200) } }), expect: [['metadata.annotations', 'may not be more than 256 KiB']] },
  { name: 'annotation value not a string', resource: pool({ cidr: '10.0.0.0/16' }, { name: 'a', annotations: { note: 5 } }), expect: [['metadata.annotations["note"]', 'must be a string']] },
  { name: 'label key with two slashes', resource: pool({ cidr: '10.0.0.0/16' }, { name: 'a', labels: { 'a/b/c': 'x' } }), expect: [['metadata.labels["a/b/c"]', 'invalid label key']] },
  { name: 'label key name part over 63', resource: pool({ cidr: '10.0.0.0/16' }, { name: 'a', labels: { ['k'.repeat(64)]: 'x' } }), expect: [[`metadata.labels["${'k'.repeat(64)}"]`, 'name part must be 1-63']] },
  { name: 'bad label key', resource: pool({ cidr: '10.0.0.0/16' }, { name: 'a', labels: { '-zone': 'a' } }), expect: [['metadata.labels["-zone"]', 'invalid label key']] },
  // spec and cidr
  { name: 'missing spec', resource: { apiVersion: V3, kind: 'IPPool', metadata: { name: 'a' } }, expect: [['spec', 'required']] },
  { name: 'spec is an array', resource: { ...pool({}), spec: [] }, expect: [['spec', 'must be an object']] },
  { name: 'missing cidr', resource: pool({ natOutgoing: true }), expect: [['spec.cidr', 'required']] },
  { name: 'cidr not a string', resource: pool({ cidr: 10 }), expect: [['spec.cidr', 'must be a string']] },
  { name: 'cidr garbage', resource: pool({ cidr: 'banana' }), expect: [['spec.cidr', 'valid CIDR']] },
  { name: 'v4 prefix 33', resource: pool({ cidr: '10.0.0.0/33' }), expect: [['spec.cidr', 'prefix length']] },
  { name: 'v6 prefix 129', resource: pool({ cidr: '2001:db8::/129' }), expect: [['spec.cidr', 'prefix length']] },
  { name: 'bare address', resource: pool({ cidr: '10.0.0.1' }), expect: [['spec.cidr', 'missing /prefix']] },
  { name: 'v6 zone id', resource: pool({ cidr: 'fe90::%eth0/64' }), expect: [['spec.cidr', 'valid CIDR']] },
  { name: 'v4 host bits', resource: pool({ cidr: '10.0.0.1/8' }), expect: [['spec.cidr', 'host bits set; did you mean 10.0.0.0/8']] },
  { name: 'v6 host bits', resource: pool({ cidr: '2001:DB8::1/64' }), expect: [['spec.cidr', 'did you mean 2001:db8::/64']] },
  { name: 'v4 link-local', resource: pool({ cidr: '169.254.10.0/24' }), expect: [['spec.cidr', 'link-local range 169.254.0.0/16']] },
  { name: 'v4 supernet of link-local', resource: pool({ cidr: '169.0.0.0/8' }), expect: [['spec.cidr', 'link-local']] },
  { name: 'v6 link-local', resource: pool({ cidr: 'fe80::/64' }), expect: [['spec.cidr', 'link-local range fe80::/10']] },
  { name: 'v6 supernet of link-local', resource: pool({ cidr: 'fe00::/7' }), expect: [['spec.cidr', 'link-local']] },
  // blockSize and pool size
  { name: 'v4 blockSize 19', resource: pool({ cidr: '10.0.0.0/8', blockSize: 19 }), expect: [['spec.blockSize', 'between 20 and 32']] },
  { name: 'v4 blockSize 33', resource: pool({ cidr: '10.0.0.0/8', blockSize: 33 }), expect: [['spec.blockSize', 'between 20 and 32']] },
  { name: 'v6 blockSize 115', resource: pool({ cidr: '2001:db8::/64', blockSize: 115 }), expect: [['spec.blockSize', 'between 116 and 128']] },
  { name: 'v6 blockSize 26', resource: pool({ cidr: '2001:db8::/64', blockSize: 26 }), expect: [['spec.blockSize', 'IPv6 block size']] },
  { name: 'blockSize as string', resource: pool({ cidr: '10.0.0.0/8', blockSize: '26' }), expect: [['spec.blockSize', 'must be an integer']] },
  { name: 'blockSize fractional', resource: pool({ cidr: '10.0.0.0/8', blockSize: 26.5 }), expect: [['spec.blockSize', 'must be an integer']] },
  { name: 'enabled v4 pool smaller than a block', resource: pool({ cidr: '10.0.0.0/28' }), expect: [['spec.cidr', 'smaller than one block (/26)']] },
  { name: 'enabled v4 pool smaller than explicit block', resource: pool({ cidr: '10.0.0.0/24', blockSize: 20 }), expect: [['spec.cidr', 'smaller than one block (/20)']] },
  { name: 'enabled v6 pool smaller than a block', resource: pool({ cidr: '2001:db8::/124' }), expect: [['spec.cidr', 'smaller than one block (/122)']] },
  // encapsulation
  { name: 'IPIP on IPv6', resource: pool({ cidr: '2001:db8::/64', ipipMode: 'Always' }), expect: [['spec.ipipMode', 'IPv6']] },
  { name: 'IPIP CrossSubnet on IPv6', resource: pool({ cidr: '2001:db8::/64', ipipMode: 'CrossSubnet' }), expect: [['spec.ipipMode', 'IPv6']] },
  { name: 'IPIP and VXLAN both enabled', resource: pool({ cidr: '10.0.0.0/16', ipipMode: 'Always', vxlanMode: 'CrossSubnet' }), expect: [['spec.vxlanMode', 'both VXLAN and IPIP']] },
  { name: 'ipipMode wrong case', resource: pool({ cidr: '10.0.0.0/16', ipipMode: 'always' }), expect: [['spec.ipipMode', 'must be one of Never, Always, CrossSubnet']] },
  { name: 'vxlanMode unknown', resource: pool({ cidr: '10.0.0.0/16', vxlanMode: 'Sometimes' }), expect: [['spec.vxlanMode', 'must be one of']] },
  // booleans
  { name: 'natOutgoing as string', resource: pool({ cidr: '10.0.0.0/16', natOutgoing: 'true' }), expect: [['spec.natOutgoing', 'must be a boolean (got a string)']] },
  { name: 'disabled as number', resource: pool({ cidr: '10.0.0.0/16', disabled: 1 }), expect: [['spec.disabled', 'must be a boolean (got a number)']] },
  { name: 'disableBGPExport as string', resource: pool({ cidr: '2001:db8::/64', disableBGPExport: 'no' }), expect: [['spec.disableBGPExport', 'must be a boolean']] },
  // allowedUses
  { name: 'allowedUses unknown value', resource: pool({ cidr: '10.0.0.0/16', allowedUses: ['Workload', 'Storage'] }), expect: [['spec.allowedUses[1]', 'must be one of Workload, Tunnel, LoadBalancer']] },
  { name: 'allowedUses duplicate', resource: pool({ cidr: '10.0.0.0/16', allowedUses: ['Workload', 'Workload'] }), expect: [['spec.allowedUses[1]', 'duplicate']] },
  { name: 'allowedUses not an array', resource: pool({ cidr: '10.0.0.0/16', allowedUses: 'Workload' }), expect: [['spec.allowedUses', 'must be an array']] },
  { name: 'LoadBalancer mixed with Workload', resource: pool({ cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer', 'Workload'] }), expect: [['spec.allowedUses', 'LoadBalancer cannot be combined']] },
  { name: 'LoadBalancer with VXLAN', resource: pool({ cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer'], vxlanMode: 'Always' }), expect: [['spec.vxlanMode', 'must be Never on a LoadBalancer pool']] },
  { name: 'LoadBalancer with IPIP', resource: pool({ cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer'], ipipMode: 'CrossSubnet' }), expect: [['spec.ipipMode', 'must be Never on a LoadBalancer pool']] },
  { name: 'LoadBalancer with node selector', resource: pool({ cidr: '2001:db8::/64', allowedUses: ['LoadBalancer'], nodeSelector: 'zone == "a"' }), expect: [['spec.nodeSelector', 'must be all()']] },
  { name: 'LoadBalancer with disableBGPExport', resource: pool({ cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer'], disableBGPExport: true }), expect: [['spec.disableBGPExport', 'must be false']] },
  // nodeSelector, assignmentMode
  { name: 'selector unbalanced (', resource: pool({ cidr: '10.0.0.0/16', nodeSelector: 'has(zone' }), expect: [['spec.nodeSelector', 'at position 8: expected ) to close has(']] },
  { name: 'selector unbalanced )', resource: pool({ cidr: '10.0.0.0/16', nodeSelector: 'all())' }), expect: [['spec.nodeSelector', 'at position 5: unexpected )']] },
  { name: 'selector unterminated quote', resource: pool({ cidr: '10.0.0.0/16', nodeSelector: "zone == 'a" }), expect: [['spec.nodeSelector', 'unterminated string']] },
  { name: 'selector value not quoted', resource: pool({ cidr: '10.0.0.0/16', nodeSelector: 'foo == bar' }), expect: [['spec.nodeSelector', 'at position 7: expected a quoted string after ==']] },
  { name: 'global() in nodeSelector', resource: pool({ cidr: '10.0.0.0/16', nodeSelector: 'global()' }), expect: [['spec.nodeSelector', 'global() is not allowed']] },
  { name: 'global() in namespaceSelector', resource: pool({ cidr: '10.0.0.0/16', allowedUses: ['Workload'], namespaceSelector: "has(a) || global()" }), expect: [['spec.namespaceSelector', 'global() is not allowed']] },
  { name: 'bad namespaceSelector', resource: pool({ cidr: '10.0.0.0/16', allowedUses: ['Workload'], namespaceSelector: 'a = "b"' }), expect: [['spec.namespaceSelector', 'invalid selector']] },
  { name: 'namespaceSelector on a Tunnel pool', resource: pool({ cidr: '10.0.0.0/16', allowedUses: ['Workload', 'Tunnel'], namespaceSelector: "team == 'a'" }), expect: [['spec.namespaceSelector', 'allowedUses include Tunnel']] },
  { name: 'namespaceSelector with default allowedUses (Workload, Tunnel)', resource: pool({ cidr: '10.0.0.0/16', namespaceSelector: "team == 'a'" }), expect: [['spec.namespaceSelector', 'allowedUses include Tunnel']] },
  { name: 'explicit empty assignmentMode', resource: pool({ cidr: '10.0.0.0/16', assignmentMode: '' }), expect: [['spec.assignmentMode', 'must be one of Automatic, Manual (got "")']] },
  // every problem at once, whatever fails first
  { name: 'host bits and IPIP on IPv6 both reported', resource: pool({ cidr: '2001:db8::1/64', ipipMode: 'Always' }), expect: [['spec.cidr', 'host bits'], ['spec.ipipMode', 'IPv6']] },
  { name: 'host bits and overlap both reported', resource: pool({ cidr: '10.50.1.1/24' }), run: (r) => validatePool(r, { existing: [pool({ cidr: '10.50.0.0/16' }, { name: 'other-v4' })] }), expect: [['spec.cidr', 'host bits'], ['spec.cidr', 'overlaps with IPPool(other-v4)']] },
  { name: 'link-local, too small and IPIP on IPv6 all reported', resource: pool({ cidr: 'fe80::/124', ipipMode: 'Always' }), expect: [['spec.cidr', 'link-local'], ['spec.cidr', 'smaller than one block'], ['spec.ipipMode', 'IPv6']] },
  { name: 'selector not a string', resource: pool({ cidr: '10.0.0.0/16', nodeSelector: 5 }), expect: [['spec.nodeSelector', 'must be a string']] },
  { name: 'assignmentMode unknown', resource: pool({ cidr: '10.0.0.0/16', assignmentMode: 'Auto' }), expect: [['spec.assignmentMode', 'must be one of Automatic, Manual']] },
  // overlap with stored pools
  { name: 'overlaps an existing v4 pool', resource: pool({ cidr: '10.50.128.0/24' }, { name: 'new' }), run: withExisting, expect: [['spec.cidr', 'overlaps with IPPool(other-v4) CIDR 10.50.0.0/16']] },
  { name: 'overlaps an existing disabled v6 pool', resource: pool({ cidr: '2001:db8::/32' }, { name: 'new' }), run: withExisting, expect: [['spec.cidr', 'IPPool(other-v6-disabled)']] },
  // FelixConfiguration
  { name: 'felix name not default/node.x', resource: felix({}, 'global'), expect: [['metadata.name', 'default or node.<nodename>']] },
  { name: 'felix node. with empty node', resource: felix({}, 'node.'), expect: [['metadata.name', 'DNS-1123']] },
  { name: 'natOutgoingAddress invalid', resource: felix({ natOutgoingAddress: '10.0.0.300' }), expect: [['spec.natOutgoingAddress', 'valid IP address']] },
  { name: 'natOutgoingAddress is a CIDR', resource: felix({ natOutgoingAddress: '10.0.0.1/32' }), expect: [['spec.natOutgoingAddress', 'valid IP address']] },
  { name: 'natOutgoingAddress not a string', resource: felix({ natOutgoingAddress: 5 }), expect: [['spec.natOutgoingAddress', 'must be a string']] },
  { name: 'natPortRange reversed', resource: felix({ natPortRange: '2000:1000' }), expect: [['spec.natPortRange', 'must not exceed']] },
  { name: 'natPortRange zero', resource: felix({ natPortRange: '0:100' }), expect: [['spec.natPortRange', 'between 1 and 65535']] },
  { name: 'natPortRange dash', resource: felix({ natPortRange: '1024-2048' }), expect: [['spec.natPortRange', '"min:max"']] },
  { name: 'natPortRange too high', resource: felix({ natPortRange: 70000 }), expect: [['spec.natPortRange', 'between 1 and 65535']] },
  { name: 'natPortRange boolean', resource: felix({ natPortRange: true }), expect: [['spec.natPortRange', 'got a boolean']] },
  { name: 'natOutgoingExclusions unknown', resource: felix({ natOutgoingExclusions: 'All' }), expect: [['spec.natOutgoingExclusions', 'IPPoolsOnly, IPPoolsAndHostIPs']] },
  { name: 'interface filter with /', resource: felix({ natOutgoingInterfaceFilter: 'eth0/1' }), expect: [['spec.natOutgoingInterfaceFilter', "'/'"]] },
  { name: 'interface filter too long', resource: felix({ natOutgoingInterfaceFilter: 'verylonginterface0' }), expect: [['spec.natOutgoingInterfaceFilter', '1-15 characters']] },
  { name: 'interface filter inner *', resource: felix({ natOutgoingInterfaceFilter: 'e*th' }), expect: [['spec.natOutgoingInterfaceFilter', 'last character']] },
  { name: 'interface filter lone *', resource: felix({ natOutgoingInterfaceFilter: '*' }), expect: [['spec.natOutgoingInterfaceFilter', 'unset']] },
  { name: 'interface filter whitespace', resource: felix({ natOutgoingInterfaceFilter: 'eth 0' }), expect: [['spec.natOutgoingInterfaceFilter', 'whitespace']] },
  { name: 'interface filter quote', resource: felix({ natOutgoingInterfaceFilter: 'eth"0' }), expect: [['spec.natOutgoingInterfaceFilter', 'quotes']] },
  { name: 'iptables filter with nft wildcard', resource: felix({ iptablesNATOutgoingInterfaceFilter: 'eth*' }), expect: [['spec.iptablesNATOutgoingInterfaceFilter', "'+'"]] },
  { name: 'fully-random not boolean', resource: felix({ natOutgoingFullyRandom: 'yes' }), expect: [['spec.natOutgoingFullyRandom', 'must be a boolean']] },
  // Node
  { name: 'node address invalid', resource: node({ addresses: [{ address: '10.0.0.256', type: 'InternalIP' }] }), expect: [['spec.addresses[0].address', 'IP address']] },
  { name: 'node address missing', resource: node({ addresses: [{ type: 'InternalIP' }] }), expect: [['spec.addresses[0].address', 'required']] },
  { name: 'node address type unknown', resource: node({ addresses: [{ address: '10.0.0.5', type: 'PublicIP' }] }), expect: [['spec.addresses[0].type', 'CalicoNodeIP, InternalIP, ExternalIP']] },
  { name: 'node addresses not an array', resource: node({ addresses: '10.0.0.5' }), expect: [['spec.addresses', 'must be an array']] },
  { name: 'node v6 address bad prefix', resource: node({ addresses: [{ address: '2001:db8::5/129' }] }), expect: [['spec.addresses[0].address', 'prefix length must be 0-128']] },
  { name: 'node bgp ipv4Address is IPv6', resource: node({ bgp: { ipv4Address: '2001:db8::5/64' } }), expect: [['spec.bgp.ipv4Address', 'IPv4']] },
  { name: 'node bgp ipv6Address is IPv4', resource: node({ bgp: { ipv6Address: '10.0.0.5/24' } }), expect: [['spec.bgp.ipv6Address', 'IPv6']] },
  { name: 'node bgp empty', resource: node({ bgp: {} }), expect: [['spec.bgp', 'must not be empty']] },
  // several problems at once: all of them reported
  {
    name: 'multi: v6 pool with IPIP, VXLAN, bad blockSize and string boolean',
    resource: pool({ cidr: '2001:db8::/64', ipipMode: 'Always', vxlanMode: 'Always', blockSize: 26, natOutgoing: 'yes' }),
    expect: [['spec.blockSize', 'IPv6 block size'], ['spec.ipipMode', 'IPv6'], ['spec.vxlanMode', 'both'], ['spec.natOutgoing', 'boolean']],
  },
  {
    name: 'multi: unnamed pool with bad apiVersion and host bits',
    resource: { apiVersion: 'v1', kind: 'IPPool', metadata: {}, spec: { cidr: '10.1.2.3/16', disabled: 'no' } },
    run: (r) => validatePool(r, { docIndex: 3 }),
    label: 'IPPool[3]',
    expect: [['apiVersion', 'projectcalico.org/v3'], ['metadata.name', 'required'], ['spec.cidr', 'did you mean 10.1.0.0/16'], ['spec.disabled', 'boolean']],
  },
  {
    name: 'multi: LoadBalancer pool breaking every LoadBalancer rule',
    resource: pool({ cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer', 'Tunnel'], vxlanMode: 'Always', nodeSelector: '!all()', disableBGPExport: true }),
    expect: [['spec.allowedUses', 'cannot be combined'], ['spec.vxlanMode', 'LoadBalancer'], ['spec.nodeSelector', 'all()'], ['spec.disableBGPExport', 'false']],
  },
  {
    name: 'multi: felix with bad name, reversed ports and non-boolean switch',
    resource: felix({ natPortRange: '5:1', natOutgoingFullyRandom: 1, natOutgoingExclusions: 'Nope' }, 'Default'),
    expect: [['metadata.name', 'DNS-1123'], ['spec.natPortRange', 'exceed'], ['spec.natOutgoingFullyRandom', 'boolean'], ['spec.natOutgoingExclusions', 'one of']],
  },
  {
    name: 'multi: node with several bad addresses',
    resource: node({ addresses: [{ address: 'x' }, { address: '10.0.0.1', type: 'Bad' }, 7], bgp: { ipv4Address: 'y' } }),
    expect: [['spec.addresses[0].address', 'IP'], ['spec.addresses[1].type', 'one of'], ['spec.addresses[2]', 'object'], ['spec.bgp.ipv4Address', 'IP']],
  },
];

describe('invalid resources', () => {
  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = (c.run ?? ((r: unknown) => validateResource(r)))(c.resource);
    expect(result.ok).toBe(false);
    const issues: readonly FieldIssue[] = result.ok ? [] : result.issues;
    expect(pathsOf(issues)).toEqual(c.expect.map(([p]) => p).sort());
    for (const [path, reason] of c.expect) {
      const matching = issues.filter((i) => i.path === path);
      expect(matching.some((i) => i.reason.includes(reason)), `${path}: ${JSON.stringify(matching)}`).toBe(true);
    }
    if (c.label !== undefined) for (const i of issues) expect(i.resource).toBe(c.label);
  });

  it('labels issues with Kind/name', () => {
    const r = validatePool(pool({ cidr: '10.0.0.1/16' }, { name: 'pool-a' }));
    expect(r.ok ? [] : r.issues).toEqual([
      { resource: 'IPPool/pool-a', path: 'spec.cidr', reason: expect.stringContaining('10.0.0.0/16'), value: '10.0.0.1/16' },
    ]);
  });

  it('labels unnamed List items with document and item index', () => {
    const r = validatePool({ apiVersion: V3, kind: 'IPPool', spec: { cidr: '10.0.0.0/16' } }, { docIndex: 2, itemIndex: 1 });
    expect(r.ok ? [] : r.issues.map((i) => i.resource)).toEqual(['IPPool[2][1]']);
  });

  it('throwing wrapper raises ValidationError with every issue and a stable code', () => {
    let caught: unknown;
    try {
      validatePoolOrThrow(pool({ cidr: '10.0.0.1/8', natOutgoing: 'yes' }));
    } catch (e) {
      caught = e;
    }
    expect(isValidationError(caught)).toBe(true);
    const err = caught as ValidationError;
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.name).toBe('ValidationError');
    expect(err.issues.map((i) => i.path).sort()).toEqual(['spec.cidr', 'spec.natOutgoing']);
    expect(err.message).toContain('2 validation issues');
    expect(err.message).toContain('IPPool/p1 spec.cidr');
  });
});
