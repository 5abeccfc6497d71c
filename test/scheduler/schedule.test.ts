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
