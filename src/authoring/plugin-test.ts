/**
 * `optimus plugin test`: a plugin author's checks, run before a plugin is packed or installed, in
 * the order a server would meet the problems: the build, the handshake (binary), the spec, its
 * questions' defaults, the sample job against the spec, the sample rendered as the server renders
 * it, the resolver on the sample, then the author's own expectations (tests/*.yaml).
 *
 * The sample may name other plugins (a hook plugin's sample has another plugin as its task): with
 * `--plugins <dir>` their specs are used, so their configs are checked too; without, a stand-in
 * takes their config as written, and the sample job check says which were not checked.
 *
 * Every check reports ok, failed (with a fix) or skipped (saying why: not applicable, or an earlier
 * check failed that it needs). This module returns the results; the command prints them, and the
 * docs test and e2e tests call it directly. A bad plugin never throws here: only a target that is
 * no plugin project at all does (PLUGIN_PROJECT_NOT_FOUND), or a --plugins folder with a broken
 * spec (PLUGINS_DIR_INVALID), both usage errors.
 */
import { resolve } from 'node:path';
import { distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { plural } from '../cli/output.js';
import { questionProblem } from '../core/configs.js';
import { isOptimusError } from '../core/errors.js';
import type { JobSpec } from '../core/job.js';
import { allQuestions, type Plugin, type Question } from '../core/plugin.js';
import { errorsOf, type PathSegment, type Problem, sortProblems, warningsOf } from '../core/problem.js';
import { formatDuration } from '../scheduler/process-executor.js';
import { RunInputError } from '../services/run-input.js';
import { checkLoadedJob } from '../services/validate-project.js';
import { jobFileSchema } from '../spec/job-schema.js';
import type { LoadedJob } from '../spec/job-spec.js';
import { pluginV1Schema, pluginV2Schema, pluginV3Schema } from '../spec/plugin-schema.js';
import { readYamlFile } from '../spec/yaml-source.js';
import {
  buildPluginProject,
  defaultScheduledAt,
  inferLocal,
  type LoadedSpec,
  loadPluginsOption,
  loadProjectSpec,
  loadSampleJob,
  locatePluginProject,
  otherPlugins,
  type PluginProject,
  renderLocal,
  SAMPLE_JOB,
  shown,
} from './project.js';
import {
  findTestFiles,
  loadTestsFile,
  placeholderSecrets,
  pluginInstance,
  runTestCase,
  TESTS_FILE_SCHEMA,
} from './test-cases.js';

/** The installer's handshake deadline: a plugin slower than this fails to install. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface PluginCheck {
  name: string;
  ok: boolean;
  /** The check did not run; `message` says why. A skipped check is not a failure. */
  skipped?: boolean;
  message: string;
  fix?: string;
  /** Further lines: each problem, warning or mismatch. */
  details?: string[];
}

export interface PluginTestReport {
  ok: boolean;
  plugin: string;
  kind: PluginProject['kind'];
  checks: PluginCheck[];
}

export interface PluginTestOptions {
  /** The sample job instead of <dir>/sample/job.yaml (relative to the working directory). */
  job?: string;
  handshakeTimeoutMs?: number;
  /** false: use the executable as built (`--no-build`). */
  build?: boolean;
  /** `--plugins <dir>`: specs of the other plugins the sample names (relative to the working directory). */
  plugins?: string;
}

const pass = (name: string, message: string, details?: string[]): PluginCheck => ({
  name,
  ok: true,
  message,
  ...(details?.length ? { details } : {}),
});
const fail = (name: string, message: string, fix: string | undefined, details?: string[]): PluginCheck => ({
  name,
  ok: false,
  message,
  ...(fix ? { fix } : {}),
  ...(details?.length ? { details } : {}),
});
const skip = (name: string, message: string): PluginCheck => ({ name, ok: true, skipped: true, message });

