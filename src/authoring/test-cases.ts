/**
 * A plugin's own expectations, `tests/*.yaml` in its folder: each case renders a job (the sample, or
 * `given.job`) with some changes and compares what the server would hand the plugin (files, envs)
 * and what its resolver infers (destination, dependencies) with what the author wrote down.
 *
 * Files are read with the repo's YAML loader and a strict schema, so a malformed file is reported
 * with file:line and the field, like every other spec. Rendering and inference are project.ts's
 * renderLocal/inferLocal: the server's own code paths; other plugins a case's job names (a hook
 * plugin's task) come from `--plugins`, or are stood in for (otherPlugins). Secret values given
 * in a tests file never appear in what a case reports (masked as ****).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { pluginDefaults } from '../core/configs.js';
import { isOptimusError } from '../core/errors.js';
import type { JobSpec } from '../core/job.js';
import { isControlChar } from '../core/names.js';
import type { Plugin } from '../core/plugin.js';
import { errorsOf, formatLocation, type PathSegment, type Problem } from '../core/problem.js';
import { secretNames } from '../core/secret-ref.js';
import { MASK } from '../scheduler/log-capture.js';
import { parseRfc3339, RunInputError } from '../services/run-input.js';
import type { LoadedJob } from '../spec/job-spec.js';
import { parseYaml, problemAt, type YamlSource } from '../spec/yaml-source.js';
import { shapeProblems } from '../spec/zod-problems.js';
import {
  defaultScheduledAt,
  inferLocal,
  loadSampleJob,
  otherPlugins,
  type PluginProject,
  renderLocal,
  SAMPLE_JOB,
  shown,
} from './project.js';

export const TESTS_DIR = 'tests';

const scalar = z.union([z.string(), z.number(), z.boolean()], {
  error: 'must be a string, number or boolean',
});
const strings = z.record(z.string(), scalar);

const caseSchema = z.strictObject({
  name: z.string().min(1),
  given: z
    .strictObject({
      job: z.string().min(1).optional().describe('relative to the plugin folder; default sample/job.yaml'),
      config: strings.optional(),
      assets: z.record(z.string(), z.string()).optional(),
      scheduled_at: z.string().min(1).optional(),
      secrets: strings.optional(),
      globals: strings.optional(),
    })
    .nullable()
    .optional(),
  expect: z
    .strictObject({
      files: z.record(z.string(), z.string()).optional(),
      envs: strings.optional(),
      destination: z.string().nullable().optional(),
      dependencies: z.array(z.string()).optional(),
    })
    .nullable()
    .optional(),
});
const fileSchema = z.strictObject({ cases: z.array(caseSchema).min(1, 'needs at least one case') });
/** The shape of a tests file (for key suggestions). */
export const TESTS_FILE_SCHEMA: z.ZodType = fileSchema;

export interface CaseGiven {
  job?: string;
  config?: Record<string, string>;
  assets?: Record<string, string>;
  scheduledAt?: Date;
  secrets?: Record<string, string>;
  globals?: Record<string, string>;
}

export interface CaseExpect {
  files?: Record<string, string>;
  envs?: Record<string, string>;
  destination?: string | null;
  dependencies?: string[];
}

export interface TestCase {
  /** `tests/<file>: <case name>`: the check's name. */
  title: string;
  name: string;
  given: CaseGiven;
  expect: CaseExpect;
  /** Where `cases[i]` and its fields are, for messages (`file:line`). */
  where(path: readonly PathSegment[]): string;
}

export interface TestsFile {
  file: string;
  /** The file relative to the plugin folder, e.g. `tests/sample.yaml`. */
  rel: string;
  cases: TestCase[];
  /** Errors make the whole file unusable (no cases are run). */
  problems: Problem[];
}

/** Every tests/*.yaml (and .yml) of the plugin folder, sorted; empty when there is no tests/ folder. */
export function findTestFiles(dir: string): string[] {
  const folder = join(dir, TESTS_DIR);
  let names: string[];
  try {
    if (!statSync(folder).isDirectory()) return [];
    names = readdirSync(folder);
  } catch {
    return [];
  }
  return names
    .filter((n) => /\.ya?ml$/i.test(n))
    .sort()
    .map((n) => join(folder, n))
    .filter((f) => {
      try {
        return statSync(f).isFile();
      } catch {
        return false; // a dangling link is no tests file
      }
    });
}

