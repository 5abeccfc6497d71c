/**
 * Validate a project on disk: optimus.yaml, every job of every namespace (or the named ones), each
 * against the plugin specs: shape, inheritance, run graph, mandatory configs and windows. The same
 * job checks run on the server (see `checkJob`).
 */
import { createHash, type Hash, hash } from 'node:crypto';
import { type Dirent, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { distance } from 'fastest-levenshtein';
import { canonicalJson, contentHash } from '../core/canonical-json.js';
import { checkConfigs } from '../core/configs.js';
import { OptimusError } from '../core/errors.js';
import type { HookRule } from '../core/hook-rules.js';
import { readLegacyStageTypes } from '../core/hook-types.js';
import type { JobSpec } from '../core/job.js';
import type { Plugin } from '../core/plugin.js';
import { hasErrors, type PathSegment, type Problem } from '../core/problem.js';
import { buildRunGraph, type RunNode } from '../core/run-graph.js';
import { checkWindow } from '../core/window.js';
import {
  type DirEntry,
  fileIdentities,
  type ListingMemory,
  readEntries,
  rememberingLister,
} from '../spec/fs-snapshot.js';
import {
  ASSETS_DIR,
  discoverJobDirs,
  JOB_FILE,
  type JobScan,
  type LoadedJob,
  loadJob,
  newJobScan,
  PARENT_FILE,
} from '../spec/job-spec.js';
import { loadPluginSet, type PluginSet } from '../spec/plugin-spec.js';
import { loadProjectConfig, type ProjectConfig } from '../spec/project-config.js';

export interface JobReport {
  name: string;
  namespace: string;
  dir: string;
  file: string;
  spec?: JobSpec;
  /** job.yaml fields after inheritance (plain data), when the spec loaded. */
  raw?: Record<string, unknown>;
  nodes: RunNode[];
  problems: Problem[];
  /** The namespace's job root, where this.yaml inheritance stops (to load the job again). */
  root?: string;
  /**
   * Taken from the validation cache: the job was not parsed or checked in this run, so `spec`,
   * `raw` and `nodes` are absent; `jobPayload` loads it when its content is needed.
   */
  cached?: boolean;
  /** The deploy content hash (see `jobHash`), when already known. */
  hash?: string;
}

/**
 * Where validation outcomes are kept between runs (the CLI keeps them in a file). `key` covers
 * every byte the job's check read plus everything else the check depends on, so an entry whose key
 * matches is exactly what checking the job again would give. An entry may also hold an identity
 * key, made from the files' identities instead of their bytes (see fs-snapshot.ts): `get` with
 * either key finds it, and an unchanged project is then validated without reading its files.
 */
export interface JobCheckCache {
  get(dir: string, key: string): CachedJobCheck | undefined;
  set(dir: string, key: string, value: CachedJobCheck): void;
  /** Folder listings kept between runs; without them every folder is read. */
  listings?: ListingMemory;
}

export interface CachedJobCheck {
  name: string;
  /** The deploy content hash. */
  hash: string;
  /** Warnings only: a job with errors is never cached. */
  problems: Problem[];
  /** The key from the files' identities, when they were old enough to trust. */
  identityKey?: string;
}

export interface ProjectReport {
  config?: ProjectConfig;
  plugins: PluginSet;
  /** Problems of optimus.yaml, the plugin specs and the project as a whole. */
  problems: Problem[];
  jobs: JobReport[];
}

export interface ValidateOptions {
  dir: string;
  /** Plugin spec directory; default: the project's install_location. */
  pluginsDir?: string;
  /** Only these jobs (by name); unknown names are reported. */
  only?: readonly string[];
  /** Skip parsing and checking jobs whose files and context are unchanged since they were cached. */
  cache?: JobCheckCache;
  /**
   * The time file and folder identities are judged at (default: now): only those older than
   * RACY_MS then stand for their content. Tests move it forward to trust files just written.
   */
  now?: number;
}

export interface JobContext {
  plugins: ReadonlyMap<string, Plugin>;
  rules: readonly HookRule[];
  /** Window preset names; `null` = not known here, so preset names are not checked. */
  presets?: ReadonlySet<string> | null;
  /** Where the rules are written, for messages. */
  rulesFile?: string;
}

export function validateProject(opts: ValidateOptions): ProjectReport {
  const { config, problems } = loadProjectConfig(opts.dir);
  const emptySet: PluginSet = { plugins: new Map(), results: [], problems: [] };
  if (!config || hasErrors(problems))
    return { ...(config ? { config } : {}), plugins: emptySet, problems, jobs: [] };

  const plugins = loadPluginSet([opts.pluginsDir ?? config.installLocation]);
  if (
    !opts.pluginsDir &&
    plugins.problems.some((p) => p.code === 'FILE_UNREADABLE' && p.file === config.installLocation)
  ) {
    const p = plugins.problems.find((x) => x.file === config.installLocation)!;
    p.message = `plugin directory ${relative(process.cwd(), config.installLocation) || '.'} does not exist`;
    p.hint = 'run `optimus plugin install`, or pass --plugins <dir> with the plugin specs';
  }
  problems.push(...plugins.problems);

  const ctx: JobContext = { plugins: plugins.plugins, rules: config.hookRules, rulesFile: config.file };
  if (config.presets) ctx.presets = config.presets;
  const jobs: JobReport[] = [];
  const byName = new Map<string, JobReport>();
  const scan = newJobScan();
  const cache = opts.cache;
  const now = opts.now ?? Date.now();
  const identity = fileIdentities(now);
  const list = cache?.listings ? rememberingLister(cache.listings, now) : readEntries;
  const fingerprint = cache ? checkFingerprint(plugins, config) : '';
  const parentDigests = new Map<string, string>();
  const parentIds = new Map<string, string | undefined>();
  for (const { namespace, root, dir } of projectJobDirs(config, scan, list)) {
    let key: string | undefined;
    let hit: CachedJobCheck | undefined;
    let identityKey: string | undefined;
    if (cache) {
      const where = { fingerprint, namespace, root, dir, scan, identity, list };
      identityKey = jobIdentityKey(where, parentIds);
      hit = identityKey === undefined ? undefined : cache.get(dir, identityKey);
      if (!hit) {
        key = jobKey(where, parentDigests);
        hit = key === undefined ? undefined : cache.get(dir, key);
        // Same bytes, new identities (a checkout, a touch): found by content, and by identity next time.
        if (hit && key !== undefined && identityKey !== undefined)
          cache.set(dir, key, { ...hit, identityKey });
      }
    }
    let loaded: LoadedJob | undefined;
    let report: JobReport;
    if (hit) {
      report = {
        name: hit.name,
        namespace,
        dir,
        file: `${dir}${sep}${JOB_FILE}`,
        nodes: [],
        problems: hit.problems.map((p) => ({ ...p })),
        root,
        cached: true,
        hash: hit.hash,
      };
    } else {
      loaded = loadJob(dir, root, scan);
      report = checkLoadedJob(loaded, namespace, ctx);
      report.root = root;
      if (key !== undefined && report.spec && !hasErrors(report.problems)) {
        report.hash = jobHash(report);
        cache?.set(dir, key, {
          name: report.name,
          hash: report.hash,
          problems: report.problems.map((p) => ({ ...p })),
          ...(identityKey === undefined ? {} : { identityKey }),
        });
      }
    }
    const prev = byName.get(report.name);
    if (prev && (report.spec || report.cached)) {
      // Rare, so a cached job is loaded again here only to point at its `name`.
      loaded ??= loadJob(dir, root, scan);
      report.problems.push(
        loaded.problem(
          ['name'],
          'error',
          'JOB_DUPLICATE',
          `job "${report.name}" is also defined in ${relative(process.cwd(), prev.file)}`,
          { hint: 'job names must be unique in a project' },
        ),
      );
    } else if (report.spec || report.cached) byName.set(report.name, report);
    jobs.push(report);
  }
  let selected = jobs;
  if (opts.only?.length) {
    const wanted = new Set(opts.only);
    selected = jobs.filter((j) => wanted.has(j.name));
    for (const name of wanted) {
      if (!selected.some((j) => j.name === name)) {
        problems.push({
          severity: 'error',
          code: 'JOB_NOT_FOUND',
          message: `job "${name}" is not in any namespace`,
          file: config.file,
          hint: suggest(name, [...byName.keys()]),
        });
      }
    }
  }
  return { config, plugins, problems, jobs: selected };
}

/** Every job of every namespace of the project, loaded (inheritance and assets), in folder order. */
export function loadProjectJobs(config: ProjectConfig): { namespace: string; loaded: LoadedJob }[] {
  const scan = newJobScan();
  return projectJobDirs(config, scan).map(({ namespace, root, dir }) => ({
    namespace,
    loaded: loadJob(dir, root, scan),
  }));
}

function projectJobDirs(
  config: ProjectConfig,
  scan: JobScan,
  list?: (dir: string) => DirEntry[] | undefined,
): { namespace: string; root: string; dir: string }[] {
  const out: { namespace: string; root: string; dir: string }[] = [];
  for (const ns of config.namespaces) {
    if (!ns.jobPath) continue;
    for (const dir of discoverJobDirs(ns.jobPath, scan, list))
      out.push({ namespace: ns.name, root: ns.jobPath, dir });
  }
  return out;
}

/** Bumped whenever what a cached check holds, or how it is keyed, changes. */
const CHECK_CACHE_FORMAT = '2';

/**
 * Everything a job's check depends on besides its own files: the plugin specs (their files'
 * bytes), the hook rules and where they are written, the window presets, and the working directory
 * (messages name files relative to it).
 */
function checkFingerprint(plugins: PluginSet, config: ProjectConfig): string {
  const h = createHash('sha256');
  part(h, CHECK_CACHE_FORMAT);
  for (const r of plugins.results) {
    part(h, r.file);
    try {
      part(h, readFileSync(r.file));
    } catch {
      part(h, '\0unreadable');
    }
  }
  part(h, canonicalJson(config.hookRules));
  part(h, config.file);
  part(h, canonicalJson(config.presets ? [...config.presets].sort() : null));
  part(h, canonicalJson(config.presetWindows ?? null));
  part(h, process.cwd());
  return h.digest('hex');
}

/** A length-prefixed piece, so that no two different sequences of pieces hash alike. */
function part(h: Hash, data: string | Uint8Array): void {
  h.update(`${typeof data === 'string' ? Buffer.byteLength(data) : data.length}:`);
  h.update(data);
}

/** Where a job folder is, and what its keys are made with. */
interface JobPlace {
  fingerprint: string;
  namespace: string;
  root: string;
  dir: string;
  scan: JobScan;
  identity: (file: string) => string | null | undefined;
  list: (dir: string) => DirEntry[] | undefined;
}

/**
 * The folders loadJob reads a this.yaml from, nearest first: `dir` was discovered under `root`, so
 * a prefix test is enough to stop where loadJob stops.
 */
function* parentDirs(dir: string, root: string): Generator<string> {
  for (let d = dir; ; d = dirname(d)) {
    yield d;
    if (d === root || !d.startsWith(`${root}${sep}`) || dirname(d) === d) break;
  }
}

/**
 * The cache key of one job folder: the fingerprint, its namespace and place, the bytes of its
 * job.yaml, of every this.yaml that loadJob would read and of every asset (what readAssets reads).
 * `undefined` when a file cannot be read: such a job is checked, so its problem is reported.
 */
function jobKey(p: JobPlace, parentDigests: Map<string, string>): string | undefined {
  const h = createHash('sha256');
  part(h, p.fingerprint);
  part(h, p.namespace);
  part(h, p.root);
  part(h, p.dir);
  try {
    part(h, readFileSync(join(p.dir, JOB_FILE)));
  } catch {
    return undefined;
  }
  for (const d of parentDirs(p.dir, p.root)) part(h, parentDigest(d, p.scan, parentDigests));
  if (p.scan.noAssets.has(p.dir)) part(h, 'no assets');
  else if (!assetsDigest(h, join(p.dir, ASSETS_DIR), '')) return undefined;
  return h.digest('hex');
}

/**
 * The identity key of one job folder: as `jobKey`, with each file's identity (inode, size, times)
 * in place of its bytes. `undefined` when one is too recent to trust or cannot be read: then the
 * bytes decide. Made of many short pieces per job, so written as one string and hashed once.
 */
function jobIdentityKey(p: JobPlace, parentIds: Map<string, string | undefined>): string | undefined {
  const own = p.identity(`${p.dir}${sep}${JOB_FILE}`);
  if (!own) return undefined;
  const pieces = ['identities', p.fingerprint, p.namespace, p.root, p.dir, own];
  for (const d of parentDirs(p.dir, p.root)) {
    let id: string | undefined;
    if (p.scan.parents.get(d) === null) id = '-';
    else if (parentIds.has(d)) id = parentIds.get(d);
    else {
      // No this.yaml (null) is as good an answer as an identity; only an untrusted one is not.
      const found = p.identity(`${d}${sep}${PARENT_FILE}`);
      id = found === null ? '-' : found;
      parentIds.set(d, id);
    }
    if (id === undefined) return undefined;
    pieces.push(id);
  }
  if (p.scan.noAssets.has(p.dir)) pieces.push('no assets');
  else if (!assetsIdentity(pieces, p, `${p.dir}${sep}${ASSETS_DIR}`, '')) return undefined;
  // Length-prefixed, so that no two different sequences of pieces give the same text.
  return hash('sha256', pieces.map((x) => `${x.length}:${x}`).join(''));
}

/** Asset names and identities, in name order; false when one is too recent or unreadable. */
function assetsIdentity(
  pieces: string[],
  p: Pick<JobPlace, 'identity' | 'list'>,
  folder: string,
  prefix: string,
): boolean {
  const entries = p.list(folder);
  if (!entries) return false;
  for (const e of entries) {
    const full = `${folder}${sep}${e.name}`;
    if (e.kind === 'd') {
      pieces.push(`dir ${prefix}${e.name}/`);
      if (!assetsIdentity(pieces, p, full, `${prefix}${e.name}/`)) return false;
    } else if (e.kind === 'f') {
      const id = p.identity(full);
      if (!id) return false;
      pieces.push(`file ${prefix}${e.name}`, id);
    }
  }
  return true;
}

function parentDigest(dir: string, scan: JobScan, memo: Map<string, string>): string {
  let digest = memo.get(dir);
  if (digest === undefined) {
    if (scan.parents.get(dir) === null) digest = '-';
    else {
      try {
        digest = createHash('sha256')
          .update(readFileSync(join(dir, PARENT_FILE)))
          .digest('hex');
      } catch {
        digest = '-';
      }
    }
    memo.set(dir, digest);
  }
  return digest;
}

/** Asset names and bytes, in name order; false when something there cannot be read. */
function assetsDigest(h: Hash, folder: string, prefix: string): boolean {
  let entries: Dirent[];
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = join(folder, e.name);
    if (e.isDirectory()) {
      part(h, `dir ${prefix}${e.name}/`);
      if (!assetsDigest(h, full, `${prefix}${e.name}/`)) return false;
    } else if (e.isFile()) {
      part(h, `file ${prefix}${e.name}`);
      try {
        part(h, readFileSync(full));
      } catch {
        return false;
      }
    }
  }
  return true;
}

