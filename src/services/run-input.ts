/**
 * Run input: what one node (the task or one hook) of a deployed job receives when it runs at a
 * scheduled time, as upstream Optimus's JobRunInput defines it. The server renders it for the
 * `run_input` route and the embedded runner calls it in-process.
 *
 *   envs     the node's config rendered (configs that do not touch secrets), plus DSTART, DEND,
 *            EXECUTION_TIME, JOB_DESTINATION, JOB_NAME, PROJECT, NAMESPACE, JOB_LABELS, GLOBAL__*
 *            and, for hooks, TASK__* from the task's rendered config
 *   secrets  configs whose raw text reads a secret (or a task config that does), rendered
 *   files    the job's assets rendered (`.gtpl` partials are not outputs)
 *
 * Precedence of envs: JOB_NAME, PROJECT, NAMESPACE, JOB_LABELS, GLOBAL__* and TASK__* are the base
 * and the node's own config overrides them (upstream sets JOB_NAME and JOB_LABELS on the pod, and
 * its .env, sourced later, wins; a plugin's own PROJECT config must not be lost); DSTART, DEND,
 * EXECUTION_TIME and JOB_DESTINATION override the config, as upstream's compiler does.
 *
 * Where this is stricter than upstream, a node fails clearly instead of running on a wrong input:
 * a secret that is not set (upstream renders "<no value>"), a config key that is no shell variable
 * name, an asset name that would land outside `in/`, a value holding NUL.
 *
 * Without `withSecrets` no secret is decrypted: secret configs, TASK__ copies of secret task
 * configs and assets that read secrets are left out, and their names are listed in
 * `secretsWithheld`. Secrets still have to exist, so a caller learns what the node would miss.
 */

import { constants } from 'node:fs';
import { lstat, mkdir, open, realpath } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Header, Pax } from 'tar';
import { effectiveConfig } from '../core/configs.js';
import { type ErrorCategory, OptimusError } from '../core/errors.js';
import type { HookSpec, JobSpec } from '../core/job.js';
import { assetNameProblem, quote } from '../core/names.js';
import { type Entrypoint, imageRef, type Plugin } from '../core/plugin.js';
import { secretNames } from '../core/secret-ref.js';
import {
  isPartial,
  renderAssets,
  renderString,
  TemplateError,
  type TemplateWarning,
} from '../core/template/index.js';
import { computeWindow, formatWindowTime } from '../core/window-compute.js';
import { loadJobValue } from '../spec/job-spec.js';
import type { JobRecord, ProjectRecord, Store } from '../store/store.js';
import type { SecretCipher } from './secret-cipher.js';

export interface RunInputRequest {
  projectName: string;
  jobName: string;
  scheduledAt: Date;
  instanceType: 'task' | 'hook';
  /** Task: the task plugin's name; hook: the hook's name (upstream's `__dash__` for `-` accepted). */
  instanceName: string;
  /** EXECUTION_TIME; default scheduledAt. */
  executedAt?: Date;
  /** false: no secret is decrypted; `secrets` is empty and the names are in `secretsWithheld`. */
  withSecrets: boolean;
}

export interface RunInput {
  envs: Record<string, string>;
  files: Record<string, string>;
  secrets: Record<string, string>;
  /** Env names (and `in/<file>` for assets) left out because secrets were not asked for. */
  secretsWithheld: string[];
  /** "<no value>" printed and other lenient template outcomes, each with where (config key or asset:line). */
  warnings: string[];
  /**
   * Every secret value this input holds (the stored secrets it read and the rendered secret
   * configs), longest first: what the runner masks in logs and messages.
   */
  maskValues: string[];
  job: JobRecord;
  plugin: { name: string; image: string; entrypoint?: Entrypoint };
  window: { start: Date; end: Date; location: string };
}

/** The plugins the server serves: a registry (read once per call) or a plain map. */
export type PluginSource =
  | ReadonlyMap<string, Plugin>
  | { current(): { readonly plugins: ReadonlyMap<string, Plugin> } };

