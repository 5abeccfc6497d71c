/** Deploy a namespace's jobs, read them back, delete one, and the deploy history. */
import { z } from 'zod';
import { createValidatedJobs, deployNamespace } from '../../services/deploy.js';
import type { DeployRecord, JobRecord, Store } from '../../store/store.js';
import { ApiError, problemDetail } from '../errors.js';
import { jobName, namespaceName, projectName } from '../names.js';
import type { PluginRegistry } from '../plugin-registry.js';
import { type AnyRoute, defineRoute } from '../route.js';
import { requireNamespace, requireProject } from './projects.js';

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

const jobJson = (j: JobRecord) => ({
  name: j.name,
  project: j.projectName,
  namespace: j.namespaceName,
  hash: j.hash,
  spec: j.spec,
  assets: j.assets,
  run_graph: j.runGraph,
  created_at: j.createdAt.toISOString(),
  updated_at: j.updatedAt.toISOString(),
});

const jobNotFound = (p: { job: string; namespace: string }) =>
  new ApiError(404, 'JOB_NOT_FOUND', `job "${p.job}" is not deployed in namespace "${p.namespace}"`);

export function jobRoutes(store: Store, registry: PluginRegistry): AnyRoute[] {
  const validated = createValidatedJobs();
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1beta1/project/:project/namespace/:namespace/deploy',
      summary: 'Deploy namespace jobs',
      tag: 'jobs',
      params: nsParams,
      bodyLimit: DEPLOY_BODY_LIMIT,
      body: z.object({
        jobs: z
          .array(z.record(z.string(), z.unknown()))
          .describe(
            'the namespace’s whole state: job.yaml fields after inheritance, plus `assets` (path → content)',
          ),
      }),
      handler: async ({ params, body }) => {
        const project = await requireProject(store, params.project);
        await requireNamespace(store, params.project, params.namespace);
        const { deploy, warnings } = await deployNamespace(
          { store, plugins: registry.plugins, validated },
          { project, namespace: params.namespace, jobs: body.jobs },
        );
        return { deploy: deployJson(deploy), warnings: warnings.map(problemDetail) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/project/:project/namespace/:namespace/deploy',
      summary: 'List deploys',
      tag: 'jobs',
      params: nsParams,
      query: z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }),
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
      handler: async ({ params }) => {
        await requireNamespace(store, params.project, params.namespace);
        const jobs = (await store.jobSummaries(params.project)).filter(
          (j) => j.namespaceName === params.namespace,
        );
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
      handler: async ({ params }) => {
        await requireNamespace(store, params.project, params.namespace);
        const job = await store.getJob(params.project, params.namespace, params.job);
        if (!job) throw jobNotFound(params);
        return { job: jobJson(job) };
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/v1beta1/project/:project/namespace/:namespace/job/:job',
      summary: 'Delete job',
      tag: 'jobs',
      params: jobParams,
      handler: async ({ params }) => {
        await requireNamespace(store, params.project, params.namespace);
        if (!(await store.deleteJob(params.project, params.namespace, params.job))) {
          throw jobNotFound(params);
        }
        return { deleted: params.job };
      },
    }),
  ];
}
