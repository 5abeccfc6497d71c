/**
 * `optimus plugin run` without its printing: prepares one node of a sample job the way the server
 * would (the plugin project located, built, its spec loaded, the sample job loaded, the command
 * line's `--set`/`--secret`/`--global` applied, the input rendered by `renderLocal`, which is the
 * server's renderNodeInput) and runs it with the server's own executors, so what an author sees
 * locally is what a deployed job gets.
 *
 * Where the local run has to differ from the server, it says so in `notes` rather than guessing
 * silently: a hook whose job's task uses another plugin gets that plugin's spec from `--plugins
 * <dir>` (its defaults in TASK__*, its JOB_DESTINATION); without it, the task's config as written
 * and no destination (a stand-in, see project.ts otherPlugins).
 *
 * Output is split into lines and masked by the runner's own log capture (every secret value given
 * or rendered becomes `****`), handed to the caller line by line as it arrives, and kept (masked)
 * up to a cap per stream for the JSON answer.
 */
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  mkdtempSync,
  rmSync,
  type Stats,
  statSync,
} from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { distance } from 'fastest-levenshtein';
import { checkConfigs } from '../core/configs.js';
import { isOptimusError, OptimusError } from '../core/errors.js';
import type { JobSpec } from '../core/job.js';
import { allQuestions, type Plugin } from '../core/plugin.js';
import { errorsOf, type Problem, warningsOf } from '../core/problem.js';
import { createDockerExecutor } from '../scheduler/docker-executor.js';
import type { AttemptResult, Executor } from '../scheduler/executor.js';
import { createLogCapture, secretMasker } from '../scheduler/log-capture.js';
import { createProcessExecutor, formatDuration } from '../scheduler/process-executor.js';
import { parseRfc3339, type RenderedNode, RunInputError, writeRunInput } from '../services/run-input.js';
import { runSettingsFor } from '../services/runs.js';
import type { LoadedJob } from '../spec/job-spec.js';
import {
  buildPluginProject,
  defaultScheduledAt,
  loadPluginsOption,
  loadProjectSpec,
  loadSampleJob,
  locatePluginProject,
  makeFolders,
  otherPlugins,
  type PluginProject,
  renderLocal,
  SAMPLE_JOB,
  shown,
} from './project.js';

/** A shell variable name: what a config key and a secret name must be. */
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** What the JSON answer keeps of each output stream. */
export const KEPT_OUTPUT_BYTES = 1024 * 1024;

export interface LocalRunRequest {
  /** Plugin folder, spec file or executable. */
  target: string;
  /** `--job`, relative to the working directory. */
  jobFile?: string;
  /** `--scheduled-at`, RFC 3339. */
  scheduledAt?: string;
  /** `--set K=V`, `--secret K=V|K`, `--global K=V`, as given. */
  set?: readonly string[];
  secrets?: readonly string[];
  globals?: readonly string[];
  /** `--hook NAME`: run that hook instead of the task. */
  hook?: string;
  /** `--plugins <dir>`: specs of the other plugins the job names (relative to the working directory). */
  plugins?: string;
  /** false: use dist/<name> as built. */
  build?: boolean;
  /** Where `--secret K` reads K from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Told what is being done before the node runs (a build). */
  onProgress?: (line: string) => void;
}

export interface PreparedRun {
  project: PluginProject;
  plugin: Plugin;
  /** Absolute path of the job.yaml. */
  jobFile: string;
  job: JobSpec;
  node: { type: 'task' | 'hook'; name: string };
  scheduledAt: Date;
  input: RenderedNode;
  /** Things the author should know: spec, job and config warnings, and where the run is not the server's. */
  notes: string[];
  /** Replaces every secret value (given or rendered) with `****`. */
  mask: (text: string) => string;
  /** Every value `mask` hides. */
  maskValues: string[];
  /** The job's behavior.timeout in ms, when it sets one. */
  jobTimeoutMs?: number;
}

/** The plugin or the sample job has problems: the caller lists them (exit 1). */
export class LocalRunProblems extends OptimusError {
  readonly problems: Problem[];
  constructor(message: string, problems: Problem[]) {
    super('PLUGIN_RUN_PROBLEMS', message);
    this.name = 'LocalRunProblems';
    this.problems = problems;
  }
}

