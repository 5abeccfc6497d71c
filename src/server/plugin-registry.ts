/** The plugins a server serves: the specs in its install location, loaded once at start. */
import { readFileSync } from 'node:fs';
import { zipSync } from 'fflate';
import type { Plugin } from '../core/plugin.js';
import type { Problem } from '../core/problem.js';
import { loadPluginSet } from '../spec/plugin-spec.js';

export interface ServedPlugin {
  plugin: Plugin;
  kind: 'yaml' | 'binary';
  file: string;
}

export interface PluginRegistry {
  readonly plugins: ReadonlyMap<string, Plugin>;
  list(): ServedPlugin[];
  get(name: string): ServedPlugin | undefined;
  /** Problems met while loading (invalid specs are left out, not fatal). */
  readonly problems: Problem[];
  /** The YAML specs as a zip, flat, named optimus-plugin-<name>.yaml (as upstream serves /plugins). */
  zip(): Uint8Array;
}

export function loadPluginRegistry(dir: string): PluginRegistry {
  const set = loadPluginSet([dir]);
  const missing = set.problems.find((p) => p.code === 'FILE_UNREADABLE' && p.file === dir);
  if (missing) {
    missing.severity = 'warning';
    missing.message = `plugin directory ${dir} does not exist: serving no plugins`;
    missing.hint =
      'install plugins with `optimus serve --install-plugins` or `optimus plugin install -c <server config>`';
  }
  const served = new Map<string, ServedPlugin>();
  for (const p of set.plugins.values()) served.set(p.name, { plugin: p, kind: 'yaml', file: p.source ?? '' });
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
          [...served.values()]
            .filter((s) => s.kind === 'yaml')
            .map((s) => [`optimus-plugin-${s.plugin.name}.yaml`, new Uint8Array(readFileSync(s.file))]),
        ),
      );
      return zipped;
    },
  };
}
