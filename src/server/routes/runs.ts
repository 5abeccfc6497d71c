/** Runs of a job: trigger one, list them, read one, follow its logs, cancel it. */
import { z } from 'zod';
import { hasControlChar, quote } from '../../core/names.js';
import { cancelRun, type RunDefaults, runIsOver, runView, triggerRun } from '../../services/runs.js';
import type { LogLineRecord, RunRecord } from '../../store/run-store.js';
import type { Store } from '../../store/store.js';
import { ApiError } from '../errors.js';
import { jobName, projectName } from '../names.js';
import { type AnyRoute, defineRoute } from '../route.js';
import { requireProject } from './projects.js';

export const RUNS_LIMIT_DEFAULT = 20;
export const RUNS_LIMIT_MAX = 1000;
export const LOGS_LIMIT_DEFAULT = 1000;
export const LOGS_LIMIT_MAX = 10_000;

const jobParams = z.object({ project: projectName, job: jobName });
/** Digits only: `1e3`, `0x10` or ` 7` are not run ids, whatever Number() makes of them. */
const id = z
  .string()
  .regex(/^[1-9][0-9]{0,15}$/, 'must be a run id (a positive whole number)')
  .transform(Number)
  .refine((n) => Number.isSafeInteger(n), 'is too large to be a run id');
const counter = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,15})$/, 'must be a whole number, 0 or more')
  .transform(Number)
  .refine((n) => Number.isSafeInteger(n), 'is too large');
const runParams = jobParams.extend({ id });
const limit = (max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`);
const timestamp = z.iso
  .datetime({ offset: true, error: 'must be a date-time with a time zone, e.g. 2026-01-31T06:00:00Z' })
  .transform((s) => new Date(s));
const nodeName = z
  .string()
  .min(1, 'must not be empty')
  .refine((s) => !hasControlChar(s), { message: 'must not contain control characters', abort: true })
  .max(255, 'must be at most 255 characters');

const logLineJson = (l: LogLineRecord) => ({
  id: l.id,
  node: l.node,
  attempt: l.attempt,
  stream: l.stream,
  at: l.at.toISOString(),
  line: l.line,
});

export interface RunRouteDeps {
  store: Store;
  /** Told when a manual run is created, so it starts now rather than at the runner's next pass. */
  runner?: { wake(): void } | undefined;
  defaults: RunDefaults;
}

export function runRoutes({ store, runner, defaults }: RunRouteDeps): AnyRoute[] {
  /** The run, only if it is a run of this job: ids are global, URLs name the job. */
  const requireRun = async (p: { project: string; job: string; id: number }): Promise<RunRecord> => {
    const run = await store.getRun(p.id);
    if (!run || run.projectName !== p.project || run.jobName !== p.job) {
      throw new ApiError(
        404,
        'RUN_NOT_FOUND',
        `job "${p.job}" has no run ${p.id}`,
        [],
        `list its runs with \`optimus job runs ${p.job}\``,
      );
    }
    return run;
  };
  const base = '/api/v1beta1/project/:project/job/:job/run';
  return [
    defineRoute({
      method: 'POST',
      url: base,
      summary: 'Trigger job run',
      tag: 'runs',
      params: jobParams,
      body: z
        .object({
          scheduled_at: timestamp
            .optional()
            .describe('the run’s scheduled time (its window is computed from it); default now'),
        })
        .optional(),
      status: 201,
      handler: async ({ params, body }) => {
        await requireProject(store, params.project);
        const run = await triggerRun(store, params.project, params.job, body?.scheduled_at, defaults);
        runner?.wake();
        return { run: runView(run) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: base,
      summary: 'List job runs',
      tag: 'runs',
      params: jobParams,
      query: z.object({
        limit: limit(RUNS_LIMIT_MAX).optional().describe(`default ${RUNS_LIMIT_DEFAULT}`),
        before: timestamp.optional().describe('only runs scheduled before this time (paging)'),
      }),
      handler: async ({ params, query }) => {
        await requireProject(store, params.project);
        const runs = await store.listRuns(params.project, params.job, {
          limit: query.limit ?? RUNS_LIMIT_DEFAULT,
          ...(query.before ? { before: query.before } : {}),
        });
        // Runs outlive their job (history stays after a delete): only a job with neither is unknown.
        if (!runs.length && !(await store.findJob(params.project, params.job))) {
          throw new ApiError(
            404,
            'JOB_NOT_FOUND',
            `job "${params.job}" is not deployed in project "${params.project}" and has no runs`,
            [],
            'deploy it with `optimus deploy`',
          );
        }
        const now = new Date();
        return { runs: runs.map((r) => runView(r, now)) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: `${base}/:id`,
      summary: 'Get job run',
      tag: 'runs',
      params: runParams,
      handler: async ({ params }) => ({ run: runView(await requireRun(params)) }),
    }),
    defineRoute({
      method: 'GET',
      url: `${base}/:id/logs`,
      summary: 'Read job run logs',
      tag: 'runs',
      params: runParams,
      query: z.object({
        node: nodeName.optional().describe('only this node’s lines'),
        after: counter
          .optional()
          .describe('only lines after this id: the `next_after` of the previous answer'),
        limit: limit(LOGS_LIMIT_MAX).optional().describe(`default ${LOGS_LIMIT_DEFAULT}`),
      }),
      handler: async ({ params, query }) => {
        // Read the run before its lines: when it was over then, every line it wrote is stored.
        const run = await requireRun(params);
        if (query.node !== undefined && !run.nodes.some((n) => n.name === query.node)) {
          throw new ApiError(
            404,
            'NODE_NOT_FOUND',
            `run ${run.id} has no node ${quote(query.node)}`,
            [{ path: 'query.node', message: 'is not a node of this run' }],
            `its nodes: ${run.nodes.map((n) => n.name).join(', ')}`,
          );
        }
        const max = query.limit ?? LOGS_LIMIT_DEFAULT;
        const after = query.after ?? 0;
        const lines = await store.readLogs(run.id, {
          afterId: after,
          limit: max,
          ...(query.node !== undefined ? { node: query.node } : {}),
        });
        return {
          lines: lines.map(logLineJson),
          next_after: lines.length ? lines[lines.length - 1]!.id : after,
          // True when nothing more will come: the run is over and this answer held its last lines.
          finished: runIsOver(run) && lines.length < max,
          run_status: run.status,
        };
      },
    }),
    defineRoute({
      method: 'POST',
      url: `${base}/:id/cancel`,
      summary: 'Cancel job run',
      tag: 'runs',
      params: runParams,
      handler: async ({ params }) => {
        await requireRun(params);
        return { run: runView(await cancelRun(store, params.id, 'a request to the API')) };
      },
    }),
  ];
}
