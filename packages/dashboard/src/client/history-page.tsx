/**
 * The history page: GET /v1/history (every kept bundle: change cause, warnings, rollout
 * outcome), refetched when the desired version moves; a version's set diff against its
 * predecessor and its warnings in full come from GET /v1/history/:version on demand.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Session } from './app.js';
import { natDiffLines } from './format.js';
import type { HistoryEntry, VersionDetail } from './types.js';

function changeText(h: HistoryEntry): string {
  const c = h.change;
  if (!c) return h.invalid ? `invalid: ${h.invalid.code}` : '-';
  if (c.status === 'no-predecessor') return 'oldest kept (no predecessor)';
  if (c.status === 'compacted') return `since v${c.since}: etcd compacted, unknown`;
  if (c.resources.length === 0) return `since v${c.since}: no resource change`;
  return c.resources.map((r) => `${r.action} ${r.kind}/${r.name} via ${r.via}${r.by ? ` by ${r.by}` : ''}`).join('; ');
}

function outcomeText(h: HistoryEntry): string {
  const r = h.rollout;
  if (!r) return '-';
  const what = r.outcome ?? (r.phase ? `${r.phase} (under way)` : 'under way');
  const fails = r.failures.map((f) => `${f.node}${f.code ? ` ${f.code}` : ''}`).join(', ');
  return `${what}${r.immediate ? ', immediate' : ''}${r.reason ? `: ${r.reason}` : ''}${fails ? ` [failed: ${fails}]` : ''}`;
}

function Detail(props: { session: Session; version: number }) {
  const [d, setD] = useState<VersionDetail | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    props.session.api.get<VersionDetail>(`/v1/history/${props.version}`).then(setD, (e: Error) => setError(e.message));
  }, [props.version]);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!d) return <p class="muted">Loading v{props.version}…</p>;
  const lines = natDiffLines(d.nat);
  return (
    <div class="detail">
      <h3>
        v{d.version} against {d.previous ? `v${d.previous.version}` : 'an empty fleet'}
      </h3>
      {lines.length === 0 ? <p class="muted">No NAT set changed.</p> : <pre class="diff">{lines.join('\n')}</pre>}
      {d.settings.length > 0 && <pre class="diff">{d.settings.map((s) => `~ ${s.path}: ${JSON.stringify(s.before)} → ${JSON.stringify(s.after)}`).join('\n')}</pre>}
      <h4>Warnings</h4>
      {d.warnings.length === 0 ? (
        <p class="muted">none</p>
      ) : (
        <ul>
          {d.warnings.map((w) => (
            <li>
              {w.new ? <strong>new </strong> : null}
              {w.code ? `${w.code}: ` : ''}
              {w.message ?? JSON.stringify(w)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function HistoryPage(props: { session: Session; desiredVersion: number | null }) {
  const [items, setItems] = useState<HistoryEntry[] | null>(null);
  const [error, setError] = useState('');
  const [open, setOpen] = useState<number | null>(null);
  useEffect(() => {
    props.session.api.get<{ items: HistoryEntry[] }>('/v1/history').then(
      (r) => {
        setItems(r.items);
        setError('');
      },
      (e: Error) => setError(e.message),
    );
  }, [props.desiredVersion]);
  return (
    <section aria-labelledby="history-title">
      <h1 id="history-title">History</h1>
      {error && <p role="alert" class="error">{error}</p>}
      {!items ? (
        <p class="muted">Loading…</p>
      ) : (
        <table id="history-table">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Published</th>
              <th scope="col">Change</th>
              <th scope="col">Warnings</th>
              <th scope="col">Rollout</th>
              <th scope="col">Sets</th>
            </tr>
          </thead>
          <tbody>
            {items.map((h) => (
              <>
                <tr data-version={h.version}>
                  <th scope="row">v{h.version}</th>
                  <td>{h.publishedAt}</td>
                  <td>{changeText(h)}</td>
                  <td>{h.invalid ? h.invalid.message : (h.warnings ?? 0)}</td>
                  <td>{outcomeText(h)}</td>
                  <td>
                    {!h.invalid && (
                      <button type="button" class="secondary" aria-expanded={open === h.version} onClick={() => setOpen(open === h.version ? null : h.version)}>
                        {open === h.version ? 'Hide' : 'Show'} diff
                      </button>
                    )}
                  </td>
                </tr>
                {open === h.version && (
                  <tr>
                    <td colSpan={6}>
                      <Detail session={props.session} version={h.version} />
                    </td>
                  </tr>
                )}
              </>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
