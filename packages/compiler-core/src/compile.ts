/**
 * The compile core: a snapshot of IPPools, FelixConfigurations and Nodes at one etcd
 * revision → a bundle body (and, with a key, a sealed bundle). Pure: no etcd, NATS,
 * fs or processes; the same snapshot gives byte-identical output in any entry order on
 * any replica. Never throws on bad resources — they become `warnings`.
 */
import { BUNDLE_API_VERSION, sealBundle, type Bundle, type BundleBody, type BundleWarning, type SigningKey } from '@natfleet/bundle';
import { DEFAULT_KEY_PREFIX, formatCidr, minimalCover, nodeAddresses, parseIp, makeCidr, familyBits } from '@natfleet/model';
import { resolveSettings } from './nat-settings.js';
import { resolvePools, type ResolvedPool } from './pool-resolution.js';
import { decodeSnapshot, type DecodeCache, type Snapshot } from './snapshot.js';

export interface CompileOptions {
  /** Cluster name; goes into the bundle and its NATS subject. */
  cluster: string;
  /** etcd key prefix of the Calico v3 resources (default `/calico/resources/v3/projectcalico.org`). */
  prefix?: string;
  /** Revision the snapshot was read at, when it differs from `version` (rollback). Default: `version`. */
  sourceRevision?: number;
  /** Re-validate only entries that changed since the last compile with this cache (same output). */
  cache?: DecodeCache;
}

export interface CompileResult {
  body: BundleBody;
  /** The pools behind the NAT sets, for explain(); not part of the bundle. */
  pools: ResolvedPool[];
}

const byKeyThenCode = (a: BundleWarning, b: BundleWarning): number =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : a.code < b.code ? -1 : a.code > b.code ? 1 : 0;

/** Host addresses of every valid Node as minimal per-family CIDR lists (/32, /128 each). */
function hostAddresses(nodes: ReturnType<typeof decodeSnapshot>['nodes']): { v4: string[]; v6: string[] } {
  const cidrs = nodes.flatMap(({ resource }) =>
    nodeAddresses(resource).map((a) => {
      const ip = parseIp(a);
      return makeCidr(ip.family, ip.value, familyBits(ip.family));
    }),
  );
  const cover = minimalCover(cidrs);
  return { v4: cover.filter((c) => c.family === 4).map(formatCidr), v6: cover.filter((c) => c.family === 6).map(formatCidr) };
}

/**
 * Compiles `snapshot` read at etcd revision `version`. An empty snapshot gives empty
 * sets, default settings and no warnings — a valid bundle that NATs nothing.
 */
export function compile(snapshot: Snapshot, version: number, options: CompileOptions): CompileResult {
  const decoded = decodeSnapshot(snapshot, options.prefix ?? DEFAULT_KEY_PREFIX, options.cache);
  const pools = resolvePools(decoded.pools);
  const settings = resolveSettings(decoded.felixConfigs);
  const body: BundleBody = {
    apiVersion: BUNDLE_API_VERSION,
    cluster: options.cluster,
    version,
    sourceRevision: options.sourceRevision ?? version,
    fleet: { v4: pools.v4, v6: pools.v6, settings: settings.fleet, hostAddresses: hostAddresses(decoded.nodes) },
    nodes: settings.nodes,
    warnings: [...decoded.warnings, ...pools.warnings].sort(byKeyThenCode),
  };
  return { body, pools: pools.pools };
}

/** compile() then seal with `key`. `compiledAt` defaults to now (not digested). */
export function compileBundle(
  snapshot: Snapshot,
  version: number,
  options: CompileOptions & { key: SigningKey; compiledAt?: string },
): { bundle: Bundle; pools: ResolvedPool[] } {
  const { body, pools } = compile(snapshot, version, options);
  return { bundle: sealBundle(body, options.key, options.compiledAt), pools };
}
