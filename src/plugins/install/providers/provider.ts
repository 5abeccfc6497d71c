/**
 * The port every artifact source implements. A provider knows how to fetch one object into a local
 * file and how to list what it offers; everything else (checksums, archives, lock) is shared.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OptimusError } from '../../../core/errors.js';

export interface FetchOptions {
  /** Refuse artifacts larger than this (bytes). */
  maxBytes: number;
  signal?: AbortSignal;
  /** Called as bytes arrive; `total` when the source announced a size. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** Where the bytes go instead of the `dest` file; called again for each retry. */
  sink?: () => Writable;
  /** No bytes for this long fails the attempt with PLUGIN_DOWNLOAD_STALLED (a trickle is for the caller's deadline). */
  stallMs?: number;
}

export interface FetchResult {
  bytes: number;
  sha256: string;
}

export interface AvailableArtifact {
  /** Reference usable as a plugin entry's `url` with this provider. */
  ref: string;
  size?: number;
  /** From an http index.yaml. */
  name?: string;
  version?: string;
  sha256?: string;
  description?: string;
}

export interface ArtifactProvider {
  readonly name: string;
  readonly type: 'http' | 'file' | 's3' | 'gcs';
  /** Fetch `ref` into the file `dest` (created or truncated). */
  fetch(ref: string, dest: string, opts: FetchOptions): Promise<FetchResult>;
  list(): Promise<AvailableArtifact[]>;
}

export const DEFAULT_MAX_ARTIFACT_BYTES = 512 * 1024 * 1024;

export function tooLarge(what: string, limit: number): OptimusError {
  return new OptimusError(
    'PLUGIN_ARTIFACT_TOO_LARGE',
    `${what} is larger than the maximum artifact size (${formatBytes(limit)})`,
    {
      category: 'invalid',
      hint: 'check the url, or raise the limit with --max-size',
    },
  );
}

export function stalled(what: string, ms: number): OptimusError {
  return new OptimusError('PLUGIN_DOWNLOAD_STALLED', `${what}: no data for ${formatSeconds(ms)}`, {
    category: 'io',
    hint: 'check the server; on a slow link raise plugins.download.stall_timeout_seconds',
  });
}

/** `1.5 s`, `30 s`, `10 min`: how the download limits read in messages. */
export function formatSeconds(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

/**
 * Stream into `dest`, hashing and counting; stop as soon as the size limit is passed, the caller's
 * signal is aborted, or no bytes arrived for `stallMs`.
 */
export async function saveStream(
  stream: Readable | AsyncIterable<Uint8Array>,
  dest: string,
  what: string,
  opts: FetchOptions & { total?: number },
): Promise<FetchResult> {
  if (opts.total !== undefined && opts.total > opts.maxBytes) throw tooLarge(what, opts.maxBytes);
  const hash = createHash('sha256');
  let bytes = 0;
  const stop = new AbortController();
  const onAbort = () => stop.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort);
  if (opts.signal?.aborted) onAbort();
  let timer: NodeJS.Timeout | undefined;
  const watch = () => {
    if (opts.stallMs === undefined) return;
    timer = setTimeout(() => stop.abort(stalled(what, opts.stallMs!)), opts.stallMs);
  };
  watch();
  try {
    await pipeline(
      stream,
      async function* (source: AsyncIterable<Uint8Array>) {
        for await (const chunk of source) {
          // Only time spent waiting for the source counts: unpacking may hold the stream back.
          clearTimeout(timer);
          bytes += chunk.length;
          if (bytes > opts.maxBytes) throw tooLarge(what, opts.maxBytes);
          hash.update(chunk);
          opts.onProgress?.(bytes, opts.total);
          yield chunk;
          watch();
        }
      },
      opts.sink ? opts.sink() : createWriteStream(dest),
      { signal: stop.signal },
    );
  } catch (e) {
    // The reason it was stopped (a stall, the caller's deadline) says more than "aborted".
    if (stop.signal.aborted && stop.signal.reason instanceof Error) throw stop.signal.reason;
    throw e;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return { bytes, sha256: hash.digest('hex') };
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 * 1024) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 * 1024) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export function joinKey(prefix: string | undefined, key: string): string {
  if (!prefix) return key;
  return `${prefix.replace(/\/+$/, '')}/${key.replace(/^\/+/, '')}`;
}

/**
 * Where a plugin url points in an object store: `<scheme>://bucket/key` as given, or a key relative
 * to the provider's bucket and prefix.
 */
export function bucketLocator(
  opts: { bucket?: string | undefined; prefix?: string | undefined },
  schemes: RegExp,
  example: string,
) {
  const pattern = new RegExp(`^(?:${schemes.source}):\\/\\/([^/]+)\\/(.+)$`);
  return (ref: string): { bucket: string; key: string } => {
    const m = pattern.exec(ref);
    if (m) return { bucket: m[1]!, key: m[2]! };
    if (!opts.bucket)
      throw new OptimusError('PLUGIN_URL_INVALID', `"${ref}" is not ${example}`, { category: 'invalid' });
    return { bucket: opts.bucket, key: joinKey(opts.prefix, ref) };
  };
}
