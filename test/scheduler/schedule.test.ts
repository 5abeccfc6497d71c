import { describe, expect, it } from 'vitest';
import { dueTimes } from '../../src/scheduler/schedule.js';

const d = (s: string) => new Date(s);
const iso = (r: { times: Date[] }) => r.times.map((t) => t.toISOString());

describe('due scheduled times', () => {
  const daily = { interval: '0 2 * * *', startDate: '2023-01-01', catchUp: true };

  it('schedules a run at the end of each interval, the first one a day after the start date', () => {
    const r = dueTimes(daily, { now: d('2023-01-04T03:00:00Z'), max: 100 });
    expect(iso(r)).toEqual([
      '2023-01-02T02:00:00.000Z',
      '2023-01-03T02:00:00.000Z',
      '2023-01-04T02:00:00.000Z',
    ]);
    expect(r.next).toEqual(d('2023-01-05T02:00:00Z'));
  });

  it('includes a tick that is exactly now and nothing before the first interval ends', () => {
    expect(iso(dueTimes(daily, { now: d('2023-01-02T02:00:00Z'), max: 100 }))).toEqual([
      '2023-01-02T02:00:00.000Z',
    ]);
    const early = dueTimes(daily, { now: d('2023-01-02T01:59:59Z'), max: 100 });
    expect(early.times).toEqual([]);
    expect(early.next).toEqual(d('2023-01-02T02:00:00Z'));
  });

  it('continues after the last run created', () => {
    const r = dueTimes(daily, { since: d('2023-01-03T02:00:00Z'), now: d('2023-01-04T03:00:00Z'), max: 100 });
    expect(iso(r)).toEqual(['2023-01-04T02:00:00.000Z']);
  });

  it('catches up at most `max` runs per call and says to look again at once', () => {
    const minutely = { interval: '* * * * *', startDate: '2020-01-01', catchUp: true };
    const now = d('2026-01-01T00:00:00Z');
    const first = dueTimes(minutely, { now, max: 50 });
    expect(first.times).toHaveLength(50);
    expect(first.times[0]).toEqual(d('2020-01-01T00:01:00Z'));
    expect(first.next).toEqual(d('2020-01-01T00:51:00Z'));
    const second = dueTimes(minutely, { since: first.times.at(-1), now, max: 50 });
    expect(second.times[0]).toEqual(d('2020-01-01T00:51:00Z'));
  });

  it('without catch_up creates only the latest due run, however old the start date', () => {
    const minutely = { interval: '* * * * *', startDate: '2020-01-01', catchUp: false };
    const r = dueTimes(minutely, { now: d('2026-01-01T00:00:30Z'), max: 50 });
    expect(iso(r)).toEqual(['2026-01-01T00:00:00.000Z']);
    expect(r.next).toEqual(d('2026-01-01T00:01:00Z'));
    // Already created: nothing new until the next tick.
    expect(dueTimes(minutely, { since: r.times[0], now: d('2026-01-01T00:00:59Z'), max: 50 }).times).toEqual(
      [],
    );
  });

  it('stops at the end date: the last run covers the interval starting on or before it', () => {
    const r = dueTimes({ ...daily, endDate: '2023-01-03' }, { now: d('2023-02-01T00:00:00Z'), max: 100 });
    // Intervals start 01-01, 01-02 (the 01-03 02:00 one starts after the end date).
    expect(iso(r)).toEqual(['2023-01-02T02:00:00.000Z', '2023-01-03T02:00:00.000Z']);
    expect(r.next).toBeUndefined();
    const midnight = dueTimes(
      { interval: '0 0 * * *', startDate: '2023-01-01', endDate: '2023-01-02', catchUp: true },
      { now: d('2023-02-01T00:00:00Z'), max: 100 },
    );
    expect(iso(midnight)).toEqual(['2023-01-02T00:00:00.000Z', '2023-01-03T00:00:00.000Z']);
  });

  it('reads the descriptors cron-parser lacks or names otherwise', () => {
    const now = d('2023-01-05T12:00:00Z');
    for (const interval of ['@daily', '@midnight']) {
      expect(iso(dueTimes({ interval, startDate: '2023-01-04', catchUp: true }, { now, max: 10 }))).toEqual([
        '2023-01-05T00:00:00.000Z',
      ]);
    }
    expect(
      dueTimes({ interval: '@annually', startDate: '2022-01-01', catchUp: true }, { now, max: 10 }).times,
    ).toEqual([d('2023-01-01T00:00:00Z')]);
    expect(
      dueTimes({ interval: '@hourly', startDate: '2023-01-05', catchUp: false }, { now, max: 10 }).times,
    ).toEqual([d('2023-01-05T12:00:00Z')]);
  });

  it('runs an @once job once, at its start date', () => {
    const once = { interval: '@once', startDate: '2023-01-04', catchUp: false };
    expect(dueTimes(once, { now: d('2023-01-05T00:00:00Z'), max: 10 }).times).toEqual([
      d('2023-01-04T00:00:00Z'),
    ]);
    expect(
      dueTimes(once, { since: d('2023-01-04T00:00:00Z'), now: d('2023-01-05T00:00:00Z'), max: 10 }).times,
    ).toEqual([]);
    expect(dueTimes(once, { now: d('2023-01-01T00:00:00Z'), max: 10 }).next).toEqual(
      d('2023-01-04T00:00:00Z'),
    );
  });

  it('creates nothing for a job without an interval or before its start date', () => {
    expect(
      dueTimes({ startDate: '2023-01-01', catchUp: true }, { now: d('2024-01-01T00:00:00Z'), max: 10 }),
    ).toEqual({ times: [] });
    const r = dueTimes({ ...daily, startDate: '2030-01-01' }, { now: d('2024-01-01T00:00:00Z'), max: 10 });
    expect(r.times).toEqual([]);
    expect(r.next).toEqual(d('2030-01-02T02:00:00Z'));
  });

  it('names a bad date or interval instead of throwing', () => {
    const now = d('2024-01-01T00:00:00Z');
    expect(dueTimes({ ...daily, startDate: '2023-02-30' }, { now, max: 1 }).problem).toBe(
      'start_date "2023-02-30" is not a date YYYY-MM-DD',
    );
    expect(dueTimes({ ...daily, endDate: 'soon' }, { now, max: 1 }).problem).toBe(
      'end_date "soon" is not a date YYYY-MM-DD',
    );
    expect(dueTimes({ ...daily, interval: '61 * * * *' }, { now, max: 1 }).problem).toMatch(
      /"61 \* \* \* \*" is not a cron expression/,
    );
  });

  it('never creates a run for a day that does not exist', () => {
    const r = dueTimes(
      { interval: '0 0 30 2 *', startDate: '2023-01-01', catchUp: true },
      { now: d('2030-01-01T00:00:00Z'), max: 10 },
    );
    expect(r.times).toEqual([]);
  });
});

