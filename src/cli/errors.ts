/** The one place that turns an error into output and an exit code. */
import { isOptimusError } from '../core/errors.js';
import type { Problem } from '../core/problem.js';

export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;

export function handleError(e: unknown, json: boolean): number {
  if (isOptimusError(e)) {
    const code = e.category === 'usage' ? EXIT_USAGE : EXIT_PROBLEMS;
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ ok: false, error: { code: e.code, message: e.message, hint: e.hint } }, null, 2)}\n`,
      );
    } else {
      process.stderr.write(`error: ${e.message}\n`);
      if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    }
    return code;
  }
  // A bug, not a user error: keep the stack, but only when asked for.
  const err = e as Error;
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ ok: false, error: { code: 'INTERNAL', message: err.message } }, null, 2)}\n`,
    );
  } else {
    process.stderr.write(`internal error: ${err.message}\n`);
    if (process.env.OPTIMUS_DEBUG) process.stderr.write(`${err.stack}\n`);
    else process.stderr.write('hint: re-run with OPTIMUS_DEBUG=1 for details, and report it\n');
  }
  return EXIT_PROBLEMS;
}

/**
 * The exit code of a command that reports a project's problems: no optimus.yaml where --dir points
 * is bad usage, as for every other command; otherwise 1 when errors were found.
 */
export function projectExitCode(projectProblems: readonly Problem[], errors: number): number {
  if (projectProblems.some((p) => p.code === 'PROJECT_CONFIG_MISSING')) return EXIT_USAGE;
  return errors ? EXIT_PROBLEMS : EXIT_OK;
}
