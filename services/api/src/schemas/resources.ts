/**
 * Schemas of the stored resources as the API returns them (IPPool, FelixConfiguration,
 * Node, RolloutPolicy), their lists, the write bodies and the write results. Fields the
 * API keeps without knowing them (Calico's unknown-fields-kept rule) are allowed
 * (`additionalProperties: true`); the known fields are typed. Data only.
 */
import { Type, type Static } from '@sinclair/typebox';
import { BundleWarning, FieldIssue, Int, NatDiff, ObjectMeta, Str, StringMap } from './common.js';
import { RolloutCommand } from './rollout.js';

const EncapMode = Type.Union([Type.Literal('Never'), Type.Literal('Always'), Type.Literal('CrossSubnet')]);
const open = { additionalProperties: true } as const;
const lit = <const T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const IPPool = Type.Object(
  {
    apiVersion: Type.Literal('projectcalico.org/v3'),
    kind: Type.Literal('IPPool'),
    metadata: ObjectMeta,
    spec: Type.Object(
      {
        cidr: Str('Normalised CIDR'),
        natOutgoing: Type.Optional(Type.Boolean()),
        disabled: Type.Optional(Type.Boolean()),
        blockSize: Type.Optional(Int()),
        ipipMode: Type.Optional(EncapMode),
        vxlanMode: Type.Optional(EncapMode),
        nodeSelector: Type.Optional(Str()),
        allowedUses: Type.Optional(Type.Array(Str())),
        disableBGPExport: Type.Optional(Type.Boolean()),
        assignmentMode: Type.Optional(Str()),
      },
      { ...open, description: "Calico's IPPool spec; unknown fields are kept" },
    ),
  },
  { ...open, title: 'IPPool', description: 'A Calico v3 IPPool as stored (defaults filled in on write)' },
);

export const FelixConfiguration = Type.Object(
  {
    apiVersion: Type.Literal('projectcalico.org/v3'),
    kind: Type.Literal('FelixConfiguration'),
    metadata: ObjectMeta,
    spec: Type.Object(
      {
        natOutgoingAddress: Type.Optional(Str()),
        natPortRange: Type.Optional(Str('Normalised to "min:max"')),
        natOutgoingExclusions: Type.Optional(Type.Union([Type.Literal('IPPoolsOnly'), Type.Literal('IPPoolsAndHostIPs')])),
        natOutgoingInterfaceFilter: Type.Optional(Str('natfleet: nft-style interface filter (eth0, eth*)')),
        iptablesNATOutgoingInterfaceFilter: Type.Optional(Str()),
        natOutgoingFullyRandom: Type.Optional(Type.Boolean({ description: 'natfleet: nft fully-random (default true)' })),
      },
      { ...open, description: 'NAT fields typed; every other Felix field is kept untouched' },
    ),
  },
  { ...open, title: 'FelixConfiguration', description: '`default` holds the fleet settings, `node.<name>` a node override' },
);

export const NodeResource = Type.Object(
  {
    apiVersion: Type.Literal('projectcalico.org/v3'),
    kind: Type.Literal('Node'),
    metadata: ObjectMeta,
    spec: Type.Object(
      {
        addresses: Type.Optional(Type.Array(Type.Object({ address: Str(), type: Type.Optional(Str()) }, open))),
        bgp: Type.Optional(Type.Object({ ipv4Address: Type.Optional(Str()), ipv6Address: Type.Optional(Str()) }, open)),
      },
      open,
    ),
  },
  { ...open, title: 'NodeResource', description: 'A Calico v3 Node (its addresses are the fleet host addresses)' },
);

const Duration = (description: string) => Type.String({ description: `${description} (Go duration: 30s, 10m, 1h)` });
const Gates = Type.Object(
  {
    ack: Type.Optional(Type.Literal(true)),
    noNack: Type.Optional(Type.Literal(true)),
    healthChecks: Type.Optional(
      Type.Object({
        commands: Type.Optional(Type.Array(Type.Object({ name: Str(), command: Type.Array(Str(), { description: 'argv, run without a shell' }), timeout: Duration('Per run') }))),
        conntrack: Type.Optional(Type.Object({ insertFailedDelta: Type.Optional(Int()), dropDelta: Type.Optional(Int()) })),
      }),
    ),
    webhook: Type.Optional(Type.Object({ url: Str(), timeout: Duration('Per call'), headers: Type.Optional(StringMap()) })),
  },
  { title: 'RolloutGates', description: 'ack and noNack are always on' },
);

export const RolloutPolicy = Type.Object(
  {
    apiVersion: Type.Literal('natfleet.io/v1'),
    kind: Type.Literal('RolloutPolicy'),
    metadata: ObjectMeta,
    spec: Type.Object(
      {
        waves: Type.Array(
          Type.Object({
            name: Str(),
            selector: Type.Optional(Str('Calico selector over node labels')),
            percent: Type.Optional(Type.Number({ description: '1–100 of the nodes not admitted by earlier waves' })),
            bake: Duration('How long every gate must hold before the next wave'),
            gates: Type.Optional(Gates),
          }),
        ),
        gates: Type.Optional(Gates),
        onFailure: Type.Optional(Type.Union([Type.Literal('halt'), Type.Literal('rollback')])),
        progressDeadline: Type.Optional(Duration('How long a wave may wait for its gates')),
      },
      open,
    ),
  },
  { ...open, title: 'RolloutPolicy', description: "natfleet's staged-rollout policy (stored under natfleet's own etcd prefix)" },
);

