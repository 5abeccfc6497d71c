/**
 * Routes are declared as data: method, path, zod schemas for params/query/body/response and a
 * handler. The same declarations validate requests (errors with the failing field's path) and
 * generate the OpenAPI document, so the two cannot drift apart.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApiError } from './errors.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  request: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteDef<P = unknown, Q = unknown, B = unknown> {
  method: Method;
  /** Fastify path, e.g. `/api/v1beta1/project/:project`. */
  url: string;
  summary: string;
  tag: string;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** The 200 response, for the OpenAPI document. */
  response?: z.ZodType;
  /** Status of a successful response; default 200. */
  status?: number;
  /** Routes are authenticated unless they say otherwise. */
  public?: boolean;
  /**
   * Answers without a bearer token, but checks one that is sent as any route would (a wrong token
   * is refused, not taken for none): for routes that tell a client what its token may do.
   */
  optionalAuth?: boolean;
  /** Also accepts a pod token (auth.ts); the handler must match its scope (podTokenOf). */
  podToken?: boolean;
  bodyLimit?: number;
  /** Returns the response body (JSON), or sends it itself and returns the reply. */
  handler(input: RouteInput<P, Q, B>): Promise<unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: routes of every shape go in one list
export type AnyRoute = RouteDef<any, any, any>;

export function defineRoute<P, Q, B>(def: RouteDef<P, Q, B>): RouteDef<P, Q, B> {
  return def;
}

export function registerRoutes(app: FastifyInstance, routes: readonly AnyRoute[]): void {
  for (const def of routes) {
    app.route({
      method: def.method,
      url: def.url,
      ...(def.bodyLimit ? { bodyLimit: def.bodyLimit } : {}),
      config: {
        public: def.public === true,
        podToken: def.podToken === true,
        optionalAuth: def.optionalAuth === true,
      },
      handler: async (request, reply) => {
        const params = parse(def.params, request.params, 'params');
        const query = parse(def.query, request.query, 'query');
        const body = parse(def.body, request.body, 'body');
        const out = await def.handler({ params, query, body, request, reply });
        if (out === reply) return reply;
        reply.code(def.status ?? 200);
        return out;
      },
    });
  }
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: 'params' | 'query' | 'body'): T {
  if (!schema) return value as T;
  const r = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (r.success) return r.data;
  const details = r.error.issues.map((i) => ({
    path: [where, ...i.path]
      .map((s) => (typeof s === 'number' ? `[${s}]` : `.${String(s)}`))
      .join('')
      .replace(/^\./, '')
      .replace(/\.\[/g, '['),
    message: i.code === 'invalid_type' && i.input === undefined ? 'is required' : i.message,
  }));
  throw new ApiError(
    400,
    'REQUEST_INVALID',
    `invalid request ${where}: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
    details,
  );
}

/** OpenAPI 3.1 document generated from the route declarations. */
export function openApiDocument(
  routes: readonly AnyRoute[],
  info: { title: string; version: string },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const schema = (s: z.ZodType) =>
    z.toJSONSchema(s, { target: 'draft-2020-12', unrepresentable: 'any', io: 'input' });
  for (const def of routes) {
    const path = def.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const op: Record<string, unknown> = {
      summary: def.summary,
      tags: [def.tag],
      operationId: operationId(def),
    };
    const parameters: unknown[] = [];
    for (const [where, s] of [
      ['path', def.params],
      ['query', def.query],
    ] as const) {
      const js = s ? (schema(s) as { properties?: Record<string, unknown>; required?: string[] }) : undefined;
      for (const [name, prop] of Object.entries(js?.properties ?? {})) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (js?.required ?? []).includes(name),
          schema: prop,
        });
      }
    }
    if (parameters.length) op.parameters = parameters;
    if (def.body)
      op.requestBody = {
        // A body every field of which is optional may be left out altogether.
        required: !def.body.safeParse(undefined).success,
        content: { 'application/json': { schema: schema(def.body) } },
      };
    op.responses = {
      [String(def.status ?? 200)]: {
        description: 'OK',
        ...(def.response ? { content: { 'application/json': { schema: schema(def.response) } } } : {}),
      },
      default: {
        description: 'Error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    };
    // `{}` in the list: the token is optional.
    if (def.optionalAuth) op.security = [{}, { bearer: [] }];
    else if (!def.public) op.security = [{ bearer: [] }];
    paths[path] ??= {};
    paths[path][def.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string' },
            message: { type: 'string' },
            hint: { type: 'string' },
            details: {
              type: 'array',
              items: {
                type: 'object',
                properties: { path: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  };
}

function operationId(def: AnyRoute): string {
  const words = def.summary
    .replace(/[^A-Za-z0-9 ]/g, ' ')
    .trim()
    .split(/\s+/);
  return words
    .map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1).toLowerCase()))
    .join('');
}
