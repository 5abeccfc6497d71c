/** Shape of job.yaml and this.yaml. Every field is optional here: required ones are checked after inheritance. */
import { z } from 'zod';

const scalar = z.union([z.string(), z.number(), z.boolean()], {
  error: 'must be a string, number or boolean',
});
const nullableScalar = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: 'must be a string, number or boolean',
});
const stringMap = z.record(z.string(), nullableScalar);
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written YYYY-MM-DD');
const name = z
  .string()
  .min(1)
  .max(125)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    'may contain only letters, digits, "_", "-" and "." and must start with a letter or digit',
  );

export const windowSchema = z.strictObject({
  size: scalar.optional(),
  offset: scalar.optional(),
  shift_by: scalar.optional(),
  truncate_to: z.string().optional(),
  location: z.string().optional(),
  preset: z.string().optional(),
});

const hookSchema = z.strictObject({
  name,
  type: name.optional(),
  stage: z.enum(['pre', 'post', 'fail']).optional(),
  depends_on: z
    .union([z.string(), z.array(z.string())], {
      error: 'must be a list of hook names or a comma-separated string',
    })
    .optional(),
  version: scalar.optional(),
  config: stringMap.nullable().optional(),
  alert: z.unknown().optional(),
});

const resources = z.strictObject({ cpu: scalar.optional(), memory: scalar.optional() });

export const jobFileSchema = z.strictObject({
  version: z
    .union([z.literal(1), z.literal(2), z.literal(3)], { error: 'must be 1, 2 or 3 (the window version)' })
    .optional(),
  name: name.optional(),
  owner: z.string().min(1).optional(),
  description: z.string().optional(),
  schedule: z
    .strictObject({
      start_date: date.optional(),
      // Upstream treats an empty end_date as no end date.
      end_date: z.union([date, z.literal('')], { error: 'must be a date written YYYY-MM-DD' }).optional(),
      interval: z.string().optional(),
    })
    .optional(),
  // `behavior:` left empty is null in YAML; upstream reads it as absent.
  behavior: z
    .strictObject({
      depends_on_past: z.boolean().optional(),
      catch_up: z.boolean().optional(),
      timeout: scalar
        .optional()
        .describe(
          "Longest one attempt of a task or hook may run, e.g. 30m or 2h (this project; default: the server's scheduler.node_timeout)",
        ),
      retry: z
        .strictObject({
          count: z.int().nonnegative().optional(),
          delay: scalar.optional(),
          exponential_backoff: z.boolean().optional(),
        })
        .optional(),
      notify: z
        .array(
          z.strictObject({
            on: z.string().min(1),
            config: stringMap.optional(),
            channels: z.array(z.string()).optional(),
            severity: z.enum(['INFO', 'WARNING', 'CRITICAL']).optional(),
            team: z.string().optional(),
          }),
        )
        .optional(),
      webhook: z
        .array(
          z.strictObject({
            on: z.string().min(1),
            endpoints: z.array(z.strictObject({ url: z.string().min(1), headers: stringMap.optional() })),
          }),
        )
        .optional(),
    })
    .nullable()
    .optional(),
  task: z
    .strictObject({
      name: name.optional(),
      version: scalar.optional(),
      config: stringMap.nullable().optional(),
      window: windowSchema.optional(),
      alert: z.unknown().optional(),
    })
    .optional(),
  hooks: z.array(hookSchema).nullable().optional(),
  dependencies: z
    .array(
      z.strictObject({
        job: z.string().min(1).optional(),
        type: z.string().optional(),
        http: z
          .strictObject({
            name: z.string().min(1),
            url: z.string().min(1),
            headers: stringMap.optional(),
            params: stringMap.optional(),
          })
          .optional(),
      }),
    )
    .nullable()
    .optional(),
  labels: stringMap.nullable().optional(),
  metadata: z
    .strictObject({
      resource: z.strictObject({ request: resources.optional(), limit: resources.optional() }).optional(),
      airflow: z.strictObject({ pool: z.string().optional(), queue: z.string().optional() }).optional(),
      kubernetes: z.strictObject({ service_account: z.string().optional() }).optional(),
    })
    .nullable()
    .optional(),
});
