/** natctl's exit codes, documented in `natctl --help`. */
export const EXIT = {
  OK: 0,
  ERROR: 1, // usage, network, API unavailable, anything else
  INVALID: 2, // validation failed (422) or bad input file
  CONFLICT: 3, // exists already / stale resourceVersion (409)
  NOT_FOUND: 4,
  ROLLOUT_INCOMPLETE: 5, // rollout status: nodes failed, behind at timeout, silent, too few, or none
  UNAUTHORIZED: 6, // 401 / 403
  ROLLOUT_ABORTED: 7, // rollout status: the desired version's staged rollout was halted, rolled back or aborted
} as const;

export const EXIT_HELP = `
Exit codes:
  0  success (for "rollout status": every expected node applied the desired version)
  1  error (usage, network, API unavailable; a rollback you declined)
  2  invalid input (validation failed; every problem is listed; a rollback not confirmed:
     no terminal to ask on and no --yes)
  3  conflict (already exists, or resourceVersion is stale, or pools changed since the
     rollback preview: nothing was written)
  4  not found (also: rollback to a version not in history, without --force)
  5  rollout incomplete: a node failed, is behind at --timeout, or is silent (its rules are
     unknown; --ignore-silent opts out), fewer nodes than --expect-nodes, or none at all
  6  unauthorized or forbidden (check --token / NATFLEET_API_TOKEN)
  7  rollout aborted: the desired version's staged rollout was halted, rolled back or
     aborted, so the fleet will not converge on it by itself ("rollout status" prints the
     reason and the failing nodes; "--watch" stops there)
"natctl diff" follows kubectl diff: 0 no change, 1 changes, >1 an error (8 for a general one).`;

/** Exit code for an API error code. */
export function exitFor(code: string | undefined): number {
  switch (code) {
    case 'VALIDATION_FAILED':
    case 'PARSE_FAILED':
    case 'BAD_REQUEST':
    case 'BATCH_TOO_LARGE':
      return EXIT.INVALID;
    case 'CONFLICT':
    case 'ALREADY_EXISTS':
      return EXIT.CONFLICT;
    case 'NOT_FOUND':
      return EXIT.NOT_FOUND;
    case 'UNAUTHORIZED':
    case 'FORBIDDEN':
      return EXIT.UNAUTHORIZED;
    default:
      return EXIT.ERROR;
  }
}
