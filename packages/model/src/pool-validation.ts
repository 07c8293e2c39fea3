// IPPool defaulting and validation, following Calico v3.31 (libcalico-go
// lib/validator/v3 validateIPPoolSpec and lib/clientv3/ippool.go validateAndSetDefaults).
//
// Owns: the IPPool rules — CIDR syntax, strict masking and normalisation, link-local
// overlap, blockSize range and defaults, minimum pool size for enabled pools, encapsulation
// modes, allowedUses and the LoadBalancer restrictions, nodeSelector and namespaceSelector
// (Calico's selector grammar; no global(); no namespaceSelector on Tunnel pools), assignmentMode,
// overlap with other pools (against stored pools, and within a batch by a sort + nesting
// stack sweep that names, for each overlapping pool, the earliest pool it overlaps rather
// than every pair; a pool with the same name is the one being replaced, never an overlap;
// disabled pools count, since they still mark their range as internal) — and what may not
// change on update: `spec.cidr` (a purely textual re-normalisation of the same network is
// allowed, as in Calico's cidrChangeOK), `spec.blockSize` (compared after defaulting), the
// name, and `allowedUses` moving away from LoadBalancer. Every problem is collected.
// Never: I/O, logging, or dropping fields it does not know.
import {
  type Cidr, cidrContains, cidrEquals, cidrsOverlap, compareCidrs, formatCidr, parseCidr, tryParseCidr, tryParseIp,
} from './cidr.js';
import { CidrError, type FieldIssue, ValidationError } from './errors.js';
import {
  IssueList, type JsonObject, type ResourceOrigin, type ValidationResult, isObject, isUnset, readBoolean,
  readEnum, readInteger, readString, failureOf, resourceLabel, resultOf, typeName,
} from './field-checks.js';
import { checkEnvelope } from './name-validation.js';
import { selectorUsesGlobal, trySelector } from './selector.js';
import {
  ALLOWED_USES, ASSIGNMENT_MODES, type AllowedUse, BLOCK_SIZE_RANGE, ENCAP_MODES, type EncapMode, type IPPool,
  type ObjectMeta, type IPPoolSpec, POOL_DEFAULTS,
} from './resources.js';

const LINK_LOCAL = {
  4: parseCidr('169.254.0.0/16'),
  6: parseCidr('fe80::/10'),
} as const;

// --- overlap ---

/** A pool reduced to what overlap checks need. */
export interface PoolRef {
  /** Issue label (`IPPool/name` or `IPPool[doc]`). */
  readonly label: string;
  /** Name when known; pools with equal names never overlap each other. */
  readonly name: string | undefined;
  readonly cidr: Cidr;
  /** Position in the caller's list, for stable reporting. */
  readonly order: number;
}

/**
 * Reads name and CIDR from any pool-shaped value (validated or straight from etcd).
 * `undefined` when the CIDR is missing or unparsable: such pools cannot be compared and
 * are reported by validation, not here. Host bits are masked off, matching how Calico's
 * overlap check treats stored pools.
 */
export function poolRefOf(pool: unknown, label: string, order: number): PoolRef | undefined {
  if (!isObject(pool)) return undefined;
  const meta = pool['metadata'];
  const spec = pool['spec'];
  const name = isObject(meta) && typeof meta['name'] === 'string' && meta['name'] !== '' ? meta['name'] : undefined;
  const text = isObject(spec) ? spec['cidr'] : undefined;
  if (typeof text !== 'string') return undefined;
  const cidr = tryParseCidr(text, { strict: false });
  return cidr === undefined ? undefined : { label, name, cidr, order };
}

/** Reason text for an overlap, in Calico's wording. */
export function overlapReason(otherName: string | undefined, otherLabel: string, otherCidr: Cidr): string {
  const who = otherName !== undefined ? `IPPool(${otherName})` : otherLabel;
  return `overlaps with ${who} CIDR ${formatCidr(otherCidr)}`;
}

/**
 * Existing pools whose CIDR overlaps `cidr`, skipping any named `name` (the pool being
 * updated) and any with an unparsable CIDR. Empty when there are none.
 */
