/**
 * Bundles read back off the stream for the API's read-only views (history, one bundle,
 * explain, rollout's desired version, resource status). The subject may hold messages the
 * compiler never published — garbage, forgeries, genuine bundles re-published under
 * altered headers — and the Natfleet-Version / Natfleet-Digest headers are unsigned. So
 * each message is judged by its body: with trusted keys (`--trusted-keys-file`) its
 * signature must verify as on an enforcer; without them only size, format, apiVersion,
 * shape and digest are checked (a well-formed forgery then passes: configure the keys).
 * In both cases the body must name this cluster and agree with the message's headers.
 * A message that fails is never used and never fails a request: history lists it with
 * `invalid`, every other view skips it. Never writes to NATS.
 */
import { decodeBundle, inspectBundle, isBundleError, type Bundle, type BundleErrorCode, type TrustedKeys } from '@natfleet/bundle';
import { bundleHistory, latestBundle, type StoredBundle } from '@natfleet/bus';
import type { JetStreamClient, JetStreamManager } from 'nats';

/** Why a stored message is not shown as a bundle. */
export type InvalidCode = Exclude<BundleErrorCode, 'INVALID_KEY'> | 'WRONG_CLUSTER' | 'HEADER_MISMATCH';

export type StoredVerdict = { ok: true; bundle: Bundle } | { ok: false; code: InvalidCode; message: string };

export interface StoredBundlesOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  cluster: string;
  /** Public keys bundles must be signed with; undefined = digest-only checks. */
  trustedKeys?: TrustedKeys | undefined;
}

/** Judges one stored message. Never throws on bad content. */
export function judgeStored(s: StoredBundle, { cluster, trustedKeys }: Pick<StoredBundlesOptions, 'cluster' | 'trustedKeys'>): StoredVerdict {
  let bundle: Bundle;
  try {
    bundle = trustedKeys ? decodeBundle(s.data, { trustedKeys }) : inspectBundle(s.data);
  } catch (err) {
    if (isBundleError(err) && err.code !== 'INVALID_KEY') return { ok: false, code: err.code, message: err.message };
    return { ok: false, code: 'MALFORMED', message: (err as Error)?.message ?? String(err) };
  }
  if (bundle.cluster !== cluster) return { ok: false, code: 'WRONG_CLUSTER', message: `bundle is for cluster ${JSON.stringify(bundle.cluster)}, not ${JSON.stringify(cluster)}` };
  if (s.version !== bundle.version || s.digest !== bundle.digest) {
    return { ok: false, code: 'HEADER_MISMATCH', message: `headers say v${s.version} ${s.digest || '(no digest)'}, the body is v${bundle.version} ${bundle.digest}: not published by the compiler` };
  }
  return { ok: true, bundle };
}

export class StoredBundles {
  /** The last good newest message, so polling /v1/rollout does not re-verify an unchanged bundle. */
  private newestSeen: { key: string; stored: StoredBundle; bundle: Bundle } | undefined;

  constructor(private readonly o: StoredBundlesOptions) {}

  /** Every stored message of the cluster's subject with its verdict, oldest first; empty when none. */
  async all(): Promise<{ stored: StoredBundle; verdict: StoredVerdict }[]> {
    const stored = await bundleHistory(this.o.js, this.o.cluster);
    return stored.map((s) => ({ stored: s, verdict: judgeStored(s, this.o) }));
  }

  /**
   * The newest stored message (stream order) that passes, with its bundle; undefined when
   * none does (or nothing was published). Reads only the last message when it passes.
   */
  async newest(): Promise<{ stored: StoredBundle; bundle: Bundle } | undefined> {
    const last = await latestBundle(this.o.jsm, this.o.cluster);
    if (!last) return undefined;
    const key = `${last.seq}@${last.time.getTime()}`;
    if (this.newestSeen?.key === key) return this.newestSeen;
    const v = judgeStored(last, this.o);
    if (v.ok) {
      this.newestSeen = { key, stored: last, bundle: v.bundle };
      return this.newestSeen;
    }
    for (const { stored, verdict } of (await this.all()).reverse()) {
      if (verdict.ok) return { stored, bundle: verdict.bundle };
    }
    return undefined;
  }
}
