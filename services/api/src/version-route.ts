/**
 * GET /v1/version: which API answers (its package version), which bundle apiVersion the
 * fleet speaks and which cluster's bundles it serves — what `natctl version` prints next
 * to its own version. Read token required, as for every /v1 route.
 */
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BUNDLE_API_VERSION } from '@natfleet/bundle';

/** `version` of @natfleet/api's package.json; resolved from src/ and dist/ alike. */
export const API_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export interface VersionInfo {
  /** The API server's version. */
  version: string;
  /** The apiVersion of the bundles (natfleet.io/v1). */
  bundleApiVersion: string;
  /** The cluster whose bundles this API reads. */
  cluster: string;
}

type Guard = { preHandler: (req: FastifyRequest, reply: FastifyReply) => Promise<void> };

export function registerVersionRoute(app: FastifyInstance, cluster: string, guard: Guard): void {
  const info: VersionInfo = { version: API_VERSION, bundleApiVersion: BUNDLE_API_VERSION, cluster };
  app.get('/v1/version', guard, async () => info);
}
