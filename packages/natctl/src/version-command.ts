/**
 * `natctl version [--client] [-o text|json]`: natctl's own version (its package.json), and
 * from GET /v1/version the API server's version, the bundle apiVersion and the cluster it
 * serves. When the API cannot be asked, the client version is still printed, then the
 * error, and the command fails (exit 1 when unreachable, else the error's code).
 */
import { createRequire } from 'node:module';
import { Option, type Command } from 'commander';
import { CliError, type ApiClient } from './client.js';

/** `version` of @natfleet/natctl's package.json; resolved from src/ and dist/ alike. */
export const NATCTL_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** What GET /v1/version answers. */
export interface ServerVersion {
  version: string;
  bundleApiVersion: string;
  cluster: string;
}

/** Text output: kubectl's `Client Version:` / `Server Version:` lines. */
export function formatVersion(server: ServerVersion | undefined): string {
  const lines = [`Client Version: ${NATCTL_VERSION}`];
  if (server) lines.push(`Server Version: ${server.version}`, `Bundle API Version: ${server.bundleApiVersion}`, `Cluster: ${server.cluster}`);
  return lines.join('\n');
}

export function registerVersionCommand(program: Command, io: { client: () => ApiClient; out: (s: string) => void; err: (s: string) => void }): void {
  program
    .command('version')
    .description('natctl\'s version, and the API server\'s version, bundle apiVersion and cluster')
    .option('--client', 'only the client version (no API call)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (o: { client?: boolean; output: 'text' | 'json' }) => {
      const print = (server: ServerVersion | undefined, error?: string): void => {
        if (o.output === 'json') io.out(JSON.stringify({ clientVersion: NATCTL_VERSION, ...(server ? { serverVersion: server.version, bundleApiVersion: server.bundleApiVersion, cluster: server.cluster } : {}), ...(error !== undefined ? { error } : {}) }, null, 2));
        else io.out(formatVersion(server));
      };
      if (o.client) return print(undefined);
      let server: ServerVersion;
      try {
        server = await io.client().request<ServerVersion>('GET', '/v1/version');
      } catch (err) {
        if (!(err instanceof CliError)) throw err;
        // The client version is known whatever the server says; the error follows (run() prints it).
        print(undefined, err.message);
        throw err;
      }
      print(server);
    });
}
