// Every JSON field Calico v3.31 defines for the kinds natfleet stores, so that natfleet can
// decode strictly (as calicoctl does) and reject unknown or misspelt fields.
//
// Transcribed from projectcalico/calico tag v3.31.7 (commit 94bd1d5b0e04459d4d1c83653e0335a9201248b8,
// the newest v3.31 patch release), JSON tag names exactly, Go source order:
//   api/pkg/apis/projectcalico/v3/ippool.go       IPPool, IPPoolSpec, IPIPConfiguration
//   api/pkg/apis/projectcalico/v3/felixconfig.go  FelixConfiguration, FelixConfigurationSpec,
//                                                 HealthTimeoutOverride, ProtoPort, RouteTableRange,
//                                                 RouteTableIDRange, BPFConntrackTimeouts
//   libcalico-go/lib/apis/v3/node.go              Node, NodeSpec, NodeStatus, NodeBGPSpec,
//                                                 NodeWireguardSpec, OrchRef, NodeAddress, NodeInterface
//                                                 (Node is not in api/pkg/apis/projectcalico/v3)
//   libcalico-go/lib/validator/v3/validator.go    mustBeNil / mustBeFalse (deprecated v1 fields)
// and k8s.io/apimachinery pkg/apis/meta/v1/types.go (TypeMeta, ObjectMeta, OwnerReference,
// ManagedFieldsEntry; Calico v3.31.7 pins apimachinery v0.33.13).
// Between v3.31.0 and v3.31.7 the only change to these types is FelixConfigurationSpec's
// logActionRateLimit and logActionRateLimitBurst, added in v3.31.4; they are included.
//
// Owns: field names and nesting only — no rules. Types, values and required fields belong to
// the *-validation modules; walking a resource against these tables belongs to strict-fields.ts.
// Never: I/O.

/** The shape of one JSON value, as far as field names go. */
export type FieldShape =
  /** A scalar, or a value natfleet does not descend into (numorstring.Port/ASNumber, metav1.Duration/Time, …). */
  | { readonly t: 'leaf' }
  /** A Go struct: only these keys are allowed. */
  | { readonly t: 'object'; readonly fields: Readonly<Record<string, FieldShape>> }
  /** A Go slice. */
  | { readonly t: 'list'; readonly of: FieldShape }
  /** A Go map with free-form keys. */
  | { readonly t: 'map'; readonly of: FieldShape };

export const leaf: FieldShape = Object.freeze({ t: 'leaf' });

export function obj(fields: Readonly<Record<string, FieldShape>>): FieldShape {
  return Object.freeze({ t: 'object', fields: Object.freeze({ ...fields }) });
}

export function list(of: FieldShape): FieldShape {
  return Object.freeze({ t: 'list', of });
}

export function map(of: FieldShape): FieldShape {
  return Object.freeze({ t: 'map', of });
}

// ---- Kubernetes metav1 -------------------------------------------------------------------

/** metav1.TypeMeta, inlined into every resource. */
const TYPE_META: Readonly<Record<string, FieldShape>> = { kind: leaf, apiVersion: leaf };

/** metav1.ObjectMeta (clusterName is a tombstone since k8s 1.25, so it is absent). */
export const OBJECT_META: FieldShape = obj({
  name: leaf,
  generateName: leaf,
  namespace: leaf,
  selfLink: leaf,
  uid: leaf,
  resourceVersion: leaf,
  generation: leaf,
  creationTimestamp: leaf, // metav1.Time: an RFC 3339 string
  deletionTimestamp: leaf,
  deletionGracePeriodSeconds: leaf,
  labels: map(leaf),
  annotations: map(leaf),
  ownerReferences: list(obj({ apiVersion: leaf, kind: leaf, name: leaf, uid: leaf, controller: leaf, blockOwnerDeletion: leaf })),
  finalizers: list(leaf),
  // ManagedFieldsEntry; fieldsV1 is free-form (a serialised field set), so not descended into.
  managedFields: list(obj({
    manager: leaf, operation: leaf, apiVersion: leaf, time: leaf, fieldsType: leaf, fieldsV1: leaf, subresource: leaf,
  })),
});

// ---- IPPool (ippool.go) ------------------------------------------------------------------

