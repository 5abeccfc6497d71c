/**
 * Run input of one node of a deployed job at a scheduled time (upstream's JobRunInput): JSON, or
 * with `Accept: application/x-tar` a tar of `in/` that a container unpacks with `tar`. Secrets
 * only for a bearer token configured with `read_secrets`, or a pod token minted for exactly this
 * job, node and scheduled time; anyone else gets their names withheld. A `preview` (the console's
 * view of a node's input) withholds them whatever the token may read, so it is the same for all.
 */
import { z } from 'zod';
import { isOptimusError } from '../../core/errors.js';
import { hasControlChar } from '../../core/names.js';
import { WindowError } from '../../core/window-compute.js';
import type { PodTokenScope } from '../../scheduler/airflow/contract.js';
import { scopeMismatch } from '../../services/pod-token.js';
import {
  compileRunInput,
  normaliseInstanceType,
  parseRfc3339,
  RunInputError,
  runInputTar,
} from '../../services/run-input.js';
import type { SecretCipher } from '../../services/secret-cipher.js';
import type { Store } from '../../store/store.js';
import { mayReadSecrets, podTokenOf } from '../auth.js';
import { ApiError } from '../errors.js';
import { jobName, projectName } from '../names.js';
import type { PluginRegistry } from '../plugin-registry.js';
import { type AnyRoute, defineRoute } from '../route.js';

export interface RunInputRouteDeps {
  store: Store;
  plugins: PluginRegistry;
  cipher: SecretCipher;
  /** Bearer tokens allowed to read secrets (serve.auth.tokens entries with read_secrets). */
  secretTokens: readonly string[];
}

/** The request body; the pod token route takes the same node fields (without executed_at). */
export const runInputBody = z.object({
  scheduled_at: z
    .string()
    .max(64, 'must be an RFC3339 time such as 2026-03-01T02:00:00Z')
    .refine((s) => parseRfc3339(s) !== undefined, 'must be an RFC3339 time such as 2026-03-01T02:00:00Z')
    .describe('the run’s scheduled time, RFC3339 with a zone'),
  instance_type: z
    .string()
    .max(16, 'must be task or hook')
    .refine((s) => normaliseInstanceType(s) !== undefined, 'must be task or hook (or TYPE_TASK, TYPE_HOOK)')
    .describe('task or hook (upstream’s TYPE_TASK and TYPE_HOOK accepted)'),
  instance_name: z
    .string()
    .min(1, 'must not be empty')
    .max(400, 'must be at most 400 characters')
    .refine((s) => !hasControlChar(s), 'must not contain control characters')
    .describe('task: the task plugin’s name; hook: the hook’s name (`__dash__` for `-` accepted)'),
  executed_at: z
    .string()
    .max(64)
    .refine((s) => parseRfc3339(s) !== undefined, 'must be an RFC3339 time')
    .optional()
    .describe('EXECUTION_TIME; default scheduled_at'),
});

const body = runInputBody.extend({
  preview: z
    .boolean({ error: 'must be true or false' })
    .optional()
    .describe('true: never any secret value, whatever the token may read (names in secrets_withheld)'),
});

const stringMap = z.record(z.string(), z.string());
const response = z.strictObject({
  envs: stringMap,
  files: stringMap,
  secrets: stringMap.describe('empty unless the token may read secrets and this is no preview'),
  secrets_withheld: z
    .array(z.string())
    .describe('env names (and in/<file> assets) left out: a preview, or a token without read_secrets'),
  warnings: z.array(z.string()),
});

/** What the request cannot be served with: the job or instance missing (404) or unusable (422). */
function refusal(e: unknown): unknown {
  if (e instanceof ApiError || !isOptimusError(e)) return e;
  if (e.category !== 'not_found' && e.category !== 'invalid' && e.category !== 'usage') return e;
  const field = e instanceof RunInputError || e instanceof WindowError ? e.field : undefined;
  return new ApiError(
    e.category === 'not_found' ? 404 : 422,
    e.code,
    e.message,
    field ? [{ path: field, message: e.message }] : [],
    e.hint,
  );
}

export function runInputRoutes(deps: RunInputRouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1beta1/project/:project/job/:job/run_input',
      summary: 'Job run input',
      tag: 'runs',
      params: z.object({ project: projectName, job: jobName }),
      body,
      bodyLimit: 64 * 1024,
      podToken: true,
      response,
      handler: async ({ params, body: b, request, reply }) => {
        const pod = podTokenOf(request);
        if (pod) refuseOutOfScope(pod, params, b);
        // A pod token in scope grants what its minter (a read_secrets token) could read.
        const withSecrets =
          b.preview !== true && (pod !== undefined || mayReadSecrets(request, deps.secretTokens));
        const scheduledAt = parseRfc3339(b.scheduled_at)!;
        let input: Awaited<ReturnType<typeof compileRunInput>>;
        try {
          input = await compileRunInput(deps, {
            projectName: params.project,
            jobName: params.job,
            scheduledAt,
            ...(b.executed_at ? { executedAt: parseRfc3339(b.executed_at)! } : {}),
            instanceType: normaliseInstanceType(b.instance_type)!,
            instanceName: b.instance_name,
            withSecrets,
          });
        } catch (e) {
          throw refusal(e);
        }
        // Secrets may be in the answer: no cache anywhere may keep it.
        reply.header('cache-control', 'no-store');
        if (wantsTar(request.headers.accept)) {
          let tar: Buffer;
          try {
            tar = runInputTar(input, scheduledAt);
          } catch (e) {
            throw refusal(e);
          }
          reply
            .header('content-type', 'application/x-tar')
            .header('content-disposition', 'attachment; filename="run-input.tar"')
            // Names only (never values), percent-encoded: an asset name may hold any character.
            .header('x-optimus-secrets-withheld', input.secretsWithheld.map(encodeURIComponent).join(','));
          return reply.code(200).send(tar);
        }
        return {
          envs: input.envs,
          files: input.files,
          secrets: input.secrets,
          secrets_withheld: input.secretsWithheld,
          warnings: input.warnings,
        };
      },
    }),
  ];
}

const SCOPE_FIELDS: Record<keyof PodTokenScope, string> = {
  project: 'project',
  job: 'job',
  instanceType: 'instance_type',
  instanceName: 'instance_name',
  scheduledAt: 'scheduled_at',
};

/** 403 unless the request is for the job, node and scheduled time the pod token was minted for. */
function refuseOutOfScope(
  pod: PodTokenScope,
  params: { project: string; job: string },
  b: { instance_type: string; instance_name: string; scheduled_at: string },
): void {
  const differ = scopeMismatch(pod, {
    project: params.project,
    job: params.job,
    instanceType: b.instance_type,
    instanceName: b.instance_name,
    scheduledAt: b.scheduled_at,
  });
  if (!differ.length) return;
  const names = differ.map((f) => SCOPE_FIELDS[f]);
  throw new ApiError(
    403,
    'POD_TOKEN_SCOPE',
    `the pod token is not for this request: its ${names.join(', ')} ${names.length === 1 ? 'differs' : 'differ'}`,
    [],
    'a pod token opens only the run input of the job, node and scheduled time it was minted for',
  );
}

function wantsTar(accept: string | undefined): boolean {
  return (accept ?? '')
    .split(',')
    .some((part) => part.split(';')[0]!.trim().toLowerCase() === 'application/x-tar');
}
