/**
 * The CLI's HTTP client for the server. Server address from `--host`, else optimus.yaml `host`;
 * token from OPTIMUS_TOKEN. An unreachable server, a refused token or an API version mismatch is
 * one clear error with the fix; server errors keep their code, message and per-field details.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { OptimusError } from '../core/errors.js';

export const CLIENT_API_VERSION = 1;

export interface ApiErrorBody {
  code: string;
  message: string;
  hint?: string;
  details?: { path?: string; message: string; code?: string; severity?: string; hint?: string }[];
}

export class ServerError extends OptimusError {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.code, body.message, {
      category: status === 404 ? 'not_found' : status === 409 ? 'conflict' : status >= 500 ? 'io' : 'invalid',
      ...(body.hint ? { hint: body.hint } : {}),
    });
  }
}

export interface ApiClient {
  readonly baseUrl: string;
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  put<T>(path: string, body?: unknown): Promise<T>;
  delete<T>(path: string): Promise<T>;
  /** Raw bytes of a GET (e.g. the /plugins zip). */
  bytes(path: string): Promise<Uint8Array>;
  /**
   * A conditional GET: `undefined` when the server answers 304 because its ETag is still `etag`,
   * else the bytes and the new ETag (when the server sends one).
   */
  bytesIfChanged(path: string, etag?: string): Promise<{ bytes: Uint8Array; etag?: string } | undefined>;
  /** Fails unless the server speaks this CLI's API version. */
  checkVersion(): Promise<ServerVersion>;
}

export interface ServerVersion {
  server_version: string;
  api_version: number;
  store?: string;
  /** What the server accepts beyond API version 1 as first released (absent on older servers). */
  features?: string[];
}

/** A request body already written as JSON (a large one, measured before it is sent). */
export class JsonText {
  constructor(readonly text: string) {}
}

export function normaliseHost(host: string): string {
  const h = host.trim().replace(/\/+$/, '');
  return /^https?:\/\//.test(h) ? h : `http://${h}`;
}

export function createApiClient(opts: {
  host: string;
  token?: string | undefined;
  timeoutMs?: number;
}): ApiClient {
  const baseUrl = normaliseHost(opts.host);
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const request = async (
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<HttpAnswer> => {
    const headers: Record<string, string> = { ...extra };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let payload: Buffer | undefined;
    if (body !== undefined) {
      payload = Buffer.from(body instanceof JsonText ? body.text : JSON.stringify(body));
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    let res: HttpAnswer;
    try {
      res = await exchange(new URL(baseUrl + path), method, headers, payload, timeoutMs);
    } catch (e) {
      const code = (e as { code?: string }).code;
      const cause =
        code === 'ABORT_ERR' ? `no answer within ${timeoutMs / 1000} s` : (code ?? (e as Error).name);
      throw new OptimusError(
        'SERVER_UNREACHABLE',
        `cannot reach the Optimus server at ${baseUrl} (${cause})`,
        {
          category: 'io',
          hint: 'start it with `optimus serve`, or point host in optimus.yaml (or --host) at a running server',
        },
      );
    }
    if (res.status === 401 || res.status === 403) {
      const b = (parseJson(res.body) ?? {}) as Partial<ApiErrorBody>;
      throw new OptimusError(
        'AUTH_REFUSED',
        `the server at ${baseUrl} refused ${opts.token ? 'the token' : 'a request without a token'}: ${b.message ?? res.statusText}`,
        {
          category: 'usage',
          hint: opts.token
            ? 'check OPTIMUS_TOKEN: it must be one of the server’s serve.auth.tokens'
            : 'set OPTIMUS_TOKEN to a token the server accepts',
        },
      );
    }
    if ((res.status < 200 || res.status > 299) && res.status !== 304) {
      const b = parseJson(res.body) as ApiErrorBody | undefined;
      throw new ServerError(
        res.status,
        b && typeof b === 'object' && typeof b.code === 'string'
          ? b
          : { code: 'SERVER_ERROR', message: `${res.status} ${res.statusText}` },
      );
    }
    return res;
  };
  const json = async <T>(method: string, path: string, body?: unknown) => {
    const res = await request(method, path, body);
    const value = parseJson(res.body);
    if (value === undefined)
      throw new OptimusError(
        'SERVER_ANSWER_INVALID',
        `the server at ${baseUrl} answered ${method} ${path} with no JSON`,
        {
          category: 'io',
          hint: 'check that --host (or host in optimus.yaml) points at an Optimus server',
        },
      );
    return value as T;
  };
  const client: ApiClient = {
    baseUrl,
    get: (p) => json('GET', p),
    post: (p, b) => json('POST', p, b ?? {}),
    put: (p, b) => json('PUT', p, b ?? {}),
    delete: (p) => json('DELETE', p),
    bytes: async (p) => new Uint8Array((await request('GET', p)).body),
    async bytesIfChanged(p, etag) {
      const res = await request('GET', p, undefined, etag ? { 'if-none-match': etag } : {});
      if (res.status === 304) return undefined;
      const bytes = new Uint8Array(res.body);
      const tag = res.headers.etag;
      return typeof tag === 'string' ? { bytes, etag: tag } : { bytes };
    },
    async checkVersion() {
      const v = await json<ServerVersion>('GET', '/api/v1beta1/version');
      if (v.api_version !== CLIENT_API_VERSION) {
        throw new OptimusError(
          'VERSION_MISMATCH',
          `the server speaks API version ${v.api_version} (server ${v.server_version}); this CLI speaks ${CLIENT_API_VERSION}`,
          {
            category: 'usage',
            hint:
              v.api_version > CLIENT_API_VERSION
                ? 'upgrade the optimus CLI'
                : 'upgrade the server, or use an older CLI',
          },
        );
      }
      return v;
    },
  };
  return client;
}

/** A whole answer: the CLI reads every body in full. */
interface HttpAnswer {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One request with node:http(s), not fetch: fetch's implementation (undici) is loaded on first use
 * and costs every CLI command ~35 ms of start-up, a third of an unchanged deploy's own work. Both
 * keep connections alive by default (the global agents); idle ones do not hold the process open.
 */
function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  payload: Buffer | undefined,
  timeoutMs: number,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method, headers, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers: res.headers,
          body: Buffer.concat(chunks),
        }),
      );
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Path segment helper: encodes names for URLs. */
export const seg = (s: string) => encodeURIComponent(s);
