/**
 * Whether a run may start as far as its upstream jobs are concerned: pure decisions, no store and
 * no clock of their own (the runner reads the runs and passes the time).
 *
 * A run of job J at scheduled time T covers J's window W = computeWindow(J, T). For each upstream
 * job U of J (inferred or static, any namespace or project), the U runs that matter are those at U's
 * scheduled times (its cron ticks, within its start_date and end_date, as the scheduler creates
 * them) whose own window overlaps W. Windows are half-open, so windows that only touch do not
 * overlap (a daily run for [Mar 1, Mar 2) does not wait for Mar 2's upstream run). The newest run
 * at each such time (a replay's run is newer than the one it re-runs) must have succeeded.
 *
 * Imposing nothing: a U without a schedule interval (it runs only when triggered), one whose
 * schedule never runs or is not one the scheduler can run (the scheduler creates no run for it
 * either), one with no time in range (its start_date is later), a deleted U, and every upstream of
 * a replay's run (a replay orders its own runs).
 *
 * Finding U's times: windows move forward with the scheduled time (a later time never has an
 * earlier window), so the first and last times whose window overlaps W are found by bisection over
 * time, whatever U's size, shift, truncation or time zone, and U's cron ticks between them are
 * listed (the window of a tick within a second of either end is computed to be sure). A U without a
 * window (the cron interval is its window) needs no bisection: its ticks after W starts, up to its
 * first tick at or after W ends. At most MAX_UPSTREAM_TIMES per upstream are checked (the latest
 * ones, which are the last to run): a monthly job downstream of a job running every minute checks
 * the last 1,000 minutes of its month, not 44,640. Listing ticks with cron-parser costs about
 * 0.3 ms each, so the runner keeps what this returns per run (see runner.ts).
 */
import { CronExpressionParser } from 'cron-parser';
import { DESCRIPTOR_FIELDS } from '../core/cron.js';
import { isOptimusError } from '../core/errors.js';
import { computeWindow, type WindowInput } from '../core/window-compute.js';
import { DEFAULT_UPSTREAM_TIMEOUT_MS } from '../spec/server-config.js';
import type { RunAtTime, RunRecord, RunStatus } from '../store/run-store.js';
import { dueTimes, type ScheduleSpec } from './schedule.js';

/** Upstream times checked per upstream job and run at most (the latest ones). */
export const MAX_UPSTREAM_TIMES = 1000;

/** A job as the wait sees it: what its window and its scheduled times are computed from. */
export interface WaitJob {
  window: WindowInput;
  schedule: ScheduleSpec;
}

export interface Interval {
  start: Date;
  end: Date;
}

export interface UpstreamTimes {
  /** Scheduled times of the upstream whose window overlaps the run's, oldest first. */
  times: Date[];
  /** More than `max` times overlap: `times` holds the latest `max` of them. */
  truncated: boolean;
  /** The upstream's window cannot be computed (its runs cannot run either): in words for a user. */
  problem?: string;
}

const FAR_FUTURE = new Date(Date.UTC(9000, 0, 1));
const overlaps = (a: Interval, b: Interval) => a.start < b.end && b.start < a.end;

/**
 * The scheduled times of `upstream` whose window overlaps `window` (see the module comment).
 * Throws nothing: a window that cannot be computed is reported as `problem`.
 */
