/** Replays of a job (and its downstream jobs) over a range of scheduled times: create, list, read, cancel. */
import { z } from 'zod';
import { OptimusError } from '../../core/errors.js';
import {
  cancelReplay,
  createReplay,
  getReplay,
  type ItemState,
  parseReplayTime,
  replaySummaryView,
  replayView,
} from '../../services/replay.js';
import type { RunDefaults } from '../../services/runs.js';
import type { ReplayStatus } from '../../store/replay-store.js';
import type { Store } from '../../store/store.js';
import { ApiError } from '../errors.js';
import { jobName, projectName } from '../names.js';
import { type AnyRoute, defineRoute } from '../route.js';
import { requireProject } from './projects.js';

const isoTime = z.string().describe('RFC 3339 date-time (UTC)');
const replayStatus = z.enum([
  'running',
  'succeeded',
  'failed',
  'cancelled',
] as const satisfies ReplayStatus[]);
const ITEM_STATES = [
  'waiting',
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'skipped',
] as const satisfies ItemState[];
const counts = z.strictObject({
  total: z.number().int(),
  ...Object.fromEntries(ITEM_STATES.map((s) => [s, z.number().int()])),
});
const header = {
  id: z.number().int(),
  project: z.string(),
  namespace: z.string(),
  job: z.string(),
  from: isoTime,
  to: isoTime,
  downstream: z.boolean(),
  parallel: z.boolean(),
  status: replayStatus,
  over: z.boolean(),
  note: z.string().nullable(),
  created_at: isoTime,
  finished_at: isoTime.nullable(),
};
export const replaySchema = z.strictObject({
  ...header,
  counts,
  jobs: z.array(
    z.strictObject({
      project: z.string(),
      namespace: z.string(),
      job: z.string(),
      windows: z.number().int(),
      counts,
    }),
  ),
  items: z.array(
    z.strictObject({
      project: z.string(),
      namespace: z.string(),
      job: z.string(),
      scheduled_at: isoTime,
      window_start: isoTime,
      window_end: isoTime,
      after: z.array(z.number().int()).describe('indexes of the items this one waits for'),
      run_id: z.number().int().nullable(),
      state: z.enum(ITEM_STATES),
    }),
  ),
});
export const replaySummarySchema = z.strictObject({
  ...header,
  jobs: z.array(z.string()),
  counts,
});
const oneReplay = z.strictObject({ replay: replaySchema });

export const REPLAYS_LIMIT_DEFAULT = 20;
export const REPLAYS_LIMIT_MAX = 1000;

const projectParams = z.object({ project: projectName });
const replayParams = projectParams.extend({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, 'must be a replay id (a positive whole number)')
    .transform(Number)
    .refine((n) => Number.isSafeInteger(n), 'is too large to be a replay id'),
});
const bound = (end: 'from' | 'to') =>
  z
    .string({ error: 'must be a date (2026-03-01) or an RFC 3339 time' })
    .max(64, 'must be a date (2026-03-01) or an RFC 3339 time')
    .transform((s, ctx) => {
      const d = parseReplayTime(s, end);
      if (d) return d;
      ctx.addIssue({
        code: 'custom',
        message: 'must be a date (2026-03-01) or an RFC 3339 time (2026-03-01T02:00:00Z)',
      });
      return z.NEVER;
    });

export interface ReplayRouteDeps {
  store: Store;
  /** Told when a replay creates or cancels runs, so the runner acts now rather than at its next pass. */
  runner?: { wake(): void } | undefined;
  defaults: RunDefaults;
}