/** Runs every check on the plugin project at `target` (a folder, spec file or executable). */
export async function testPlugin(target: string, opts: PluginTestOptions = {}): Promise<PluginTestReport> {
  const project = locatePluginProject(target);
  const known =
    opts.plugins === undefined ? undefined : { dir: opts.plugins, plugins: loadPluginsOption(opts.plugins) };
  const checks: PluginCheck[] = [];
  const timeoutMs = opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;

  // 1. build
  const built = await buildCheck(project, opts.build !== false);
  checks.push(built.check);

  // 2. handshake and 3. spec
  let loaded: LoadedSpec | undefined;
  if (project.kind === 'binary') {
    if (!built.ok) {
      checks.push(skip('handshake', 'skipped: the build check failed'));
    } else {
      loaded = await loadProjectSpec(project, { handshakeTimeoutMs: timeoutMs });
      checks.push(handshakeCheck(project, loaded, timeoutMs));
    }
  } else {
    checks.push(skip('handshake', 'a yaml plugin has no handshake'));
    loaded = await loadProjectSpec(project);
  }
  const specResult = loaded ? specCheck(project, loaded) : undefined;
  checks.push(specResult ?? skip('spec', `skipped: the ${built.ok ? 'handshake' : 'build'} check failed`));
  const plugin = specResult?.ok ? loaded?.plugin : undefined;
  const blocked = `skipped: the ${specResult ? 'spec' : built.ok ? 'handshake' : 'build'} check failed`;
  const noPlugin = (name: string) => skip(name, blocked);

  // 4. questions
  checks.push(plugin ? questionsCheck(plugin) : noPlugin('questions'));

  // 5. sample job, 6. sample render, 7. resolver
  const sampleFile = resolve(opts.job ?? resolve(project.dir, SAMPLE_JOB));
  let sample: Sample | undefined;
  if (!plugin) checks.push(noPlugin('sample job'));
  else {
    const r = sampleJobCheck(project, plugin, opts.job, known);
    checks.push(r.check);
    sample = r.sample;
  }
  let rendered = false;
  if (!plugin) checks.push(noPlugin('sample render'));
  else if (!sample) checks.push(skip('sample render', 'skipped: the sample job check failed'));
  else {
    const check = renderCheck(plugin, sample);
    rendered = check.ok;
    checks.push(check);
  }
  if (!plugin) checks.push(noPlugin('resolver'));
  else if (!infers(project, plugin)) checks.push(skip('resolver', 'the plugin infers no dependencies'));
  else if (!sample) checks.push(skip('resolver', 'skipped: the sample job check failed'));
  else if (!rendered) checks.push(skip('resolver', 'skipped: the sample render check failed'));
  else checks.push(await resolverCheck(project, plugin, sample));

  // 8. tests/*.yaml
  checks.push(
    ...(await caseChecks(project, plugin, known?.plugins, blocked, sample ? undefined : sampleFile)),
  );

  return {
    ok: checks.every((c) => c.ok),
    plugin: plugin?.name ?? project.name,
    kind: project.kind,
    checks,
  };
}

async function buildCheck(p: PluginProject, build: boolean): Promise<{ check: PluginCheck; ok: boolean }> {
  const name = 'build';
  if (p.kind === 'yaml') return { check: skip(name, 'a yaml plugin has nothing to build'), ok: true };
  if (!p.entry) {
    // A prebuilt executable: only that it is there is checked (by the handshake).
    return { check: skip(name, `prebuilt executable ${shown(p.executable!)}`), ok: true };
  }
  if (!build) {
    try {
      const r = await buildPluginProject(p, { build: false });
      return { check: skip(name, `--no-build: using ${shown(r.executable!)} as built`), ok: true };
    } catch (e) {
      if (!isOptimusError(e)) throw e;
      return { check: fail(name, e.message, e.hint), ok: false };
    }
  }
  try {
    const r = await buildPluginProject(p);
    const size = r.bytes === undefined ? '' : ` (${formatBytes(r.bytes)})`;
    const time = r.ms === undefined ? '' : ` in ${r.ms} ms`;
    return { check: pass(name, `${shown(r.executable!)}${size} built${time}`), ok: true };
  } catch (e) {
    if (!isOptimusError(e)) throw e;
    // The message lists each compile error as file:line:col on its own line.
    const [first, ...rest] = e.message.split('\n');
    return {
      check: fail(
        name,
        first!,
        e.hint ?? `fix the compile errors in ${shown(p.entry)}`,
        rest.map((l) => l.trim()).filter(Boolean),
      ),
      ok: false,
    };
  }
}

