/**
 * Deploy a namespace's whole state: validate every job with the same rules as the CLI, diff by
 * content hash, and apply added, modified and deleted jobs in one transaction. A deploy with any
 * invalid job changes no job and reports every problem; an unchanged re-deploy writes no job.
 */
import { contentHash } from '../core/canonical-json.js';
import { OptimusError } from '../core/errors.js';
import { parseHookRules } from '../core/hook-rules.js';
import { assetNameProblem, quote } from '../core/names.js';
import type { Plugin } from '../core/plugin.js';
import { errorsOf, formatPath, type PathSegment, type Problem, warningsOf } from '../core/problem.js';
import { secretNames } from '../core/secret-ref.js';
import { normalisePresetName } from '../core/window.js';
import { loadJobValue } from '../spec/job-spec.js';
import type { DeployRecord, JobInput, Json, ProjectRecord, Store } from '../store/store.js';
import { checkLoadedJob } from './validate-project.js';

export interface DeployRequest {
  project: ProjectRecord;
  namespace: string;
  jobs: unknown[];
}

export interface DeployOutcome {
  deploy: DeployRecord;
  warnings: Problem[];
}

export class DeployRejected extends OptimusError {
  readonly problems: Problem[];
  readonly deployId: number;
  constructor(problems: Problem[], deployId: number, jobCount: number) {
    const errors = errorsOf(problems);
    // Every problem of a deploy is about one job, so its path starts with jobs[i].
    // Stryker disable next-line StringLiteral: every problem here has a path
    const jobs = new Set(errors.map((p) => /^jobs\[\d+\]/.exec(p.path ?? '')?.[0])).size;
    super(
      'DEPLOY_INVALID',
      `deploy rejected: ${errors.length} problem(s) in ${jobs} of ${jobCount} job(s); nothing was changed`,
      {
        category: 'invalid',
        hint: 'fix the listed problems (run `optimus job validate` locally) and deploy again',
      },
    );
    this.problems = problems;
    this.deployId = deployId;
  }
}

