/**
 * job.yaml → JobSpec, with `this.yaml` inheritance from the job folder up to the namespace root
 * (nearest wins; unlike upstream, a child's explicit `false` or `0` does override a parent) and the
 * `assets/` folder. Problems point into whichever file holds the offending value.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { cronProblem } from '../core/cron.js';
import { splitDependsOn } from '../core/hook-rules.js';
import type { HookSpec, JobSpec } from '../core/job.js';
import { HOOK_STAGES, type HookStage } from '../core/plugin.js';
import { formatPath, hasErrors, type PathSegment, type Problem, type Severity } from '../core/problem.js';
import { type DirEntry, readEntries } from './fs-snapshot.js';
import { jobFileSchema } from './job-schema.js';
import { ioMessage } from './plugin-spec.js';
import { parseYaml, type YamlSource } from './yaml-source.js';
import { shapeProblems } from './zod-problems.js';

export const JOB_FILE = 'job.yaml';
export const PARENT_FILE = 'this.yaml';
export const ASSETS_DIR = 'assets';

type Raw = Record<string, unknown>;

export interface LoadedJob {
  dir: string;
  file: string;
  /**
   * The job's `name` as written in its job.yaml, when it can be read even though the file has
   * problems (so a broken job is reported by its name, not its folder).
   */
  name?: string;
  /** Present when the spec is complete and well-formed (semantic checks may still fail). */
  spec?: JobSpec;
  /** The job.yaml fields after inheritance, as plain data (what a deploy sends). */
  raw?: Record<string, unknown>;
  problems: Problem[];
  /** Locate a path of the merged spec in the file it came from. */
  locate(path: readonly PathSegment[], opts?: { key?: boolean }): Pick<Problem, 'file' | 'line' | 'column'>;
  problem(
    path: readonly PathSegment[],
    severity: Severity,
    code: string,
    message: string,
    opts?: { key?: boolean; hint?: string },
  ): Problem;
}

/**
 * What a project scan learns, shared by every job of the project: parsed this.yaml files (null =
 * none in that folder), so each is read once, and the job folders without assets/, so nothing
 * probes for files discovery already knows are missing.
 */
export interface JobScan {
  parents: Map<string, YamlSource | null>;
  noAssets: Set<string>;
}

export const newJobScan = (): JobScan => ({ parents: new Map(), noAssets: new Set() });

function readParent(dir: string, scan: JobScan): YamlSource | null {
  const cache = scan.parents;
  let src = cache.get(dir);
  if (src === undefined) {
    let text: string | undefined;
    try {
      text = readFileSync(join(dir, PARENT_FILE), 'utf8');
    } catch {
      text = undefined;
    }
    src = text === undefined ? null : parseYaml(text, join(dir, PARENT_FILE));
    cache.set(dir, src);
  }
  return src;
}

/**
 * Every folder under `root` that holds a job.yaml (assets folders of jobs are not searched). With a
 * cache, records the folders that have no this.yaml, so loading jobs never probes for one. `list`
 * reads a folder's entries (a remembering lister answers unchanged folders from memory).
 */
export function discoverJobDirs(
  root: string,
  scan?: JobScan,
  list: (dir: string) => DirEntry[] | undefined = readEntries,
): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    const entries = list(dir);
    if (!entries) return;
    let isJob = false;
    let hasParent = false;
    let hasAssets = false;
    for (const e of entries) {
      if (e.name === JOB_FILE && e.kind === 'f') isJob = true;
      else if (e.name === PARENT_FILE && e.kind === 'f') hasParent = true;
      else if (e.name === ASSETS_DIR && e.kind === 'd') hasAssets = true;
    }
    if (scan && !hasParent) scan.parents.set(dir, null);
    if (isJob) {
      out.push(dir);
      if (scan && !hasAssets) scan.noAssets.add(dir);
    }
    for (const e of entries) {
      if (e.kind !== 'd' || e.name.startsWith('.') || e.name === 'node_modules') continue;
      if (isJob && e.name === ASSETS_DIR) continue;
      walk(`${dir}${sep}${e.name}`);
    }
  };
  walk(root);
  return out.sort();
}

