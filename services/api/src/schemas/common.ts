/**
 * The shared building blocks of the API's schemas (TypeBox): the error body, field
 * issues, object metadata, NAT diffs, bundle warnings and settings. The one source for
 * the OpenAPI document (openapi.ts), the response checks (response-check.ts) and, via
 * Static<>, the types of the routes. Data only: no routes, no I/O.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { ApiError } from '../errors.js';

/** `schema` or null (JSON Schema `anyOf`, valid OpenAPI 3.1). */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
export const Str = (description?: string) => Type.String(description ? { description } : {});
export const Int = (description?: string) => Type.Integer(description ? { description } : {});
/** An ISO 8601 timestamp as the API writes it (Date#toISOString, or copied from a record). */
export const Time = (description?: string) => Type.String({ format: 'date-time', ...(description ? { description } : {}) });
/** String → string map (labels, annotations, headers). */
export const StringMap = (description?: string) => Type.Record(Type.String(), Type.String(), description ? { description } : {});

export const FieldIssue = Type.Object(
  {
    resource: Str('Which resource: its kind/name, or `[index]` in the body'),
    path: Str('Dotted path of the field (`spec.cidr`)'),
    reason: Str(),
    value: Type.Optional(Type.Unknown({ description: 'The offending value, when it helps' })),
  },
  { title: 'FieldIssue', description: 'One problem with one field' },
);

export const ERROR_CODES = ['BAD_REQUEST', 'PARSE_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'ALREADY_EXISTS', 'CONFLICT', 'PAYLOAD_TOO_LARGE', 'BATCH_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'VALIDATION_FAILED', 'UNAVAILABLE', 'INTERNAL'] as const;

/** Every error the API answers with (errors.ts renders it; never a stack trace). */
export const ErrorBody = Type.Object(
  {
    code: Type.Union(ERROR_CODES.map((c) => Type.Literal(c)), { description: 'Stable code (errors.ts API_ERRORS maps it to the HTTP status)' }),
    message: Str(),
    issues: Type.Optional(Type.Array(FieldIssue, { description: 'Every problem found (the first 100; message gives the total)' })),
  },
  { title: 'Error', description: 'Every error answer: {code, message, issues?}', additionalProperties: false },
);
export type ErrorBody = Static<typeof ErrorBody>;

export const ObjectMeta = Type.Object(
  {
    name: Str(),
    resourceVersion: Type.Optional(Str('The etcd mod revision (optimistic concurrency)')),
    uid: Type.Optional(Str()),
    creationTimestamp: Type.Optional(Str()),
    labels: Type.Optional(StringMap()),
    annotations: Type.Optional(StringMap()),
  },
  { title: 'ObjectMeta', description: 'Kubernetes-style metadata; fields beyond these are kept as they are', additionalProperties: true },
);

export const ListDiff = Type.Object({ added: Type.Array(Str()), removed: Type.Array(Str()) });
const FamilyDiff = Type.Object({ masquerade: ListDiff, noNat: ListDiff });

export const BundleWarning = Type.Object({ key: Str('etcd key of the resource'), code: Str('INVALID_JSON, INVALID_RESOURCE, OVERLAP, …'), reason: Str() }, { title: 'BundleWarning', description: 'A resource the compiler skipped or adjusted, and why' });

export const NatDiff = Type.Object(
  {
    changed: Type.Boolean({ description: 'Anything a node enforces would change' }),
    v4: FamilyDiff,
    v6: FamilyDiff,
    hostAddresses: ListDiff,
    settingsChanged: Type.Boolean(),
    nodesChanged: Type.Array(Str(), { description: 'Nodes whose override is added, removed or changed' }),
    warnings: Type.Array(BundleWarning, { description: 'Warnings the compiler would report after the change' }),
  },
  { title: 'NatDiff', description: 'What a change does to the enforced NAT sets (CIDRs per family), settings and node overrides' },
);

const natSettingsProps = {
  natOutgoingAddress: Type.Optional(Str('SNAT to this address instead of masquerading')),
  portRange: Type.Optional(Type.Object({ from: Int(), to: Int() })),
  fullyRandom: Type.Boolean(),
  interfaceFilter: Type.Optional(Str('Only NAT traffic leaving through matching interfaces (trailing * = prefix)')),
  exclusions: Type.Union([Type.Literal('IPPoolsOnly'), Type.Literal('IPPoolsAndHostIPs')]),
};
export const NatSettings = Type.Object(natSettingsProps, { title: 'NatSettings', description: 'NAT settings from FelixConfiguration (default, or merged with node.<name>)' });
export const NatSettingsOverride = Type.Partial(Type.Object(natSettingsProps), { description: 'A node.<name> FelixConfiguration override (only the fields it sets)' });

/** Compile-time proof that errors.ts renders what ErrorBody says (a mismatch fails the build). */
export type ErrorBodyMatches<T extends { code: ErrorBody['code']; message: string; issues?: readonly Static<typeof FieldIssue>[] }> = T;
/** errors.ts's rendered body, checked against ErrorBody at compile time. */
export type RenderedError = ErrorBodyMatches<ReturnType<ApiError['toJSON']>>;