export function overlappingExisting(
  name: string | undefined,
  cidr: Cidr,
  existing: readonly unknown[],
): PoolRef[] {
  const out: PoolRef[] = [];
  existing.forEach((pool, i) => {
    const ref = poolRefOf(pool, `existing[${i}]`, i);
    if (ref === undefined) return;
    if (name !== undefined && ref.name === name) return;
    if (cidrsOverlap(ref.cidr, cidr)) out.push(ref);
  });
  return out;
}

/** Pools sharing a (known) name are one pool being replaced, never an overlap of each other. */
const sameName = (a: PoolRef, b: PoolRef): boolean => a.name !== undefined && a.name === b.name;

/**
 * What "the earliest pool it overlaps, other than one of its own name" needs from a set of
 * pools: `first` has the lowest `order`; `other` the lowest whose name differs from
 * `first`'s. Two pools suffice, so sets merge in O(1) during the sweep.
 */
interface Earliest {
  first?: PoolRef;
  other?: PoolRef;
}

function addEarliest(e: Earliest, p: PoolRef | undefined): void {
  if (p === undefined) return;
  if (e.first === undefined) {
    e.first = p;
  } else if (p.order < e.first.order) {
    if (!sameName(e.first, p)) e.other = e.first;
    e.first = p;
  } else if (!sameName(e.first, p) && (e.other === undefined || p.order < e.other.order)) {
    e.other = p;
  }
}

const pickEarliest = (e: Earliest, p: PoolRef): PoolRef | undefined =>
  e.first !== undefined && !sameName(e.first, p) ? e.first : e.other;

/**
 * For each pool, the lowest-`order` candidate pool (`isCandidate(index)`) overlapping it
 * with another name, or undefined. CIDRs either nest or are disjoint, so after sorting
 * (family, network, shorter prefix first) the pools enclosing the current one form a
 * stack: a pool's overlaps are its ancestors (summarised on the way down) and its
 * descendants (summarised when it is popped). O(n log n) time, O(n) memory — never a
 * list of pairs, which for nested CIDRs is quadratic.
 */
function earliestOverlapping(pools: readonly PoolRef[], isCandidate: (index: number) => boolean): Array<PoolRef | undefined> {
  const order = pools.map((_, i) => i).sort((a, b) => compareCidrs(pools[a]!.cidr, pools[b]!.cidr) || pools[a]!.order - pools[b]!.order || a - b);
  const above: Earliest[] = new Array<Earliest>(pools.length);
  const below: Earliest[] = new Array<Earliest>(pools.length);
  const stack: number[] = [];
  const pop = (): void => {
    const i = stack.pop()!;
    const parent = stack[stack.length - 1];
    if (parent === undefined) return;
    addEarliest(below[parent]!, below[i]!.first);
    addEarliest(below[parent]!, below[i]!.other);
    if (isCandidate(i)) addEarliest(below[parent]!, pools[i]);
  };
  for (const i of order) {
    while (stack.length > 0 && !cidrContains(pools[stack[stack.length - 1]!]!.cidr, pools[i]!.cidr)) pop();
    const top = stack[stack.length - 1];
    const a: Earliest = top === undefined ? {} : { ...above[top]! };
    if (top !== undefined && isCandidate(top)) addEarliest(a, pools[top]);
    above[i] = a;
    below[i] = {};
    stack.push(i);
  }
  while (stack.length > 0) pop();
  return pools.map((p, i) => {
    const e: Earliest = { ...above[i]! };
    addEarliest(e, below[i]!.first);
    addEarliest(e, below[i]!.other);
    return pickEarliest(e, p);
  });
}

/**
 * One `[earlier, later]` pair for each pool that overlaps a pool earlier in the list (by
 * `order`; pools sharing a name are never paired): `earlier` is the earliest pool it
 * overlaps. Sorted by the later pool's order. So every pool with an overlap towards the
 * front of the batch is reported once, without listing every pair (n² for nested CIDRs).
 * Empty for fewer than two pools or when all are disjoint.
 */
export function overlapsWithEarlier(pools: readonly PoolRef[]): Array<[PoolRef, PoolRef]> {
  const found = earliestOverlapping(pools, () => true);
  const out: Array<[PoolRef, PoolRef]> = [];
  pools.forEach((p, i) => {
    const q = found[i];
    if (q !== undefined && q.order < p.order) out.push([q, p]);
  });
  return out.sort((a, b) => a[1].order - b[1].order);
}

