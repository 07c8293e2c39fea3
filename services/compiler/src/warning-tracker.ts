/**
 * Reporting skipped resources once. Every compile carries the full warning list (it is
 * part of the bundle), but operators want one log line and one counter increment when a
 * bad value first appears — not one per compile — and a note when it is fixed.
 */
import type { BundleWarning } from '@natfleet/bundle';
import type { Logger } from '@natfleet/service-kit';
import type { CompilerMetrics } from './metrics.js';

const identity = (w: BundleWarning): string => `${w.key}\u0000${w.code}\u0000${w.reason}`;

export class WarningTracker {
  private known = new Map<string, BundleWarning>();

  /** Warnings currently reported (from the last update), sorted as given. */
  get current(): BundleWarning[] {
    return [...this.known.values()];
  }

  /**
   * Compares `warnings` with the previous update: logs and counts each new one (warn,
   * with key, code and reason), notes each one gone (info). Returns the new ones.
   */
  update(warnings: readonly BundleWarning[], logger: Logger, metrics: Pick<CompilerMetrics, 'skippedResources'>): BundleWarning[] {
    const next = new Map(warnings.map((w) => [identity(w), w]));
    const added = [...next].filter(([id]) => !this.known.has(id)).map(([, w]) => w);
    for (const w of added) {
      metrics.skippedResources.inc({ code: w.code });
      logger.warn({ key: w.key, code: w.code, reason: w.reason }, 'resource skipped or adjusted');
    }
    for (const [id, w] of this.known) {
      if (!next.has(id)) logger.info({ key: w.key, code: w.code }, 'resource no longer skipped');
    }
    this.known = next;
    return added;
  }
}
