// Rollout admissions on the bundle stream against a real nats-server: publish with msg-id
// dedupe and fencing on the subject's last sequence, the latest per cluster (none before
// the first), a plain core subscriber receiving a JetStream publish, and bundle readers
// never seeing admissions.
import type { NatsConnection } from 'nats';
import { beforeAll, describe, expect, it } from 'vitest';
import { useNatsServer } from './nats-fixture.js';
import { admissionSubject, bundleHistory, ensureBundleStream, isBusError, latestAdmission, latestBundle, publishAdmission, publishBundle, subscribeAdmissions } from '../src/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

describe('admissions', () => {
  const server = useNatsServer();
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = server.nc();
    await ensureBundleStream(await nc.jetstreamManager());
  });

  it('the subject is one per cluster; none stored before the first publish', async () => {
    expect(admissionSubject('c1')).toBe('natfleet.admission.c1');
    expect(() => admissionSubject('a.b')).toThrow(RangeError);
    expect(await latestAdmission(await nc.jetstreamManager(), 'empty')).toBeUndefined();
  });

  it('publishes with msg-id dedupe and fencing; the latest is per cluster; bundle readers never see admissions', async () => {
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const first = await publishAdmission(js, { cluster: 'c1', data: enc('a10'), msgId: 'c1.admission.10', expectedLastSubjectSequence: 0 });
    expect(first.duplicate).toBe(false);
    expect(await latestAdmission(jsm, 'c1')).toEqual({ seq: first.seq, data: enc('a10') });
    // The same msg-id again: deduplicated, the stored one is unchanged.
    const again = await publishAdmission(js, { cluster: 'c1', data: enc('a10 again'), msgId: 'c1.admission.10' });
    expect(again.duplicate).toBe(true);
    expect(dec((await latestAdmission(jsm, 'c1'))?.data)).toBe('a10');
    // A deposed leader fenced on the empty subject cannot write over a10.
    const fenced = await publishAdmission(js, { cluster: 'c1', data: enc('stale'), msgId: 'c1.admission.9', expectedLastSubjectSequence: 0 }).catch((e: unknown) => e);
    expect(isBusError(fenced, 'PUBLISH_FENCED')).toBe(true);
    // The current leader, fenced on a10's sequence, can.
    const next = await publishAdmission(js, { cluster: 'c1', data: enc('a11'), msgId: 'c1.admission.11', expectedLastSubjectSequence: first.seq });
    expect(dec((await latestAdmission(jsm, 'c1'))?.data)).toBe('a11');
    expect(next.seq).toBeGreaterThan(first.seq);
    // Another cluster's subject is separate.
    await publishAdmission(js, { cluster: 'c2', data: enc('b1'), msgId: 'c2.admission.1' });
    expect(dec((await latestAdmission(jsm, 'c1'))?.data)).toBe('a11');
    expect(dec((await latestAdmission(jsm, 'c2'))?.data)).toBe('b1');
    // Bundle readers of c1 see bundles only.
    await publishBundle(js, { cluster: 'c1', data: enc('bundle3'), version: 3, digest: 'sha256:03', contentDigest: 'x' });
    expect((await latestBundle(jsm, 'c1'))?.version).toBe(3);
    expect((await bundleHistory(js, 'c1')).map((b) => dec(b.data))).toEqual(['bundle3']);
  });

  it('a plain core subscriber receives a JetStream publish (no consumer created); the iterable ends on abort', async () => {
    const jsm = await nc.jetstreamManager();
    const consumersBefore = (await jsm.consumers.list('NATFLEET_BUNDLES').next()).length;
    const stop = new AbortController();
    const got: string[] = [];
    const reading = (async () => {
      for await (const m of subscribeAdmissions(nc, 'c3', stop.signal)) {
        expect(m.seq).toBe(0);
        got.push(dec(m.data));
        if (got.length === 2) stop.abort();
      }
    })();
    await nc.flush(); // the subscription is registered at the server before publishing
    const js = nc.jetstream();
    await publishAdmission(js, { cluster: 'c3', data: enc('x1'), msgId: 'c3.admission.1' });
    await publishAdmission(js, { cluster: 'c4', data: enc('other cluster'), msgId: 'c4.admission.1' });
    await publishAdmission(js, { cluster: 'c3', data: enc('x2'), msgId: 'c3.admission.2' });
    await Promise.race([reading, new Promise((_, reject) => setTimeout(() => reject(new Error('no admission delivered within 10 s')), 10_000))]);
    expect(got).toEqual(['x1', 'x2']);
    expect((await jsm.consumers.list('NATFLEET_BUNDLES').next()).length).toBe(consumersBefore);
  });

  it('an already aborted signal ends the iterable at once', async () => {
    const stop = new AbortController();
    stop.abort();
    const got: unknown[] = [];
    for await (const m of subscribeAdmissions(nc, 'c5', stop.signal)) got.push(m);
    expect(got).toEqual([]);
  });
});