/**
 * One `[other, pool]` pair for each of `pools` that overlaps any of `others` (a pool of the
 * same name excepted): `other` is the lowest-`order` one it overlaps. Overlaps among
 * `others`, or among `pools`, are not looked at. In the order of `pools`; empty when
 * either list is empty. O((n + m) log(n + m)).
 */
export function overlapsWithOthers(pools: readonly PoolRef[], others: readonly PoolRef[]): Array<[PoolRef, PoolRef]> {
  if (pools.length === 0 || others.length === 0) return [];
  const found = earliestOverlapping([...pools, ...others], (i) => i >= pools.length);
  const out: Array<[PoolRef, PoolRef]> = [];
  pools.forEach((p, i) => {
    const q = found[i];
    if (q !== undefined) out.push([q, p]);
  });
  return out;
}

// --- one pool ---

/** An IPPool before defaulting: any spec field may be missing. */
export interface IPPoolInput {
  apiVersion?: string;
  kind?: string;
  metadata?: Partial<ObjectMeta>;
  spec?: Partial<IPPoolSpec>;
  [field: string]: unknown;
}

/** Options for {@link validatePool}. */
export interface ValidatePoolOptions extends ResourceOrigin {
  /**
   * Pools already stored (validated or raw from etcd). The new pool must not overlap any of
   * them, disabled ones included; one with the same name is the pool being replaced.
   */
  readonly existing?: readonly unknown[];
}

/** Fills every unset spec field with Calico's default, in place. `family` picks blockSize. */
function applyDefaults(spec: JsonObject, family: 4 | 6): void {
  for (const f of ['natOutgoing', 'disabled', 'disableBGPExport'] as const) {
    if (spec[f] === undefined || spec[f] === null) spec[f] = POOL_DEFAULTS[f];
  }
  if (spec['blockSize'] === undefined || spec['blockSize'] === null || spec['blockSize'] === 0) {
    spec['blockSize'] = family === 4 ? POOL_DEFAULTS.blockSizeV4 : POOL_DEFAULTS.blockSizeV6;
  }
  if (isUnset(spec['ipipMode'])) spec['ipipMode'] = POOL_DEFAULTS.ipipMode;
  if (isUnset(spec['vxlanMode'])) spec['vxlanMode'] = POOL_DEFAULTS.vxlanMode;
  if (isUnset(spec['nodeSelector'])) spec['nodeSelector'] = POOL_DEFAULTS.nodeSelector;
  if (isUnset(spec['allowedUses'])) spec['allowedUses'] = [...POOL_DEFAULTS.allowedUses];
  if (isUnset(spec['assignmentMode'])) spec['assignmentMode'] = POOL_DEFAULTS.assignmentMode;
}

function guessFamily(cidr: unknown): 4 | 6 {
  return typeof cidr === 'string' && cidr.includes(':') ? 6 : 4;
}

/**
 * A deep copy of the pool with every unset spec field given Calico's default (Go zero
 * values — absent, null, "", 0, [] — count as unset). Does not validate or normalise: a
 * field of the wrong type is left as it is, and blockSize follows the family the CIDR
 * text looks like (`:` means IPv6). Use {@link validatePool} for a trustworthy result.
 */
export function defaultPool(pool: IPPoolInput): IPPool {
  const copy = structuredClone(pool) as JsonObject;
  if (!isObject(copy['spec'])) copy['spec'] = {};
  const spec = copy['spec'] as JsonObject;
  applyDefaults(spec, guessFamily(spec['cidr']));
  return copy as IPPool;
}

/**
 * Checks spec.cidr. Returns the CIDR (host bits masked off) whenever the text parses, even
 * when it has a problem — not strictly masked, link-local — so that the checks that follow
 * (block size, encapsulation, overlap) still run and every problem is listed at once.
 * spec.cidr is normalised only when it is fully valid.
 */
