// The evaluation records (natfleet.evaluated.<cluster>, DESIGN.md §9) under the deployment's
// NATS permissions: the compiler adds the subject to a stream made before it existed and
// publishes records; the API (and an enforcer, which reads the same stream) can read the
// newest; neither may publish one. Its own server, so the stream-wide message counts of
// nats-auth.test.ts stay as they are.
import { BUNDLE_STREAM, ensureBundleStream, evaluatedSubject, latestEvaluation, publishBundle, publishEvaluation } from '@natfleet/bus';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enforcerUser } from '../src/index.js';
import { startAuthServer, type AuthServer } from './auth-server.js';

const enc = (s: string) => new TextEncoder().encode(s);
const DENIED = /permissions violation/i;
const NODE = 'node-1';

describe('NATS permissions: evaluation records', () => {
  let server: AuthServer;
  let admin: NatsConnection;
  const as = (user: string): Promise<NatsConnection> => server.as(user);

  beforeAll(async () => {
    server = await startAuthServer([NODE]);
    admin = server.admin;
  });
  afterAll(async () => server?.close());

  it('compiler: adds the subject to an older stream and publishes records', async () => {
    await (await admin.jetstreamManager()).streams.add({ name: BUNDLE_STREAM, subjects: ['natfleet.bundle.>'] });
    const nc = await as('compiler');
    await ensureBundleStream(await nc.jetstreamManager());
    expect((await (await admin.jetstreamManager()).streams.info(BUNDLE_STREAM)).config.subjects).toContain('natfleet.evaluated.>');
    await publishBundle(nc.jetstream(), { cluster: 'default', data: enc('b1'), version: 1, digest: 'sha256:1', contentDigest: 'c1' });
    await publishEvaluation(nc.jetstream(), { cluster: 'default', data: enc('e3'), msgId: 'default.evaluated.3', expectedLastSubjectSequence: 0 });
  });

  it('api and enforcer: read the newest record, publish none', async () => {
    for (const user of ['api', enforcerUser(NODE)]) {
      const nc = await as(user);
      expect(new TextDecoder().decode((await latestEvaluation(await nc.jetstreamManager(), 'default'))?.data)).toBe('e3');
      await expect(nc.jetstream().publish(evaluatedSubject('default'), enc('forged'), { timeout: 2_000 })).rejects.toThrow(DENIED);
      await expect(publishEvaluation(nc.jetstream(), { cluster: 'other', data: enc('forged'), msgId: 'x' })).rejects.toThrow(DENIED);
    }
    expect(new TextDecoder().decode((await latestEvaluation(await admin.jetstreamManager(), 'default'))?.data)).toBe('e3');
    expect(await latestEvaluation(await admin.jetstreamManager(), 'other')).toBeUndefined();
  });
});
