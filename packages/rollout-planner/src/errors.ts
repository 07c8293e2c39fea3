/**
 * Errors of the rollout planner. plan() throws only on a policy it cannot interpret; gate
 * failures are data (conditions and events), never exceptions.
 */
export class RolloutPolicyError extends Error {
  override name = 'RolloutPolicyError';
  readonly code = 'INVALID_ROLLOUT_POLICY';
  constructor(
    /** Dotted path of the offending field, e.g. "waves[1].percent". */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export const isRolloutPolicyError = (e: unknown): e is RolloutPolicyError => e instanceof RolloutPolicyError;