/** Parses and checks one tests file; never throws for a bad file. */
export function loadTestsFile(file: string, pluginDir: string): TestsFile {
  const rel = relative(pluginDir, file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const problem: Problem = {
      severity: 'error',
      code: 'TEST_FILE_UNREADABLE',
      message: `cannot read it: ${(e as Error).message}`,
      file,
    };
    return { file, rel, cases: [], problems: [problem] };
  }
  const src = parseYaml(text, file);
  const overflow = src.problems.find((p) => /maximum call stack size exceeded/i.test(p.message));
  if (overflow) return { file, rel, cases: [], problems: [tooDeep(file, overflow.line)] };
  if (errorsOf(src.problems).length) return { file, rel, cases: [], problems: src.problems };
  if (src.value === null || src.value === undefined) {
    const problem: Problem = {
      severity: 'error',
      code: 'TEST_FILE_EMPTY',
      message: 'is empty: write `cases:` and a list of cases under it',
      file,
      hint: 'e.g. cases: [{name: renders the sample, expect: {files: {query.sql: "…"}}}] (the plugin README shows the format), or delete the file',
    };
    return { file, rel, cases: [], problems: [problem] };
  }
  const deep = deepestPath(src.value, MAX_DEPTH);
  if (deep) return { file, rel, cases: [], problems: [tooDeep(file, locateSafe(src, deep))] };
  const problems = shapeProblems(fileSchema, src.value, src, { unknownKeys: 'error', codePrefix: 'TEST' });
  if (errorsOf(problems).length) return { file, rel, cases: [], problems };

  const value = fileSchema.parse(src.value);
  const seen = new Map<string, number>();
  const cases: TestCase[] = [];
  value.cases.forEach((c, i) => {
    const at = (path: readonly PathSegment[]) => ['cases', i, ...path];
    const previous = seen.get(c.name);
    if (previous !== undefined)
      problems.push(
        problemAt(
          src,
          at(['name']),
          'error',
          'TEST_CASE_DUPLICATE',
          `case "${printable(c.name)}" is also cases[${previous}]`,
          {
            hint: 'give every case its own name: the name is how a failure is reported',
          },
        ),
      );
    seen.set(c.name, i);
    const given: CaseGiven = {};
    const g = c.given ?? {};
    if (g.job !== undefined) given.job = g.job;
    if (g.config) given.config = stringMap(g.config);
    if (g.assets) given.assets = { ...g.assets };
    if (g.secrets) given.secrets = stringMap(g.secrets);
    if (g.globals) given.globals = stringMap(g.globals);
    if (g.scheduled_at !== undefined) {
      const t = parseRfc3339(g.scheduled_at);
      if (t) given.scheduledAt = t;
      else
        problems.push(
          problemAt(
            src,
            at(['given', 'scheduled_at']),
            'error',
            'TEST_INVALID',
            `"${g.scheduled_at}" is not an RFC 3339 time`,
            { hint: 'write it like "2026-03-02T00:00:00Z" (quoted)' },
          ),
        );
    }
    const e = c.expect ?? {};
    const expect: CaseExpect = {};
    if (e.files) expect.files = { ...e.files };
    if (e.envs) expect.envs = stringMap(e.envs);
    if (e.destination !== undefined) expect.destination = e.destination;
    if (e.dependencies) expect.dependencies = [...e.dependencies];
    cases.push({
      title: printable(`${rel}: ${c.name}`),
      name: c.name,
      given,
      expect,
      where: (path) => location(src, at(path)),
    });
  });
  return { file, rel, cases: errorsOf(problems).length ? [] : cases, problems };
}

/** Deeper than any tests file needs (a case is 4 levels); deeper still would exhaust the stack. */
const MAX_DEPTH = 64;

function tooDeep(file: string, line: number | undefined): Problem {
  return {
    severity: 'error',
    code: 'TEST_NESTING_TOO_DEEP',
    message: `nested more than ${MAX_DEPTH} levels deep; a tests file needs 4 or 5`,
    file,
    ...(line === undefined ? {} : { line }),
    hint: 'write each case as name, given and expect with plain values (see the plugin README); the file may have been generated wrongly',
  };
}

/** The path of the first value nested deeper than `max`, found without recursion (no stack to exhaust). */
function deepestPath(value: unknown, max: number): PathSegment[] | undefined {
  const stack: { value: unknown; path: PathSegment[] }[] = [{ value, path: [] }];
  while (stack.length) {
    const { value: v, path } = stack.pop()!;
    if (path.length > max) return path;
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) stack.push({ value: v[i], path: [...path, i] });
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) stack.push({ value: x, path: [...path, k] });
  }
  return undefined;
}