function handshakeCheck(p: PluginProject, loaded: LoadedSpec, timeoutMs: number): PluginCheck {
  const name = 'handshake';
  const h = loaded.handshake;
  if (!h) return fail(name, 'no handshake was made', undefined);
  if ('ms' in h) return pass(name, `answered in ${h.ms} ms (deadline ${formatDuration(timeoutMs)})`);
  const e = h.error;
  // It answered, but with a spec that does not load: the spec check reports that.
  if (e.code === 'PLUGIN_SPEC_INVALID') return pass(name, 'answered (with an invalid spec)');
  const where = p.entry ? shown(p.entry) : shown(p.executable ?? p.dir);
  if (e.code === 'PLUGIN_PROTOCOL_TIMEOUT') {
    const stderr = /; stderr: (.*)$/s.exec(e.message)?.[1];
    return fail(
      name,
      `no answer within ${formatDuration(timeoutMs)}`,
      `${where} must call servePlugin({ spec, … }) when it starts; nothing may block the event loop at start (a long synchronous loop, an await that never settles); stdout carries only protocol responses (log to stderr)`,
      stderr ? [`stderr: ${stderr}`] : undefined,
    );
  }
  if (e.code === 'PLUGIN_NOT_BUILT') return fail(name, e.message, e.hint);
  if (e.code === 'PLUGIN_PROTOCOL_FAILED' && /exited \(/.test(e.message))
    return fail(
      name,
      stripLabel(e.message, p.name),
      `it exited before answering: run ${shown(p.executable ?? where)} by hand to see the whole error`,
    );
  return fail(
    name,
    stripLabel(e.message, p.name),
    e.hint ?? 'a binary plugin answers the handshake through servePlugin (see docs/plugin-protocol.md)',
  );
}

/** rpc-process messages start with `plugin <name>: `; the check's line already says which plugin. */
function stripLabel(message: string, name: string): string {
  const prefix = `plugin ${name}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

function specCheck(p: PluginProject, loaded: LoadedSpec): PluginCheck | undefined {
  const name = 'spec';
  const h = loaded.handshake;
  if (h && 'error' in h) {
    if (h.error.code !== 'PLUGIN_SPEC_INVALID') return undefined;
    // handshake() reports only the first problems, as `path: message; …`: a misspelt key in them
    // still gets its suggestion.
    const message = stripLabel(h.error.message, p.name);
    const typo = /(?:^|: |; )([^\s;:]+): unknown key "[^"]+"/.exec(message)?.[1];
    const rename = typo ? didYouMean(pluginV3Schema, typo) : undefined;
    const where = `the spec object passed to servePlugin in ${shown(p.entry ?? p.executable ?? p.dir)}`;
    return fail(
      name,
      message,
      rename
        ? `rename ${parsePath(typo!).pop()} to ${rename} in ${where}`
        : `fix ${where}; \`optimus plugin schema\` prints the v3 shape`,
    );
  }
  const schema = specSchema(p);
  const errors = errorsOf(loaded.problems);
  const warnings = warningsOf(loaded.problems);
  const details = [...errors, ...warnings].map((x) => problemLine(x, schema));
  if (errors.length || !loaded.plugin) {
    return fail(
      name,
      `${plural(errors.length, 'error')} in ${shown(loaded.file)}`,
      firstFix(errors, schema) ?? 'fix each problem listed; `optimus plugin schema` prints the v3 shape',
      details,
    );
  }
  const what = `${loaded.plugin.name} (${loaded.plugin.dialect}) is valid`;
  return pass(name, warnings.length ? `${what}; ${plural(warnings.length, 'warning')}` : what, details);
}

