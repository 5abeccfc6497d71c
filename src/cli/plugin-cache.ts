/**
 * A local copy of a server's plugin specs (its /plugins zip), one folder per server, so the CLI can
 * validate jobs with exactly what the server will use, offline too. Syncing replaces only that
 * server's folder, atomically; nothing else on disk is touched.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { OptimusError } from '../core/errors.js';
import type { ApiClient } from './api-client.js';

export function cacheRoot(): string {
  if (process.env.OPTIMUS_CACHE_DIR) return process.env.OPTIMUS_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'optimus');
}

/** Where the specs of the server at `baseUrl` are cached. */
export function pluginCacheDir(baseUrl: string): string {
  const slug = baseUrl.replace(/^https?:\/\//, '').replace(/[^A-Za-z0-9.-]+/g, '_');
  const hash = createHash('sha256').update(baseUrl).digest('hex').slice(0, 8);
  return join(cacheRoot(), 'servers', `${slug}-${hash}`, 'plugins');
}

export function hasPluginCache(baseUrl: string): boolean {
  return existsSync(pluginCacheDir(baseUrl));
}

const SPEC_NAME = /^optimus-plugin-[A-Za-z0-9][A-Za-z0-9_.-]*\.yaml$/;

/** The server's ETag of the cached copy, kept inside the copy so both change together. */
const ETAG_FILE = '.etag';

export interface SyncResult {
  dir: string;
  files: string[];
  bytes: number;
  /** False when the server said the cached copy is still current (nothing was downloaded). */
  changed: boolean;
}

/**
 * Bring the cache of `client`'s server up to date: a conditional request with the cached copy's
 * ETag, so an unchanged set costs one bodiless answer; a changed one replaces the copy atomically.
 */
export async function syncPluginCache(client: ApiClient): Promise<SyncResult> {
  const dir = pluginCacheDir(client.baseUrl);
  const fresh = await client.bytesIfChanged('/plugins', cachedEtag(client.baseUrl));
  if (!fresh) {
    const files = cachedSpecFiles(client.baseUrl).sort();
    const bytes = files.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    return { dir, files, bytes, changed: false };
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(fresh.bytes);
  } catch (e) {
    throw new OptimusError(
      'PLUGIN_CACHE_INVALID',
      `the server's /plugins archive cannot be read: ${(e as Error).message}`,
      { category: 'io' },
    );
  }
  const staging = `${dir}.new-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const files: string[] = [];
  let bytes = 0;
  for (const [name, data] of Object.entries(entries)) {
    // Flat spec files only: a name with a path in it could escape the cache folder.
    if (!SPEC_NAME.test(name)) continue;
    writeFileSync(join(staging, name), data);
    files.push(name);
    bytes += data.length;
  }
  if (fresh.etag) writeFileSync(join(staging, ETAG_FILE), fresh.etag);
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(staging, dir);
  rmSync(old, { recursive: true, force: true });
  return { dir, files: files.sort(), bytes, changed: true };
}

function cachedEtag(baseUrl: string): string | undefined {
  try {
    return readFileSync(join(pluginCacheDir(baseUrl), ETAG_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** When the cached copy was written, for "using the copy of …" notes. */
export function pluginCacheTime(baseUrl: string): Date | undefined {
  try {
    return statSync(pluginCacheDir(baseUrl)).mtime;
  } catch {
    return undefined;
  }
}

export function cachedSpecFiles(baseUrl: string): string[] {
  const dir = pluginCacheDir(baseUrl);
  return existsSync(dir) ? readdirSync(dir).filter((f) => SPEC_NAME.test(f)) : [];
}