export interface RunInputDeps {
  store: Store;
  plugins: PluginSource;
  cipher: SecretCipher;
}

/**
 * What `renderNodeInput` needs: the job and its context as the store holds them, read by the
 * caller. Rendering itself reads nothing, so a deploy can render jobs it has not stored yet.
 */
export interface NodeRenderInput {
  projectName: string;
  job: Pick<JobRecord, 'name' | 'namespaceName' | 'assets' | 'runGraph'>;
  spec: JobSpec;
  projectConfig: Record<string, string>;
  namespaceConfig: Record<string, string>;
  windowPresets: ProjectRecord['windowPresets'];
  plugins: ReadonlyMap<string, Plugin>;
  instanceType: 'task' | 'hook';
  instanceName: string;
  scheduledAt: Date;
  executedAt?: Date;
  /**
   * true: every config and asset reading a secret is rendered; false: none (withheld); a function:
   * only the node's own configs it accepts (assets reading secrets and TASK__ copies of secret task
   * configs are withheld). Only secrets that are rendered have to be set.
   */
  withSecrets: boolean | ((configKey: string) => boolean);
  /** The stored secrets visible to the job; `read` is called only for a secret that is rendered. */
  secrets: { has(name: string): boolean; read(name: string): string };
}

/** A node's input without the stored job record. */
export type RenderedNode = Omit<RunInput, 'job'>;

/** An OptimusError that can say which field of the job or request it is about. */
export class RunInputError extends OptimusError {
  /** e.g. `task.config.TABLE`, `hooks[1].config.X`, `assets.query.sql`. */
  readonly field: string | undefined;
  constructor(
    code: string,
    message: string,
    opts: { category?: ErrorCategory; hint?: string; field?: string; cause?: unknown } = {},
  ) {
    super(code, message, opts);
    this.name = 'RunInputError';
    this.field = opts.field;
  }
}

/** A variable `sh` can hold: what `KEY='value'` lines in .env and .secret need. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A config's raw text reads secrets (upstream tests strings.Contains(".secret.")). */
const READS_SECRET = /\.secret\b/;
/** `.secret.NAME` anywhere inside a template action, not only as its first word. */
/** Files `in/` holds besides the assets. */
const RESERVED_FILES = new Set(['.env', '.secret']);
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** An RFC 3339 date-time with a zone (`2026-03-01T00:00:00Z`, `…+07:00`); undefined when it is not one or not a real time. */
export function parseRfc3339(text: string): Date | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const frac = m[7] ? Number(m[7]) : 0;
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59) return undefined;
  let offsetMin = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(y, mo - 1, d);
  utc.setUTCHours(h, mi, s, Math.floor(frac * 1000));
  return new Date(utc.getTime() - offsetMin * 60_000);
}

/** `task`/`hook`, or upstream's `TYPE_TASK`/`TYPE_HOOK`, in any case; undefined otherwise. */
export function normaliseInstanceType(text: string): 'task' | 'hook' | undefined {
  const t = text.toLowerCase().replace(/^type_/, '');
  return t === 'task' || t === 'hook' ? t : undefined;
}

function pluginMap(source: PluginSource): ReadonlyMap<string, Plugin> {
  return 'current' in source ? source.current().plugins : source;
}

type Instance =
  | { kind: 'task'; plugin: Plugin; version: string | undefined }
  | { kind: 'hook'; plugin: Plugin; version: string | undefined; hook: HookSpec; index: number };

function upperKeys(config: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k.toUpperCase(), v]));
}