function checkCidr(issues: IssueList, spec: JsonObject): Cidr | undefined {
  const raw = spec['cidr'];
  if (raw === undefined || raw === null || raw === '') {
    issues.add('spec.cidr', 'required');
    return undefined;
  }
  if (typeof raw !== 'string') {
    issues.add('spec.cidr', `must be a string (got ${typeName(raw)})`, raw);
    return undefined;
  }
  let cidr: Cidr;
  try {
    cidr = parseCidr(raw, { strict: false });
  } catch (e) {
    issues.add('spec.cidr', `must be a valid CIDR: ${e instanceof CidrError ? e.message : String(e)}`, raw);
    return undefined;
  }
  let clean = true;
  const addr = tryParseIp(raw.slice(0, raw.indexOf('/')));
  if (addr !== undefined && addr.value !== cidr.network) {
    issues.add('spec.cidr', `not strictly masked: host bits set; did you mean ${formatCidr(cidr)}`, raw);
    clean = false;
  }
  const ll = LINK_LOCAL[cidr.family];
  if (cidrsOverlap(cidr, ll)) {
    issues.add('spec.cidr', `overlaps with the IPv${cidr.family} link-local range ${formatCidr(ll)}`, raw);
    clean = false;
  }
  if (clean) spec['cidr'] = formatCidr(cidr);
  return cidr;
}

/**
 * Why `selector` is not a selector Calico accepts on an IPPool field, or `undefined`.
 * Parsed with Calico's grammar (selector.ts); `global()` is refused in pool selectors, as
 * Calico's validator does. Blank means unset and is the caller's business.
 */
export function poolSelectorProblem(selector: string): string | undefined {
  const r = trySelector(selector);
  if (!r.ok) return `invalid selector: ${r.error.message}`;
  // Calico refuses the text "global(" anywhere in a pool selector, even inside a quoted value.
  if (selectorUsesGlobal(r.ast) || selector.includes('global(')) return 'global() is not allowed in an IPPool selector';
  return undefined;
}

/** Checks spec.allowedUses; returns the set of valid uses found (Calico applies the LoadBalancer rules whenever LoadBalancer is among them). */
function checkAllowedUses(issues: IssueList, spec: JsonObject): Set<AllowedUse> {
  const seen = new Set<AllowedUse>();
  const raw = spec['allowedUses'];
  if (raw === undefined || raw === null) return seen;
  if (!Array.isArray(raw)) {
    issues.add('spec.allowedUses', `must be an array (got ${typeName(raw)})`, raw);
    return seen;
  }
  raw.forEach((u: unknown, i) => {
    const path = `spec.allowedUses[${i}]`;
    if (typeof u !== 'string' || !(ALLOWED_USES as readonly string[]).includes(u)) {
      issues.add(path, `must be one of ${ALLOWED_USES.join(', ')} (got ${JSON.stringify(u)})`, u);
    } else if (seen.has(u as AllowedUse)) {
      issues.add(path, `duplicate use ${u}`, u);
    } else {
      seen.add(u as AllowedUse);
    }
  });
  if (seen.has('LoadBalancer') && (seen.has('Workload') || seen.has('Tunnel'))) {
    issues.add('spec.allowedUses', 'LoadBalancer cannot be combined with Workload or Tunnel', raw);
  }
  return seen;
}

/**
 * Validates one IPPool and returns it defaulted and normalised (unknown fields kept), or
 * every issue found. See the module header for the rules. Calico skips the minimum-size
 * rule for disabled pools and so does this: a disabled pool is never allocated from, so
 * it may be smaller than a block (handy for "do not NAT to this /32").
 */
