/**
 * Shape check for a decoded bundle. The enforcer renders bundle strings into nft text,
 * so beyond types this pins every CIDR, address and interface name to a strict
 * character set: a signed-but-odd bundle can never inject nft syntax. Returns the first
 * problem as "path: reason", or undefined when the value is a well-formed Bundle.
 */
import { BUNDLE_API_VERSION } from './types.js';

const CIDR_V4 = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;
const CIDR_V6 = /^[0-9a-f:]+(\.\d{1,3}){0,4}\/\d{1,3}$/;
const IP = /^([0-9a-f:]+|(\d{1,3}\.){3}\d{1,3})$/;
/** Linux interface names: 1–15 chars, no '/', whitespace or quotes; nft wildcard '*' only at the end. */
export const IFNAME_FILTER = /^[A-Za-z0-9_.:@+-]{1,15}\*?$|^\*$/;
const SAFE_TEXT = /^[^\0]*$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkCidrs(v: unknown, path: string, re: RegExp): string | undefined {
  if (!Array.isArray(v)) return `${path}: must be an array of CIDRs`;
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== 'string' || !re.test(v[i] as string)) return `${path}[${i}]: not a CIDR`;
  }
  return undefined;
}

/** Checks settings (full when `partial` is false, else every field optional). */
function checkSettings(s: unknown, path: string, partial: boolean): string | undefined {
  if (!isObj(s)) return `${path}: must be an object`;
  if (s.natOutgoingAddress !== undefined && (typeof s.natOutgoingAddress !== 'string' || !IP.test(s.natOutgoingAddress)))
    return `${path}.natOutgoingAddress: not an IP address`;
  if (s.portRange !== undefined) {
    const pr = s.portRange as Obj;
    if (!isObj(pr) || !Number.isInteger(pr.from) || !Number.isInteger(pr.to) || (pr.from as number) < 1 || (pr.to as number) > 65535 || (pr.from as number) > (pr.to as number))
      return `${path}.portRange: must be {from,to} with 1 ≤ from ≤ to ≤ 65535`;
  }
  if ((!partial || s.fullyRandom !== undefined) && typeof s.fullyRandom !== 'boolean') return `${path}.fullyRandom: must be a boolean`;
  if (s.interfaceFilter !== undefined && (typeof s.interfaceFilter !== 'string' || !IFNAME_FILTER.test(s.interfaceFilter)))
    return `${path}.interfaceFilter: not an interface name or prefix*`;
  if ((!partial || s.exclusions !== undefined) && s.exclusions !== 'IPPoolsOnly' && s.exclusions !== 'IPPoolsAndHostIPs')
    return `${path}.exclusions: must be IPPoolsOnly or IPPoolsAndHostIPs`;
  return undefined;
}

/** First shape problem of `b` as "path: reason" (apiVersion is checked by the caller), or undefined. */
export function bundleShapeProblem(b: unknown): string | undefined {
  if (!isObj(b)) return 'bundle: must be a JSON object';
  if (typeof b.cluster !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(b.cluster)) return 'cluster: must be a name of [A-Za-z0-9_-]{1,64}';
  for (const k of ['version', 'sourceRevision'] as const) {
    if (!Number.isSafeInteger(b[k]) || (b[k] as number) < 0) return `${k}: must be a non-negative integer`;
  }
  if (typeof b.compiledAt !== 'string') return 'compiledAt: must be a string';
  if (typeof b.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(b.digest)) return 'digest: must be sha256:<64 hex>';
  const sig = b.signature;
  if (!isObj(sig) || typeof sig.keyId !== 'string' || typeof sig.sig !== 'string') return 'signature: must be {keyId, sig}';
  const fleet = b.fleet;
  if (!isObj(fleet)) return 'fleet: must be an object';
  for (const fam of ['v4', 'v6'] as const) {
    const sets = fleet[fam];
    if (!isObj(sets)) return `fleet.${fam}: must be an object`;
    const re = fam === 'v4' ? CIDR_V4 : CIDR_V6;
    const p = checkCidrs(sets.masquerade, `fleet.${fam}.masquerade`, re) ?? checkCidrs(sets.noNat, `fleet.${fam}.noNat`, re);
    if (p) return p;
  }
  const ha = fleet.hostAddresses;
  if (!isObj(ha)) return 'fleet.hostAddresses: must be an object';
  const p = checkCidrs(ha.v4, 'fleet.hostAddresses.v4', CIDR_V4) ?? checkCidrs(ha.v6, 'fleet.hostAddresses.v6', CIDR_V6);
  if (p) return p;
  const sp = checkSettings(fleet.settings, 'fleet.settings', false);
  if (sp) return sp;
  if (!isObj(b.nodes)) return 'nodes: must be an object';
  for (const [name, s] of Object.entries(b.nodes)) {
    const np = checkSettings(s, `nodes.${name}`, true);
    if (np) return np;
  }
  if (!Array.isArray(b.warnings)) return 'warnings: must be an array';
  for (let i = 0; i < b.warnings.length; i++) {
    const w = b.warnings[i] as Obj;
    if (!isObj(w) || typeof w.key !== 'string' || typeof w.code !== 'string' || typeof w.reason !== 'string' || !SAFE_TEXT.test(w.reason))
      return `warnings[${i}]: must be {key, code, reason}`;
  }
  return undefined;
}

export const isSupportedApiVersion = (v: unknown): boolean => v === BUNDLE_API_VERSION;
