#!/usr/bin/env node
// `npm start` / `npm stop`: the local natfleet stack on loopback.
// The stack itself (etcd + NATS + compiler + API + enforcers in node namespaces) is not
// built yet; until it is, this says what exists and what is missing instead of
// pretending. See README.md "Status".
const stopping = process.argv.includes('--stop');
const lines = [
  stopping ? 'natfleet stop: no local stack is running (it does not exist yet).' : 'natfleet start: the local stack is not built yet.',
  '',
  'Available now:',
  '  npm test          bootstrap (Debian packages, npm ci, build) and the full test suite',
  '  packages/model    Calico-compatible IPPool / FelixConfiguration / Node parsing and validation',
  '  packages/testkit  real etcd, nats-server (JetStream) and network-namespace topologies for tests',
  '',
  'Not yet: compiler service, enforcer, API, natctl, and this command starting them (see README.md "Status").',
];
console.log(lines.join('\n'));
process.exitCode = stopping ? 0 : 1;