export function validatePool(raw: unknown, options: ValidatePoolOptions = {}): ValidationResult<IPPool> {
  const issues = new IssueList(resourceLabel('IPPool', raw, options));
  const env = checkEnvelope(raw, 'IPPool', issues, { specRequired: true, unknownFields: options.unknownFields });
  if (env === undefined || env.spec === undefined) return failureOf(issues);
  const spec = env.spec;

  const cidr = checkCidr(issues, spec);
  readBoolean(issues, spec, 'natOutgoing', 'spec.natOutgoing'); // no cross-field rule in Calico
  const disabled = readBoolean(issues, spec, 'disabled', 'spec.disabled');
  const disableBGPExport = readBoolean(issues, spec, 'disableBGPExport', 'spec.disableBGPExport');
  const ipip = readEnum(issues, spec, 'ipipMode', 'spec.ipipMode', ENCAP_MODES);
  const vxlan = readEnum(issues, spec, 'vxlanMode', 'spec.vxlanMode', ENCAP_MODES);
  readEnum(issues, spec, 'assignmentMode', 'spec.assignmentMode', ASSIGNMENT_MODES);
  const blockSizeRaw = readInteger(issues, spec, 'blockSize', 'spec.blockSize');
  const selector = readString(issues, spec, 'nodeSelector', 'spec.nodeSelector');
  const selectorProblem = selector === undefined ? undefined : poolSelectorProblem(selector);
  if (selectorProblem !== undefined) issues.add('spec.nodeSelector', selectorProblem, selector);
  const nsSelector = readString(issues, spec, 'namespaceSelector', 'spec.namespaceSelector');
  const nsProblem = nsSelector === undefined ? undefined : poolSelectorProblem(nsSelector);
  if (nsProblem !== undefined) issues.add('spec.namespaceSelector', nsProblem, nsSelector);
  // Calico stores Go's *AssignmentMode: an explicit "" is a set, invalid value, not "unset".
  if (spec['assignmentMode'] === '') {
    // Not a NAT matter: reading etcd leniently it is a warning, and the pool still compiles.
    const reason = `must be one of ${ASSIGNMENT_MODES.join(', ')} (got "")`;
    if (options.unknownFields === 'warn') issues.warn('spec.assignmentMode', reason, '');
    else issues.add('spec.assignmentMode', reason, '');
  }
  const uses = checkAllowedUses(issues, spec);

  const family = cidr?.family ?? guessFamily(spec['cidr']);
  const blockSize = blockSizeRaw === undefined || blockSizeRaw === 0 ? undefined : blockSizeRaw;
  const effectiveBlock = blockSize ?? (family === 4 ? POOL_DEFAULTS.blockSizeV4 : POOL_DEFAULTS.blockSizeV6);
  if (blockSize !== undefined && cidr !== undefined) {
    const { min, max } = BLOCK_SIZE_RANGE[cidr.family];
    if (blockSize < min || blockSize > max) {
      issues.add('spec.blockSize', `IPv${cidr.family} block size must be between ${min} and ${max} (got ${blockSize})`, blockSize);
    }
  }
  if (cidr !== undefined && disabled !== true && !issues.has('spec.disabled') && !issues.has('spec.blockSize')) {
    if (cidr.prefix > effectiveBlock) {
      issues.add(
        'spec.cidr',
        `pool /${cidr.prefix} is smaller than one block (/${effectiveBlock}); an enabled pool's prefix length must be at most its blockSize`,
        spec['cidr'],
      );
    }
  }

  const ipipOn = ipip !== undefined && ipip !== 'Never';
  const vxlanOn = vxlan !== undefined && vxlan !== 'Never';
  if (cidr?.family === 6 && ipipOn) issues.add('spec.ipipMode', 'IPIP is not supported on an IPv6 pool; use Never', ipip);
  if (ipipOn && vxlanOn) issues.add('spec.vxlanMode', 'cannot enable both VXLAN and IPIP on the same pool', vxlan);

  // Calico defaults allowedUses to [Workload, Tunnel] before validating, so the Tunnel rule
  // applies to a pool that leaves allowedUses unset.
  const effectiveUses = uses.size > 0 || issues.has('spec.allowedUses') ? uses : new Set<AllowedUse>(POOL_DEFAULTS.allowedUses);
  if (nsSelector !== undefined && effectiveUses.has('Tunnel')) {
    issues.add('spec.namespaceSelector', 'not allowed on a pool whose allowedUses include Tunnel', nsSelector);
  }

  if (uses.has('LoadBalancer')) {
    const mustBeNever = (path: string, mode: EncapMode | undefined, on: boolean): void => {
      if (on) issues.add(path, 'must be Never on a LoadBalancer pool', mode);
    };
    mustBeNever('spec.ipipMode', ipip, ipipOn);
    mustBeNever('spec.vxlanMode', vxlan, vxlanOn);
    // Calico compares the text with "all()" exactly (an unset selector defaults to it).
    if (selector !== undefined && selector !== POOL_DEFAULTS.nodeSelector) {
      issues.add('spec.nodeSelector', 'must be all() on a LoadBalancer pool', selector);
    }
    // Calico rejects disableBGPExport: true here (its message says "set to true", but the
    // check fires on true): LoadBalancer addresses are only useful when advertised.
    if (disableBGPExport === true) issues.add('spec.disableBGPExport', 'must be false on a LoadBalancer pool', true);
  }

  if (cidr !== undefined && options.existing !== undefined) {
    for (const other of overlappingExisting(env.name, cidr, options.existing)) {
      issues.add('spec.cidr', overlapReason(other.name, other.label, other.cidr), spec['cidr']);
    }
  }

  return resultOf(issues, () => {
    applyDefaults(spec, family);
    return env.root as IPPool;
  });
}

