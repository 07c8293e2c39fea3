/**
 * When `natctl rollout status --min-version N` may judge a rollout: once the desired
 * (newest) bundle carries revision N. That is so when its version is N or newer, or when
 * the compiler's evaluation record (`evaluated` in /v1/rollout, DESIGN.md §9) says it
 * evaluated etcd at N or later and the desired bundle is the one enforcing that state — a
 * write that changed nothing enforced never gets a bundle of its own. Pure.
 */

type Json = Record<string, any>;

/** True when the desired bundle of `r` (a /v1/rollout answer) carries every write up to `min`. False when nothing is published (unless `min` is 0). */
export function carriesRevision(r: Json, min: number): boolean {
  if ((r.desired?.version ?? 0) >= min) return true;
  const d = r.desired;
  const e = r.evaluated;
  if (!d || !e) return false;
  // The digest too when both are given: a record about another bundle of that version is not this one.
  return e.revision >= min && e.bundleVersion === d.version && (!e.bundleDigest || !d.digest || e.bundleDigest === d.digest);
}

/** `newest published: 7, evaluated through revision 9` (what is known while waiting for `min`). */
export function progressText(r: Json): string {
  return `newest published: ${r.desired?.version ?? 'none'}${r.evaluated ? `, evaluated through revision ${r.evaluated.revision}` : ''}`;
}
