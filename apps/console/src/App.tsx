import { FormEvent, useCallback, useEffect, useMemo, useState } from 'react';
import { Account, createApi, signIn } from './api';
import { DeliveriesView } from './DeliveriesView';
import { DestinationsView } from './DestinationsView';
import { HooksView } from './HooksView';
import { IntegrationsView } from './IntegrationsView';
import { SimulateView } from './SimulateView';
import { Alert, messageOf } from './ui';
import { UndeliveredView } from './UndeliveredView';

/** The key lives in this tab's session storage only: never in a URL, a cookie or a log. */
const KEY_STORAGE = 'posthooks.apiKey';

export type Route = { view: 'hooks' } | { view: 'deliveries'; hookId?: number } | { view: 'undelivered' } | { view: 'integrations' } | { view: 'simulate' } | { view: 'destinations' };

/** Views are hash routes (#/hooks/7/deliveries): the server serves one page, the email links to a view. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  const deliveries = /^hooks\/(\d+)\/deliveries$/.exec(path);
  if (deliveries) return { view: 'deliveries', hookId: Number(deliveries[1]) };
  if (path === 'deliveries') return { view: 'deliveries' };
  if (path === 'undelivered' || path === 'integrations' || path === 'simulate' || path === 'destinations') return { view: path };
  return { view: 'hooks' };
}

const NAV: { href: string; label: string; view: Route['view'] }[] = [
  { href: '#/hooks', label: 'Post-load hooks', view: 'hooks' },
  { href: '#/deliveries', label: 'Deliveries', view: 'deliveries' },
  { href: '#/undelivered', label: 'Undelivered', view: 'undelivered' },
  { href: '#/integrations', label: 'Incoming webhooks', view: 'integrations' },
  { href: '#/simulate', label: 'Simulate a load', view: 'simulate' },
  { href: '#/destinations', label: 'Destinations', view: 'destinations' },
];

function useRoute(): Route {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const changed = () => setHash(window.location.hash);
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return useMemo(() => parseRoute(hash), [hash]);
}

export function App() {
  const [key, setKey] = useState<string | null>(() => sessionStorage.getItem(KEY_STORAGE));
  const [session, setSession] = useState<{ account: Account; keyLabel: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const route = useRoute();

  const signOut = useCallback(() => {
    sessionStorage.removeItem(KEY_STORAGE);
    setKey(null);
    setSession(null);
  }, []);

  // A key kept from earlier in this tab is checked again (it may have been revoked since).
  useEffect(() => {
    if (!key || session) return;
    signIn(key)
      .then((s) => {
        if (s.signed_in) setSession({ account: s.account, keyLabel: s.key_label });
        else {
          setError(s.reason);
          signOut();
        }
      })
      .catch((err: unknown) => setError(messageOf(err)));
  }, [key, session, signOut]);

  useEffect(() => {
    const view = NAV.find((n) => n.view === route.view)?.label ?? 'Console';
    document.title = session ? `${view} · ${session.account.name} · posthooks` : 'Sign in · posthooks';
  }, [route, session]);

  if (!key || !session) {
    return (
      <SignIn
        checking={key !== null && error === null}
        error={error}
        onSignedIn={(newKey, s) => {
          sessionStorage.setItem(KEY_STORAGE, newKey);
          setError(null);
          setKey(newKey);
          setSession(s);
        }}
      />
    );
  }
  return <Console apiKey={key} account={session.account} keyLabel={session.keyLabel} route={route} onSignOut={signOut} />;
}

function SignIn({ checking, error, onSignedIn }: { checking: boolean; error: string | null; onSignedIn: (key: string, s: { account: Account; keyLabel: string }) => void }) {
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const candidate = value.trim();
    if (candidate === '') return setProblem('Enter your account API key.');
    setBusy(true);
    setProblem(null);
    try {
      const s = await signIn(candidate);
      if (s.signed_in) onSignedIn(candidate, { account: s.account, keyLabel: s.key_label });
      else setProblem(s.reason);
    } catch (err) {
      setProblem(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <h1>
        <img src="./favicon.svg" alt="" width="28" height="28" /> posthooks
      </h1>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <h2>Sign in</h2>
        <p>Sign in with your account API key. It is kept in this browser tab only, until you sign out or close the tab.</p>
        <label>
          API key
          <input type="password" name="api-key" autoComplete="off" spellCheck={false} value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {checking ? <p role="status">Checking your key…</p> : null}
        <Alert>{problem ?? error}</Alert>
      </form>
    </main>
  );
}

function Console({ apiKey, account, keyLabel, route, onSignOut }: { apiKey: string; account: Account; keyLabel: string; route: Route; onSignOut: () => void }) {
  const api = useMemo(() => createApi(apiKey), [apiKey]);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">
          <img src="./favicon.svg" alt="" width="22" height="22" /> posthooks
        </span>
        <span className="who">
          {account.name} · account {account.id} · {account.plan} · key “{keyLabel}”
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Sections">
        <ul>
          {NAV.map((n) => (
            <li key={n.view}>
              <a href={n.href} aria-current={route.view === n.view ? 'page' : undefined}>
                {n.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {route.view === 'hooks' && <HooksView api={api} account={account} />}
        {route.view === 'deliveries' && <DeliveriesView api={api} hookId={route.hookId} />}
        {route.view === 'undelivered' && <UndeliveredView api={api} />}
        {route.view === 'integrations' && <IntegrationsView api={api} />}
        {route.view === 'simulate' && <SimulateView api={api} account={account} />}
        {route.view === 'destinations' && <DestinationsView api={api} />}
      </main>
    </>
  );
}
