#!/usr/bin/env node
/** natctl entry point: wires run() to the real process. */
import { createInterface } from 'node:readline';
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

/**
 * One answer typed on the terminal (rollback's y/N), the prompt on stderr. Ctrl-C or
 * Ctrl-D answers '' (no).
 */
function readLine(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    let answered = false;
    let line = '';
    rl.on('SIGINT', () => rl.close());
    rl.on('close', () => {
      if (!answered) process.stderr.write('\n');
      resolve(answered ? line : '');
    });
    rl.question(prompt, (a) => {
      answered = true;
      line = a;
      rl.close();
    });
  });
}

const code = await run(process.argv.slice(2), {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  env: process.env,
  cwd: process.cwd(),
  stdin: readStdin,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  isTTY: process.stderr.isTTY === true,
  ...(process.stdin.isTTY === true && process.stderr.isTTY === true ? { readLine } : {}),
});
process.exitCode = code;
