/**
 * Deploy a namespace's jobs (in full, or by manifest: only what changed travels), plan a deploy
 * without applying it, read jobs back with their lineage, delete one, and the deploy history.
 */
import { z } from 'zod';
import { downstreamsOf, jobKey } from '../../core/lineage.js';
import { runGraphView } from '../../core/run-graph.js';
import type { DagPublisher } from '../../scheduler/airflow/publish.js';
import {
  createValidatedJobs,
  type DeployRequest,
  DeployStale,
  deployManifest,
  deployNamespace,
  type KeepEntry,
  planDeploy,
} from '../../services/deploy.js';
import type { Inferrer } from '../../services/lineage-contract.js';
import type { LineageRow } from '../../store/lineage-store.js';
import type { DeployRecord, JobRecord, Store } from '../../store/store.js';
import { ApiError, problemDetail } from '../errors.js';
import { jobName, namespaceName, projectName } from '../names.js';
import type { PluginRegistry } from '../plugin-registry.js';
import { type AnyRoute, defineRoute } from '../route.js';
import { requireNamespace, requireProject } from './projects.js';
import { deploySchema, detailSchema, runGraphSchema, timestamp, upstreamEdgeSchema } from './schemas.js';

const nsParams = z.object({ project: projectName, namespace: namespaceName });
const jobParams = nsParams.extend({ job: jobName });

export const DEPLOY_BODY_LIMIT = 512 * 1024 * 1024;

export const deployJson = (d: DeployRecord) => ({
  id: d.id,
  project: d.projectName,
  namespace: d.namespaceName,
  status: d.status,
  started_at: d.startedAt.toISOString(),
  finished_at: d.finishedAt.toISOString(),
  added: d.added,
  modified: d.modified,
  deleted: d.deleted,
  unchanged: d.unchanged,
  problems: d.problems,
});

/** More jobs than any namespace holds; bounds the work one request can ask for. */
const MANIFEST_MAX = 1_000_000;

/**
 * A list of `{name, hash}`: the jobs a client holds unchanged. Each name at most once, so a
 * manifest cannot say two things about one job.
 */
const manifestList = (what: string) =>
  z
    .array(
      z.object({
        name: jobName,
        hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be a job content hash (64 lower-case hex digits)'),
      }),
    )
    .max(MANIFEST_MAX, `must list at most ${MANIFEST_MAX} jobs`)
    .superRefine((entries, ctx) => {
      const first = new Map<string, number>();
      entries.forEach((e, i) => {
        const seen = first.get(e.name);
        if (seen === undefined) first.set(e.name, i);
        else
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `lists job "${e.name}" again (first at [${seen}])`,
          });
      });
    })
    .describe(what);

const deployBody = z.object({
  jobs: z
    .array(z.record(z.string(), z.unknown()))
    .describe(
      'the namespace’s whole state: job.yaml fields after inheritance, plus `assets` (path → content)',
    ),
  keep: manifestList(
    'jobs not sent because they are unchanged: each must be deployed in this namespace with that hash, else 409 DEPLOY_STALE',
  ).optional(),
});

/** A stale manifest as a 409 naming each job the client must send in full. */
function staleAnswer(e: DeployStale, keep: readonly KeepEntry[]): ApiError {
  const index = new Map(keep.map((k, i) => [k.name, i]));
  return new ApiError(
    409,
    e.code,
    e.message,
    e.names.map((name) => ({
      path: `body.keep[${index.get(name)}]`,
      code: 'JOB_STALE',
      message: `job "${name}" is not deployed in this namespace with that hash: send it in full`,
    })),
    e.hint,
  );
}

const jobJson = (j: JobRecord) => ({
  name: j.name,
  project: j.projectName,
  namespace: j.namespaceName,
  hash: j.hash,
  spec: j.spec,
  assets: j.assets,
  run_graph: runGraphView(j.runGraph),
  created_at: j.createdAt.toISOString(),
  updated_at: j.updatedAt.toISOString(),
});

const warnings = z.array(detailSchema);

const upstreamChange = z
  .object({
    project: z.string(),
    job: z.string(),
    added: z.array(upstreamEdgeSchema),
    removed: z.array(upstreamEdgeSchema),
    changed: z.array(z.object({ before: upstreamEdgeSchema, after: upstreamEdgeSchema }).loose()),
  })
  .loose();