function locateSafe(src: YamlSource, path: readonly PathSegment[]): number | undefined {
  try {
    return src.locate(path)?.line;
  } catch {
    return undefined; // too deep for the position-keeping parser too
  }
}

/**
 * A case name as printed: control characters (a NUL, an escape sequence that would recolour the
 * terminal, a newline that would forge another result line) shown as `\uXXXX`.
 */
export function printable(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    out += isControlChar(code) ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
  }
  return out;
}

/** `tests/x.yaml:12` (relative to the working directory) for a path of the file. */
function location(src: YamlSource, path: readonly PathSegment[]): string {
  const pos = src.locate(path);
  const fileShown = shown(src.file);
  return pos ? `${fileShown}:${pos.line}` : fileShown;
}

function stringMap(m: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)]));
}

/** One difference between what a case expects and what it got. */
export interface Mismatch {
  /** e.g. `files["query.sql"]`, `envs.DSTART`, `destination`. */
  key: string;
  expected: string;
  actual: string;
}

export interface CaseOutcome {
  ok: boolean;
  message: string;
  fix?: string;
  /** One line per mismatch or warning. */
  details?: string[];
  mismatches?: Mismatch[];
}

/** Where the plugin sits in a job: its task, or the first hook of that type. */
export function pluginInstance(
  spec: JobSpec,
  plugin: Plugin,
): { type: 'task' | 'hook'; name: string; index?: number } | undefined {
  if (spec.task.name === plugin.name) return { type: 'task', name: plugin.name };
  const index = spec.hooks.findIndex((h) => h.type === plugin.name);
  return index < 0 ? undefined : { type: 'hook', name: spec.hooks[index]!.name, index };
}

/**
 * Values for every secret the job reads (its configs with the defaults of the plugins it names,
 * and its assets): a visible "<secret NAME>" placeholder unless a value is given.
 */
export function placeholderSecrets(
  spec: JobSpec,
  plugins: Iterable<Plugin>,
  assets: Record<string, string>,
  given: Record<string, string> = {},
): Record<string, string> {
  const texts = [
    ...[...plugins].flatMap((p) => Object.values(pluginDefaults(p))),
    ...Object.values(spec.task.config),
    ...spec.hooks.flatMap((h) => Object.values(h.config)),
    ...Object.values(assets),
  ];
  const out: Record<string, string> = {};
  for (const t of texts) for (const name of secretNames(t)) out[name] = `<secret ${name}>`;
  return { ...out, ...given };
}

/** The job with `config` merged over the config of the node that runs the plugin. */
export function withConfig(
  spec: JobSpec,
  instance: { type: 'task' | 'hook'; index?: number },
  config: Record<string, string> | undefined,
  assets: Record<string, string>,
): JobSpec {
  const job: JobSpec = { ...spec, task: { ...spec.task }, hooks: spec.hooks.map((h) => ({ ...h })), assets };
  if (!config) return job;
  if (instance.type === 'task') job.task.config = { ...spec.task.config, ...config };
  else {
    const hook = job.hooks[instance.index!]!;
    hook.config = { ...hook.config, ...config };
  }
  return job;
}

export interface CaseContext {
  project: PluginProject;
  plugin: Plugin;
  /** Specs of other plugins the case's job names (`--plugins`); the rest are stood in for. */
  known?: ReadonlyMap<string, Plugin>;
  /** How long one resolver call may take. */
  callTimeoutMs?: number;
}

/** Renders the case's job as the server would and compares what the case lists. */
export async function runTestCase(c: TestCase, ctx: CaseContext): Promise<CaseOutcome> {
  const mask = masker(Object.values(c.given.secrets ?? {}));
  return maskOutcome(await runUnmasked(c, ctx), mask);
}