export async function compileRunInput(deps: RunInputDeps, req: RunInputRequest): Promise<RunInput> {
  const { store } = deps;
  const job = await store.findJob(req.projectName, req.jobName);
  if (!job)
    throw new RunInputError(
      'JOB_NOT_FOUND',
      `job ${quote(req.jobName)} is not deployed in project ${quote(req.projectName)}`,
      {
        category: 'not_found',
        hint: 'deploy it with `optimus deploy`; `optimus job inspect <job>` suggests the nearest names',
      },
    );
  const loaded = loadJobValue(job.spec, []);
  const spec = loaded.spec;
  if (!spec) {
    const first = loaded.problems.find((p) => p.severity === 'error');
    throw new RunInputError(
      'JOB_INVALID',
      `the deployed job ${quote(job.name)} cannot be read${first ? `: ${first.path ? `${first.path}: ` : ''}${first.message}` : ''}`,
      { hint: 'deploy the job again with this version of optimus' },
    );
  }
  const [project, namespace, visible] = await Promise.all([
    store.getProject(req.projectName),
    store.getNamespace(req.projectName, job.namespaceName),
    store.secretsVisibleTo(req.projectName, job.namespaceName),
  ]);
  const stored = new Map(visible.map((s) => [s.name, s]));
  const rendered = renderNodeInput({
    projectName: req.projectName,
    job,
    spec,
    projectConfig: project?.config ?? {},
    namespaceConfig: namespace?.config ?? {},
    windowPresets: project?.windowPresets ?? null,
    plugins: pluginMap(deps.plugins),
    instanceType: req.instanceType,
    instanceName: req.instanceName,
    scheduledAt: req.scheduledAt,
    ...(req.executedAt ? { executedAt: req.executedAt } : {}),
    withSecrets: req.withSecrets,
    secrets: {
      has: (name) => stored.has(name),
      read: (name) => deps.cipher.decrypt(stored.get(name)!.ciphertext).toString('utf8'),
    },
  });
  return { ...rendered, job };
}

