/**
 * Hand-built bundles for render and apply tests. Digest and signature are fixed strings:
 * rendering never verifies, it only prints the digest in the table comment.
 */
import type { Bundle, FamilySets, NatSettings } from '@natfleet/bundle';

export const DIGEST_A = `sha256:${'ab'.repeat(32)}`;

/** A digest for version `n` (distinct per version, still 64 hex). */
export const digestFor = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;

const EMPTY: FamilySets = { masquerade: [], noNat: [] };

export interface BundleSpec {
  version?: number;
  digest?: string;
  v4?: FamilySets;
  v6?: FamilySets;
  settings?: Partial<NatSettings>;
  hostAddresses?: { v4: string[]; v6: string[] };
  nodes?: Record<string, Partial<NatSettings>>;
}

export function makeBundle(spec: BundleSpec = {}): Bundle {
  const version = spec.version ?? 12;
  return {
    apiVersion: 'natfleet.io/v1',
    cluster: 'test',
    version,
    sourceRevision: version,
    fleet: {
      v4: spec.v4 ?? EMPTY,
      v6: spec.v6 ?? EMPTY,
      settings: { fullyRandom: false, exclusions: 'IPPoolsOnly', ...spec.settings },
      hostAddresses: spec.hostAddresses ?? { v4: [], v6: [] },
    },
    nodes: spec.nodes ?? {},
    warnings: [],
    compiledAt: '2025-01-01T00:00:00.000Z',
    digest: spec.digest ?? DIGEST_A,
    signature: { keyId: '0123456789abcdef', sig: 'AAAA' },
  };
}

/** Pools as a compiler would emit them for a dual-stack cluster with one natOutgoing pool per family. */
export const V4_POOLS: FamilySets = { masquerade: ['10.65.0.0/16'], noNat: ['10.65.0.0/16', '10.96.0.0/12'] };
export const V6_POOLS: FamilySets = { masquerade: ['fd00:65::/48'], noNat: ['fd00:65::/48', 'fd00:96::/108'] };

/** The rejection of `p`; throws when it resolves. */
export async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
