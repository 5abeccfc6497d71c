/**
 * Minting pod tokens: the Airflow scheduler, holding a `read_secrets` token, asks for one when it
 * launches a node's pod and hands it to the pod, which fetches its run input with it. The token
 * opens that node's run input at that scheduled time only, so the DAG file never holds a credential.
 */
import { z } from 'zod';
import { quote } from '../../core/names.js';
import { mintPodToken, normaliseScope } from '../../services/pod-token.js';
import { loadJobValue } from '../../spec/job-spec.js';
import type { Store } from '../../store/store.js';
import { mayReadSecrets, type PodTokenAuth } from '../auth.js';
import { ApiError } from '../errors.js';
import { jobName, projectName } from '../names.js';
import { type AnyRoute, defineRoute } from '../route.js';
import { runInputBody } from './run-input.js';

export interface PodTokenRouteDeps {
  store: Store;
  /** Bearer tokens allowed to read secrets: the only ones that may mint. */
  secretTokens: readonly string[];
  /** Absent: the server has no app key to sign with, and mints nothing. */
  podTokens?: (PodTokenAuth & { ttlMs: number }) | undefined;
}

const body = runInputBody.pick({ scheduled_at: true, instance_type: true, instance_name: true });

const response = z.object({
  token: z.string().describe('send as `Authorization: Bearer <token>` to this node’s run_input'),
  expires_at: z.string().describe('RFC3339 (UTC): the token is refused from then on'),
});

export function podTokenRoutes(deps: PodTokenRouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1beta1/project/:project/job/:job/pod_token',
      summary: 'Mint a pod token for one node’s run input',
      tag: 'runs',
      params: z.object({ project: projectName, job: jobName }),
      body,
      bodyLimit: 64 * 1024,
      response,
      handler: async ({ params, body: b, request, reply }) => {
        if (!deps.podTokens)
          throw new ApiError(
            409,
            'POD_TOKENS_UNAVAILABLE',
            'this server has no app key to sign pod tokens with',
            [],
            'run the server with an app key (serve.app_key or OPTIMUS_APP_KEY; optimus serve generates one)',
          );
        if (!deps.secretTokens.length)
          throw new ApiError(
            409,
            'POD_TOKEN_NO_MINTER',
            'this server has no token that may read secrets, so no one may mint pod tokens',
            [],
            'add a token with read_secrets: true to serve.auth.tokens and give it to the Airflow scheduler',
          );
        if (!mayReadSecrets(request, deps.secretTokens))
          throw new ApiError(
            403,
            'POD_TOKEN_FORBIDDEN',
            'minting a pod token needs a token that may read secrets',
            [],
            'use the Airflow scheduler’s token (a serve.auth.tokens entry with read_secrets: true)',
          );
        const scope = normaliseScope({
          project: params.project,
          job: params.job,
          instanceType: b.instance_type,
          instanceName: b.instance_name,
          scheduledAt: b.scheduled_at,
        })!;
        await requireNode(deps.store, scope);
        const { token, expiresAt } = mintPodToken(scope, {
          key: deps.podTokens.key,
          now: deps.podTokens.now(),
          ttlMs: deps.podTokens.ttlMs,
        });
        reply.header('cache-control', 'no-store');
        return { token, expires_at: expiresAt.toISOString() };
      },
    }),
  ];
}

/**
 * 404 unless the job is deployed and the instance is a node of its run graph, in run_input's
 * words, so no token is minted for a node that does not exist.
 */
async function requireNode(
  store: Store,
  scope: { project: string; job: string; instanceType: 'task' | 'hook'; instanceName: string },
): Promise<void> {
  const job = await store.findJob(scope.project, scope.job);
  if (!job)
    throw new ApiError(
      404,
      'JOB_NOT_FOUND',
      `job ${quote(scope.job)} is not deployed in project ${quote(scope.project)}`,
      [],
      'deploy it with `optimus deploy`; `optimus job inspect <job>` suggests the nearest names',
    );
  // The node is looked up as run_input looks it up (in the job's spec, whose task and hooks are
  // the run graph's nodes), so both answer alike.
  const spec = loadJobValue(job.spec, []).spec;
  if (!spec)
    throw new ApiError(
      422,
      'JOB_INVALID',
      `the deployed job ${quote(job.name)} cannot be read`,
      [],
      'deploy the job again with this version of optimus',
    );
  const notFound = (message: string, hint: string) =>
    new ApiError(404, 'INSTANCE_NOT_FOUND', message, [{ path: 'instance_name', message }], hint);
  if (scope.instanceType === 'task') {
    if (spec.task.name !== scope.instanceName)
      throw notFound(
        `the task of job ${quote(job.name)} is ${quote(spec.task.name)}, not ${quote(scope.instanceName)}`,
        `ask for instance ${spec.task.name}`,
      );
    return;
  }
  const hooks = spec.hooks.map((h) => h.name);
  if (!hooks.includes(scope.instanceName))
    throw notFound(
      `job ${quote(job.name)} has no hook ${quote(scope.instanceName)}`,
      hooks.length ? `hooks of this job: ${hooks.join(', ')}` : 'this job has no hooks',
    );
}