/** Run graph, configs and window checks on a loaded job. */
export function checkLoadedJob(loaded: LoadedJob, namespace: string, ctx: JobContext): JobReport {
  const problems = [...loaded.problems];
  const report: JobReport = {
    name: loaded.spec?.name ?? loaded.name ?? relative(process.cwd(), loaded.dir),
    namespace,
    dir: loaded.dir,
    file: loaded.file,
    nodes: [],
    problems,
  };
  const spec = loaded.spec;
  if (!spec || hasErrors(problems)) return report;
  report.spec = spec;
  if (loaded.raw) report.raw = loaded.raw;

  const legacy = readLegacyStageTypes(spec.hooks, ctx.plugins);
  spec.hooks = legacy.hooks;
  const graph = buildRunGraph({ task: spec.task, hooks: spec.hooks, plugins: ctx.plugins, rules: ctx.rules });
  report.nodes = graph.nodes;
  for (const issue of [...legacy.issues, ...graph.issues]) {
    let path: PathSegment[] = [];
    if (issue.task) path = ['task', 'name'];
    else if (issue.hookIndex !== undefined)
      path = issue.field ? ['hooks', issue.hookIndex, issue.field] : ['hooks', issue.hookIndex];
    else if (issue.ruleIndex !== undefined) path = ['hooks'];
    const where =
      issue.ruleIndex !== undefined && ctx.rulesFile
        ? ` (${relative(process.cwd(), ctx.rulesFile)}: plugins.dependencies[${issue.ruleIndex}])`
        : '';
    const opts = issue.hint ? { hint: issue.hint } : {};
    problems.push(loaded.problem(path, issue.severity, issue.code, issue.message + where, opts));
  }

  const taskPlugin = ctx.plugins.get(spec.task.name);
  if (taskPlugin) {
    for (const c of checkConfigs(taskPlugin, spec.task.config, 'task')) {
      const path = c.present ? ['task', 'config', c.key] : ['task', 'config'];
      problems.push(loaded.problem(path, c.severity, c.code, c.message, c.hint ? { hint: c.hint } : {}));
    }
    checkVersion(taskPlugin, spec.task.version, ['task', 'version'], loaded, problems);
  }
  spec.hooks.forEach((hook, i) => {
    const plugin = ctx.plugins.get(hook.type);
    if (!plugin) return;
    for (const c of checkConfigs(plugin, hook.config, 'hook')) {
      const path = c.present ? ['hooks', i, 'config', c.key] : ['hooks', i, 'config'];
      problems.push(
        loaded.problem(
          path,
          c.severity,
          c.code,
          `hook "${hook.name}": ${c.message}`,
          c.hint ? { hint: c.hint } : {},
        ),
      );
    }
    checkVersion(plugin, hook.version, ['hooks', i, 'version'], loaded, problems);
  });
  for (const w of checkWindow(spec.version, spec.task.window, ctx.presets)) {
    const path = w.field ? ['task', 'window', w.field] : ['task', 'window'];
    problems.push(
      loaded.problem(
        path,
        w.severity,
        w.severity === 'error' ? 'WINDOW_INVALID' : 'WINDOW_WARNING',
        w.message,
      ),
    );
  }
  return report;
}