/** The fix for the first error: a rename for a misspelt key, else its own hint. */
function firstFix(errors: readonly Problem[], schema: z.ZodType | undefined): string | undefined {
  const first = errors[0];
  if (!first) return undefined;
  const rename =
    first.code.endsWith('_UNKNOWN_KEY') && first.path && schema ? didYouMean(schema, first.path) : undefined;
  if (rename) return `rename ${parsePath(first.path!).pop()} to ${rename}`;
  if (first.code === 'YAML_SYNTAX')
    return `fix the YAML syntax at ${shown(first.file ?? '')}${first.line === undefined ? '' : `:${first.line}`}`;
  return first.hint;
}

/** `plugin.yaml:7: configz: unknown key "configz" (did you mean configs?)`, with the problem's hint. */
function problemLine(p: Problem, schema: z.ZodType | undefined): string {
  const loc = p.file ? `${shown(p.file)}${p.line === undefined ? '' : `:${p.line}`}` : '';
  let line = `${p.severity === 'warning' ? 'warning: ' : ''}${[loc, p.path, p.message].filter(Boolean).join(': ')}`;
  const suggestion =
    p.code.endsWith('_UNKNOWN_KEY') && schema && p.path ? didYouMean(schema, p.path) : undefined;
  if (suggestion) line += ` (did you mean ${suggestion}?)`;
  else if (p.hint) line += ` — ${p.hint}`;
  return line;
}

/** The dialect's schema, for key suggestions: a binary's handshake spec is v3. */
function specSchema(p: PluginProject): z.ZodType | undefined {
  if (p.kind === 'binary') return pluginV3Schema;
  const { src } = readYamlFile(p.specFile!, { code: 'FILE_UNREADABLE', what: 'cannot read' });
  const version = (src?.value as { version?: unknown } | undefined)?.version;
  return version === 3 ? pluginV3Schema : version === 2 ? pluginV2Schema : pluginV1Schema;
}

/** The known key closest to the unknown last segment of `path`, when one is close enough. */
export function didYouMean(schema: z.ZodType, path: string): string | undefined {
  const segments = parsePath(path);
  const unknown = segments.pop();
  if (typeof unknown !== 'string') return undefined;
  const keys = keysAt(schema, segments);
  const close = keys
    .map((k) => ({ k, d: distance(unknown, k) }))
    .filter((x) => x.d > 0 && x.d <= Math.max(2, Math.floor(unknown.length / 3)))
    .sort((a, b) => a.d - b.d);
  return close[0]?.k;
}

/** `questions[0].subquestions[1].x` → ['questions', 0, 'subquestions', 1, 'x'] (formatPath's inverse). */
function parsePath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  for (const m of path.matchAll(/\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([^.[\]]+)/g)) {
    if (m[1] !== undefined) out.push(Number(m[1]));
    else if (m[2] !== undefined) out.push(JSON.parse(m[2]) as string);
    else if (m[3] !== undefined) out.push(m[3]);
  }
  return out;
}

interface ZodDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  innerType?: z.ZodType;
  valueType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  getter?: () => z.ZodType;
}

/** The keys an object schema reached by `path` allows (zod's own definitions, so never out of date). */
function keysAt(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  const def = (s: z.ZodType): ZodDef => (s as unknown as { _zod: { def: ZodDef } })._zod.def;
  const unwrap = (s: z.ZodType): z.ZodType[] => {
    const d = def(s);
    if (d.innerType) return unwrap(d.innerType);
    if (d.type === 'lazy' && d.getter) return unwrap(d.getter());
    if (d.type === 'pipe' && d.in) return unwrap(d.in);
    if (d.type === 'union' && d.options) return d.options.flatMap(unwrap);
    return [s];
  };
  let current = unwrap(schema);
  for (const seg of path) {
    const next: z.ZodType[] = [];
    for (const s of current) {
      const d = def(s);
      if (d.type === 'object' && typeof seg === 'string') {
        const child = d.shape?.[seg] ?? d.catchall;
        if (child) next.push(...unwrap(child));
      } else if (d.type === 'array' && typeof seg === 'number' && d.element) next.push(...unwrap(d.element));
      else if (d.type === 'record' && d.valueType) next.push(...unwrap(d.valueType));
    }
    current = next;
  }
  return [...new Set(current.flatMap((s) => Object.keys(def(s).shape ?? {})))];
}

