/**
 * The fleet overview (counts, desired version, a filterable node table) and one node's
 * detail (GET /v1/nodes/:name: desired-vs-enforced NAT sets, last error text, health).
 * Renders what the live rollout view says; the detail refetches when that view changes.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Session } from './app.js';
import { effectiveSettings, filterNodes, formatAge, formatLabels, formatMs, liveAge, natDiffLines, natSetRows } from './format.js';
import type { BundleSets, NodeDescription, RolloutView } from './types.js';

export function Counts(props: { rollout: RolloutView }) {
  const s = props.rollout.summary;
  const items: [string, number, string][] = [['in sync', s.inSync, 'ok'], ['behind', s.behind, 'warn'], ['failed', s.failed, 'bad'], ['silent', s.silent, 'warn']];
  return (
    <ul class="counts" aria-label="Node counts">
      {items.map(([label, n, cls]) => (
        <li class={n > 0 && cls !== 'ok' ? cls : ''} data-count={label.replace(' ', '-')}>
          <span class="n">{n}</span> {label}
        </li>
      ))}
      <li>
        <span class="n">{s.total}</span> total
      </li>
    </ul>
  );
}

export function FleetPage(props: { rollout: RolloutView | null; now: number }) {
  const [filter, setFilter] = useState('');
  const r = props.rollout;
  useEffect(() => {
    if (r) performance.mark('natfleet:fleet-rendered');
  }, [r !== null]);
  if (!r) return <p class="muted">Loading the fleet…</p>;
  const nodes = filterNodes(r.nodes, filter);
  return (
    <section aria-labelledby="fleet-title">
      <h1 id="fleet-title">Fleet</h1>
      <p>
        Desired version: <strong id="desired-version">{r.desired ? `v${r.desired.version}` : 'none published'}</strong>
        {r.desired && <span class="muted"> (digest {r.desired.digest.slice(0, 12)}…, published {r.desired.publishedAt})</span>}
        {' · '}
        <span id="rollout-complete">{r.complete ? 'rollout complete' : r.aborted ? `rollout aborted: ${r.abortedReason ?? ''}` : 'rollout in progress'}</span>
      </p>
      <Counts rollout={r} />
      <label for="node-filter">Filter nodes</label>{' '}
      <input id="node-filter" type="search" placeholder="name, label=value, status, error code" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      <table id="node-table">
        <caption class="muted">{nodes.length} of {r.nodes.length} nodes</caption>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Labels</th>
            <th scope="col">Applied</th>
            <th scope="col">Status</th>
            <th scope="col">State</th>
            <th scope="col">Error code</th>
            <th scope="col">Heartbeat</th>
            <th scope="col">Apply latency</th>
            <th scope="col">Drift repairs</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((n) => (
            <tr data-node={n.node} data-status={n.status}>
              <th scope="row">
                <a href={`#/nodes/${encodeURIComponent(n.node)}`}>{n.node}</a>
              </th>
              <td>{formatLabels(n.labels)}</td>
              <td data-applied>{n.appliedVersion ? `v${n.appliedVersion}` : '-'}</td>
              <td>
                <span class={`badge ${n.status}`}>{n.status}</span>
              </td>
              <td>{n.state}</td>
              <td>{n.errorCode || ''}</td>
              <td>{formatAge(liveAge(n.heartbeatAgeSeconds, r.receivedAt ?? props.now, props.now))}</td>
              <td>{formatMs(n.applyMs)}</td>
              <td>{n.driftRepairs ?? 0}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function SetList(props: { title: string; lines: string[] }) {
  return (
    <>
      <h2>{props.title}</h2>
      {props.lines.length === 0 ? <p class="muted">none</p> : <pre class="diff">{props.lines.join('\n')}</pre>}
    </>
  );
}

/** Desired and enforced NAT sets and settings side by side, from the two bundles. */
function SetsTable(props: { node: string; desired: BundleSets | null; enforced: BundleSets | null }) {
  const { desired, enforced } = props;
  const dRows = desired ? natSetRows(desired) : [];
  const eRows = enforced ? natSetRows(enforced) : [];
  const list = (c: string[] | undefined): string => (c === undefined ? 'unknown' : c.length === 0 ? 'none' : c.join(', '));
  const settings = (b: BundleSets | null): string => (b ? Object.entries(effectiveSettings(b, props.node)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ') : 'unknown');
  return (
    <table id="node-sets">
      <caption class="muted">NAT sets and settings: desired {desired ? `v${desired.version}` : '(none)'} vs enforced {enforced ? `v${enforced.version}` : '(nothing applied or no longer kept)'}</caption>
      <thead>
        <tr>
          <th scope="col">Set</th>
          <th scope="col">Desired</th>
          <th scope="col">Enforced</th>
        </tr>
      </thead>
      <tbody>
        {(dRows.length > 0 ? dRows : eRows).map((r, i) => (
          <tr data-set={r.set}>
            <th scope="row">{r.set}</th>
            <td>{list(dRows[i]?.cidrs)}</td>
            <td>{list(eRows[i]?.cidrs)}</td>
          </tr>
        ))}
        <tr data-set="settings">
          <th scope="row">settings</th>
          <td>{settings(desired)}</td>
          <td>{settings(enforced)}</td>
        </tr>
      </tbody>
    </table>
  );
}

export function NodePage(props: { session: Session; name: string; rollout: RolloutView | null }) {
  const [d, setD] = useState<NodeDescription | null>(null);
  const [sets, setSets] = useState<{ desired: BundleSets | null; enforced: BundleSets | null }>({ desired: null, enforced: null });
  const [error, setError] = useState('');
  const version = props.rollout?.nodes.find((n) => n.node === props.name)?.appliedVersion;
  useEffect(() => {
    props.session.api.get<NodeDescription>(`/v1/nodes/${encodeURIComponent(props.name)}`).then(
      async (x) => {
        setD(x);
        setError('');
        // A bundle no longer kept in the stream answers 404: shown as unknown.
        const bundle = (v: number | undefined): Promise<BundleSets | null> => (v ? props.session.api.get<BundleSets>(`/v1/bundles/${v}`).catch(() => null) : Promise.resolve(null));
        const [desired, enforced] = await Promise.all([bundle(x.desired?.version), x.node.appliedVersion === x.desired?.version ? null : bundle(x.node.appliedVersion)]);
        setSets({ desired, enforced: x.node.appliedVersion === x.desired?.version ? desired : enforced });
      },
      (e: Error) => setError(e.message),
    );
  }, [props.name, version, props.rollout?.desired?.version]);
  return (
    <section aria-labelledby="node-title">
      <p>
        <a href="#/">← Fleet</a>
      </p>
      <h1 id="node-title">Node {props.name}</h1>
      {error && <p role="alert" class="error">{error}</p>}
      {d && (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <span class={`badge ${d.node.status}`}>{d.node.status}</span> ({d.node.state}){d.node.registered ? '' : ' — not registered in etcd'}
            </dd>
            <dt>Applied / desired</dt>
            <dd>
              {d.node.appliedVersion ? `v${d.node.appliedVersion}` : 'nothing'} / {d.desired ? `v${d.desired.version}` : 'none'}
            </dd>
            <dt>Labels</dt>
            <dd>{formatLabels(d.node.labels) || 'none'}</dd>
            <dt>Addresses</dt>
            <dd>{d.node.addresses.join(', ') || 'none'}</dd>
            <dt>Apply latency / drift repairs</dt>
            <dd>
              {formatMs(d.node.applyMs)} / {d.node.driftRepairs}
            </dd>
            <dt>Health checks</dt>
            <dd>{d.node.health ? `${d.node.health.result}${d.node.health.code ? ` (${d.node.health.code} ${d.node.health.check})` : ''} for v${d.node.health.version}` : 'not reported'}</dd>
            <dt>Last error</dt>
            <dd id="node-error">{d.node.error ? `${d.node.errorCode ? `${d.node.errorCode}: ` : ''}${d.node.error}${d.node.failedVersion ? ` (v${d.node.failedVersion})` : ''}` : 'none'}</dd>
          </dl>
          {d.node.health?.output && <pre class="diff">{d.node.health.output}</pre>}
          <SetsTable node={d.node.node} desired={sets.desired} enforced={sets.enforced} />
          {d.diff ? (
            <SetList title="Desired vs enforced NAT sets (what applying the desired version changes)" lines={natDiffLines(d.diff)} />
          ) : (
            <p>Desired vs enforced NAT sets: {d.diffUnavailable ?? 'the node enforces the desired version (no difference)'}.</p>
          )}
        </>
      )}
    </section>
  );
}