/** A node's input rendered from a job spec and its context; pure apart from `secrets.read`. */
export function renderNodeInput(input: NodeRenderInput): RenderedNode {
  const { job, spec, plugins } = input;
  const req = input;
  const taskPlugin = requirePlugin(plugins, spec.task.name, `the task of job ${quote(job.name)}`);
  const instance = findInstance(spec, job, plugins, taskPlugin, req);
  const version = instance.version === undefined || instance.version === '' ? 'default' : instance.version;
  const pv = instance.plugin.versions[version];
  if (!pv)
    throw new RunInputError(
      'PLUGIN_VERSION_UNKNOWN',
      `plugin ${quote(instance.plugin.name)} has no version ${quote(version)}`,
      {
        field: instance.kind === 'task' ? 'task.version' : `hooks[${instance.index}].version`,
        hint: `versions this server has: ${Object.keys(instance.plugin.versions).join(', ')}`,
      },
    );

  const window = computeWindow(
    {
      version: spec.version,
      ...(spec.task.window ? { window: spec.task.window } : {}),
      ...(spec.schedule.interval ? { interval: spec.schedule.interval } : {}),
      presets: input.windowPresets,
    },
    req.scheduledAt,
  );

  const taskConfig = effectiveConfig(taskPlugin, spec.task.config);
  const ownConfig =
    instance.kind === 'task' ? taskConfig : effectiveConfig(instance.plugin, instance.hook.config);
  const ownPath = instance.kind === 'task' ? 'task.config' : `hooks[${instance.index}].config`;
  checkEnvNames(ownConfig, ownPath);
  if (instance.kind === 'hook') checkEnvNames(taskConfig, 'task.config');
  for (const name of Object.keys(job.assets)) checkAssetName(name);

  // Every secret this node's input reads must be set: the task's configs feed a hook's TASK__*.
  const reads: { name: string; field: string }[] = [];
  const collect = (config: Record<string, string>, path: string) => {
    for (const [k, v] of Object.entries(config))
      for (const name of secretNames(v)) reads.push({ name, field: `${path}.${k}` });
  };
  const { withSecrets } = input;
  if (typeof withSecrets === 'function') {
    // Only the node's own configs that are rendered read secrets.
    const own = Object.fromEntries(Object.entries(ownConfig).filter(([k]) => withSecrets(k)));
    collect(own, ownPath);
  } else {
    collect(taskConfig, 'task.config');
    if (instance.kind === 'hook') collect(ownConfig, ownPath);
    for (const [file, text] of Object.entries(job.assets))
      for (const name of secretNames(text)) reads.push({ name, field: `assets.${file}` });
  }
  const missing = reads.filter(
    (r, i) =>
      !input.secrets.has(r.name) && reads.findIndex((o) => o.name === r.name && o.field === r.field) === i,
  );
  if (missing.length) {
    const names = [...new Set(missing.map((m) => m.name))];
    throw new RunInputError(
      'SECRET_MISSING',
      `${missing.map((m) => `${m.field} uses secret ${m.name}`).join('; ')}, which ${names.length === 1 ? 'is' : 'are'} not set for namespace ${quote(job.namespaceName)} of project ${quote(req.projectName)}`,
      {
        field: missing[0]!.field,
        hint: `set ${names.length === 1 ? 'it' : 'them'} with ${names.map((n) => `\`optimus secret set ${n}\``).join(', ')}`,
      },
    );
  }
  const secretValues: Record<string, string> = {};
  if (withSecrets !== false) for (const { name } of reads) secretValues[name] ??= input.secrets.read(name);

  const mask = createMasker(Object.values(secretValues));
  try {
    return assemble({
      req,
      job,
      spec,
      project: { config: input.projectConfig },
      namespace: { config: input.namespaceConfig },
      instance,
      taskPlugin,
      window,
      taskConfig,
      ownConfig,
      ownPath,
      secretValues,
      mask,
      plugin: {
        name: instance.plugin.name,
        image: imageRef(pv),
        ...(pv.entrypoint ? { entrypoint: pv.entrypoint } : {}),
      },
    });
  } catch (e) {
    // A template error may quote the value it failed on, and that value may hold a secret.
    if (e instanceof TemplateError)
      throw new RunInputError(e.code, mask.text(e.message), {
        ...(e.hint ? { hint: e.hint } : {}),
        ...(e.template ? { field: e.template in job.assets ? `assets.${e.template}` : e.template } : {}),
      });
    throw e;
  }
}

function requirePlugin(plugins: ReadonlyMap<string, Plugin>, name: string, role: string): Plugin {
  const plugin = plugins.get(name);
  if (plugin) return plugin;
  throw new RunInputError(
    'PLUGIN_NOT_INSTALLED',
    `plugin ${quote(name)} (${role}) is not installed on this server`,
    {
      hint: 'add it to plugins.list of the server config and install it (serve --install-plugins, or `optimus plugin install` then a reload)',
    },
  );
}

function findInstance(
  spec: JobSpec,
  job: NodeRenderInput['job'],
  plugins: ReadonlyMap<string, Plugin>,
  taskPlugin: Plugin,
  req: Pick<NodeRenderInput, 'instanceType' | 'instanceName'>,
): Instance {
  // Upstream's Airflow DAGs pass hook names with `-` spelled `__dash__`.
  const name = req.instanceName.replaceAll('__dash__', '-');
  if (req.instanceType === 'task') {
    if (name !== spec.task.name)
      throw new RunInputError(
        'INSTANCE_NOT_FOUND',
        `the task of job ${quote(job.name)} is ${quote(spec.task.name)}, not ${quote(name)}`,
        { category: 'not_found', field: 'instance_name', hint: `ask for instance ${spec.task.name}` },
      );
    return { kind: 'task', plugin: taskPlugin, version: spec.task.version };
  }
  const index = spec.hooks.findIndex((h) => h.name === name);
  if (index < 0) {
    const names = spec.hooks.map((h) => h.name);
    throw new RunInputError('INSTANCE_NOT_FOUND', `job ${quote(job.name)} has no hook ${quote(name)}`, {
      category: 'not_found',
      field: 'instance_name',
      hint: names.length ? `hooks of this job: ${names.join(', ')}` : 'this job has no hooks',
    });
  }
  const hook = spec.hooks[index]!;
  // The run graph holds each hook's plugin as deploy resolved it (legacy `type: post` forms included).
  const graph = Array.isArray(job.runGraph) ? (job.runGraph as { name?: unknown; type?: unknown }[]) : [];
  const node = graph.find((n) => n && typeof n === 'object' && n.name === name);
  const type = typeof node?.type === 'string' ? node.type : hook.type;
  const plugin = requirePlugin(plugins, type, `hook ${quote(name)} of job ${quote(job.name)}`);
  return { kind: 'hook', plugin, version: hook.version, hook, index };
}

function checkEnvNames(config: Record<string, string>, path: string): void {
  for (const key of Object.keys(config))
    if (!ENV_NAME.test(key))
      throw new RunInputError(
        'CONFIG_NAME_INVALID',
        `config key ${quote(key)} cannot be an environment variable of the node`,
        {
          field: `${path}.${key}`,
          hint: 'name configs with letters, digits and _ (not starting with a digit)',
        },
      );
}

function checkAssetName(name: string): void {
  const problem =
    assetNameProblem(name) ??
    (RESERVED_FILES.has(name) ? `in/${name} is where the node's variables are written` : undefined);
  if (problem)
    throw new RunInputError(
      'ASSET_NAME_INVALID',
      `asset ${quote(name)} cannot be written under in/: ${problem}`,
      {
        field: `assets.${quote(name, 80).slice(1, -1)}`,
        hint: 'rename the file under assets/ and deploy again',
      },
    );
}

interface Masker {
  values: string[];
  text(s: string): string;
}

/**
 * Replaces secret values in text, and each line of a multi-line one; longest first, so a value
 * containing another goes whole. Pieces under 4 characters are not masked in text (as in logs):
 * masking every "a" would garble a message and tell more than it hides.
 */
function createMasker(values: readonly string[]): Masker {
  const longestFirst = (xs: Iterable<string>) => [...new Set(xs)].sort((a, b) => b.length - a.length);
  const kept = longestFirst(values.filter((v) => v.length > 0));
  const pieces = longestFirst(kept.flatMap((v) => [v, ...v.split('\n')]).filter((v) => v.length >= 4));
  return {
    values: kept,
    text: (s) => pieces.reduce((acc, v) => acc.split(v).join('****'), s),
  };
}

interface AssembleInput {
  req: NodeRenderInput;
  job: NodeRenderInput['job'];
  spec: JobSpec;
  project: { config: Record<string, string> } | undefined;
  namespace: { config: Record<string, string> } | undefined;
  instance: Instance;
  taskPlugin: Plugin;
  window: { start: Date; end: Date; location: string };
  taskConfig: Record<string, string>;
  ownConfig: Record<string, string>;
  ownPath: string;
  secretValues: Record<string, string>;
  mask: Masker;
  plugin: RunInput['plugin'];
}

function assemble(a: AssembleInput): RenderedNode {
  const { req, job, spec, instance, window, mask } = a;
  const allSecrets = req.withSecrets === true;
  // Whether a secret-reading config of the node itself is rendered.
  const ownWanted = (k: string) =>
    req.withSecrets === true || (typeof req.withSecrets === 'function' && req.withSecrets(k));
  const warnings: string[] = [];
  const withheld: string[] = [];
  const note = (ws: readonly TemplateWarning[]) => {
    for (const w of ws) warnings.push(mask.text(`${w.template}:${w.line}:${w.column}: ${w.message}`));
  };
  const now = req.executedAt ?? req.scheduledAt;
  const sys = {
    DSTART: formatWindowTime(window.start, window.location),
    DEND: formatWindowTime(window.end, window.location),
    EXECUTION_TIME: formatWindowTime(now, 'UTC'),
  };
  const globals = { ...upperKeys(a.project?.config ?? {}), ...upperKeys(a.namespace?.config ?? {}) };
  const globalEnvs: Record<string, string> = {};
  for (const [k, v] of Object.entries(globals)) {
    // Templates still read such a key as .proj.KEY; only sh cannot hold it.
    if (ENV_NAME.test(k)) globalEnvs[`GLOBAL__${k}`] = v;
    else warnings.push(`project or namespace config ${quote(k)} is no variable name: GLOBAL__ left out`);
  }
  const labels = Object.entries(spec.labels ?? {})
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const identity = {
    JOB_NAME: job.name,
    PROJECT: req.projectName,
    NAMESPACE: job.namespaceName,
    JOB_LABELS: labels,
  };
  const context = (extra: Record<string, unknown>, inst: Record<string, string>) => ({
    ...globalEnvs,
    ...sys,
    ...extra,
    proj: globals,
    secret: a.secretValues,
    inst: { ...identity, ...sys, ...inst },
  });
  const render = (
    config: Record<string, string>,
    path: string,
    ctx: unknown,
    keys: readonly string[],
  ): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const key of keys) {
      const r = renderString(config[key]!, ctx, { name: `${path}.${key}`, now });
      note(r.warnings);
      out[key] = r.output;
    }
    return out;
  };

  // The task's config: keys that read JOB_DESTINATION wait for it, and it is made from the others.
  const taskSecret = new Set(Object.keys(a.taskConfig).filter((k) => READS_SECRET.test(a.taskConfig[k]!)));
  const taskKeys = Object.keys(a.taskConfig).filter(
    (k) => !taskSecret.has(k) || (instance.kind === 'task' ? ownWanted(k) : allSecrets),
  );
  const early = taskKeys.filter((k) => !a.taskConfig[k]!.includes('JOB_DESTINATION'));
  const late = taskKeys.filter((k) => a.taskConfig[k]!.includes('JOB_DESTINATION'));
  const task = render(a.taskConfig, 'task.config', context({}, {}), early);
  const destination = jobDestination(
    a.taskPlugin,
    Object.fromEntries(Object.entries(task).filter(([k]) => !taskSecret.has(k))),
    now,
    note,
  );
  const destCtx = { JOB_DESTINATION: destination };
  Object.assign(task, render(a.taskConfig, 'task.config', context(destCtx, destCtx), late));

  let own: Record<string, string>;
  let ownSecret: Set<string>;
  let ctx: unknown;
  const base: Record<string, string> = { ...identity, ...globalEnvs };
  const baseSecrets: Record<string, string> = {};
  if (instance.kind === 'task') {
    own = task;
    ownSecret = taskSecret;
    ctx = context(destCtx, destCtx);
    for (const k of Object.keys(a.taskConfig)) if (!taskKeys.includes(k)) withheld.push(k);
  } else {
    const taskVars = Object.fromEntries(Object.entries(task).map(([k, v]) => [`TASK__${k}`, v]));
    ctx = context({ ...destCtx, ...taskVars, task }, destCtx);
    for (const [k, v] of Object.entries(task)) (taskSecret.has(k) ? baseSecrets : base)[`TASK__${k}`] = v;
    for (const k of taskSecret) if (!taskKeys.includes(k)) withheld.push(`TASK__${k}`);
    // A hook config that copies a secret task config is as secret as that config.
    const readsTaskSecret = (raw: string) =>
      [...taskSecret].some((k) => raw.includes(`TASK__${k}`) || raw.includes(`.task.${k}`));
    ownSecret = new Set(
      Object.keys(a.ownConfig).filter(
        (k) => READS_SECRET.test(a.ownConfig[k]!) || readsTaskSecret(a.ownConfig[k]!),
      ),
    );
    const keys = Object.keys(a.ownConfig).filter((k) => !ownSecret.has(k) || ownWanted(k));
    for (const k of Object.keys(a.ownConfig)) if (!keys.includes(k)) withheld.push(k);
    own = render(a.ownConfig, a.ownPath, ctx, keys);
  }

  const envs: Record<string, string> = { ...base };
  const secrets: Record<string, string> = { ...baseSecrets };
  for (const [k, v] of Object.entries(own)) {
    delete envs[k];
    delete secrets[k];
    (ownSecret.has(k) ? secrets : envs)[k] = v;
  }
  for (const [k, v] of Object.entries({ ...sys, JOB_DESTINATION: destination })) {
    delete secrets[k];
    envs[k] = v;
  }

  const files = renderFiles(job.assets, ctx, allSecrets, now, note, withheld);
  for (const [where, map] of [
    ['env', envs],
    ['secret', secrets],
  ] as const)
    for (const [k, v] of Object.entries(map))
      if (v.includes('\0'))
        throw new RunInputError(
          'RUN_INPUT_VALUE_INVALID',
          `the ${where} variable ${k} renders a NUL character, which no environment variable can hold`,
          {
            field: k.startsWith('TASK__') ? `task.config.${k.slice(6)}` : `${a.ownPath}.${k}`,
            hint: 'remove the NUL character from the config or what it reads',
          },
        );
  const maskValues = createMasker([...mask.values, ...Object.values(secrets)]).values;
  return {
    envs,
    files,
    secrets,
    secretsWithheld: [...new Set(withheld)].sort(),
    warnings,
    maskValues,
    plugin: a.plugin,
    window,
  };
}