const planSchema = z
  .object({
    added: z.array(z.string()),
    modified: z.array(
      z
        .object({
          name: z.string(),
          changes: z.array(
            z
              .object({
                path: z.string(),
                before: z.unknown().optional(),
                after: z.unknown().optional(),
                change: z
                  .enum(['added', 'removed', 'modified'])
                  .optional()
                  .describe('an asset, by name only'),
              })
              .loose(),
          ),
        })
        .loose(),
    ),
    deleted: z.array(z.string()),
    unchanged: z.number().int(),
    relineaged: z.array(z.string()),
    upstreams: z.array(upstreamChange),
    cycles: z
      .array(z.array(z.string()))
      .optional()
      .describe('project/job along each cycle: the deploy would be refused'),
  })
  .loose();

const jobSchema = z
  .object({
    name: z.string(),
    project: z.string(),
    namespace: z.string(),
    hash: z.string(),
    spec: z.record(z.string(), z.unknown()).describe('job.yaml fields after inheritance'),
    assets: z.record(z.string(), z.string()),
    run_graph: runGraphSchema,
    created_at: timestamp,
    updated_at: timestamp,
    destination: z.string().nullable(),
    sources: z.array(
      z
        .object({
          urn: z.string(),
          writers: z.array(z.object({ project: z.string(), namespace: z.string(), job: z.string() }).loose()),
          external: z.boolean(),
        })
        .loose(),
    ),
    lineage_warnings: z.array(z.string()),
    upstreams: z.array(upstreamEdgeSchema),
    downstreams: z.array(upstreamEdgeSchema),
  })
  .loose();

const jobNotFound = (p: { job: string; namespace: string }) =>
  new ApiError(404, 'JOB_NOT_FOUND', `job "${p.job}" is not deployed in namespace "${p.namespace}"`);

/**
 * The job's lineage for `GET …/job/{j}`: where it writes, what it reads (with the jobs that write
 * each source; none = external), and its upstreams and downstreams with their kind and reasons.
 */
function lineageJson(job: JobRecord, rows: readonly LineageRow[]) {
  const self = jobKey(job.projectName, job.name);
  const writers = new Map<string, { project: string; namespace: string; job: string }[]>();
  for (const r of rows) {
    if (r.destination === null || jobKey(r.projectName, r.name) === self) continue;
    const list = writers.get(r.destination) ?? [];
    list.push({ project: r.projectName, namespace: r.namespaceName, job: r.name });
    writers.set(r.destination, list);
  }
  return {
    destination: job.lineage?.destination ?? null,
    sources: (job.lineage?.sources ?? []).map((urn) => {
      const w = writers.get(urn) ?? [];
      return { urn, writers: w, external: w.length === 0 };
    }),
    lineage_warnings: job.lineage?.warnings ?? [],
    upstreams: job.upstreams,
    downstreams: downstreamsOf(rows, job.projectName, job.name),
  };
}

