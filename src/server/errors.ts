/** One place turns errors into HTTP responses `{code, message, hint?, details?}`; never a stack trace. */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCategory, isOptimusError } from '../core/errors.js';
import { formatLocation, type Problem } from '../core/problem.js';
import { DeployRejected } from '../services/deploy.js';

export interface ErrorDetail {
  path?: string;
  message: string;
  code?: string;
  severity?: string;
  file?: string;
  hint?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly hint?: string,
  ) {
    super(message);
  }
}

const STATUS: Record<ErrorCategory, number> = {
  usage: 400,
  invalid: 400,
  not_found: 404,
  conflict: 409,
  io: 503,
  internal: 500,
};

export function problemDetail(p: Problem): ErrorDetail {
  const d: ErrorDetail = { message: p.message, code: p.code, severity: p.severity };
  if (p.path) d.path = p.path;
  if (p.file) d.file = formatLocation(p);
  if (p.hint) d.hint = p.hint;
  return d;
}

/**
 * Answers for errors Fastify raises itself (body parsing, URLs): our words, never the library's
 * message, which may quote the request back or name internals.
 */
const FRAMEWORK: Record<string, { status: number; code: string; message: string; hint?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'REQUEST_INVALID',
    message: 'the request body is not valid JSON',
    hint: 'send a JSON document with content-type application/json',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'REQUEST_INVALID',
    message: 'the request body is empty but its content-type is application/json',
    hint: 'send a JSON document, or no content-type header',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'the request body must be JSON',
    hint: 'send it with content-type application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'REQUEST_INVALID',
    message: 'the request body does not match its content-length header',
  },
  FST_ERR_BAD_URL: {
    status: 400,
    code: 'REQUEST_INVALID',
    message: 'the request URL holds a malformed percent-encoding',
    hint: 'encode path segments with encodeURIComponent',
  },
  FST_ERR_MAX_PARAM_LENGTH: {
    status: 414,
    code: 'REQUEST_INVALID',
    message: 'a path segment of the request URL is too long',
  },
};

/** A prototype-poisoning key (`__proto__`) refused by Fastify's JSON parser. */
const POISONED = /forbidden prototype property/;

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const answer = toAnswer(error, request.routeOptions.bodyLimit);
    if (answer.status >= 500) {
      // The details stay in the server log: a driver's message may quote the request or the schema.
      request.log.error(
        { err: { code: (error as { code?: string }).code, message: error.message, stack: error.stack } },
        'request failed',
      );
    }
    const extra = error instanceof DeployRejected ? { deploy_id: error.deployId } : {};
    return reply.code(answer.status).send({ ...answer.body, ...extra });
  });
  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send(
        body(
          'ROUTE_NOT_FOUND',
          `no route ${request.method} ${(request.url.split('?')[0] ?? '').slice(0, 200)}`,
          [],
          'see /api/openapi.json for the routes',
        ),
      );
  });
}

/** Errors raised while routing (bad percent-encoding, over-long segments), in the API's error shape. */
export function frameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const answer = toAnswer(error, undefined);
  reply.code(answer.status).send(answer.body);
}

function toAnswer(
  error: FastifyError | Error,
  bodyLimit: number | undefined,
): { status: number; body: ReturnType<typeof body> } {
  if (error instanceof ApiError)
    return { status: error.status, body: body(error.code, error.message, error.details, error.hint) };
  if (error instanceof DeployRejected)
    return {
      status: 400,
      body: body(error.code, error.message, error.problems.map(problemDetail), error.hint),
    };
  if (isOptimusError(error)) {
    const status = STATUS[error.category];
    if (status === 503)
      return {
        status,
        body: body(error.code, 'the server cannot reach its store right now', [], 'try again later'),
      };
    if (status < 500) return { status, body: body(error.code, error.message, [], error.hint) };
    return { status: 500, body: internal(error.code) };
  }
  const fe = error as FastifyError;
  if (fe.statusCode && fe.statusCode < 500) {
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return {
        status: 413,
        body: body(
          'REQUEST_TOO_LARGE',
          `the request body is larger than this route accepts${bodyLimit ? ` (${bodyLimit} bytes)` : ''}`,
          [],
          'send less data in one request',
        ),
      };
    const known = fe.code ? FRAMEWORK[fe.code] : undefined;
    if (known) return { status: known.status, body: body(known.code, known.message, [], known.hint) };
    if (POISONED.test(fe.message))
      return {
        status: 400,
        body: body('REQUEST_INVALID', 'the request body uses a reserved key such as "__proto__"'),
      };
    return { status: fe.statusCode, body: body('REQUEST_INVALID', 'the request is malformed') };
  }
  return { status: 500, body: internal('INTERNAL') };
}

function internal(code: string) {
  return body(code, 'internal server error', [], 'see the server log; this is a bug worth reporting');
}

function body(code: string, message: string, details: ErrorDetail[] = [], hint?: string) {
  return { code, message, ...(hint ? { hint } : {}), details };
}
