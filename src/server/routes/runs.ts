/**
 * Runs: the newest runs across jobs, and a job's runs: trigger one, list them, read one, read its
 * logs, follow it live (server-sent events), cancel it, retry its failed nodes.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { hasControlChar, quote } from '../../core/names.js';
import {
  cancelRun,
  RetryNodeError,
  type RunDefaults,
  retryRun,
  runEvents,
  runIsOver,
  runViews,
  sleepUnlessAborted,
  triggerRun,
} from '../../services/runs.js';
import type { AttemptStatus, LogLineRecord, NodeStatus, RunRecord } from '../../store/run-store.js';
import type { Store } from '../../store/store.js';
import { ApiError } from '../errors.js';
import { jobName, namespaceName, projectName } from '../names.js';
import { type AnyRoute, defineRoute } from '../route.js';
import { requireProject } from './projects.js';
import { timestamp as isoTime, RUN_STATUSES, runStatusSchema } from './schemas.js';

export const RUNS_LIMIT_DEFAULT = 20;
export const RUNS_LIMIT_MAX = 1000;
export const LOGS_LIMIT_DEFAULT = 1000;
export const LOGS_LIMIT_MAX = 10_000;
export const RECENT_RUNS_LIMIT_DEFAULT = 50;
export const RECENT_RUNS_LIMIT_MAX = 500;
/** Live event streams one server keeps open at most; beyond, 503. */
export const EVENT_STREAMS_MAX = 100;
export const EVENT_POLL_MS = 300;
export const KEEP_ALIVE_MS = 15_000;
/** Lines per `log` event at most. */
const EVENT_LOG_BATCH = 1000;

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

// ————————————————————————————————————————————— response schemas

const nodeStatus = z.enum([
  'pending',
  'queued',
  'running',
  'succeeded',
  'failed',
  'upstream_failed',
  'skipped',
  'cancelled',
] as const satisfies NodeStatus[]);

export const attemptSchema = z.strictObject({
  attempt: z.number().int().describe('1-based; goes on counting after a retry'),
  status: z.enum([
    'running',
    'succeeded',
    'failed',
    'cancelled',
    'timed_out',
  ] as const satisfies AttemptStatus[]),
  started_at: isoTime,
  finished_at: isoTime.nullable(),
  duration_ms: z.number().nullable().describe('so far, while it runs'),
  exit_code: z.number().int().nullable(),
  error: z.string().nullable(),
});

export const runNodeSchema = z.strictObject({
  name: z.string(),
  type: z.string().describe('the plugin'),
  stage: z.enum(['pre', 'task', 'post', 'fail']),
  depends_on: z.array(z.string()),
  status: nodeStatus,
  attempt: z.number().int().describe('attempts started so far'),
  attempts_before: z
    .number()
    .int()
    .describe('attempts started before the last manual retry: they do not count against max_attempts'),
  not_before: isoTime.nullable().describe('a queued retry waits until then'),
  cancel_requested: z.boolean(),
  started_at: isoTime.nullable(),
  finished_at: isoTime.nullable(),
  duration_ms: z.number().nullable(),
  exit_code: z.number().int().nullable(),
  error: z.string().nullable(),
  attempts: z.array(attemptSchema).describe('every attempt started, oldest first'),
});

export const runSchema = z.strictObject({
  id: z.number().int(),
  project: z.string(),
  namespace: z.string(),
  job: z.string(),
  scheduled_at: isoTime,
  trigger: z.enum(['schedule', 'manual', 'replay']),
  status: runStatusSchema,
  over: z.boolean().describe('the run ended and none of its nodes still runs'),
  note: z.string().nullable(),
  job_hash: z.string(),
  created_at: isoTime,
  started_at: isoTime.nullable(),
  finished_at: isoTime.nullable(),
  duration_ms: z.number().nullable(),
  settings: z.strictObject({
    max_attempts: z.number().int(),
    retry_delay_ms: z.number(),
    exponential_backoff: z.boolean(),
    timeout_ms: z.number(),
    depends_on_past: z.boolean(),
    upstream_timeout_ms: z.number(),
  }),
  nodes: z.array(runNodeSchema),
});

export const logLineSchema = z.strictObject({
  id: z.number().int(),
  node: z.string(),
  attempt: z.number().int(),
  stream: z.enum(['stdout', 'stderr', 'system']),
  at: isoTime,
  line: z.string(),
});

const oneRun = z.strictObject({ run: runSchema });

export interface EventStreamOptions {
  /** Open streams at most (default EVENT_STREAMS_MAX). */
  max?: number;
  /** How often an open stream reads the store (default EVENT_POLL_MS). */
  pollMs?: number;
  /** How often a `: keep-alive` comment is sent (default KEEP_ALIVE_MS). */
  keepAliveMs?: number;
}

export interface RunRouteDeps {
  store: Store;
  /** Told when a manual run is created or retried, so it starts now rather than at the runner's next pass. */
  runner?: { wake(): void } | undefined;
  defaults: RunDefaults;
  events?: EventStreamOptions;
}