function questionsCheck(plugin: Plugin): PluginCheck {
  const name = 'questions';
  const questions = allQuestions(plugin.questions);
  if (!questions.length) return pass(name, 'the plugin asks no questions');
  const withDefault = questions.filter((q) => q.default !== undefined && q.default !== '');
  const failures: { q: Question; rule: string; fix: string }[] = [];
  for (const q of withDefault)
    if (questionProblem(q, q.default!)) failures.push({ q, ...brokenRule(q, q.default!) });
  if (failures.length) {
    const details = failures.map(
      (f) =>
        `question ${f.q.name}: default "${f.q.default}" fails its own ${f.rule}${f.q.validationerror && f.rule.startsWith('regexp') ? ` ("${f.q.validationerror}")` : ''}`,
    );
    const first = failures[0]!;
    return fail(
      name,
      failures.length === 1 ? details[0]! : `${failures.length} question defaults fail their own rules`,
      `question ${first.q.name}: ${first.fix}`,
      failures.length === 1 ? undefined : details,
    );
  }
  return pass(
    name,
    `${plural(questions.length, 'question')}; ${
      withDefault.length === 0
        ? 'none has a default'
        : withDefault.length === 1
          ? '1 default, which passes its own rules'
          : `${withDefault.length} defaults, each passing its own rules`
    }`,
  );
}

/** Which rule a default breaks, in questionProblem's order, and how to fix it. */
function brokenRule(q: Question, value: string): { rule: string; fix: string } {
  if (q.multiselect && !q.multiselect.includes(value))
    return {
      rule: `options (${q.multiselect.join(', ')})`,
      fix: 'change the default to one of the options, or add it to multiselect',
    };
  let re: RegExp | undefined;
  try {
    re = q.regexp ? new RegExp(q.regexp) : undefined;
  } catch {
    re = undefined;
  }
  if (re && !re.test(value)) return { rule: `regexp ${q.regexp}`, fix: 'change the default or the regexp' };
  if (value.length < (q.minlength ?? 0))
    return { rule: `minlength ${q.minlength}`, fix: 'change the default or minlength' };
  return { rule: `maxlength ${q.maxlength}`, fix: 'change the default or maxlength' };
}

/** The sample job, once it passed its check. */
interface Sample {
  file: string;
  spec: JobSpec;
  instance: { type: 'task' | 'hook'; name: string; index?: number };
  /** The other plugins it names: specs from --plugins, or stand-ins. */
  others: Map<string, Plugin>;
}

/** `--plugins <dir>` as given, and the specs in it. */
interface KnownPlugins {
  dir: string;
  plugins: ReadonlyMap<string, Plugin>;
}