export function upstreamTimes(upstream: WaitJob, window: Interval, max = MAX_UPSTREAM_TIMES): UpstreamTimes {
  const none: UpstreamTimes = { times: [], truncated: false };
  if (window.end <= window.start) return none;
  const bounds = boundsOf(upstream);
  if (!bounds) return none;
  const { expr, firstRun, lastRun } = bounds;
  const lastMs = lastRun?.getTime() ?? Number.POSITIVE_INFINITY;
  const windowAt = (t: Date) => computeWindow(upstream.window, t);
  try {
    if (expr === undefined) {
      // @once: one run, at its start date.
      return overlaps(windowAt(firstRun), window) ? { times: [firstRun], truncated: false } : none;
    }
    let lo: number;
    let hi: number;
    /** Ticks in [sureFrom, sureUntil] overlap without computing their window. */
    let sureFrom: number;
    let sureUntil: number;
    if (isIncremental(upstream.window)) {
      // Its window is the cron interval ending at its time: the ticks after our start, up to the
      // first tick at or after our end, overlap (the cron itself says where; no window computed).
      hi = tickAtOrAfter(expr, window.end) ?? lastMs;
      lo = window.start.getTime() + 1;
      sureFrom = lo;
      sureUntil = hi;
    } else {
      // The earliest time whose window ends after ours starts, and the earliest whose window starts
      // at or after ours ends: the times in between overlap. A window's offset from its scheduled
      // time barely changes between nearby times: a good first guess.
      const near = windowAt(window.start);
      const size = Math.max(near.end.getTime() - near.start.getTime(), 3_600_000);
      const from = earliest(
        (t) => windowAt(t).end > window.start,
        2 * window.start.getTime() - near.end.getTime(),
        size,
      );
      const until = earliest(
        (t) => windowAt(t).start >= window.end,
        window.end.getTime() - (near.start.getTime() - window.start.getTime()),
        size,
      );
      // Bisection stops within a second: the ticks in the second either side are checked exactly.
      lo = from - 1000;
      hi = until + 1000;
      sureFrom = from;
      sureUntil = until - 1000;
    }
    lo = Math.max(lo, firstRun.getTime());
    hi = Math.min(hi, lastMs);
    if (hi < lo) return none;
    const ticks = CronExpressionParser.parse(expr, { currentDate: new Date(hi + 1), tz: 'UTC' });
    const times: Date[] = [];
    let truncated = false;
    // The scan bound is a safety net: ticks that do not overlap lie only at the ends.
    for (let scanned = 0; ; scanned++) {
      const t = previousTick(ticks);
      if (!t || t.getTime() < lo) break;
      const ms = t.getTime();
      const sure = ms >= sureFrom && ms <= sureUntil;
      if (!sure && !overlaps(windowAt(t), window)) continue;
      if (times.length === max || scanned >= 4 * max) {
        truncated = true;
        break;
      }
      times.push(t);
    }
    return { times: times.reverse(), truncated };
  } catch (e) {
    // cron-parser refusing an expression dueTimes accepted: as the scheduler, run nothing.
    if (!isOptimusError(e)) return none;
    return { ...none, problem: e.message };
  }
}

interface Bounds {
  /** Five cron fields; undefined for @once. */
  expr?: string;
  firstRun: Date;
  /** Absent: no end_date. */
  lastRun?: Date;
}

/**
 * When the scheduler creates the job's runs: the first, and the last when it has an end_date;
 * undefined when it never runs. Kept per WaitJob object (the runner keeps one per deployed
 * version): cron-parser takes milliseconds to compute them.
 */
const boundsCache = new WeakMap<WaitJob, Bounds | null>();

function boundsOf(job: WaitJob): Bounds | undefined {
  const cached = boundsCache.get(job);
  if (cached !== undefined) return cached ?? undefined;
  const interval = job.schedule.interval?.trim();
  let bounds: Bounds | null = null;
  if (interval) {
    const first = dueTimes({ ...job.schedule, catchUp: true }, { now: FAR_FUTURE, max: 1 });
    const firstRun = first.times[0];
    if (!first.problem && firstRun) {
      bounds = { firstRun };
      if (interval.toLowerCase() !== '@once')
        bounds.expr = DESCRIPTOR_FIELDS[interval.toLowerCase()] ?? interval;
      if (job.schedule.endDate?.trim()) {
        const last = dueTimes({ ...job.schedule, catchUp: false }, { now: FAR_FUTURE, max: 1 }).times[0];
        if (last) bounds.lastRun = last;
        else bounds = null;
      }
    }
  }
  boundsCache.set(job, bounds);
  return bounds ?? undefined;
}

/** As computeWindow decides: a version 3 window without preset or fields is the cron's interval. */
function isIncremental(input: WindowInput): boolean {
  const w = input.window ?? {};
  const set = (v: unknown) => v !== undefined && v !== null && String(v) !== '';
  return (
    input.version === 3 &&
    !set(w.preset) &&
    !['size', 'shift_by', 'truncate_to', 'location'].some((f) => set(w[f as keyof typeof w]))
  );
}

function tickAtOrAfter(expr: string, d: Date): number | undefined {
  try {
    return CronExpressionParser.parse(expr, { currentDate: new Date(d.getTime() - 1), tz: 'UTC' })
      .next()
      .getTime();
  } catch {
    return undefined;
  }
}

/** The iterator's previous tick, or undefined when there is none (cron-parser throws then). */
function previousTick(ticks: ReturnType<typeof CronExpressionParser.parse>): Date | undefined {
  try {
    return ticks.prev().toDate();
  } catch {
    return undefined;
  }
}

/**
 * The earliest time (to the second) at which `holds` becomes true, for a `holds` that stays true
 * once it is (windows move forward with time), searching out from `guess` in steps of `size`.
 */