export function jobRoutes(
  store: Store,
  registry: PluginRegistry,
  inferrer?: Inferrer,
  /** Set when scheduler.type is airflow: DAGs are compiled and synced after each change. */
  dags?: DagPublisher,
): AnyRoute[] {
  const validated = createValidatedJobs();
  const deps = () => ({
    store,
    plugins: registry.plugins,
    validated,
    ...(inferrer ? { inferrer } : {}),
  });
  const deployRequest = async (
    params: { project: string; namespace: string },
    body: z.infer<typeof deployBody>,
  ): Promise<DeployRequest> => {
    const project = await requireProject(store, params.project);
    await requireNamespace(store, params.project, params.namespace);
    return {
      project,
      namespace: params.namespace,
      jobs: body.jobs,
      ...(body.keep ? { keep: body.keep } : {}),
    };
  };
  const stale = async <T>(keep: readonly KeepEntry[] | undefined, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw e instanceof DeployStale ? staleAnswer(e, keep ?? []) : e;
    }
  };
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1beta1/project/:project/namespace/:namespace/deploy',
      summary: 'Deploy namespace jobs',
      tag: 'jobs',
      params: nsParams,
      bodyLimit: DEPLOY_BODY_LIMIT,
      body: deployBody,
      response: z.object({ deploy: deploySchema, relineaged: z.array(z.string()), warnings }),
      handler: async ({ params, body }) => {
        const req = await deployRequest(params, body);
        const publish = await dags?.track(params.project);
        const { deploy, warnings, relineaged } = await stale(body.keep, () => deployNamespace(deps(), req));
        const published = publish ? (await publish()).flatMap((o) => o.warnings) : [];
        return {
          deploy: deployJson(deploy),
          relineaged,
          warnings: [...warnings, ...published].map(problemDetail),
        };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1beta1/project/:project/namespace/:namespace/deploy/plan',
      summary: 'Plan a deploy',
      tag: 'jobs',
      params: nsParams,
      bodyLimit: DEPLOY_BODY_LIMIT,
      body: deployBody,
      response: z.object({ plan: planSchema, warnings }),
      handler: async ({ params, body }) => {
        const req = await deployRequest(params, body);
        const { plan, warnings } = await stale(body.keep, () => planDeploy(deps(), req));
        return { plan, warnings: warnings.map(problemDetail) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1beta1/project/:project/namespace/:namespace/deploy/manifest',
      summary: 'Compare a deploy manifest',
      tag: 'jobs',
      params: nsParams,
      bodyLimit: DEPLOY_BODY_LIMIT,
      body: z.object({
        jobs: manifestList('every job the client would deploy to this namespace, by content hash'),
      }),
      response: z.object({
        send: z.array(z.string()).describe('jobs to send in full'),
        unchanged: z.array(z.string()).describe('jobs to list in `keep`'),
        deleted: z.array(z.string()).describe('jobs the deploy would delete'),
      }),
      handler: async ({ params, body }) => {
        await requireProject(store, params.project);
        await requireNamespace(store, params.project, params.namespace);
        return deployManifest(store, params.project, params.namespace, body.jobs);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/project/:project/namespace/:namespace/deploy',
      summary: 'List deploys',
      tag: 'jobs',
      params: nsParams,
      query: z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }),
      response: z.object({ deploys: z.array(deploySchema).describe('newest first') }),
      handler: async ({ params, query }) => {
        await requireNamespace(store, params.project, params.namespace);
        return {
          deploys: (await store.listDeploys(params.project, params.namespace, query.limit ?? 50)).map(
            deployJson,
          ),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/project/:project/namespace/:namespace/job',
      summary: 'List jobs',
      tag: 'jobs',
      params: nsParams,
      response: z.object({
        jobs: z.array(z.object({ name: z.string(), hash: z.string(), updated_at: timestamp }).loose()),
      }),
      handler: async ({ params }) => {
        await requireNamespace(store, params.project, params.namespace);
        const jobs = await store.jobSummaries(params.project, { namespace: params.namespace });
        return {
          jobs: jobs.map((j) => ({ name: j.name, hash: j.hash, updated_at: j.updatedAt.toISOString() })),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/project/:project/namespace/:namespace/job/:job',
      summary: 'Get job',
      tag: 'jobs',
      params: jobParams,
      response: z.object({ job: jobSchema }),
      handler: async ({ params }) => {
        await requireNamespace(store, params.project, params.namespace);
        const job = await store.getJob(params.project, params.namespace, params.job);
        if (!job) throw jobNotFound(params);
        return { job: { ...jobJson(job), ...lineageJson(job, await store.lineageRows()) } };
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/v1beta1/project/:project/namespace/:namespace/job/:job',
      summary: 'Delete job',
      tag: 'jobs',
      params: jobParams,
      response: z.object({ deleted: z.string(), warnings: warnings.optional() }),
      handler: async ({ params }) => {
        await requireNamespace(store, params.project, params.namespace);
        const publish = await dags?.track(params.project);
        if (!(await store.deleteJob(params.project, params.namespace, params.job))) {
          throw jobNotFound(params);
        }
        const published = publish ? (await publish()).flatMap((o) => o.warnings) : [];
        return {
          deleted: params.job,
          ...(published.length ? { warnings: published.map(problemDetail) } : {}),
        };
      },
    }),
  ];
}
