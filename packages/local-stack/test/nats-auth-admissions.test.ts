// Rollout admissions (natfleet.admission.<cluster>, DESIGN.md §10) under the deployment's
// NATS permissions: the compiler adds the subject to an older stream and publishes; an
// enforcer receives new ones on a plain subscription (no consumer) and reads the newest
// with a stored-message get; neither an enforcer nor the API may publish one (the
// signature would refuse it anyway: this is the first wall). Its own server, so the
// stream-wide message counts of nats-auth.test.ts stay as they are.
import { BUNDLE_STREAM, admissionSubject, ensureBundleStream, latestAdmission, publishAdmission, subscribeAdmissions } from '@natfleet/bus';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enforcerUser } from '../src/index.js';
import { startAuthServer, type AuthServer } from './auth-server.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const DENIED = /permissions violation/i;
const NODE = 'node-1';

describe('NATS permissions: rollout admissions', () => {
  let server: AuthServer;
  let admin: NatsConnection;
  const as = (user: string): Promise<NatsConnection> => server.as(user);

  beforeAll(async () => {
    server = await startAuthServer([NODE]);
    admin = server.admin;
  });
  afterAll(async () => server?.close());

  it('compiler: adds the subject to an older stream and publishes; an enforcer subscription receives it live', async () => {
    await (await admin.jetstreamManager()).streams.add({ name: BUNDLE_STREAM, subjects: ['natfleet.bundle.>'] });
    const compiler = await as('compiler');
    await ensureBundleStream(await compiler.jetstreamManager());
    expect((await (await admin.jetstreamManager()).streams.info(BUNDLE_STREAM)).config.subjects).toContain('natfleet.admission.>');

    const enforcer = await as(enforcerUser(NODE));
    const stop = new AbortController();
    const got: string[] = [];
    const following = (async () => {
      for await (const m of subscribeAdmissions(enforcer, 'default', stop.signal)) {
        got.push(dec(m.data));
        if (got.length === 2) stop.abort();
      }
    })();
    await enforcer.flush(); // the subscription is registered before the publishes
    await publishAdmission(compiler.jetstream(), { cluster: 'default', data: enc('a1'), msgId: 'default.admission.1', expectedLastSubjectSequence: 0 });
    const second = await publishAdmission(compiler.jetstream(), { cluster: 'default', data: enc('a2'), msgId: 'default.admission.2' });
    await following;
    expect(got).toEqual(['a1', 'a2']);
    // Fenced on the subject's last sequence: a deposed leader's late publish is refused.
    await expect(publishAdmission(compiler.jetstream(), { cluster: 'default', data: enc('late'), msgId: 'default.admission.0', expectedLastSubjectSequence: second.seq - 1 })).rejects.toThrow(/moved on/);
  });

  it('api and enforcer: read the newest admission, publish none', async () => {
    for (const user of ['api', enforcerUser(NODE)]) {
      const nc = await as(user);
      expect(dec((await latestAdmission(await nc.jetstreamManager(), 'default'))?.data)).toBe('a2');
      await expect(nc.jetstream().publish(admissionSubject('default'), enc('forged'), { timeout: 2_000 })).rejects.toThrow(DENIED);
      await expect(publishAdmission(nc.jetstream(), { cluster: 'other', data: enc('forged'), msgId: 'x' })).rejects.toThrow(DENIED);
    }
    expect(dec((await latestAdmission(await admin.jetstreamManager(), 'default'))?.data)).toBe('a2');
    expect(await latestAdmission(await admin.jetstreamManager(), 'other')).toBeUndefined();
  });
});
