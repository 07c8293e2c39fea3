// The Calico v3 resource types natfleet understands: IPPool, FelixConfiguration, Node.
//
// Owns: the TypeScript shapes of validated resources, the enum values and defaults that
// validation applies, small read-only helpers over validated resources, and where
// resources live in etcd (Calico's layout `<prefix>/<plural>/<name>`). Every shape
// has an index signature because unknown fields are kept, never dropped: a resource
// parsed, defaulted and serialised again still carries whatever Calico (or a newer
// natfleet) put there. Never: validation (see *-validation.ts) or
// I/O (the store package talks to etcd).
import { formatIp, tryParseIp } from './cidr.js';

/** The only apiVersion accepted. */
export const API_VERSION = 'projectcalico.org/v3';

/** Resource kinds natfleet reads and validates. */
export const RESOURCE_KINDS = ['IPPool', 'FelixConfiguration', 'Node'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** `ipipMode` / `vxlanMode` values; `Never` is the default. */
export const ENCAP_MODES = ['Never', 'Always', 'CrossSubnet'] as const;
export type EncapMode = (typeof ENCAP_MODES)[number];

/** `allowedUses` values; the default is `[Workload, Tunnel]`. */
export const ALLOWED_USES = ['Workload', 'Tunnel', 'LoadBalancer'] as const;
export type AllowedUse = (typeof ALLOWED_USES)[number];

/** `assignmentMode` values; `Automatic` is the default. */
export const ASSIGNMENT_MODES = ['Automatic', 'Manual'] as const;
export type AssignmentMode = (typeof ASSIGNMENT_MODES)[number];

/** `natOutgoingExclusions` values; `IPPoolsOnly` is the default. */
export const NAT_OUTGOING_EXCLUSIONS = ['IPPoolsOnly', 'IPPoolsAndHostIPs'] as const;
export type NatOutgoingExclusions = (typeof NAT_OUTGOING_EXCLUSIONS)[number];

/** `Node.spec.addresses[].type` values (Calico's NodeAddress types). */
export const NODE_ADDRESS_TYPES = ['CalicoNodeIP', 'InternalIP', 'ExternalIP'] as const;
export type NodeAddressType = (typeof NODE_ADDRESS_TYPES)[number];

/** Pool defaults, as Calico applies them (blockSize depends on the family). */
export const POOL_DEFAULTS = Object.freeze({
  natOutgoing: false,
  disabled: false,
  blockSizeV4: 26,
  blockSizeV6: 122,
  ipipMode: 'Never' as EncapMode,
  vxlanMode: 'Never' as EncapMode,
  nodeSelector: 'all()',
  allowedUses: Object.freeze(['Workload', 'Tunnel'] as AllowedUse[]),
  disableBGPExport: false,
  assignmentMode: 'Automatic' as AssignmentMode,
});

/** Allowed blockSize range per family, inclusive. */
export const BLOCK_SIZE_RANGE = Object.freeze({
  4: Object.freeze({ min: 20, max: 32 }),
  6: Object.freeze({ min: 116, max: 128 }),
});

/** Kubernetes-style object metadata; fields beyond these are kept as they are. */
export interface ObjectMeta {
  name: string;
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

/** A validated, defaulted IPPool spec: every Calico field present, `cidr` normalised. */
export interface IPPoolSpec {
  cidr: string;
  natOutgoing: boolean;
  disabled: boolean;
  blockSize: number;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
  nodeSelector: string;
  allowedUses: AllowedUse[];
  disableBGPExport: boolean;
  assignmentMode: AssignmentMode;
  [field: string]: unknown;
}

export interface IPPool {
  apiVersion: typeof API_VERSION;
  kind: 'IPPool';
  metadata: ObjectMeta;
  spec: IPPoolSpec;
  [field: string]: unknown;
}

/**
 * FelixConfiguration spec, NAT fields only; the many other Felix fields are kept untouched.
 *
 * `natOutgoingFullyRandom` is natfleet's own switch for nft `fully-random` on the
 * masquerade/snat rule. Calico has no such field: Felix adds `--random-fully` by itself
 * whenever the dataplane supports it (features MASQFullyRandom/SNATFullyRandom, which
 * `featureDetectOverride` can force off). natfleet makes the choice explicit and defaults
 * it to true, matching what Felix does on any current kernel.
 *
 * `natOutgoingInterfaceFilter` is natfleet's nft-style interface filter (`eth0`, `eth*`).
 * Calico's closest knob is `iptablesNATOutgoingInterfaceFilter`, which uses the iptables
 * `+` wildcard; it is validated with Calico's rule and used when natfleet's field is unset.
 */
export interface FelixConfigurationSpec {
  natOutgoingAddress?: string;
  /** Normalised to `"min:max"` by validation. */
  natPortRange?: string;
  natOutgoingExclusions?: NatOutgoingExclusions;
  natOutgoingInterfaceFilter?: string;
  iptablesNATOutgoingInterfaceFilter?: string;
  natOutgoingFullyRandom?: boolean;
  [field: string]: unknown;
}

export interface FelixConfiguration {
  apiVersion: typeof API_VERSION;
  kind: 'FelixConfiguration';
  metadata: ObjectMeta;
  spec: FelixConfigurationSpec;
  [field: string]: unknown;
}

/** One entry of `Node.spec.addresses`: an IP, optionally with a prefix length (`10.0.0.5/24`). */
export interface NodeAddress {
  address: string;
  type?: NodeAddressType;
  [field: string]: unknown;
}

export interface NodeSpec {
  addresses?: NodeAddress[];
  bgp?: { ipv4Address?: string; ipv6Address?: string; [field: string]: unknown };
  [field: string]: unknown;
}

export interface Node {
  apiVersion: typeof API_VERSION;
  kind: 'Node';
  metadata: ObjectMeta;
  spec: NodeSpec;
  [field: string]: unknown;
}

/** Any validated resource. */
export type Resource = IPPool | FelixConfiguration | Node;

/** The resource the validator saw, before validation: whatever the parser produced. */
export interface RawResource {
  /** Index of the document in the input (element index for a JSON array). */
  readonly docIndex: number;
  /** Index within `items` when the resource came from a `List` document. */
  readonly itemIndex?: number;
  /** File name or etcd key it came from, when the caller gave one. */
  readonly source?: string;
  /** The decoded object; not yet checked in any way beyond being a plain object. */
  readonly object: Record<string, unknown>;
}

/**
 * The bare, normalised IPs of a node: `spec.addresses[].address` in order (prefix lengths
 * stripped), then `spec.bgp.ipv4Address` and `spec.bgp.ipv6Address`, without duplicates.
 * Entries that are not valid addresses are skipped; empty when the node has none.
 */
export function nodeAddresses(node: Pick<Node, 'spec'>): string[] {
  const candidates: unknown[] = [];
  const spec = node.spec as Record<string, unknown> | undefined;
  if (spec !== undefined && spec !== null) {
    if (Array.isArray(spec['addresses'])) {
      for (const a of spec['addresses'] as unknown[]) {
        if (a !== null && typeof a === 'object') candidates.push((a as Record<string, unknown>)['address']);
      }
    }
    const bgp = spec['bgp'];
    if (bgp !== null && typeof bgp === 'object') {
      candidates.push((bgp as Record<string, unknown>)['ipv4Address'], (bgp as Record<string, unknown>)['ipv6Address']);
    }
  }
  const seen = new Set<string>();
  for (const c of candidates) {
    if (typeof c !== 'string') continue;
    const slash = c.indexOf('/');
    const ip = tryParseIp(slash < 0 ? c : c.slice(0, slash));
    if (ip !== undefined) seen.add(formatIp(ip));
  }
  return [...seen];
}

// --- etcd keys ---

/** Calico's default key prefix for v3 resources in etcd. */
export const DEFAULT_KEY_PREFIX = '/calico/resources/v3/projectcalico.org';

/** Plural used in keys, per kind. */
export const KIND_PLURALS: Readonly<Record<ResourceKind, string>> = Object.freeze({
  IPPool: 'ippools',
  FelixConfiguration: 'felixconfigurations',
  Node: 'nodes',
});

const KIND_BY_PLURAL: ReadonlyMap<string, ResourceKind> = new Map(
  Object.entries(KIND_PLURALS).map(([kind, plural]) => [plural, kind as ResourceKind]),
);

function trimPrefix(prefix: string): string {
  return prefix.endsWith('/') ? prefix.replace(/\/+$/, '') : prefix;
}

/**
 * The etcd key of a resource, e.g. `/calico/resources/v3/projectcalico.org/ippools/pool-a`.
 * A trailing `/` on `prefix` is ignored. The name is used as given: an empty name yields
 * the collection prefix with a trailing `/`, which callers can use for prefix watches.
 */
export function resourceKey(kind: ResourceKind, name: string, prefix: string = DEFAULT_KEY_PREFIX): string {
  return `${trimPrefix(prefix)}/${KIND_PLURALS[kind]}/${name}`;
}

/** The prefix under which every resource of `kind` lives, ending in `/`. */
export function kindKeyPrefix(kind: ResourceKind, prefix: string = DEFAULT_KEY_PREFIX): string {
  return resourceKey(kind, '', prefix);
}

/** A key decoded by {@link parseResourceKey}. */
export interface ResourceKeyParts {
  readonly kind: ResourceKind;
  readonly name: string;
}

/**
 * Decodes `<prefix>/<plural>/<name>`. Returns `undefined` when the key is outside
 * `prefix`, names a plural natfleet does not know, or has an empty name or extra `/`
 * segments (Calico names never contain `/`).
 */
export function parseResourceKey(key: string, prefix: string = DEFAULT_KEY_PREFIX): ResourceKeyParts | undefined {
  const base = `${trimPrefix(prefix)}/`;
  if (!key.startsWith(base)) return undefined;
  const rest = key.slice(base.length).split('/');
  if (rest.length !== 2) return undefined;
  const [plural, name] = rest as [string, string];
  const kind = KIND_BY_PLURAL.get(plural);
  if (kind === undefined || name === '') return undefined;
  return { kind, name };
}
