/**
 * The web console: the single-page app built into `console/dist` by `npm run build`, served at `/`
 * beside the API. It routes with the URL's hash, so the server needs no fallback route. Its files
 * are public (they hold no data); every request the console makes goes to the API with the
 * browser session's token. A server started from a checkout whose console was never built still
 * serves the API, and `/` says how to build the console.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * The console's page may load only its own files and talk only to this server: no inline script or
 * style, no other origin, never framed (clickjacking). React sets styles through the CSSOM, which
 * `style-src 'self'` allows.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Where `npm run build` writes the console: `console/dist` in the package. */
export const CONSOLE_DIST = join(import.meta.dirname, '../../console/dist');

export async function installConsole(app: FastifyInstance, dir: string = CONSOLE_DIST): Promise<void> {
  if (!existsSync(join(dir, 'index.html'))) {
    app.get('/', { config: { public: true } }, async (_request, reply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(
          'The web console is not built: run `npm run build` in the optimus folder, then restart the server.\n',
        ),
    );
    return;
  }
  await app.register(async (scope) => {
    // The console's own files are public: auth (an onRequest hook on the root) lets them through.
    scope.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object | undefined), public: true } as typeof route.config;
    });
    await scope.register(fastifyStatic, {
      root: dir,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
      // Hashed file names under assets/ never change; index.html must be re-read to find new ones.
      setHeaders(reply, path) {
        reply.header(
          'cache-control',
          path.startsWith(join(dir, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
        reply.header('x-content-type-options', 'nosniff');
        reply.header('referrer-policy', 'no-referrer');
        if (path.endsWith('.html')) {
          reply.header('content-security-policy', CONSOLE_CSP);
          reply.header('x-frame-options', 'DENY');
        }
      },
    });
  });
}