export function loadJob(dir: string, root: string, scan: JobScan = newJobScan()): LoadedJob {
  const file = join(dir, JOB_FILE);
  const problems: Problem[] = [];
  let text: string;
  const sources: YamlSource[] = [];
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    problems.push({ severity: 'error', code: 'FILE_UNREADABLE', message: ioMessage(e), file });
    return finishJob({ dir, file, problems, sources, hookOrigins: [] });
  }
  const own = parseYaml(text, file);
  sources.push(own);
  const name = writtenName(own.value, text);
  const finish = (p: Parameters<typeof finishJob>[0]) => {
    const job = finishJob(p);
    if (name !== undefined) job.name = name;
    return job;
  };
  // Parents, nearest first: the job folder itself, then each ancestor up to the namespace root.
  for (let d = dir; ; d = dirname(d)) {
    const parent = readParent(d, scan);
    if (parent) sources.push(parent);
    if (d === root || !isInside(d, root) || dirname(d) === d) break;
  }
  for (const s of sources) problems.push(...s.problems);
  if (hasErrors(problems)) return finish({ dir, file, problems, sources, hookOrigins: [] });

  for (const s of sources) {
    if (s.value === null || s.value === undefined) continue;
    if (typeof s.value !== 'object' || Array.isArray(s.value)) {
      problems.push({
        severity: 'error',
        code: 'JOB_INVALID',
        message: 'a job spec must be a YAML mapping',
        file: s.file,
        line: 1,
        column: 1,
      });
    }
  }
  if (hasErrors(problems)) return finish({ dir, file, problems, sources, hookOrigins: [] });

  // Merge nearest-first, so a field comes from the nearest file that sets it.
  let merged: Raw = {};
  let hookOrigins: HookOrigin[] = [];
  sources.forEach((s, si) => {
    const r = mergeJob(merged, withoutEmptyValues((s.value ?? {}) as Raw), hookOrigins, si);
    merged = r.merged;
    hookOrigins = r.hookOrigins;
  });
  const strict = merged.version === 3;
  for (const s of sources) problems.push(...shapeOf(s, strict));
  const job = finish({ dir, file, problems, sources, hookOrigins });
  if (hasErrors(problems)) return job;

  return completeJob(job, merged, () => (scan.noAssets.has(dir) ? {} : readAssets(dir, problems)));
}