function sampleJobCheck(
  p: PluginProject,
  plugin: Plugin,
  jobFile: string | undefined,
  known: KnownPlugins | undefined,
): { check: PluginCheck; sample?: Sample } {
  const name = 'sample job';
  let loaded: LoadedJob;
  try {
    loaded = loadSampleJob(p, jobFile);
  } catch (e) {
    if (!isOptimusError(e)) throw e;
    return { check: fail(name, e.message, e.hint) };
  }
  const file = shown(loaded.file);
  const instance = loaded.spec ? pluginInstance(loaded.spec, plugin) : undefined;
  if (loaded.spec && !instance)
    return {
      check: fail(
        name,
        `${file} does not use plugin ${plugin.name}: its task is ${loaded.spec.task.name}${loaded.spec.hooks.length ? ` and its hooks are ${loaded.spec.hooks.map((h) => h.type).join(', ')}` : ''}`,
        `set task.name: ${plugin.name} in ${file}`,
      ),
    };
  // Computed before the check, which rewrites old-style hooks (`type: post`) as it reads them.
  const others = loaded.spec ? otherPlugins(loaded.spec, plugin, known?.plugins) : undefined;
  const report = checkLoadedJob(loaded, 'local', {
    plugins: new Map([...(others?.plugins ?? []), [plugin.name, plugin]]),
    rules: [],
    presets: null,
  });
  const errors = sortProblems(errorsOf(report.problems));
  const warnings = sortProblems(warningsOf(report.problems));
  const details = [
    ...[...errors, ...warnings].map((x) => problemLine(x, jobFileSchema)),
    ...(loaded.spec && others ? otherPluginLines(loaded.spec, others, known) : []),
  ];
  if (errors.length || !report.spec || !instance)
    return {
      check: fail(
        name,
        `${plural(errors.length, 'error')} in ${file}`,
        firstFix(errors, jobFileSchema) ?? `fix ${file}: each problem above names its line and field`,
        details,
      ),
    };
  const role = instance.type === 'task' ? 'its task' : `hook ${instance.name}`;
  return {
    check: pass(
      name,
      `${file} uses ${plugin.name} as ${role}${warnings.length ? `; ${plural(warnings.length, 'warning')}` : ''}`,
      details,
    ),
    sample: { file: loaded.file, spec: report.spec, instance, others: others?.plugins ?? new Map() },
  };
}

/** What the sample job check did with each other plugin the job names. */
function otherPluginLines(
  spec: JobSpec,
  others: { plugins: ReadonlyMap<string, Plugin>; standIns: readonly string[] },
  known: KnownPlugins | undefined,
): string[] {
  const role = (name: string) => (name === spec.task.name ? 'task' : 'hook');
  return [...others.plugins.keys()].map((name) => {
    const source = others.plugins.get(name)?.source;
    if (!others.standIns.includes(name))
      return `${role(name)} plugin ${name} is checked against ${source ? shown(source) : `its spec in --plugins ${known?.dir}`}`;
    return known
      ? `${role(name)} plugin ${name} is not in --plugins ${known.dir}: its configs are not checked`
      : `${role(name)} plugin ${name} is not checked here (pass --plugins <dir> with its spec to check its configs)`;
  });
}

function renderCheck(plugin: Plugin, sample: Sample): PluginCheck {
  const name = 'sample render';
  const { spec } = sample;
  const scheduledAt = defaultScheduledAt(spec);
  try {
    const r = renderLocal({
      plugin,
      others: sample.others,
      job: spec,
      assets: spec.assets,
      instance: { type: sample.instance.type, name: sample.instance.name },
      scheduledAt,
      secrets: placeholderSecrets(spec, [plugin, ...sample.others.values()], spec.assets),
    });
    const files = Object.keys(r.files).sort();
    const parts = [
      `${plural(files.length, 'file')}${files.length ? ` (${files.join(', ')})` : ''}`,
      plural(Object.keys(r.envs).length, 'env'),
      ...(Object.keys(r.secrets).length ? [plural(Object.keys(r.secrets).length, 'secret')] : []),
    ];
    return pass(
      name,
      `renders for ${scheduledAt.toISOString().replace('.000Z', 'Z')}: ${parts.join(', ')}`,
      r.warnings.map((w) => `warning: ${w}`),
    );
  } catch (e) {
    if (!isOptimusError(e)) throw e;
    const field = e instanceof RunInputError && e.field ? `${e.field}: ` : '';
    return fail(
      name,
      `${field}${e.message}`,
      e.hint ?? `fix the template in ${shown(sample.file)} or its assets`,
    );
  }
}

/** Whether the plugin decides destinations: a binary's mod, or a declarative yaml spec. */
function infers(p: PluginProject, plugin: Plugin): boolean {
  if (p.kind === 'binary') return plugin.mods.includes('dependency_resolver');
  return Boolean(plugin.destinationUrnTemplate) || Object.keys(plugin.assetParsers ?? {}).length > 0;
}

