/**
 * HTTP routes of the node inventory: GET /v1/nodes, GET /v1/nodes/:name (describe, with
 * the desired-vs-enforced NAT diff) and DELETE /v1/nodes/:name (decommission; write token).
 * Node names are validated before use (DNS-1123 subdomain, as Kubernetes node names).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dns1123SubdomainProblem } from '@natfleet/model';
import { ApiError } from './errors.js';
import type { NodeService } from './node-service.js';

type Guard = { preHandler: (req: FastifyRequest, reply: FastifyReply) => Promise<void> };

function nodeName(raw: string): string {
  const problem = dns1123SubdomainProblem(raw);
  if (problem !== undefined) throw new ApiError('BAD_REQUEST', `node name ${JSON.stringify(raw.slice(0, 300))}: ${problem}`);
  return raw;
}

export function registerNodeRoutes(app: FastifyInstance, nodes: NodeService, guards: { read: Guard; write: Guard }): void {
  app.get('/v1/nodes', guards.read, async () => nodes.list());
  app.get<{ Params: { name: string } }>('/v1/nodes/:name', guards.read, async (req) => nodes.describe(nodeName(req.params.name)));
  app.delete<{ Params: { name: string } }>('/v1/nodes/:name', guards.write, async (req) => nodes.delete(nodeName(req.params.name)));
}
