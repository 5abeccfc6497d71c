/**
 * Which plugin specs `job validate` and `job graph` check jobs against. The client stays lite: a
 * project that names a server and has no plugins of its own uses the server's specs (the `plugin
 * sync` cache, refreshed when the server's fingerprint changes, used offline with a note). Local
 * plugins are an explicit choice: `--plugins <dir>`, or an install_location that holds plugins.
 */
import { existsSync, readdirSync } from 'node:fs';
import { relative } from 'node:path';
import { isOptimusError, OptimusError } from '../core/errors.js';
import type { Problem } from '../core/problem.js';
import { loadProjectConfig, type ProjectConfig } from '../spec/project-config.js';
import { createApiClient, normaliseHost } from './api-client.js';
import { DEFAULT_HOST } from './context.js';
import { hasPluginCache, pluginCacheDir, pluginCacheTime, syncPluginCache } from './plugin-cache.js';

export type PluginSource =
  | { kind: 'local'; dir: string; why: 'flag' | 'installed' | 'default' }
  | { kind: 'server'; dir: string; server: string; offline: boolean; note?: string };

/** A refresh only asks "has it changed?": a dead or black-holed server must not stall validation. */
const REFRESH_TIMEOUT_MS = 10_000;

export async function resolvePluginSource(opts: Record<string, unknown>): Promise<PluginSource | undefined> {
  if (typeof opts.plugins === 'string') return { kind: 'local', dir: opts.plugins, why: 'flag' };
  // Without a usable optimus.yaml the validator reports why; there is no choice to make.
  const config = loadProjectConfig(String(opts.dir ?? '.')).config;
  if (!config) return undefined;
  if (!opts.server && hasInstalledPlugins(config.installLocation))
    return { kind: 'local', dir: config.installLocation, why: 'installed' };
  const host = namedServer(opts, config);
  if (!host && !opts.server) return { kind: 'local', dir: config.installLocation, why: 'default' };
  return serverSource(host ?? DEFAULT_HOST);
}

/** `--host`, else optimus.yaml's `host`, else OPTIMUS_HOST: a server the user named. */
function namedServer(opts: Record<string, unknown>, config: ProjectConfig): string | undefined {
  const host = (opts.host as string | undefined) ?? config.host ?? process.env.OPTIMUS_HOST;
  return host ? normaliseHost(host) : undefined;
}

/** An install location "holds plugins" when anything but dot files is in it (init leaves it empty). */
export function hasInstalledPlugins(dir: string): boolean {
  try {
    return readdirSync(dir).some((f) => !f.startsWith('.'));
  } catch {
    return false;
  }
}

async function serverSource(host: string): Promise<PluginSource> {
  const client = createApiClient({
    host,
    token: process.env.OPTIMUS_TOKEN,
    timeoutMs: REFRESH_TIMEOUT_MS,
  });
  const server = client.baseUrl;
  const dir = pluginCacheDir(server);
  try {
    await syncPluginCache(client);
    return { kind: 'server', dir, server, offline: false };
  } catch (e) {
    // A refused token is the user's to fix, not a reason to fall back to an old copy.
    const fallback = isOptimusError(e) && (e.code === 'SERVER_UNREACHABLE' || e.category === 'io');
    if (!fallback) throw e;
    if (!hasPluginCache(server) || !existsSync(dir)) {
      throw new OptimusError(
        'SERVER_UNREACHABLE',
        `${e.message}, and no copy of its plugin specs is cached here`,
        {
          category: 'io',
          hint: 'start the server (`optimus serve`) or fix host in optimus.yaml; to check against local plugins instead, pass --plugins <dir> or run `optimus plugin install`',
        },
      );
    }
    const when = pluginCacheTime(server);
    return {
      kind: 'server',
      dir,
      server,
      offline: true,
      note: `${server} is unreachable: using its plugin specs cached ${when ? `at ${when.toISOString()}` : 'earlier'}`,
    };
  }
}

/** How the source reads in a summary line: "of the server at …", or the local folder. */
export function describeSource(source: PluginSource | undefined): string {
  if (!source) return '';
  if (source.kind === 'server') return ` of ${source.server}${source.offline ? ' (cached copy)' : ''}`;
  return ` in ${relative(process.cwd(), source.dir) || '.'}`;
}

/** The source as JSON (snake_case, like every command's output). */
export function sourceJson(source: PluginSource | undefined): Record<string, unknown> | null {
  if (!source) return null;
  if (source.kind === 'server')
    return {
      kind: 'server',
      server: source.server,
      offline: source.offline,
      ...(source.note ? { note: source.note } : {}),
    };
  return { kind: 'local', dir: relative(process.cwd(), source.dir) || '.' };
}

/**
 * With the server's specs, "plugin X is not installed" and "run `optimus plugin install`" point
 * at the wrong place: say that the server does not serve it, and what it does serve.
 */
export function explainForServer(
  problems: Problem[],
  source: PluginSource | undefined,
  served: readonly string[],
): void {
  if (source?.kind !== 'server') return;
  for (const p of problems) {
    if (p.code !== 'PLUGIN_UNKNOWN') continue;
    p.message = p.message.replace(/ is not installed$/, ` is not served by ${source.server}`);
    p.hint = served.length
      ? `the server serves: ${[...served].sort().join(', ')}`
      : 'the server serves no plugins: install them on the server (its plugins section, then `optimus serve --install-plugins`)';
  }
}
