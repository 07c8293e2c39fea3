/**
 * Errors of the compile core. compile() never throws on bad resources (they become bundle
 * warnings); only explain() rejects input it cannot interpret.
 */
export class ExplainInputError extends Error {
  override name = 'ExplainInputError';
  readonly code = 'INVALID_EXPLAIN_INPUT';
  constructor(
    readonly field: 'src' | 'dst',
    message: string,
  ) {
    super(message);
  }
}

export const isExplainInputError = (e: unknown): e is ExplainInputError => e instanceof ExplainInputError;
