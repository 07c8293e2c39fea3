// Runs the Calico v3.31 table (calico-v331-cases.ts) through natfleet's validators: each
// row must get Calico's verdict, or — for the few deliberate differences, each with a
// note and listed in the README — natfleet's own. Rows with `old` are updates (validatePoolUpdate), the rest
// creates/loads (validateResource); `existing` is passed as the stored pools either way.
import { describe, expect, it } from 'vitest';
import { type ValidationResult, validatePoolUpdate, validateResource } from '../src/index.js';
import { CALICO_CASES, type CalicoCase } from './calico-v331-cases.js';

function run(row: CalicoCase): ValidationResult<unknown> {
  const options = row.existing === undefined ? {} : { existing: row.existing };
  return row.old !== undefined
    ? validatePoolUpdate(row.old, row.resource, options)
    : validateResource(row.resource, options);
}

function describeIssues(result: ValidationResult<unknown>): string {
  if (result.ok) return 'natfleet accepted it';
  return `natfleet rejected it: ${result.issues.map((i) => `${i.path}: ${i.reason}`).join('; ')}`;
}

describe('Calico v3.31 test table', () => {
  it('has unique cite/title pairs', () => {
    const keys = CALICO_CASES.map((c) => `${c.cite} ${c.title}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it.each(CALICO_CASES.map((row) => [`${row.cite} ${row.title}`, row] as const))('%s', (_name, row) => {
    const result = run(row);
    const verdict = row.valid ? 'valid' : 'invalid';
    const message = `${row.cite} "${row.title}": Calico says ${verdict}, ${describeIssues(result)}${row.note ? ` (note: ${row.note})` : ''}`;
    // A deliberate difference carries natfleet's own verdict, and must say why.
    if (row.natfleet !== undefined) {
      expect(row.note, `${row.cite}: a difference needs a note`).toBeTruthy();
      expect(row.natfleet, `${row.cite}: natfleet's verdict equals Calico's; drop the override`).not.toBe(row.valid);
    }
    expect(result.ok, message).toBe(row.natfleet ?? row.valid);
  });
});
