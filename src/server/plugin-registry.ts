/**
 * The plugins a server serves, loaded from its install location: YAML specs as they are, and binary
 * plugins through their handshake (the spec they answer with), so a binary placed there by the
 * installer or by hand is served like any other plugin.
 *
 * The registry can be reloaded while the server runs (SIGHUP, POST /api/v1beta1/plugins/reload).
 * What it serves is one immutable set at a time: a reload loads the new set completely, and
 * serves it in one step only when it loaded cleanly, else keeps the old one and says why. Whatever
 * is derived from a set (its zip, anything keyed by its plugin map) belongs to that set, so it
 * follows a reload without being invalidated by hand.
 */
import { accessSync, constants, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { stringify } from 'yaml';
import type { Plugin } from '../core/plugin.js';
import { errorsOf, formatLocation, type Problem } from '../core/problem.js';
import { isPluginSpecFile, loadPluginSet } from '../spec/plugin-spec.js';

export interface ServedPlugin {
  plugin: Plugin;
  kind: 'yaml' | 'binary';
  file: string;
  /**
   * The spec as /plugins serves it: the YAML file's bytes, or a binary's handshake spec as YAML.
   * Read when the set is loaded, so the zip always matches the plugins the set validates with.
   */
  spec: Uint8Array;
}

/** One loaded set of plugins. Never changes: a reload makes a new one. */
export interface ServedSet {
  readonly plugins: ReadonlyMap<string, Plugin>;
  list(): ServedPlugin[];
  get(name: string): ServedPlugin | undefined;
  /** Problems met while loading (invalid specs and failed handshakes are left out, not fatal). */
  readonly problems: Problem[];
  /**
   * Every spec as a zip, flat, named optimus-plugin-<name>.yaml (as upstream serves /plugins); for a
   * binary plugin it is the spec its handshake returned, so clients validate against it too. Built
   * once per set, byte for byte the same for the same specs.
   */
  zip(): Uint8Array;
}

/** The set being served, plus reloading. Its `ServedSet` members read the current set. */
export interface PluginRegistry extends ServedSet {
  /** The set served now. A request reads it once, so that it sees one set from start to end. */
  current(): ServedSet;
  /** Load the set again; reloads run one at a time, in the order asked. */
  reload(): Promise<ReloadOutcome>;
}

export interface ReloadOutcome {
  /** Whether the new set loaded cleanly (and is now served). */
  ok: boolean;
  /** How many plugins are served after the reload (the old set's count when it was refused). */
  served: number;
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: number;
  /** Refused: every reason. Accepted: the new set's warnings. */
  problems: Problem[];
}

export interface RegistryOptions {
  /**
   * Runs before each reload (the server's installer, with --install-plugins). Error problems refuse
   * the reload; `dir` replaces the directory loaded from then on.
   */
  prepare?: () => Promise<{ dir?: string; problems: Problem[] }>;
}

export async function loadPluginRegistry(dir: string, opts: RegistryOptions = {}): Promise<PluginRegistry> {
  let location = dir;
  let current = (await loadServedSet(location)).set;
  let queue: Promise<unknown> = Promise.resolve();

  const refused = (problems: Problem[]): ReloadOutcome => ({
    ok: false,
    served: current.plugins.size,
    added: [],
    removed: [],
    changed: [],
    unchanged: current.plugins.size,
    problems,
  });
  const reloadNow = async (): Promise<ReloadOutcome> => {
    const before = current;
    let from = location;
    if (opts.prepare) {
      let prepared: Awaited<ReturnType<NonNullable<RegistryOptions['prepare']>>>;
      try {
        prepared = await opts.prepare();
      } catch (e) {
        return refused([failure(e)]);
      }
      if (errorsOf(prepared.problems).length) return refused(errorsOf(prepared.problems));
      from = prepared.dir ?? from;
    }
    const { set, failures } = await loadServedSet(from);
    if (failures.length) return refused(failures);
    location = from;
    const diff = compareSets(before, set);
    // Nothing differs: keep the old set, and with it everything already derived from it.
    if (diff.added.length || diff.removed.length || diff.changed.length || diff.moved) current = set;
    return {
      ok: true,
      served: current.plugins.size,
      added: diff.added,
      removed: diff.removed,
      changed: diff.changed,
      unchanged: diff.unchanged,
      problems: set.problems,
    };
  };

  return {
    get plugins() {
      return current.plugins;
    },
    get problems() {
      return current.problems;
    },
    list: () => current.list(),
    get: (name) => current.get(name),
    zip: () => current.zip(),
    current: () => current,
    reload() {
      const next = queue.then(() => reloadNow().catch((e: unknown) => refused([failure(e)])));
      queue = next.catch(() => undefined);
      return next;
    },
  };
}

/** An error thrown while reloading, as a reason the reload was refused. */
function failure(e: unknown): Problem {
  const err = (e ?? {}) as { code?: unknown; message?: unknown; hint?: unknown };
  return {
    severity: 'error',
    code: typeof err.code === 'string' ? err.code : 'PLUGIN_RELOAD_FAILED',
    message: String(err.message ?? e),
    ...(typeof err.hint === 'string' ? { hint: err.hint } : {}),
  };
}

/** One line saying what a reload did, for the log and the terminal. */
export function describeReload(o: ReloadOutcome): string {
  if (!o.ok) {
    const reasons = o.problems.map((p) => {
      const where = formatLocation(p);
      return `${where ? `${where} ` : ''}${p.message} [${p.code}]`;
    });
    return `plugin reload refused, still serving the previous ${o.served} plugin(s): ${reasons.join('; ')}`;
  }
  const parts = [
    o.added.length ? `added ${o.added.join(', ')}` : '',
    o.removed.length ? `removed ${o.removed.join(', ')}` : '',
    o.changed.length ? `changed ${o.changed.join(', ')}` : '',
  ].filter(Boolean);
  return `plugins reloaded: ${o.served} served, ${parts.length ? parts.join('; ') : 'none changed'}`;
}

/**
 * Load a set from `dir`. `failures` are the problems that make the set unfit to replace a running
 * one: an unreadable directory, an invalid spec, a failed handshake. At start they are reported
 * and the rest is served; a reload is refused on any of them.
 */
async function loadServedSet(dir: string): Promise<{ set: ServedSet; failures: Problem[] }> {
  let set: ReturnType<typeof loadPluginSet>;
  let entries: string[];
  try {
    set = loadPluginSet([dir]);
    entries = set.problems.some((p) => p.code === 'FILE_UNREADABLE' && p.file === dir)
      ? []
      : readdirSync(dir);
  } catch (e) {
    const problem: Problem = {
      severity: 'error',
      code: 'PLUGIN_DIR_UNREADABLE',
      message: `cannot read the plugin directory: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      file: dir,
      hint: 'check that the install location exists and is readable by the server',
    };
    return { set: fromServed(new Map(), [problem]), failures: [problem] };
  }
  const failures = errorsOf(set.problems);
  const missing = set.problems.find((p) => p.code === 'FILE_UNREADABLE' && p.file === dir);
  if (missing) {
    missing.severity = 'warning';
    missing.message = `plugin directory ${dir} does not exist: serving no plugins`;
    missing.hint =
      'install plugins with `optimus serve --install-plugins` or `optimus plugin install -c <server config>`';
  }
  const served = new Map<string, ServedPlugin>();
  for (const p of set.plugins.values()) {
    const file = p.source ?? '';
    let spec: Uint8Array;
    try {
      spec = new Uint8Array(readFileSync(file));
    } catch (e) {
      const problem: Problem = {
        severity: 'error',
        code: 'FILE_UNREADABLE',
        message: `cannot read the spec again: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; not served`,
        file,
      };
      set.problems.push(problem);
      failures.push(problem);
      continue;
    }
    // The installer may keep a binary's spec beside its executable, named after it.
    served.set(p.name, { plugin: p, kind: isExecutable(join(dir, p.name)) ? 'binary' : 'yaml', file, spec });
  }
  const binaries = entries.filter(
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
            spec: new TextEncoder().encode(stringify({ ...(r.spec as object), name })),
          });
        } catch (e) {
          const problem: Problem = {
            severity: 'warning',
            code: 'PLUGIN_HANDSHAKE_FAILED',
            message: `${(e as Error).message}; not served`,
            file,
          };
          set.problems.push(problem);
          failures.push(problem);
        }
      }),
    );
  }
  if (missing) failures.push(missing);
  return { set: fromServed(served, set.problems), failures };
}

/** A fixed time for zip entries, so the same specs always make the same zip (and ETag). */
const ZIP_MTIME = new Date(2000, 0, 1);

export function fromServed(served: Map<string, ServedPlugin>, problems: Problem[] = []): ServedSet {
  const sorted = [...served.values()].sort((a, b) => a.plugin.name.localeCompare(b.plugin.name));
  const plugins = new Map(sorted.map((s) => [s.plugin.name, s.plugin]));
  let zipped: Uint8Array | undefined;
  return {
    plugins,
    problems,
    list: () => [...sorted],
    get: (name) => served.get(name),
    zip() {
      zipped ??= zipSync(
        Object.fromEntries(sorted.map((s) => [`optimus-plugin-${s.plugin.name}.yaml`, s.spec])),
        { mtime: ZIP_MTIME },
      );
      return zipped;
    },
  };
}

function compareSets(before: ServedSet, after: ServedSet) {
  const added: string[] = [];
  const changed: string[] = [];
  let unchanged = 0;
  let moved = false;
  for (const next of after.list()) {
    const prev = before.get(next.plugin.name);
    if (!prev) added.push(next.plugin.name);
    else if (prev.kind !== next.kind || !sameBytes(prev.spec, next.spec)) changed.push(next.plugin.name);
    else {
      unchanged++;
      moved ||= prev.file !== next.file;
    }
  }
  const removed = before
    .list()
    .map((s) => s.plugin.name)
    .filter((name) => !after.get(name));
  return { added, removed, changed, unchanged, moved };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
