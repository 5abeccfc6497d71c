/**
 * Response schemas shared by the route modules: the OpenAPI document is generated from them, and
 * the console's client is typed from that, so they describe what the handlers answer, field by
 * field (objects stay open: a field added later is no breaking change).
 */
import { z } from 'zod';
import type { RunStatus } from '../../store/run-store.js';

export const timestamp = z.string().describe('ISO 8601 date-time (UTC)');

/** A problem or warning (errors.ts `problemDetail`). */
export const detailSchema = z
  .object({
    message: z.string(),
    path: z.string().optional(),
    code: z.string().optional(),
    severity: z.string().optional(),
    file: z.string().optional(),
    hint: z.string().optional(),
  })
  .loose();

export const RUN_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
] as const satisfies RunStatus[];
export const runStatusSchema = z.enum(RUN_STATUSES);

/** jobs.ts `deployJson`. */
export const deploySchema = z
  .object({
    id: z.number().int(),
    project: z.string(),
    namespace: z.string(),
    status: z.enum(['succeeded', 'unchanged', 'failed']),
    started_at: timestamp,
    finished_at: timestamp,
    added: z.array(z.string()),
    modified: z.array(z.string()),
    deleted: z.array(z.string()),
    unchanged: z.number().int(),
    problems: z.array(detailSchema).describe('the errors of a failed deploy (at most 1000)'),
  })
  .loose();

export const upstreamEdgeSchema = z
  .object({
    project: z.string(),
    namespace: z.string(),
    job: z.string(),
    kind: z.enum(['inferred', 'static']),
    via: z.array(z.string()),
  })
  .loose();

const stage = z.enum(['pre', 'task', 'post', 'fail']);

/** core/run-graph.ts `RunGraphView`. */
export const runGraphSchema = z
  .object({
    nodes: z.array(
      z
        .object({ name: z.string(), type: z.string(), stage, depends_on: z.array(z.string()) })
        .loose()
        .describe('a node of the run graph, in run order; type is its plugin'),
    ),
    edges: z.array(
      z
        .object({
          from: z.string(),
          to: z.string(),
          origin: z.enum(['default', 'rule', 'depends_on', 'legacy_hint', 'unrecorded']),
          rule: z.number().int().nullable().describe("index into the project's hook rules (origin rule)"),
          detail: z.string(),
        })
        .loose(),
    ),
    dropped: z.array(
      z
        .object({
          rule: z
            .number()
            .int()
            .nullable()
            .describe("index into the project's hook rules; null: a legacy hint"),
          from: z.string().nullable(),
          to: z.string().nullable(),
          reason: z.string(),
        })
        .loose(),
    ),
    origins_recorded: z
      .boolean()
      .describe('false: deployed before edge origins were recorded (dropped is then unknown, not empty)'),
  })
  .loose();

export const jobIndexRowSchema = z
  .object({
    project: z.string(),
    namespace: z.string(),
    name: z.string(),
    task: z.string().describe('the task plugin'),
    hooks: z.array(z.string()).describe('the plugin of each hook, in run order'),
    schedule: z.string().nullable().describe('schedule.interval'),
    owner: z.string().nullable(),
    updated_at: timestamp,
    last_run: z
      .object({ id: z.number().int(), status: runStatusSchema, scheduled_at: timestamp })
      .loose()
      .nullable()
      .describe('the newest run by scheduled time'),
  })
  .loose();
