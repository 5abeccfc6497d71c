/**
 * Reads across projects, for the web console's lists: every deployed job (filtered and paged in the
 * store, so 10,000 jobs cost one page), and the deploy history of every namespace.
 */
import { z } from 'zod';
import { hasControlChar } from '../../core/names.js';
import type { JobIndexRow, Store } from '../../store/store.js';
import { namespaceName, projectName } from '../names.js';
import { type AnyRoute, defineRoute } from '../route.js';
import { deployJson } from './jobs.js';
import { deploySchema, jobIndexRowSchema, runStatusSchema } from './schemas.js';

export const JOB_INDEX_LIMIT = { default: 100, max: 1000 };
export const DEPLOYS_LIMIT = { default: 50, max: 1000 };

const limit = (l: { default: number; max: number }) =>
  z.coerce
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(l.max, `must be at most ${l.max}`)
    .optional()
    .describe(`at most this many (default ${l.default}, max ${l.max})`);

const jobIndexQuery = z.object({
  q: z
    .string()
    .max(200, 'must be at most 200 characters')
    .refine((s) => !hasControlChar(s), 'must not contain control characters')
    .optional()
    .describe("case-insensitive substring of the job's name or owner"),
  project: projectName.optional(),
  namespace: namespaceName.optional(),
  plugin: z
    .string()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
    .optional()
    .describe('jobs using this plugin as their task or as a hook'),
  last_status: z
    .enum([...runStatusSchema.options, 'never'])
    .optional()
    .describe("status of the job's newest run; never: the job has no run"),
  limit: limit(JOB_INDEX_LIMIT),
  offset: z.coerce
    .number()
    .int('must be a whole number')
    .min(0, 'must be at least 0')
    .max(1_000_000_000, 'must be at most 1000000000')
    .optional()
    .describe('skip this many (default 0)'),
});

const jobIndexJson = (j: JobIndexRow) => ({
  project: j.projectName,
  namespace: j.namespaceName,
  name: j.name,
  task: j.task,
  hooks: j.hooks,
  schedule: j.schedule,
  owner: j.owner,
  updated_at: j.updatedAt.toISOString(),
  last_run: j.lastRun && {
    id: j.lastRun.id,
    status: j.lastRun.status,
    scheduled_at: j.lastRun.scheduledAt.toISOString(),
  },
});

export function catalogRoutes(store: Store): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/jobs',
      summary: 'Jobs index',
      tag: 'jobs',
      query: jobIndexQuery,
      response: z.object({
        total: z.number().int().describe('jobs matching the filters, on every page'),
        jobs: z.array(jobIndexRowSchema).describe('sorted by project, namespace and name'),
      }),
      handler: async ({ query }) => {
        const { total, jobs } = await store.jobIndex({
          ...(query.q !== undefined ? { q: query.q } : {}),
          ...(query.project !== undefined ? { project: query.project } : {}),
          ...(query.namespace !== undefined ? { namespace: query.namespace } : {}),
          ...(query.plugin !== undefined ? { plugin: query.plugin } : {}),
          ...(query.last_status !== undefined ? { lastStatus: query.last_status } : {}),
          limit: query.limit ?? JOB_INDEX_LIMIT.default,
          offset: query.offset ?? 0,
        });
        return { total, jobs: jobs.map(jobIndexJson) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/deploys',
      summary: 'Recent deploys',
      tag: 'jobs',
      query: z.object({
        project: projectName.optional(),
        namespace: namespaceName.optional(),
        limit: limit(DEPLOYS_LIMIT),
      }),
      response: z.object({ deploys: z.array(deploySchema).describe('newest first') }),
      handler: async ({ query }) => {
        const deploys = await store.recentDeploys({
          ...(query.project !== undefined ? { project: query.project } : {}),
          ...(query.namespace !== undefined ? { namespace: query.namespace } : {}),
          limit: query.limit ?? DEPLOYS_LIMIT.default,
        });
        return { deploys: deploys.map(deployJson) };
      },
    }),
  ];
}
