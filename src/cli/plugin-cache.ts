/**
 * A local copy of a server's plugin specs (its /plugins zip), one folder per server, so the CLI can
 * validate jobs with exactly what the server will use, offline too. Syncing replaces only that
 * server's folder, atomically; nothing else on disk is touched.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

export async function syncPluginCache(
  client: ApiClient,
): Promise<{ dir: string; files: string[]; bytes: number }> {
  const zip = await client.bytes('/plugins');
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip);
  } catch (e) {
    throw new OptimusError(
      'PLUGIN_CACHE_INVALID',
      `the server's /plugins archive cannot be read: ${(e as Error).message}`,
      { category: 'io' },
    );
  }
  const dir = pluginCacheDir(client.baseUrl);
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
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(staging, dir);
  rmSync(old, { recursive: true, force: true });
  return { dir, files: files.sort(), bytes };
}

export function cachedSpecFiles(baseUrl: string): string[] {
  const dir = pluginCacheDir(baseUrl);
  return existsSync(dir) ? readdirSync(dir).filter((f) => SPEC_NAME.test(f)) : [];
}