function earliest(holds: (t: Date) => boolean, guess: number, size: number): number {
  let step = size;
  let lo = guess - step;
  let hi = guess + step;
  // Widen until the answer lies between lo (false) and hi (true); doubling reaches centuries in ~40 steps.
  for (let i = 0; i < 64 && holds(new Date(lo)); i++) {
    hi = lo;
    step *= 2;
    lo -= step;
  }
  for (let i = 0; i < 64 && !holds(new Date(hi)); i++) {
    lo = hi;
    step *= 2;
    hi += step;
  }
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (holds(new Date(mid))) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** One upstream job of a run, with the newest run at each of its relevant times. */
export interface UpstreamCheck {
  /** `namespace/job`, or `project/namespace/job` for a job of another project. */
  label: string;
  times: UpstreamTimes;
  /** The newest run at each time that has one (other runs are ignored). */
  runs: readonly Pick<RunAtTime, 'scheduledAt' | 'status'>[];
}

export type UpstreamDecision = { ready: true } | { ready: false; note: string; timedOut: boolean };

/** `namespace/job` for a job of the run's own project, `project/namespace/job` otherwise. */
export function upstreamLabel(runProject: string, up: { project: string; namespace: string; job: string }) {
  return up.project === runProject ? `${up.namespace}/${up.job}` : `${up.project}/${up.namespace}/${up.job}`;
}

interface Blocker {
  label: string;
  /** Undefined for a problem that is not one time's. */
  at?: Date;
  status: RunStatus | 'missing' | 'problem';
  problem?: string;
}

/** Failed and cancelled runs first (they need someone to act), then oldest first. */
const RANK: Record<Blocker['status'], number> = {
  failed: 0,
  cancelled: 0,
  problem: 1,
  missing: 2,
  queued: 2,
  running: 2,
  succeeded: 3,
};

const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');

function reason(b: Blocker): string {
  const at = b.at ? iso(b.at) : '';
  switch (b.status) {
    case 'problem':
      return `its window cannot be computed (${b.problem}); fix the job and deploy it`;
    case 'missing':
      return `scheduled time ${at} has no run yet`;
    case 'failed':
      return `run at ${at} failed (re-run it or replay it)`;
    case 'cancelled':
      return `run at ${at} was cancelled (re-run it or replay it)`;
    default:
      return `run at ${at} is ${b.status}`;
  }
}

/** How the timeout reads in a note: `24h`, `90m`, `30s`. */
function duration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * Whether `run` may start, given its upstream jobs' runs. While it may not, `note` says why in
 * words a user can act on (it changes only when the reason does, so a waiting run is not rewritten
 * every check); once the run has waited its `upstreamTimeoutMs` since it was created, `timedOut`
 * says it is to fail, and `note` names every upstream run that was missing or did not succeed.
 */
export function upstreamDecision(
  run: Pick<RunRecord, 'trigger' | 'createdAt' | 'settings'>,
  checks: readonly UpstreamCheck[],
  now: Date,
): UpstreamDecision {
  if ((run.trigger as string) === 'replay') return { ready: true };
  const blockers: Blocker[] = [];
  for (const check of checks) {
    if (check.times.problem) {
      blockers.push({ label: check.label, status: 'problem', problem: check.times.problem });
      continue;
    }
    const byTime = new Map(check.runs.map((r) => [r.scheduledAt.getTime(), r.status]));
    for (const at of check.times.times) {
      const status = byTime.get(at.getTime()) ?? 'missing';
      if (status !== 'succeeded') blockers.push({ label: check.label, at, status });
    }
  }
  if (blockers.length === 0) return { ready: true };
  // Stable: within a rank, upstreams in the order given and their times oldest first.
  const sorted = blockers
    .map((b, i) => ({ b, i }))
    .sort((x, y) => RANK[x.b.status] - RANK[y.b.status] || x.i - y.i)
    .map((x) => x.b);
  const timeoutMs = run.settings.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  if (now.getTime() - run.createdAt.getTime() >= timeoutMs) {
    const shown = sorted.slice(0, 5).map((b) => {
      if (b.status === 'problem') return `${b.label} (its window cannot be computed: ${b.problem})`;
      const what = b.status === 'missing' ? 'no run' : b.status;
      return `${b.label} at ${iso(b.at!)} (${what})`;
    });
    const more = sorted.length > shown.length ? ` and ${sorted.length - shown.length} more` : '';
    return {
      ready: false,
      timedOut: true,
      note:
        `upstream runs did not succeed within ${duration(timeoutMs)} of this run's creation ` +
        `(the server's scheduler.upstream_timeout): ${shown.join(', ')}${more}`,
    };
  }
  const first = sorted[0]!;
  const others = sorted.length - 1;
  const more =
    others > 0 ? ` (and ${others} more upstream run${others === 1 ? '' : 's'} not succeeded yet)` : '';
  return {
    ready: false,
    timedOut: false,
    note: `waiting for upstream ${first.label}: ${reason(first)}${more}`,
  };
}