/** IPPoolSpec. IPPool has no status in v3.31. */
export const IPPOOL_SPEC: FieldShape = obj({
  cidr: leaf,
  vxlanMode: leaf,
  ipipMode: leaf,
  natOutgoing: leaf,
  disabled: leaf,
  disableBGPExport: leaf,
  blockSize: leaf,
  nodeSelector: leaf,
  namespaceSelector: leaf, // new in v3.31 (#10888)
  // Deprecated v1 fields, still declared on the v3 type but rejected by the validator; see
  // DEPRECATED_V1_FIELDS. `ipip` is *IPIPConfiguration, `nat-outgoing` is a bool.
  ipip: obj({ enabled: leaf, mode: leaf }),
  'nat-outgoing': leaf,
  allowedUses: list(leaf),
  assignmentMode: leaf,
});

// ---- FelixConfiguration (felixconfig.go) ---------------------------------------------------

/** ProtoPort, the element of failsafeInboundHostPorts / failsafeOutboundHostPorts. */
const PROTO_PORT: FieldShape = obj({ protocol: leaf, port: leaf, net: leaf });
/** RouteTableRange (routeTableRange) and RouteTableIDRange (elements of routeTableRanges). */
const ROUTE_TABLE_RANGE: FieldShape = obj({ min: leaf, max: leaf });
/** BPFConntrackTimeouts; each value is a BPFConntrackTimeout string ("Auto" or a duration). */
const BPF_CONNTRACK_TIMEOUTS: FieldShape = obj({
  creationGracePeriod: leaf, tcpSynSent: leaf, tcpEstablished: leaf, tcpFinsSeen: leaf,
  tcpResetSeen: leaf, udpTimeout: leaf, genericTimeout: leaf, icmpTimeout: leaf,
});

/**
 * FelixConfigurationSpec: all 170 fields of Calico v3.31.7 in Go order, then natfleet's own two.
 * JSON names that differ from the Go field name: externalNodesList (ExternalNodesCIDRList),
 * bpfConntrackMode (BPFConntrackCleanupMode), wireguardKeepAlive (WireguardPersistentKeepAlive),
 * bpfMapSizePerCpuConntrack (BPFMapSizePerCPUConntrack). FelixConfiguration has no status.
 */
