/** The enforcer's own version (from its package.json), reported in every node status. */
import { createRequire } from 'node:module';

/** `version` of @natfleet/enforcer's package.json; resolved from src/ and dist/ alike. */
export const ENFORCER_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