function checkVersion(
  plugin: Plugin,
  version: string | undefined,
  path: PathSegment[],
  loaded: LoadedJob,
  problems: Problem[],
) {
  if (version === undefined || version === '' || version in plugin.versions) return;
  problems.push(
    loaded.problem(
      path,
      'error',
      'PLUGIN_VERSION_UNKNOWN',
      `plugin "${plugin.name}" has no version "${version}"`,
      {
        hint: `available: ${Object.keys(plugin.versions).join(', ')}`,
      },
    ),
  );
}

export function suggest(name: string, known: readonly string[]): string {
  const close = known
    .map((k) => ({ k, d: distance(name, k) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(name.length / 3)))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((x) => x.k);
  if (close.length) return `did you mean ${close.join(', ')}?`;
  return known.length
    ? `known jobs: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''}`
    : 'the project has no jobs';
}

/** The deploy payload of one namespace: each valid job's fields after inheritance, plus its assets. */
export function deployPayload(report: ProjectReport, namespace: string): Record<string, unknown>[] {
  return report.jobs
    .filter((j) => j.namespace === namespace && ((j.raw && j.spec) || j.cached))
    .map((j) => jobPayload(j));
}

/**
 * One valid job as a deploy sends it. A job taken from the validation cache is loaded from its
 * files again (no checks): only the few jobs a server asks for in full pay for that.
 */
export function jobPayload(job: JobReport): Record<string, unknown> {
  if (job.raw && job.spec) return { ...job.raw, assets: job.spec.assets };
  const loaded = job.cached ? loadJob(job.dir, job.root ?? job.dir) : undefined;
  if (!loaded?.raw || !loaded.spec)
    throw new OptimusError('JOB_CHANGED', `job ${job.name} changed on disk while it was being deployed`, {
      category: 'invalid',
      hint: `run the command again: ${relative(process.cwd(), job.file)} is checked afresh`,
    });
  return { ...loaded.raw, assets: loaded.spec.assets };
}

/**
 * The content hash the server stores for a job: over its fields after inheritance without
 * `assets`, and its assets, exactly as the deploy service computes it from the request body.
 */
export function jobHash(job: JobReport): string {
  if (job.hash) return job.hash;
  const { assets, ...spec } = jobPayload(job);
  return contentHash({ spec, assets: assets ?? {} });
}
