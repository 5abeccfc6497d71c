/**
 * Bearer-token authentication. Tokens are accepted only in the `Authorization` header: a URL ends
 * up in proxy logs, browser history and our own request log, so a token in the query string is
 * refused outright (and the request log never shows query values).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { PodTokenScope } from '../scheduler/airflow/contract.js';
import { isPodToken, type PodTokenFailure, verifyPodToken } from '../services/pod-token.js';
import { ApiError } from './errors.js';

/** Query parameters a client might put a token in; any of them is refused, whatever its value. */
const QUERY_TOKEN_KEYS = new Set(['token', 'access_token', 'api_key', 'apikey', 'auth', 'bearer']);

// Stryker disable next-line Regex: the captured token is trimmed, and a header value holds no newline, so `\s` for `\s+` and a missing `$` match the same tokens
const BEARER = /^Bearer\s+(.+)$/i;

export interface AuthRequest {
  headers: { authorization?: string | undefined };
  query: unknown;
}

/** What checks pod tokens: the key derived from the app key, and the clock (injected in tests). */
export interface PodTokenAuth {
  key: Buffer;
  now(): Date;
}

export interface AuthOptions {
  public?: boolean;
  /**
   * Public unless the request sends an Authorization header, which is then checked as on any route
   * (whoami: a wrong token is told so, not answered as if anonymous).
   */
  optionalAuth?: boolean;
  /** The route takes a pod token (run input only); it still has to match the request's scope. */
  podTokenRoute?: boolean;
  /** Absent: this server mints no pod tokens and accepts none. */
  podTokens?: PodTokenAuth | undefined;
}

/**
 * Throws the answer for a request that may not proceed: a token in the query (400), no bearer
 * token (401) or one no configured token matches (403). Public routes and a server with no tokens
 * configured check only the query rule. A pod token is checked whether or not tokens are
 * configured (it is the only way to secrets on a server without them): valid and on a pod token
 * route, its scope is returned for the route to match against the request; anywhere else, 403.
 */
export function authenticate(
  request: AuthRequest,
  tokens: readonly string[],
  opts: AuthOptions = {},
): PodTokenScope | undefined {
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
  if (opts.public === true) return undefined;
  if (opts.optionalAuth === true && request.headers.authorization === undefined) return undefined;
  // Stryker disable next-line StringLiteral: any text without the Bearer prefix is refused alike
  const m = BEARER.exec(request.headers.authorization ?? '');
  const bearer = m ? m[1]!.trim() : undefined;
  if (bearer !== undefined && isPodToken(bearer)) return podTokenScope(bearer, opts);
  if (tokens.length === 0) return undefined;
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
  return undefined;
}

const POD_REFUSAL: Record<PodTokenFailure | 'unsupported', { code: string; message: string; hint: string }> =
  {
    malformed: {
      code: 'POD_TOKEN_INVALID',
      message: 'the pod token is malformed',
      hint: 'send the token exactly as minted (POST …/job/{job}/pod_token)',
    },
    bad_signature: {
      code: 'POD_TOKEN_INVALID',
      message:
        "the pod token's signature does not match: it was altered, or minted by a server with another app key",
      hint: 'mint a new pod token from this server (POST …/job/{job}/pod_token)',
    },
    expired: {
      code: 'POD_TOKEN_EXPIRED',
      message: 'the pod token has expired',
      hint: 'mint a new pod token when the pod is launched; scheduler.pod_token_ttl sets how long one lasts',
    },
    not_yet_valid: {
      code: 'POD_TOKEN_NOT_YET_VALID',
      message: "the pod token was issued in the future by this server's clock",
      hint: 'check the clocks of the servers minting and checking pod tokens',
    },
    unsupported: {
      code: 'POD_TOKEN_INVALID',
      message: 'this server accepts no pod tokens',
      hint: 'pod tokens need the server to run with an app key (optimus serve always has one)',
    },
  };

