/**
 * Server-sent events over fetch, as the SSE format says (fields, a blank line ends an event,
 * comments ignored), with reconnection after the last event id. Pure of the console's session and
 * address (api/events.ts adds those), so it runs the same in a test as in the browser.
 */
export interface ServerEvent {
  /** `message` when the server named none. */
  event: string;
  data: string;
  id: string | null;
}

/** Splits a byte stream into events; keeps partial lines between chunks. */
export function createSseParser(onEvent: (e: ServerEvent) => void) {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | null = null;
  const line = (l: string) => {
    if (l === '') {
      if (data.length) onEvent({ event: event || 'message', data: data.join('\n'), id });
      event = '';
      data = [];
      id = null;
      return;
    }
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
  };
  return {
    push(chunk: Uint8Array) {
      buffer += decoder.decode(chunk, { stream: true });
      const parts = buffer.split(/\r\n|\r|\n/);
      buffer = parts.pop() ?? '';
      for (const p of parts) line(p);
    },
  };
}

export interface FollowOptions {
  /** The stream's address. */
  url: string;
  /** Headers of each (re)connection, e.g. the session's Authorization. */
  headers?: () => Record<string, string>;
  /** One readable line from an error body or exception. */
  describe: (e: unknown) => string;
  onEvent(e: ServerEvent): void;
  /** Told about a broken stream (and that it is retrying) or a refusal (and that it stopped). */
  onProblem(message: string, retrying: boolean): void;
  /** Told when a (re)connection is open. */
  onOpen?(): void;
  /** Stops reading and any reconnect; pass the page's unmount signal. */
  signal: AbortSignal;
  /** The event that means "nothing more will come"; default `end`. */
  endEvent?: string;
  /** Resume after this event id (a stream followed before). */
  after?: string;
}

const RETRY_MS = [1000, 2000, 5000, 10_000];

/**
 * Follows a server-sent event stream until the end event, a refusal (4xx other than 429) or
 * `signal` aborts. Reconnects after a broken stream or a 5xx/429 with a growing delay, resuming
 * after the last event id seen. Resolves when it stops.
 */
export async function followEvents(opts: FollowOptions): Promise<void> {
  const endEvent = opts.endEvent ?? 'end';
  let lastId: string | null = opts.after ?? null;
  let failures = 0;
  while (!opts.signal.aborted) {
    let ended = false;
    try {
      const headers: Record<string, string> = { ...opts.headers?.(), Accept: 'text/event-stream' };
      if (lastId !== null) headers['Last-Event-ID'] = lastId;
      const res = await fetch(opts.url, { headers, signal: opts.signal });
      if (!res.ok || !res.body) {
        const body = await res.json().catch(() => undefined);
        const message = opts.describe(body ?? `the server answered ${res.status}`);
        if (res.status >= 400 && res.status < 500 && res.status !== 429) {
          opts.onProblem(message, false);
          return;
        }
        throw new Error(message);
      }
      failures = 0;
      opts.onOpen?.();
      const parser = createSseParser((e) => {
        if (e.id !== null) lastId = e.id;
        if (e.event === endEvent) ended = true;
        opts.onEvent(e);
      });
      const reader = res.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
        if (ended) {
          await reader.cancel().catch(() => undefined);
          break;
        }
      }
      if (ended) return;
      throw new Error('the live stream closed');
    } catch (e) {
      if (opts.signal.aborted) return;
      const delay = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)]!;
      failures++;
      opts.onProblem(`${opts.describe(e)}; reconnecting in ${Math.round(delay / 1000)} s`, true);
      await sleep(delay, opts.signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
