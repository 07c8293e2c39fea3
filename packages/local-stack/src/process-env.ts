/**
 * The environment of every process the local stack starts: the supervisor's own minus
 * every natfleet password, plus only what that process needs — nats-server every password
 * reference its config expands, each daemon its own NATS password and nothing of the
 * others'. The supervisor never puts a password into its own environment (children would
 * inherit it). Pure; never logs.
 */
import { passwordEnv, passwordEnvValue, type NatsUser } from './nats-auth.js';

/** NATFLEET_NATS_PASSWORD (a daemon's own) and NATFLEET_<USER>_PASSWORD (nats-server's references). */
const PASSWORD_VAR = /^NATFLEET_.*PASSWORD$/;

/** `parent` without any natfleet password variable, plus `own`. Empty `own`: just the scrubbed parent. */
export function childEnv(parent: NodeJS.ProcessEnv, own: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(parent)) if (!PASSWORD_VAR.test(k)) env[k] = v;
  return { ...env, ...own };
}

/**
 * nats-server's environment: the scrubbed parent plus `$NATFLEET_<USER>_PASSWORD` for every
 * user in its config, JSON-quoted (passwordEnvValue). Throws Error when a user has no
 * password in `passwords`.
 */
export function natsServerEnv(parent: NodeJS.ProcessEnv, users: readonly NatsUser[], passwords: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const refs: Record<string, string> = {};
  for (const u of users) {
    const pw = passwords[u.user];
    if (pw === undefined) throw new Error(`no password for NATS user ${JSON.stringify(u.user)}`);
    refs[passwordEnv(u.user)] = passwordEnvValue(pw);
  }
  return childEnv(parent, refs);
}