/**
 * JOB_DESTINATION: the task plugin's destination_urn_template, each `<KEY>` read from the task's
 * rendered config as upstream does (`<KEY>` becomes `{{ .KEY }}`). Secret configs are not offered:
 * the URN is an env, and .env is printed in logs. Hooks get the task's destination too.
 */
function jobDestination(
  taskPlugin: Plugin,
  config: Record<string, string>,
  now: Date,
  note: (ws: readonly TemplateWarning[]) => void,
): string {
  const template = taskPlugin.destinationUrnTemplate;
  if (!template) return '';
  const text = template.replace(/<([A-Za-z_][A-Za-z0-9_]*)>/g, '{{ .$1 }}');
  const r = renderString(text, config, {
    name: `plugin ${taskPlugin.name} destination_urn_template`,
    now,
  });
  note(r.warnings);
  return r.output;
}

function renderFiles(
  assets: Record<string, string>,
  ctx: unknown,
  withSecrets: boolean,
  now: Date,
  note: (ws: readonly TemplateWarning[]) => void,
  withheld: string[],
): Record<string, string> {
  let chosen = assets;
  if (!withSecrets) {
    // Without secrets an asset that reads one is left out rather than written with "<no value>"
    // in it; so is a file calling a template when a partial reads secrets.
    const partialReads = Object.entries(assets).some(([n, t]) => isPartial(n) && READS_SECRET.test(t));
    const callsTemplate = /\{\{-?\s*(?:template|block)\b/;
    chosen = {};
    for (const [name, text] of Object.entries(assets)) {
      const secret =
        !isPartial(name) && (READS_SECRET.test(text) || (partialReads && callsTemplate.test(text)));
      if (secret) withheld.push(`in/${name}`);
      else chosen[name] = text;
    }
  }
  const r = renderAssets(chosen, ctx, { now });
  note(r.warnings);
  return r.files;
}

/** `KEY='value'` lines, sorted, `'` written as `'\''`: `sh` reads every value back byte for byte. */
export function envFileText(vars: Readonly<Record<string, string>>): string {
  return Object.keys(vars)
    .sort()
    .map((k) => `${k}='${vars[k]!.replaceAll("'", "'\\''")}'\n`)
    .join('');
}

/** Refuses what would not land as plain files under `in/`, or not be read back by `sh`. */
function checkWritable(input: Pick<RunInput, 'envs' | 'files' | 'secrets'>): void {
  for (const name of Object.keys(input.files)) checkAssetName(name);
  for (const [kind, vars] of [
    ['.env', input.envs],
    ['.secret', input.secrets],
  ] as const) {
    for (const [k, v] of Object.entries(vars)) {
      if (!ENV_NAME.test(k))
        throw new RunInputError('RUN_INPUT_NAME_INVALID', `${quote(k)} cannot be a variable in in/${kind}`, {
          field: k,
          hint: 'variable names are letters, digits and _ (not starting with a digit)',
        });
      if (v.includes('\0'))
        throw new RunInputError(
          'RUN_INPUT_VALUE_INVALID',
          `variable ${k} of in/${kind} holds a NUL character`,
          {
            field: k,
          },
        );
    }
  }
}

/**
 * Writes `dir/in/<file>` for every file, `dir/in/.env` and `dir/in/.secret` (mode 0600, both always
 * written so that sourcing them never fails). Existing files are replaced; a symbolic link anywhere
 * under `in/` (left in a reused output folder) is refused rather than followed.
 */
export async function writeRunInput(
  dir: string,
  input: Pick<RunInput, 'envs' | 'files' | 'secrets'>,
): Promise<void> {
  checkWritable(input);
  const inDir = join(resolve(dir), 'in');
  await mkdir(resolve(dir), { recursive: true });
  await ensureDir(inDir);
  const root = await realpath(inDir);
  for (const [name, content] of Object.entries(input.files)) {
    const parts = name.split('/');
    let parent = root;
    for (const part of parts.slice(0, -1)) {
      parent = join(parent, part);
      await ensureDir(parent);
    }
    const target = join(parent, parts[parts.length - 1]!);
    if (!target.startsWith(root + sep)) throw escaping(name);
    await writeNoFollow(target, content, 0o644);
  }
  await writeNoFollow(join(root, '.env'), envFileText(input.envs), 0o600);
  await writeNoFollow(join(root, '.secret'), envFileText(input.secrets), 0o600);
}

function escaping(name: string): RunInputError {
  return new RunInputError('ASSET_NAME_INVALID', `asset ${quote(name)} would be written outside in/`, {
    field: `files.${name}`,
  });
}

async function ensureDir(path: string): Promise<void> {
  const st = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (!st) {
    await mkdir(path, { mode: 0o755 });
    return;
  }
  if (!st.isDirectory())
    throw new RunInputError(
      'RUN_INPUT_PATH_TAKEN',
      `${path} exists and is not a folder${st.isSymbolicLink() ? ' (a symbolic link is not followed)' : ''}`,
      { category: 'io', hint: 'write the run input into an empty folder' },
    );
}

async function writeNoFollow(path: string, content: string, mode: number): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
      mode,
    );
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EISDIR')
      throw new RunInputError('RUN_INPUT_PATH_TAKEN', `${path} exists and is not a plain file`, {
        category: 'io',
        hint: 'write the run input into an empty folder',
      });
    throw e;
  }
  try {
    // An existing file keeps its mode on open: set it, so .secret is never left readable by others.
    await handle.chmod(mode);
    await handle.writeFile(content, 'utf8');
  } finally {
    await handle.close();
  }
}

