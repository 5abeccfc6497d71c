import { describe, expect, it } from 'vitest';
import type { WindowSpec } from '../../src/core/job.js';
import { startRun } from '../../src/scheduler/run-state.js';
import {
  MAX_UPSTREAM_TIMES,
  type UpstreamCheck,
  type UpstreamDecision,
  upstreamDecision,
  upstreamLabel,
  upstreamTimes,
  type WaitJob,
} from '../../src/scheduler/upstream-wait.js';
import type { RunRecord, RunSettings, RunStatus } from '../../src/store/run-store.js';

const d = (iso: string) => new Date(iso);
const isos = (ts: Date[]) => ts.map((t) => t.toISOString().replace('.000Z', 'Z'));

function job(
  interval: string | undefined,
  window: WindowSpec,
  schedule: { startDate?: string; endDate?: string } = {},
  presets: Record<string, never> | null = null,
): WaitJob {
  return {
    window: { version: 3, window, ...(interval ? { interval } : {}), presets },
    schedule: {
      ...(interval ? { interval } : {}),
      startDate: schedule.startDate ?? '2026-01-01',
      ...(schedule.endDate ? { endDate: schedule.endDate } : {}),
      catchUp: false,
    },
  };
}

const DAY = { size: '1d', truncate_to: 'd' };
const HOUR = { size: '1h', truncate_to: 'h' };
/** The window of a daily run scheduled at 2026-03-02T00:00Z. */
const MARCH_1 = { start: d('2026-03-01T00:00:00Z'), end: d('2026-03-02T00:00:00Z') };

