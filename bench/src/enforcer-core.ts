/**
 * The daemon's Enforcer core for in-process benchmarks: real verify, render and nft (the
 * Nft it is given, e.g. libnftables in a benchmark's netns), state saved under `dir`,
 * nothing logged. Owns only the wiring the benchmarks share.
 */
import type { TrustedKeys } from '@natfleet/bundle';
import { BundleStore, createMetrics, Enforcer, type EnforcerMetrics, type EnforcerStatus } from '@natfleet/enforcer';
import type { Nft } from '@natfleet/nft';
import { pino } from 'pino';

export function enforcerCore(o: {
  nft: Nft;
  trustedKeys: TrustedKeys;
  dir: string;
  driftIntervalMs: number;
  retryIntervalMs: number;
  onChange?: (s: EnforcerStatus) => void;
}): { enforcer: Enforcer; metrics: EnforcerMetrics } {
  const metrics = createMetrics();
  const enforcer = new Enforcer({
    nodeName: 'bench-node',
    cluster: 'bench',
    nft: o.nft,
    store: new BundleStore(o.dir),
    trustedKeys: o.trustedKeys,
    maxBundleBytes: 256 * 1024 * 1024,
    driftIntervalMs: o.driftIntervalMs,
    retryIntervalMs: o.retryIntervalMs,
    logger: pino({ level: 'silent' }),
    metrics,
    ...(o.onChange ? { onChange: o.onChange } : {}),
  });
  return { enforcer, metrics };
}
