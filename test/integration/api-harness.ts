// Shared by the integration tests that drive the API in-process against real etcd and
// NATS: building the fastify app with every service (resources, rollout, node inventory),
// listening on a random loopback port, and running natctl in-process against it. Every
// app built here (and every app passed to checkApiResponses) checks each answer against
// the OpenAPI document's schema for its route and status: a mismatch makes app.close()
// reject, so the test file's teardown fails naming it. Not a test file itself.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_ROUTES, NodeService, ResourceService, RolloutControlService, RolloutPolicyService, RolloutService, TokenSet, buildApp, checkResponses, type ResponseViolation } from '@natfleet/api';
import type { TrustedKeys } from '@natfleet/bundle';
import { run, type Io } from '@natfleet/natctl';
import { EtcdStore } from '@natfleet/store';
import type { Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import type { JetStreamClient, JetStreamManager } from 'nats';
import { pino } from 'pino';
import { Registry } from 'prom-client';

export interface TestApi {
  app: FastifyInstance;
  store: EtcdStore;
  /** Set once `listen()` resolved. */
  url: string;
  /** Answers that did not match their documented schema so far (app.close() rejects when any). */
  responseViolations: readonly ResponseViolation[];
  listen(): Promise<string>;
}

export interface TestApiOptions {
  etcd: Etcd3;
  js: JetStreamClient;
  jsm: JetStreamManager;
  cluster: string;
  /** `<token> <role> [name]` lines. */
  tokens: string;
  silentAfterMs?: number;
  trustedKeys?: TrustedKeys;
  bodyLimit?: number;
  /** natfleet's own etcd prefix (RolloutPolicies, rollout state, commands, outcomes), as --natfleet-prefix; default /natfleet/v1. */
  natfleetPrefix?: string;
}

/** The API app with every service wired as main.ts wires them, not yet listening. */
export async function buildTestApi(o: TestApiOptions): Promise<TestApi> {
  const store = new EtcdStore(o.etcd);
  const rollout = new RolloutService({ js: o.js, jsm: o.jsm, store, cluster: o.cluster, silentAfterMs: o.silentAfterMs ?? 30_000, ...(o.trustedKeys ? { trustedKeys: o.trustedKeys } : {}) });
  const app = await buildApp({
    resources: new ResourceService(store),
    rollout,
    nodes: new NodeService({ rollout, store, js: o.js }),
    ...(o.natfleetPrefix !== undefined ? { rolloutPolicies: new RolloutPolicyService(store, o.natfleetPrefix), rolloutControl: new RolloutControlService(store, o.natfleetPrefix) } : {}),
    tokens: TokenSet.parse(o.tokens),
    registry: new Registry(),
    readiness: () => ({}),
    logger: pino({ level: 'silent' }),
    bodyLimit: o.bodyLimit ?? 1024 * 1024,
  });
  const { violations } = checkApiResponses(app);
  const api: TestApi = {
    app,
    store,
    url: '',
    responseViolations: violations,
    async listen() {
      api.url = await app.listen({ host: '127.0.0.1', port: 0 });
      return api.url;
    },
  };
  return api;
}

/**
 * Checks every answer of `app` (built, not yet ready) against the OpenAPI document; its
 * close() then rejects listing the answers that did not match. For tests that build the
 * app themselves.
 */
export function checkApiResponses(app: FastifyInstance): { violations: readonly ResponseViolation[] } {
  return checkResponses(app, ALL_ROUTES, { failOnClose: true });
}

export interface NatctlResult {
  code: number;
  out: string;
  err: string;
}

/** A natctl runner against `apiUrl()` with `token`; stdin and TTY-ness per call. */
export function natctlAgainst(apiUrl: () => string, token: string): (args: string[], input?: string, extra?: Partial<Io>) => Promise<NatctlResult> {
  const cwd = mkdtempSync(join(tmpdir(), 'natfleet-natctl-'));
  return async (args, input = '', extra = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = {
      out: (s) => out.push(s),
      err: (s) => err.push(s),
      env: { NATFLEET_API_URL: apiUrl(), NATFLEET_API_TOKEN: token },
      cwd,
      stdin: async () => input,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      ...extra,
    };
    const code = await run(args, io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
}