describe('the upstream times a run waits for', () => {
  it('is the one daily upstream run whose day holds an hourly run’s hour', () => {
    const daily = job('0 0 * * *', DAY);
    const r = upstreamTimes(daily, { start: d('2026-03-01T04:00:00Z'), end: d('2026-03-01T05:00:00Z') });
    expect(isos(r.times)).toEqual(['2026-03-02T00:00:00Z']);
    expect(r.truncated).toBe(false);
  });

  it('is every hourly upstream run of a daily run’s day, and not the hours that only touch it', () => {
    const hourly = job('0 * * * *', HOUR);
    const r = upstreamTimes(hourly, MARCH_1);
    expect(r.times).toHaveLength(24);
    // The run at 01:00 covers [00:00, 01:00); the one at 00:00 covers the day before's last hour.
    expect(isos([r.times[0]!, r.times[23]!])).toEqual(['2026-03-01T01:00:00Z', '2026-03-02T00:00:00Z']);
  });

  it('does not count windows that only touch the run’s window', () => {
    const r = upstreamTimes(job('0 0 * * *', DAY), MARCH_1);
    expect(isos(r.times)).toEqual(['2026-03-02T00:00:00Z']);
  });

  it('follows an upstream whose window is shifted from its scheduled time', () => {
    // Scheduled at T, it covers the day before T's day: March 1 is covered by the run of March 3.
    const back = job('0 0 * * *', { ...DAY, shift_by: '-1d' });
    expect(isos(upstreamTimes(back, MARCH_1).times)).toEqual(['2026-03-03T00:00:00Z']);
    const ahead = job('0 0 * * *', { ...DAY, shift_by: '1d' });
    expect(isos(upstreamTimes(ahead, MARCH_1).times)).toEqual(['2026-03-01T00:00:00Z']);
  });

  it('reads an upstream’s days in its own time zone, so two of them overlap a UTC day', () => {
    // Jakarta days run 17:00Z to 17:00Z: March 1 UTC overlaps Jakarta's March 1 and March 2.
    const jakarta = job('0 0 * * *', { ...DAY, location: 'Asia/Jakarta' });
    expect(isos(upstreamTimes(jakarta, MARCH_1).times)).toEqual([
      '2026-03-02T00:00:00Z',
      '2026-03-03T00:00:00Z',
    ]);
  });

  it('uses the cron interval as the window of an upstream without a window', () => {
    const incremental = job('30 4 * * *', {});
    expect(isos(upstreamTimes(incremental, MARCH_1).times)).toEqual([
      '2026-03-01T04:30:00Z',
      '2026-03-02T04:30:00Z',
    ]);
  });

  it('leaves out times before the upstream’s start_date and after its end_date', () => {
    const hourly = (s: { startDate?: string; endDate?: string }) =>
      upstreamTimes(job('0 * * * *', HOUR, s), MARCH_1);
    // Its first interval starts at 2026-03-01T00:00, so its first run is at 01:00: the whole day.
    expect(hourly({ startDate: '2026-03-01' }).times).toHaveLength(24);
    expect(hourly({ startDate: '2026-03-02' }).times).toEqual([]);
    expect(hourly({ endDate: '2026-02-20' }).times).toEqual([]);
    // The last interval starts at 2026-03-01T00:00, so the last run is at 01:00.
    expect(isos(hourly({ endDate: '2026-03-01' }).times)).toEqual(['2026-03-01T01:00:00Z']);
  });

  it('imposes nothing for an upstream without a schedule interval or with one that never runs', () => {
    expect(upstreamTimes(job(undefined, DAY), MARCH_1)).toEqual({ times: [], truncated: false });
    expect(upstreamTimes(job('0 0 31 2 *', DAY), MARCH_1).times).toEqual([]);
    expect(upstreamTimes(job('not a cron', DAY), MARCH_1).times).toEqual([]);
  });

  it('finds the single run of an @once upstream when its window overlaps', () => {
    // Its one run is at its start date and covers the day before.
    const once = job('@once', { size: '1d' }, { startDate: '2026-03-02' });
    expect(isos(upstreamTimes(once, MARCH_1).times)).toEqual(['2026-03-02T00:00:00Z']);
    const later = job('@once', { size: '1d' }, { startDate: '2026-03-05' });
    expect(upstreamTimes(later, MARCH_1).times).toEqual([]);
  });

  it('checks the latest 1,000 times of an upstream running every minute below a monthly job', () => {
    // v3 sizes have no minutes: the cron's own interval is its window.
    const minutely = job('* * * * *', {});
    const march = { start: d('2026-03-01T00:00:00Z'), end: d('2026-04-01T00:00:00Z') };
    const r = upstreamTimes(minutely, march);
    expect(r.truncated).toBe(true);
    expect(r.times).toHaveLength(MAX_UPSTREAM_TIMES);
    expect(isos([r.times.at(-1)!])).toEqual(['2026-04-01T00:00:00Z']);
    expect(isos([r.times[0]!])).toEqual(['2026-03-31T07:21:00Z']);
  });

  it('reports an upstream window that cannot be computed instead of throwing', () => {
    const r = upstreamTimes(job('0 0 * * *', { preset: 'nightly' }, {}, {}), MARCH_1);
    expect(r.times).toEqual([]);
    expect(r.problem).toMatch(/nightly/);
  });
});

const SETTINGS: RunSettings = {
  maxAttempts: 1,
  retryDelayMs: 0,
  exponentialBackoff: false,
  timeoutMs: 60_000,
  dependsOnPast: false,
  upstreamTimeoutMs: 3_600_000,
};
const CREATED = d('2026-03-02T06:00:00Z');
const SOON = d('2026-03-02T06:10:00Z');

function check(label: string, times: string[], runs: Record<string, RunStatus>): UpstreamCheck {
  return {
    label,
    times: { times: times.map(d), truncated: false },
    runs: Object.entries(runs).map(([at, status]) => ({ scheduledAt: d(at), status })),
  };
}

const wait = { trigger: 'schedule' as const, createdAt: CREATED, settings: SETTINGS };