const NAME_LINE = /^name:[ \t]*["']?([A-Za-z0-9][A-Za-z0-9_.-]*)["']?[ \t]*(?:#.*)?$/m;

/** The top-level `name` of a job file: from the parsed mapping, else (syntax error) from its line. */
function writtenName(value: unknown, text: string): string | undefined {
  if (isObj(value)) return typeof value.name === 'string' && value.name ? value.name : undefined;
  if (value !== undefined) return undefined;
  return NAME_LINE.exec(text)?.[1];
}

/** Required fields, then the spec itself and its semantic checks. */
function completeJob(job: LoadedJob, merged: Raw, assets: () => Record<string, string>): LoadedJob {
  const { problems } = job;
  for (const [path, what] of [
    [['version'], 'version (the window version: 1, 2 or 3)'],
    [['name'], 'name'],
    [['owner'], 'owner'],
    [['schedule', 'start_date'], 'schedule.start_date'],
    [['task', 'name'], 'task.name (the task plugin)'],
  ] as [string[], string][]) {
    if (valueAt(merged, path) === undefined || valueAt(merged, path) === null) {
      problems.push(job.problem(path, 'error', 'JOB_FIELD_MISSING', `${what} is required`));
    }
  }
  if (hasErrors(problems)) return job;
  job.raw = merged;
  job.spec = toJobSpec(merged, assets());
  problems.push(...semanticChecks(job.spec, job));
  return job;
}

/**
 * A job that arrives as data (a deploy request): the job.yaml fields after inheritance, plus
 * `assets` (path → content). Problems carry `basePath` (e.g. `jobs[3]`) instead of a position.
 */
export function loadJobValue(value: unknown, basePath: PathSegment[]): LoadedJob {
  const problems: Problem[] = [];
  const raw = isObj(value) ? { ...value } : value;
  const assetsRaw = isObj(raw) ? raw.assets : undefined;
  if (isObj(raw)) delete raw.assets;
  const src: YamlSource = { file: '', value: raw, problems: [], locate: () => undefined, has: () => true };
  const job: LoadedJob = {
    dir: '',
    file: '',
    problems,
    locate: () => ({}),
    problem(path, severity, code, message, opts = {}) {
      const out: Problem = { severity, code, message, path: formatPath([...basePath, ...path]) };
      if (opts.hint) out.hint = opts.hint;
      return out;
    },
  };
  if (!isObj(raw)) {
    problems.push(job.problem([], 'error', 'JOB_INVALID', 'a job must be an object'));
    return job;
  }
  const assets: Record<string, string> = {};
  if (assetsRaw !== undefined && assetsRaw !== null) {
    if (!isObj(assetsRaw))
      problems.push(
        job.problem(['assets'], 'error', 'JOB_INVALID', 'assets must map file paths to their content'),
      );
    else {
      for (const [k, v] of Object.entries(assetsRaw)) {
        if (typeof v !== 'string')
          problems.push(job.problem(['assets', k], 'error', 'JOB_INVALID', 'asset content must be a string'));
        else if (k === '' || k.startsWith('/') || k.split('/').includes('..')) {
          problems.push(
            job.problem(
              ['assets', k],
              'error',
              'JOB_INVALID',
              'asset paths must be relative and stay inside assets/',
            ),
          );
        } else assets[k] = v;
      }
    }
  }
  problems.push(
    ...shapeProblems(jobFileSchema, raw, src, {
      unknownKeys: raw.version === 3 ? 'error' : 'warning',
      codePrefix: 'JOB',
      basePath,
    }).map((p) => {
      delete p.file;
      return p;
    }),
  );
  if (hasErrors(problems)) return job;
  return completeJob(job, withoutEmptyValues(raw), () => assets);
}

/**
 * Upstream reads `behavior:` left empty (null) and `schedule.end_date: ""` as absent: drop them
 * before merging, so a parent's value shows through and nothing downstream sees the empty form.
 */
function withoutEmptyValues(v: Raw): Raw {
  const emptyEnd = isObj(v.schedule) && v.schedule.end_date === '';
  if (!emptyEnd && v.behavior !== null) return v;
  const out: Raw = { ...v };
  if (out.behavior === null) delete out.behavior;
  if (emptyEnd) {
    const { end_date: _, ...schedule } = v.schedule as Raw;
    out.schedule = schedule;
  }
  return out;
}

/** Shape problems per file; a this.yaml shared by thousands of jobs is checked once per mode. */
const shapeCache = new WeakMap<YamlSource, { strict?: Problem[]; lenient?: Problem[] }>();
function shapeOf(src: YamlSource, strict: boolean): Problem[] {
  let entry = shapeCache.get(src);
  if (!entry) {
    entry = {};
    shapeCache.set(src, entry);
  }
  const key = strict ? 'strict' : 'lenient';
  entry[key] ??= shapeProblems(jobFileSchema, src.value ?? {}, src, {
    unknownKeys: strict ? 'error' : 'warning',
    codePrefix: 'JOB',
  });
  return entry[key];
}

interface HookOrigin {
  source: number;
  index: number;
}

function finishJob(p: {
  dir: string;
  file: string;
  problems: Problem[];
  sources: YamlSource[];
  hookOrigins: HookOrigin[];
}): LoadedJob {
  const locate = (path: readonly PathSegment[], opts?: { key?: boolean }) => {
    let candidates = p.sources.map((s) => ({ s, path }));
    if (path[0] === 'hooks' && typeof path[1] === 'number' && p.hookOrigins[path[1]]) {
      const o = p.hookOrigins[path[1]]!;
      candidates = [{ s: p.sources[o.source]!, path: ['hooks', o.index, ...path.slice(2)] }];
    }
    const hit = candidates.find((c) => c.s.has(c.path)) ?? candidates[0];
    if (!hit) return { file: p.file };
    const pos = hit.s.locate(hit.path, opts);
    return pos ? { file: hit.s.file, line: pos.line, column: pos.column } : { file: hit.s.file };
  };
  return {
    dir: p.dir,
    file: p.file,
    problems: p.problems,
    locate,
    problem(path, severity, code, message, opts = {}) {
      const out: Problem = { severity, code, message, ...locate(path, opts) };
      if (path.length) out.path = formatPath(path);
      if (opts.hint) out.hint = opts.hint;
      return out;
    },
  };
}

const isObj = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v);
const present = (o: Raw, k: string) => o[k] !== undefined && o[k] !== null;

