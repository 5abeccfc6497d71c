/**
 * The HTTP API: one Fastify app, one route module per resource, one error handler, optional bearer
 * tokens. Built from its dependencies so tests run it in-process (`app.inject`) or on a socket.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { SecretCipher } from '../services/secret-cipher.js';
import type { Store } from '../store/store.js';
import { ApiError, installErrorHandler } from './errors.js';
import type { PluginRegistry } from './plugin-registry.js';
import { type AnyRoute, defineRoute, openApiDocument, registerRoutes } from './route.js';
import { jobRoutes } from './routes/jobs.js';
import { pluginRoutes } from './routes/plugins.js';
import { projectRoutes } from './routes/projects.js';
import { secretRoutes } from './routes/secrets.js';

export const API_VERSION = 1;

export interface AppDeps {
  store: Store;
  plugins: PluginRegistry;
  cipher: SecretCipher;
  /** Accepted bearer tokens; empty = no authentication. */
  tokens?: string[];
  logger?: Logger;
  version: string;
}

export async function createApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: 16 * 1024 * 1024,
    // pino's Logger and Fastify's base logger type differ only in generics.
  }) as unknown as FastifyInstance;
  installErrorHandler(app);
  const tokens = (deps.tokens ?? []).map((t) => Buffer.from(t));
  if (tokens.length) {
    app.addHook('onRequest', async (request) => {
      if ((request.routeOptions.config as { public?: boolean } | undefined)?.public) return;
      const header = request.headers.authorization ?? '';
      const m = /^Bearer\s+(.+)$/i.exec(header);
      if (!m)
        throw new ApiError(
          401,
          'UNAUTHENTICATED',
          'this server requires a bearer token',
          [],
          'set OPTIMUS_TOKEN to a token from serve.auth.tokens',
        );
      const given = Buffer.from(m[1]!.trim());
      if (!tokens.some((t) => t.length === given.length && timingSafeEqual(t, given))) {
        throw new ApiError(
          403,
          'FORBIDDEN',
          'the bearer token is not accepted by this server',
          [],
          'check OPTIMUS_TOKEN',
        );
      }
    });
  }

  const routes: AnyRoute[] = [
    ...pluginRoutes(deps.plugins),
    ...projectRoutes(deps.store),
    ...secretRoutes(deps.store, deps.cipher),
    ...jobRoutes(deps.store, deps.plugins),
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
      handler: async () => ({ status: 'ok' }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/version',
      summary: 'Server version',
      tag: 'server',
      public: true,
      handler: async () => ({
        server_version: deps.version,
        api_version: API_VERSION,
        store: deps.store.kind,
      }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/openapi.json',
      summary: 'OpenAPI document',
      tag: 'server',
      public: true,
      handler: async () => {
        openapi ??= openApiDocument(routes, info);
        return openapi;
      },
    }),
  );
  registerRoutes(app, routes);
  await app.ready();
  return app;
}
