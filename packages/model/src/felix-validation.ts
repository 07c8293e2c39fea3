// FelixConfiguration: validation of the NAT fields natfleet enforces, and the effective
// NAT settings they add up to.
//
// Owns: the resource name rule (`default` or `node.<nodename>`; `default` is fleet-wide,
// `node.<name>` overrides it field by field on that node only), the syntax of
// natOutgoingAddress, natPortRange, natOutgoingExclusions, natOutgoingInterfaceFilter,
// Calico's iptablesNATOutgoingInterfaceFilter and natOutgoingFullyRandom, and the defaults
// of unset NAT fields. Every other Felix field is kept untouched and not checked (natfleet
// does not use them). Never: I/O or logging.
import { formatIp, tryParseIp } from './cidr.js';
import { ValidationError } from './errors.js';
import {
  IssueList, type JsonObject, type ResourceOrigin, type ValidationResult, readBoolean, readEnum, readString,
  failureOf, resourceLabel, resultOf, typeName,
} from './field-checks.js';
import { checkEnvelope } from './name-validation.js';
import {
  type FelixConfiguration, type FelixConfigurationSpec, NAT_OUTGOING_EXCLUSIONS, type NatOutgoingExclusions,
} from './resources.js';

/** An inclusive port range. */
export interface PortRange {
  readonly min: number;
  readonly max: number;
}

const PORT_RANGE = /^(0|[1-9]\d*)(?::(0|[1-9]\d*))?$/;

/**
 * Parses a natPortRange value: `"a:b"`, `"a"` (meaning a:a) or an integer, as Calico's
 * numorstring.Port accepts. Returns the range, or a reason string when the value is not a
 * range of ports 1–65535 with min ≤ max. Named ports are not meaningful here and rejected.
 */
export function parsePortRange(value: unknown): PortRange | string {
  let min: number;
  let max: number;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return `must be a port or "min:max" range (got ${value})`;
    min = max = value;
  } else if (typeof value === 'string') {
    const m = PORT_RANGE.exec(value);
    if (m === null) return `must be a port or "min:max" range (got ${JSON.stringify(value)})`;
    min = Number(m[1]);
    max = m[2] === undefined ? min : Number(m[2]);
  } else {
    return `must be a string "min:max" or a port number (got ${typeName(value)})`;
  }
  if (min < 1 || max > 65535 || min > 65535 || max < 1) return `ports must be between 1 and 65535 (got ${min}:${max})`;
  if (min > max) return `range start must not exceed its end (got ${min}:${max})`;
  return { min, max };
}

/** Formats a port range in its normalised form `"min:max"`. */
export function formatPortRange(range: PortRange): string {
  return `${range.min}:${range.max}`;
}

