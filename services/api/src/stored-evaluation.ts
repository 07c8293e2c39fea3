/**
 * The compiler's newest evaluation record (natfleet.evaluated.<cluster>, DESIGN.md §9) for
 * /v1/rollout: "etcd evaluated up to `revision`; bundle `bundleVersion` enforces it". Judged
 * like stored bundles (stored-bundles.ts): with trusted keys its signature must verify,
 * without them only format and digest are checked; it must name this cluster. A message
 * that fails is ignored (no evaluation known), never an error. Never writes to NATS.
 */
import { decodeEvaluation, type TrustedKeys } from '@natfleet/bundle';
import { latestEvaluation } from '@natfleet/bus';
import type { JetStreamManager } from 'nats';

/** What /v1/rollout shows as `evaluated`. */
export interface EvaluatedView {
  /** The newest etcd revision the compiler evaluated. */
  revision: number;
  /** The bundle that enforces etcd's state at `revision`. */
  bundleVersion: number;
  bundleDigest: string;
  evaluatedAt: string;
}

export class StoredEvaluation {
  /** The last record read, by message identity: an unchanged one is not verified again. */
  private seen: { key: string; view: EvaluatedView | null } | undefined;

  constructor(private readonly o: { jsm: JetStreamManager; cluster: string; trustedKeys?: TrustedKeys | undefined }) {}

  /** The newest record when it passes; null when none does or none was published. Throws BusError UNAVAILABLE. */
  async newest(): Promise<EvaluatedView | null> {
    const last = await latestEvaluation(this.o.jsm, this.o.cluster);
    if (!last) return null;
    const key = `${last.seq}@${last.time.getTime()}`;
    if (this.seen?.key === key) return this.seen.view;
    let view: EvaluatedView | null = null;
    try {
      const e = decodeEvaluation(last.data, { trustedKeys: this.o.trustedKeys });
      if (e.cluster === this.o.cluster) view = { revision: e.revision, bundleVersion: e.bundleVersion, bundleDigest: e.bundleDigest, evaluatedAt: e.evaluatedAt };
    } catch {
      view = null; // not the compiler's: ignored
    }
    this.seen = { key, view };
    return view;
  }
}
