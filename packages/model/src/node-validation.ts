// Node validation.
//
// Owns: the Node rules natfleet relies on — the name, `spec.addresses` entries (an IP,
// optionally with a prefix length as Calico writes CalicoNodeIP entries, and a known type)
// and `spec.bgp.ipv4Address` / `ipv6Address` of the right family (Calico's validateNodeSpec
// also rejects an empty `bgp` object). Other Node fields are kept and not checked. Never:
// deciding which address a node NATs to (the enforcer does), I/O or logging.
import { type IpFamily, familyBits, tryParseIp } from './cidr.js';
import { ValidationError } from './errors.js';
import {
  IssueList, type JsonObject, type ResourceOrigin, type ValidationResult, isObject, readEnum, readObject,
  failureOf, resourceLabel, resultOf, typeName,
} from './field-checks.js';
import { checkEnvelope } from './name-validation.js';
import { NODE_ADDRESS_TYPES, type Node } from './resources.js';

/**
 * Why `text` is not an address with an optional prefix length (`10.0.0.5`,
 * `10.0.0.5/24`, `2001:db8::5/64`), or `undefined` when it is one. Host bits are allowed:
 * this is an interface address, not a network. With `family`, the address must be of it.
 */
export function hostAddressProblem(text: string, family?: IpFamily): string | undefined {
  const slash = text.indexOf('/');
  const ip = tryParseIp(slash < 0 ? text : text.slice(0, slash));
  if (ip === undefined) return 'must be an IP address, optionally with a /prefix';
  if (family !== undefined && ip.family !== family) return `must be an IPv${family} address`;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > familyBits(ip.family)) {
      return `prefix length must be 0-${familyBits(ip.family)}`;
    }
  }
  return undefined;
}

function checkAddresses(issues: IssueList, spec: JsonObject): void {
  const list = spec['addresses'];
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) {
    issues.add('spec.addresses', `must be an array (got ${typeName(list)})`, list);
    return;
  }
  list.forEach((entry: unknown, i) => {
    const path = `spec.addresses[${i}]`;
    if (!isObject(entry)) {
      issues.add(path, `must be an object with an address (got ${typeName(entry)})`, entry);
      return;
    }
    const address = entry['address'];
    if (typeof address !== 'string' || address === '') {
      issues.add(`${path}.address`, address === undefined || address === '' ? 'required' : `must be a string (got ${typeName(address)})`, address);
    } else {
      const problem = hostAddressProblem(address);
      if (problem !== undefined) issues.add(`${path}.address`, problem, address);
    }
    readEnum(issues, entry, 'type', `${path}.type`, NODE_ADDRESS_TYPES);
  });
}

function checkBgp(issues: IssueList, spec: JsonObject): void {
  const bgp = readObject(issues, spec, 'bgp', 'spec.bgp');
  if (bgp === undefined) return;
  if (Object.keys(bgp).length === 0) {
    issues.add('spec.bgp', 'must not be empty; set ipv4Address or ipv6Address, or remove bgp');
    return;
  }
  for (const [key, family] of [['ipv4Address', 4], ['ipv6Address', 6]] as const) {
    const v = bgp[key];
    if (v === undefined || v === null || v === '') continue;
    const path = `spec.bgp.${key}`;
    if (typeof v !== 'string') {
      issues.add(path, `must be a string (got ${typeName(v)})`, v);
      continue;
    }
    const problem = hostAddressProblem(v, family);
    if (problem !== undefined) issues.add(path, problem, v);
  }
}

/**
 * Validates a Node: envelope and name (DNS-1123 subdomain), addresses and BGP addresses.
 * Returns a copy (unknown fields kept, a missing spec becomes `{}`) or every issue found.
 */
export function validateNode(raw: unknown, origin: ResourceOrigin = {}): ValidationResult<Node> {
  const issues = new IssueList(resourceLabel('Node', raw, origin));
  const env = checkEnvelope(raw, 'Node', issues, { specRequired: false, unknownFields: origin.unknownFields });
  if (env === undefined) return failureOf(issues);
  if (env.spec !== undefined) {
    checkAddresses(issues, env.spec);
    checkBgp(issues, env.spec);
  }
  return resultOf(issues, () => env.root as Node);
}

/** {@link validateNode}, throwing ValidationError listing every issue. */
export function validateNodeOrThrow(raw: unknown, origin: ResourceOrigin = {}): Node {
  const r = validateNode(raw, origin);
  if (!r.ok) throw new ValidationError(r.issues);
  return r.value;
}
