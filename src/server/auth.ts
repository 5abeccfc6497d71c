/**
 * Bearer-token authentication. Tokens are accepted only in the `Authorization` header: a URL ends
 * up in proxy logs, browser history and our own request log, so a token in the query string is
 * refused outright (and the request log never shows query values).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';

/** Query parameters a client might put a token in; any of them is refused, whatever its value. */
const QUERY_TOKEN_KEYS = new Set(['token', 'access_token', 'api_key', 'apikey', 'auth', 'bearer']);

// Stryker disable next-line Regex: the captured token is trimmed, and a header value holds no newline, so `\s` for `\s+` and a missing `$` match the same tokens
const BEARER = /^Bearer\s+(.+)$/i;

export interface AuthRequest {
  headers: { authorization?: string | undefined };
  query: unknown;
}

/**
 * Throws the answer for a request that may not proceed: a token in the query (400), no bearer
 * token (401) or one no configured token matches (403). Public routes and a server with no tokens
 * configured check only the query rule.
 */
export function authenticate(
  request: AuthRequest,
  tokens: readonly string[],
  opts: { public?: boolean } = {},
): void {
  // Object(): Fastify's query is an object (null-prototype), but a missing one must not throw.
  const key = Object.keys(Object(request.query)).find((k) => QUERY_TOKEN_KEYS.has(k.toLowerCase()));
  if (key !== undefined)
    throw new ApiError(
      400,
      'TOKEN_IN_QUERY',
      `credentials are not accepted in the query string (parameter "${key}")`,
      [{ path: `query.${key}`, message: 'tokens go in the Authorization header' }],
      'send the token as an `Authorization: Bearer <token>` header (the CLI does so from OPTIMUS_TOKEN)',
    );
  if (opts.public === true || tokens.length === 0) return;
  // Stryker disable next-line StringLiteral: any text without the Bearer prefix is refused alike
  const m = BEARER.exec(request.headers.authorization ?? '');
  if (!m)
    throw new ApiError(
      401,
      'UNAUTHENTICATED',
      'this server requires a bearer token',
      [],
      'set OPTIMUS_TOKEN to a token from serve.auth.tokens',
    );
  if (!matchesAny(m[1]!, tokens))
    throw new ApiError(
      403,
      'FORBIDDEN',
      'the bearer token is not accepted by this server',
      [],
      'check OPTIMUS_TOKEN',
    );
}

/** Compares with every token (no early exit) and in constant time, so timing says nothing about them. */
function matchesAny(bearer: string, tokens: readonly string[]): boolean {
  const given = Buffer.from(bearer.trim());
  let accepted = false;
  for (const token of tokens) {
    const t = Buffer.from(token);
    if (t.length === given.length && timingSafeEqual(t, given)) accepted = true;
  }
  return accepted;
}

/**
 * Whether the request's bearer token is one allowed to read secrets (`read_secrets` in
 * serve.auth.tokens). No such token configured, or no token sent: no.
 */
export function mayReadSecrets(
  request: Pick<AuthRequest, 'headers'>,
  secretTokens: readonly string[],
): boolean {
  if (!secretTokens.length) return false;
  const m = BEARER.exec(request.headers.authorization ?? '');
  return m ? matchesAny(m[1]!, secretTokens) : false;
}

/** Checks every request; routes declared `public` need no bearer token. */
export function installAuth(app: FastifyInstance, tokens: readonly string[]): void {
  app.addHook('onRequest', async (request) => {
    // Fastify gives every route, the not-found one included, a config object.
    const isPublic = (request.routeOptions.config as { public?: boolean }).public === true;
    authenticate(request, tokens, { public: isPublic });
  });
}

/** A request URL fit for the log: the path as sent, every query value replaced. */
export function redactQuery(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const query = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq)}=[redacted]`;
    })
    .join('&');
  return `${url.slice(0, at)}?${query}`;
}
