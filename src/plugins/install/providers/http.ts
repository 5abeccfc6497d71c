/**
 * Artifacts over HTTP(S) with node:http: idle timeouts, retries with backoff on 5xx, timeouts and
 * connection resets (never on 4xx), redirects (credentials are dropped when a redirect leaves the
 * original host), and the size limit enforced while streaming.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { OptimusError } from '../../../core/errors.js';
import { parseYaml } from '../../../spec/yaml-source.js';
import { displayUrl } from '../secrets.js';
import {
  type ArtifactProvider,
  type AvailableArtifact,
  type FetchOptions,
  type FetchResult,
  formatSeconds,
  saveStream,
} from './provider.js';

export interface HttpProviderOptions {
  name: string;
  /** Base URL that relative refs resolve against. */
  baseUrl?: string;
  headers?: Record<string, string>;
  /** No data for this long (connect, headers or body) fails the attempt. */
  timeoutMs?: number;
  retries?: number;
  /** First backoff delay; doubled each retry. */
  backoffMs?: number;
}

const MAX_REDIRECTS = 5;
const DEFAULT_TIMEOUT_MS = 30_000;

/** An attempt that may succeed if repeated (5xx, timeout, reset); `code` is what it fails with at last. */
class RetryableError extends Error {
  constructor(
    message: string,
    readonly code = 'PLUGIN_DOWNLOAD_FAILED',
  ) {
    super(message);
  }
}

const STALLED = 'PLUGIN_DOWNLOAD_STALLED';

const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

