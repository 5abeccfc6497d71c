/**
 * Who the browser session is to the server (`GET /api/v1beta1/whoami`) and its token. When the
 * server requires tokens and none is held, the console shows only the sign-in form; a call refused
 * for its token (client.ts) returns there with the server's message. The token is kept in this
 * tab's sessionStorage only.
 */
import {
  createContext,
  type FormEvent,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useState,
} from 'react';
import { api, apiError, onAuthFailure, readToken, writeToken } from './api/client';
import type { ApiData } from './api/types';
import { ErrorState, Loading } from './ui/states';

export interface Session {
  authRequired: boolean;
  authenticated: boolean;
  canWrite: boolean;
  canReadSecrets: boolean;
  token: string | null;
  /** Tries `token`; resolves to null when the server accepts it, else to the server's message. */
  signIn(token: string): Promise<string | null>;
  signOut(): void;
}

type WhoAmI = ApiData<'/api/v1beta1/whoami', 'get'>;

type State =
  | { status: 'loading' }
  | { status: 'error'; message: string }
  | { status: 'ready'; who: WhoAmI; token: string | null; notice: string | null };

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession() outside <SessionProvider>');
  return s;
}

async function whoami(token: string | null): Promise<{ who?: WhoAmI; error?: string; status: number }> {
  try {
    const r = await api.GET('/api/v1beta1/whoami', {
      ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
    });
    if (r.data) return { who: r.data, status: r.response.status };
    return { error: apiError(r.error), status: r.response.status };
  } catch (e) {
    return { error: apiError(e), status: 0 };
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ status: 'loading' });

  const load = useCallback(async (token: string | null, notice: string | null) => {
    const r = await whoami(token);
    if (r.who) {
      setState({ status: 'ready', who: r.who, token, notice });
      return;
    }
    if (token && (r.status === 401 || r.status === 403)) {
      // The held token is no longer accepted (the server's tokens changed): ask for another.
      writeToken(null);
      await load(null, r.error ?? null);
      return;
    }
    setState({ status: 'error', message: r.error ?? 'the server did not answer' });
  }, []);

  useEffect(() => {
    void load(readToken(), null);
    return onAuthFailure((message) => {
      writeToken(null);
      void load(null, message);
    });
  }, [load]);

  const signIn = useCallback(async (token: string) => {
    const r = await whoami(token);
    if (!r.who) return r.error ?? 'the server did not answer';
    if (r.who.auth_required && !r.who.authenticated) return 'the server did not accept this token';
    writeToken(token);
    setState({ status: 'ready', who: r.who, token, notice: null });
    return null;
  }, []);

  const signOut = useCallback(() => {
    writeToken(null);
    void load(null, 'Signed out.');
  }, [load]);

  if (state.status === 'loading') return <Loading what="the server" />;
  if (state.status === 'error')
    return (
      <main className="standalone">
        <ErrorState message={`Cannot reach the Optimus server: ${state.message}`} />
      </main>
    );
  const { who, token, notice } = state;
  const session: Session = {
    authRequired: who.auth_required,
    authenticated: who.authenticated,
    canWrite: who.can_write,
    canReadSecrets: who.can_read_secrets,
    token,
    signIn,
    signOut,
  };
  return (
    <SessionContext.Provider value={session}>
      {who.auth_required && !who.authenticated ? <SignIn notice={notice} /> : children}
    </SessionContext.Provider>
  );
}

function SignIn({ notice }: { notice: string | null }) {
  const { signIn } = useSession();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) {
      setError('Enter a token.');
      return;
    }
    setBusy(true);
    const message = await signIn(t);
    setBusy(false);
    if (message) setError(message);
  };
  const shown = error ?? notice;
  return (
    <main className="standalone">
      <form className="sign-in card" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Optimus</h1>
        <p className="muted">
          This server requires a bearer token (one of <code>serve.auth.tokens</code> in its config). It is
          kept for this browser tab only.
        </p>
        {shown && (
          <p className={error || notice !== 'Signed out.' ? 'alert alert-error' : 'alert'} role="alert">
            {shown}
          </p>
        )}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          // biome-ignore lint/a11y/noAutofocus: the form is the only thing on the page
          autoFocus
        />
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
