// Evaluation records on the bundle stream against a real nats-server: a stream made before
// they existed gains the subject (keeping its bundles); publish with msg-id dedupe and
// fencing; the latest per cluster; bundle readers never see them.
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useNatsServer } from './nats-fixture.js';
import { BUNDLE_STREAM, bundleHistory, ensureBundleStream, evaluatedSubject, isBusError, latestBundle, latestEvaluation, publishBundle, publishEvaluation } from '../src/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

describe('evaluation records', () => {
  const server = useNatsServer();
  let nc: NatsConnection;
  beforeAll(() => {
    nc = server.nc();
  });

  it('an older stream (bundles only) gains natfleet.evaluated.> and natfleet.admission.> and keeps its bundles', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: BUNDLE_STREAM, subjects: ['natfleet.bundle.>', 'extra.kept'], max_msgs_per_subject: 20 });
    await publishBundle(nc.jetstream(), { cluster: 'c1', data: enc('b5'), version: 5, digest: 'sha256:05', contentDigest: 'x' });
    expect(await latestEvaluation(jsm, 'c1')).toBeUndefined();
    await ensureBundleStream(jsm);
    expect((await jsm.streams.info(BUNDLE_STREAM)).config.subjects).toEqual(['natfleet.bundle.>', 'extra.kept', 'natfleet.evaluated.>', 'natfleet.admission.>']);
    expect((await latestBundle(jsm, 'c1'))?.version).toBe(5);
    await ensureBundleStream(jsm); // idempotent
    expect((await jsm.streams.info(BUNDLE_STREAM)).config.subjects).toHaveLength(4);
  });

  it('publishes fenced with msg-id dedupe; the latest is per cluster; bundle readers never see them', async () => {
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    expect(evaluatedSubject('c1')).toBe('natfleet.evaluated.c1');
    expect(() => evaluatedSubject('a.b')).toThrow(RangeError);
    const first = await publishEvaluation(js, { cluster: 'c1', data: enc('r7'), msgId: 'c1.evaluated.7', expectedLastSubjectSequence: 0 });
    expect(first.duplicate).toBe(false);
    expect(dec((await latestEvaluation(jsm, 'c1'))?.data)).toBe('r7');
    expect((await publishEvaluation(js, { cluster: 'c1', data: enc('r7 again'), msgId: 'c1.evaluated.7' })).duplicate).toBe(true);
    // A deposed publisher still fenced on an empty subject cannot write over r7.
    const fenced = await publishEvaluation(js, { cluster: 'c1', data: enc('r6'), msgId: 'c1.evaluated.6', expectedLastSubjectSequence: 0 }).catch((e: unknown) => e);
    expect(isBusError(fenced, 'PUBLISH_FENCED')).toBe(true);
    await publishEvaluation(js, { cluster: 'c1', data: enc('r9'), msgId: 'c1.evaluated.9', expectedLastSubjectSequence: first.seq });
    await publishEvaluation(js, { cluster: 'c2', data: enc('other'), msgId: 'c2.evaluated.1' });
    expect(dec((await latestEvaluation(jsm, 'c1'))?.data)).toBe('r9');
    expect(dec((await latestEvaluation(jsm, 'c2'))?.data)).toBe('other');
    expect((await latestBundle(jsm, 'c1'))?.version).toBe(5);
    expect((await bundleHistory(js, 'c1')).map((b) => b.version)).toEqual([5]);
  });
});