/** Fill what `child` (already merged, nearer) lacks from `parent`; objects merge key by key. */
function mergeDeep(child: unknown, parent: unknown): unknown {
  if (!isObj(child) || !isObj(parent)) return child === undefined || child === null ? parent : child;
  const out: Raw = { ...child };
  for (const [k, v] of Object.entries(parent)) out[k] = present(child, k) ? mergeDeep(child[k], v) : v;
  return out;
}

function mergeJob(
  child: Raw,
  parent: Raw,
  origins: HookOrigin[],
  parentSource: number,
): { merged: Raw; hookOrigins: HookOrigin[] } {
  const out: Raw = { ...child };
  for (const [k, v] of Object.entries(parent)) {
    if (k === 'hooks' || k === 'dependencies' || k === 'behavior') continue;
    out[k] = present(child, k) ? mergeDeep(child[k], v) : v;
  }
  // behavior: scalars and retry deep; notify merged by `on`.
  if (isObj(parent.behavior) || isObj(child.behavior)) {
    const cb = (isObj(child.behavior) ? child.behavior : {}) as Raw;
    const pb = (isObj(parent.behavior) ? parent.behavior : {}) as Raw;
    const b = mergeDeep(cb, { ...pb, notify: undefined }) as Raw;
    const notify = mergeNotify(cb.notify, pb.notify);
    if (notify) b.notify = notify;
    else delete b.notify;
    out.behavior = b;
  }
  // dependencies: parent entries appended unless the same (job, type) or http name is already there.
  const cd = Array.isArray(child.dependencies) ? (child.dependencies as Raw[]) : [];
  const pd = Array.isArray(parent.dependencies) ? (parent.dependencies as Raw[]) : [];
  if (cd.length || pd.length) {
    const key = (d: Raw) =>
      isObj(d.http) ? `http:${String(d.http.name)}` : `${String(d.job)}|${String(d.type ?? '')}`;
    const keys = new Set(cd.map(key));
    out.dependencies = [...cd, ...pd.filter((d) => isObj(d) && !keys.has(key(d)))];
  }
  // hooks: same name → fill missing fields and config keys; parent-only hooks appended.
  const ch = Array.isArray(child.hooks) ? (child.hooks as Raw[]) : [];
  const ph = Array.isArray(parent.hooks) ? (parent.hooks as Raw[]) : [];
  const hookOrigins = [...origins];
  if (ch.length || ph.length) {
    const hooks = ch.map((h) => ({ ...h }));
    // Only hooks of the nearer files absorb a parent's hook: duplicates within one file are reported.
    const nearer = new Map<unknown, Raw>();
    for (const h of hooks) if (!nearer.has(h.name)) nearer.set(h.name, h);
    ph.forEach((p, i) => {
      if (!isObj(p)) return;
      const mine = nearer.get(p.name);
      if (!mine) {
        hooks.push(p);
        hookOrigins.push({ source: parentSource, index: i });
        return;
      }
      for (const [k, v] of Object.entries(p)) {
        if (k === 'config') mine.config = mergeDeep(mine.config, v);
        else if (!present(mine, k)) mine[k] = v;
      }
    });
    out.hooks = hooks;
  }
  return { merged: out, hookOrigins };
}

