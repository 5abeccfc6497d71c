/** One place turns errors into HTTP responses `{code, message, hint?, details?}`; never a stack trace. */
import type { FastifyError, FastifyInstance } from 'fastify';
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

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof ApiError) {
      return reply.code(error.status).send(body(error.code, error.message, error.details, error.hint));
    }
    if (error instanceof DeployRejected) {
      return reply.code(400).send({
        ...body(error.code, error.message, error.problems.map(problemDetail), error.hint),
        deploy_id: error.deployId,
      });
    }
    if (isOptimusError(error)) {
      const status = STATUS[error.category];
      if (status >= 500) request.log.error({ code: error.code, message: error.message }, 'request failed');
      return reply.code(status).send(body(error.code, error.message, [], error.hint));
    }
    const fe = error as FastifyError;
    if (fe.statusCode && fe.statusCode < 500) {
      const code =
        fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'REQUEST_TOO_LARGE'
          : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'UNSUPPORTED_MEDIA_TYPE'
            : 'REQUEST_INVALID';
      return reply.code(fe.statusCode).send(body(code, fe.message));
    }
    request.log.error({ err: { message: error.message, stack: error.stack } }, 'unexpected error');
    return reply
      .code(500)
      .send(
        body('INTERNAL', 'internal server error', [], 'see the server log; this is a bug worth reporting'),
      );
  });
  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send(
        body(
          'ROUTE_NOT_FOUND',
          `no route ${request.method} ${request.url.split('?')[0]}`,
          [],
          'see /api/openapi.json for the routes',
        ),
      );
  });
}

function body(code: string, message: string, details: ErrorDetail[] = [], hint?: string) {
  return { code, message, ...(hint ? { hint } : {}), details };
}
