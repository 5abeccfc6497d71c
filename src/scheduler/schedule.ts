/**
 * Which scheduled times of a job are due. A job's run at scheduled time T covers the cron interval
 * that ends at T, as upstream Optimus passes Airflow's `next_execution_date` as the scheduled time:
 * with `start_date: 2023-01-01` and `0 2 * * *` the first interval starts 2023-01-01T02:00, so the
 * first run is scheduled at 2023-01-02T02:00. `end_date` bounds where an interval may start
 * (Airflow's logical date ≤ end_date). Cron times are UTC, as in upstream's DAGs.
 *
 * `catch_up: false` (upstream's default) creates only the latest due run; `catch_up: true` every
 * run since the last one created, at most `max` per call, so a job starting in 2020 with
 * `* * * * *` catches up over many passes instead of creating millions of runs at once.
 */
import { CronExpressionParser } from 'cron-parser';
import { DESCRIPTOR_FIELDS } from '../core/cron.js';

export interface ScheduleSpec {
  /** Cron (five fields) or an `@` descriptor; absent = runs only when triggered. */
  interval?: string;
  /** `YYYY-MM-DD`, UTC. */
  startDate: string;
  /** `YYYY-MM-DD`, UTC; absent or empty = no end. */
  endDate?: string;
  catchUp: boolean;
}

export interface DueTimes {
  /** Scheduled times to create now, oldest first. */
  times: Date[];
  /**
   * When to look again: the next scheduled time after those returned (earlier than `now` when
   * `max` cut the list short); undefined when the schedule has ended or never runs.
   */
  next?: Date;
  /** Why the schedule cannot be computed (a bad interval or date), in words for a user. */
  problem?: string;
}

// Stryker disable next-line Regex: parseDay keeps a date only when it prints back as the whole text, so unanchored matches are refused anyway
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDay(text: string): Date | undefined {
  const m = DAY.exec(text.trim());
  if (!m) return undefined;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().startsWith(text.trim()) ? d : undefined;
}

interface Ticks {
  /** First tick strictly after `d`, or undefined when there is none. */
  after(d: Date): Date | undefined;
  /** Latest tick at or before `d`. */
  atOrBefore(d: Date): Date | undefined;
}

function cronTicks(expr: string): Ticks {
  // Parse once up front so a bad expression is reported, not thrown from inside a pass.
  // Stryker disable next-line ObjectLiteral,StringLiteral: whether an expression parses does not depend on its time zone
  CronExpressionParser.parse(expr, { tz: 'UTC' });
  const step = (d: Date, dir: 'next' | 'prev') => {
    try {
      const it = CronExpressionParser.parse(expr, { currentDate: d, tz: 'UTC' });
      return (dir === 'next' ? it.next() : it.prev()).toDate();
    } catch {
      // Out of range: no tick that way.
      return undefined;
    }
  };
  return {
    after: (d) => step(d, 'next'),
    // Stryker disable next-line StringLiteral: step reads any direction but 'next' as backwards
    atOrBefore: (d) => step(new Date(d.getTime() + 1), 'prev'),
  };
}

export function dueTimes(spec: ScheduleSpec, opts: { since?: Date; now: Date; max: number }): DueTimes {
  const interval = spec.interval?.trim();
  if (!interval) return { times: [] };
  const start = parseDay(spec.startDate);
  if (!start) return { times: [], problem: `start_date "${spec.startDate}" is not a date YYYY-MM-DD` };
  // Stryker disable next-line MethodExpression: parseDay trims, and finds no date in blank text either
  const end = spec.endDate?.trim() ? parseDay(spec.endDate) : undefined;
  if (spec.endDate?.trim() && !end)
    return { times: [], problem: `end_date "${spec.endDate}" is not a date YYYY-MM-DD` };

  if (interval.toLowerCase() === '@once') {
    // One run, at the start date.
    if (opts.since) return { times: [] };
    return start <= opts.now ? { times: [start] } : { times: [], next: start };
  }
  let ticks: Ticks;
  try {
    ticks = cronTicks(DESCRIPTOR_FIELDS[interval.toLowerCase()] ?? interval);
  } catch {
    return {
      times: [],
      problem: `schedule interval "${interval}" is not a cron expression this server can run`,
    };
  }

  // The first interval starts at the first tick at or after start_date; its run is at the next.
  const firstStart = ticks.after(new Date(start.getTime() - 1));
  if (!firstStart) return { times: [] };
  // The last run allowed: the one whose interval starts at the last tick at or before end_date.
  let last: Date | undefined;
  if (end) {
    const lastStart = ticks.atOrBefore(end);
    // Stryker disable next-line ConditionalExpression,LogicalOperator: a shortcut; when the last interval starts before the first, the general path below finds no time and no next one either
    if (!lastStart || lastStart < firstStart) return { times: [] };
    last = ticks.after(lastStart);
  }
  // Stryker disable next-line EqualityOperator: when the two are equal either one is the same time
  const lowerBound = opts.since && opts.since > firstStart ? opts.since : firstStart;
  // Stryker disable next-line EqualityOperator: as above
  const upper = last && last < opts.now ? last : opts.now;
  const nextAfter = (d: Date) => {
    // Stryker disable next-line EqualityOperator: as above
    const t = ticks.after(d > firstStart ? d : firstStart);
    return t && (!last || t <= last) ? t : undefined;
  };

  if (!spec.catchUp) {
    const latest = ticks.atOrBefore(upper);
    const times = latest && latest > lowerBound ? [latest] : [];
    return { times, next: nextAfter(opts.now) };
  }
  const times: Date[] = [];
  let t = ticks.after(lowerBound);
  while (t && t <= upper && times.length < opts.max) {
    times.push(t);
    t = ticks.after(t);
  }
  return { times, next: t && t <= upper ? t : nextAfter(upper) };
}