function mergeNotify(child: unknown, parent: unknown): Raw[] | undefined {
  const c = Array.isArray(child) ? (child as Raw[]).map((n) => ({ ...n })) : [];
  const p = Array.isArray(parent) ? (parent as Raw[]) : [];
  if (!c.length && !p.length) return undefined;
  for (const pn of p) {
    const mine = c.find((n) => n.on === pn.on);
    if (!mine) {
      c.push(pn);
      continue;
    }
    mine.config = mergeDeep(mine.config, pn.config);
    const channels = [...((mine.channels as string[]) ?? []), ...((pn.channels as string[]) ?? [])];
    if (channels.length) mine.channels = [...new Set(channels)];
  }
  return c;
}

function valueAt(v: unknown, path: readonly PathSegment[]): unknown {
  let cur = v;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

const s = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObj(v)) for (const [k, val] of Object.entries(v)) out[k] = s(val);
  return out;
}

function toJobSpec(m: Raw, assets: Record<string, string>): JobSpec {
  const task = m.task as Raw;
  const schedule = (m.schedule ?? {}) as Raw;
  const spec: JobSpec = {
    version: m.version as number,
    name: s(m.name),
    owner: s(m.owner),
    schedule: { start_date: s(schedule.start_date) },
    behavior: (m.behavior ?? {}) as JobSpec['behavior'],
    task: { name: s(task.name), config: stringMap(task.config) },
    hooks: ((m.hooks ?? []) as Raw[]).map((h): HookSpec => {
      const hook: HookSpec = { name: s(h.name), type: s(h.type ?? h.name), config: stringMap(h.config) };
      if (h.stage !== undefined && HOOK_STAGES.includes(h.stage as HookStage))
        hook.stage = h.stage as HookStage;
      if (h.depends_on !== undefined && h.depends_on !== null)
        hook.dependsOn = splitDependsOn(h.depends_on as string | string[]);
      if (h.version !== undefined) hook.version = s(h.version);
      return hook;
    }),
    dependencies: (m.dependencies ?? []) as JobSpec['dependencies'],
    labels: stringMap(m.labels),
    metadata: (m.metadata ?? {}) as Record<string, unknown>,
    assets,
  };
  if (m.description !== undefined) spec.description = s(m.description);
  if (schedule.end_date !== undefined) spec.schedule.end_date = s(schedule.end_date);
  if (schedule.interval !== undefined) spec.schedule.interval = s(schedule.interval);
  if (task.version !== undefined) spec.task.version = s(task.version);
  if (isObj(task.window)) {
    const w: Record<string, string> = {};
    for (const [k, v] of Object.entries(task.window)) if (v !== undefined && v !== null) w[k] = s(v);
    spec.task.window = w;
  }
  return spec;
}

function readAssets(dir: string, problems: Problem[]): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (folder: string, prefix: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        problems.push({
          severity: 'error',
          code: 'FILE_UNREADABLE',
          message: `cannot read assets: ${ioMessage(e)}`,
          file: folder,
        });
      }
      return;
    }
    for (const e of entries) {
      const full = join(folder, e.name);
      if (e.isDirectory()) walk(full, `${prefix}${e.name}/`);
      else if (e.isFile()) {
        try {
          out[`${prefix}${e.name}`] = readFileSync(full, 'utf8');
        } catch (err) {
          problems.push({
            severity: 'error',
            code: 'FILE_UNREADABLE',
            message: `cannot read asset: ${ioMessage(err)}`,
            file: full,
          });
        }
      }
    }
  };
  walk(join(dir, ASSETS_DIR), '');
  return out;
}

