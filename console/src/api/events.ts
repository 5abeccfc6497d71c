/**
 * A run's live events for the console: server-sent events read with fetch, not EventSource, which
 * cannot send the Authorization header (the token must never travel in a URL). runs/sse.ts parses
 * the stream and reopens it after a break with `Last-Event-ID`, so no log line is lost or repeated.
 */
import { createSseParser, type FollowOptions, followEvents, type ServerEvent } from '../runs/sse';
import { apiError, BASE_URL, readToken } from './client';

export { createSseParser, type ServerEvent };

/** Follows `path` (under the API's base) with the session's token until the end event or `signal`. */
export function followApiEvents(
  opts: Omit<FollowOptions, 'url' | 'headers' | 'describe'> & { path: string },
): Promise<void> {
  const { path, ...rest } = opts;
  return followEvents({
    ...rest,
    url: `${BASE_URL}${path}`,
    headers: (): Record<string, string> => {
      const token = readToken();
      return token ? { Authorization: `Bearer ${token}` } : {};
    },
    describe: apiError,
  });
}
