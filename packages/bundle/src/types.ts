/**
 * The bundle: natfleet's one message from compiler to enforcers (DESIGN.md §4).
 * Plain serializable data; every list is sorted and every CIDR minimal so the same
 * snapshot always yields the same bytes.
 */

export const BUNDLE_API_VERSION = 'natfleet.io/v1';

/** Per address family: which sources are NATed, which destinations never are. */
export interface FamilySets {
  /** Minimal, sorted CIDRs of source addresses to NAT (natOutgoing pools, longest-prefix resolved). */
  masquerade: string[];
  /** Minimal, sorted CIDRs of destinations never NATed (every pool but LoadBalancer-only ones). */
  noNat: string[];
}

export type NatOutgoingExclusions = 'IPPoolsOnly' | 'IPPoolsAndHostIPs';

/** NAT settings from FelixConfiguration (`default`, or merged with `node.<name>`). */
export interface NatSettings {
  /** SNAT to this address instead of masquerading (for the family it belongs to). */
  natOutgoingAddress?: string;
  /** Source port range for the NAT mapping. */
  portRange?: { from: number; to: number };
  /** nft `fully-random` port mapping. */
  fullyRandom: boolean;
  /** Only NAT traffic leaving through interfaces matching this name (trailing `*` = prefix). */
  interfaceFilter?: string;
  /** `IPPoolsAndHostIPs` also exempts fleet host addresses as destinations. */
  exclusions: NatOutgoingExclusions;
}

/** A resource the compiler skipped or adjusted, and why. */
export interface BundleWarning {
  /** etcd key of the resource. */
  key: string;
  /** Stable machine-readable reason code, e.g. INVALID_JSON, INVALID_RESOURCE, OVERLAP. */
  code: string;
  reason: string;
}

/** The digested part of a bundle: everything but `compiledAt`, `digest`, `signature`. */
export interface BundleBody {
  apiVersion: typeof BUNDLE_API_VERSION;
  cluster: string;
  /** etcd revision of the snapshot; strictly increasing per cluster. */
  version: number;
  /** etcd revision the snapshot was read at (equal to `version` for a fresh compile; a rollback records its source). */
  sourceRevision: number;
  fleet: {
    v4: FamilySets;
    v6: FamilySets;
    settings: NatSettings;
    /** Fleet host addresses (from Node resources), minimal sorted CIDRs per family. */
    hostAddresses: { v4: string[]; v6: string[] };
  };
  /** Per-node setting overrides (from `node.<name>` FelixConfigurations); only nodes that have one. */
  nodes: Record<string, Partial<NatSettings>>;
  warnings: BundleWarning[];
}

export interface BundleSignature {
  /** Identifies the signing key: first 16 hex chars of sha256(raw public key). */
  keyId: string;
  /** Ed25519 signature over the 32 raw digest bytes, base64. */
  sig: string;
}

/** A signed bundle as published. */
export interface Bundle extends BundleBody {
  /** When the compiler produced it (ISO 8601). Not digested: replicas may differ here. */
  compiledAt: string;
  /** `sha256:<hex>` of the canonical JSON of the body. */
  digest: string;
  signature: BundleSignature;
}
