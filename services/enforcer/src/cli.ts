/**
 * The `natfleet-enforcer` command line: `run` (the default) and `uninstall`, their
 * settings from flags or NATFLEET_* env variables (see config.ts), and the process
 * lifecycle (signals, exit codes). A bad setting exits 1 before anything starts, with a
 * message naming the flag and env variable.
 */
import { createLogger, onShutdown } from '@natfleet/service-kit';
import { Command } from 'commander';
import { addRunOptions, addUninstallOptions, runConfigFrom, uninstallConfigFrom } from './config.js';
import { runEnforcer } from './daemon.js';
import { isEnforcerError } from './errors.js';
import { uninstall } from './uninstall.js';
import { ENFORCER_VERSION } from './version.js';

/** The commander program (exported for help and config tests; parse with parseAsync). */
export function buildProgram(): Command {
  const program = new Command('natfleet-enforcer')
    .description('natfleet enforcer: one per node. Verifies signed NAT bundles from NATS, swaps the nftables table inet natfleet atomically, reports to natfleet-nodes, repairs drift, fails static.')
    .version(ENFORCER_VERSION)
    .showHelpAfterError('(see "natfleet-enforcer run --help" for every setting)')
    .addHelpText('after', '\nEvery setting can also come from its NATFLEET_* env variable; see "natfleet-enforcer run --help".');

  addRunOptions(
    program
      .command('run', { isDefault: true })
      .description('enforce bundles for this node (the default command)'),
  ).action(async (opts: Record<string, unknown>, cmd: Command) => {
    const config = configOrExit(cmd, () => runConfigFrom(opts));
    const logger = createLogger('natfleet-enforcer', config.logLevel);
    const running = await runEnforcer(config, logger);
    onShutdown(() => running.stop(), logger, 20_000);
  });

  addUninstallOptions(
    program
      .command('uninstall')
      .description(
        'delete the inet natfleet table and the saved bundle, and deregister the node (delete its natfleet-nodes key, so the compiler deletes its Node) when NATS settings are given; stop the service first; idempotent. ' +
          'Exits 1 when the node could not be deregistered (the table is removed anyway).',
      ),
  ).action(async (opts: Record<string, unknown>, cmd: Command) => {
    const config = configOrExit(cmd, () => uninstallConfigFrom(opts));
    const logger = createLogger('natfleet-enforcer', config.logLevel);
    const result = await uninstall(config, logger);
    process.stdout.write(`${result.tableDeleted ? 'deleted table inet natfleet' : 'table inet natfleet was not present'}; removed ${result.removedFiles.length} state file(s)\n`);
    const node = config.nodeName;
    const d = result.deregistration;
    switch (d.type) {
      case 'deleted':
        process.stdout.write(`deregistered node ${node}: deleted its key in natfleet-nodes (the compiler deletes its Node resource)\n`);
        break;
      case 'skipped':
        process.stdout.write(`node ${node} left registered (--skip-deregister)\n`);
        break;
      case 'not-configured':
        process.stderr.write(`note: node ${node} is still registered: no NATS settings given (--nats-url / NATFLEET_NATS_URL). Deregister it with "natctl node delete ${node}", or run uninstall again with the NATS settings.\n`);
        break;
      case 'failed':
        process.stderr.write(
          `error: node ${node} is still registered: ${d.message}\n` +
            `The table and state are removed. Retry when NATS is reachable, or run "natctl node delete ${node}"; --skip-deregister leaves the node registered on purpose.\n`,
        );
        process.exitCode = 1;
        break;
    }
  });
  return program;
}

function configOrExit<T>(cmd: Command, build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (isEnforcerError(err, 'CONFIG_INVALID')) cmd.error(`error: ${err.message}`, { exitCode: 1, code: 'natfleet.config' });
    throw err;
  }
}

/** Parses `argv` and runs the command; a failure to start exits 1 with the reason. */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
    process.stderr.write(`natfleet-enforcer: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