export function replayRoutes({ store, runner, defaults }: ReplayRouteDeps): AnyRoute[] {
  const base = '/api/v1beta1/project/:project/replay';
  const notFound = (e: unknown) => {
    if (e instanceof OptimusError && e.code === 'REPLAY_NOT_FOUND') {
      throw new ApiError(
        404,
        e.code,
        e.message,
        [{ path: 'params.id', message: 'is not a replay of this project' }],
        e.hint,
      );
    }
    throw e;
  };
  return [
    defineRoute({
      method: 'POST',
      url: base,
      summary: 'Create replay',
      tag: 'replays',
      params: projectParams,
      body: z.object({
        job: jobName.describe('the job to run again'),
        from: bound('from').describe('first scheduled time, inclusive: a date (UTC) or an RFC 3339 time'),
        to: bound('to').describe(
          'last scheduled time, inclusive: a date (the whole day, UTC) or an RFC 3339 time',
        ),
        downstream: z
          .boolean({ error: 'must be true or false' })
          .optional()
          .describe('also every job downstream of it'),
        parallel: z
          .boolean({ error: 'must be true or false' })
          .optional()
          .describe("run a job's windows side by side instead of one after another"),
      }),
      status: 201,
      response: oneReplay,
      handler: async ({ params, body }) => {
        await requireProject(store, params.project);
        if (body.from > body.to) {
          throw new ApiError(
            400,
            'REPLAY_RANGE_INVALID',
            `the range is empty: from ${body.from.toISOString()} is after to ${body.to.toISOString()}`,
            [{ path: 'body.to', message: 'must not be before from' }],
            'give from before to (both are inclusive)',
          );
        }
        let replay: Awaited<ReturnType<typeof createReplay>>;
        try {
          replay = await createReplay(
            { store },
            {
              project: params.project,
              job: body.job,
              from: body.from,
              to: body.to,
              downstream: body.downstream === true,
              parallel: body.parallel === true,
            },
            defaults,
          );
        } catch (e) {
          if (e instanceof OptimusError && e.code === 'JOB_NOT_FOUND') {
            throw new ApiError(
              404,
              e.code,
              e.message,
              [{ path: 'body.job', message: 'is not deployed' }],
              e.hint,
            );
          }
          if (
            e instanceof OptimusError &&
            ['REPLAY_NOT_SCHEDULED', 'REPLAY_EMPTY', 'REPLAY_TOO_LARGE'].includes(e.code)
          ) {
            const path = e.code === 'REPLAY_NOT_SCHEDULED' ? 'body.job' : 'body.to';
            throw new ApiError(400, e.code, e.message, [{ path, message: e.message }], e.hint);
          }
          throw e;
        }
        runner?.wake();
        return { replay: replayView(replay) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: base,
      summary: 'List replays',
      tag: 'replays',
      params: projectParams,
      query: z.object({
        job: jobName.optional().describe('only replays of this job'),
        limit: z.coerce
          .number({ error: 'must be a number' })
          .int('must be a whole number')
          .min(1, 'must be at least 1')
          .max(REPLAYS_LIMIT_MAX, `must be at most ${REPLAYS_LIMIT_MAX}`)
          .optional()
          .describe(`default ${REPLAYS_LIMIT_DEFAULT}`),
      }),
      response: z.strictObject({ replays: z.array(replaySummarySchema).describe('newest first') }),
      handler: async ({ params, query }) => {
        await requireProject(store, params.project);
        const replays = await store.listReplays(params.project, {
          limit: query.limit ?? REPLAYS_LIMIT_DEFAULT,
          ...(query.job !== undefined ? { job: query.job } : {}),
        });
        return { replays: replays.map(replaySummaryView) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: `${base}/:id`,
      summary: 'Get replay',
      tag: 'replays',
      params: replayParams,
      response: oneReplay,
      handler: async ({ params }) => {
        await requireProject(store, params.project);
        const replay = await getReplay({ store }, params.project, params.id).catch(notFound);
        return { replay: replayView(replay) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: `${base}/:id/cancel`,
      summary: 'Cancel replay',
      tag: 'replays',
      params: replayParams,
      response: oneReplay,
      handler: async ({ params }) => {
        await requireProject(store, params.project);
        const replay = await cancelReplay({ store }, params.project, params.id, 'a request to the API').catch(
          notFound,
        );
        runner?.wake();
        return { replay: replayView(replay) };
      },
    }),
  ];
}
