import { pendingNodeStatus } from '@natfleet/bus';
import { describe, expect, it } from 'vitest';
import { classifyNode } from '../src/index.js';

const now = Date.parse('2026-01-01T00:00:30Z');
const fresh = '2026-01-01T00:00:29Z';
const desired = { version: 12, digest: 'sha256:x', publishedAt: fresh };
const classify = (over: Parameters<typeof pendingNodeStatus>[1]) => classifyNode(pendingNodeStatus('n', { heartbeatAt: fresh, ...over }), desired, now, 30_000).status;

describe('classifyNode', () => {
  it('in sync, behind, silent', () => {
    expect(classify({ state: 'applied', appliedVersion: 12 })).toBe('in-sync');
    expect(classify({ state: 'applied', appliedVersion: 11 })).toBe('behind');
    expect(classify({ state: 'pending' })).toBe('behind');
    expect(classify({ state: 'applied', appliedVersion: 12, heartbeatAt: '2026-01-01T00:00:00Z' })).toBe('in-sync');
    expect(classify({ state: 'applied', appliedVersion: 12, heartbeatAt: '2025-12-31T23:59:00Z' })).toBe('silent');
    expect(classify({ state: 'applied', appliedVersion: 12, heartbeatAt: 'garbage' })).toBe('silent');
  });

  it('a failure counts only for the desired version or newer (or when it has no version)', () => {
    expect(classify({ state: 'failed', appliedVersion: 11, failedVersion: 12, errorCode: 'NFT_SYNTAX' })).toBe('failed');
    expect(classify({ state: 'failed', appliedVersion: 12, failedVersion: 0, errorCode: 'NFT_KERNEL' })).toBe('failed'); // e.g. a failed drift repair
    // Refused an old replay but runs the desired version: in sync.
    expect(classify({ state: 'failed', appliedVersion: 12, failedVersion: 5, errorCode: 'STALE_VERSION' })).toBe('in-sync');
    // Failed on v10; v12 (the fix) not processed yet: behind, not failed — `rollout status --watch` keeps waiting.
    expect(classify({ state: 'failed', appliedVersion: 9, failedVersion: 10, errorCode: 'NFT_SYNTAX' })).toBe('behind');
    // A genuine failure of a newer version (the desired one's successor, not seen by the API yet) still counts.
    expect(classify({ state: 'failed', appliedVersion: 12, failedVersion: 13, errorCode: 'NFT_SYNTAX' })).toBe('failed');
  });

  it('a failed post-apply health check of the desired version it runs is a failure, never in sync', () => {
    const health = (version: number, result: 'passed' | 'failed' | 'running') => ({ version, result, code: result === 'failed' ? 'HEALTH_CHECK_FAILED' : '', check: 'probe', output: '', checkedAt: fresh });
    expect(classify({ state: 'applied', appliedVersion: 12, health: health(12, 'failed') })).toBe('failed');
    expect(classify({ state: 'applied', appliedVersion: 12, health: health(12, 'passed') })).toBe('in-sync');
    expect(classify({ state: 'applied', appliedVersion: 12, health: health(12, 'running') })).toBe('in-sync');
    // The failure of an older version it no longer runs (rolled forward) does not count; behind stays behind.
    expect(classify({ state: 'applied', appliedVersion: 12, health: health(11, 'failed') })).toBe('in-sync');
    expect(classify({ state: 'applied', appliedVersion: 11, health: health(11, 'failed') })).toBe('behind');
  });

  it('a message that did not verify never counts at its (unsigned) header version', () => {
    // What an older enforcer reports for 3 junk bytes under `Natfleet-Version: 9000000000000`.
    for (const errorCode of ['MALFORMED', 'BAD_DIGEST', 'BAD_SIGNATURE', 'UNKNOWN_KEY', 'WRONG_CLUSTER', 'HEADER_MISMATCH', 'TOO_LARGE', 'UNSUPPORTED_API_VERSION']) {
      expect(classify({ state: 'failed', appliedVersion: 12, failedVersion: 9_000_000_000_000, errorCode })).toBe('in-sync');
      expect(classify({ state: 'failed', appliedVersion: 11, failedVersion: 9_000_000_000_000, errorCode })).toBe('behind');
    }
    // Claiming exactly the desired version, it still counts: that version did not arrive intact.
    expect(classify({ state: 'failed', appliedVersion: 11, failedVersion: 12, errorCode: 'BAD_SIGNATURE' })).toBe('failed');
  });
});
