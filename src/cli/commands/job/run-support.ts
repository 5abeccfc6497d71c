/**
 * What `job run`, `job runs`, `job logs` and `job cancel` share: which project and server they talk
 * to, the run API's shapes, and how a run and its nodes read on a terminal.
 */
import { OptimusError } from '../../../core/errors.js';
import type { RunNodeView, RunView } from '../../../services/runs.js';
import { type ApiClient, seg } from '../../api-client.js';
import type { Colors } from '../../colors.js';
import { projectConfig, projectConfigIfAny, serverClient } from '../../context.js';

export type { RunNodeView, RunView };

export interface LogLine {
  id: number;
  node: string;
  attempt: number;
  stream: 'stdout' | 'stderr' | 'system';
  at: string;
  line: string;
}

export interface LogsPage {
  lines: LogLine[];
  next_after: number;
  finished: boolean;
  run_status: string;
}

export interface RunTarget {
  client: ApiClient;
  project: string;
  /** `/api/v1beta1/project/P/job/J/run` for this job. */
  runsPath(job: string): string;
}

/**
 * The project is optimus.yaml's (from --dir), unless --project-name names it: then no checkout is
 * needed, and optimus.yaml, when there is one, only gives the server's address.
 */
export function runTarget(opts: Record<string, unknown>): RunTarget {
  const named = typeof opts.projectName === 'string' ? opts.projectName : undefined;
  const config = named === undefined ? projectConfig(opts) : projectConfigIfAny(opts);
  const project = named ?? config!.project.name;
  const client = serverClient(opts, config);
  return {
    client,
    project,
    runsPath: (job) => `/api/v1beta1/project/${seg(project)}/job/${seg(job)}/run`,
  };
}

/** A whole number ≥ 1 from an option, or bad usage naming the option. */
export function positiveInt(value: unknown, option: string, max = Number.MAX_SAFE_INTEGER): number {
  const text = String(value);
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new OptimusError('OPTION_INVALID', `${option} ${text} is not a whole number from 1 to ${max}`, {
      category: 'usage',
      hint: `pass ${option} <n>, e.g. ${option} 5`,
    });
  }
  return n;
}

/**
 * `--scheduled-at`: an ISO 8601 date-time; without a zone it is UTC (as Optimus schedules are),
 * and a bare date is its midnight.
 */
export function parseScheduledAt(text: string): Date {
  const t = text.trim();
  let iso = t;
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) iso = `${t}T00:00:00Z`;
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$/.test(t)) iso = `${t.replace(' ', 'T')}Z`;
  const ok = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i.test(iso);
  const date = new Date(iso.replace(' ', 'T'));
  if (!ok || Number.isNaN(date.getTime())) {
    throw new OptimusError(
      'SCHEDULED_AT_INVALID',
      `--scheduled-at ${JSON.stringify(text)} is not a date-time`,
      {
        category: 'usage',
        hint: 'write it as 2026-01-31T06:00:00Z (a time without a zone is UTC; a date alone is its midnight)',
      },
    );
  }
  return date;
}

/** 850ms, 12.3s, 4m05s, 1h02m. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Symbol and colour of a run's or node's status. */
export function statusMark(status: string, pc: Colors): string {
  switch (status) {
    case 'succeeded':
      return pc.green('✓');
    case 'failed':
      return pc.red('✗');
    case 'upstream_failed':
      return pc.red('⊘');
    case 'running':
      return pc.cyan('●');
    case 'cancelled':
      return pc.yellow('■');
    case 'skipped':
      return pc.dim('–');
    default:
      return pc.dim('○');
  }
}

/**
 * A table of runs (or replays): a bold header, columns padded to their widest cell, the STATUS
 * column coloured by `each[k].status`, and under each row its note and any `below(k)` lines.
 */
