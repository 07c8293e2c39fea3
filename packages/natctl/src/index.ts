/** @natfleet/natctl — the CLI as a library (run) plus its client and formatters. */
export { fieldDiff, run } from './cli.js';
export type { Io } from './cli.js';
export { ApiClient, CliError, findConfigUpwards, resolveConnection } from './client.js';
export type { Connection } from './client.js';
export { EXIT, EXIT_HELP, exitFor } from './exit-codes.js';
export { formatExplanation, formatNatDiff, formatResources, formatWriteResult, rolloutLine, rolloutTable, table } from './format.js';
export { authorText, changeText, formatRollbackDone, formatRollbackPreview, formatVersionDetail, historyTable } from './history-format.js';
export { confirms, registerHistoryCommands } from './history-commands.js';
export type { OutputFormat } from './format.js';
export { abortedText, behindNames, registerRolloutCommands } from './rollout-commands.js';
export { durationText, gateFailureText, isStaged, gatesText, rolloutOutcomeText, rolloutSection, stagedBlock, stagedFailures, stagedLine, wavesTable } from './staged-format.js';
