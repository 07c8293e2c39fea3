/**
 * The rollout controller's output edge (DESIGN.md §10): the wire Admission a persisted
 * rollout state implies (pure mapping), and the admission subject as the controller needs
 * it (newest own admission + fence, fenced publish). The real channel reads
 * `natfleet.admission.<cluster>` last-per-subject; a message not signed with the compiler's
 * own key moves the fence but never counts as what enforcers were told.
 *
 * Never: decides what is admitted (the planner does), writes etcd, or logs.
 */
import type { JetStreamClient, JetStreamManager } from 'nats';
import { decodeAdmission, type Admission, type AdmissionBody, type AdmissionHealth, type AdmittedWaveRef, type TrustedKeys } from '@natfleet/bundle';
import { latestAdmission, publishAdmission, type PublishResult } from '@natfleet/bus';
import type { RolloutPolicy as ModelPolicy } from '@natfleet/model';
import { parseDuration } from '@natfleet/model';
import type { RolloutStateRecord } from '@natfleet/rollout-planner';

/** The fields of an admission that say what enforcers do (everything but stateRevision, issuedAt, seal). */
export type AdmissionContent = Omit<AdmissionBody, 'apiVersion' | 'kind' | 'stateRevision' | 'issuedAt'>;

/**
 * The policy's post-apply health checks as the admission carries them (timeouts in ms);
 * null when the policy (or its gates) sets no healthChecks. An unparsable timeout (never
 * in a validated policy) becomes 10 s.
 */
export function admissionHealth(policy: ModelPolicy | undefined): AdmissionHealth | null {
  const hc = policy?.spec.gates.healthChecks;
  if (!hc) return null;
  return {
    commands: (hc.commands ?? []).map((c) => ({ name: c.name, command: [...c.command], timeoutMs: Math.max(1, Math.round(parseDuration(c.timeout) ?? 10_000)) })),
    conntrack: { ...(hc.conntrack ?? {}) },
  };
}

/**
 * What the enforcers must be told for `record`. Admitted waves map to {name, nodes,
 * rest: false}, except the policy's LAST wave (index waves.length - 1, which is also where
 * the `immediate` command's wave lands) which is sent as {name, nodes: [], rest: true}:
 * every node not named by an earlier wave, present or future. A wave admitted as another
 * one than the policy's last (the policy was edited mid-rollout and now has fewer waves,
 * so its index is the last one) keeps its node names: `rest` would admit every node to a
 * candidate the rollout admitted to that wave's nodes only. `policy` '' when the record
 * has none (every node applies every bundle at once).
 */
export function admissionContent(cluster: string, record: RolloutStateRecord, health: AdmissionHealth | null): AdmissionContent {
  const s = record.state;
  const last = record.waves.length - 1;
  const isRest = (w: { index: number; name: string }): boolean => w.index < 0 || (w.index === last && (w.name === record.waves[last]?.name || w.name === 'immediate'));
  const waves: AdmittedWaveRef[] = s.admitted.map((w) => (isRest(w) ? { name: w.name, nodes: [], rest: true } : { name: w.name, nodes: [...w.nodes], rest: false }));
  return {
    cluster,
    policy: record.policy,
    version: s.candidate.version,
    digest: s.candidate.digest,
    everyone: s.everyone,
    waves,
    stable: s.stable ? { version: s.stable.version, digest: s.stable.digest } : null,
    phase: s.phase,
    health: record.policy === '' ? null : health,
  };
}

/** Canonical identity of admission content (equal text = enforcers do the same). */
export function contentKey(c: AdmissionContent): string {
  return JSON.stringify([c.cluster, c.policy, c.version, c.digest, c.everyone, c.waves, c.stable, c.phase, c.health]);
}

/** The content part of a decoded admission. */
export function contentOf(a: AdmissionBody): AdmissionContent {
  return { cluster: a.cluster, policy: a.policy, version: a.version, digest: a.digest, everyone: a.everyone, waves: a.waves, stable: a.stable, phase: a.phase, health: a.health };
}

/** What the subject holds: the fence, and the newest message when it is a genuine admission of ours. */
export interface AdmissionSubjectState {
  seq: number;
  admission: Admission | undefined;
}

/** The admission subject as the controller needs it; the real one is {@link natsAdmissionChannel}. */
export interface AdmissionChannel {
  /** Undefined when the subject is empty. Throws BusError UNAVAILABLE. */
  latest(): Promise<AdmissionSubjectState | undefined>;
  /** Throws BusError PUBLISH_FENCED when the subject moved past `expectedLastSubjectSequence`, PUBLISH_FAILED otherwise. */
  publish(input: { data: Uint8Array; msgId: string; expectedLastSubjectSequence: number }): Promise<PublishResult>;
}

/** The real subject: own-key admissions of `cluster` count, anything else only moves the fence. */
export function natsAdmissionChannel(js: JetStreamClient, jsm: JetStreamManager, cluster: string, trustedKeys: TrustedKeys): AdmissionChannel {
  return {
    latest: async () => {
      const last = await latestAdmission(jsm, cluster);
      if (!last) return undefined;
      let admission: Admission | undefined;
      try {
        const a = decodeAdmission(last.data, { trustedKeys });
        if (a.cluster === cluster) admission = a;
      } catch {
        // forged or malformed: it moves the fence, nothing else
      }
      return { seq: last.seq, admission };
    },
    publish: (input) => publishAdmission(js, { cluster, ...input }),
  };
}
