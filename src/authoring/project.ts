/**
 * A plugin project as a plugin author has it on disk, and the pieces every authoring command
 * (`plugin build`, `run`, `test`, `pack`) shares: finding what kind of plugin a folder holds,
 * building it, loading its spec, loading its sample job, and rendering or inferring for that job
 * with the server's own code (renderNodeInput, the Inferrer), so what an author sees locally is
 * what a deployed job gets.
 *
 *   yaml kind    <dir>/plugin.yaml (or a bare .yaml spec file)
 *   binary kind  <dir>/package.json + src/main.ts (or main.js), built to <dir>/dist/<name>;
 *                or a prebuilt executable given directly
 *   sample job   <dir>/sample/job.yaml with its assets in <dir>/sample/assets/
 *
 * A sample job may name other plugins besides the one under development (a hook plugin's sample
 * has another plugin as its task): their specs come from `--plugins <dir>` when given, else a
 * stand-in takes each one's config as written (`otherPlugins`).
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { relativeTo } from '../cli/output.js';
import { OptimusError } from '../core/errors.js';
import { readLegacyStageTypes } from '../core/hook-types.js';
import type { JobSpec } from '../core/job.js';
import type { Plugin } from '../core/plugin.js';
import { errorsOf, formatLocation, type Problem } from '../core/problem.js';
import { handshake } from '../plugins/protocol/handshake.js';
import type { ServedPlugin } from '../server/plugin-registry.js';
import type { InferRequest } from '../services/lineage-contract.js';
import { createInferrer } from '../services/lineage-infer.js';
import { type RenderedNode, renderNodeInput } from '../services/run-input.js';
import type { SecretCipher } from '../services/secret-cipher.js';
import { JOB_FILE, type LoadedJob, loadJob } from '../spec/job-spec.js';
import { loadPluginFile, loadPluginSet } from '../spec/plugin-spec.js';
import type { SecretRecord } from '../store/store.js';

export type PluginKind = 'yaml' | 'binary';

export interface PluginProject {
  /** Absolute plugin folder (for a bare spec or executable: its folder). */
  dir: string;
  kind: PluginKind;
  /** yaml: the spec file. */
  specFile?: string;
  /** binary: the TypeScript/JavaScript entry (src/main.ts), absent for a prebuilt executable. */
  entry?: string;
  /** binary: the executable (dist/<name>, or the executable given). Exists only after a build. */
  executable?: string;
  /** The plugin name as the folder says (package.json name, or plugin.yaml's name). */
  name: string;
}

