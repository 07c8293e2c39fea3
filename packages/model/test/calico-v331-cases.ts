// Calico v3.31 compatibility table: rows transcribed from Calico's own tests at tag
// v3.31.7 (projectcalico/calico; validator_test.go and ippool_e2e_test.go are identical in
// every v3.31.x tag, ippool_test.go first appears in a v3.31 patch release).
//
// Sources, cited as `<file>:<line>` in the v3.31.7 tree:
//   validator_test.go — libcalico-go/lib/validator/v3/validator_test.go ("Validator" table;
//                       the line is that of the row's `Entry(`).
//   ippool_e2e_test.go — libcalico-go/lib/clientv3/ippool_e2e_test.go (the line is that of the
//                       `By(`/`It(` whose text is the title; where one `It` holds several
//                       checks with no `By`, the line of the Create/Update call under check).
//   ippool_test.go    — libcalico-go/lib/clientv3/ippool_test.go, table of
//                       TestValidateAndSetDefaults_CIDRComparison (the line of the case's `name:`).
//
// Every verdict is Calico's. Transcription rules:
//   - Go zero values ("" / 0 / false / nil) are absent fields; a pointer to a zero value
//     (e.g. `*AssignmentMode` pointing at "") is present and written out.
//   - A validator row that tests a bare spec struct is wrapped into a full resource named
//     `pool.name` (IPPool, as in Calico's own IPPool rows) or `default` (FelixConfiguration).
//   - Rows marked "mapped" come from another struct whose rule natfleet's kinds share
//     (ObjectMeta name/labels/annotations, or the selector grammar Calico's `selector` tag
//     checks on IPPool nodeSelector/namespaceSelector); the comment names the original struct.
//   - e2e rows: `existing` lists the pools stored at that moment, `old` the stored pool an
//     Update replaces (as Calico's Create returned it: client defaults filled in).

export interface CalicoCase {
  readonly cite: string;
  readonly title: string;
  readonly resource: Record<string, unknown>;
  readonly valid: boolean;
  readonly existing?: Record<string, unknown>[];
  readonly old?: Record<string, unknown>;
  readonly note?: string;
  /** natfleet's verdict where it deliberately differs from Calico's (`note` says why; README lists these). */
  readonly natfleet?: boolean;
}

const V3 = 'projectcalico.org/v3';

function ippool(name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: V3, kind: 'IPPool', metadata: { name, ...meta }, spec };
}

function felix(spec: Record<string, unknown>, name = 'default'): Record<string, unknown> {
  return { apiVersion: V3, kind: 'FelixConfiguration', metadata: { name }, spec };
}

// Values validator_test.go defines at its top (same names).
const ipv4_1 = '1.2.3.4';
const ipv6_1 = 'aabb:aabb::ffff';
const netv4_1 = '1.2.3.4/32';
const netv4_3 = '1.2.3.0/26';
const netv4_4 = '1.0.0.0/10';
const netv4_5 = '1.2.3.0/27';
const netv6_1 = 'aabb:aabb::ffff/128';
const netv6_3 = 'aabb:aabb::0000/122';
const netv6_4 = 'aa00:0000::0000/10';
const bad_ipv4_1 = '999.999.999.999';
const maxAnnotationsLength = 256 * (1 << 10);
const maxNameLength = 253;
const longValue = (n: number): string => 'x'.repeat(n);
const value63 = longValue(63);
const value64 = longValue(64);

// What ippool_e2e_test.go's spec1 … spec3 variables hold.
const WT = ['Workload', 'Tunnel'];
const spec1 = {
  cidr: '1.2.3.0/24', ipipMode: 'Always', vxlanMode: 'Never', blockSize: 26, nodeSelector: 'all()',
  allowedUses: WT, assignmentMode: 'Automatic',
};
const spec1_2 = {
  cidr: '1.2.3.0/24', natOutgoing: true, ipipMode: 'Never', vxlanMode: 'Always', blockSize: 26,
  nodeSelector: 'foo == "bar"', allowedUses: WT, disableBGPExport: true, assignmentMode: 'Automatic',
};
const spec2 = {
  cidr: '2001::/120', natOutgoing: true, ipipMode: 'Never', vxlanMode: 'Never', blockSize: 122, nodeSelector: 'all()',
  allowedUses: WT, disableBGPExport: true, assignmentMode: 'Automatic',
};
const spec2_1 = {
  // DisableBGPExport: false is Go's zero value, so absent.
  cidr: '2001::/120', ipipMode: 'Never', vxlanMode: 'Never', blockSize: 122, nodeSelector: 'all()',
  allowedUses: WT, assignmentMode: 'Automatic',
};
const spec3 = {
  // IPIPMode: "" and VXLANMode: "" are Go zero values, so absent.
  cidr: '1.2.3.0/24', blockSize: 26, nodeSelector: 'all()', allowedUses: WT, assignmentMode: 'Automatic',
};

/** The spec clientv3's Create returns for an IPv4 pool given only `cidr` (+ overrides): its defaults filled in. */
function createdV4(spec: Record<string, unknown>): Record<string, unknown> {
  return {
    ipipMode: 'Never', vxlanMode: 'Never', blockSize: 26, nodeSelector: 'all()', allowedUses: WT,
    assignmentMode: 'Automatic', ...spec,
  };
}

const IPAM_NOTE =
  'Calico rejects this because IPAM already holds an allocated block of another size inside the CIDR ' +
  '(Create lists blocks); natfleet models no IPAM block state, so it cannot see this.';
