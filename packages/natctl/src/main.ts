#!/usr/bin/env node
/** natctl entry point: wires run() to the real process. */
import { run } from './cli.js';

// `natctl get … | head`: a closed pipe ends the output quietly, as other CLIs do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const code = await run(process.argv.slice(2), {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  env: process.env,
  cwd: process.cwd(),
  stdin: readStdin,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  isTTY: process.stderr.isTTY === true,
});
process.exitCode = code;