/** {@link validatePool}, throwing ValidationError (code VALIDATION_FAILED) listing every issue. */
export function validatePoolOrThrow(raw: unknown, options: ValidatePoolOptions = {}): IPPool {
  const r = validatePool(raw, options);
  if (!r.ok) throw new ValidationError(r.issues);
  return r.value;
}

// --- update ---

interface PoolFacts {
  name: unknown;
  cidrText: unknown;
  cidr: Cidr | undefined;
  blockSize: number | undefined;
  uses: unknown[];
}

/** What the update rules compare, read leniently from a validated or raw pool. */
function factsOf(pool: unknown): PoolFacts {
  const root: JsonObject = isObject(pool) ? pool : {};
  const meta = isObject(root['metadata']) ? root['metadata'] : {};
  const spec = isObject(root['spec']) ? root['spec'] : {};
  const cidrText = spec['cidr'];
  const cidr = typeof cidrText === 'string' ? tryParseCidr(cidrText, { strict: false }) : undefined;
  const rawBlock = spec['blockSize'];
  let blockSize: number | undefined;
  if (rawBlock === undefined || rawBlock === null || rawBlock === 0) {
    if (cidr !== undefined) blockSize = cidr.family === 4 ? POOL_DEFAULTS.blockSizeV4 : POOL_DEFAULTS.blockSizeV6;
  } else if (typeof rawBlock === 'number') {
    blockSize = rawBlock;
  }
  const uses = Array.isArray(spec['allowedUses']) && spec['allowedUses'].length > 0 ? spec['allowedUses'] : [...POOL_DEFAULTS.allowedUses];
  return { name: meta['name'], cidrText, cidr, blockSize, uses };
}

function immutableIssues(label: string, old: PoolFacts, next: PoolFacts): FieldIssue[] {
  const out: FieldIssue[] = [];
  const add = (path: string, reason: string, value: unknown): void => {
    out.push({ resource: label, path, reason, value });
  };
  if (old.name !== next.name) add('metadata.name', `must match the pool being updated (${String(old.name)})`, next.name);
  const sameCidr =
    old.cidr !== undefined && next.cidr !== undefined ? cidrEquals(old.cidr, next.cidr) : old.cidrText === next.cidrText;
  if (!sameCidr) {
    const was = old.cidr !== undefined ? formatCidr(old.cidr) : String(old.cidrText);
    add('spec.cidr', `cannot be changed on update (was ${was}); create a new pool instead`, next.cidrText);
  }
  if (old.blockSize !== undefined && next.blockSize !== undefined && old.blockSize !== next.blockSize) {
    add('spec.blockSize', `cannot be changed on update (was ${old.blockSize})`, next.blockSize);
  }
  if (old.uses.includes('LoadBalancer') && next.uses.some((u) => u !== 'LoadBalancer')) {
    add('spec.allowedUses', 'cannot change from LoadBalancer to Workload or Tunnel', next.uses);
  }
  return out;
}

/**
 * Validates `next` as a replacement for the stored pool `old`: every validatePool rule
 * (overlap checks only when `options.existing` is given; the old pool itself never counts)
 * plus the immutable-field rules of the module header. All issues are collected together.
 * `old` is read leniently, since stored values may predate current defaults.
 */
export function validatePoolUpdate(
  old: unknown,
  next: unknown,
  options: ValidatePoolOptions = {},
): ValidationResult<IPPool> {
  const base = validatePool(next, options);
  const label = resourceLabel('IPPool', next, options);
  const extra = immutableIssues(label, factsOf(old), factsOf(base.ok ? base.value : next));
  if (extra.length === 0) return base;
  return { ok: false, issues: [...(base.ok ? [] : base.issues), ...extra], ...(base.warnings ? { warnings: base.warnings } : {}) };
}

/** {@link validatePoolUpdate}, throwing ValidationError listing every issue. */
export function validatePoolUpdateOrThrow(old: unknown, next: unknown, options: ValidatePoolOptions = {}): IPPool {
  const r = validatePoolUpdate(old, next, options);
  if (!r.ok) throw new ValidationError(r.issues);
  return r.value;
}
