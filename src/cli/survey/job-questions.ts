/** Built-in questions of `job create` and `job addhook`: names, dates, cron, windows, stages. */
import { existsSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { cronProblem } from '../../core/cron.js';
import { HOOK_STAGES } from '../../core/plugin.js';
import { JOB_FILE } from '../../spec/job-spec.js';
import type { Choice } from './prompter.js';

/** Upstream's `job create` rule for names (length capped at what the server accepts). */
const JOB_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_\-.]+$/;
/** Hook names follow the job spec's name rule. */
const HOOK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function jobNameProblem(name: string, taken: ReadonlySet<string>): string | undefined {
  if (name.length < 3 || name.length > 125) return 'must be 3 to 125 characters long';
  if (!JOB_NAME.test(name))
    return 'may contain only letters, digits, "_", "-" and "." and must start with a letter or digit';
  if (taken.has(name)) return `a job named "${name}" already exists in this project`;
  return undefined;
}

export function hookNameProblem(name: string, taken: ReadonlySet<string>): string | undefined {
  if (name.length > 125) return 'must be at most 125 characters long';
  if (!HOOK_NAME.test(name))
    return 'may contain only letters, digits, "_", "-" and "." and must start with a letter or digit';
  if (taken.has(name)) return `the job already has a hook named "${name}"`;
  return undefined;
}

/** A job folder must lie in the namespace's job path (so discovery finds it) and hold no job yet. */
export function directoryProblem(dir: string, root: string, jobPath: string): string | undefined {
  const abs = resolve(root, dir);
  const rel = relative(jobPath, abs);
  if (rel === '' || rel.startsWith('..') || rel.startsWith(sep) || resolve(jobPath, rel) !== abs)
    return `must be a folder inside the namespace's job path ${relative(root, jobPath) || '.'}`;
  if (existsSync(join(abs, JOB_FILE))) return `${join(dir, JOB_FILE)} already exists`;
  return undefined;
}

export function startDateProblem(v: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return 'must be a date written YYYY-MM-DD';
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3]))
    return `${v} is not a real date`;
  return undefined;
}

/** The same rule and words as job validation (core/cron.ts). */
export function intervalProblem(v: string): string | undefined {
  return cronProblem(v);
}

/** The local calendar date, as a person at the terminal reads "today". */
export function today(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`;
}

/**
 * Upstream's presets (hourly 1h/h, daily 24h/d, weekly 168h/w, monthly 720h/M, all with offset 0)
 * written for job version 3, where sizes are `<n><unit>` and a month is a calendar month.
 */
export const WINDOWS = {
  hourly: { size: '1h', truncate_to: 'h' },
  daily: { size: '1d', truncate_to: 'd' },
  weekly: { size: '1w', truncate_to: 'w' },
  monthly: { size: '1M', truncate_to: 'M' },
} as const;
export type WindowChoice = keyof typeof WINDOWS;

export const windowChoices = (): Choice[] =>
  Object.entries(WINDOWS).map(([value, w]) => ({
    value,
    label: `${value} (size ${w.size}, truncate_to ${w.truncate_to})`,
  }));

export const stageChoices = (): Choice[] => HOOK_STAGES.map((value) => ({ value }));
