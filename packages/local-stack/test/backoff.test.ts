// The supervisor's restart back-off: 1 s doubling to 30 s while a daemon keeps crashing,
// back to 1 s after a run of 60 s or more.
import { describe, expect, it } from 'vitest';
import { Backoff, seconds } from '../src/index.js';

describe('Backoff', () => {
  it('doubles from 1 s up to 30 s while runs stay short', () => {
    const b = new Backoff();
    expect(Array.from({ length: 8 }, () => b.delayAfter(500))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('starts again at 1 s after a run of 60 s, not after 59.9 s', () => {
    const b = new Backoff();
    b.delayAfter(0);
    b.delayAfter(0);
    expect(b.delayAfter(59_900)).toBe(4_000);
    expect(b.delayAfter(60_000)).toBe(1_000);
    expect(b.delayAfter(10)).toBe(2_000);
  });

  it('treats a NaN or negative run as short, and refuses a nonsensical configuration', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 150, resetAfterMs: 1_000 });
    expect([b.delayAfter(Number.NaN), b.delayAfter(-5), b.delayAfter(2)]).toEqual([100, 150, 150]);
    expect(() => new Backoff({ initialMs: 0, maxMs: 1, resetAfterMs: 1 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 10, maxMs: 5, resetAfterMs: 1 })).toThrow(RangeError);
  });

  it('says delays in seconds', () => {
    expect([seconds(1_000), seconds(1_500), seconds(30_000)]).toEqual(['1s', '1.5s', '30s']);
  });
});
