/**
 * Route-table entries of the web dashboard's server side (dashboard-routes.ts,
 * events-route.ts): GET / (the page), GET /v1/whoami and the live feed GET /v1/events
 * (text/event-stream), plus which of the routes fastify registers are deliberately left
 * out of the document (the page's hashed asset files). Data only.
 */
import { Type } from '@sinclair/typebox';
import { Str } from './common.js';
import { ErrorResponse, json, standardErrors, type RouteDoc } from './route-table.js';

export const Whoami = Type.Object({ name: Str("The token's name (its role when the token file names none)"), write: Type.Boolean({ description: 'The token may write (POST/PUT/DELETE, rollout commands)' }) }, { title: 'Whoami' });

export const DASHBOARD_ROUTE_DOCS: readonly RouteDoc[] = [
  {
    method: 'GET',
    url: '/',
    tag: 'dashboard',
    auth: 'none',
    summary: 'The web dashboard (static HTML and its hashed JS/CSS files; no token for the files, every data call needs one: sign in with an API token)',
    responses: { '200': { description: 'The page', contentType: 'text/html' }, '404': ErrorResponse('The dashboard assets are not built (npm run build)') },
  },
  { method: 'GET', url: '/v1/whoami', tag: 'dashboard', auth: 'read', summary: 'Who the bearer token is and whether it may write (the dashboard shows action buttons to writers only)', responses: { '200': json('The token', Whoami), ...standardErrors('read') } },
  {
    method: 'GET',
    url: '/v1/events',
    tag: 'dashboard',
    auth: 'read',
    summary:
      'Server-Sent Events: event `rollout` carries the GET /v1/rollout body (schema Rollout), sent on change (recomputed when a node status changes in the KV bucket or a new message lands on the bundle stream, checked every second, while a client listens), at once on connect when warm, and at least every 10 s; `: ping` comments keep the connection. Send the bearer header (read the stream with fetch): a token never goes in a URL',
    responses: { '200': { description: 'text/event-stream of `event: rollout` messages whose data is a Rollout (JSON)', contentType: 'text/event-stream' }, ...standardErrors('read') },
  },
];

/**
 * Routes fastify registers that the document leaves out on purpose: the dashboard's asset
 * files (one route per built file, names carrying a content hash; GET / documents the page).
 */
export function isUndocumentedRoute(url: string): boolean {
  return url === '/index.html' || url.startsWith('/assets/');
}
