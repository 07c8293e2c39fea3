/**
 * Schemas of the bundle and history views (GET /v1/bundles, /v1/bundles/{version},
 * /v1/history, /v1/history/{version}), rollback, explain, version and the node
 * inventory. Data only.
 */
import { Type, type Static } from '@sinclair/typebox';
import { BundleWarning, Int, NatDiff, NatSettings, NatSettingsOverride, Nullable, Str } from './common.js';
import { NodeResource } from './resources.js';
import { HistoryRollout, RolloutNode } from './rollout.js';

const lit = <const T extends string>(values: readonly T[], description?: string) => Type.Union(values.map((v) => Type.Literal(v)), description ? { description } : {});
const PerFamily = Type.Object({ v4: Int(), v6: Int() });

export const INVALID_CODES = ['MALFORMED', 'TOO_LARGE', 'UNSUPPORTED_API_VERSION', 'BAD_DIGEST', 'UNKNOWN_KEY', 'BAD_SIGNATURE', 'WRONG_CLUSTER', 'HEADER_MISMATCH'] as const;

export const BundleSummary = Type.Object(
  { seq: Int('Stream sequence'), version: Int(), digest: Str(), sourceRevision: Int(), compiledAt: Str(), publishedAt: Str(), warnings: Int(), masquerade: PerFamily, noNat: PerFamily },
  { title: 'BundleSummary', description: 'A valid bundle of the stream (digest and, with --trusted-keys-file, signature verified; this cluster; headers match the body)' },
);
export const InvalidBundleItem = Type.Object(
  { seq: Int(), version: Int('What its unsigned header claims'), digest: Str('What its unsigned header claims'), publishedAt: Str(), invalid: Type.Object({ code: lit(INVALID_CODES), message: Str() }) },
  { title: 'InvalidBundleItem', description: 'A message of the bundle subject that is not a valid bundle: listed, never used by another view' },
);
export const HistoryItem = Type.Union([BundleSummary, InvalidBundleItem], { title: 'HistoryItem' });
export const BundleHistory = Type.Object({ items: Type.Array(HistoryItem, { description: 'Newest first' }) }, { title: 'BundleHistory' });

const ChangedResource = Type.Object({
  kind: Str(),
  name: Str(),
  action: lit(['created', 'updated', 'deleted']),
  via: lit(['api', 'rollback', 'etcdctl', 'inventory', 'unknown']),
  by: Type.Optional(Str("The API token's name (via api or rollback)")),
  rollbackOf: Type.Optional(Int('Via rollback: the bundle version restored')),
  forced: Type.Optional(Type.Boolean()),
});
export const VersionChange = Type.Union(
  [
    Type.Object({ status: Type.Literal('ok'), since: Int(), resources: Type.Array(ChangedResource) }),
    Type.Object({ status: Type.Literal('compacted'), since: Int() }),
    Type.Object({ status: Type.Literal('no-predecessor') }),
  ],
  { title: 'VersionChange', description: 'What changed since the predecessor in history, and who changed it' },
);

export const HistoryEntry = Type.Union(
  [
    Type.Composite([BundleSummary, Type.Object({ change: Type.Optional(VersionChange), rollout: Type.Optional(Nullable(HistoryRollout)) })]),
    InvalidBundleItem,
  ],
  { title: 'HistoryEntry' },
);
export const HistoryList = Type.Object({ items: Type.Array(HistoryEntry) }, { title: 'HistoryList' });
export type HistoryListBody = Static<typeof HistoryList>;

export const VersionDetail = Type.Object(
  {
    version: Int(),
    digest: Str(),
    sourceRevision: Int(),
    compiledAt: Str(),
    publishedAt: Str(),
    previous: Nullable(Type.Object({ version: Int(), digest: Str() })),
    change: VersionChange,
    nat: NatDiff,
    settings: Type.Array(Type.Object({ path: Str('nodes.<node>.<field> for node overrides'), before: Type.Optional(Type.Unknown()), after: Type.Optional(Type.Unknown()) }), { description: 'Every fleet setting and node override that differs, leaf by leaf' }),
    warnings: Type.Array(Type.Composite([BundleWarning, Type.Object({ new: Type.Optional(Type.Boolean()) })])),
    rollout: Nullable(HistoryRollout),
  },
  { title: 'VersionDetail' },
);
export type VersionDetailBody = Static<typeof VersionDetail>;