const usage = (code: string, message: string, hint: string) =>
  new OptimusError(code, message, { category: 'usage', hint });

/**
 * One rule for the keys of `--set`, `--secret` and `--global`: a shell variable name, since the node
 * sees each as an environment variable.
 */
function checkKey(flag: string, key: string, text: string): void {
  // A variable name, but the renderer's maps (plain objects, as on the server) cannot carry it:
  // refused here rather than dropped without a word.
  if (key === '__proto__')
    throw usage(
      'FLAG_KEY_INVALID',
      `${flag} __proto__: __proto__ is a name the run input cannot hold (it would be dropped)`,
      'use another name',
    );
  if (VAR_NAME.test(key)) return;
  throw usage(
    'FLAG_KEY_INVALID',
    `${flag} ${JSON.stringify(key || text)}: the key is no variable name`,
    flag === '--secret'
      ? 'a secret name is letters, digits and _ (not starting with a digit): --secret NAME=VALUE, or --secret NAME to read $NAME'
      : 'keys are letters, digits and _ (not starting with a digit), as the node sees them as environment variables',
  );
}

/**
 * `K=V` pairs of a repeatable flag, in a map without a prototype: a key such as `__proto__` (a
 * valid variable name) is a key like any other, not a plain object's prototype.
 */
function pairs(values: readonly string[] | undefined, flag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const text of values ?? []) {
    const eq = text.indexOf('=');
    if (eq <= 0)
      throw usage(
        'FLAG_VALUE_INVALID',
        `${flag} ${JSON.stringify(text)} is not KEY=VALUE`,
        `write it as ${flag} KEY=VALUE`,
      );
    const key = text.slice(0, eq);
    checkKey(flag, key, text);
    out.set(key, text.slice(eq + 1));
  }
  return out;
}

/** A record with no prototype, so that every key (`__proto__` too) is an own property. */
function record(entries: Iterable<[string, string]>): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const [k, v] of entries) out[k] = v;
  return out;
}

/** `--secret K=V`, or `--secret K` read from the environment variable K. Values are never echoed. */
export function parseSecrets(
  values: readonly string[] | undefined,
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  const out = new Map<string, string>();
  for (const text of values ?? []) {
    const eq = text.indexOf('=');
    const key = eq < 0 ? text : text.slice(0, eq);
    checkKey('--secret', key, text);
    if (eq >= 0) out.set(key, text.slice(eq + 1));
    else if (Object.hasOwn(env, key) && env[key] !== undefined) out.set(key, env[key]!);
    else
      throw usage(
        'SECRET_ENV_MISSING',
        `--secret ${key} reads the environment variable ${key}, which is not set`,
        `export ${key}=<value> first, or pass --secret ${key}=<value>`,
      );
  }
  return record(out);
}

function problemOf(e: OptimusError, file: string): Problem {
  return { severity: 'error', code: e.code, message: e.message, file, ...(e.hint ? { hint: e.hint } : {}) };
}

/** A warning as one line of notes. */
function noteOf(p: Problem): string {
  const where = p.file ? `${shown(p.file)}${p.line !== undefined ? `:${p.line}` : ''}: ` : '';
  return `${where}${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** Which node of the job runs the plugin, or why none does. */
function pickNode(
  job: JobSpec,
  plugin: Plugin,
  hook: string | undefined,
  jobFile: string,
): { type: 'task' | 'hook'; name: string; index?: number } {
  const where = `job ${shown(jobFile)}`;
  const using = job.hooks.filter((h) => h.type === plugin.name).map((h) => h.name);
  if (hook === undefined) {
    if (job.task.name === plugin.name) return { type: 'task', name: job.task.name };
    throw new OptimusError(
      'PLUGIN_NOT_IN_JOB',
      `the task of ${where} uses plugin ${job.task.name}, not ${plugin.name}: \`plugin run\` runs only the plugin under development`,
      {
        category: 'usage',
        hint: using.length
          ? `its hook${using.length > 1 ? 's' : ''} ${using.join(', ')} use${using.length > 1 ? '' : 's'} ${plugin.name}: pass --hook ${using[0]}`
          : `set task.name: ${plugin.name} in the job, or pass --job with a job that uses ${plugin.name}`,
      },
    );
  }
  const index = job.hooks.findIndex((h) => h.name === hook);
  if (index < 0)
    throw new OptimusError('HOOK_NOT_FOUND', `${where} has no hook ${JSON.stringify(hook)}`, {
      category: 'usage',
      hint: job.hooks.length
        ? `hooks of this job: ${job.hooks.map((h) => h.name).join(', ')}`
        : 'this job has no hooks: leave out --hook to run its task',
    });
  const type = job.hooks[index]!.type;
  if (type !== plugin.name)
    throw new OptimusError(
      'PLUGIN_NOT_IN_JOB',
      `hook ${hook} of ${where} uses plugin ${type}, not ${plugin.name}: \`plugin run\` runs only the plugin under development`,
      {
        category: 'usage',
        hint: using.length
          ? `pass --hook ${using[0]}, the hook using ${plugin.name}`
          : job.task.name === plugin.name
            ? 'leave out --hook: the task uses it'
            : `make a hook of the job use ${plugin.name}`,
      },
    );
  return { type: 'hook', name: hook, index };
}

