/**
 * The HTTP API: one Fastify app, one route module per resource, one error handler, optional bearer
 * tokens. Built from its dependencies so tests run it in-process (`app.inject`) or on a socket.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { DagPublisher } from '../scheduler/airflow/publish.js';
import type { Inferrer } from '../services/lineage-contract.js';
import { DEFAULT_POD_TOKEN_TTL_MS } from '../services/pod-token.js';
import type { RunDefaults } from '../services/runs.js';
import type { SecretCipher } from '../services/secret-cipher.js';
import { DEFAULT_NODE_TIMEOUT_MS } from '../spec/server-config.js';
import type { Store } from '../store/store.js';
import { installAuth, redactQuery } from './auth.js';
import { installConsole } from './console.js';
import { frameworkError, installErrorHandler } from './errors.js';
import { installJsonBodyParser } from './json-body.js';
import type { PluginRegistry } from './plugin-registry.js';
import { type AnyRoute, defineRoute, openApiDocument, registerRoutes } from './route.js';
import { catalogRoutes } from './routes/catalog.js';
import { jobRoutes } from './routes/jobs.js';
import { pluginRoutes } from './routes/plugins.js';
import { podTokenRoutes } from './routes/pod-token.js';
import { projectRoutes } from './routes/projects.js';
import { replayRoutes } from './routes/replays.js';
import { runInputRoutes } from './routes/run-input.js';
import { runRoutes } from './routes/runs.js';
import { secretRoutes } from './routes/secrets.js';
import { whoamiRoutes } from './routes/whoami.js';

export const API_VERSION = 1;
/**
 * What this server accepts beyond API version 1 as first released, for clients that adapt:
 * `deploy-keep` is a deploy body's `keep` list (and the manifest and plan routes);
 * `run-graph-edges` is a job's `run_graph` as `{nodes, edges, dropped, origins_recorded}` (before:
 * the list of nodes).
 */
export const SERVER_FEATURES: readonly string[] = ['deploy-keep', 'run-graph-edges'];

export interface AppDeps {
  store: Store;
  plugins: PluginRegistry;
  cipher: SecretCipher;
  /** Accepted bearer tokens; empty = no authentication. */
  tokens?: string[];
  /** Tokens that may also read secrets (run input with secret values); they are accepted tokens too. */
  secretTokens?: string[];
  /** Tokens that may call GET routes only; they are accepted tokens too (listed in `tokens` or not). */
  readOnlyTokens?: string[];
  logger?: Logger;
  version: string;
  /** The embedded runner, woken when a run is triggered by hand so it starts at once. */
  runner?: { wake(): void };
  /** What runs triggered through the API get when their job says nothing (the server config's `scheduler`). */
  runDefaults?: RunDefaults;
  /** Infers deployed jobs' destinations and sources; absent: deploys resolve static dependencies only. */
  inferrer?: Inferrer;
  /** scheduler.type airflow: compiles and syncs a project's DAGs after its jobs change. */
  dags?: DagPublisher;
  /** scheduler.base_image and .registry: the wrapper images the plugins route shows (defaults: contract.ts). */
  wrapperImages?: { baseImage: string; registry: string };
  /**
   * Pod tokens (Airflow pods fetching their run input): the key derived from the app key
   * (podTokenKey), their TTL (default 1h) and the clock (tests inject one). Absent: none minted or accepted.
   */
  podTokens?: { key: Buffer; ttlMs?: number; now?: () => Date };
  /** The web console's built files (console.ts: CONSOLE_DIST), served at `/`; absent: API only. */
  console?: string;
}

export async function createApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger
      ? { loggerInstance: deps.logger.child({}, { serializers: { req: logRequest } }) }
      : { logger: false }),
    bodyLimit: 16 * 1024 * 1024,
    // Long enough for the longest name (job names: 125) to reach validation and get a clear answer.
    routerOptions: { maxParamLength: 1000 },
    frameworkErrors: frameworkError,
    // pino's Logger and Fastify's base logger type differ only in generics.
  }) as unknown as FastifyInstance;
  installErrorHandler(app);
  installJsonBodyParser(app);
  const podTokens = deps.podTokens && {
    key: deps.podTokens.key,
    ttlMs: deps.podTokens.ttlMs ?? DEFAULT_POD_TOKEN_TTL_MS,
    now: deps.podTokens.now ?? (() => new Date()),
  };
  const readOnlyTokens = deps.readOnlyTokens ?? [];
  const secretTokens = deps.secretTokens ?? [];
  const tokens = [...new Set([...(deps.tokens ?? []), ...secretTokens, ...readOnlyTokens])];
  installAuth(app, tokens, podTokens, readOnlyTokens);

  const routes: AnyRoute[] = [
    ...pluginRoutes(deps.plugins, deps.wrapperImages, deps.store),
    ...projectRoutes(deps.store, deps.plugins),
    ...secretRoutes(deps.store, deps.cipher),
    ...jobRoutes(deps.store, deps.plugins, deps.inferrer, deps.dags),
    ...catalogRoutes(deps.store),
    ...whoamiRoutes({ tokens, secretTokens, readOnlyTokens }),
    ...runInputRoutes({ ...deps, secretTokens: deps.secretTokens ?? [] }),
    ...podTokenRoutes({ store: deps.store, secretTokens: deps.secretTokens ?? [], podTokens }),
    ...runRoutes({
      store: deps.store,
      runner: deps.runner,
      defaults: deps.runDefaults ?? { nodeTimeoutMs: DEFAULT_NODE_TIMEOUT_MS },
    }),
    ...replayRoutes({
      store: deps.store,
      runner: deps.runner,
      defaults: deps.runDefaults ?? { nodeTimeoutMs: DEFAULT_NODE_TIMEOUT_MS },
    }),
  ];
  const info = { title: 'Optimus API', version: deps.version };
  let openapi: Record<string, unknown> | undefined;
  routes.push(
    defineRoute({
      method: 'GET',
      url: '/ping',
      summary: 'Ping',
      tag: 'server',
      public: true,
      response: z.object({ status: z.literal('ok') }),
      handler: async () => ({ status: 'ok' }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/version',
      summary: 'Server version',
      tag: 'server',
      public: true,
      response: z.object({
        server_version: z.string(),
        api_version: z.number().int(),
        store: z.enum(['pglite', 'postgres']),
        features: z
          .array(z.string())
          .describe('what this server accepts beyond API version 1 as first released'),
      }),
      handler: async () => ({
        server_version: deps.version,
        api_version: API_VERSION,
        store: deps.store.kind,
        features: SERVER_FEATURES,
      }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/openapi.json',
      summary: 'OpenAPI document',
      tag: 'server',
      public: true,
      response: z
        .object({ openapi: z.string(), info: z.object({}).loose(), paths: z.record(z.string(), z.unknown()) })
        .loose()
        .describe('an OpenAPI 3.1 document'),
      handler: async () => {
        openapi ??= openApiDocument(routes, info);
        return openapi;
      },
    }),
  );
  registerRoutes(app, routes);
  if (deps.console !== undefined) await installConsole(app, deps.console);
  await app.ready();
  return app;
}

/** What the request log shows of a request: never headers, never query values. */
function logRequest(request: FastifyRequest) {
  return {
    method: request.method,
    url: redactQuery(request.url),
    host: request.host,
    remoteAddress: request.ip,
  };
}