export async function deployNamespace(
  deps: { store: Store; plugins: ReadonlyMap<string, Plugin>; validated?: ValidatedJobs },
  req: DeployRequest,
): Promise<DeployOutcome> {
  const { store, plugins } = deps;
  const startedAt = new Date();
  const projectName = req.project.name;
  const problems: Problem[] = [];
  const rules = parseHookRules(req.project.pluginDependencies).rules;
  const [summaries, secrets] = await Promise.all([
    store.jobSummaries(projectName),
    store.secretsVisibleTo(projectName, req.namespace),
  ]);
  const elsewhere = new Map(
    summaries.filter((s) => s.namespaceName !== req.namespace).map((s) => [s.name, s.namespaceName]),
  );
  const current = new Map(
    summaries.filter((s) => s.namespaceName === req.namespace).map((s) => [s.name, s.hash]),
  );
  const secretSet = new Set(secrets.map((s) => s.name));

  const incoming: JobInput[] = [];
  const seen = new Map<string, number>();
  const windowPresets = req.project.windowPresets;
  // null: the client sent no presets, so they are not checked; none sent as {}: every preset is unknown.
  const presetNames = windowPresets ? Object.keys(windowPresets).map(normalisePresetName) : null;
  const presets = presetNames === null ? null : presetNames.length ? new Set(presetNames) : undefined;
  // Stryker disable next-line StringLiteral: without a cache the fingerprint is never used
  const fingerprint = deps.validated
    ? validationFingerprint(plugins, req.project.pluginDependencies, windowPresets)
    : '';
  const at = (
    i: number,
    path: PathSegment[],
    severity: 'error' | 'warning',
    code: string,
    message: string,
    hint?: string,
  ): Problem => ({
    severity,
    code,
    message,
    path: formatPath(['jobs', i, ...path]),
    ...(hint ? { hint } : {}),
  });
  req.jobs.forEach((value, i) => {
    // A job that is not an object is refused by loadJobValue below whatever this guard decides: it
    // only keeps such a value from being destructured.
    // Stryker disable ConditionalExpression: see above
    const raw =
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
    // Stryker restore ConditionalExpression
    const { assets: rawAssets, ...rest } = raw ?? {};
    const badAssets = assetProblems(rawAssets, i);
    problems.push(...badAssets);
    const hash = contentHash({ spec: rest, assets: rawAssets ?? {} });
    // Content this process already validated under the same plugins, hook rules and presets is valid
    // again (its asset names were checked above, as they are on every deploy).
    let runGraph = raw ? deps.validated?.get(fingerprint, hash) : undefined;
    let name: string;
    let configs: Record<string, string>[];
    // Stryker disable next-line ConditionalExpression: skipping the cache only costs time (validation gives the same answer)
    if (runGraph !== undefined) {
      name = String(rest.name);
      configs = configMaps(rest);
    } else {
      // Refused asset names are reported once, above; the job's other problems are still found.
      const checked = badAssets.length ? { ...raw, assets: withoutBadAssets(rawAssets) } : value;
      const report = checkLoadedJob(loadJobValue(checked, ['jobs', i]), req.namespace, {
        plugins,
        rules,
        presets,
      });
      problems.push(...report.problems);
      const spec = report.spec;
      if (!spec) return;
      name = spec.name;
      configs = [spec.task.config, ...spec.hooks.map((h) => h.config)];
      runGraph = report.nodes.map((n) => ({
        name: n.name,
        type: n.type,
        stage: n.stage,
        depends_on: n.dependsOn,
      }));
      if (!errorsOf(report.problems).length) deps.validated?.set(fingerprint, hash, runGraph);
    }
    if (seen.has(name)) {
      problems.push(
        at(
          i,
          ['name'],
          'error',
          'JOB_DUPLICATE',
          `job "${name}" is also jobs[${seen.get(name)}] of this deploy`,
        ),
      );
      return;
    }
    seen.set(name, i);
    const other = elsewhere.get(name);
    if (other) {
      problems.push(
        at(
          i,
          ['name'],
          'error',
          'JOB_NAME_TAKEN',
          `job "${name}" already exists in namespace "${other}" of this project`,
          'job names are unique per project: rename it, or delete it from the other namespace first',
        ),
      );
      return;
    }
    for (const secret of new Set(configs.flatMap((c) => Object.values(c).flatMap(secretNames)))) {
      if (!secretSet.has(secret)) {
        problems.push(
          at(
            i,
            [],
            'warning',
            'SECRET_MISSING',
            `job "${name}" uses secret ${secret}, which is not set for this namespace`,
            `set it with \`optimus secret set ${secret}\` before the job runs`,
          ),
        );
      }
    }
    // An invalid job left an error above, so the deploy is rejected before `incoming` is used.
    incoming.push({
      projectName,
      namespaceName: req.namespace,
      name,
      spec: rest as Json,
      assets: (rawAssets ?? {}) as Record<string, string>,
      hash,
      runGraph,
    });
  });

  const base = { projectName, namespaceName: req.namespace, startedAt };
  if (errorsOf(problems).length) {
    const failed = await store.recordDeploy({
      ...base,
      status: 'failed',
      finishedAt: new Date(),
      added: [],
      modified: [],
      deleted: [],
      unchanged: 0,
      problems: errorsOf(problems).slice(0, 1000) as unknown as Json,
    });
    throw new DeployRejected(problems, failed.id, req.jobs.length);
  }

  const added: string[] = [];
  const modified: string[] = [];
  const upsert: JobInput[] = [];
  let unchanged = 0;
  for (const job of incoming) {
    const hash = current.get(job.name);
    if (hash === undefined) added.push(job.name);
    else if (hash !== job.hash) modified.push(job.name);
    else {
      unchanged++;
      continue;
    }
    upsert.push(job);
  }
  // Stryker disable next-line MethodExpression: the store lists jobs by name already; sorting keeps the record independent of that
  const deleted = [...current.keys()].filter((name) => !seen.has(name)).sort();
  const record = {
    ...base,
    added: added.sort(),
    modified: modified.sort(),
    deleted,
    unchanged,
    problems: [] as Json,
  };
  const warnings = warningsOf(problems);
  if (!upsert.length && !deleted.length) {
    return {
      deploy: await store.recordDeploy({ ...record, status: 'unchanged', finishedAt: new Date() }),
      warnings,
    };
  }
  const deploy = await store.applyDeploy({
    upsert,
    delete: deleted,
    deploy: { ...record, status: 'succeeded', finishedAt: new Date() },
  });
  return { deploy, warnings };
}

