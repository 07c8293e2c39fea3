// Names, labels and the envelope shared by every resource.
//
// Owns: the DNS-1123 subdomain rule for resource names (as Calico's nameRegex and
// Kubernetes' IsDNS1123Subdomain), Kubernetes label and annotation key/value syntax and
// the annotations size limit, and the checks on apiVersion, kind and metadata that all
// kinds share, including strict field decoding (strict-fields.ts) under the caller's
// unknown-field policy. Never: kind-specific spec rules.
import { type IssueList, type JsonObject, type UnknownFieldPolicy, isObject, readObject, typeName } from './field-checks.js';
import { canonicalFieldNames, fieldProblems } from './strict-fields.js';
import { API_VERSION, type ResourceKind } from './resources.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/**
 * Why `name` is not a DNS-1123 subdomain (lower-case alphanumerics, `-` and `.`; each
 * dot-separated part starts and ends alphanumeric; at most 253 characters in all), or
 * `undefined` when it is one. As in Kubernetes' IsDNS1123Subdomain and Calico's name
 * regex, only the whole name is capped: a single part may be longer than 63 characters.
 * The empty string is never valid.
 */
export function dns1123SubdomainProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 253) return `must be at most 253 characters (got ${name.length})`;
  for (const label of name.split('.')) {
    if (!DNS_LABEL.test(label)) {
      const lower = name.toLowerCase();
      const hint = lower !== name && dns1123SubdomainProblem(lower) === undefined ? ` (did you mean ${lower}?)` : '';
      return `must be a DNS-1123 subdomain: lower-case alphanumeric characters, '-' or '.', each part starting and ending with an alphanumeric character${hint}`;
    }
  }
  return undefined;
}

/** True when `name` is a valid DNS-1123 subdomain (see {@link dns1123SubdomainProblem}). */
export function isDns1123Subdomain(name: string): boolean {
  return dns1123SubdomainProblem(name) === undefined;
}

function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined) {
    const p = dns1123SubdomainProblem(prefix);
    if (p !== undefined) return `prefix ${p}`;
  }
  if (name.length === 0 || name.length > 63) return 'name part must be 1-63 characters';
  if (!LABEL_NAME.test(name)) return "name part must be alphanumerics, '-', '_' or '.', starting and ending alphanumeric";
  return undefined;
}

/** Kubernetes' limit on the total size of a resource's annotations (keys plus values). */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

function checkStringMap(list: IssueList, meta: JsonObject, key: 'labels' | 'annotations', lenient: boolean): void {
  const issues = lenient ? { add: (path: string, reason: string, value?: unknown) => list.warn(path, reason, value) } : list;
  const map = readObject(list, meta, key, `metadata.${key}`);
  if (map === undefined) return;
  let total = 0;
  for (const [k, v] of Object.entries(map)) {
    const path = `metadata.${key}[${JSON.stringify(k)}]`;
    // Kubernetes validates annotation keys lower-cased (ValidateAnnotations), label keys as written.
    const keyProblem = labelKeyProblem(key === 'annotations' ? k.toLowerCase() : k);
    if (keyProblem !== undefined) issues.add(path, `invalid ${key === 'labels' ? 'label' : 'annotation'} key: ${keyProblem}`, k);
    if (typeof v !== 'string') {
      issues.add(path, `must be a string (got ${typeName(v)})`, v);
      continue;
    }
    total += Buffer.byteLength(k) + Buffer.byteLength(v);
    if (key !== 'labels') continue;
    if (v.length > 63 || (v !== '' && !LABEL_NAME.test(v))) {
      issues.add(path, "invalid label value: at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric", v);
    }
  }
  if (key === 'annotations' && total > MAX_ANNOTATIONS_BYTES) {
    issues.add('metadata.annotations', `may not be more than 256 KiB in total (keys and values: got ${total} bytes)`);
  }
}

/** The parts of a resource the kind-specific validators work on (already deep-copied). */
export interface Envelope {
  readonly root: JsonObject;
  readonly metadata: JsonObject;
  /** The spec object, or `undefined` when it is absent/invalid (an issue is recorded if required). */
  readonly spec: JsonObject | undefined;
  /** `metadata.name` when it is a valid name. */
  readonly name: string | undefined;
}

/**
 * Checks apiVersion, kind, metadata (name, resourceVersion/uid/creationTimestamp types,
 * labels, annotations) and the presence of `spec`, recording issues. Returns a deep copy of
 * the resource split into parts; `undefined` only when the input is not an object at all.
 * A missing optional spec comes back as a new empty object attached to the copy.
 */
export function checkEnvelope(
  raw: unknown,
  kind: ResourceKind,
  issues: IssueList,
  options: { readonly specRequired: boolean; readonly unknownFields?: UnknownFieldPolicy | undefined },
): Envelope | undefined {
  if (!isObject(raw)) {
    issues.add('', `resource must be an object (got ${typeName(raw)})`);
    return undefined;
  }
  // Field names are matched case-insensitively, as Calico's decoders do (a deep copy).
  const canonical = canonicalFieldNames(kind, raw);
  const root = canonical.value as JsonObject;
  for (const r of canonical.renamed) {
    issues.warn(r.path, `read as ${r.to}: Calico matches field names ignoring case; write ${r.to}`, r.from);
  }
  for (const p of fieldProblems(kind, root)) {
    if (options.unknownFields === 'warn' && p.refused !== true) issues.warn(p.path, p.reason, p.value);
    else issues.add(p.path, p.reason, p.value);
  }
  const apiVersion = root['apiVersion'];
  if (apiVersion === undefined || apiVersion === null || apiVersion === '') {
    issues.add('apiVersion', `required; must be ${API_VERSION}`);
  } else if (apiVersion !== API_VERSION) {
    issues.add('apiVersion', `must be ${API_VERSION} (got ${JSON.stringify(apiVersion)})`, apiVersion);
  }
  const k = root['kind'];
  if (k === undefined || k === null || k === '') issues.add('kind', `required; must be ${kind}`);
  else if (k !== kind) issues.add('kind', `must be ${kind} (got ${JSON.stringify(k)})`, k);

  let metadata = readObject(issues, root, 'metadata', 'metadata');
  let name: string | undefined;
  if (metadata === undefined) {
    if (!issues.has('metadata')) issues.add('metadata.name', 'required');
    metadata = {};
  } else {
    const n = metadata['name'];
    if (n === undefined || n === null || n === '') {
      issues.add('metadata.name', 'required');
    } else if (typeof n !== 'string') {
      issues.add('metadata.name', `must be a string (got ${typeName(n)})`, n);
    } else {
      const problem = dns1123SubdomainProblem(n);
      if (problem === undefined) name = n;
      else issues.add('metadata.name', problem, n);
    }
    for (const f of ['resourceVersion', 'uid', 'creationTimestamp']) {
      const v = metadata[f];
      if (v !== undefined && v !== null && typeof v !== 'string') {
        issues.add(`metadata.${f}`, `must be a string (got ${typeName(v)})`, v);
      }
    }
    // Label and annotation syntax never changes what a node enforces: reading etcd
    // leniently (warn), a bad key is a warning, never a reason to drop the resource.
    const lenient = options.unknownFields === 'warn';
    checkStringMap(issues, metadata, 'labels', lenient);
    checkStringMap(issues, metadata, 'annotations', lenient);
  }

  let spec = readObject(issues, root, 'spec', 'spec');
  if (spec === undefined && !issues.has('spec')) {
    if (options.specRequired) {
      issues.add('spec', 'required');
    } else {
      spec = {};
      root['spec'] = spec;
    }
  }
  return { root, metadata, spec, name };
}
