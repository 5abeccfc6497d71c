/**
 * Deploy a namespace's whole state: validate every job with the same rules as the CLI, diff by
 * content hash, and apply added, modified and deleted jobs in one transaction. A deploy with any
 * invalid job changes no job and reports every problem; an unchanged re-deploy writes no job.
 */
import { contentHash } from '../core/canonical-json.js';
import { OptimusError } from '../core/errors.js';
import { parseHookRules } from '../core/hook-rules.js';
import type { Plugin } from '../core/plugin.js';
import { errorsOf, formatPath, type PathSegment, type Problem, warningsOf } from '../core/problem.js';
import { secretNames } from '../core/secret-ref.js';
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
    const jobs = new Set(errors.map((p) => /^jobs\[(\d+)\]/.exec(p.path ?? '')?.[1]).filter(Boolean)).size;
    super(
      'DEPLOY_INVALID',
      `deploy rejected: ${errors.length} problem(s) in ${jobs || 'the request'}${jobs ? ` of ${jobCount} job(s)` : ''}; nothing was changed`,
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
  const fingerprint = deps.validated ? validationFingerprint(plugins, req.project.pluginDependencies) : '';
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
    const raw =
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
    const { assets: rawAssets, ...rest } = raw ?? {};
    const hash = contentHash({ spec: rest, assets: rawAssets ?? {} });
    // Content this process already validated under the same plugins and hook rules is valid again.
    let runGraph = raw ? deps.validated?.get(fingerprint, hash) : undefined;
    let name: string;
    let configs: Record<string, string>[];
    let failed = false;
    if (runGraph !== undefined) {
      name = String(rest.name);
      configs = configMaps(rest);
    } else {
      const report = checkLoadedJob(loadJobValue(value, ['jobs', i]), req.namespace, {
        plugins,
        rules,
        presets: null,
      });
      problems.push(...report.problems);
      const spec = report.spec;
      if (!spec) return;
      name = spec.name;
      configs = [spec.task.config, ...spec.hooks.map((h) => h.config)];
      failed = errorsOf(report.problems).length > 0;
      runGraph = report.nodes.map((n) => ({
        name: n.name,
        type: n.type,
        stage: n.stage,
        depends_on: n.dependsOn,
      }));
      if (!failed) deps.validated?.set(fingerprint, hash, runGraph);
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
    if (failed) return;
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

/** The config maps of a job given as data (task, then hooks), as strings. */
function configMaps(job: Record<string, unknown>): Record<string, string>[] {
  const asMap = (v: unknown) =>
    Object.fromEntries(
      Object.entries((v ?? {}) as Record<string, unknown>).map(([k, x]) => [
        k,
        x === null || x === undefined ? '' : String(x),
      ]),
    );
  const task = (job.task ?? {}) as Record<string, unknown>;
  return [
    asMap(task.config),
    ...((job.hooks ?? []) as Record<string, unknown>[]).map((h) => asMap(h.config)),
  ];
}

/** What a job's validity depends on besides its own content: the plugin specs and the hook rules. */
export function validationFingerprint(
  plugins: ReadonlyMap<string, Plugin>,
  rules: readonly string[],
): string {
  const specs = [...plugins.values()]
    .map(({ source: _source, ...p }) => p)
    .sort((a, b) => a.name.localeCompare(b.name));
  return contentHash({ specs, rules });
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