/** Asset names that could escape the job's assets folder or confuse a file system, as problems. */
function assetProblems(assets: unknown, i: number): Problem[] {
  const out: Problem[] = [];
  // Assets that are not a map are loadJobValue's to report. Only a map's keys are names: a string's
  // would be one per character (a huge asset string must not become millions of keys).
  // Stryker disable next-line ConditionalExpression,LogicalOperator: strings and arrays only have index keys, which are valid names
  if (assets === null || typeof assets !== 'object' || Array.isArray(assets)) return out;
  for (const name of Object.keys(assets)) {
    const why = assetNameProblem(name);
    if (why)
      out.push({
        severity: 'error',
        code: 'ASSET_NAME_INVALID',
        message: `asset ${quote(name)}: ${why}`,
        path: formatPath(['jobs', i, 'assets', name]),
        hint: 'keep assets as files under the job folder’s assets/, named by their path inside it',
      });
  }
  return out;
}

function withoutBadAssets(assets: unknown): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(assets as Record<string, unknown>).filter(([name]) => !assetNameProblem(name)),
  );
}

/** The config maps of a job given as data (task, then hooks), as strings. */
function configMaps(job: Record<string, unknown>): Record<string, string>[] {
  const asMap = (v: unknown) =>
    Object.fromEntries(
      Object.entries((v ?? {}) as Record<string, unknown>).map(([k, x]) => [
        k,
        // Stryker disable next-line StringLiteral: an empty config value names no secret, nor does any placeholder
        x === null || x === undefined ? '' : String(x),
      ]),
    );
  const task = (job.task ?? {}) as Record<string, unknown>;
  return [
    asMap(task.config),
    ...((job.hooks ?? []) as Record<string, unknown>[]).map((h) => asMap(h.config)),
  ];
}

/** What a job's validity depends on besides its own content: plugin specs, hook rules, presets. */
export function validationFingerprint(
  plugins: ReadonlyMap<string, Plugin>,
  rules: readonly string[],
  presets: Record<string, Json> | null = null,
): string {
  const specs = [...plugins.values()]
    .map(({ source: _source, ...p }) => p)
    .sort((a, b) => a.name.localeCompare(b.name));
  return contentHash({ specs, rules, presets });
}

/**
 * Job contents this process has validated, keyed by (fingerprint, content hash), with their run
 * graphs. Content-addressed, so it can never be stale; bounded, oldest entries go first.
 */
export interface ValidatedJobs {
  get(fingerprint: string, hash: string): Json | undefined;
  set(fingerprint: string, hash: string, runGraph: Json): void;
}

export function createValidatedJobs(max = 200_000): ValidatedJobs {
  const entries = new Map<string, Json>();
  return {
    get: (fp, hash) => entries.get(`${fp}:${hash}`),
    set(fp, hash, runGraph) {
      const key = `${fp}:${hash}`;
      entries.delete(key);
      entries.set(key, runGraph);
      if (entries.size > max) entries.delete(entries.keys().next().value!);
    },
  };
}