describe('whether a run may start for its upstreams', () => {
  it('starts when every upstream run of its window succeeded', () => {
    const c = check('finance/revenue-daily', ['2026-03-01T04:30:00Z'], {
      '2026-03-01T04:30:00Z': 'succeeded',
    });
    expect(upstreamDecision(wait, [c], SOON)).toEqual({ ready: true });
    expect(upstreamDecision(wait, [], SOON)).toEqual({ ready: true });
  });

  it('waits with a note naming the upstream run and what it is doing', () => {
    const at = '2026-03-01T04:30:00Z';
    const note = (status: RunStatus | undefined) =>
      (
        upstreamDecision(
          wait,
          [check('finance/revenue-daily', [at], status ? { [at]: status } : {})],
          SOON,
        ) as {
          note: string;
        }
      ).note;
    expect(note('running')).toBe(
      'waiting for upstream finance/revenue-daily: run at 2026-03-01T04:30:00Z is running',
    );
    expect(note('queued')).toBe(
      'waiting for upstream finance/revenue-daily: run at 2026-03-01T04:30:00Z is queued',
    );
    expect(note(undefined)).toBe(
      'waiting for upstream finance/revenue-daily: scheduled time 2026-03-01T04:30:00Z has no run yet',
    );
    expect(note('failed')).toBe(
      'waiting for upstream finance/revenue-daily: run at 2026-03-01T04:30:00Z failed (re-run it or replay it)',
    );
    expect(note('cancelled')).toBe(
      'waiting for upstream finance/revenue-daily: run at 2026-03-01T04:30:00Z was cancelled (re-run it or replay it)',
    );
  });

  it('names a failed upstream run first, and counts the others', () => {
    const hourly = check('ns/hourly', ['2026-03-01T01:00:00Z', '2026-03-01T02:00:00Z'], {
      '2026-03-01T01:00:00Z': 'running',
    });
    const daily = check('other/ns/daily', ['2026-03-02T00:00:00Z'], { '2026-03-02T00:00:00Z': 'failed' });
    expect(upstreamDecision(wait, [hourly, daily], SOON)).toEqual({
      ready: false,
      timedOut: false,
      note:
        'waiting for upstream other/ns/daily: run at 2026-03-02T00:00:00Z failed (re-run it or replay it) ' +
        '(and 2 more upstream runs not succeeded yet)',
    });
  });

  it('keeps the same note while the reason stays the same', () => {
    const c = check('ns/a', ['2026-03-01T01:00:00Z'], { '2026-03-01T01:00:00Z': 'running' });
    const first = upstreamDecision(wait, [c], SOON);
    const later = upstreamDecision(wait, [c], d('2026-03-02T06:50:00Z'));
    expect(later).toEqual(first);
  });

  it('times out after the upstream timeout, naming every upstream run missing or not successful', () => {
    const c = check('ns/hourly', ['2026-03-01T01:00:00Z', '2026-03-01T02:00:00Z', '2026-03-01T03:00:00Z'], {
      '2026-03-01T01:00:00Z': 'succeeded',
      '2026-03-01T02:00:00Z': 'running',
    });
    expect(upstreamDecision(wait, [c], d('2026-03-02T07:00:00Z'))).toEqual({
      ready: false,
      timedOut: true,
      note:
        "upstream runs did not succeed within 1h of this run's creation (the server's scheduler.upstream_timeout): " +
        'ns/hourly at 2026-03-01T02:00:00Z (running), ns/hourly at 2026-03-01T03:00:00Z (no run)',
    });
  });

  it('lists at most five upstream runs in a timeout note', () => {
    const times = Array.from({ length: 8 }, (_, i) => `2026-03-01T0${i}:00:00Z`);
    const r = upstreamDecision(wait, [check('ns/h', times, {})], d('2026-03-03T00:00:00Z'));
    expect(r).toMatchObject({
      timedOut: true,
      note: expect.stringMatching(/04:00:00Z \(no run\) and 3 more$/),
    });
  });

  it('gives runs created before the setting existed the default of a day', () => {
    const { upstreamTimeoutMs: _, ...old } = SETTINGS;
    const c = check('ns/a', ['2026-03-01T01:00:00Z'], {});
    const run = { ...wait, settings: old };
    expect(upstreamDecision(run, [c], d('2026-03-03T05:59:59Z'))).toMatchObject({ timedOut: false });
    expect(upstreamDecision(run, [c], d('2026-03-03T06:00:00Z'))).toMatchObject({ timedOut: true });
  });

  it('lets a replay’s run start whatever its upstreams do', () => {
    const c = check('ns/a', ['2026-03-01T01:00:00Z'], { '2026-03-01T01:00:00Z': 'failed' });
    expect(upstreamDecision({ ...wait, trigger: 'replay' }, [c], SOON)).toEqual({ ready: true });
  });

  it('waits for an upstream whose window cannot be computed, saying what to fix', () => {
    const c: UpstreamCheck = {
      label: 'ns/a',
      times: { times: [], truncated: false, problem: 'task.window.preset: no preset "nightly"' },
      runs: [],
    };
    expect(upstreamDecision(wait, [c], SOON)).toMatchObject({
      ready: false,
      note: 'waiting for upstream ns/a: its window cannot be computed (task.window.preset: no preset "nightly"); fix the job and deploy it',
    });
  });

  it('labels an upstream of another project with its project', () => {
    expect(upstreamLabel('p', { project: 'p', namespace: 'finance', job: 'revenue' })).toBe(
      'finance/revenue',
    );
    expect(upstreamLabel('p', { project: 'q', namespace: 'finance', job: 'revenue' })).toBe(
      'q/finance/revenue',
    );
  });
});

