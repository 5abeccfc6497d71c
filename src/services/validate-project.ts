/**
 * Validate a project on disk: optimus.yaml, every job of every namespace (or the named ones), each
 * against the plugin specs: shape, inheritance, run graph, mandatory configs and windows. The same
 * job checks run on the server (see `checkJob`).
 */
import { relative } from 'node:path';
import { distance } from 'fastest-levenshtein';
import { checkConfigs } from '../core/configs.js';
import type { HookRule } from '../core/hook-rules.js';
import { readLegacyStageTypes } from '../core/hook-types.js';
import type { JobSpec } from '../core/job.js';
import type { Plugin } from '../core/plugin.js';
import { hasErrors, type PathSegment, type Problem } from '../core/problem.js';
import { buildRunGraph, type RunNode } from '../core/run-graph.js';
import { checkWindow } from '../core/window.js';
import { discoverJobDirs, type LoadedJob, loadJob, newJobScan } from '../spec/job-spec.js';
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
  for (const { namespace, loaded } of loadProjectJobs(config)) {
    const report = checkLoadedJob(loaded, namespace, ctx);
    const prev = byName.get(report.name);
    if (prev && report.spec) {
      report.problems.push(
        loaded.problem(
          ['name'],
          'error',
          'JOB_DUPLICATE',
          `job "${report.name}" is also defined in ${relative(process.cwd(), prev.file)}`,
          { hint: 'job names must be unique in a project' },
        ),
      );
    } else if (report.spec) byName.set(report.name, report);
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
  const out: { namespace: string; loaded: LoadedJob }[] = [];
  for (const ns of config.namespaces) {
    if (!ns.jobPath) continue;
    for (const dir of discoverJobDirs(ns.jobPath, scan))
      out.push({ namespace: ns.name, loaded: loadJob(dir, ns.jobPath, scan) });
  }
  return out;
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
    .filter((j) => j.namespace === namespace && j.raw && j.spec)
    .map((j) => ({ ...j.raw, assets: j.spec!.assets }));
}