/** The verified scope of a pod token, or the 403 saying why it is refused (never quoting it). */
function podTokenScope(token: string, opts: AuthOptions): PodTokenScope {
  if (opts.podTokenRoute !== true)
    throw new ApiError(
      403,
      'POD_TOKEN_ROUTE',
      'a pod token is accepted only for fetching run input',
      [],
      'use a token from serve.auth.tokens for any other request',
    );
  const check = opts.podTokens
    ? verifyPodToken(token, { key: opts.podTokens.key, now: opts.podTokens.now() })
    : ({ ok: false, reason: 'unsupported' } as const);
  if (check.ok) return check.scope;
  const r = POD_REFUSAL[check.reason];
  throw new ApiError(403, r.code, r.message, [], r.hint);
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

/** Who a request's bearer token says it is; the server's configured token lists decide. */
export type TokenKind = 'none' | 'read_only' | 'full' | 'read_secrets';

export interface TokenLists {
  /** Every accepted token (the others are also in it). */
  tokens: readonly string[];
  secretTokens: readonly string[];
  readOnlyTokens: readonly string[];
}

/**
 * The kind of the request's bearer token: `none` when it sends none or one no list holds (auth
 * refuses the latter before any handler runs).
 */
export function tokenKind(request: Pick<AuthRequest, 'headers'>, lists: TokenLists): TokenKind {
  const m = BEARER.exec(request.headers.authorization ?? '');
  if (!m) return 'none';
  if (lists.readOnlyTokens.length && matchesAny(m[1]!, lists.readOnlyTokens)) return 'read_only';
  if (lists.secretTokens.length && matchesAny(m[1]!, lists.secretTokens)) return 'read_secrets';
  return lists.tokens.length && matchesAny(m[1]!, lists.tokens) ? 'full' : 'none';
}

/** Methods a read-only token may use: they change nothing (HEAD is Fastify's twin of each GET). */
const READ_METHODS = new Set(['GET', 'HEAD']);

/** Throws 403 TOKEN_READ_ONLY for a request that would change something with a read-only token. */
export function refuseReadOnlyWrite(
  request: Pick<AuthRequest, 'headers'> & { method: string },
  readOnlyTokens: readonly string[],
): void {
  if (!readOnlyTokens.length || READ_METHODS.has(request.method.toUpperCase())) return;
  const m = BEARER.exec(request.headers.authorization ?? '');
  if (!m || !matchesAny(m[1]!, readOnlyTokens)) return;
  throw new ApiError(
    403,
    'TOKEN_READ_ONLY',
    `this token is read-only: it may call GET routes only, not ${request.method.toUpperCase()}`,
    [],
    'use a token from serve.auth.tokens without read_only: true (a plain token) to change anything',
  );
}

/** Pod token scopes of requests that authenticated with one, for their route to match. */
const podScopes = new WeakMap<object, PodTokenScope>();

/** The scope of the pod token this request authenticated with; undefined: it used none. */
export function podTokenOf(request: object): PodTokenScope | undefined {
  return podScopes.get(request);
}

/**
 * Checks every request; routes declared `public` need no bearer token, and a read-only token is
 * refused on any route that is not a GET (public ones included: it asked to be checked by sending it).
 */
export function installAuth(
  app: FastifyInstance,
  tokens: readonly string[],
  podTokens?: PodTokenAuth | undefined,
  readOnlyTokens: readonly string[] = [],
): void {
  app.addHook('onRequest', async (request) => {
    // Fastify gives every route, the not-found one included, a config object.
    const config = request.routeOptions.config as {
      public?: boolean;
      podToken?: boolean;
      optionalAuth?: boolean;
    };
    const scope = authenticate(request, tokens, {
      public: config.public === true,
      optionalAuth: config.optionalAuth === true,
      podTokenRoute: config.podToken === true,
      podTokens,
    });
    if (scope) podScopes.set(request, scope);
    else refuseReadOnlyWrite(request, readOnlyTokens);
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