function queuedRun(over: Partial<RunRecord> = {}): RunRecord {
  const node = (name: string, stage: 'pre' | 'task' | 'post' | 'fail', dependsOn: string[]) => ({
    runId: 1,
    name,
    type: 'shell',
    stage,
    dependsOn,
    status: 'pending' as const,
    attempt: 0,
    attemptsBefore: 0,
    notBefore: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    handle: null,
    cancelRequested: false,
    startedAt: null,
    finishedAt: null,
    exitCode: null,
    error: null,
  });
  return {
    id: 1,
    projectName: 'p',
    namespaceName: 'ns',
    jobName: 'b',
    scheduledAt: d('2026-03-02T00:00:00Z'),
    trigger: 'schedule',
    replayId: null,
    status: 'queued',
    jobHash: 'h',
    settings: SETTINGS,
    note: null,
    createdAt: CREATED,
    startedAt: null,
    finishedAt: null,
    nodes: [node('task', 'task', []), node('page', 'fail', ['task'])],
    ...over,
  };
}

describe('starting a run that waits for upstreams', () => {
  const waiting: UpstreamDecision = { ready: false, timedOut: false, note: 'waiting for upstream ns/a: …' };

  it('stays queued with the note, and is not written again while the note is the same', () => {
    expect(startRun(queuedRun(), undefined, SOON, waiting)).toEqual({ note: waiting.note });
    expect(startRun(queuedRun({ note: waiting.note }), undefined, SOON, waiting)).toBeUndefined();
  });

  it('fails without running anything once the wait timed out', () => {
    const change = startRun(queuedRun(), undefined, SOON, {
      ...waiting,
      timedOut: true,
      note: 'upstream runs …',
    });
    expect(change).toEqual({
      status: 'failed',
      note: 'upstream runs …',
      finishedAt: SOON,
      nodes: [
        { name: 'task', status: 'upstream_failed', notBefore: null, finishedAt: SOON },
        { name: 'page', status: 'upstream_failed', notBefore: null, finishedAt: SOON },
      ],
    });
  });

  it('starts once ready', () => {
    expect(startRun(queuedRun(), undefined, SOON, { ready: true })).toMatchObject({ status: 'running' });
  });

  it('says depends_on_past first when the previous run has not succeeded', () => {
    const previous = queuedRun({ id: 0, status: 'failed', scheduledAt: d('2026-03-01T00:00:00Z') });
    const run = queuedRun({ settings: { ...SETTINGS, dependsOnPast: true } });
    const change = startRun(run, previous, SOON, { ...waiting, timedOut: true });
    expect(change?.note).toMatch(/^waiting for run 0 .*depends_on_past/);
    expect(change?.status).toBeUndefined();
  });
});