/** Keys a plugin knows: declared configs, questions (nested too) and its default_config. */
function knownKeys(plugin: Plugin): string[] {
  return [
    ...new Set([
      ...plugin.configs.map((c) => c.name),
      ...allQuestions(plugin.questions).map((q) => q.name),
      ...Object.keys(plugin.defaultConfig),
    ]),
  ];
}

function closest(key: string, known: readonly string[]): string | undefined {
  const near = known
    .map((k) => ({ k, d: distance(key.toUpperCase(), k.toUpperCase()) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(key.length / 3)))
    .sort((a, b) => a.d - b.d);
  return near[0]?.k;
}

/**
 * The node's config after `--set`, checked as `job validate` checks a job (required configs,
 * secrets written as references, answers to questions). Problems of keys set on the command line
 * name the flag; the others point into the job file.
 */
function applySets(
  loaded: LoadedJob,
  plugin: Plugin,
  node: { type: 'task' | 'hook'; index?: number },
  sets: Map<string, string>,
  notes: string[],
): void {
  const job = loaded.spec!;
  const config = node.type === 'task' ? job.task.config : job.hooks[node.index!]!.config;
  const known = knownKeys(plugin);
  const fromFlag = new Set<string>();
  for (const [key, value] of sets) {
    if (!known.includes(key) && !Object.hasOwn(config, key)) {
      const near = closest(key, known);
      notes.push(
        `--set ${key}: plugin ${plugin.name} declares no config ${key}${near ? ` (did you mean ${near}?)` : ''}; it is passed on as written`,
      );
    }
    // Defined, not assigned: `config.__proto__ = v` would not add a key.
    Object.defineProperty(config, key, { value, enumerable: true, writable: true, configurable: true });
    fromFlag.add(key);
  }
  const base: (string | number)[] =
    node.type === 'task' ? ['task', 'config'] : ['hooks', node.index!, 'config'];
  const problems: Problem[] = [];
  for (const c of checkConfigs(plugin, config, node.type)) {
    const hint = c.hint ? { hint: localHint(c.hint) } : {};
    if (fromFlag.has(c.key))
      problems.push({ severity: c.severity, code: c.code, message: `--set ${c.key}: ${c.message}`, ...hint });
    else
      problems.push(loaded.problem(c.present ? [...base, c.key] : base, c.severity, c.code, c.message, hint));
  }
  for (const w of warningsOf(problems)) notes.push(noteOf(w));
  if (errorsOf(problems).length)
    throw new LocalRunProblems(
      `the ${node.type === 'task' ? 'task' : 'hook'}'s config is not valid for plugin ${plugin.name}`,
      errorsOf(problems),
    );
}

/** Config hints say how to store a secret on a server; locally its value is a flag. */
function localHint(hint: string): string {
  return hint.replace(
    /store the value with `optimus secret set ([A-Za-z_][A-Za-z0-9_]*)`/g,
    'give its value with --secret $1=<value>',
  );
}

/** SECRET_MISSING from the renderer names the server's command; locally the fix is a flag. */
function localRenderError(e: unknown, jobFile: string): unknown {
  if (!(e instanceof RunInputError)) return e;
  const field = e.field ? `field ${e.field}: ` : '';
  if (e.code === 'SECRET_MISSING') {
    const names = [
      ...new Set([...e.message.matchAll(/uses secret ([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!)),
    ];
    const message = e.message.replace(/, which (is|are) not set for namespace .*$/s, ', which $1 not given');
    return new OptimusError('SECRET_MISSING', `job ${shown(jobFile)}: ${message}`, {
      hint: `pass ${names.map((n) => `--secret ${n}=<value>`).join(' ')} (or --secret ${names[0] ?? 'NAME'} to read $${names[0] ?? 'NAME'})`,
    });
  }
  return new OptimusError(e.code, `job ${shown(jobFile)}: ${field}${e.message}`, {
    ...(e.hint ? { hint: e.hint } : {}),
  });
}

/** Everything up to the rendered input; throws OptimusError (LocalRunProblems for lists of problems). */
export async function prepareLocalRun(req: LocalRunRequest): Promise<PreparedRun> {
  const env = req.env ?? process.env;
  // Flags first: a typo is reported before anything is built.
  const sets = pairs(req.set, '--set');
  const globals = record(pairs(req.globals, '--global'));
  const secrets = parseSecrets(req.secrets, env);
  const known = req.plugins === undefined ? undefined : loadPluginsOption(req.plugins);
  let scheduledAt: Date | undefined;
  if (req.scheduledAt !== undefined) {
    scheduledAt = parseRfc3339(req.scheduledAt);
    if (!scheduledAt)
      throw usage(
        'SCHEDULED_AT_INVALID',
        `--scheduled-at ${JSON.stringify(req.scheduledAt)} is not an RFC 3339 time`,
        'write it with a zone, e.g. 2026-03-01T02:00:00Z or 2026-03-01T09:00:00+07:00',
      );
  }

  const project = locatePluginProject(req.target);
  // A spec file or an executable given directly has a sample only when one sits beside it.
  if (
    req.jobFile === undefined &&
    statSync(resolve(req.target)).isFile() &&
    !existsSync(join(project.dir, SAMPLE_JOB))
  )
    throw usage(
      'JOB_REQUIRED',
      `${shown(resolve(req.target))} is a plugin ${project.kind === 'yaml' ? 'spec file' : 'executable'} with no ${SAMPLE_JOB} beside it: --job is required`,
      `pass --job <job.yaml> with a job whose task (or --hook) uses plugin ${project.name}`,
    );

  const build = await buildPluginProject(project, { build: req.build !== false });
  if (build.built && build.executable)
    req.onProgress?.(`built ${shown(build.executable)} (${build.bytes ?? 0} bytes) in ${build.ms ?? 0} ms`);

  const spec = await loadProjectSpec(project);
  const specProblems = [...spec.problems];
  if (spec.handshake && 'error' in spec.handshake)
    specProblems.push(problemOf(spec.handshake.error, spec.file));
  if (!spec.plugin || errorsOf(specProblems).length)
    throw new LocalRunProblems(`plugin ${project.name} cannot be loaded`, errorsOf(specProblems));
  const plugin = spec.plugin;
  const notes = warningsOf(specProblems).map(noteOf);

  const loaded = loadSampleJob(project, req.jobFile);
  if (!loaded.spec || errorsOf(loaded.problems).length)
    throw new LocalRunProblems(`job ${shown(loaded.file)} cannot be loaded`, errorsOf(loaded.problems));
  notes.push(...warningsOf(loaded.problems).map(noteOf));
  const job = loaded.spec;

  const node = pickNode(job, plugin, req.hook, loaded.file);
  const { plugins: others, standIns } = otherPlugins(job, plugin, known);
  if (standIns.includes(job.task.name)) {
    const why =
      req.plugins === undefined
        ? `which \`plugin run\` does not load (it runs only the plugin under development)`
        : `which is not in --plugins ${req.plugins}`;
    notes.push(
      `the job's task uses plugin ${job.task.name}, ${why}: TASK__* hold the task's config as written, without ${job.task.name}'s defaults, and JOB_DESTINATION is empty${req.plugins === undefined ? `; pass --plugins <dir> with its spec to get them` : ''}`,
    );
  }
  const foreignHooks = job.hooks
    .filter((h, i) => h.type !== plugin.name && i !== node.index)
    .map((h) => `${h.name} (${h.type})`);
  if (foreignHooks.length)
    notes.push(
      `not run: hook${foreignHooks.length > 1 ? 's' : ''} ${foreignHooks.join(', ')} (\`plugin run\` runs only the plugin under development)`,
    );
  applySets(loaded, plugin, node, sets, notes);

  const at = scheduledAt ?? defaultScheduledAt(job);
  let input: RenderedNode;
  try {
    input = renderLocal({
      plugin,
      others,
      job,
      assets: job.assets,
      instance: { type: node.type, name: node.name },
      scheduledAt: at,
      secrets,
      globals,
    });
  } catch (e) {
    throw localRenderError(e, loaded.file);
  }
  const maskValues = [...new Set([...input.maskValues, ...Object.values(secrets)])].filter(Boolean);
  const { mask } = secretMasker(maskValues);
  const jobTimeout = runSettingsFor(job, { nodeTimeoutMs: 0 }).timeoutMs;
  return {
    project,
    plugin,
    jobFile: loaded.file,
    job,
    node: { type: node.type, name: node.name },
    scheduledAt: at,
    input,
    notes: notes.map(mask),
    mask,
    maskValues,
    ...(jobTimeout > 0 ? { jobTimeoutMs: jobTimeout } : {}),
  };
}

export interface LocalExecuteOptions {
  executor: 'process' | 'docker';
  /** docker: run this image instead of the spec's image:tag. */
  image?: string;
  /** docker: `--network` (default none). */
  network?: string;
  timeoutMs: number;
  /** Where the timeout came from, for the message when it strikes (default `--timeout`). */
  timeoutFrom?: string;
  /** Write the input here and keep it; default a temp folder removed afterwards. */
  workdir?: string;
  signal: AbortSignal;
  /** Each line of output as it arrives, masked; `system` lines are the run's own. */
  onLine?: (stream: 'stdout' | 'stderr' | 'system', line: string) => void;
  /** How much of each stream the result keeps (default 1 MB). */
  keepBytes?: number;
}

export interface KeptOutput {
  text: string;
  /** Bytes left out past the cap. */
  cutBytes: number;
}

export interface LocalRunResult extends AttemptResult {
  durationMs: number;
  image: string;
  stdout: KeptOutput;
  stderr: KeptOutput;
  /** The work folder when it was kept (--workdir). */
  workDir?: string;
}

/**
 * What marks an in/ folder of `--workdir` as written by `plugin run`: only such a folder is
 * cleared by the next run. (Not `.env`: a folder of the user's may well hold one.)
 */
export const RUN_MARKER = '.optimus-plugin-run';
const MARKER_TEXT =
  'Written by `optimus plugin run`: this in/ folder is the input of its last run and is replaced by the next run into the same --workdir.\n';

const workdirError = (
  code: string,
  workdir: string,
  why: string,
  hint = 'pass --workdir a folder you can write to (it is created when missing)',
  category: 'usage' | 'io' = 'usage',
) => new OptimusError(code, `--workdir ${workdir}: ${why}`, { category, hint });

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** `stat` (symbolic links followed); undefined when the path or one of its parents is missing. */
function statOrUndefined(path: string, workdir: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw workdirError('WORKDIR_INVALID', workdir, `cannot read ${shown(path)}: ${(e as Error).message}`);
  }
}

/**
 * The folders of `dir` that are missing, outermost first, after checking that the nearest one
 * that exists is a writable folder. Missing ancestors are listed (and later made one by one)
 * because Node's recursive mkdir loops for ever where a file system refuses new folders (/proc).
 */
function missingFolders(dir: string, workdir: string): string[] {
  const missing: string[] = [];
  let at = dir;
  for (;;) {
    const st = statOrUndefined(at, workdir);
    if (st) {
      if (!st.isDirectory())
        throw workdirError('WORKDIR_INVALID', workdir, `${shown(at)} is a file, not a folder`);
      if (missing.length) {
        try {
          accessSync(at, constants.W_OK);
        } catch {
          throw workdirError(
            'WORKDIR_INVALID',
            workdir,
            `cannot create a folder in ${shown(at)}: permission denied`,
          );
        }
      }
      return missing.reverse();
    }
    if (lstatOrUndefined(at)?.isSymbolicLink())
      throw workdirError(
        'WORKDIR_INVALID',
        workdir,
        `${shown(at)} is a symbolic link to something that does not exist`,
        'point the link at a folder, or pass --workdir another path',
      );
    missing.push(at);
    const parent = dirname(at);
    if (parent === at) return missing.reverse();
    at = parent;
  }
}

/** Makes `dir` and its missing parents, one at a time. */
function makeWorkdir(dir: string, workdir: string): void {
  missingFolders(dir, workdir);
  try {
    makeFolders(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const folder = (e as NodeJS.ErrnoException).path ?? dir;
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EROFS'
          ? 'the file system is read-only'
          : code === 'ENOENT'
            ? 'the file system there does not take new folders'
            : (e as Error).message;
    throw workdirError('WORKDIR_INVALID', workdir, `cannot create ${shown(folder)}: ${why}`, undefined, 'io');
  }
}

/** in/ of the work folder may be cleared: missing, or written by an earlier `plugin run`. */
function checkInFolder(dir: string): void {
  const inDir = join(dir, 'in');
  const st = lstatOrUndefined(inDir);
  if (!st) return;
  if (st.isDirectory() && lstatOrUndefined(join(inDir, RUN_MARKER))?.isFile()) return;
  throw new OptimusError(
    'WORKDIR_IN_USE',
    `${shown(inDir)} exists and was not written by \`optimus plugin run\`: it is left alone`,
    {
      category: 'usage',
      hint: 'pass --workdir a new or empty folder, or one an earlier `plugin run` wrote',
    },
  );
}

/**
 * Checks `--workdir` before anything is rendered or printed: a folder, or a path where one can be
 * made, whose in/ (if any) an earlier run wrote. Returns it absolute.
 */
export function checkWorkdir(workdir: string): string {
  const dir = resolve(workdir);
  missingFolders(dir, workdir);
  if (statOrUndefined(dir, workdir)) checkInFolder(dir);
  return dir;
}

/**
 * While a run is under way: if the CLI exits without returning here (a closed pipe's
 * process.exit, an uncaught error), kill what it started and remove the temp work folder, which
 * holds the secrets in in/.secret. 'exit' handlers run only synchronous code, which all this is.
 */
function exitGuard(workDir: string, temporary: boolean) {
  let group: number | undefined;
  let container: string | undefined;
  const onExit = () => {
    if (group !== undefined)
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // Already gone.
      }
    // `docker run --rm`: killing the container removes it.
    if (container !== undefined)
      spawnSync('docker', ['kill', container], { stdio: 'ignore', timeout: 10_000 });
    if (temporary) rmSync(workDir, { recursive: true, force: true });
  };
  process.on('exit', onExit);
  return {
    onHandle(handle: unknown) {
      const h = handle as { kind?: unknown; pid?: unknown; container?: unknown } | null;
      if (h?.kind === 'process' && typeof h.pid === 'number' && h.pid > 1) group = h.pid;
      if (h?.kind === 'docker' && typeof h.container === 'string') container = h.container;
    },
    done: () => process.off('exit', onExit),
  };
}

/** The executors' messages point at server settings; a local run has flags for those. */
function localError(
  error: string | undefined,
  r: AttemptResult,
  timeoutMs: number,
  timeoutFrom: string,
): string | undefined {
  if (r.timedOut) return `timed out after ${formatDuration(timeoutMs)} (${timeoutFrom})`;
  return error
    ?.replace('set scheduler.docker.host', 'set DOCKER_HOST')
    .replace('use scheduler.executor: process', 'use --executor process')
    .replace('set scheduler.executor: docker', 'pass --executor docker');
}

/** A new temp work folder. */
function tempWorkDir(): string {
  try {
    return mkdtempSync(join(tmpdir(), 'optimus-plugin-run-'));
  } catch (e) {
    throw new OptimusError(
      'RUN_INPUT_WRITE_FAILED',
      `cannot create a work folder in ${shown(tmpdir())}: ${(e as Error).message}`,
      { category: 'io', hint: 'set TMPDIR to a folder you can write to, or pass --workdir' },
    );
  }
}

/** Writes the input into the work folder and runs the node's entrypoint with the server's executor. */
export async function executeLocalRun(p: PreparedRun, o: LocalExecuteOptions): Promise<LocalRunResult> {
  const keep = o.keepBytes ?? KEPT_OUTPUT_BYTES;
  const kept = { stdout: { text: '', cutBytes: 0 }, stderr: { text: '', cutBytes: 0 } };
  const keptBytes = { stdout: 0, stderr: 0 };
  const hold = (stream: 'stdout' | 'stderr', line: string) => {
    const k = kept[stream];
    const bytes = Buffer.byteLength(line) + 1;
    if (k.cutBytes === 0 && keptBytes[stream] + bytes <= keep) {
      k.text += `${line}\n`;
      keptBytes[stream] += bytes;
    } else k.cutBytes += bytes;
  };
  const capture = createLogCapture({
    runId: 0,
    node: p.node.name,
    attempt: 1,
    secrets: p.maskValues,
    // Every line goes out as soon as it is complete: a local run is watched live.
    flushLines: 1,
    maxBytes: Number.POSITIVE_INFINITY,
    write: async (lines) => {
      for (const l of lines) {
        if (l.stream !== 'system') hold(l.stream, l.line);
        o.onLine?.(l.stream, l.line);
      }
    },
  });

  const image = o.executor === 'docker' && o.image ? o.image : p.input.plugin.image;
  // Made and guarded in one synchronous step: an exit between the two would leave the folder.
  const workDir = o.workdir ? resolve(o.workdir) : tempWorkDir();
  const guard = exitGuard(workDir, !o.workdir);
  try {
    if (o.workdir) {
      makeWorkdir(workDir, o.workdir);
      // in/ is the input of this run only: what an earlier run left there would be read as input.
      // Only an in/ that a run wrote (it holds the marker) is removed: never a folder of the user's.
      checkInFolder(workDir);
    }
    try {
      if (o.workdir) {
        const inDir = join(workDir, 'in');
        await rm(inDir, { recursive: true, force: true });
        await mkdir(inDir, { mode: 0o755 });
        // Before the input: a run stopped halfway leaves an in/ the next run may still replace.
        await writeFile(join(inDir, RUN_MARKER), MARKER_TEXT);
      }
      await writeRunInput(workDir, p.input);
    } catch (e) {
      if (isOptimusError(e))
        throw new OptimusError(
          e.code,
          `cannot write the input to ${shown(workDir)}: ${e.message}`,
          e.hint ? { category: e.category, hint: e.hint } : { category: e.category },
        );
      const code = (e as NodeJS.ErrnoException).code;
      if (typeof code === 'string')
        throw new OptimusError(
          'RUN_INPUT_WRITE_FAILED',
          `cannot write the input to ${shown(workDir)}: ${(e as Error).message}`,
          {
            category: 'io',
            hint: o.workdir
              ? 'pass --workdir a folder you can write to'
              : 'check the space and permissions of the temp folder ($TMPDIR)',
          },
        );
      throw e;
    }
    const executor: Executor =
      o.executor === 'docker'
        ? createDockerExecutor({ network: o.network ?? 'none', pullPolicy: 'missing' })
        : createProcessExecutor();
    const started = performance.now();
    const r = await executor.run({
      // The container's name holds the run id: this process's pid keeps two local runs of one node apart.
      runId: process.pid,
      node: p.node.name,
      attempt: 1,
      image,
      ...(p.input.plugin.entrypoint ? { entrypoint: p.input.plugin.entrypoint } : {}),
      workDir,
      env: { ...p.input.envs, ...p.input.secrets },
      timeoutMs: o.timeoutMs,
      signal: o.signal,
      onOutput: (stream, chunk) => capture.output(stream, chunk),
      onHandle: guard.onHandle,
    });
    const durationMs = Math.round(performance.now() - started);
    await capture.close();
    const error = localError(r.error, r, o.timeoutMs, o.timeoutFrom ?? '--timeout');
    return {
      ...r,
      ...(error !== undefined ? { error: p.mask(error) } : {}),
      durationMs,
      image,
      stdout: kept.stdout,
      stderr: kept.stderr,
      ...(o.workdir ? { workDir } : {}),
    };
  } finally {
    await capture.close();
    if (!o.workdir) await rm(workDir, { recursive: true, force: true });
    guard.done();
  }
}
