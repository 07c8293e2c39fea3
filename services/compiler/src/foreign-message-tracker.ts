/**
 * Reporting messages on the bundle subject that this compiler did not publish (garbage,
 * forgeries, re-publishes under altered headers, bundles signed by another key). The
 * publisher re-reads the subject after every fence and at every term start and sees the
 * same foreign messages again each time; operators want one warn line and one counter
 * increment per message. Shared across terms, like the WarningTracker.
 */
import type { Logger } from '@natfleet/service-kit';
import type { CompilerMetrics } from './metrics.js';
import type { ForeignMessage } from './published-state.js';

const identity = (m: ForeignMessage): string => `${m.seq}@${m.time.getTime()}`;

export class ForeignMessageTracker {
  private known = new Set<string>();

  /**
   * `foreign` is every foreign message currently on the subject. Logs (warn: seq, the
   * header version it claimed, reason) and counts each one not reported before; returns
   * those. Messages gone from the stream are forgotten.
   */
  update(foreign: readonly ForeignMessage[], logger: Logger, metrics: Pick<CompilerMetrics, 'foreignMessages'>): ForeignMessage[] {
    const fresh = foreign.filter((m) => !this.known.has(identity(m)));
    for (const m of fresh) {
      metrics.foreignMessages.inc({ reason: m.reason });
      logger.warn(
        { seq: m.seq, headerVersion: m.headerVersion, reason: m.reason, detail: m.detail },
        'ignoring a message on the bundle subject that this compiler did not publish (forged, corrupt, re-published, or signed by another key): it neither blocks nor orders publishing',
      );
    }
    this.known = new Set(foreign.map(identity));
    return fresh;
  }
}
