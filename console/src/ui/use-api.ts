/** Loads data for a page: the latest call wins, a failure becomes one readable line, reload() retries. */
import { type DependencyList, useCallback, useEffect, useRef, useState } from 'react';
import { apiError } from '../api/client';

export type Loaded<T> =
  | { status: 'loading'; data?: T; reload(): void }
  | { status: 'error'; error: string; data?: T; reload(): void }
  | { status: 'ready'; data: T; reload(): void };

/** `load` gets an AbortSignal; `deps` are what it reads (a change loads again). */
export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList): Loaded<T> {
  const [state, setState] = useState<{ status: 'loading' | 'error' | 'ready'; data?: T; error?: string }>({
    status: 'loading',
  });
  const [round, setRound] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller's deps decide when to load again
  useEffect(() => {
    const ctrl = new AbortController();
    setState((s) => ({ status: 'loading', ...(s.data === undefined ? {} : { data: s.data }) }));
    loadRef.current(ctrl.signal).then(
      (data) => {
        if (!ctrl.signal.aborted) setState({ status: 'ready', data });
      },
      (e: unknown) => {
        if (ctrl.signal.aborted) return;
        setState((s) => ({
          status: 'error',
          error: apiError(e),
          ...(s.data === undefined ? {} : { data: s.data }),
        }));
      },
    );
    return () => ctrl.abort();
  }, [...deps, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { ...state, reload } as Loaded<T>;
}
