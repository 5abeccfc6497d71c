/**
 * What the replay commands share: the server's replay API for the project, how a replay reads on a
 * terminal (its plan, a grid of jobs × windows), and following one to its end (`--wait`, `--watch`).
 */
import { OptimusError } from '../../../core/errors.js';
import type { ReplaySummaryView, ReplayView } from '../../../services/replay.js';
import { seg } from '../../api-client.js';
import type { Colors } from '../../colors.js';
import { nextFlags, printJson } from '../../output.js';
import {
  EXIT_INTERRUPTED,
  interruptible,
  POLL_MS,
  positiveInt,
  type RunTarget,
  runTarget,
  sleep,
  statusMark,
  statusWord,
} from '../job/run-support.js';

export type { ReplaySummaryView, ReplayView };

export interface ReplayTarget extends RunTarget {
  /** `/api/v1beta1/project/P/replay`. */
  replaysPath: string;
  /** Flags a `next:` hint repeats so it acts on the same project and server. */
  flags: string;
}

export function replayTarget(opts: Record<string, unknown>): ReplayTarget {
  const target = runTarget(opts);
  return {
    ...target,
    replaysPath: `/api/v1beta1/project/${seg(target.project)}/replay`,
    flags: `${opts.projectName ? ` --project-name ${opts.projectName}` : ''}${nextFlags(opts)}`,
  };
}

/** The replay id argument, or bad usage saying where to find one. */
export function replayId(value: unknown): number {
  try {
    return positiveInt(value, 'the replay id');
  } catch {
    throw new OptimusError('REPLAY_ID_INVALID', `${JSON.stringify(String(value))} is not a replay id`, {
      category: 'usage',
      hint: 'replay ids are whole numbers: see them with `optimus replay list`',
    });
  }
}

const short = (iso: string) =>
  iso
    .replace(/:00\.000Z$/, 'Z')
    .replace(/\.000Z$/, 'Z')
    .replace(/T23:59:59\.999Z$/, ' (end of day)');

/** "replay 12 of a: 2026-01-02T00:00Z → 2026-01-04 (end of day), sequential, with downstream jobs: running". */
export function replayHeadline(r: ReplayView | ReplaySummaryView, pc: Colors): string {
  const how = [
    r.parallel ? 'parallel' : 'sequential',
    ...(r.downstream ? ['with downstream jobs'] : []),
  ].join(', ');
  const progress = `${r.counts.succeeded}/${r.counts.total} succeeded`;
  return `replay ${pc.bold(String(r.id))} of ${r.job} ${pc.dim(`(${short(r.from)} → ${short(r.to)}, ${how})`)}: ${statusWord(r.status, pc)} ${pc.dim(progress)}${r.note ? pc.dim(` — ${r.note}`) : ''}`;
}

/** The plan: jobs in the order they run, with how many windows each replays. */
export function planLines(r: ReplayView, pc: Colors): string[] {
  const width = Math.max(...r.jobs.map((j) => j.job.length), 3);
  return r.jobs.map((j, i) => {
    const where = `${j.project === r.project ? '' : `${j.project}/`}${j.namespace}`;
    return `  ${String(i + 1).padStart(2)}. ${j.job.padEnd(width)}  ${pc.dim(where)}  ${j.windows} window${j.windows === 1 ? '' : 's'}`;
  });
}

const MARK_WIDTH = 2;

/**
 * The grid: one row per job, one mark per window in time order (wrapped to the terminal), then
 * the windows worth a look (running, failed, cancelled) with their runs, at most `detail` of them.
 */
export function gridLines(r: ReplayView, pc: Colors, columns = 80, detail = 10): string[] {
  const width = Math.max(...r.jobs.map((j) => j.job.length), 3);
  const perLine = Math.max(5, Math.floor((columns - width - 6) / MARK_WIDTH));
  const lines: string[] = [];
  for (const j of r.jobs) {
    const own = r.items.filter((i) => i.project === j.project && i.job === j.job);
    const marks = own.map((i) => statusMark(i.state, pc));
    const count = pc.dim(`${j.counts.succeeded}/${j.windows}`);
    if (marks.length === 0) {
      lines.push(`  ${j.job.padEnd(width)}  ${pc.dim('no scheduled time in the range')}`);
      continue;
    }
    for (let k = 0; k < marks.length; k += perLine) {
      const label = k === 0 ? j.job.padEnd(width) : ''.padEnd(width);
      const row = marks.slice(k, k + perLine).join(' ');
      lines.push(`  ${label}  ${row}${k + perLine >= marks.length ? `  ${count}` : ''}`);
    }
  }
  const first = r.items.reduce<string | undefined>(
    (a, i) => (!a || i.scheduled_at < a ? i.scheduled_at : a),
    undefined,
  );
  const last = r.items.reduce<string | undefined>(
    (a, i) => (!a || i.scheduled_at > a ? i.scheduled_at : a),
    undefined,
  );
  if (first && last) lines.push(pc.dim(`  windows scheduled ${short(first)} … ${short(last)}, oldest first`));
  const notable = r.items.filter((i) => ['running', 'failed', 'cancelled'].includes(i.state));
  for (const i of notable.slice(0, detail)) {
    lines.push(
      `  ${statusMark(i.state, pc)} ${i.job} ${short(i.scheduled_at)} ${statusWord(i.state, pc)} ${pc.dim(`run ${i.run_id}`)}`,
    );
  }
  if (notable.length > detail) lines.push(pc.dim(`  … and ${notable.length - detail} more (see --json)`));
  return lines;
}