const FamilySets = Type.Object({ masquerade: Type.Array(Str()), noNat: Type.Array(Str()) });
export const Bundle = Type.Object(
  {
    apiVersion: Type.Literal('natfleet.io/v1'),
    cluster: Str(),
    version: Int('etcd revision of the snapshot'),
    sourceRevision: Int(),
    fleet: Type.Object({ v4: FamilySets, v6: FamilySets, settings: NatSettings, hostAddresses: Type.Object({ v4: Type.Array(Str()), v6: Type.Array(Str()) }) }),
    nodes: Type.Record(Type.String(), NatSettingsOverride, { description: 'Per-node setting overrides' }),
    warnings: Type.Array(BundleWarning),
    compiledAt: Str(),
    digest: Str('sha256:<hex> of the canonical JSON of the body'),
    signature: Type.Object({ keyId: Str(), sig: Str('Ed25519 over the digest, base64') }),
  },
  { title: 'Bundle', description: 'A signed bundle as published by the compiler' },
);

export const RollbackRequest = Type.Object(
  {
    version: Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[0-9]{1,16}$' })], { description: 'The bundle version (etcd revision) to restore' }),
    dryRun: Type.Optional(Type.Boolean()),
    force: Type.Optional(Type.Boolean({ description: 'Take version as any etcd revision' })),
    previewRevision: Type.Optional(Type.Integer({ minimum: 1, description: 'The revision of the dry run confirmed: 409 when pools or NAT config changed since' })),
  },
  { title: 'RollbackRequest' },
);

export const ExplainRequest = Type.Object(
  {
    src: Str('Source IP address'),
    dst: Str('Destination IP address'),
    node: Type.Optional(Str('Node whose overrides apply')),
    version: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]{1,16}$' })], { description: 'Bundle version (default: the newest valid)' })),
  },
  { title: 'ExplainRequest' },
);
const PoolRef = Type.Object({ name: Str(), cidr: Str(), natOutgoing: Type.Boolean(), disabled: Type.Boolean() });
export const Explanation = Type.Object(
  {
    decision: lit(['masquerade', 'snat', 'none']),
    snatAddress: Type.Optional(Str()),
    reason: Str('One sentence an operator can read'),
    source: Type.Object({ address: Str(), masqueradeCidr: Type.Optional(Str()), pool: Type.Optional(PoolRef) }),
    destination: Type.Object({ address: Str(), noNatCidr: Type.Optional(Str()), hostAddress: Type.Optional(Str()), pool: Type.Optional(PoolRef) }),
    settings: NatSettings,
    settingsFrom: Type.String({ description: '`default` or `node.<name>`' }),
    conditions: Type.Array(Str(), { description: 'Conditions the bundle cannot see (the egress interface)' }),
    version: Int('The bundle explained'),
  },
  { title: 'Explanation' },
);

export const VersionInfo = Type.Object({ version: Str('API server version'), bundleApiVersion: Str(), cluster: Str() }, { title: 'VersionInfo' });

export const NodeList = Type.Object({ desired: Nullable(Type.Object({ version: Int(), digest: Str() })), items: Type.Array(RolloutNode) }, { title: 'NodeList' });
export const NodeDescription = Type.Object(
  {
    node: RolloutNode,
    resource: Nullable(NodeResource),
    desired: Nullable(Type.Object({ version: Int(), digest: Str() })),
    diff: Nullable(NatDiff),
    diffUnavailable: Type.Optional(Str('Why diff is null')),
  },
  { title: 'NodeDescription' },
);
export const NodeDeleted = Type.Object({ node: Str(), removed: Type.Object({ resource: Type.Boolean(), status: Type.Boolean() }) }, { title: 'NodeDeleted' });
