/**
 * Duration flags of the authoring commands (`--timeout`, `--handshake-timeout`): Go's duration
 * syntax, as the server config and job specs use (`500ms`, `10s`, `1.5m`, `1m30s`, `2h`), more
 * than zero and at most what a Node timer holds (about 24.8 days).
 */
import { OptimusError } from '../core/errors.js';
import { parseDuration } from '../core/template/go-time.js';

/** The longest delay a Node timer holds; a longer one would fire at once. */
export const MAX_DURATION_MS = 2_147_483_647;

/** Milliseconds (rounded, at least 1), or a usage error naming the flag. */
export function parseDurationOption(text: string, flag: string): number {
  const ns = parseDuration(text.trim());
  const ms = ns === undefined ? Number.NaN : Number(ns) / 1e6;
  if (!(ms > 0)) {
    throw new OptimusError('DURATION_INVALID', `${flag} ${JSON.stringify(text)} is not a duration`, {
      category: 'usage',
      hint: 'write it like 500ms, 10s, 1m30s or 2h (more than zero)',
    });
  }
  if (ms > MAX_DURATION_MS) {
    throw new OptimusError('DURATION_INVALID', `${flag} ${text} is longer than the 24 days allowed`, {
      category: 'usage',
      hint: 'give a shorter duration',
    });
  }
  return Math.max(1, Math.round(ms));
}