/** What changed between two views of one replay: one line per window whose state changed. */
export function itemChanges(before: ReplayView | undefined, after: ReplayView): string[] {
  const old = new Map(before?.items.map((i) => [`${i.project}/${i.job}@${i.scheduled_at}`, i.state]) ?? []);
  const lines: string[] = [];
  for (const i of after.items) {
    const was = old.get(`${i.project}/${i.job}@${i.scheduled_at}`);
    if (was === i.state || (was === undefined && i.state === 'waiting')) continue;
    lines.push(`${i.job} ${short(i.scheduled_at)} ${i.state}${i.run_id ? ` (run ${i.run_id})` : ''}`);
  }
  return lines;
}

/**
 * Follows the replay until it is over: on a terminal the grid redrawn in place, otherwise a line per
 * window that changed. Exit 0 when it succeeded, 1 when it failed or was cancelled, 130 when the
 * user stopped waiting (the replay goes on).
 */
export async function follow(
  target: ReplayTarget,
  start: ReplayView,
  json: boolean,
  pc: Colors,
): Promise<number> {
  const live = !json && process.stdout.isTTY === true;
  let drawn = 0;
  let last: ReplayView | undefined;
  const show = (r: ReplayView) => {
    if (json) return;
    if (live) {
      const lines = [replayHeadline(r, pc), ...gridLines(r, pc, process.stdout.columns ?? 80)];
      process.stdout.write(`${drawn ? `\u001b[${drawn}F\u001b[J` : ''}${lines.join('\n')}\n`);
      drawn = lines.length;
    } else {
      const stamp = new Date().toISOString().slice(11, 19);
      if (!last) process.stdout.write(`${replayHeadline(r, pc)}\n`);
      for (const line of itemChanges(last, r)) process.stdout.write(`${pc.dim(stamp)} ${line}\n`);
      if (last && r.over) process.stdout.write(`${replayHeadline(r, pc)}\n`);
    }
    last = r;
  };
  const stop = interruptible();
  let current = start;
  show(current);
  try {
    while (!current.over) {
      await sleep(POLL_MS, stop.signal);
      if (stop.signal.aborted) break;
      current = await poll(target, current.id);
      show(current);
    }
  } finally {
    stop.dispose();
  }
  if (!current.over) {
    const cancel = `optimus replay cancel ${current.id}${target.flags}`;
    if (json) {
      printJson({
        ok: false,
        error: {
          code: 'WAIT_INTERRUPTED',
          message: `stopped waiting; replay ${current.id} goes on`,
          hint: `cancel it with \`${cancel}\``,
        },
        replay: current,
      });
    } else {
      process.stderr.write(
        `stopped waiting; replay ${current.id} goes on\nhint: cancel it with \`${cancel}\`\n`,
      );
    }
    return EXIT_INTERRUPTED;
  }
  const ok = current.status === 'succeeded';
  const broken = current.items.find((i) => i.state === 'failed' || i.state === 'cancelled');
  const hint = broken
    ? `see its output with \`optimus job logs ${broken.job} --run ${broken.run_id}${target.flags}\``
    : `see it with \`optimus replay status ${current.id}${target.flags}\``;
  if (json) {
    printJson(
      ok
        ? { ok, replay: current }
        : {
            ok,
            error: {
              code: current.status === 'cancelled' ? 'REPLAY_CANCELLED' : 'REPLAY_FAILED',
              message: `replay ${current.id} of ${current.job} ${current.status}${current.note ? `: ${current.note}` : ''}`,
              hint,
            },
            replay: current,
          },
    );
  } else if (!ok) {
    process.stderr.write(`hint: ${hint}\n`);
  }
  return ok ? 0 : 1;
}

/** Polls survive a server that restarts meanwhile (a few seconds of refused connections). */
async function poll(target: ReplayTarget, id: number): Promise<ReplayView> {
  for (let failures = 0; ; failures++) {
    try {
      return (await target.client.get<{ replay: ReplayView }>(`${target.replaysPath}/${id}`)).replay;
    } catch (e) {
      if (!(e instanceof OptimusError) || e.category !== 'io' || failures >= 20) throw e;
      await sleep(POLL_MS * 2);
    }
  }
}