export function statusTable(
  header: readonly string[],
  rows: readonly string[][],
  each: readonly { status: string; note?: string | null }[],
  pc: Colors,
  below: (k: number) => string[] = () => [],
): string[] {
  const status = header.indexOf('STATUS');
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const lines = [
    pc.bold(
      header
        .map((h, i) => h.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    ),
  ];
  each.forEach((r, k) => {
    const cells = rows[k]!.map((c, i) => c.padEnd(widths[i]!));
    cells[status] = statusWord(r.status, pc, widths[status]);
    lines.push(cells.join('  ').trimEnd());
    if (r.note) lines.push(pc.dim(`    ${r.note}`));
    lines.push(...below(k));
  });
  return lines;
}

export function statusWord(status: string, pc: Colors, width = 0): string {
  const word = status.replace('_', ' ').padEnd(width);
  if (status === 'succeeded') return pc.green(word);
  if (status === 'failed' || status === 'upstream_failed') return pc.red(word);
  if (status === 'cancelled') return pc.yellow(word);
  if (status === 'running') return pc.cyan(word);
  return pc.dim(word);
}

/** One line per node, columns aligned across the run: mark, name, stage, status, attempt, duration, error. */
export function nodeLines(run: RunView, pc: Colors, indent = '  '): string[] {
  const nameWidth = Math.max(...run.nodes.map((n) => n.name.length), 4);
  return run.nodes.map((n) => {
    // After a manual retry the node gets the job's attempts again: count from there.
    const before = n.attempts_before ?? 0;
    const attempt =
      n.attempt > 1 || run.settings.max_attempts > 1
        ? `attempt ${n.attempt - before}/${run.settings.max_attempts}${before ? ` (${n.attempt} in all)` : ''}`
        : '';
    const retry = n.status === 'queued' && n.not_before ? `retry at ${n.not_before.slice(11, 19)}` : '';
    const stopping = n.cancel_requested && n.status === 'running' ? 'stopping' : '';
    const cells = [
      `${indent}${statusMark(n.status, pc)} ${n.name.padEnd(nameWidth)}`,
      n.stage.padEnd(4),
      statusWord(n.status, pc, 15),
      attempt,
      formatDuration(n.duration_ms),
      stopping || retry,
      n.error && n.error !== n.status ? pc.red(n.error) : '',
    ];
    return cells
      .filter((c, i) => i < 3 || c !== '')
      .join('  ')
      .trimEnd();
  });
}

/** "run 12 of campaign-performance (scheduled 2026-01-31T06:00:00.000Z): succeeded in 12.3s". */
export function runHeadline(run: RunView, pc: Colors): string {
  const took =
    run.duration_ms !== null && run.status !== 'queued' ? ` in ${formatDuration(run.duration_ms)}` : '';
  // "cancelled — by …" rather than "cancelled — cancelled by …".
  const note = run.note?.startsWith(`${run.status} `) ? run.note.slice(run.status.length + 1) : run.note;
  return `run ${pc.bold(String(run.id))} of ${run.job} ${pc.dim(`(scheduled ${run.scheduled_at})`)}: ${statusWord(run.status, pc)}${run.over ? took : ''}${note ? pc.dim(` — ${note}`) : ''}`;
}

/** What changed between two views of one run, one line per node that changed. */
export function nodeChanges(before: RunView | undefined, after: RunView): string[] {
  const old = new Map(before?.nodes.map((n) => [n.name, n]) ?? []);
  const lines: string[] = [];
  for (const n of after.nodes) {
    const o = old.get(n.name);
    if (o && o.status === n.status && o.attempt === n.attempt) continue;
    if (!o && (n.status === 'pending' || n.status === 'queued')) continue;
    lines.push(describeNode(n));
  }
  return lines;
}

function describeNode(n: RunNodeView): string {
  const attempt = n.attempt > 1 ? ` (attempt ${n.attempt})` : '';
  const took =
    n.duration_ms !== null && n.status !== 'running' ? ` after ${formatDuration(n.duration_ms)}` : '';
  const error = n.error && n.error !== n.status ? `: ${n.error}` : '';
  return `${n.name} ${n.status.replace('_', ' ')}${attempt}${took}${error}`;
}

/** Latest run of a job, or a failure saying it has none. */
export async function latestRun(target: RunTarget, job: string): Promise<RunView> {
  const { runs } = await target.client.get<{ runs: RunView[] }>(`${target.runsPath(job)}?limit=1`);
  const run = runs[0];
  if (!run) {
    throw new OptimusError('RUN_NOT_FOUND', `job "${job}" has no runs yet`, {
      category: 'not_found',
      hint: `start one with \`optimus job run ${job}\``,
    });
  }
  return run;
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/** How often `--wait` and `--follow` ask the server again. */
export const POLL_MS = 500;

/**
 * Ctrl-C while waiting stops the waiting, not the run: the signal aborts, the command says how to
 * cancel, and exits 130 as an interrupted command does.
 */
export function interruptible(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

export const EXIT_INTERRUPTED = 130;