const NS_DEFAULTING_NOTE =
  "Validator-only verdict: allowedUses is absent, so the Tunnel+namespaceSelector rule does not fire. clientv3's " +
  'Create/Update default allowedUses to [Workload, Tunnel] before validating (clientv3/ippool.go:398) and then reject this pool; ' +
  'natfleet validates the way calicoctl create does, defaults first.';

export const CALICO_CASES: readonly CalicoCase[] = [
  // ===================== validator_test.go =====================

  // --- (API) Selectors: mapped from api.EntityRule{Selector} to IPPool spec.nodeSelector ---
  { cite: 'validator_test.go:558', title: 'should accept valid selector', resource: ippool('pool.name', { cidr: netv4_3, nodeSelector: 'foo == "bar"' }), valid: true },
  { cite: 'validator_test.go:559', title: "should accept valid selector with 'has' and a '/'", resource: ippool('pool.name', { cidr: netv4_3, nodeSelector: 'has(calico/k8s_ns)' }), valid: true },
  { cite: 'validator_test.go:560', title: "should accept valid selector with 'has' and two '/'", resource: ippool('pool.name', { cidr: netv4_3, nodeSelector: 'has(calico/k8s_ns/role)' }), valid: true },
  { cite: 'validator_test.go:561', title: "should accept valid selector with 'has' and two '/' and '-.'", resource: ippool('pool.name', { cidr: netv4_3, nodeSelector: 'has(calico/k8s_NS-.1/role)' }), valid: true },
  { cite: 'validator_test.go:562', title: 'should reject invalid selector', resource: ippool('pool.name', { cidr: netv4_3, nodeSelector: 'thing=hello &' }), valid: false },

  // --- (API) Labels: mapped from api.ProfileSpec{LabelsToApply} (same key/value rules) to metadata.labels ---
  { cite: 'validator_test.go:565', title: 'should accept a valid labelsToApply', resource: ippool('pool.name', { cidr: netv4_3 }, { labels: { 'project.calico.org/my-valid-label': value63 } }), valid: true },
  { cite: 'validator_test.go:566', title: 'should reject an excessively long value in labelsToApply', resource: ippool('pool.name', { cidr: netv4_3 }, { labels: { 'project.calico.org/my-valid-label': value64 } }), valid: false },
  { cite: 'validator_test.go:567', title: 'should reject . at start of key in a labelsToApply', resource: ippool('pool.name', { cidr: netv4_3 }, { labels: { '.mylabel': 'value' } }), valid: false },
  { cite: 'validator_test.go:568', title: 'should reject ! in a labelsToApply', resource: ippool('pool.name', { cidr: netv4_3 }, { labels: { 'my!nvalid-label': 'value' } }), valid: false },
  { cite: 'validator_test.go:569', title: 'should reject $ in a labelsToApply', resource: ippool('pool.name', { cidr: netv4_3 }, { labels: { 'my-invalid-label$': 'value' } }), valid: false },

  // --- (API) Labels and Annotations on IPPool metadata ---
  { cite: 'validator_test.go:570', title: 'should accept valid labels in metadata', resource: ippool('pool.name', { cidr: netv4_3 }, { labels: { 'projectcalico.org/label': value63 } }), valid: true },
  { cite: 'validator_test.go:582', title: 'should reject an excessively long value in labels in metadata', resource: ippool('pool.name', { cidr: netv4_3 }, { labels: { 'projectcalico.org/label': value64 } }), valid: false },
  { cite: 'validator_test.go:593', title: 'should reject invalid labels in metadata (uppercase domain)', resource: ippool('pool.name', { cidr: netv4_3 }, { labels: { 'ProjectCalico.org/label': 'value' } }), valid: false },
  { cite: 'validator_test.go:604', title: 'should accept valid labels in metadata (uppercase name)', resource: ippool('pool.name', { cidr: netv4_3 }, { labels: { 'projectcalico.org/Label': 'value' } }), valid: true },
  { cite: 'validator_test.go:615', title: 'should reject invalid annotations in metadata', resource: ippool('pool.name', { cidr: netv4_3 }, { annotations: { 'projectcalico.org$label': 'value' } }), valid: false },
  { cite: 'validator_test.go:626', title: 'should accept valid annotations in metadata (uppercase domain and name)', resource: ippool('pool.name', { cidr: netv4_3 }, { annotations: { 'ProjectCalico.org/Label': 'value' } }), valid: true },
  { cite: 'validator_test.go:637', title: 'should reject invalid annotations in metadata', resource: ippool('pool.name', { cidr: netv4_3 }, { annotations: { 'projectcalico.org$label': 'value' } }), valid: false },
  // Total annotation size (keys + values) may be at most 256 KiB: 3 + (262144 - 3) is exactly the limit.
  { cite: 'validator_test.go:648', title: 'should allow annotations in metadata <= 256k', resource: ippool('pool.name', { cidr: netv4_3 }, { annotations: { key: longValue(maxAnnotationsLength - 3) } }), valid: true },
  { cite: 'validator_test.go:659', title: 'should disallow annotations in metadata > 256k', resource: ippool('pool.name', { cidr: netv4_3 }, { annotations: { key: longValue(maxAnnotationsLength - 2) } }), valid: false },
  // A single 253-character label: Calico's name regex has no 63-character per-label limit.
  { cite: 'validator_test.go:670', title: 'should allow a name of 253 chars', resource: ippool(longValue(maxNameLength), { cidr: netv4_3 }), valid: true },
  { cite: 'validator_test.go:678', title: 'should disallow a name of 254 chars', resource: ippool(longValue(maxNameLength + 1), { cidr: netv4_3 }), valid: false },
  { cite: 'validator_test.go:686', title: 'should allow a valid nodeSelector', resource: ippool('pool.name', { cidr: netv4_3, nodeSelector: 'foo == "bar"' }), valid: true },
  { cite: 'validator_test.go:694', title: 'should disallow a invalid nodeSelector', resource: ippool('pool.name', { cidr: netv4_3, nodeSelector: 'this is not valid selector syntax' }), valid: false },

  // --- (API) FelixConfiguration: NAT fields ---
  { cite: 'validator_test.go:758', title: "should accept a valid IptablesNATOutgoingInterfaceFilter value 'cali-123'", resource: felix({ iptablesNATOutgoingInterfaceFilter: 'cali-123' }), valid: true },
  { cite: 'validator_test.go:759', title: "should reject an invalid IptablesNATOutgoingInterfaceFilter value 'cali@123'", resource: felix({ iptablesNATOutgoingInterfaceFilter: 'cali@123' }), valid: false },

  // --- (API) IPPool ---
  { cite: 'validator_test.go:976', title: 'should accept IP pool with IPv4 CIDR /26', resource: ippool('pool.name', { cidr: netv4_3 }), valid: true },
  { cite: 'validator_test.go:980', title: 'should accept IP pool with IPv4 CIDR /10', resource: ippool('pool.name', { cidr: netv4_4 }), valid: true },
  { cite: 'validator_test.go:984', title: 'should accept IP pool with IPv6 CIDR /122', resource: ippool('pool.name', { cidr: netv6_3, ipipMode: 'Never', vxlanMode: 'Never' }), valid: true },
  { cite: 'validator_test.go:992', title: 'should accept IP pool with IPv6 CIDR /10', resource: ippool('pool.name', { cidr: netv6_4, ipipMode: 'Never', vxlanMode: 'Never' }), valid: true },
  { cite: 'validator_test.go:1000', title: 'should accept a disabled IP pool with IPv4 CIDR /27', resource: ippool('pool.name', { cidr: netv4_5, disabled: true }), valid: true },
  { cite: 'validator_test.go:1007', title: 'should accept a disabled IP pool with IPv6 CIDR /128', resource: ippool('pool.name', { cidr: netv6_1, ipipMode: 'Never', vxlanMode: 'Never', disabled: true }), valid: true },
  { cite: 'validator_test.go:1016', title: 'should reject IP pool with IPv4 CIDR /27', resource: ippool('pool.name', { cidr: netv4_5 }), valid: false },
  // (The bare validator also objects to the empty ipipMode on this IPv6 pool; the /128 is too small either way.)
  { cite: 'validator_test.go:1017', title: 'should reject IP pool with IPv6 CIDR /128', resource: ippool('pool.name', { cidr: netv6_1 }), valid: false },
  { cite: 'validator_test.go:1018', title: 'should reject IP pool with IPv4 CIDR /33', resource: ippool('pool.name', { cidr: '1.2.3.4/33' }), valid: false },
  { cite: 'validator_test.go:1019', title: 'should reject IP pool with IPv6 CIDR /129', resource: ippool('pool.name', { cidr: 'aa:bb::/129' }), valid: false },
  { cite: 'validator_test.go:1020', title: "should reject IPIPMode 'Always' for IPv6 pool", resource: ippool('pool.name', { cidr: netv6_1, ipipMode: 'Always', vxlanMode: 'Never' }), valid: false },
  // (Calico has no IPv6 rule for VXLAN: this /128 enabled pool is rejected for being smaller than a block.)
  { cite: 'validator_test.go:1029', title: "should reject VXLANMode 'Always' for IPv6 pool", resource: ippool('pool.name', { cidr: netv6_1, vxlanMode: 'Always', ipipMode: 'Never' }), valid: false },
  { cite: 'validator_test.go:1038', title: 'should reject IPv4 pool with a CIDR range overlapping with Link Local range', resource: ippool('pool.name', { cidr: '169.254.5.0/24' }), valid: false },
  { cite: 'validator_test.go:1040', title: 'should reject IPv6 pool with a CIDR range overlapping with Link Local range', resource: ippool('pool.name', { cidr: 'fe80::/120' }), valid: false },
  { cite: 'validator_test.go:1043', title: 'should accept IP pool with valid allowed uses', resource: ippool('pool.name', { cidr: netv4_4, allowedUses: ['Workload', 'Tunnel'] }), valid: true },
  { cite: 'validator_test.go:1054', title: 'should reject IP pool with invalid allowed uses combination', resource: ippool('pool.name', { cidr: netv4_4, allowedUses: ['LoadBalancer', 'Tunnel'] }), valid: false },
  { cite: 'validator_test.go:1065', title: 'should reject IP pool with invalid allowed uses', resource: ippool('pool.name', { cidr: netv4_4, allowedUses: ['Garbage'] }), valid: false },
  { cite: 'validator_test.go:1075', title: 'should accept IP pool with valid AssignmentMode', resource: ippool('pool.name', { cidr: netv4_4, assignmentMode: 'Automatic' }), valid: true },
  // `new(api.AssignmentMode)`: a non-nil pointer to "", so the field is present and empty
  // (clientv3 only defaults a nil pointer, so Create rejects this too).
  { cite: 'validator_test.go:1083', title: 'should reject IP pool with invalid assignment mode', resource: ippool('pool.name', { cidr: netv4_4, assignmentMode: '' }), valid: false },
  // The three LoadBalancer rows below leave nodeSelector empty, which the bare validator also
  // rejects on a LoadBalancer pool; with clientv3's all() default each is still rejected for its own field.
  { cite: 'validator_test.go:1091', title: 'should reject IP pool with LoadBlancer and disableBGPExport true', resource: ippool('pool.name', { cidr: netv4_4, allowedUses: ['LoadBalancer'], disableBGPExport: true }), valid: false },
  { cite: 'validator_test.go:1102', title: 'should reject IP pool with LoadBlancer and VXLAN mode enabled', resource: ippool('pool.name', { cidr: netv4_4, allowedUses: ['LoadBalancer'], vxlanMode: 'Always' }), valid: false },
  { cite: 'validator_test.go:1113', title: 'should reject IP pool with LoadBlancer and IPIP mode enabled', resource: ippool('pool.name', { cidr: netv4_4, allowedUses: ['LoadBalancer'], ipipMode: 'Always' }), valid: false },
  { cite: 'validator_test.go:1124', title: 'should reject IP pool with LoadBlancer and nodeSelector other than all()', resource: ippool('pool.name', { cidr: netv4_4, allowedUses: ['LoadBalancer'], nodeSelector: '!all()' }), valid: false },
  { cite: 'validator_test.go:1135', title: 'should reject IP pool with Tunnel allowedUse and namespaceSelector', resource: ippool('pool.name', { cidr: netv4_4, allowedUses: ['Tunnel'], namespaceSelector: 'region == "east"' }), valid: false },
  { cite: 'validator_test.go:1146', title: 'should reject IP pool with Tunnel and Workload allowedUses and namespaceSelector', resource: ippool('pool.name', { cidr: netv4_4, allowedUses: ['Workload', 'Tunnel'], namespaceSelector: 'region == "east"' }), valid: false },
  { cite: 'validator_test.go:1158', title: 'should accept IP pool with Tunnel allowedUse and no namespaceSelector', resource: ippool('pool.name', { cidr: netv4_4, allowedUses: ['Tunnel'] }), valid: true },
  { cite: 'validator_test.go:1168', title: 'should reject IP pool with invalid nodeSelector (global)', resource: ippool('pool.name', { cidr: netv4_4, nodeSelector: 'global()' }), valid: false },
  { cite: 'validator_test.go:1176', title: 'should accept IP pool with valid nodeSelector', resource: ippool('pool.name', { cidr: netv4_4, nodeSelector: 'region == "east"' }), valid: true },
  { cite: 'validator_test.go:1184', title: 'should accept IP pool with complex nodeSelector', resource: ippool('pool.name', { cidr: netv4_4, nodeSelector: 'region == "east" && environment == "production"' }), valid: true },
  { cite: 'validator_test.go:1192', title: 'should accept IP pool with set-based nodeSelector', resource: ippool('pool.name', { cidr: netv4_4, nodeSelector: 'region in {"east", "west"}' }), valid: true },
  { cite: 'validator_test.go:1200', title: 'should accept IP pool with existence check nodeSelector', resource: ippool('pool.name', { cidr: netv4_4, nodeSelector: 'has(team)' }), valid: true },
  { cite: 'validator_test.go:1208', title: 'should accept IP pool with all() nodeSelector', resource: ippool('pool.name', { cidr: netv4_4, nodeSelector: 'all()' }), valid: true },
  { cite: 'validator_test.go:1216', title: 'should reject IP pool with invalid namespaceSelector (global)', resource: ippool('pool.name', { cidr: netv4_4, namespaceSelector: 'global()' }), valid: false },
  { cite: 'validator_test.go:1224', title: 'should accept IP pool with valid namespaceSelector', resource: ippool('pool.name', { cidr: netv4_4, namespaceSelector: 'region == "east"' }), valid: true, note: NS_DEFAULTING_NOTE, natfleet: false },
  { cite: 'validator_test.go:1232', title: 'should accept IP pool with complex namespaceSelector', resource: ippool('pool.name', { cidr: netv4_4, namespaceSelector: 'team == "backend" || team == "frontend"' }), valid: true, note: NS_DEFAULTING_NOTE, natfleet: false },
  { cite: 'validator_test.go:1240', title: 'should accept IP pool with substring namespaceSelector', resource: ippool('pool.name', { cidr: netv4_4, namespaceSelector: 'environment contains "prod"' }), valid: true, note: NS_DEFAULTING_NOTE, natfleet: false },

  // --- (API) IPIPMode / VXLANMode / v1 read-only fields: bare api.IPPoolSpec, wrapped ---
  { cite: 'validator_test.go:1293', title: 'should accept IPPool with no IPIP mode specified', resource: ippool('pool.name', { cidr: '1.2.3.0/24' }), valid: true },
  { cite: 'validator_test.go:1294', title: 'should accept IPIP mode Never (api)', resource: ippool('pool.name', { cidr: '1.2.3.0/24', ipipMode: 'Never', vxlanMode: 'Never' }), valid: true },
  { cite: 'validator_test.go:1295', title: 'should accept IPIP mode Never', resource: ippool('pool.name', { cidr: '1.2.3.0/24', ipipMode: 'Never' }), valid: true },
  { cite: 'validator_test.go:1296', title: 'should accept IPIP mode Always', resource: ippool('pool.name', { cidr: '1.2.3.0/24', ipipMode: 'Always' }), valid: true },
  { cite: 'validator_test.go:1297', title: 'should accept IPIP mode CrossSubnet', resource: ippool('pool.name', { cidr: '1.2.3.0/24', ipipMode: 'CrossSubnet' }), valid: true },
  { cite: 'validator_test.go:1298', title: 'should reject IPIP mode badVal', resource: ippool('pool.name', { cidr: '1.2.3.0/24', ipipMode: 'badVal' }), valid: false },
  { cite: 'validator_test.go:1299', title: 'should reject IPIP mode never (lower case)', resource: ippool('pool.name', { cidr: '1.2.3.0/24', ipipMode: 'never' }), valid: false },
  { cite: 'validator_test.go:1302', title: 'should reject IPIP mode and VXLAN mode', resource: ippool('pool.name', { cidr: '1.2.3.0/24', ipipMode: 'Always', vxlanMode: 'Always' }), valid: false },
  { cite: 'validator_test.go:1303', title: 'should accept VXLAN mode Always', resource: ippool('pool.name', { cidr: '1.2.3.0/24', vxlanMode: 'Always' }), valid: true },
  { cite: 'validator_test.go:1304', title: 'should accept VXLAN mode CrossSubnet', resource: ippool('pool.name', { cidr: '1.2.3.0/24', vxlanMode: 'CrossSubnet' }), valid: true },
  { cite: 'validator_test.go:1305', title: 'should accept VXLAN mode Never ', resource: ippool('pool.name', { cidr: '1.2.3.0/24', vxlanMode: 'Never' }), valid: true },
  { cite: 'validator_test.go:1306', title: 'should reject VXLAN mode never', resource: ippool('pool.name', { cidr: '1.2.3.0/24', vxlanMode: 'never' }), valid: false },
  { cite: 'validator_test.go:1307', title: 'should reject VXLAN mode badVal', resource: ippool('pool.name', { cidr: '1.2.3.0/24', vxlanMode: 'badVal' }), valid: false },
  // IPIP: nil is absent.
  { cite: 'validator_test.go:1310', title: 'should accept a nil IPIP field', resource: ippool('pool.name', { cidr: '1.2.3.0/24', ipipMode: 'Never' }), valid: true },
  { cite: 'validator_test.go:1311', title: 'should accept it when the IPIP field is not specified', resource: ippool('pool.name', { cidr: '1.2.3.0/24', ipipMode: 'Never' }), valid: true },
  // The APIv1 `ipip` object (JSON `ipip`, mode encap.Always = "always") must be nil.
  { cite: 'validator_test.go:1312', title: 'should reject a non-nil IPIP field', resource: ippool('pool.name', { cidr: '1.2.3.0/24', ipipMode: 'Never', ipip: { enabled: true, mode: 'always' } }), valid: false },
  // NATOutgoingV1 (JSON `nat-outgoing`) false is Go's zero value, so absent (Calico's title says "true").
  { cite: 'validator_test.go:1315', title: 'should accept NATOutgoingV1 field set to true', resource: ippool('pool.name', { cidr: '1.2.3.0/24', ipipMode: 'Never' }), valid: true },
  { cite: 'validator_test.go:1316', title: 'should accept it when the NATOutgoingV1 field is not specified', resource: ippool('pool.name', { cidr: '1.2.3.0/24', ipipMode: 'Never' }), valid: true },
  { cite: 'validator_test.go:1317', title: 'should reject NATOutgoingV1 field set to true', resource: ippool('pool.name', { cidr: '1.2.3.0/24', ipipMode: 'Never', 'nat-outgoing': true }), valid: false },

  // --- Object names: mapped from other kinds where the generic ObjectMeta name rule decides ---
  // api.GlobalNetworkSet (same name also at validator_test.go:474 for api.NetworkSet).
  { cite: 'validator_test.go:420', title: 'should reject GlobalNetworkSet with bad name', resource: ippool('test$set', { cidr: netv4_3 }), valid: false },
  // api.BGPPeerSpec{NodeSelector}: ':' is not a selector identifier character.
  { cite: 'validator_test.go:2136', title: 'should reject invalid BGPPeerSpec (selector)', resource: ippool('pool.name', { cidr: netv4_3, nodeSelector: "kubernetes.io/hostname: == 'casey-crc-kadm-node-4'" }), valid: false },
  // api.GlobalNetworkPolicy (the same three names recur at :2580-2588 StagedGlobalNetworkPolicy, and
  // :2730/:2732/:2889/:2894 NetworkPolicy; 253/254-char names at :2733/:2734/:2892/:2893 duplicate :670/:678).
  { cite: 'validator_test.go:2251', title: 'disallow name with invalid character', resource: ippool('t~!s.h.i.ng', { cidr: netv4_3 }), valid: false },
  { cite: 'validator_test.go:2252', title: 'disallow name with mixed case characters', resource: ippool('tHiNg', { cidr: netv4_3 }), valid: false },
  { cite: 'validator_test.go:2253', title: 'allow valid name', resource: ippool('thing', { cidr: netv4_3 }), valid: true },
  // api.EntityRule{Selector}: a selector that does not parse, mapped to nodeSelector.
  { cite: 'validator_test.go:3403', title: 'disallow bad selectors in EntityRule selector field', resource: ippool('pool.name', { cidr: netv4_3, nodeSelector: 'global() && bad' }), valid: false },

  // --- FelixConfigurationSpec.NATOutgoingAddress ---
  { cite: 'validator_test.go:3440', title: 'should not accept an invalid IP address', resource: felix({ natOutgoingAddress: bad_ipv4_1 }), valid: false },
  { cite: 'validator_test.go:3443', title: 'should not accept a masked IP', resource: felix({ natOutgoingAddress: netv4_1 }), valid: false },
  {
    cite: 'validator_test.go:3446', title: 'should not accept an IPV6 address', resource: felix({ natOutgoingAddress: ipv6_1 }), valid: false,
    note: 'natfleet deliberately accepts an IPv6 natOutgoingAddress: it NATs pools of both families and applies the address to pools of its own family (felix-validation.ts).',
    natfleet: true,
  },
  { cite: 'validator_test.go:3449', title: 'should accept a valid IP address', resource: felix({ natOutgoingAddress: ipv4_1 }), valid: true },

  // --- api.Template{NodeSelector} (KubeControllersConfiguration host endpoint templates), mapped to nodeSelector ---
  { cite: 'validator_test.go:3592', title: 'should allow a valid nodeSelector', resource: ippool('pool.name', { cidr: netv4_3, nodeSelector: 'foo == "bar"' }), valid: true },
  { cite: 'validator_test.go:3597', title: 'should disallow a invalid nodeSelector', resource: ippool('pool.name', { cidr: netv4_3, nodeSelector: 'this is not valid selector syntax' }), valid: false },

  // ===================== ippool_e2e_test.go =====================

  { cite: 'ippool_e2e_test.go:109', title: 'should error when creating an IPPool with no name', resource: { apiVersion: V3, kind: 'IPPool', metadata: {}, spec: { cidr: '192.168.0.0/16' } }, valid: false },

  // "IPPool e2e CRUD tests" (Entry "Two fully populated IPPoolSpecs", :398)
  { cite: 'ippool_e2e_test.go:147', title: 'Creating a new IPPool with name1/spec1', resource: ippool('ippool-1', spec1), valid: true },
  { cite: 'ippool_e2e_test.go:187', title: 'Creating a new IPPool with name2/spec2', resource: ippool('ippool-2', spec2), existing: [ippool('ippool-1', spec1)], valid: true },
  {
    cite: 'ippool_e2e_test.go:209', title: 'Updating IPPool name1 with spec1_2', resource: ippool('ippool-1', spec1_2), old: ippool('ippool-1', spec1),
    existing: [ippool('ippool-1', spec1), ippool('ippool-2', spec2)], valid: true,
  },
  // Stored through the backend, bypassing the client's defaulting; Get/List must accept it and default the modes to Never.
  { cite: 'ippool_e2e_test.go:349', title: "Adding an IPPool with empty string for IPIPMode and VXLANMode and expecting it to be defaulted to 'Never'", resource: ippool('ippool-3', spec3), valid: true },

  // "IPPool watch functionality"
  { cite: 'ippool_e2e_test.go:416', title: 'Configuring an IPPool name1/spec1 and storing the response', resource: ippool('ippool-1', spec1), valid: true },
  { cite: 'ippool_e2e_test.go:428', title: 'Configuring an IPPool name2/spec2 and storing the response', resource: ippool('ippool-2', spec2), existing: [ippool('ippool-1', spec1)], valid: true },
  { cite: 'ippool_e2e_test.go:473', title: 'Modifying res2', resource: ippool('ippool-2', spec2_1), old: ippool('ippool-2', spec2), valid: true },
  { cite: 'ippool_e2e_test.go:547', title: 'Configuring IPPool name1/spec1 again and storing the response', resource: ippool('ippool-1', spec1), existing: [ippool('ippool-2', spec2_1)], valid: true },

  // "Verify handling of VXLAN mode"
  { cite: 'ippool_e2e_test.go:607', title: 'should create/update an IPPool when VXLAN is missing', resource: ippool('ippool1', { cidr: '192.168.0.0/16' }), valid: true },
  // The pool Create returned, with VXLANMode set back to "" (absent).
  {
    cite: 'ippool_e2e_test.go:612', title: 'should create/update an IPPool when VXLAN is missing',
    resource: ippool('ippool1', { cidr: '192.168.0.0/16', ipipMode: 'Never', blockSize: 26, nodeSelector: 'all()', allowedUses: WT, assignmentMode: 'Automatic' }),
    old: ippool('ippool1', createdV4({ cidr: '192.168.0.0/16' })), valid: true,
  },
  { cite: 'ippool_e2e_test.go:626', title: 'Creating a non-VXLAN pool and verifying no felix configuration still and default VXLANMode set to Never', resource: ippool('ippool1', { cidr: '1.2.3.0/24' }), valid: true },
  // aa:bb::cc/120 has host bits set (not strictly masked).
  { cite: 'ippool_e2e_test.go:639', title: 'Attempting to create a VXLAN IPv6 pool and verifying no felix configuration still', resource: ippool('ippool1', { cidr: 'aa:bb::cc/120', vxlanMode: 'Always' }), existing: [ippool('ippool1', createdV4({ cidr: '1.2.3.0/24' }))], valid: false },
  { cite: 'ippool_e2e_test.go:653', title: 'Creating an VXLANModeAlways pool and verifying global felix config is not created', resource: ippool('ippool2', { cidr: '1.2.4.0/24', vxlanMode: 'Always' }), existing: [ippool('ippool1', createdV4({ cidr: '1.2.3.0/24' }))], valid: true },
  { cite: 'ippool_e2e_test.go:673', title: 'Creating a non-VXLAN pool and verifying no felix configuration still', resource: ippool('ippool1', { cidr: '1.2.3.0/24' }), valid: true },
  { cite: 'ippool_e2e_test.go:685', title: 'Updating the pool to enabled VXLAN and checking felix configuration is not added', resource: ippool('ippool1', createdV4({ cidr: '1.2.3.0/24', vxlanMode: 'Always' })), old: ippool('ippool1', createdV4({ cidr: '1.2.3.0/24' })), valid: true },
  { cite: 'ippool_e2e_test.go:695', title: 'Setting the global felix VXLAN enabled to false', resource: felix({ vxlanEnabled: false }), valid: true },
  { cite: 'ippool_e2e_test.go:705', title: 'Creating an VXLANModeAlways pool and verifying global felix config is not updated', resource: ippool('ippool1', { cidr: '1.2.4.0/24', vxlanMode: 'Always' }), valid: true },

  // "Verify handling of IPIP mode"
  { cite: 'ippool_e2e_test.go:747', title: 'Creating a non-IPIP pool and verifying no felix configuration still and default IPIPMode set to Never', resource: ippool('ippool1', { cidr: '1.2.3.0/24' }), valid: true },
  { cite: 'ippool_e2e_test.go:760', title: 'Attempting to create an IPIP IPv6 pool and verifying no felix configuration still', resource: ippool('ippool1', { cidr: 'aa:bb::cc/120', ipipMode: 'Always' }), existing: [ippool('ippool1', createdV4({ cidr: '1.2.3.0/24' }))], valid: false },
  { cite: 'ippool_e2e_test.go:774', title: 'Creating an IPIPModeAlways pool and verifying global felix config is not created', resource: ippool('ippool2', { cidr: '1.2.4.0/24', ipipMode: 'Always' }), existing: [ippool('ippool1', createdV4({ cidr: '1.2.3.0/24' }))], valid: true },
  { cite: 'ippool_e2e_test.go:794', title: 'Creating an IPIPModeCrossSubnet pool and verifying global felix config is not created', resource: ippool('ippool1', { cidr: '1.2.4.0/24', ipipMode: 'CrossSubnet' }), valid: true },
  { cite: 'ippool_e2e_test.go:814', title: 'Creating a non-IPIP pool and verifying no felix configuration still', resource: ippool('ippool1', { cidr: '1.2.3.0/24' }), valid: true },
  { cite: 'ippool_e2e_test.go:826', title: 'Updating the pool to enabled IPIP and checking felix configuration is not added', resource: ippool('ippool1', createdV4({ cidr: '1.2.3.0/24', ipipMode: 'Always' })), old: ippool('ippool1', createdV4({ cidr: '1.2.3.0/24' })), valid: true },
  { cite: 'ippool_e2e_test.go:836', title: 'Setting the global felix IPIP enabled to false', resource: felix({ ipipEnabled: false }), valid: true },
  { cite: 'ippool_e2e_test.go:846', title: 'Creating an IPIPModeCrossSubnet pool and verifying global felix config is not updated', resource: ippool('ippool1', { cidr: '1.2.4.0/24', ipipMode: 'CrossSubnet' }), valid: true },

  // "Verify pool CIDR validation"
  { cite: 'ippool_e2e_test.go:875', title: 'Creating a pool', resource: ippool('ippool1', { cidr: '1.2.3.0/24' }), valid: true },
  { cite: 'ippool_e2e_test.go:884', title: 'Attempting to change the CIDR', resource: ippool('ippool1', createdV4({ cidr: '1.2.4.0/24' })), old: ippool('ippool1', createdV4({ cidr: '1.2.3.0/24' })), valid: false },
  { cite: 'ippool_e2e_test.go:893', title: 'Creating a pool', resource: ippool('ippool1', { cidr: '1.2.3.0/24' }), valid: true },
  { cite: 'ippool_e2e_test.go:912', title: 'Attempting to create a pool with the same CIDR', resource: ippool('ippool2', { cidr: '1.2.3.0/24' }), existing: [ippool('ippool1', createdV4({ cidr: '1.2.3.0/24' }))], valid: false },
  { cite: 'ippool_e2e_test.go:923', title: 'Attempting to create a pool with a larger overlapping CIDR', resource: ippool('ippool3', { cidr: '1.2.0.0/16' }), existing: [ippool('ippool1', createdV4({ cidr: '1.2.3.0/24' }))], valid: false },
  { cite: 'ippool_e2e_test.go:934', title: 'Attempting to create a pool with a smaller overlapping CIDR', resource: ippool('ippool4', { cidr: '1.2.3.128/25' }), existing: [ippool('ippool1', createdV4({ cidr: '1.2.3.0/24' }))], valid: false },

  // "Verify pool blocksize validation"
  { cite: 'ippool_e2e_test.go:961', title: 'Creating a pool', resource: ippool('ippool1', { cidr: '1.2.3.0/24', blockSize: 25 }), valid: true },
  { cite: 'ippool_e2e_test.go:971', title: 'Attempting to change the blockSize', resource: ippool('ippool1', createdV4({ cidr: '1.2.3.0/24', blockSize: 26 })), old: ippool('ippool1', createdV4({ cidr: '1.2.3.0/24', blockSize: 25 })), valid: false },
  { cite: 'ippool_e2e_test.go:980', title: 'should prevent pools from being created with bad block sizes', resource: ippool('ippool1', { cidr: '1.2.3.0/24', blockSize: 19 }), valid: false },
  { cite: 'ippool_e2e_test.go:991', title: 'should prevent pools from being created with bad block sizes', resource: ippool('ippool1', { cidr: '1.2.3.0/24', blockSize: 33 }), valid: false },
  { cite: 'ippool_e2e_test.go:1004', title: 'Creating a pool', resource: ippool('ippool1', { cidr: '1.2.3.0/24', blockSize: 25 }), valid: true },
  { cite: 'ippool_e2e_test.go:1014', title: 'Attempting to create a pool with the same CIDR', resource: ippool('ippool2', { cidr: '1.2.3.0/24', blockSize: 25 }), existing: [ippool('ippool1', createdV4({ cidr: '1.2.3.0/24', blockSize: 25 }))], valid: false },
  { cite: 'ippool_e2e_test.go:1026', title: 'Attempting to create a pool half overlapping CIDR and a different block size', resource: ippool('ippool3', { cidr: '1.2.3.8/31' }), existing: [ippool('ippool1', createdV4({ cidr: '1.2.3.0/24', blockSize: 25 }))], valid: false },

  // "IPPool tests (etcd only)": "Verify pool creation with changing blocksizes"
  { cite: 'ippool_e2e_test.go:1057', title: 'Creating a pool with the default blockSize', resource: ippool('ippool1', { cidr: '1.2.3.0/26' }), valid: true },
  // ippool1 was deleted; a /26 block stays allocated in 1.2.3.0/26.
  { cite: 'ippool_e2e_test.go:1085', title: 'creating a pool with a different blockSize', resource: ippool('ippool1', { cidr: '1.2.3.0/26', blockSize: 28 }), valid: false, note: IPAM_NOTE, natfleet: true },
  { cite: 'ippool_e2e_test.go:1095', title: 'creating a pool with the same blockSize', resource: ippool('ippool1', { cidr: '1.2.3.0/26', blockSize: 26 }), valid: true },
  { cite: 'ippool_e2e_test.go:1109', title: 'creating a pool with a different blockSize that overlaps', resource: ippool('ippool1', { cidr: '1.2.2.0/23', blockSize: 28 }), valid: false, note: IPAM_NOTE, natfleet: true },
  { cite: 'ippool_e2e_test.go:1119', title: 'deleting the block and creating a pool with a different blockSize', resource: ippool('ippool1', { cidr: '1.2.3.0/26', blockSize: 28 }), valid: true },
  { cite: 'ippool_e2e_test.go:1134', title: 'Creating a pool with the default blockSize', resource: ippool('ippool1', { cidr: '1.2.3.0/24' }), valid: true },
  { cite: 'ippool_e2e_test.go:1153', title: 'creating a pool with a different cidr and block size', resource: ippool('ippool2', { cidr: '1.2.4.0/24', blockSize: 29 }), existing: [ippool('ippool1', createdV4({ cidr: '1.2.3.0/24' }))], valid: true },
  {
    cite: 'ippool_e2e_test.go:1170', title: 'modifying the second IP pool', resource: ippool('ippool2', createdV4({ cidr: '1.2.4.0/24', blockSize: 29, natOutgoing: true })),
    old: ippool('ippool2', createdV4({ cidr: '1.2.4.0/24', blockSize: 29 })), existing: [ippool('ippool1', createdV4({ cidr: '1.2.3.0/24' })), ippool('ippool2', createdV4({ cidr: '1.2.4.0/24', blockSize: 29 }))], valid: true,
  },

  // ===================== ippool_test.go (TestValidateAndSetDefaults_CIDRComparison) =====================
  // Update of pool "test-pool" from oldCIDR to newCIDR, both with the case's blockSize.
  { cite: 'ippool_test.go:131', title: 'IPv6 same network different representation - should succeed', resource: ippool('test-pool', { cidr: '2001:cafe:42::/56', blockSize: 122 }), old: ippool('test-pool', { cidr: '2001:cafe:42::00/56', blockSize: 122 }), valid: true },
  { cite: 'ippool_test.go:139', title: 'IPv6 expanded vs compressed - should succeed', resource: ippool('test-pool', { cidr: '2001:db8:85a3::/64', blockSize: 122 }), old: ippool('test-pool', { cidr: '2001:0db8:85a3:0000:0000:0000:0000:0000/64', blockSize: 122 }), valid: true },
  { cite: 'ippool_test.go:147', title: 'IPv6 different networks - should fail', resource: ippool('test-pool', { cidr: '2001:cafe:43::/56', blockSize: 122 }), old: ippool('test-pool', { cidr: '2001:cafe:42::/56', blockSize: 122 }), valid: false },
  { cite: 'ippool_test.go:155', title: 'IPv6 different prefix length - should fail', resource: ippool('test-pool', { cidr: '2001:cafe:42::/64', blockSize: 122 }), old: ippool('test-pool', { cidr: '2001:cafe:42::/56', blockSize: 122 }), valid: false },
  { cite: 'ippool_test.go:163', title: 'IPv4 same CIDR - should succeed', resource: ippool('test-pool', { cidr: '192.168.1.0/24', blockSize: 26 }), old: ippool('test-pool', { cidr: '192.168.1.0/24', blockSize: 26 }), valid: true },
  { cite: 'ippool_test.go:171', title: 'IPv4 different networks - should fail', resource: ippool('test-pool', { cidr: '192.168.2.0/24', blockSize: 26 }), old: ippool('test-pool', { cidr: '192.168.1.0/24', blockSize: 26 }), valid: false },
  { cite: 'ippool_test.go:179', title: 'IPv4 different prefix - should fail', resource: ippool('test-pool', { cidr: '192.168.1.0/25', blockSize: 26 }), old: ippool('test-pool', { cidr: '192.168.1.0/24', blockSize: 26 }), valid: false },
];
