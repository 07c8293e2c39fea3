// The evaluation recorder against an in-memory evaluation subject with JetStream's
// semantics (msg-id dedupe, expected-last-subject-sequence fencing) and records read back
// by their signed body: coalescing, dedupe, fencing against a newer leader, foreign
// messages, retries, and the term's end.
import { describe, expect, it, vi } from 'vitest';
import { decodeEvaluation, generateSigningKeyPair, loadSigningKey, loadTrustedKeys, type TrustedKeys } from '@natfleet/bundle';
import { BusError, type PublishResult } from '@natfleet/bus';
import { CompilerMetrics, EvaluationRecorder, type EvaluationChannel, type EvaluationSubjectState } from '../src/index.js';
import { memoryLogger } from './fakes.js';

const pair = generateSigningKeyPair();
const key = loadSigningKey(pair.privateKeyPem);
const trustedKeys = loadTrustedKeys([pair.publicKeyPem]);
const settle = { timeout: 5_000, interval: 5 };

class FakeEvaluationSubject implements EvaluationChannel {
  readonly messages: { seq: number; msgId: string; data: Uint8Array }[] = [];
  failNext = 0;
  publishes = 0;
  constructor(private readonly keys: TrustedKeys) {}

  /** The revisions of the genuine records, oldest first. */
  get revisions(): number[] {
    return this.messages.flatMap((m) => {
      try {
        return [decodeEvaluation(m.data, { trustedKeys: this.keys }).revision];
      } catch {
        return [];
      }
    });
  }

  async latest(): Promise<EvaluationSubjectState | undefined> {
    await Promise.resolve();
    const m = this.messages.at(-1);
    if (!m) return undefined;
    let revision = 0;
    try {
      revision = decodeEvaluation(m.data, { trustedKeys: this.keys }).revision;
    } catch {
      // foreign
    }
    return { seq: m.seq, revision };
  }

  inject(data: Uint8Array, msgId = `raw-${this.messages.length}`): void {
    this.messages.push({ seq: this.messages.length + 1, msgId, data });
  }

  async publish(input: { data: Uint8Array; msgId: string; expectedLastSubjectSequence: number }): Promise<PublishResult> {
    this.publishes++;
    await new Promise((r) => setTimeout(r, 2));
    if (this.failNext > 0) {
      this.failNext--;
      throw new BusError('PUBLISH_FAILED', 'timeout', true);
    }
    const dup = this.messages.find((m) => m.msgId === input.msgId);
    if (dup) return { seq: dup.seq, duplicate: true };
    if (input.expectedLastSubjectSequence !== this.messages.length) throw new BusError('PUBLISH_FENCED', `wrong last sequence: ${this.messages.length}`, false);
    this.inject(input.data, input.msgId);
    return { seq: this.messages.length, duplicate: false };
  }
}

function setup(subject = new FakeEvaluationSubject(trustedKeys)) {
  const term = new AbortController();
  const metrics = new CompilerMetrics({ withProcessMetrics: false });
  const { logger, lines } = memoryLogger();
  const recorder = new EvaluationRecorder({ channel: subject, key, cluster: 'test', logger, metrics, retryMs: 5, maxRetryMs: 20 }, term.signal);
  return { subject, term, metrics, lines, recorder };
}
const e = (revision: number, bundleVersion = revision) => ({ revision, bundleVersion, bundleDigest: `sha256:${bundleVersion}` });

describe('EvaluationRecorder', () => {
  it('records signed; a burst coalesces to the newest; a revision already noted is dropped', async () => {
    const s = setup();
    s.recorder.note(e(5));
    s.recorder.note(e(6, 5));
    s.recorder.note(e(7, 5));
    await s.recorder.settled();
    expect(s.subject.revisions).toEqual([5, 7]); // 5 was in flight; 6 was replaced by 7 before it went out
    const last = decodeEvaluation(s.subject.messages.at(-1)!.data, { trustedKeys });
    expect(last).toMatchObject({ cluster: 'test', revision: 7, bundleVersion: 5, bundleDigest: 'sha256:5' });
    s.recorder.note(e(7, 5));
    s.recorder.note(e(6, 5));
    await s.recorder.settled();
    expect(s.subject.publishes).toBe(2);
    expect((await s.metrics.lastEvaluatedRevision.get()).values[0]?.value).toBe(7);
  });

  it('never writes an older revision over a newer leader\'s record; a foreign message only moves the fence', async () => {
    const subject = new FakeEvaluationSubject(trustedKeys);
    const newer = setup(subject);
    newer.recorder.note(e(20, 18));
    await newer.recorder.settled();
    // The deposed leader's recorder read the subject before that (empty): it is fenced, re-reads, and stops.
    const old = setup(subject);
    (old.recorder as unknown as { stored: EvaluationSubjectState }).stored = { seq: 0, revision: 0 };
    old.recorder.note(e(19, 18));
    await old.recorder.settled();
    expect(subject.revisions).toEqual([20]);
    // Garbage on the subject does not count as recorded, whatever it says.
    subject.inject(new TextEncoder().encode(JSON.stringify({ revision: 999 })));
    newer.recorder.note(e(21, 18));
    await newer.recorder.settled();
    expect(subject.revisions).toEqual([20, 21]);
    expect(subject.messages).toHaveLength(3);
  });

  it('retries a failed publish until it lands, logging once per streak', async () => {
    const s = setup();
    s.subject.failNext = 3;
    s.recorder.note(e(9));
    await vi.waitFor(() => expect(s.subject.revisions).toEqual([9]), settle);
    expect(s.lines.filter((l) => l['level'] === 'warn')).toHaveLength(1);
    expect(s.lines.filter((l) => l['level'] === 'info' && /works again/.test(String(l['msg'])))).toHaveLength(1);
  });

  it('a retry that had landed is a duplicate, not a second record', async () => {
    const s = setup();
    s.recorder.note(e(3));
    await s.recorder.settled();
    // A new term's recorder that does not know it landed (stale read): msg-id dedupe.
    const next = setup(s.subject);
    (next.recorder as unknown as { stored: EvaluationSubjectState }).stored = { seq: 0, revision: 0 };
    next.recorder.note(e(3));
    await next.recorder.settled();
    expect(s.subject.messages).toHaveLength(1);
  });

  it('does nothing once the term ended, and stops retrying', async () => {
    const s = setup();
    s.subject.failNext = 1_000;
    s.recorder.note(e(4));
    await vi.waitFor(() => expect(s.subject.publishes).toBeGreaterThan(1), settle);
    s.term.abort();
    await s.recorder.settled();
    const n = s.subject.publishes;
    s.recorder.note(e(5));
    await new Promise((r) => setTimeout(r, 30));
    expect(s.subject.publishes).toBe(n);
  });
});
