import { describe, expect, it } from 'vitest';
import { ageSeconds, errorText, safeDecode, filterNodes, formatAge, formatExplanation, formatLabels, formatMs, liveAge, natDiffLines } from '../src/client/format.js';
import type { NatDiff, RolloutNode } from '../src/client/types.js';

const node = (name: string, extra: Partial<RolloutNode> = {}): RolloutNode => ({
  node: name, labels: {}, addresses: [], appliedVersion: 5, state: 'applied', error: '', errorCode: '', failedVersion: 0,
  applyMs: 12, driftRepairs: 0, heartbeatAt: '', heartbeatAgeSeconds: 1, status: 'in-sync', registered: true, ...extra,
});

describe('formatting', () => {
  it('ages and durations, with - for unknown', () => {
    expect([formatAge(0), formatAge(59.9), formatAge(61), formatAge(3 * 3600 + 120), formatAge(90_000), formatAge(null), formatAge(-1), formatAge(Number.NaN)]).toEqual(['0s', '59s', '1m 1s', '3h 2m', '1d 1h', '-', '-', '-']);
    expect([formatMs(0), formatMs(12.4), formatMs(1250), formatMs(undefined)]).toEqual(['-', '12 ms', '1.3 s', '-']);
    expect(ageSeconds('', 1000)).toBeNull();
    expect(ageSeconds('1970-01-01T00:00:01.000Z', 3500)).toBe(2.5);
    expect(ageSeconds('1970-01-01T00:00:09.000Z', 3500)).toBe(0);
  });

  it('a live age grows from the server figure by the time since it was received', () => {
    expect(liveAge(4, 10_000, 13_500)).toBe(7.5);
    expect(liveAge(null, 10_000, 13_500)).toBeNull();
    expect(liveAge(4, 10_000, 9_000)).toBe(4);
  });

  it('labels sorted by key', () => {
    expect(formatLabels({ zone: 'b', role: 'edge' })).toBe('role=edge, zone=b');
    expect(formatLabels({})).toBe('');
  });

  it('filters on every term across name, labels, status, state and error code', () => {
    const nodes = [node('node-1', { labels: { zone: 'a' } }), node('node-2', { status: 'failed', state: 'failed', errorCode: 'NFT_SYNTAX', labels: { zone: 'b' } }), node('edge-3', { labels: { zone: 'a' } })];
    expect(filterNodes(nodes, '').map((n) => n.node)).toEqual(['node-1', 'node-2', 'edge-3']);
    expect(filterNodes(nodes, 'zone=a').map((n) => n.node)).toEqual(['node-1', 'edge-3']);
    expect(filterNodes(nodes, 'NODE zone=a').map((n) => n.node)).toEqual(['node-1']);
    expect(filterNodes(nodes, 'nft_syntax').map((n) => n.node)).toEqual(['node-2']);
    expect(filterNodes(nodes, 'nothing-like-it')).toEqual([]);
  });

  it('explains in natctl explain words', () => {
    const text = formatExplanation({
      decision: 'snat', snatAddress: '10.0.0.1', reason: 'source is in a natOutgoing pool', version: 12,
      source: { address: '192.168.1.2', pool: { name: 'default-ipv4-ippool', cidr: '192.168.0.0/16', natOutgoing: true, disabled: false } },
      destination: { address: '8.8.8.8' }, settingsFrom: 'default', conditions: ['egress interface not known'],
    });
    expect(text).toBe(
      'SNAT to 10.0.0.1 (bundle v12)\n  source is in a natOutgoing pool\n  source pool:      default-ipv4-ippool 192.168.0.0/16 natOutgoing=true\n  settings from:    default\n  note: egress interface not known',
    );
  });

  it('NAT diff lines in family and set order', () => {
    const empty = { added: [], removed: [] };
    const d: NatDiff = { changed: true, v4: { masquerade: { added: ['10.0.0.0/8'], removed: [] }, noNat: { added: [], removed: ['203.0.113.0/24'] } }, v6: { masquerade: empty, noNat: empty }, hostAddresses: empty, settingsChanged: true, nodesChanged: ['node-1'], warnings: [] };
    expect(natDiffLines(d)).toEqual(['+ v4 masquerade: 10.0.0.0/8', '- v4 noNat: 203.0.113.0/24', '~ settings changed', '~ node override: node-1']);
  });

  it('error text from the API error body', () => {
    expect(errorText(401, { code: 'UNAUTHORIZED', message: 'unknown token' })).toBe('UNAUTHORIZED: unknown token');
    expect(errorText(502, null)).toBe('HTTP 502');
  });
});

describe('node NAT sets', () => {
  const b = {
    version: 9,
    fleet: { v4: { masquerade: ['192.168.0.0/16'], noNat: [] }, v6: { masquerade: [], noNat: ['fd00::/8'] }, settings: { natPortRange: '', natOutgoingAddress: '' }, hostAddresses: { v4: ['10.0.0.1/32'], v6: [] } },
    nodes: { 'node-2': { natOutgoingAddress: '10.0.0.9' } },
  };
  it('one row per set, empty ones kept', async () => {
    const { natSetRows } = await import('../src/client/format.js');
    expect(natSetRows(b)).toEqual([
      { set: 'v4 masquerade', cidrs: ['192.168.0.0/16'] },
      { set: 'v4 noNat', cidrs: [] },
      { set: 'v6 masquerade', cidrs: [] },
      { set: 'v6 noNat', cidrs: ['fd00::/8'] },
      { set: 'host addresses', cidrs: ['10.0.0.1/32'] },
    ]);
  });
  it("a node's override wins field by field; others get the fleet's", async () => {
    const { effectiveSettings } = await import('../src/client/format.js');
    expect(effectiveSettings(b, 'node-2')).toEqual({ natPortRange: '', natOutgoingAddress: '10.0.0.9' });
    expect(effectiveSettings(b, 'node-1')).toEqual({ natPortRange: '', natOutgoingAddress: '' });
    expect(effectiveSettings(b, 'constructor')).toEqual({ natPortRange: '', natOutgoingAddress: '' });
  });
});

describe('safeDecode', () => {
  it('decodes node names from links, and gives a malformed one back as it is instead of throwing', () => {
    expect(safeDecode('ip-10-0-0-5.ec2.internal')).toBe('ip-10-0-0-5.ec2.internal');
    expect(safeDecode('a%2Fb')).toBe('a/b');
    expect(safeDecode('%E0')).toBe('%E0');
  });
});
