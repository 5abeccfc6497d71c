/**
 * Colours decided per stream. picocolors' default instance looks at stdout only (so `2>log` on a
 * terminal still writes escape codes into the log, and stderr stays plain when only stdout is
 * piped), turns colour on for any `CI` variable even when the output is a pipe, and reads
 * `FORCE_COLOR=0` as "force". Here: `NO_COLOR` (non-empty) turns colour off, else `FORCE_COLOR`
 * decides (`0` or `false` = off, anything else = on), else colour only on a terminal that is not
 * `TERM=dumb`.
 */
import picocolors from 'picocolors';

export type Colors = ReturnType<typeof picocolors.createColors>;

export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export function colorsFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Colors {
  return picocolors.createColors(colorEnabled(stream, env));
}

/** For text written to stdout. */
export const out: Colors = colorsFor(process.stdout);
/** For text written to stderr. */
export const err: Colors = colorsFor(process.stderr);