export function runRoutes({ store, runner, defaults, events = {} }: RunRouteDeps): AnyRoute[] {
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
  const requireNode = (run: RunRecord, node: string | undefined) => {
    if (node === undefined || run.nodes.some((n) => n.name === node)) return;
    throw new ApiError(
      404,
      'NODE_NOT_FOUND',
      `run ${run.id} has no node ${quote(node)}`,
      [{ path: 'query.node', message: 'is not a node of this run' }],
      `its nodes: ${run.nodes.map((n) => n.name).join(', ')}`,
    );
  };
  const view = async (run: RunRecord) => (await runViews(store, [run]))[0]!;
  const streams = { open: 0 };
  const base = '/api/v1beta1/project/:project/job/:job/run';
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/runs',
      summary: 'List recent runs',
      tag: 'runs',
      query: z.object({
        project: projectName.optional().describe('only runs of this project'),
        namespace: namespaceName.optional().describe('only runs of jobs in this namespace'),
        job: jobName.optional().describe('only runs of this job'),
        status: z
          .enum(RUN_STATUSES, { error: `must be one of ${RUN_STATUSES.join(', ')}` })
          .optional()
          .describe('only runs in this status'),
        limit: limit(RECENT_RUNS_LIMIT_MAX).optional().describe(`default ${RECENT_RUNS_LIMIT_DEFAULT}`),
        before: timestamp
          .optional()
          .describe('paging: only runs scheduled before this time (or at it, with before_id)'),
        before_id: id
          .optional()
          .describe('paging, with before: also runs scheduled at `before` whose id is lower'),
      }),
      response: z.strictObject({
        runs: z.array(runSchema).describe('newest scheduled first, then highest id'),
        next: z
          .strictObject({ before: isoTime, before_id: z.number().int() })
          .nullable()
          .describe('the query values of the next page; null when this page was the last'),
      }),
      handler: async ({ query }) => {
        if (query.before_id !== undefined && query.before === undefined) {
          throw new ApiError(
            400,
            'REQUEST_INVALID',
            'invalid request query: before_id needs before',
            [{ path: 'query.before_id', message: 'needs before (the scheduled time of that run)' }],
            'pass both values of the previous answer’s `next`',
          );
        }
        const max = query.limit ?? RECENT_RUNS_LIMIT_DEFAULT;
        const runs = await store.recentRuns({
          limit: max,
          ...(query.project !== undefined ? { project: query.project } : {}),
          ...(query.namespace !== undefined ? { namespace: query.namespace } : {}),
          ...(query.job !== undefined ? { job: query.job } : {}),
          ...(query.status !== undefined ? { status: query.status } : {}),
          ...(query.before
            ? {
                before: {
                  scheduledAt: query.before,
                  ...(query.before_id !== undefined ? { id: query.before_id } : {}),
                },
              }
            : {}),
        });
        const last = runs[runs.length - 1];
        return {
          runs: await runViews(store, runs),
          next:
            last && runs.length === max
              ? { before: last.scheduledAt.toISOString(), before_id: last.id }
              : null,
        };
      },
    }),
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
      response: oneRun,
      handler: async ({ params, body }) => {
        await requireProject(store, params.project);
        const run = await triggerRun(store, params.project, params.job, body?.scheduled_at, defaults);
        runner?.wake();
        return { run: await view(run) };
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
      response: z.strictObject({ runs: z.array(runSchema).describe('newest scheduled first') }),
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
        return { runs: await runViews(store, runs) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: `${base}/:id`,
      summary: 'Get job run',
      tag: 'runs',
      params: runParams,
      response: oneRun,
      handler: async ({ params }) => ({ run: await view(await requireRun(params)) }),
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
      response: z.strictObject({
        lines: z.array(logLineSchema),
        next_after: z.number().int().describe('the `after` of the next request'),
        finished: z
          .boolean()
          .describe('nothing more will come: the run is over and these were its last lines'),
        run_status: runStatusSchema,
      }),
      handler: async ({ params, query }) => {
        // Read the run before its lines: when it was over then, every line it wrote is stored.
        const run = await requireRun(params);
        requireNode(run, query.node);
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
      method: 'GET',
      url: `${base}/:id/events`,
      summary: 'Follow job run',
      tag: 'runs',
      params: runParams,
      query: z.object({
        node: nodeName.optional().describe('only this node’s lines'),
        after: counter
          .optional()
          .describe('only lines after this id (the Last-Event-ID header, when sent, wins)'),
      }),
      // The answer is text/event-stream, not JSON: events `run` ({run}), `log` ({lines}, with the
      // last line's id as the event id) and `end` ({}), and `: keep-alive` comments.
      response: z
        .string()
        .describe(
          'text/event-stream: `event: run` data {run}, sent first and on every change; `event: log` ' +
            '(id: the last line’s id) data {lines}; `event: end` data {} once the run is over and every ' +
            'line was sent, then the stream closes; a `: keep-alive` comment every 15 s',
        ),
      handler: async ({ params, query, request, reply }) => {
        const run = await requireRun(params);
        requireNode(run, query.node);
        const after = lastEventId(request) ?? query.after ?? 0;
        if (streams.open >= (events.max ?? EVENT_STREAMS_MAX)) {
          throw new ApiError(
            503,
            'EVENT_STREAMS_BUSY',
            `this server already has ${streams.open} live run streams open`,
            [],
            'close another live view, or read the run with GET …/run/:id and its logs with GET …/run/:id/logs',
          );
        }
        streams.open++;
        reply.hijack();
        try {
          await streamRunEvents(store, run.id, reply.raw, request, {
            after,
            pollMs: events.pollMs ?? EVENT_POLL_MS,
            keepAliveMs: events.keepAliveMs ?? KEEP_ALIVE_MS,
            ...(query.node !== undefined ? { node: query.node } : {}),
          });
        } finally {
          streams.open--;
        }
        return reply;
      },
    }),
    defineRoute({
      method: 'POST',
      url: `${base}/:id/cancel`,
      summary: 'Cancel job run',
      tag: 'runs',
      params: runParams,
      response: oneRun,
      handler: async ({ params }) => {
        await requireRun(params);
        return { run: await view(await cancelRun(store, params.id, 'a request to the API')) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: `${base}/:id/retry`,
      summary: 'Retry job run',
      tag: 'runs',
      params: runParams,
      body: z
        .object({
          nodes: z
            .array(nodeName, { error: 'must be a list of node names' })
            .min(1, 'must name at least one node (leave it out to retry every failed node)')
            .max(1000, 'must name at most 1000 nodes')
            .optional()
            .describe(
              'the nodes to run again, each failed, upstream_failed or cancelled; default all such nodes',
            ),
        })
        .optional(),
      response: oneRun,
      handler: async ({ params, body }) => {
        await requireRun(params);
        let run: RunRecord;
        try {
          run = await retryRun(store, params.id, body?.nodes);
        } catch (e) {
          if (e instanceof RetryNodeError) {
            throw new ApiError(
              422,
              e.code,
              e.message,
              e.problems.map((p) => ({ path: `body.nodes[${p.index}]`, message: p.message })),
              e.hint,
            );
          }
          throw e;
        }
        runner?.wake();
        return { run: await view(run) };
      },
    }),
  ];
}

/** `Last-Event-ID` of a reconnecting client: the id of the last log line it got. */
function lastEventId(request: FastifyRequest): number | undefined {
  const header = request.headers['last-event-id'];
  if (header === undefined) return undefined;
  const text = (Array.isArray(header) ? header[0]! : header).trim();
  // An empty id is what a client sends before it has seen one.
  if (text === '') return undefined;
  const n = Number(text);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text) || !Number.isSafeInteger(n)) {
    throw new ApiError(
      400,
      'REQUEST_INVALID',
      'invalid request headers: last-event-id must be the id of a log line (a whole number, 0 or more)',
      [{ path: 'headers.last-event-id', message: 'must be a whole number, 0 or more' }],
    );
  }
  return n;
}