export const FELIX_CONFIGURATION_SPEC: FieldShape = obj({
  useInternalDataplaneDriver: leaf,
  dataplaneDriver: leaf,
  dataplaneWatchdogTimeout: leaf,
  ipv6Support: leaf,
  routeRefreshInterval: leaf,
  interfaceRefreshInterval: leaf,
  iptablesRefreshInterval: leaf,
  iptablesPostWriteCheckInterval: leaf,
  iptablesLockFilePath: leaf,
  iptablesLockTimeout: leaf,
  iptablesLockProbeInterval: leaf,
  featureDetectOverride: leaf,
  featureGates: leaf,
  ipsetsRefreshInterval: leaf,
  maxIpsetSize: leaf,
  iptablesBackend: leaf,
  xdpRefreshInterval: leaf,
  netlinkTimeout: leaf,
  metadataAddr: leaf,
  metadataPort: leaf,
  openstackRegion: leaf,
  interfacePrefix: leaf,
  interfaceExclude: leaf,
  chainInsertMode: leaf,
  defaultEndpointToHostAction: leaf,
  iptablesFilterAllowAction: leaf,
  iptablesMangleAllowAction: leaf,
  iptablesFilterDenyAction: leaf,
  logPrefix: leaf,
  logActionRateLimit: leaf,
  logActionRateLimitBurst: leaf,
  logFilePath: leaf,
  logSeverityFile: leaf,
  logSeverityScreen: leaf,
  logSeveritySys: leaf,
  logDebugFilenameRegex: leaf,
  ipipEnabled: leaf,
  ipipMTU: leaf,
  vxlanEnabled: leaf,
  vxlanMTU: leaf,
  vxlanMTUV6: leaf,
  vxlanPort: leaf,
  vxlanVNI: leaf,
  allowVXLANPacketsFromWorkloads: leaf,
  allowIPIPPacketsFromWorkloads: leaf,
  reportingInterval: leaf,
  reportingTTL: leaf,
  endpointReportingEnabled: leaf,
  endpointReportingDelay: leaf,
  endpointStatusPathPrefix: leaf,
  iptablesMarkMask: leaf,
  disableConntrackInvalidCheck: leaf,
  healthEnabled: leaf,
  healthHost: leaf,
  healthPort: leaf,
  healthTimeoutOverrides: list(obj({ name: leaf, timeout: leaf })),
  prometheusMetricsEnabled: leaf,
  prometheusMetricsHost: leaf,
  prometheusMetricsPort: leaf,
  prometheusGoMetricsEnabled: leaf,
  prometheusProcessMetricsEnabled: leaf,
  prometheusWireGuardMetricsEnabled: leaf,
  failsafeInboundHostPorts: list(PROTO_PORT),
  failsafeOutboundHostPorts: list(PROTO_PORT),
  kubeNodePortRanges: list(leaf),
  policySyncPathPrefix: leaf,
  usageReportingEnabled: leaf,
  usageReportingInitialDelay: leaf,
  usageReportingInterval: leaf,
  natPortRange: leaf,
  natOutgoingAddress: leaf,
  natOutgoingExclusions: leaf,
  deviceRouteSourceAddress: leaf,
  deviceRouteSourceAddressIPv6: leaf,
  deviceRouteProtocol: leaf,
  removeExternalRoutes: leaf,
  programClusterRoutes: leaf,
  ipForwarding: leaf,
  externalNodesList: list(leaf),
  debugMemoryProfilePath: leaf,
  debugDisableLogDropping: leaf,
  debugSimulateCalcGraphHangAfter: leaf,
  debugSimulateDataplaneHangAfter: leaf,
  debugSimulateDataplaneApplyDelay: leaf,
  debugHost: leaf,
  debugPort: leaf,
  iptablesNATOutgoingInterfaceFilter: leaf,
  sidecarAccelerationEnabled: leaf,
  xdpEnabled: leaf,
  genericXDPEnabled: leaf,
  nftablesMode: leaf,
  nftablesRefreshInterval: leaf,
  nftablesFilterAllowAction: leaf,
  nftablesMangleAllowAction: leaf,
  nftablesFilterDenyAction: leaf,
  nftablesMarkMask: leaf,
  bpfEnabled: leaf,
  bpfDisableUnprivileged: leaf,
  bpfJITHardening: leaf,
  bpfLogLevel: leaf,
  bpfConntrackLogLevel: leaf,
  bpfConntrackMode: leaf,
  bpfConntrackTimeouts: BPF_CONNTRACK_TIMEOUTS,
  bpfLogFilters: map(leaf),
  bpfCTLBLogFilter: leaf,
  bpfDataIfacePattern: leaf,
  bpfL3IfacePattern: leaf,
  bpfConnectTimeLoadBalancingEnabled: leaf,
  bpfConnectTimeLoadBalancing: leaf,
  bpfHostNetworkedNATWithoutCTLB: leaf,
  bpfExternalServiceMode: leaf,
  bpfDSROptoutCIDRs: list(leaf),
  bpfExtToServiceConnmark: leaf,
  bpfKubeProxyIptablesCleanupEnabled: leaf,
  bpfKubeProxyMinSyncPeriod: leaf,
  bpfKubeProxyHealthzPort: leaf,
  bpfKubeProxyEndpointSlicesEnabled: leaf,
  bpfPSNATPorts: leaf,
  bpfMapSizeNATFrontend: leaf,
  bpfMapSizeNATBackend: leaf,
  bpfMapSizeNATAffinity: leaf,
  bpfMapSizeRoute: leaf,
  bpfMapSizeConntrack: leaf,
  bpfMapSizePerCpuConntrack: leaf,
  bpfMapSizeConntrackScaling: leaf,
  bpfMapSizeConntrackCleanupQueue: leaf,
  bpfMapSizeIPSets: leaf,
  bpfMapSizeIfState: leaf,
  bpfHostConntrackBypass: leaf,
  bpfEnforceRPF: leaf,
  bpfPolicyDebugEnabled: leaf,
  bpfForceTrackPacketsFromIfaces: list(leaf),
  bpfDisableGROForIfaces: leaf,
  bpfExcludeCIDRsFromNAT: list(leaf),
  bpfExportBufferSizeMB: leaf,
  cgroupV2Path: leaf,
  flowLogsPolicyEvaluationMode: leaf,
  bpfRedirectToPeer: leaf,
  bpfAttachType: leaf,
  flowLogsFlushInterval: leaf,
  flowLogsCollectorDebugTrace: leaf,
  flowLogsGoldmaneServer: leaf,
  flowLogsLocalReporter: leaf,
  bpfProfiling: leaf,
  routeSource: leaf,
  routeTableRanges: list(ROUTE_TABLE_RANGE),
  routeTableRange: ROUTE_TABLE_RANGE,
  routeSyncDisabled: leaf,
  wireguardEnabled: leaf,
  wireguardEnabledV6: leaf,
  wireguardThreadingEnabled: leaf,
  wireguardListeningPort: leaf,
  wireguardListeningPortV6: leaf,
  wireguardRoutingRulePriority: leaf,
  wireguardInterfaceName: leaf,
  wireguardInterfaceNameV6: leaf,
  wireguardMTU: leaf,
  wireguardMTUV6: leaf,
  wireguardHostEncryptionEnabled: leaf,
  wireguardKeepAlive: leaf,
  awsSrcDstCheck: leaf,
  serviceLoopPrevention: leaf,
  workloadSourceSpoofing: leaf,
  mtuIfacePattern: leaf,
  floatingIPs: leaf,
  windowsManageFirewallRules: leaf,
  goGCThreshold: leaf,
  goMemoryLimitMB: leaf,
  goMaxProcs: leaf,
  requireMTUFile: leaf,
  // natfleet extensions (not in Calico): natfleet's own NAT knobs, accepted on
  // FelixConfiguration spec alongside Calico's fields.
  natOutgoingInterfaceFilter: leaf,
  natOutgoingFullyRandom: leaf,
});