const IFNAME_FORBIDDEN = /[/:\s'"`\\]/;

/**
 * Why `filter` is not a valid natfleet interface filter, or `undefined` when it is. Valid:
 * a Linux interface name (1–15 characters, not `.` or `..`, no `/`, `:` or whitespace —
 * the kernel's dev_valid_name — and no quotes or backslashes, which nft quoting cannot
 * carry), optionally ending in one `*` wildcard as nft `oifname "eth*"` allows. A lone
 * `*` is rejected: leave the filter unset to match every interface.
 */
export function interfaceFilterProblem(filter: string): string | undefined {
  if (filter.length === 0 || filter.length > 15) return `must be 1-15 characters (got ${filter.length})`;
  if (filter === '*') return 'a lone * matches everything; leave the filter unset instead';
  if (filter === '.' || filter === '..') return `${filter} is not a valid interface name`;
  if (IFNAME_FORBIDDEN.test(filter)) return "must not contain '/', ':', whitespace, quotes or backslashes";
  const star = filter.indexOf('*');
  if (star >= 0 && star !== filter.length - 1) return "'*' is only allowed as the last character";
  return undefined;
}

// Calico's ifaceFilter rule for iptablesNATOutgoingInterfaceFilter (iptables syntax, '+' wildcard).
const CALICO_IFACE_FILTER = /^[a-zA-Z0-9:._+-]{1,15}$/;

function checkName(issues: IssueList, name: string | undefined): void {
  if (name === undefined) return; // already reported by the envelope check
  if (name === 'default') return;
  if (name.startsWith('node.') && name.length > 'node.'.length) return;
  issues.add('metadata.name', 'must be default or node.<nodename>', name);
}

function checkNatFields(issues: IssueList, spec: JsonObject): void {
  // Calico accepts only IPv4 here (it SNATs IPv4 only). natfleet also accepts IPv6 since
  // its pools of both families NAT; an address applies to pools of its own family.
  const addr = readString(issues, spec, 'natOutgoingAddress', 'spec.natOutgoingAddress');
  if (addr !== undefined) {
    const ip = tryParseIp(addr);
    if (ip === undefined) issues.add('spec.natOutgoingAddress', 'must be a valid IP address', addr);
    else spec['natOutgoingAddress'] = formatIp(ip);
  }

  const ports = spec['natPortRange'];
  if (ports !== undefined && ports !== null && ports !== '') {
    const r = parsePortRange(ports);
    if (typeof r === 'string') issues.add('spec.natPortRange', r, ports);
    else spec['natPortRange'] = formatPortRange(r);
  }

  readEnum(issues, spec, 'natOutgoingExclusions', 'spec.natOutgoingExclusions', NAT_OUTGOING_EXCLUSIONS);

  const filter = readString(issues, spec, 'natOutgoingInterfaceFilter', 'spec.natOutgoingInterfaceFilter');
  const filterProblem = filter === undefined ? undefined : interfaceFilterProblem(filter);
  if (filterProblem !== undefined) issues.add('spec.natOutgoingInterfaceFilter', filterProblem, filter);

  const ipt = readString(issues, spec, 'iptablesNATOutgoingInterfaceFilter', 'spec.iptablesNATOutgoingInterfaceFilter');
  if (ipt !== undefined && !CALICO_IFACE_FILTER.test(ipt)) {
    issues.add(
      'spec.iptablesNATOutgoingInterfaceFilter',
      "must be 1-15 characters from a-z, A-Z, 0-9, ':', '.', '_', '+', '-'",
      ipt,
    );
  }

  readBoolean(issues, spec, 'natOutgoingFullyRandom', 'spec.natOutgoingFullyRandom');
}

/**
 * Validates a FelixConfiguration: envelope, name (`default` or `node.<nodename>`) and the
 * NAT fields. On success returns a copy with natOutgoingAddress and natPortRange
 * normalised (`"1024"` → `"1024:1024"`); no defaults are written into the spec (Calico
 * stores only what was set; see resolveNatConfig for effective values). A missing spec
 * becomes `{}`.
 */
export function validateFelixConfiguration(
  raw: unknown,
  origin: ResourceOrigin = {},
): ValidationResult<FelixConfiguration> {
  const issues = new IssueList(resourceLabel('FelixConfiguration', raw, origin));
  const env = checkEnvelope(raw, 'FelixConfiguration', issues, { specRequired: false, unknownFields: origin.unknownFields });
  if (env === undefined) return failureOf(issues);
  checkName(issues, env.name);
  if (env.spec !== undefined) checkNatFields(issues, env.spec);
  return resultOf(issues, () => env.root as FelixConfiguration);
}

/** {@link validateFelixConfiguration}, throwing ValidationError listing every issue. */
export function validateFelixConfigurationOrThrow(raw: unknown, origin: ResourceOrigin = {}): FelixConfiguration {
  const r = validateFelixConfiguration(raw, origin);
  if (!r.ok) throw new ValidationError(r.issues);
  return r.value;
}

/**
 * The NAT fields one FelixConfiguration sets, in natfleet's terms. Only fields present in
 * the spec appear, so a `node.<name>` config yields exactly its overrides. Field names
 * match the bundle's NatSettings (@natfleet/bundle) so the compiler can use them as is.
 */
export interface NatFields {
  natOutgoingAddress?: string;
  portRange?: { from: number; to: number };
  exclusions?: NatOutgoingExclusions;
  /** nft-style oifname match (`eth*`). */
  interfaceFilter?: string;
  fullyRandom?: boolean;
}

/**
 * Defaults for fields no FelixConfiguration sets. fullyRandom defaults to true because
 * Felix turns on `--random-fully` by itself wherever the dataplane supports it.
 */
export const NAT_DEFAULTS: Readonly<{ exclusions: NatOutgoingExclusions; fullyRandom: boolean }> = Object.freeze({
  exclusions: 'IPPoolsOnly',
  fullyRandom: true,
});

/** Scope of a FelixConfiguration from its name: `global` for `default`, the node for `node.<name>`, else undefined. */
export function felixConfigScope(name: string): { scope: 'global' } | { scope: 'node'; node: string } | undefined {
  if (name === 'default') return { scope: 'global' };
  if (name.startsWith('node.') && name.length > 5) return { scope: 'node', node: name.slice(5) };
  return undefined;
}

function filterOf(spec: FelixConfigurationSpec): string | undefined {
  if (typeof spec.natOutgoingInterfaceFilter === 'string' && spec.natOutgoingInterfaceFilter !== '') {
    return spec.natOutgoingInterfaceFilter;
  }
  const ipt = spec.iptablesNATOutgoingInterfaceFilter;
  if (typeof ipt !== 'string' || ipt === '') return undefined;
  // iptables' trailing '+' wildcard is nft's trailing '*'.
  return ipt.endsWith('+') ? `${ipt.slice(0, -1)}*` : ipt;
}

/**
 * The NAT fields a validated spec sets (empty object when none). `natOutgoingInterfaceFilter`
 * wins over Calico's `iptablesNATOutgoingInterfaceFilter`, whose trailing `+` becomes `*`.
 */
export function natFieldsOf(spec: FelixConfigurationSpec | undefined): NatFields {
  const out: NatFields = {};
  if (spec === undefined) return out;
  if (spec.natOutgoingAddress) out.natOutgoingAddress = spec.natOutgoingAddress;
  const ports = spec.natPortRange === undefined ? undefined : parsePortRange(spec.natPortRange);
  if (typeof ports === 'object') out.portRange = { from: ports.min, to: ports.max };
  if (spec.natOutgoingExclusions) out.exclusions = spec.natOutgoingExclusions;
  const filter = filterOf(spec);
  if (filter) out.interfaceFilter = filter;
  if (typeof spec.natOutgoingFullyRandom === 'boolean') out.fullyRandom = spec.natOutgoingFullyRandom;
  return out;
}