/**
 * Writes runEvents as server-sent events until the run is over, the client goes away (the polling
 * stops with it) or the server stops listening (so a shutdown is not held up by an open view).
 */
async function streamRunEvents(
  store: Store,
  runId: number,
  res: ServerResponse,
  request: FastifyRequest,
  opts: { node?: string; after: number; pollMs: number; keepAliveMs: number },
): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  res.once('close', stop);
  const server = request.server.server;
  // Injected requests have no listening server: only a server that was listening can stop.
  const listening = server.listening;
  const write = async (text: string) => {
    if (controller.signal.aborted || res.write(text)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        controller.signal.removeEventListener('abort', done);
        resolve();
      };
      res.once('drain', done);
      controller.signal.addEventListener('abort', done, { once: true });
    });
  };
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    // Proxies (nginx) must pass events on as they come.
    'x-accel-buffering': 'no',
  });
  const keepAlive = setInterval(() => void write(': keep-alive\n\n'), opts.keepAliveMs);
  keepAlive.unref();
  try {
    for await (const event of runEvents(store, runId, {
      pollMs: opts.pollMs,
      after: opts.after,
      batch: EVENT_LOG_BATCH,
      signal: controller.signal,
      ...(opts.node !== undefined ? { node: opts.node } : {}),
      sleep: async (ms, signal) => {
        await sleepUnlessAborted(ms, signal);
        if (listening && !server.listening) stop();
      },
    })) {
      if (event.type === 'run') {
        await write(`event: run\ndata: ${JSON.stringify({ run: event.run })}\n\n`);
      } else if (event.type === 'log') {
        const last = event.lines[event.lines.length - 1]!.id;
        await write(
          `event: log\nid: ${last}\ndata: ${JSON.stringify({ lines: event.lines.map(logLineJson) })}\n\n`,
        );
      } else {
        await write('event: end\ndata: {}\n\n');
      }
    }
  } catch (e) {
    // The status line is sent: the stream just ends (without `end`), and the client reconnects.
    request.log.error({ err: e, run: runId }, 'run event stream failed');
  } finally {
    clearInterval(keepAlive);
    res.off('close', stop);
    stop();
    if (!res.writableEnded) res.end();
  }
}
