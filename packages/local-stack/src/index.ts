/** @natfleet/local-stack — the `npm start` stack and the NATS permission model it shares with deploy/. */
export { apiPermissions, compilerPermissions, enforcerPermissions, enforcerUser, natfleetUsers, passwordEnv, passwordEnvValue, renderAuthorization } from './nats-auth.js';
export { childEnv, natsServerEnv } from './process-env.js';
export type { NatsUser, Permissions } from './nats-auth.js';
export { LocalStack, podSubnet } from './stack.js';
export { LocalStackError, isLocalStackError } from './errors.js';
export type { LocalStackErrorCode } from './errors.js';
export { probeLine, probeTargets } from './probe.js';
export type { StackOptions } from './stack.js';
export { StackState } from './state.js';
export type { NodeRecord, Secrets, StackPorts, StackRecord } from './state.js';
