/**
 * The dashboard shell: login (token kept in sessionStorage, never in a URL), who-am-I, the
 * live rollout feed (live.ts), hash routing between the pages, and logout. Owns the
 * session state; the pages only render what they are given or fetch with its ApiClient.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiClient, ApiRefused } from './api.js';
import { ExplainPage } from './explain-page.js';
import { FleetPage, NodePage } from './fleet-page.js';
import { HistoryPage } from './history-page.js';
import { startLive } from './live.js';
import { safeDecode } from './format.js';
import { ResourcesPage } from './resources-page.js';
import { RolloutPage } from './rollout-page.js';
import type { RolloutView, Whoami } from './types.js';

const TOKEN_KEY = 'natfleet.token';

export interface Session {
  api: ApiClient;
  who: Whoami;
}

const PAGES: { hash: string; label: string }[] = [
  { hash: '#/', label: 'Fleet' },
  { hash: '#/rollout', label: 'Rollout' },
  { hash: '#/history', label: 'History' },
  { hash: '#/resources', label: 'Pools & Felix' },
  { hash: '#/explain', label: 'Explain' },
];

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = (): void => setHash(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

/** Checks `token` with GET /v1/whoami: the session, or the refusal's text. */
async function signIn(token: string): Promise<Session> {
  const api = new ApiClient(token);
  return { api, who: await api.get<Whoami>('/v1/whoami') };
}

function Login(props: { onSession: (s: Session) => void; notice: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(props.notice);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    try {
      const s = await signIn(token.trim());
      sessionStorage.setItem(TOKEN_KEY, token.trim());
      props.onSession(s);
    } catch (err) {
      setError(err instanceof ApiRefused ? `Refused: ${err.message}` : `Cannot reach the API: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <h1>natfleet</h1>
      <form onSubmit={submit} aria-describedby="login-help">
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
        <p id="login-help" class="muted">A read token shows the fleet; a write token may also pause, resume or abort rollouts. The token stays in this tab (sessionStorage).</p>
        <button type="submit" disabled={busy}>Sign in</button>
        {error && <p role="alert" class="error" id="login-error">{error}</p>}
      </form>
    </main>
  );
}

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(() => sessionStorage.getItem(TOKEN_KEY) !== null);
  /** The saved token while it is being checked: the live feed starts with it at once. */
  const [restoreToken, setRestoreToken] = useState<string | null>(() => sessionStorage.getItem(TOKEN_KEY));
  const [notice, setNotice] = useState('');
  const [rollout, setRollout] = useState<RolloutView | null>(null);
  const [live, setLive] = useState(false);
  const [now, setNow] = useState(Date.now());
  const hash = useHash();
  /** GET /v1/rollout was already asked for while restoring the session. */
  const earlyFetch = useRef(false);

  useEffect(() => {
    performance.mark('natfleet:first-render');
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved === null) return;
    // The view is asked for, and the live feed started (feedToken below), next to the
    // sign-in check: the fleet is drawn from whichever answers first — this GET or the
    // feed's first event (sent at once when the API's live view is warm). A refused token
    // ends both (the feed's refusal, or the check failing, clears the token).
    earlyFetch.current = true;
    new ApiClient(saved)
      .get<RolloutView>('/v1/rollout')
      .then((v) => setRollout((cur) => cur ?? { ...v, receivedAt: Date.now() }), () => undefined);
    signIn(saved)
      // Not when the user logged out meanwhile (from the provisional view).
      .then((s) => sessionStorage.getItem(TOKEN_KEY) === saved && setSession(s))
      .catch(() => {
        sessionStorage.removeItem(TOKEN_KEY);
        setRollout(null);
      })
      .finally(() => {
        setRestoring(false);
        setRestoreToken(null);
      });
  }, []);

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  const logout = (why = ''): void => {
    sessionStorage.removeItem(TOKEN_KEY);
    setSession(null);
    setRestoreToken(null);
    setRollout(null);
    setNotice(why);
  };

  useEffect(() => {
    // The first view comes from GET /v1/rollout or from the feed, whichever is first (the
    // GET was already made when the session was restored).
    if (session && !earlyFetch.current) session.api.get<RolloutView>('/v1/rollout').then((v) => setRollout((cur) => cur ?? { ...v, receivedAt: Date.now() }), () => undefined);
    earlyFetch.current = false;
  }, [session]);

  // The feed runs with the session's token, or with the saved one while it is being checked
  // (the same string: restoring → signed in does not reconnect); it then sends each change.
  const feedToken = session?.api.token ?? restoreToken;
  useEffect(() => {
    if (feedToken === null) return;
    return startLive(feedToken, {
      onEvent: (e) => {
        if (e.event !== 'rollout') return;
        if (performance.getEntriesByName('natfleet:first-event').length === 0) performance.mark('natfleet:first-event');
        setRollout({ ...(JSON.parse(e.data) as RolloutView), receivedAt: Date.now() });
      },
      onConnected: setLive,
      onRefused: () => logout('Your token was refused: sign in again.'),
    });
  }, [feedToken]);

  // While the saved token is being checked, data that already arrived is shown as a read-only
  // session (no action buttons until GET /v1/whoami says the token may write).
  const provisional = useMemo<Session | null>(() => (restoreToken === null ? null : { api: new ApiClient(restoreToken), who: { name: '', write: false } }), [restoreToken]);
  const shown = session ?? (restoring && rollout ? provisional : null);
  if (!shown) {
    if (restoring) return <p class="muted">Loading…</p>;
    return <Login onSession={(s) => { setNotice(''); setSession(s); }} notice={notice} />;
  }

  const route = hash.replace(/^#/, '') || '/';
  let page;
  if (route.startsWith('/nodes/')) page = <NodePage session={shown} name={safeDecode(route.slice('/nodes/'.length))} rollout={rollout} />;
  else if (route === '/rollout') page = <RolloutPage session={shown} rollout={rollout} now={now} />;
  else if (route === '/history') page = <HistoryPage session={shown} desiredVersion={rollout?.desired?.version ?? null} />;
  else if (route === '/resources') page = <ResourcesPage session={shown} desiredVersion={rollout?.desired?.version ?? null} />;
  else if (route === '/explain') page = <ExplainPage session={shown} nodes={rollout?.nodes.map((n) => n.node) ?? []} />;
  else page = <FleetPage rollout={rollout} now={now} />;

  return (
    <>
      <header>
        <strong class="brand">natfleet</strong>
        <nav aria-label="Pages">
          {PAGES.map((p) => (
            <a href={p.hash} aria-current={(p.hash === '#/' ? route === '/' || route.startsWith('/nodes/') : hash === p.hash) ? 'page' : undefined}>{p.label}</a>
          ))}
        </nav>
        <span class="who">
          <span class={live ? 'live on' : 'live'} role="status" id="live-status">{live ? 'live' : 'reconnecting…'}</span>
          <span id="who">
            {session ? `${session.who.name} · ${session.who.write ? 'read & write' : 'read only'}` : 'checking the token…'}
          </span>
          <button type="button" class="secondary" onClick={() => logout()}>Log out</button>
        </span>
      </header>
      <main>{page}</main>
    </>
  );
}