export function createHttpProvider(opts: HttpProviderOptions): ArtifactProvider {
  const retries = opts.retries ?? 3;
  const backoffMs = opts.backoffMs ?? 250;

  const resolveRef = (ref: string): URL => {
    try {
      return opts.baseUrl
        ? new URL(ref, opts.baseUrl.endsWith('/') ? opts.baseUrl : `${opts.baseUrl}/`)
        : new URL(ref);
    } catch {
      throw new OptimusError('PLUGIN_URL_INVALID', `"${displayUrl(ref)}" is not a valid URL`, {
        category: 'invalid',
      });
    }
  };

  async function withRetries<T>(what: string, attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await attempt();
      } catch (e) {
        if (!(e instanceof RetryableError) || i >= retries || signal?.aborted) {
          if (e instanceof RetryableError) {
            throw new OptimusError(e.code, `${what}: ${e.message} (after ${i + 1} attempts)`, {
              category: 'io',
              ...(e.code === STALLED
                ? { hint: 'check the server; on a slow link raise plugins.download.stall_timeout_seconds' }
                : {}),
            });
          }
          throw e;
        }
        await sleep(backoffMs * 2 ** i * (0.75 + Math.random() * 0.5), undefined, signal ? { signal } : {});
      }
    }
  }

  /** GET `url`, following redirects; resolves with a 2xx response. */
  function get(
    url: URL,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
    timeoutMs: number,
    /** Whether the body's idle time is watched by the caller (which knows when it holds the stream back). */
    callerWatchesBody = false,
    hops = 0,
  ): Promise<IncomingMessage> {
    return new Promise((resolvePromise, reject) => {
      const lib = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
      if (!lib) {
        reject(
          new OptimusError('PLUGIN_URL_INVALID', `unsupported URL scheme in ${displayUrl(url.href)}`, {
            category: 'invalid',
          }),
        );
        return;
      }
      const req = lib.get(
        url,
        {
          headers,
          agent: url.protocol === 'https:' ? agents.https : agents.http,
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400 && res.headers.location) {
            res.resume();
            if (hops >= MAX_REDIRECTS) {
              reject(
                new OptimusError('PLUGIN_DOWNLOAD_FAILED', `${displayUrl(url.href)}: too many redirects`, {
                  category: 'io',
                }),
              );
              return;
            }
            const next = new URL(res.headers.location, url);
            // Never hand credentials to another host.
            const nextHeaders = next.host === url.host ? headers : withoutCredentials(headers);
            get(next, nextHeaders, signal, timeoutMs, callerWatchesBody, hops + 1).then(
              resolvePromise,
              reject,
            );
            return;
          }
          if (status >= 200 && status < 300) {
            if (callerWatchesBody) req.setTimeout(0);
            else
              res.setTimeout(timeoutMs, () =>
                res.destroy(new RetryableError(`no data for ${formatSeconds(timeoutMs)}`, STALLED)),
              );
            resolvePromise(res);
            return;
          }
          res.resume();
          const msg = `${displayUrl(url.href)}: HTTP ${status} ${res.statusMessage ?? ''}`.trim();
          if (status >= 500 || status === 429 || status === 408) reject(new RetryableError(msg));
          else
            reject(
              new OptimusError(status === 404 ? 'PLUGIN_ARTIFACT_NOT_FOUND' : 'PLUGIN_DOWNLOAD_FAILED', msg, {
                category: status === 404 ? 'not_found' : 'io',
                hint: status === 401 || status === 403 ? "check the provider's credentials" : 'check the url',
              }),
            );
        },
      );
      req.setTimeout(timeoutMs, () =>
        req.destroy(new RetryableError(`no response within ${formatSeconds(timeoutMs)}`, STALLED)),
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e instanceof RetryableError || e instanceof OptimusError || e.name === 'AbortError') reject(e);
        else if (isTransient(e))
          reject(new RetryableError(`${displayUrl(url.href)}: ${e.code ?? e.message}`));
        else
          reject(
            new OptimusError('PLUGIN_DOWNLOAD_FAILED', `${displayUrl(url.href)}: ${e.code ?? e.message}`, {
              category: 'io',
            }),
          );
      });
    });
  }

  const headers = { 'user-agent': 'optimus-plugin-installer', ...(opts.headers ?? {}) };

  return {
    name: opts.name,
    type: 'http',
    async fetch(ref: string, dest: string, fo: FetchOptions): Promise<FetchResult> {
      const url = resolveRef(ref);
      const what = displayUrl(url.href);
      const timeoutMs = opts.timeoutMs ?? fo.stallMs ?? DEFAULT_TIMEOUT_MS;
      return withRetries(
        what,
        async () => {
          const res = await get(url, headers, fo.signal, timeoutMs, true);
          const len = Number(res.headers['content-length']);
          const total = Number.isFinite(len) && res.headers['content-length'] !== undefined ? len : undefined;
          try {
            const result = await saveStream(res, dest, what, {
              ...fo,
              stallMs: timeoutMs,
              ...(total !== undefined ? { total } : {}),
            });
            if (total !== undefined && result.bytes !== total) {
              throw new RetryableError(`body ended after ${result.bytes} of ${total} bytes`);
            }
            return result;
          } catch (e) {
            res.destroy();
            const err = e as NodeJS.ErrnoException;
            // A stall may pass on a new connection, as a timeout does.
            if (err instanceof OptimusError && err.code === STALLED)
              throw new RetryableError(err.message.slice(what.length + 2), STALLED);
            if (err instanceof RetryableError || err instanceof OptimusError || err.name === 'AbortError')
              throw err;
            if (isTransient(err) || err.message === 'aborted')
              throw new RetryableError(`${err.code ?? err.message}`);
            throw err;
          }
        },
        fo.signal,
      );
    },
    async list(): Promise<AvailableArtifact[]> {
      const url = resolveRef('index.yaml');
      const what = displayUrl(url.href);
      const text = await withRetries(what, async () => {
        const res = await get(url, headers, undefined, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
        const chunks: Buffer[] = [];
        for await (const c of res) chunks.push(c as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      });
      return parseIndex(text, what);
    },
  };
}

/**
 * An http provider's `index.yaml`: `plugins: [{name, url, version?, sha256?, description?}]`.
 * Exported for tests and for the docs' example.
 */
export function parseIndex(text: string, file: string): AvailableArtifact[] {
  const src = parseYaml(text, file);
  const value = src.value as { plugins?: unknown } | null;
  if (
    src.problems.some((p) => p.severity === 'error') ||
    !value ||
    typeof value !== 'object' ||
    !Array.isArray(value.plugins)
  ) {
    throw new OptimusError('PLUGIN_INDEX_INVALID', `${file}: expected a mapping with a "plugins" list`, {
      category: 'invalid',
      hint: 'an http provider index is YAML: plugins: [{name, url, version, sha256}]',
    });
  }
  const out: AvailableArtifact[] = [];
  for (const item of value.plugins as unknown[]) {
    if (!item || typeof item !== 'object') continue;
    const r = item as Record<string, unknown>;
    if (typeof r.url !== 'string') continue;
    const a: AvailableArtifact = { ref: r.url };
    if (typeof r.name === 'string') a.name = r.name;
    if (r.version !== undefined) a.version = String(r.version);
    if (typeof r.sha256 === 'string') a.sha256 = r.sha256;
    if (typeof r.description === 'string') a.description = r.description;
    if (typeof r.size === 'number') a.size = r.size;
    out.push(a);
  }
  return out;
}

function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (!/^(authorization|cookie|x-api-key)$/i.test(k)) out[k] = v;
  return out;
}

function isTransient(e: NodeJS.ErrnoException): boolean {
  return [
    'ECONNRESET',
    'ECONNREFUSED',
    'ETIMEDOUT',
    'EPIPE',
    'EAI_AGAIN',
    'ECONNABORTED',
    'ENETUNREACH',
    'EHOSTUNREACH',
  ].includes(e.code ?? '');
}
