/**
 * The one pino logger of a service. Libraries never log; services create this once in
 * main and pass children with bound fields (node, version, digest) down.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout, with `service` bound. `level` default info. */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({ level, base: { service, pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