const GO_DURATION = /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$|^0$/;

function semanticChecks(spec: JobSpec, job: LoadedJob): Problem[] {
  const out: Problem[] = [];
  const start = calendarDate(spec.schedule.start_date);
  if (start === undefined)
    out.push(
      job.problem(
        ['schedule', 'start_date'],
        'error',
        'JOB_INVALID',
        `start_date "${spec.schedule.start_date}" is not a real date`,
      ),
    );
  if (spec.schedule.end_date) {
    const end = calendarDate(spec.schedule.end_date);
    if (end === undefined)
      out.push(
        job.problem(
          ['schedule', 'end_date'],
          'error',
          'JOB_INVALID',
          `end_date "${spec.schedule.end_date}" is not a real date`,
        ),
      );
    else if (start !== undefined && end < start)
      out.push(
        job.problem(['schedule', 'end_date'], 'error', 'JOB_INVALID', 'end_date is before start_date'),
      );
  }
  if (spec.schedule.interval) {
    const interval = spec.schedule.interval.trim();
    const error = cronError(interval);
    if (error) {
      out.push(
        job.problem(['schedule', 'interval'], 'error', 'JOB_INVALID', `interval "${interval}": ${error}`, {
          hint: 'five cron fields such as "0 2 * * *" (minute hour day-of-month month day-of-week), or @hourly, @daily, @weekly, @monthly, @yearly; leave it empty to run only when triggered',
        }),
      );
    }
  }
  const delay = spec.behavior.retry?.delay;
  if (delay !== undefined && !GO_DURATION.test(String(delay))) {
    out.push(
      job.problem(
        ['behavior', 'retry', 'delay'],
        'error',
        'JOB_INVALID',
        `retry delay "${delay}" is not a duration such as 30s, 5m or 1h`,
      ),
    );
  }
  const timeout = spec.behavior.timeout;
  if (timeout !== undefined && (!GO_DURATION.test(String(timeout)) || /^[+-]|^0$/.test(String(timeout)))) {
    out.push(
      job.problem(
        ['behavior', 'timeout'],
        'error',
        'JOB_INVALID',
        `timeout "${timeout}" is not a positive duration such as 30m or 2h`,
      ),
    );
  }
  for (const key of Object.keys(spec.labels)) {
    if (key.trim() === '')
      out.push(job.problem(['labels'], 'error', 'JOB_INVALID', 'label keys must not be empty'));
  }
  spec.dependencies.forEach((d, i) => {
    if (!d.job && !d.http)
      out.push(
        job.problem(
          ['dependencies', i],
          'error',
          'JOB_INVALID',
          'a dependency needs `job` (name or project/name) or `http`',
        ),
      );
    if (d.job && !/^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9][A-Za-z0-9_.-]*)?$/.test(d.job)) {
      out.push(
        job.problem(
          ['dependencies', i, 'job'],
          'error',
          'JOB_INVALID',
          `"${d.job}" is not a job name or project/job name`,
        ),
      );
    }
  });
  return out;
}

const cronChecked = new Map<string, string | undefined>();
/** Why a schedule interval is not valid, if it is not; projects reuse a few intervals, so cache. */
function cronError(interval: string): string | undefined {
  if (!cronChecked.has(interval)) cronChecked.set(interval, cronProblem(interval));
  return cronChecked.get(interval);
}

/** Epoch ms of a YYYY-MM-DD date that exists in the calendar (2026-02-30 does not). */
function calendarDate(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (
    d.getUTCFullYear() !== Number(m[1]) ||
    d.getUTCMonth() !== Number(m[2]) - 1 ||
    d.getUTCDate() !== Number(m[3])
  )
    return undefined;
  return d.getTime();
}

function isInside(dir: string, root: string): boolean {
  const rel = relative(root, dir);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep));
}
