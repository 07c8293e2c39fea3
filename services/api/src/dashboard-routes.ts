/**
 * The web dashboard's server side: the built static assets of @natfleet/dashboard at `/`
 * (index.html and content-hashed JS/CSS; no token needed for the files themselves, every
 * data call needs one), GET /v1/whoami (who the bearer token is and whether it may write,
 * so the page shows action buttons only to writers) and the live feed GET /v1/events
 * (events-route.ts). Never serves anything outside the assets directory, never accepts a
 * token from a URL.
 */
import fastifyStatic from '@fastify/static';
import { DASHBOARD_ASSETS_DIR, dashboardBuilt } from '@natfleet/dashboard';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { bearerToken, type TokenSet } from './auth.js';
import { ApiError } from './errors.js';
import { natsChangeSources } from './change-sources.js';
import { registerEventsRoute } from './events-route.js';
import { rolloutView } from './rollout-control-routes.js';
import type { RolloutControlService } from './rollout-control-service.js';
import type { RolloutService } from './rollout-service.js';

type Guard = { preHandler: (req: FastifyRequest, reply: FastifyReply) => Promise<void> };

/** GET /v1/whoami's answer. */
export interface Whoami {
  /** The token's name (its role when the token file names none). */
  name: string;
  /** The token may write (POST/PUT/DELETE, rollout commands). */
  write: boolean;
}

/** For the OpenAPI document: the routes this module adds, with their answers. */
export const DASHBOARD_ROUTES = {
  '/': 'The web dashboard (static HTML; sign in with an API token).',
  '/v1/whoami': 'Who the bearer token is: {name: string, write: boolean}. Read token.',
  '/v1/events': 'text/event-stream; event `rollout` carries the GET /v1/rollout body, sent at once on connect, on change (node-status bucket watch, bundle stream checked every second) and at least every 10 s; `: ping` comments keep the connection. Read token.',
} as const;

// The page loads nothing from elsewhere and is never framed.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export interface DashboardDeps {
  tokens: TokenSet;
  rollout: RolloutService;
  control: RolloutControlService;
  logger: Logger;
  /** Built assets; default: @natfleet/dashboard's dist/public. */
  assetsDir?: string;
}

export function registerDashboardRoutes(app: FastifyInstance, deps: DashboardDeps, read: Guard): void {
  app.get('/v1/whoami', read, async (req): Promise<Whoami> => {
    const id = deps.tokens.identify(bearerToken(req.headers.authorization) ?? '');
    // The guard already refused unknown tokens.
    if (!id) throw new ApiError('UNAUTHORIZED', 'unknown token');
    return { name: id.name, write: id.role === 'write' };
  });
  registerEventsRoute(app, { view: () => rolloutView(deps.rollout, deps.control), logger: deps.logger, sources: natsChangeSources(() => deps.rollout.bus) }, read);

  const dir = deps.assetsDir ?? DASHBOARD_ASSETS_DIR;
  if (!dashboardBuilt(dir)) {
    deps.logger.warn({ dir }, 'dashboard assets not built (npm run build): / answers 404');
    app.get('/', async () => {
      throw new ApiError('NOT_FOUND', `the dashboard is not built (no ${dir}index.html): run npm run build`);
    });
    return;
  }
  // wildcard: false registers one route per file found at start: nothing else under / is
  // served, and the API's own routes are never shadowed. The price: after rebuilding the
  // dashboard, restart the API (new hashed file names are unknown until then).
  void app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    setHeaders: (res, path) => {
      if (path.endsWith('.html')) {
        res.header('cache-control', 'no-cache');
        res.header('content-security-policy', CSP);
      } else {
        // File names carry a content hash: a new build is a new name.
        res.header('cache-control', 'public, max-age=31536000, immutable');
      }
      res.header('x-content-type-options', 'nosniff');
    },
  });
}
