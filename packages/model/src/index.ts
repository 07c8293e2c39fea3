// Public API of @natfleet/model: the Calico-v3-compatible resource model (IPPool,
// FelixConfiguration, Node), parsing, defaulting and validation, etcd key layout and the
// CIDR arithmetic the compiler builds on. Names are re-exported one by one on purpose.

export {
  NatfleetModelError,
  ParseError,
  ValidationError,
  CidrError,
  formatIssues,
  isNatfleetModelError,
  isParseError,
  isValidationError,
  isCidrError,
  SelectorError,
  isSelectorError,
  BatchTooLargeError,
  isBatchTooLargeError,
} from './errors.js';
export type { ModelErrorCode, ParseLocation, FieldIssue } from './errors.js';

export {
  familyBits,
  tryParseIp,
  parseIp,
  formatIp,
  makeCidr,
  parseCidr,
  tryParseCidr,
  formatCidr,
  normaliseCidr,
  rangeOf,
  cidrContains,
  addressInCidr,
  cidrsOverlap,
  cidrEquals,
  longestPrefixMatch,
  compareCidrs,
  sortCidrs,
} from './cidr.js';
export type { IpFamily, IpAddress, Cidr, ParseCidrOptions } from './cidr.js';

export { mergeRanges, rangeToCidrs, minimalCover, subtract, intersect } from './cidr-set.js';
export type { IpRange } from './cidr-set.js';

export {
  API_VERSION,
  RESOURCE_KINDS,
  ENCAP_MODES,
  ALLOWED_USES,
  ASSIGNMENT_MODES,
  NAT_OUTGOING_EXCLUSIONS,
  NODE_ADDRESS_TYPES,
  POOL_DEFAULTS,
  BLOCK_SIZE_RANGE,
  nodeAddresses,
} from './resources.js';
export type {
  ResourceKind,
  EncapMode,
  AllowedUse,
  AssignmentMode,
  NatOutgoingExclusions,
  NodeAddressType,
  ObjectMeta,
  IPPoolSpec,
  IPPool,
  FelixConfigurationSpec,
  FelixConfiguration,
  NodeAddress,
  NodeSpec,
  Node,
  Resource,
  RawResource,
} from './resources.js';

export { DEFAULT_KEY_PREFIX, KIND_PLURALS, resourceKey, kindKeyPrefix, parseResourceKey } from './resources.js';
export type { ResourceKeyParts } from './resources.js';

export { parseResources, parseStoredValue, MAX_NESTING_DEPTH } from './parse.js';
export type { InputFormat, ParseResourcesOptions, ParseStoredValueOptions } from './parse.js';

export type { ValidationResult, ResourceOrigin, UnknownFieldPolicy } from './field-checks.js';
export { fieldProblems, nearestName, editDistance } from './strict-fields.js';
export type { FieldProblem } from './strict-fields.js';
export { dns1123SubdomainProblem, isDns1123Subdomain, MAX_ANNOTATIONS_BYTES } from './name-validation.js';

export { defaultPool, validatePool, validatePoolOrThrow, poolSelectorProblem } from './pool-validation.js';
export { parseSelector, trySelector, printSelector, selectorUsesGlobal, isAllSelector, selectorMatches } from './selector.js';
export type { SelectorNode } from './selector.js';
export type { IPPoolInput, ValidatePoolOptions } from './pool-validation.js';
export { validatePoolUpdate, validatePoolUpdateOrThrow } from './pool-validation.js';

export {
  validateFelixConfiguration,
  validateFelixConfigurationOrThrow,
  parsePortRange,
  formatPortRange,
  interfaceFilterProblem,
} from './felix-validation.js';
export type { PortRange } from './felix-validation.js';
export { NAT_DEFAULTS, felixConfigScope, natFieldsOf } from './felix-validation.js';
export type { NatFields } from './felix-validation.js';

export { validateNode, validateNodeOrThrow, hostAddressProblem } from './node-validation.js';

export {
  validateResource,
  validateResourceOrThrow,
  validateResources,
  validateResourcesOrThrow,
} from './resource-validation.js';
export type { ValidateResourceOptions, ValidateResourcesOptions } from './resource-validation.js';
export { validateRolloutPolicy, parseDuration, rolloutPolicyKey, rolloutPolicyKeyPrefix, natfleetPrefixOverlapsCalico, DEFAULT_NATFLEET_KEY_PREFIX, NATFLEET_API_VERSION, ROLLOUT_POLICY_KIND, ROLLOUT_POLICY_DEFAULTS, ON_FAILURE_ACTIONS } from './rollout-policy.js';
export type { RolloutPolicy, RolloutPolicySpec, RolloutWave, RolloutGates, RolloutHealthCommand, OnFailureAction } from './rollout-policy.js';
