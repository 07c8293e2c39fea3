/**
 * IPPools and FelixConfigurations with the compiler's STATUS column (GET /v1/<plural>
 * and GET /v1/status/<plural>, as `natctl get` reads them); refetched when the desired
 * version moves. Read-only: writes stay with natctl.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Session } from './app.js';

interface Listed {
  items: { metadata?: { name?: string }; spec?: Record<string, unknown> }[];
}
interface Statuses {
  version: number | null;
  items: { name: string; status: string }[];
}

const KINDS = [
  { plural: 'ippools', title: 'IP pools', columns: ['cidr', 'natOutgoing', 'disabled', 'nodeSelector'] },
  { plural: 'felixconfigurations', title: 'FelixConfigurations', columns: ['natOutgoingAddress', 'natPortRange', 'natOutgoingExclusions', 'natOutgoingInterfaceFilter', 'natOutgoingFullyRandom'] },
] as const;

const cell = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

function Kind(props: { session: Session; plural: string; title: string; columns: readonly string[]; version: number | null }) {
  const [rows, setRows] = useState<{ name: string; spec: Record<string, unknown>; status: string }[] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    Promise.all([props.session.api.get<Listed>(`/v1/${props.plural}`), props.session.api.get<Statuses>(`/v1/status/${props.plural}`)]).then(
      ([list, st]) => {
        const byName = new Map(st.items.map((s) => [s.name, s.status]));
        setRows(list.items.map((it) => ({ name: it.metadata?.name ?? '', spec: it.spec ?? {}, status: byName.get(it.metadata?.name ?? '') ?? 'Unknown' })));
        setError('');
      },
      (e: Error) => setError(e.message),
    );
  }, [props.plural, props.version]);
  return (
    <>
      <h2 id={`${props.plural}-title`}>{props.title}</h2>
      {error && <p role="alert" class="error">{error}</p>}
      {rows && (
        <table id={`${props.plural}-table`} aria-labelledby={`${props.plural}-title`}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              {props.columns.map((c) => (
                <th scope="col">{c}</th>
              ))}
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={props.columns.length + 2} class="muted">
                  none
                </td>
              </tr>
            )}
            {rows.map((r) => (
              <tr data-name={r.name}>
                <th scope="row">{r.name}</th>
                {props.columns.map((c) => (
                  <td>{cell(r.spec[c])}</td>
                ))}
                <td>{r.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function ResourcesPage(props: { session: Session; desiredVersion: number | null }) {
  return (
    <section aria-labelledby="resources-title">
      <h1 id="resources-title">Pools and FelixConfigurations</h1>
      <p class="muted">STATUS is the compiler's verdict in the newest bundle (Active, Skipped, Shadowed …).</p>
      {KINDS.map((k) => (
        <Kind session={props.session} plural={k.plural} title={k.title} columns={k.columns} version={props.desiredVersion} />
      ))}
    </section>
  );
}
