/**
 * The rollout page: the desired version, the staged rollout (phase, conditions, waves with
 * bake and per-node gate results, recent events) from GET /v1/rollout's `staged`, and the
 * operator buttons (POST /v1/rollout/{pause,resume,abort}) — rendered only for a write token.
 */
import { useState } from 'preact/hooks';
import type { Session } from './app.js';
import { ApiRefused } from './api.js';
import { Counts } from './fleet-page.js';
import { formatAge } from './format.js';
import type { RolloutView } from './types.js';

const ACTIONS = [
  { type: 'pause', label: 'Pause' },
  { type: 'resume', label: 'Resume' },
  { type: 'abort', label: 'Abort' },
] as const;

function Controls(props: { session: Session; candidate: number | undefined }) {
  const [message, setMessage] = useState('');
  const act = async (type: string): Promise<void> => {
    if (type === 'abort' && !confirm('Abort the rollout? The fleet goes back to the stable version.')) return;
    try {
      const body = props.candidate !== undefined ? { version: props.candidate, reason: 'from the dashboard' } : { reason: 'from the dashboard' };
      await props.session.api.post(`/v1/rollout/${type}`, body);
      setMessage(`${type} sent: the controller applies it at its next step.`);
    } catch (e) {
      setMessage(e instanceof ApiRefused ? `Refused: ${e.message}` : `Failed: ${(e as Error).message}`);
    }
  };
  return (
    <div class="actions" role="group" aria-label="Rollout actions">
      {ACTIONS.map((a) => (
        <button type="button" data-action={a.type} class={a.type === 'abort' ? 'danger' : ''} onClick={() => void act(a.type)}>
          {a.label}
        </button>
      ))}
      {message && <p role="status">{message}</p>}
    </div>
  );
}

export function RolloutPage(props: { session: Session; rollout: RolloutView | null; now: number }) {
  const r = props.rollout;
  if (!r) return <p class="muted">Loading the rollout…</p>;
  const s = r.staged;
  return (
    <section aria-labelledby="rollout-title">
      <h1 id="rollout-title">Rollout</h1>
      <p>
        Desired version <strong>{r.desired ? `v${r.desired.version}` : 'none'}</strong>: {r.complete ? 'complete' : r.aborted ? `aborted (${r.abortedReason ?? ''})` : 'in progress'}.
      </p>
      <Counts rollout={r} />
      {props.session.who.write && <Controls session={props.session} candidate={s?.candidate.version} />}
      {!s ? (
        <p>No staged rollout recorded: without a RolloutPolicy every node gets each version at once.</p>
      ) : (
        <>
          <h2 id="staged-heading" data-phase={s.phase} data-paused={String(s.paused)}>
            Candidate v{s.candidate.version} {s.stable ? `(stable v${s.stable.version})` : ''} — {s.phase}
            {s.paused ? ', paused' : ''}
            {s.immediate ? ', immediate' : ''}
          </h2>
          <p class="muted">
            Policy {s.policy || '(none)'} · on failure: {s.onFailure} · started {s.startedAt} · updated {s.updatedAt}
          </p>
          <ul>
            {s.conditions.map((c) => (
              <li>
                {c.type}={c.status} {c.reason}: {c.message}
              </li>
            ))}
          </ul>
          {s.waves.length === 0 ? (
            <p>No waves: no RolloutPolicy was in force, so every node was admitted at once.</p>
          ) : (
          <table id="wave-table">
            <caption class="muted">Waves</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Wave</th>
                <th scope="col">Selects</th>
                <th scope="col">State</th>
                <th scope="col">Bake left</th>
                <th scope="col">Gates per node</th>
              </tr>
            </thead>
            <tbody>
              {s.waves.map((w) => (
                <tr data-wave={w.name} data-state={w.state}>
                  <td>{w.index}</td>
                  <th scope="row">{w.name}</th>
                  <td>{[w.selector, w.percent !== null ? `${w.percent}%` : null].filter(Boolean).join(' ') || 'all remaining'}</td>
                  <td>
                    <span class={`badge ${w.state}`}>{w.state}</span>
                  </td>
                  <td>{w.bakeRemainingMs === null ? '-' : formatAge((w.state === 'baking' && !s.paused ? Math.max(0, w.bakeRemainingMs - (props.now - (r.receivedAt ?? props.now))) : w.bakeRemainingMs) / 1000)}</td>
                  <td>
                    {w.nodes.length === 0
                      ? '-'
                      : w.nodes.map((n) => (
                          <div>
                            {n.node}: {n.gate ? `${n.gate.result}${n.gate.gate ? ` (${n.gate.gate}${n.gate.code ? ` ${n.gate.code}` : ''})` : ''}${n.gate.detail ? ` — ${n.gate.detail}` : ''}` : 'no result yet'}
                          </div>
                        ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          )}
          {s.events.length > 0 && (
            <>
              <h2>Recent events</h2>
              <pre class="diff">{s.events.map((e) => `${e.at}  ${e.type}  ${e.message}`).join("\n")}</pre>
            </>
          )}
        </>
      )}
    </section>
  );
}
