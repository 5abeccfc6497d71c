/**
 * The plugins a server serves, loaded once at start from its install location: YAML specs as they
 * are, and binary plugins through their handshake (the spec they answer with), so a binary placed
 * there by the installer or by hand is served like any other plugin.
 */
import { accessSync, constants, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { stringify } from 'yaml';
import type { Plugin } from '../core/plugin.js';
import type { Problem } from '../core/problem.js';
import { isPluginSpecFile, loadPluginSet } from '../spec/plugin-spec.js';

export interface ServedPlugin {
  plugin: Plugin;
  kind: 'yaml' | 'binary';
  file: string;
  /** For binaries: the handshake spec as YAML. */
  specText?: string;
}

export interface PluginRegistry {
  readonly plugins: ReadonlyMap<string, Plugin>;
  list(): ServedPlugin[];
  get(name: string): ServedPlugin | undefined;
  /** Problems met while loading (invalid specs and failed handshakes are left out, not fatal). */
  readonly problems: Problem[];
  /**
   * Every spec as a zip, flat, named optimus-plugin-<name>.yaml (as upstream serves /plugins); for a
   * binary plugin it is the spec its handshake returned, so clients validate against it too.
   */
  zip(): Uint8Array;
}

export async function loadPluginRegistry(dir: string): Promise<PluginRegistry> {
  const set = loadPluginSet([dir]);
  const missing = set.problems.find((p) => p.code === 'FILE_UNREADABLE' && p.file === dir);
  if (missing) {
    missing.severity = 'warning';
    missing.message = `plugin directory ${dir} does not exist: serving no plugins`;
    missing.hint =
      'install plugins with `optimus serve --install-plugins` or `optimus plugin install -c <server config>`';
  }
  const served = new Map<string, ServedPlugin>();
  for (const p of set.plugins.values()) {
    // The installer may keep a binary's spec beside its executable, named after it.
    served.set(p.name, {
      plugin: p,
      kind: isExecutable(join(dir, p.name)) ? 'binary' : 'yaml',
      file: p.source ?? '',
    });
  }
  const binaries = missing
    ? []
    : readdirSync(dir).filter(
        (f) => !f.startsWith('.') && !isPluginSpecFile(f) && !served.has(f) && isExecutable(join(dir, f)),
      );
  if (binaries.length) {
    const { handshake } = await import('../plugins/protocol/handshake.js');
    await Promise.all(
      binaries.map(async (name) => {
        const file = join(dir, name);
        try {
          const r = await handshake(file, { label: `plugin ${name}` });
          // The installed name is the name users see, whatever the spec says.
          const plugin: Plugin = { ...r.plugin, name, source: file };
          served.set(name, {
            plugin,
            kind: 'binary',
            file,
            specText: stringify({ ...(r.spec as object), name }),
          });
        } catch (e) {
          set.problems.push({
            severity: 'warning',
            code: 'PLUGIN_HANDSHAKE_FAILED',
            message: `${(e as Error).message}; not served`,
            file,
          });
        }
      }),
    );
  }
  return fromServed(served, set.problems);
}

export function fromServed(served: Map<string, ServedPlugin>, problems: Problem[] = []): PluginRegistry {
  const plugins = new Map([...served].map(([k, v]) => [k, v.plugin]));
  let zipped: Uint8Array | undefined;
  return {
    plugins,
    problems,
    list: () => [...served.values()].sort((a, b) => a.plugin.name.localeCompare(b.plugin.name)),
    get: (name) => served.get(name),
    zip() {
      zipped ??= zipSync(
        Object.fromEntries(
          [...served.values()].map((s) => [
            `optimus-plugin-${s.plugin.name}.yaml`,
            s.specText === undefined
              ? new Uint8Array(readFileSync(s.file))
              : new TextEncoder().encode(s.specText),
          ]),
        ),
      );
      return zipped;
    },
  };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