/**
 * The same input as a tar of `in/` (folders, files, `in/.env`, `in/.secret`), so a container with
 * only `sh`, `wget` and `tar` can fetch and unpack it. Long paths get a PAX header, as GNU tar,
 * busybox tar and node-tar read them.
 */
export function runInputTar(input: Pick<RunInput, 'envs' | 'files' | 'secrets'>, mtime = new Date()): Buffer {
  checkWritable(input);
  const at = new Date(Math.floor(mtime.getTime() / 1000) * 1000);
  const blocks: Buffer[] = [];
  const entry = (path: string, mode: number, body?: Buffer) => {
    const data = {
      path,
      mode,
      uid: 0,
      gid: 0,
      size: body ? body.length : 0,
      mtime: at,
      type: body ? ('File' as const) : ('Directory' as const),
      uname: '',
      gname: '',
    };
    const header = Buffer.alloc(512);
    if (new Header(data).encode(header)) {
      blocks.push(new Pax(data).encode());
      // The plain header keeps a short form of the path for readers without PAX.
      new Header({ ...data, path: path.slice(0, 99) }).encode(header);
    }
    blocks.push(header);
    if (body) {
      blocks.push(body);
      if (body.length % 512) blocks.push(Buffer.alloc(512 - (body.length % 512)));
    }
  };
  const dirs = new Set<string>(['in/']);
  for (const name of Object.keys(input.files).sort()) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`in/${parts.slice(0, i).join('/')}/`);
  }
  for (const d of [...dirs].sort()) entry(d, 0o755);
  for (const name of Object.keys(input.files).sort())
    entry(`in/${name}`, 0o644, Buffer.from(input.files[name]!, 'utf8'));
  entry('in/.env', 0o600, Buffer.from(envFileText(input.envs), 'utf8'));
  entry('in/.secret', 0o600, Buffer.from(envFileText(input.secrets), 'utf8'));
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
