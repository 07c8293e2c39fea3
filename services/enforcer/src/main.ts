#!/usr/bin/env node
// natfleet-enforcer entry point: everything lives in cli.ts.
import { main } from './cli.js';

await main(process.argv);