async function runUnmasked(c: TestCase, ctx: CaseContext): Promise<CaseOutcome> {
  const { project, plugin } = ctx;
  const jobFile = resolve(project.dir, c.given.job ?? SAMPLE_JOB);
  const jobShown = shown(jobFile);
  if (!existsSync(jobFile))
    return {
      ok: false,
      message: `${c.where(['given', 'job'])}: given.job: ${jobShown} does not exist`,
      fix: 'given.job is relative to the plugin folder; point it at a job.yaml, or leave it out for sample/job.yaml',
    };
  let loaded: LoadedJob;
  try {
    loaded = loadSampleJob(project, jobFile);
  } catch (e) {
    if (!isOptimusError(e)) throw e;
    return {
      ok: false,
      message: `${c.where(['given', 'job'])}: ${e.message}`,
      ...(e.hint ? { fix: e.hint } : {}),
    };
  }
  const spec = loaded.spec;
  if (!spec) {
    const first = errorsOf(loaded.problems)[0];
    return {
      ok: false,
      message: `the job does not load: ${first ? describeProblem(first) : jobShown}`,
      fix: first?.hint ?? `fix ${jobShown} (the "sample job" check lists every problem)`,
    };
  }
  const instance = pluginInstance(spec, plugin);
  if (!instance)
    return {
      ok: false,
      message: `${jobShown} does not use plugin ${plugin.name} (its task is ${spec.task.name})`,
      fix: `set task.name: ${plugin.name} in ${jobShown}`,
    };
  const assets = { ...spec.assets, ...c.given.assets };
  const job = withConfig(spec, instance, c.given.config, assets);
  const { plugins: others } = otherPlugins(job, plugin, ctx.known);
  const secrets = placeholderSecrets(job, [plugin, ...others.values()], assets, c.given.secrets);
  const globals = c.given.globals ?? {};

  const mismatches: Mismatch[] = [];
  const details: string[] = [];
  const { files, envs } = c.expect;
  if (files || envs || (c.expect.destination === undefined && !c.expect.dependencies)) {
    let rendered: ReturnType<typeof renderLocal>;
    try {
      rendered = renderLocal({
        plugin,
        others,
        job,
        assets,
        instance: { type: instance.type, name: instance.name },
        scheduledAt: c.given.scheduledAt ?? defaultScheduledAt(job),
        secrets,
        globals,
      });
    } catch (e) {
      if (!isOptimusError(e)) throw e;
      const field = e instanceof RunInputError && e.field ? `${e.field}: ` : '';
      return {
        ok: false,
        message: `rendering failed: ${field}${e.message}`,
        fix: e.hint ?? 'fix the template the message names',
      };
    }
    for (const [name, want] of Object.entries(files ?? {})) {
      const key = `files[${JSON.stringify(name)}]`;
      const got = rendered.files[name];
      if (got === undefined)
        mismatches.push({
          key,
          expected: want,
          actual: `no such file (rendered: ${Object.keys(rendered.files).sort().join(', ') || 'none'})`,
        });
      else if (got !== want) mismatches.push(fileMismatch(key, want, got));
    }
    const allEnvs = { ...rendered.envs, ...rendered.secrets };
    for (const [name, want] of Object.entries(envs ?? {})) {
      const key = `envs.${name}`;
      const got = allEnvs[name];
      if (got === undefined) mismatches.push({ key, expected: quoted(want), actual: 'not set' });
      else if (got !== want) {
        // A secret env is compared, never shown.
        const secret = name in rendered.secrets && !(name in rendered.envs);
        mismatches.push({
          key,
          expected: secret ? MASK : quoted(want),
          actual: secret ? `${MASK} (a different value)` : quoted(got),
        });
      }
    }
    for (const w of rendered.warnings) details.push(`warning: ${w}`);
  }

  if (c.expect.destination !== undefined || c.expect.dependencies) {
    const inferred = await inferLocal({
      project,
      plugin,
      job,
      assets,
      secrets,
      globals,
      ...(ctx.callTimeoutMs ? { callTimeoutMs: ctx.callTimeoutMs } : {}),
    });
    if (!inferred)
      return {
        ok: false,
        message: `the case expects ${c.expect.destination !== undefined ? 'a destination' : 'dependencies'}, but plugin ${plugin.name} infers none${instance.type === 'hook' ? ' (it is a hook here; only a task infers)' : ''}`,
        fix: 'add a resolver (mods: [dependency_resolver], or destination_urn_template / asset_parsers), or drop expect.destination and expect.dependencies',
      };
    if (!inferred.ok)
      return {
        ok: false,
        message: `the resolver failed: ${inferred.field ? `${inferred.field}: ` : ''}${inferred.message}`,
        fix: inferred.hint ?? `the resolver threw for this case's job: fix it or the case's given values`,
      };
    if (c.expect.destination !== undefined && inferred.destination !== c.expect.destination)
      mismatches.push({
        key: 'destination',
        expected: c.expect.destination === null ? 'none' : quoted(c.expect.destination),
        actual: inferred.destination === null ? 'none' : quoted(inferred.destination),
      });
    if (c.expect.dependencies) {
      const want = [...c.expect.dependencies].sort();
      const got = [...inferred.dependencies].sort();
      if (want.join('\n') !== got.join('\n')) {
        const missing = want.filter((d) => !got.includes(d));
        const extra = got.filter((d) => !want.includes(d));
        const parts = [
          missing.length ? `missing ${missing.join(', ')}` : '',
          extra.length ? `unexpected ${extra.join(', ')}` : '',
        ].filter(Boolean);
        mismatches.push({
          key: 'dependencies',
          expected: `[${want.join(', ')}]`,
          actual: `[${got.join(', ')}]${parts.length ? ` (${parts.join('; ')})` : ''}`,
        });
      }
    }
    for (const w of inferred.warnings) details.push(`resolver warning: ${w}`);
  }

  if (mismatches.length) {
    // Rendered templates are trimmed of surrounding white space (as upstream's are); a YAML block
    // scalar (`|`) keeps a final newline, so the one surprise worth naming is that.
    const newline = mismatches.some((m) => m.expected.endsWith('final newline'));
    return {
      ok: false,
      message: `${mismatches.length} mismatch${mismatches.length === 1 ? '' : 'es'}: ${mismatches.map((m) => m.key).join(', ')}`,
      fix: newline
        ? `rendered files are trimmed of leading and trailing white space, as on the server: write the expected content in ${c.where([])} with |- (a block scalar without the final newline)`
        : `change the plugin, or the expectation in ${c.where([])} if the new output is right`,
      details: [...mismatches.map((m) => `${m.key}: expected ${m.expected}, got ${m.actual}`), ...details],
      mismatches,
    };
  }
  const compared = [
    files ? `${Object.keys(files).length} file${Object.keys(files).length === 1 ? '' : 's'}` : '',
    envs ? `${Object.keys(envs).length} env${Object.keys(envs).length === 1 ? '' : 's'}` : '',
    c.expect.destination !== undefined ? 'destination' : '',
    c.expect.dependencies ? 'dependencies' : '',
  ].filter(Boolean);
  return {
    ok: true,
    message: compared.length ? `matches (${compared.join(', ')})` : 'renders (nothing expected)',
    ...(details.length ? { details } : {}),
  };
}