async function resolverCheck(p: PluginProject, plugin: Plugin, sample: Sample): Promise<PluginCheck> {
  const name = 'resolver';
  const { spec } = sample;
  if (sample.instance.type !== 'task')
    return skip(name, `the sample uses ${plugin.name} as a hook; only a job's task infers dependencies`);
  const r = await inferLocal({
    project: p,
    plugin,
    job: spec,
    assets: spec.assets,
    secrets: placeholderSecrets(spec, [plugin, ...sample.others.values()], spec.assets),
  });
  if (!r) return skip(name, 'the plugin infers no dependencies');
  if (!r.ok) {
    const own =
      p.kind === 'binary'
        ? `fix generateDestination/generateDependencies in ${shown(p.entry ?? p.executable ?? p.dir)}, or the sample's config`
        : (r.hint ?? "fix destination_urn_template/asset_parsers, or the sample's config");
    // `task` says nothing the check's name does not; a deeper field (task.config.X) does.
    const field = r.field?.includes('.') ? `${r.field}: ` : '';
    return fail(
      name,
      `${field}${r.message}`,
      `the resolver threw for the sample job (${shown(sample.file)}): ${own}`,
    );
  }
  const deps = [...r.dependencies].sort();
  const details = [...deps.map((d) => `dependency: ${d}`), ...r.warnings.map((w) => `warning: ${w}`)];
  if (r.destination === null)
    return fail(
      name,
      'the resolver gave no destination for the sample job',
      p.kind === 'binary'
        ? 'generateDestination must return a URN (e.g. bigquery://project:dataset.table) for the sample job'
        : `destination_urn_template must render a URN: set the configs it names in ${shown(sample.file)}`,
      details,
    );
  return pass(
    name,
    `destination ${r.destination}; ${plural(deps.length, 'dependency', 'dependencies')}`,
    details,
  );
}

/**
 * One check per case of every tests file. A malformed file is one failed check naming each problem.
 * Without a plugin, cases are skipped saying `blocked`; `brokenSample`: the sample job file, when
 * its check failed (cases using it are skipped).
 */
async function caseChecks(
  p: PluginProject,
  plugin: Plugin | undefined,
  known: ReadonlyMap<string, Plugin> | undefined,
  blocked: string,
  brokenSample: string | undefined,
): Promise<PluginCheck[]> {
  const files = findTestFiles(p.dir);
  if (!files.length) return [skip('tests', 'no tests/*.yaml')];
  const out: PluginCheck[] = [];
  for (const file of files) {
    const t = loadTestsFile(file, p.dir);
    const errors = sortProblems(errorsOf(t.problems));
    if (errors.length) {
      out.push(
        fail(
          t.rel,
          `${plural(errors.length, 'error')} in ${shown(file)}`,
          firstFix(errors, TESTS_FILE_SCHEMA) ??
            'each case needs a name, and given/expect hold only the keys the format lists (see the plugin README)',
          errors.map((x) => problemLine(x, TESTS_FILE_SCHEMA)),
        ),
      );
      continue;
    }
    for (const c of t.cases) {
      if (!plugin) {
        out.push(skip(c.title, blocked));
        continue;
      }
      const jobFile = resolve(p.dir, c.given.job ?? SAMPLE_JOB);
      if (brokenSample && jobFile === brokenSample) {
        out.push(skip(c.title, 'skipped: the sample job check failed'));
        continue;
      }
      const r = await runTestCase(c, { project: p, plugin, ...(known ? { known } : {}) });
      out.push(r.ok ? pass(c.title, r.message, r.details) : fail(c.title, r.message, r.fix, r.details));
    }
  }
  return out;
}

function formatBytes(n: number): string {
  return n < 1024
    ? `${n} B`
    : n < 1024 * 1024
      ? `${Math.round(n / 1024)} kB`
      : `${(n / 1024 / 1024).toFixed(1)} MB`;
}
