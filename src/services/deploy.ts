/**
 * Deploy a namespace's whole state: validate every job with the same rules as the CLI, diff by
 * content hash, and apply added, modified and deleted jobs in one transaction. A deploy with any
 * invalid job changes no job and reports every problem; an unchanged re-deploy writes no job.
 */
import { contentHash } from '../core/canonical-json.js';
import { OptimusError } from '../core/errors.js';
import { parseHookRules } from '../core/hook-rules.js';
import type { Plugin } from '../core/plugin.js';
import { errorsOf, type Problem, warningsOf } from '../core/problem.js';
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
  deps: { store: Store; plugins: ReadonlyMap<string, Plugin> },
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
  req.jobs.forEach((value, i) => {
    const loaded = loadJobValue(value, ['jobs', i]);
    const report = checkLoadedJob(loaded, req.namespace, { plugins, rules, presets: null });
    problems.push(...report.problems);
    const spec = report.spec;
    if (!spec) return;
    if (seen.has(spec.name)) {
      problems.push(
        loaded.problem(
          ['name'],
          'error',
          'JOB_DUPLICATE',
          `job "${spec.name}" is also jobs[${seen.get(spec.name)}] of this deploy`,
        ),
      );
      return;
    }
    seen.set(spec.name, i);
    const other = elsewhere.get(spec.name);
    if (other) {
      problems.push(
        loaded.problem(
          ['name'],
          'error',
          'JOB_NAME_TAKEN',
          `job "${spec.name}" already exists in namespace "${other}" of this project`,
          {
            hint: 'job names are unique per project: rename it, or delete it from the other namespace first',
          },
        ),
      );
      return;
    }
    const configs = [spec.task.config, ...spec.hooks.map((h) => h.config)];
    for (const name of new Set(configs.flatMap((c) => Object.values(c).flatMap(secretNames)))) {
      if (!secretSet.has(name)) {
        problems.push(
          loaded.problem(
            [],
            'warning',
            'SECRET_MISSING',
            `job "${spec.name}" uses secret ${name}, which is not set for this namespace`,
            {
              hint: `set it with \`optimus secret set ${name}\` before the job runs`,
            },
          ),
        );
      }
    }
    if (errorsOf(report.problems).length) return;
    const { assets, ...rest } = value as Record<string, unknown>;
    incoming.push({
      projectName,
      namespaceName: req.namespace,
      name: spec.name,
      spec: rest as Json,
      assets: spec.assets,
      hash: contentHash({ spec: rest, assets: spec.assets }),
      runGraph: report.nodes.map((n) => ({
        name: n.name,
        type: n.type,
        stage: n.stage,
        depends_on: n.dependsOn,
      })),
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
