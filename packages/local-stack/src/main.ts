#!/usr/bin/env node
/**
 * natfleet-local: `start` (npm start), `stop` (npm stop), `status`, `probe` (what each
 * simulated pod looks like from outside), `logs` (npm run logs) and `nats-auth` (render
 * deploy/nats users).
 * State dir: NATFLEET_STATE_DIR, default <repo>/.natfleet.
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { Netns, REPO_ROOT, isMissingBinaryError, isRoot, pidAlive as alive, probePeer } from '@natfleet/testkit';
import { hostView, leftovers, removeLeftovers } from './cleanup.js';
import { isLocalStackError } from './errors.js';
import { showLogs } from './logs-command.js';
import { natfleetUsers, renderAuthorization } from './nats-auth.js';
import { probeLine, probeTargets } from './probe.js';
import { LocalStack } from './stack.js';
import { StackState } from './state.js';

const stateDir = process.env.NATFLEET_STATE_DIR ?? join(REPO_ROOT, '.natfleet');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function needRoot(what: string): void {
  if (isRoot()) return;
  console.error(
    `natfleet-local ${what}: needs root. The local stack creates network namespaces and nftables\n` +
      `tables for its simulated nodes (CAP_NET_ADMIN, CAP_SYS_ADMIN). Run it as root, e.g.\n` +
      `  sudo npm start\n` +
      `Nothing was started.`,
  );
  process.exit(1);
}

const program = new Command('natfleet-local').description('natfleet on one machine: etcd, NATS, compiler, API and simulated nodes on loopback.');

program
  .command('start', { isDefault: true })
  .description('start the stack in the foreground; Ctrl-C (or `npm stop`) stops it, keeping the data')
  .action(async () => {
    needRoot('start');
    const state = new StackState(stateDir);
    const prev = state.readRecord();
    if (prev) {
      const left = leftovers(prev, hostView());
      if (left.supervisorAlive && prev.state !== 'stopped') {
        console.error(`natfleet-local: already running (pid ${prev.supervisorPid}); stop it with \`npm stop\``);
        process.exit(1);
      }
      // A previous stack that was killed (SIGKILL, OOM) left its children and namespaces.
      const said = left.supervisorAlive ? [] : await removeLeftovers(left);
      if (said.length > 0) console.log(`natfleet-local: cleaned up after the previous stack (supervisor pid ${prev.supervisorPid}, not running): ${said.join('; ')}`);
    }
    const nodes = Number(process.env.NATFLEET_NODES ?? '2');
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > 8) {
      console.error('natfleet-local: NATFLEET_NODES must be a whole number from 1 to 8');
      process.exit(1);
    }
    const compilers = Number(process.env.NATFLEET_COMPILERS ?? '1');
    if (compilers !== 1 && compilers !== 2) {
      console.error('natfleet-local: NATFLEET_COMPILERS must be 1 or 2 (2 = an active/standby pair)');
      process.exit(1);
    }
    const stack = new LocalStack({
      stateDir,
      nodes,
      compilers,
      healthChecks: (process.env.NATFLEET_LOCAL_HEALTH_CHECKS ?? 'true') !== 'false',
      poolCidr: process.env.NATFLEET_IPV4POOL_CIDR ?? '192.168.0.0/16',
      poolNatOutgoing: (process.env.NATFLEET_IPV4POOL_NAT_OUTGOING ?? 'true') !== 'false',
      cluster: process.env.NATFLEET_CLUSTER ?? 'default',
      logLevel: process.env.NATFLEET_LOG_LEVEL ?? 'info',
      log: (l) => console.log(l),
    });
    let stopping = false;
    let forcing = false;
    const shutdown = async (sig: string): Promise<void> => {
      if (stopping) {
        // Second signal: do not wait for graceful exits; still remove the namespaces.
        if (forcing) return;
        forcing = true;
        console.log(`natfleet-local: ${sig} again: forcing (SIGKILL to every child, then removing the namespaces)`);
        const removed = await stack.forceStop();
        console.log(`natfleet-local: forced stop done${removed.length > 0 ? `; removed namespaces ${removed.join(', ')}` : ''}`);
        process.exit(130);
      }
      stopping = true;
      console.log(`\nnatfleet-local: ${sig}: stopping (data kept in ${stateDir}; Ctrl-C again to force)`);
      await stack.stop();
      if (forcing) return; // the forced stop exits
      console.log('natfleet-local: stopped');
      process.exit(0);
    };
    process.on('SIGINT', () => void shutdown('SIGINT'));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    try {
      await stack.start();
    } catch (err) {
      if (stopping) return; // interrupted while starting: shutdown() reports and exits
      console.error(`natfleet-local: start failed: ${(err as Error).message}`);
      if (isMissingBinaryError(err)) console.error('run `npm run bootstrap` (as root) to install it');
      process.exit(1);
    }
    setInterval(() => undefined, 1 << 30); // stay in the foreground until a signal
  });

program
  .command('stop')
  .description('stop a running stack (by its supervisor PID) and remove its namespaces; data is kept')
  .action(async () => {
    const state = new StackState(stateDir);
    const r = state.readRecord();
    const first = r && leftovers(r, hostView());
    if (!r || !first || (r.state === 'stopped' && !first.supervisorAlive && first.kill.length === 0 && first.namespaces.length === 0)) {
      console.log('natfleet-local: not running');
      return;
    }
    if (first.supervisorAlive) {
      process.kill(r.supervisorPid, 'SIGTERM');
      for (let i = 0; i < 300 && leftovers(r, hostView()).supervisorAlive; i++) await sleep(100);
    }
    // Supervisor gone (or crashed earlier): make sure nothing it started survives (ours only: cleanup.ts).
    const left = leftovers(state.readRecord() ?? r, hostView());
    if (!left.supervisorAlive) for (const line of await removeLeftovers(left)) console.log(`natfleet-local: ${line}`);
    const now = state.readRecord() ?? r;
    if (now.state !== 'stopped') state.writeRecord({ ...now, state: 'stopped' });
    console.log('natfleet-local: stopped');
  });

program
  .command('status')
  .description('where the running stack listens')
  .action(() => {
    const r = new StackState(stateDir).readRecord();
    if (!r || !alive(r.supervisorPid) || r.state === 'stopped') {
      console.log('natfleet-local: not running');
      process.exitCode = 1;
      return;
    }
    console.log(JSON.stringify(r, null, 2));
  });

program
  .command('probe')
  .description('connect from each simulated pod to its external host and show the source address it saw')
  .argument('[node]', 'only this node')
  .action(async (only?: string) => {
    needRoot('probe');
    const r = new StackState(stateDir).readRecord();
    if (!r || r.state !== 'running') {
      console.error('natfleet-local: not running (start it with `npm start`)');
      process.exit(1);
    }
    let targets;
    try {
      targets = probeTargets(r.nodes, only);
    } catch (err) {
      console.error(`natfleet-local probe: ${(err as Error).message}`);
      process.exit(1);
    }
    for (const n of targets) console.log(probeLine(n, await probePeer(Netns.attach(n.podNetns), n.extAddress, n.peerPort)));
  });

program
  .command('logs')
  .description('the daemons\' logs pretty-printed: all merged by time, or one daemon\'s; -f follows')
  .argument('[daemon]', 'compiler-1, api, enforcer-node-1 (or node-1), nats-server…')
  .option('-f, --follow', 'keep printing new lines')
  .option('-n, --lines <n>', 'lines to print first (the newest)', '200')
  .action(async (daemon: string | undefined, o: { follow?: boolean; lines: string }) => {
    const lines = Number(o.lines);
    if (!Number.isInteger(lines) || lines < 0) {
      console.error('natfleet-local logs: --lines must be a whole number');
      process.exit(1);
    }
    try {
      await showLogs({ stateDir, ...(daemon !== undefined ? { daemon } : {}), follow: o.follow === true, lines, out: (l) => console.log(l) });
    } catch (err) {
      if (!isLocalStackError(err)) throw err;
      console.error(`natfleet-local logs: ${err.message}`);
      process.exit(1);
    }
  });

program
  .command('nats-auth')
  .description('print the nats-server authorization block for these node names (deploy/nats/natfleet-auth.conf)')
  .requiredOption('--nodes <names>', 'comma-separated node names')
  .action((o: { nodes: string }) => {
    process.stdout.write(renderAuthorization(natfleetUsers(o.nodes.split(',').map((s) => s.trim()).filter(Boolean))));
  });

program.parseAsync().catch((err: unknown) => {
  console.error(`natfleet-local: ${(err as Error).message}`);
  process.exit(1);
});