// ---- Node (libcalico-go/lib/apis/v3/node.go) ------------------------------------------------

/** NodeSpec. */
export const NODE_SPEC: FieldShape = obj({
  // NodeBGPSpec; asNumber is a numorstring.ASNumber (number or "a.b" string).
  bgp: obj({ asNumber: leaf, ipv4Address: leaf, ipv6Address: leaf, ipv4IPIPTunnelAddr: leaf, routeReflectorClusterID: leaf }),
  ipv4VXLANTunnelAddr: leaf,
  vxlanTunnelMACAddr: leaf,
  ipv6VXLANTunnelAddr: leaf,
  vxlanTunnelMACAddrV6: leaf,
  orchRefs: list(obj({ nodeName: leaf, orchestrator: leaf })),
  wireguard: obj({ interfaceIPv4Address: leaf, interfaceIPv6Address: leaf }),
  addresses: list(obj({ address: leaf, type: leaf })),
  interfaces: list(obj({ name: leaf, addresses: list(leaf) })),
});

/** NodeStatus. */
export const NODE_STATUS: FieldShape = obj({
  wireguardPublicKey: leaf,
  wireguardPublicKeyV6: leaf,
  podCIDRs: list(leaf),
});

// ---- Resources ----------------------------------------------------------------------------

/** Top-level shape per kind: apiVersion, kind, metadata, spec (and status where Calico's type has one). */
export const RESOURCE_FIELDS: Readonly<Record<'IPPool' | 'FelixConfiguration' | 'Node', FieldShape>> = Object.freeze({
  IPPool: obj({ ...TYPE_META, metadata: OBJECT_META, spec: IPPOOL_SPEC }),
  FelixConfiguration: obj({ ...TYPE_META, metadata: OBJECT_META, spec: FELIX_CONFIGURATION_SPEC }),
  Node: obj({ ...TYPE_META, metadata: OBJECT_META, spec: NODE_SPEC, status: NODE_STATUS }),
});

/**
 * Calico's deprecated v1 fields still declared on the v3 types but rejected by its validator,
 * path relative to the resource root → the message natfleet shows. In ippool.go both carry
 * "Deprecated: this field is only used for APIv1 backwards compatibility. Setting this field is
 * not allowed, this field is for internal use only.", with
 *   IPIP          *IPIPConfiguration `json:"ipip,omitempty" validate:"omitempty,mustBeNil"`
 *   NATOutgoingV1 bool               `json:"nat-outgoing,omitempty" validate:"omitempty,mustBeFalse"`
 * and validator.go: validateMustBeNil returns fl.Field().IsNil(); validateMustBeFalse returns
 * !fl.Field().Bool(). So Calico rejects any `ipip` object (even `{}`) and `nat-outgoing: true`;
 * `nat-outgoing: false` and an absent/null `ipip` pass. No other deprecated v1 field is rejected
 * on these kinds (Node and FelixConfiguration have none).
 */
export const DEPRECATED_V1_FIELDS: Readonly<Record<string, string>> = Object.freeze({
  'spec.ipip': "Calico's deprecated v1 field, refused by Calico v3 (mustBeNil); use spec.ipipMode (Always, CrossSubnet or Never)",
  'spec.nat-outgoing': "Calico's deprecated v1 field, refused by Calico v3 and never read (the pool would not NAT); use spec.natOutgoing: true",
});
