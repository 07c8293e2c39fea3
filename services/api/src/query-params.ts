/**
 * Query-string parameters shared by the routes: one value per name (a repeated one is
 * ambiguous: 400), strict boolean flags, and the unknown-field policy. Owns no routes.
 */
import type { UnknownFieldPolicy } from '@natfleet/model';
import { ApiError } from './errors.js';

/** One query parameter: a repeated one (`?dryRun=1&dryRun=0`) is ambiguous, so it is a 400. */
export function param(q: Record<string, unknown>, name: string): string | undefined {
  const v = q[name];
  if (v === undefined || typeof v === 'string') return v;
  throw new ApiError('BAD_REQUEST', `query parameter ${name} must be given once`);
}

/**
 * A boolean query flag: absent = false; `true`, `1`, empty and kubectl's `All` = true;
 * `false`, `0` = false. Anything else is a 400 — a misspelt `dryRun=yes` must never
 * become a real write.
 */
export function flag(q: Record<string, unknown>, name: string): boolean {
  const v = param(q, name);
  if (v === undefined) return false;
  const l = v.toLowerCase();
  if (l === 'true' || l === '1' || l === '' || l === 'all') return true;
  if (l === 'false' || l === '0') return false;
  throw new ApiError('BAD_REQUEST', `${name} must be true or false (got ${JSON.stringify(v)})`);
}

/**
 * `?validate=strict|warn` (kubectl's `--validate`; `fieldValidation=Strict|Warn` is
 * accepted too). Default strict: an unknown field is a 422 and nothing is stored.
 */
export function unknownFieldsOf(q: Record<string, unknown>): UnknownFieldPolicy {
  const raw = param(q, 'validate') ?? param(q, 'fieldValidation');
  if (raw === undefined || raw === '') return 'error';
  const v = raw.toLowerCase();
  if (v === 'strict' || v === 'true') return 'error';
  if (v === 'warn') return 'warn';
  throw new ApiError('BAD_REQUEST', `validate must be strict or warn (got ${JSON.stringify(raw)})`);
}