export const SPEC_FILE = 'plugin.yaml';
export const SAMPLE_JOB = join('sample', JOB_FILE);
const ENTRIES = ['src/main.ts', 'src/main.js', 'src/main.mts', 'src/main.mjs'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A path as messages show it: relative when inside the working folder, else absolute. */
export const shown = (path: string): string =>
  path === process.cwd() ? '.' : relativeTo(path, process.cwd());

function notFound(target: string, why: string): OptimusError {
  return new OptimusError('PLUGIN_PROJECT_NOT_FOUND', `${shown(target)}: ${why}`, {
    category: 'usage',
    hint: 'pass a plugin folder (plugin.yaml, or package.json with src/main.ts), a plugin spec file or a plugin executable; `optimus plugin init <name>` creates one',
  });
}

/** The `name` of plugin.yaml, read without validating (validation is `loadProjectSpec`'s job). */
function specName(file: string): string {
  const m = /^name:[ \t]*["']?([A-Za-z0-9][A-Za-z0-9_.-]*)["']?[ \t]*(?:#.*)?$/m.exec(
    readFileSync(file, 'utf8'),
  );
  return m?.[1] ?? basename(file).replace(/\.ya?ml$/i, '');
}

function packageName(dir: string): string {
  const file = join(dir, 'package.json');
  let pkg: { name?: unknown };
  try {
    pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown };
  } catch (e) {
    throw new OptimusError(
      'PLUGIN_PROJECT_INVALID',
      `${shown(file)}: not valid JSON (${(e as Error).message})`,
      {
        hint: 'fix package.json; its "name" is the plugin name',
      },
    );
  }
  // A scoped npm name (@acme/x) names the plugin x.
  const raw = typeof pkg.name === 'string' ? pkg.name.replace(/^@[^/]+\//, '') : '';
  if (!NAME.test(raw)) {
    throw new OptimusError(
      'PLUGIN_PROJECT_INVALID',
      `${shown(file)}: "name" ${raw ? `"${raw}" ` : ''}is not a plugin name`,
      {
        hint: 'set "name" to the plugin name: letters, digits, "_", "-" and ".", starting with a letter or digit',
      },
    );
  }
  return raw;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * What `target` is: a folder (plugin.yaml → yaml; package.json + src/main.ts|js → binary), a
 * .yaml/.yml spec file, or an executable. Throws PLUGIN_PROJECT_NOT_FOUND otherwise.
 */
export function locatePluginProject(target: string): PluginProject {
  const path = resolve(target);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    throw notFound(path, 'no such file or folder');
  }
  if (st.isFile()) {
    if (/\.ya?ml$/i.test(path)) {
      return { dir: dirname(path), kind: 'yaml', specFile: path, name: specName(path) };
    }
    if (isExecutableFile(path)) {
      return { dir: dirname(path), kind: 'binary', executable: path, name: basename(path, extname(path)) };
    }
    throw notFound(path, 'is neither a plugin spec (.yaml) nor an executable');
  }
  if (!st.isDirectory()) throw notFound(path, 'is neither a file nor a folder');
  const spec = join(path, SPEC_FILE);
  if (existsSync(spec)) return { dir: path, kind: 'yaml', specFile: spec, name: specName(spec) };
  const entry = ENTRIES.map((e) => join(path, e)).find((e) => existsSync(e));
  if (existsSync(join(path, 'package.json')) && entry) {
    const name = packageName(path);
    if (name.includes('.')) {
      // Node reads the part after the dot as the executable's file extension and refuses to load an
      // ES module with an unknown one, so dist/<name> could never start.
      throw new OptimusError(
        'PLUGIN_PROJECT_INVALID',
        `${shown(join(path, 'package.json'))}: a binary plugin's name cannot contain ".": "${name}"`,
        { hint: `rename it in package.json and the spec, e.g. "${name.replaceAll('.', '-')}"` },
      );
    }
    const executable = join(path, 'dist', name);
    return { dir: path, kind: 'binary', entry, name, ...(existsSync(executable) ? { executable } : {}) };
  }
  throw notFound(
    path,
    entry
      ? 'has src/main but no package.json (its "name" is the plugin name)'
      : `holds no ${SPEC_FILE} and no package.json with src/main.ts`,
  );
}

/**
 * Bundles a binary project's entry into dist/<name> (unless `build: false`); nothing to do for a
 * yaml project or a prebuilt executable. Without a build, an absent executable is an error.
 */
export async function buildPluginProject(
  p: PluginProject,
  opts: { build?: boolean } = {},
): Promise<{ executable?: string; built: boolean; bytes?: number; ms?: number }> {
  if (p.kind === 'yaml') return { built: false };
  if (!p.entry || opts.build === false) {
    const executable = p.executable ?? join(p.dir, 'dist', p.name);
    if (!existsSync(executable)) {
      throw new OptimusError('PLUGIN_NOT_BUILT', `${shown(executable)} does not exist`, {
        hint: `build it with \`optimus plugin build ${shown(p.dir)}\`, or leave out --no-build`,
      });
    }
    p.executable = executable;
    return { executable, built: false };
  }
  const { bundlePluginEntry } = await import('./build.js');
  const executable = join(p.dir, 'dist', p.name);
  const { bytes, ms } = await bundlePluginEntry(p.entry, executable);
  p.executable = executable;
  return { executable, built: true, bytes, ms };
}

export interface LoadedSpec {
  /** Absent when the spec is invalid or the handshake failed. */
  plugin?: Plugin;
  /** Spec problems (file, line, path): errors and warnings. */
  problems: Problem[];
  /** binary: the handshake's time, or why it failed (timeout, crash, bad answer). */
  handshake?: { ms: number } | { error: OptimusError };
  /** The spec file or executable the problems are about. */
  file: string;
}

/** yaml: the spec file validated; binary: the handshake, then its spec validated. Never throws for a bad plugin. */
export async function loadProjectSpec(
  p: PluginProject,
  opts: { handshakeTimeoutMs?: number } = {},
): Promise<LoadedSpec> {
  if (p.kind === 'yaml') {
    const r = loadPluginFile(p.specFile!);
    return {
      ...(r.plugin && errorsOf(r.problems).length === 0 ? { plugin: r.plugin } : {}),
      problems: r.problems,
      file: r.file,
    };
  }
  const file = p.executable ?? join(p.dir, 'dist', p.name);
  const started = performance.now();
  try {
    const r = await handshake(file, {
      label: `plugin ${p.name}`,
      timeoutMs: opts.handshakeTimeoutMs ?? 10_000,
    });
    const ms = Math.round(performance.now() - started);
    const problems = r.problems.map((x) => ({ ...x, file: x.file ?? file }));
    return {
      ...(errorsOf(problems).length === 0 ? { plugin: r.plugin } : {}),
      problems,
      handshake: { ms },
      file,
    };
  } catch (e) {
    const error =
      e instanceof OptimusError
        ? e
        : new OptimusError('PLUGIN_HANDSHAKE_FAILED', `plugin ${p.name}: ${(e as Error).message}`);
    return { problems: [], handshake: { error }, file };
  }
}

/** The sample job (default <dir>/sample/job.yaml; `jobFile` relative to cwd), as job-spec.ts loads it. */
export function loadSampleJob(p: PluginProject, jobFile?: string): LoadedJob {
  const file = jobFile ? resolve(jobFile) : join(p.dir, SAMPLE_JOB);
  if (!existsSync(file)) {
    throw new OptimusError('SAMPLE_JOB_NOT_FOUND', `${shown(file)} does not exist`, {
      category: 'usage',
      hint: jobFile
        ? 'pass --job <job.yaml> with a job that uses the plugin'
        : 'write a sample job using the plugin there (`optimus plugin init` writes one), or pass --job <job.yaml>',
    });
  }
  if (basename(file) !== JOB_FILE) {
    throw new OptimusError('SAMPLE_JOB_NOT_FOUND', `${shown(file)}: a job file is named ${JOB_FILE}`, {
      category: 'usage',
      hint: `pass the ${JOB_FILE} of a job folder (its assets sit in assets/ beside it)`,
    });
  }
  const dir = dirname(file);
  return loadJob(dir, dir);
}

export interface LocalRenderOptions {
  /** The plugin under development. */
  plugin: Plugin;
  /** Other plugins the job names. */
  others?: ReadonlyMap<string, Plugin>;
  /** The sample's spec, with the caller's changes applied. */
  job: JobSpec;
  /** The job's assets, raw (templates not applied). */
  assets: Record<string, string>;
  instance: { type: 'task' | 'hook'; name: string };
  scheduledAt: Date;
  /** Values for {{ .secret.X }}. */
  secrets: Record<string, string>;
  /** Project config: GLOBAL__*. */
  globals?: Record<string, string>;
  projectName?: string;
  namespaceName?: string;
}

export const LOCAL_PROJECT = 'local';
export const LOCAL_NAMESPACE = 'local';

function pluginsFor(plugin: Plugin, others: ReadonlyMap<string, Plugin> | undefined): Map<string, Plugin> {
  const map = new Map(others ?? []);
  map.set(plugin.name, plugin);
  return map;
}

/** The secrets a local render reads: only those given. */
function secretsSource(secrets: Record<string, string>) {
  return {
    has: (name: string) => Object.hasOwn(secrets, name),
    read: (name: string) => secrets[name]!,
  };
}

/** renderNodeInput with these inputs: exactly what the server renders for a deployed job. */
export function renderLocal(o: LocalRenderOptions): RenderedNode {
  return renderNodeInput({
    projectName: o.projectName ?? LOCAL_PROJECT,
    job: {
      name: o.job.name,
      namespaceName: o.namespaceName ?? LOCAL_NAMESPACE,
      assets: o.assets,
      runGraph: null,
    },
    spec: o.job,
    projectConfig: o.globals ?? {},
    namespaceConfig: {},
    windowPresets: null,
    plugins: pluginsFor(o.plugin, o.others),
    instanceType: o.instance.type,
    instanceName: o.instance.name,
    scheduledAt: o.scheduledAt,
    withSecrets: true,
    secrets: secretsSource(o.secrets),
  });
}

/**
 * The plugin the renderer and the job check get for a plugin the job names that is not loaded
 * here: it declares nothing (no configs, questions, defaults or destination template), so the
 * job's config for it is taken as written, and it has every version the job asks of it, with no
 * image (a stand-in is never run: only the plugin under development is).
 */
export function writtenOnly(name: string, versions: readonly string[] = []): Plugin {
  return {
    name,
    description: '',
    dialect: 'v3',
    version: '',
    versions: Object.fromEntries(['default', ...versions].map((v) => [v, { image: '', tag: '' }])),
    questions: [],
    configs: [],
    defaultConfig: {},
    defaultAssets: {},
    mods: [],
    hints: { dependsOn: [] },
  };
}

/**
 * The plugins a job names (its task and its hooks' plugins) other than the one under development:
 * each one's spec from `known` (`--plugins <dir>`) when there, else a stand-in (`writtenOnly`).
 * `standIns` lists the names stood in for, the task's first. A hook written the old way
 * (`type: post`) names its plugin by its name, as `job validate` reads it.
 */
export function otherPlugins(
  job: JobSpec,
  plugin: Plugin,
  known?: ReadonlyMap<string, Plugin>,
): { plugins: Map<string, Plugin>; standIns: string[] } {
  const loaded = (name: string) => name === plugin.name || Boolean(known?.has(name));
  const { hooks } = readLegacyStageTypes(job.hooks, { has: loaded });
  const named: { name: string; version: string | undefined }[] = [
    { name: job.task.name, version: job.task.version },
    ...hooks.map((h) => ({ name: h.type, version: h.version })),
  ];
  const plugins = new Map<string, Plugin>();
  const standIns: string[] = [];
  for (const { name } of named) {
    if (name === plugin.name || plugins.has(name)) continue;
    const spec = known?.get(name);
    if (spec) {
      plugins.set(name, spec);
      continue;
    }
    const versions = named.filter((n) => n.name === name && n.version).map((n) => n.version!);
    plugins.set(name, writtenOnly(name, versions));
    standIns.push(name);
  }
  return { plugins, standIns };
}

/**
 * `--plugins <dir>`: the plugin specs in a folder (or one spec file), loaded as `job validate
 * --plugins` loads them. A spec with errors is bad usage: the message names each file:line.
 */
export function loadPluginsOption(dir: string): Map<string, Plugin> {
  const set = loadPluginSet([resolve(dir)]);
  const errors = errorsOf(set.problems);
  if (!errors.length) return set.plugins;
  const line = (p: Problem) =>
    [p.file ? formatLocation({ ...p, file: shown(p.file) }) : '', p.path, p.message]
      .filter(Boolean)
      .join(': ');
  const message =
    errors.length === 1
      ? `--plugins ${dir}: ${line(errors[0]!)}`
      : `--plugins ${dir}: ${errors.length} errors in its plugin specs:\n${errors.map((p) => `  ${line(p)}`).join('\n')}`;
  const first = errors[0]!;
  throw new OptimusError('PLUGINS_DIR_INVALID', message, {
    category: 'usage',
    hint:
      first.code === 'FILE_UNREADABLE'
        ? "pass --plugins a folder of plugin specs (*.yaml), such as a project's install_location"
        : `${first.hint ? `${first.hint}; ` : ''}fix the spec, or leave it out of the folder (\`optimus plugin validate <file>\` lists every problem)`,
  });
}

/** The job's schedule.start_date at 00:00 UTC: the time the server's inference renders a job for. */
export function defaultScheduledAt(job: JobSpec): Date {
  const d = new Date(`${String(job.schedule?.start_date ?? '').slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? new Date(Date.UTC(new Date().getUTCFullYear(), 0, 1)) : d;
}

/** Whether nothing is at `path` (following links), so a folder may be made there. */
function isAbsent(path: string): boolean {
  try {
    statSync(path);
    return false;
  } catch (e) {
    // ENOTDIR: an ancestor is a file; making the folder then fails and says so.
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR';
  }
}

/**
 * Makes `dir` and its missing ancestors one at a time, outermost first, adding each folder made to
 * `made` (also when a later one fails); returns `made`. Never `recursive: true`: Node's recursive
 * mkdir spins forever where mkdir answers ENOENT for a parent that exists (under /proc, say).
 * Throws mkdir's own error, whose `path` is the folder that could not be made.
 */
export function makeFolders(dir: string, made: string[] = []): string[] {
  const missing: string[] = [];
  for (let d = dir; isAbsent(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      // Made meanwhile by someone else: as good as made here.
      if (
        (e as NodeJS.ErrnoException).code === 'EEXIST' &&
        statSync(d, { throwIfNoEntry: false })?.isDirectory()
      )
        continue;
      throw e;
    }
    made.push(d);
  }
  return made;
}

/** Secrets are handed to the inferrer as if stored: the "ciphertext" is the value itself. */
const PLAIN_CIPHER: SecretCipher = {
  encrypt: (plain) => ({ ciphertext: plain.toString('utf8'), digest: '' }),
  decrypt: (ciphertext) => Buffer.from(ciphertext, 'utf8'),
};

export type LocalInference =
  | undefined
  | { ok: true; destination: string | null; dependencies: string[]; warnings: string[] }
  | { ok: false; message: string; hint?: string; field?: string };

/**
 * Destination and dependencies of a job as the server's deploy infers them (the Inferrer of
 * services/lineage-infer.ts: a binary mod through the mod host, a declarative spec evaluated).
 * `undefined` when the plugin infers nothing or is not the job's task.
 */
export async function inferLocal(o: {
  project: PluginProject;
  plugin: Plugin;
  job: JobSpec;
  assets: Record<string, string>;
  secrets: Record<string, string>;
  globals?: Record<string, string>;
  callTimeoutMs?: number;
}): Promise<LocalInference> {
  if (o.job.task.name !== o.plugin.name) return undefined;
  const declarative =
    Boolean(o.plugin.destinationUrnTemplate) || Object.keys(o.plugin.assetParsers ?? {}).length > 0;
  const binary = o.project.kind === 'binary' && o.plugin.mods.includes('dependency_resolver');
  if (!binary && !declarative) return undefined;
  const served: ServedPlugin = {
    plugin: o.plugin,
    kind: binary ? 'binary' : 'yaml',
    file: binary ? o.project.executable! : (o.project.specFile ?? ''),
    spec: new Uint8Array(),
  };
  const now = new Date();
  const stored: SecretRecord[] = Object.entries(o.secrets).map(([name, value]) => ({
    projectName: LOCAL_PROJECT,
    name,
    namespaceName: null,
    ciphertext: value,
    digest: '',
    createdAt: now,
    updatedAt: now,
  }));
  const inferrer = createInferrer({
    plugins: { get: (name: string) => (name === o.plugin.name ? served : undefined) },
    store: { secretsVisibleTo: async () => stored, getProject: async () => undefined },
    cipher: PLAIN_CIPHER,
    modHost: { poolSize: 1, callTimeoutMs: o.callTimeoutMs ?? 30_000, idleMs: 1_000 },
  });
  const req: InferRequest = {
    projectName: LOCAL_PROJECT,
    namespaceName: LOCAL_NAMESPACE,
    spec: o.job,
    assets: o.assets,
    hash: 'local',
    projectConfig: o.globals ?? {},
    namespaceConfig: {},
  };
  try {
    const [result] = await inferrer.infer([req]);
    if (!result) return { ok: false, message: 'the resolver gave no answer' };
    if (!result.ok) {
      const p = result.problem;
      return {
        ok: false,
        message: p.message,
        ...(p.hint ? { hint: p.hint } : {}),
        ...(p.path ? { field: String(p.path) } : {}),
      };
    }
    return {
      ok: true,
      destination: result.lineage.destination,
      dependencies: result.lineage.sources,
      warnings: result.lineage.warnings,
    };
  } finally {
    await inferrer.close();
  }
}