describe('due scheduled times at the edges', () => {
  const daily = { interval: '0 2 * * *', startDate: '2023-01-01', catchUp: true };

  it('reads dates and an interval with spaces around them', () => {
    const r = dueTimes(
      { interval: ' 0 2 * * * ', startDate: ' 2023-01-01 ', endDate: ' 2023-01-02 ', catchUp: true },
      { now: d('2023-02-01T00:00:00Z'), max: 10 },
    );
    // The interval starting 2023-01-02T02:00 starts after the end date.
    expect(r).toEqual({ times: [d('2023-01-02T02:00:00Z')] });
  });

  it('treats a blank interval as no schedule and a blank end date as no end', () => {
    const now = d('2023-01-03T03:00:00Z');
    expect(dueTimes({ ...daily, interval: '   ' }, { now, max: 10 })).toEqual({ times: [] });
    expect(dueTimes({ ...daily, endDate: '  ' }, { now, max: 10 })).toEqual({
      times: [d('2023-01-02T02:00:00Z'), d('2023-01-03T02:00:00Z')],
      next: d('2023-01-04T02:00:00Z'),
    });
  });

  it('answers a bad date with the problem alone and no times', () => {
    const now = d('2024-01-01T00:00:00Z');
    expect(dueTimes({ ...daily, startDate: '1/1/2023' }, { now, max: 1 })).toEqual({
      times: [],
      problem: 'start_date "1/1/2023" is not a date YYYY-MM-DD',
    });
    expect(dueTimes({ ...daily, endDate: '2023-13-01' }, { now, max: 1 })).toEqual({
      times: [],
      problem: 'end_date "2023-13-01" is not a date YYYY-MM-DD',
    });
  });

  it('runs an @once job when now is exactly its start, and nothing before', () => {
    const once = { interval: '@once', startDate: '2023-01-04', catchUp: false };
    expect(dueTimes(once, { now: d('2023-01-04T00:00:00Z'), max: 10 })).toEqual({
      times: [d('2023-01-04T00:00:00Z')],
    });
    expect(dueTimes(once, { now: d('2023-01-03T23:59:59Z'), max: 10 })).toEqual({
      times: [],
      next: d('2023-01-04T00:00:00Z'),
    });
  });

  it('creates nothing, ever, when the end date comes before the first interval starts', () => {
    const r = dueTimes(
      { ...daily, startDate: '2023-01-05', endDate: '2023-01-03' },
      { now: d('2023-02-01T00:00:00Z'), max: 10 },
    );
    expect(r).toEqual({ times: [] });
  });

  it('runs once when the only interval starts on the end date itself', () => {
    const r = dueTimes(
      { interval: '0 0 * * *', startDate: '2023-01-01', endDate: '2023-01-01', catchUp: true },
      { now: d('2023-02-01T00:00:00Z'), max: 10 },
    );
    expect(r).toEqual({ times: [d('2023-01-02T00:00:00Z')] });
  });

  it('does not create runs for the future when the end date is still ahead', () => {
    const r = dueTimes({ ...daily, endDate: '2023-01-10' }, { now: d('2023-01-04T03:00:00Z'), max: 100 });
    expect(iso(r)).toEqual([
      '2023-01-02T02:00:00.000Z',
      '2023-01-03T02:00:00.000Z',
      '2023-01-04T02:00:00.000Z',
    ]);
    expect(r.next).toEqual(d('2023-01-05T02:00:00Z'));
    const latest = dueTimes(
      { ...daily, endDate: '2023-01-10', catchUp: false },
      { now: d('2023-01-04T03:00:00Z'), max: 100 },
    );
    expect(latest).toEqual({ times: [d('2023-01-04T02:00:00Z')], next: d('2023-01-05T02:00:00Z') });
  });

  it('looks again at the last run an end date allows', () => {
    const ending = { ...daily, endDate: '2023-01-03' };
    const now = d('2023-01-03T01:00:00Z');
    // The last run allowed is 2023-01-03T02:00 (its interval starts 2023-01-02T02:00).
    expect(dueTimes(ending, { now, max: 10 })).toEqual({
      times: [d('2023-01-02T02:00:00Z')],
      next: d('2023-01-03T02:00:00Z'),
    });
    expect(
      dueTimes({ ...ending, catchUp: false }, { since: d('2023-01-02T02:00:00Z'), now, max: 10 }),
    ).toEqual({
      times: [],
      next: d('2023-01-03T02:00:00Z'),
    });
  });

  it('starts from the first interval when the last run created is older than the start date', () => {
    // The start date was moved later after runs had been created.
    const r = dueTimes(daily, { since: d('2022-12-01T02:00:00Z'), now: d('2023-01-03T03:00:00Z'), max: 100 });
    expect(iso(r)).toEqual(['2023-01-02T02:00:00.000Z', '2023-01-03T02:00:00.000Z']);
  });

  it('says to look again at once when `max` cut the list at a run due exactly now', () => {
    const r = dueTimes(daily, { now: d('2023-01-04T02:00:00Z'), max: 2 });
    expect(r).toEqual({
      times: [d('2023-01-02T02:00:00Z'), d('2023-01-03T02:00:00Z')],
      next: d('2023-01-04T02:00:00Z'),
    });
  });
});