const listOf = (item: typeof IPPool | typeof FelixConfiguration | typeof RolloutPolicy, kind: string, apiVersion: string) =>
  Type.Object({ apiVersion: Type.Literal(apiVersion), kind: Type.Literal(kind), metadata: Type.Object({ resourceVersion: Str('etcd revision of the read') }), items: Type.Array(item) }, { title: kind });
export const IPPoolList = listOf(IPPool, 'IPPoolList', 'projectcalico.org/v3');
export const FelixConfigurationList = listOf(FelixConfiguration, 'FelixConfigurationList', 'projectcalico.org/v3');
export const RolloutPolicyList = listOf(RolloutPolicy, 'RolloutPolicyList', 'natfleet.io/v1');

/** A Calico kind's resource (GET /v1/{plural}/{name}). */
export const CalicoResource = Type.Union([IPPool, FelixConfiguration], { title: 'CalicoResource' });
export const CalicoResourceList = Type.Union([IPPoolList, FelixConfigurationList], { title: 'CalicoResourceList' });

/**
 * A write body: one resource, an array of them, or a `kind: List`. Deliberately loose:
 * validation (with every problem listed in a 422) belongs to the model package, not to
 * this schema — an IPPool body may omit what defaults fill in.
 */
export const ResourcesBody = Type.Union(
  [
    Type.Object({ apiVersion: Type.Optional(Str()), kind: Type.Optional(Str()), metadata: Type.Optional(ObjectMeta), spec: Type.Optional(Type.Object({}, open)) }, open),
    Type.Array(Type.Object({ kind: Type.Optional(Str()), metadata: Type.Optional(ObjectMeta) }, open)),
  ],
  { title: 'ResourcesBody', description: 'A Calico v3 resource (IPPool, FelixConfiguration), an array of them, or a kind: List (items)' },
);

export const ResourceChange = Type.Object({
  kind: Str(),
  name: Str(),
  action: lit(['created', 'updated', 'unchanged', 'disabled', 'deleted']),
  resourceVersion: Type.Optional(Str('Mod revision after the write (absent on dry run and for deletions)')),
});

export const ImmediateResult = Type.Union(
  [
    Type.Object({ written: Type.Literal(true), command: RolloutCommand, key: Str(), revision: Int() }),
    Type.Object({ written: Type.Literal(false), reason: Str('Why no command was written (dry run, no NAT change)') }),
  ],
  { title: 'ImmediateResult', description: 'What ?immediate=true did' },
);

export const WriteResult = Type.Object(
  {
    warnings: Type.Optional(Type.Array(FieldIssue, { description: 'Fields stored despite being unknown (validate=warn)' })),
    dryRun: Type.Boolean(),
    revision: Int('etcd revision after the write (the bundle version that will carry it), or the read revision on dry run / no-op'),
    changes: Type.Array(ResourceChange),
    nat: NatDiff,
    immediate: Type.Optional(ImmediateResult),
  },
  { title: 'WriteResult' },
);

export const RollbackResult = Type.Composite([WriteResult, Type.Object({ rollback: Type.Object({ version: Int(), sourceRevision: Int(), forced: Type.Boolean() }) })], { title: 'RollbackResult' });

export const RolloutPolicyWriteResult = Type.Object(
  {
    dryRun: Type.Boolean(),
    revision: Int(),
    changes: Type.Array(Type.Object({ kind: Type.Literal('RolloutPolicy'), name: Str(), action: lit(['created', 'updated', 'unchanged', 'deleted']), resourceVersion: Type.Optional(Str()) })),
    warnings: Type.Optional(Type.Array(FieldIssue)),
  },
  { title: 'RolloutPolicyWriteResult' },
);

export const ResourceStatuses = Type.Object(
  {
    version: Type.Union([Int(), Type.Null()], { description: 'The bundle judged against (null before the first)' }),
    items: Type.Array(Type.Object({ name: Str(), status: Str('Active, Skipped: <reason>, Shadowed by <pool>, Unknown fields: <paths>, joined by "; "') })),
  },
  { title: 'ResourceStatuses' },
);

export const DeleteBody = Type.Union([Type.Object({ kind: Str(), metadata: Type.Object({ name: Str(), resourceVersion: Type.Optional(Str()) }, open) }, open), Type.Array(Type.Object({ kind: Str() }, open))], {
  title: 'DeleteBody',
  description: 'The resources to delete: kind and metadata.name (resourceVersion to guard), one, an array or a kind: List',
});
export { BundleWarning };
export type WriteResultBody = Static<typeof WriteResult>;
