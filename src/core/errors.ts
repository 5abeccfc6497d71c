/**
 * Errors that stop a command. `category` maps to an exit code (CLI) or an HTTP status (server) only
 * at the edge; inside, code works with the stable `code`.
 */
export type ErrorCategory = 'usage' | 'invalid' | 'not_found' | 'conflict' | 'io' | 'internal';

export class OptimusError extends Error {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly hint: string | undefined;

  constructor(
    code: string,
    message: string,
    opts: { category?: ErrorCategory; hint?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'OptimusError';
    this.code = code;
    this.category = opts.category ?? 'invalid';
    this.hint = opts.hint;
  }
}

export function isOptimusError(e: unknown): e is OptimusError {
  return e instanceof OptimusError;
}