/** A file's difference: for multi-line content, the first line that differs, with its number. */
export function fileMismatch(key: string, want: string, got: string): Mismatch {
  if (!want.includes('\n') && !got.includes('\n'))
    return { key, expected: quoted(want), actual: quoted(got) };
  const a = want.split('\n');
  const b = got.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const n = i + 1;
  const lineOf = (lines: string[], total: string) =>
    i < lines.length
      ? quoted(lines[i]!)
      : `no line ${n} (${lines.length - (total.endsWith('\n') ? 1 : 0)} lines)`;
  // Only the final newline differs: say so rather than show an empty line.
  if (want.replace(/\n$/, '') === got.replace(/\n$/, ''))
    return {
      key,
      expected: want.endsWith('\n') ? 'a final newline' : 'no final newline',
      actual: got.endsWith('\n') ? 'a final newline' : 'no final newline',
    };
  return { key: `${key} line ${n}`, expected: lineOf(a, want), actual: lineOf(b, got) };
}

function quoted(s: string): string {
  return JSON.stringify(s);
}

function describeProblem(p: Problem): string {
  const loc = p.file ? formatLocation({ ...p, file: shown(p.file) }) : '';
  return [loc, p.path, p.message].filter(Boolean).join(': ');
}

/**
 * Replaces secret values given in a tests file. Values under 4 characters are left alone in free
 * text (masking every "t" would garble the report); secret envs are never shown at all.
 */
function masker(values: readonly string[]): (s: string) => string {
  const needles = [...new Set(values.flatMap((v) => [v, ...v.split('\n')]))]
    .filter((v) => v.length >= 4)
    .sort((x, y) => y.length - x.length);
  if (!needles.length) return (s) => s;
  // JSON-quoted forms too: expected/actual are shown quoted, with escapes.
  const forms = [...new Set(needles.flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]))].sort(
    (x, y) => y.length - x.length,
  );
  return (s) => forms.reduce((acc, v) => acc.split(v).join(MASK), s);
}

function maskOutcome(o: CaseOutcome, mask: (s: string) => string): CaseOutcome {
  const out: CaseOutcome = { ok: o.ok, message: mask(o.message) };
  if (o.fix !== undefined) out.fix = mask(o.fix);
  if (o.details) out.details = o.details.map(mask);
  if (o.mismatches)
    out.mismatches = o.mismatches.map((m) => ({
      key: mask(m.key),
      expected: mask(m.expected),
      actual: mask(m.actual),
    }));
  return out;
}
