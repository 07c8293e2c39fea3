import { describe, expect, it } from 'vitest';
import { isBusError } from '@natfleet/bus';
import { BundlePublisher, NOTHING_PUBLISHED, decidePublish, isCompilerError, type Candidate } from '../src/index.js';
import { FakeSubject } from './fakes.js';

const cand = (version: number, content = `c${version}`): Candidate => ({
  version,
  digest: `sha256:v${version}-${content}`,
  contentDigest: content,
  data: new Uint8Array([version]),
});
const live = new AbortController().signal;

describe('decidePublish', () => {
  it('publishes onto an empty subject, skips stale revisions and unchanged content', () => {
    expect(decidePublish(NOTHING_PUBLISHED, { version: 1, contentDigest: 'a' })).toEqual({ type: 'publish' });
    const last = { seq: 4, version: 10, digest: 'd', contentDigest: 'a' };
    expect(decidePublish(last, { version: 10, contentDigest: 'b' })).toEqual({ type: 'skip', reason: 'stale' });
    expect(decidePublish(last, { version: 9, contentDigest: 'b' })).toEqual({ type: 'skip', reason: 'stale' });
    expect(decidePublish(last, { version: 11, contentDigest: 'a' })).toEqual({ type: 'skip', reason: 'unchanged' });
    expect(decidePublish(last, { version: 11, contentDigest: 'b' })).toEqual({ type: 'publish' });
  });
});

describe('BundlePublisher', () => {
  it('fences every publish on the last seq it knows', async () => {
    const subject = new FakeSubject();
    const p = new BundlePublisher(subject);
    expect(await p.publish(cand(5), live)).toEqual({ type: 'published', seq: 1, duplicate: false });
    expect(await p.publish(cand(7), live)).toEqual({ type: 'published', seq: 2, duplicate: false });
    expect(await p.publish(cand(8, 'c7'), live)).toEqual({ type: 'skipped', reason: 'unchanged' });
    expect(await p.publish(cand(6), live)).toEqual({ type: 'skipped', reason: 'stale' });
    expect(subject.messages.map((m) => m.version)).toEqual([5, 7]);
  });

  it('when another publisher got in: re-reads and publishes only what is newer', async () => {
    const subject = new FakeSubject();
    const p = new BundlePublisher(subject);
    await p.publish(cand(5), live);
    subject.inject({ version: 9, digest: 'sha256:v9-c9', contentDigest: 'c9' }); // a peer's publish
    // Ours is older than the peer's: fenced, then skipped.
    expect(await p.publish(cand(8), live)).toEqual({ type: 'skipped', reason: 'fenced' });
    // Ours is newer: fenced once, re-read, published on top of the peer's.
    subject.inject({ version: 10, digest: 'sha256:v10-c10', contentDigest: 'c10' });
    expect(await p.publish(cand(12), live)).toEqual({ type: 'published', seq: 4, duplicate: false });
    const versions = subject.messages.map((m) => m.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
  });

  it('the same version from two replicas is one message (msg-id dedupe), never two bodies', async () => {
    const subject = new FakeSubject();
    const a = new BundlePublisher(subject);
    const b = new BundlePublisher(subject);
    await a.refresh();
    await b.refresh();
    const [ra, rb] = await Promise.all([a.publish(cand(5), live), b.publish(cand(5), live)]);
    expect(subject.messages).toHaveLength(1);
    expect([ra, rb]).toContainEqual({ type: 'published', seq: 1, duplicate: false });
  });

  it('after a failed publish it re-reads the subject first (the write may have landed)', async () => {
    const subject = new FakeSubject();
    const p = new BundlePublisher(subject);
    subject.failNext = 1;
    const err = await p.publish(cand(5), live).catch((e: unknown) => e);
    expect(isBusError(err, 'PUBLISH_FAILED')).toBe(true);
    expect(p.state).toBeUndefined();
    expect(await p.publish(cand(5), live)).toMatchObject({ type: 'published', seq: 1 });
  });

  it('never publishes once the term has ended', async () => {
    const subject = new FakeSubject();
    const p = new BundlePublisher(subject);
    const ac = new AbortController();
    ac.abort(new Error('lease lost'));
    const err = await p.publish(cand(5), ac.signal).catch((e: unknown) => e);
    expect(isCompilerError(err, 'LEADERSHIP_LOST')).toBe(true);
    expect(subject.publishes).toBe(0);
  });
});
