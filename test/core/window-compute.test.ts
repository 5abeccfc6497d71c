import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WindowSpec } from '../../src/core/job.js';
import {
  type ComputedWindow,
  computeWindow,
  formatWindowTime,
  WindowError,
  type WindowInput,
} from '../../src/core/window-compute.js';

/** DSTART and DEND as a run's input shows them. */
function shown(w: ComputedWindow): [string, string] {
  return [formatWindowTime(w.start, w.location), formatWindowTime(w.end, w.location)];
}
const win = (input: WindowInput, at: string) => shown(computeWindow(input, new Date(at)));
const v1 = (window: WindowSpec, at: string) => win({ version: 1, window }, at);
const v2 = (window: WindowSpec, at: string) => win({ version: 2, window }, at);
const v3 = (window: WindowSpec, at: string) => win({ version: 3, window }, at);

function failure(input: WindowInput, at = '2023-03-07T02:00:00Z'): WindowError {
  try {
    computeWindow(input, new Date(at));
  } catch (e) {
    expect(e).toBeInstanceOf(WindowError);
    return e as WindowError;
  }
  throw new Error('expected the window to be refused');
}

describe("upstream's documented examples", () => {
  it('version 2: scheduled 2023-03-07 02:00 with truncate_to d, offset -24h, size 24h', () => {
    expect(v2({ truncate_to: 'd', offset: '-24h', size: '24h' }, '2023-03-07T02:00:00Z')).toEqual([
      '2023-03-05T00:00:00Z',
      '2023-03-06T00:00:00Z',
    ]);
  });

  it('version 3: 2023-12-01T03:00Z, size 1d, shift_by -1d, truncate_to h, in Asia/Jakarta', () => {
    const w = computeWindow(
      { version: 3, window: { size: '1d', shift_by: '-1d', truncate_to: 'h', location: 'Asia/Jakarta' } },
      new Date('2023-12-01T03:00:00Z'),
    );
    expect(shown(w)).toEqual(['2023-11-29T10:00:00+07:00', '2023-11-30T10:00:00+07:00']);
    expect(w.location).toBe('Asia/Jakarta');
    expect(w.start.toISOString()).toBe('2023-11-29T03:00:00.000Z');
  });

  // What `optimus job create` writes (version 2), at a Wednesday mid-month.
  it.each([
    ['hourly', { size: '1h', offset: '0', truncate_to: 'h' }, '2023-03-14T23:00:00Z', '2023-03-15T00:00:00Z'],
    ['daily', { size: '24h', offset: '0', truncate_to: 'd' }, '2023-03-14T00:00:00Z', '2023-03-15T00:00:00Z'],
    [
      'weekly',
      { size: '168h', offset: '0', truncate_to: 'w' },
      '2023-03-06T00:00:00Z',
      '2023-03-13T00:00:00Z',
    ],
    // 720h back from the 1st: upstream's survey really writes hours, not 1M.
    [
      'monthly',
      { size: '720h', offset: '0', truncate_to: 'M' },
      '2023-01-30T00:00:00Z',
      '2023-03-01T00:00:00Z',
    ],
    [
      'fallback',
      { size: '24h', offset: '0', truncate_to: 'h' },
      '2023-03-14T00:00:00Z',
      '2023-03-15T00:00:00Z',
    ],
  ])('job create preset %s', (_name, window, start, end) => {
    expect(v2(window, '2023-03-15T00:30:00Z')).toEqual([start, end]);
  });
});

describe("goto/optimus's own custom-window vectors (shift_by = −delay)", () => {
  // 2023-11-10 10:20:50 UTC is 15:50:50 in Asia/Kolkata; the window location is UTC.
  const ref = '2023-11-10T10:20:50Z';
  it.each([
    [{ size: '3d', truncate_to: 'None' }, '2023-11-07T10:20:50Z', '2023-11-10T10:20:50Z'],
    [{ size: '24h', truncate_to: 'd' }, '2023-11-09T00:00:00Z', '2023-11-10T00:00:00Z'],
    [{ size: '2h' }, '2023-11-10T08:00:00Z', '2023-11-10T10:00:00Z'],
    [{ size: '3d' }, '2023-11-07T00:00:00Z', '2023-11-10T00:00:00Z'],
    [{ size: '1w' }, '2023-10-30T00:00:00Z', '2023-11-06T00:00:00Z'],
    [{ size: '3M' }, '2023-08-01T00:00:00Z', '2023-11-01T00:00:00Z'],
    [{ size: '1y' }, '2022-01-01T00:00:00Z', '2023-01-01T00:00:00Z'],
    [{ size: '3d', shift_by: '-2h' }, '2023-11-06T22:00:00Z', '2023-11-09T22:00:00Z'],
    [{ size: '1w', shift_by: '-3d' }, '2023-10-27T00:00:00Z', '2023-11-03T00:00:00Z'],
    [{ size: '3M', shift_by: '-3d' }, '2023-07-29T00:00:00Z', '2023-10-29T00:00:00Z'],
    [{ size: '27d', shift_by: '-3d', truncate_to: 'M' }, '2023-10-02T00:00:00Z', '2023-10-29T00:00:00Z'],
  ])('%o', (window, start, end) => {
    expect(v3(window, ref)).toEqual([start, end]);
  });

  it('aligns in the window location, not in UTC', () => {
    // 2023-11-08 18:30 UTC is already 2023-11-09 00:00 in Kolkata.
    expect(v3({ size: '2h', location: 'Asia/Kolkata' }, '2023-11-08T18:30:00Z')).toEqual([
      '2023-11-08T22:00:00+05:30',
      '2023-11-09T00:00:00+05:30',
    ]);
    expect(v3({ size: '1w', location: 'Asia/Kolkata' }, ref)).toEqual([
      '2023-10-30T00:00:00+05:30',
      '2023-11-06T00:00:00+05:30',
    ]);
  });

  it('treats a Sunday as the last day of the week that began on Monday', () => {
    expect(v3({ size: '1w' }, '2023-11-12T00:00:00Z')).toEqual([
      '2023-10-30T00:00:00Z',
      '2023-11-06T00:00:00Z',
    ]);
    expect(v3({ size: '1w' }, '2023-11-13T00:00:00Z')).toEqual([
      '2023-11-06T00:00:00Z',
      '2023-11-13T00:00:00Z',
    ]);
  });

  it('reads a size of None or no size as an empty window at the aligned time', () => {
    expect(v3({ size: 'None', truncate_to: 'd' }, ref)).toEqual([
      '2023-11-10T00:00:00Z',
      '2023-11-10T00:00:00Z',
    ]);
    expect(v3({ truncate_to: 'h', shift_by: '-1h' }, ref)).toEqual([
      '2023-11-10T09:00:00Z',
      '2023-11-10T09:00:00Z',
    ]);
  });
});

describe('month arithmetic, as Go normalises AddDate', () => {
  it('a month back from Mar 31 is "Feb 31", which is Mar 3 (Mar 2 in a leap year)', () => {
    expect(v3({ size: '1M', truncate_to: 'd' }, '2023-03-31T05:00:00Z')).toEqual([
      '2023-03-03T00:00:00Z',
      '2023-03-31T00:00:00Z',
    ]);
    expect(v3({ size: '1M', truncate_to: 'd' }, '2024-03-31T05:00:00Z')).toEqual([
      '2024-03-02T00:00:00Z',
      '2024-03-31T00:00:00Z',
    ]);
    expect(v2({ size: '1M', truncate_to: 'd' }, '2024-03-31T05:00:00Z')).toEqual([
      '2024-03-02T00:00:00Z',
      '2024-03-31T00:00:00Z',
    ]);
  });

  it('Jan 31 shifted by one month lands on Mar 3 (Mar 2 in a leap year)', () => {
    expect(v3({ size: '1d', shift_by: '1M', truncate_to: 'd' }, '2023-01-31T12:00:00Z')).toEqual([
      '2023-03-02T00:00:00Z',
      '2023-03-03T00:00:00Z',
    ]);
    expect(v3({ size: '1d', shift_by: '1M', truncate_to: 'd' }, '2024-01-31T12:00:00Z')).toEqual([
      '2024-03-01T00:00:00Z',
      '2024-03-02T00:00:00Z',
    ]);
  });

  it('starts from the aligned time, then shifts: a shifted month window may differ from end − size', () => {
    // aligned Jan 1; start = (Jan 1 − 3M) − 3d = Sep 28, whereas end − 3M would be Sep 29.
    expect(v3({ size: '3M', shift_by: '-3d' }, '2023-01-13T00:00:00Z')).toEqual([
      '2022-09-28T00:00:00Z',
      '2022-12-29T00:00:00Z',
    ]);
  });

  it('a year back from Feb 29 is Mar 1', () => {
    expect(v3({ size: '1y', truncate_to: 'd' }, '2024-02-29T10:00:00Z')).toEqual([
      '2023-03-01T00:00:00Z',
      '2024-02-29T00:00:00Z',
    ]);
  });

  it('version 2 months are calendar months, also combined with a duration', () => {
    expect(v2({ size: '1M', truncate_to: 'M' }, '2024-03-15T00:00:00Z')).toEqual([
      '2024-02-01T00:00:00Z',
      '2024-03-01T00:00:00Z',
    ]);
    expect(v2({ size: '1M24h', truncate_to: 'M', offset: '-1M' }, '2023-03-15T00:00:00Z')).toEqual([
      '2022-12-31T00:00:00Z',
      '2023-02-01T00:00:00Z',
    ]);
    // A negative month count signs the rest too: -1M24h is a day back (Feb 28), then a month back.
    expect(v2({ size: '24h', truncate_to: 'M', offset: '-1M24h' }, '2023-03-15T00:00:00Z')).toEqual([
      '2023-01-27T00:00:00Z',
      '2023-01-28T00:00:00Z',
    ]);
  });
});

describe('version 1', () => {
  it('defaults to a 24 hour window ending at the scheduled time', () => {
    expect(v1({}, '2023-03-07T02:30:00Z')).toEqual(['2023-03-06T02:30:00Z', '2023-03-07T02:30:00Z']);
  });

  it('moves w forward to the next Sunday, and a Sunday a whole week', () => {
    expect(v1({ truncate_to: 'w', size: '168h' }, '2023-03-08T02:00:00Z')).toEqual([
      '2023-03-05T00:00:00Z',
      '2023-03-12T00:00:00Z',
    ]);
    expect(v1({ truncate_to: 'w', size: '168h' }, '2023-03-05T02:00:00Z')).toEqual([
      '2023-03-05T00:00:00Z',
      '2023-03-12T00:00:00Z',
    ]);
  });

  it('ends an M window on the last day of the month and starts it on the first', () => {
    expect(v1({ truncate_to: 'M', size: '720h' }, '2023-03-15T02:00:00Z')).toEqual([
      '2023-03-01T00:00:00Z',
      '2023-03-31T00:00:00Z',
    ]);
    expect(v1({ truncate_to: 'M' }, '2024-02-10T00:00:00Z')).toEqual([
      '2024-02-01T00:00:00Z',
      '2024-02-29T00:00:00Z',
    ]);
  });

  it('counts an M window offset and size in 30-day months', () => {
    expect(v1({ truncate_to: 'M', size: '2M', offset: '-1M' }, '2023-03-15T02:00:00Z')).toEqual([
      '2023-01-01T00:00:00Z',
      '2023-02-28T00:00:00Z',
    ]);
    // 1500h is 2 whole 30-day months (and 60 hours, dropped by the integer division).
    expect(v1({ truncate_to: 'M', size: '1500h' }, '2023-03-15T02:00:00Z')).toEqual([
      '2023-02-01T00:00:00Z',
      '2023-03-31T00:00:00Z',
    ]);
  });

  it('reads nM outside M truncation as n × 30 days, and only the first month sign counts', () => {
    expect(v1({ truncate_to: 'd', size: '1M' }, '2023-03-15T02:00:00Z')).toEqual([
      '2023-02-13T00:00:00Z',
      '2023-03-15T00:00:00Z',
    ]);
    // -1M24h is −30 days + 24 hours, as upstream's parser adds the remainder unsigned.
    expect(v1({ truncate_to: 'd', offset: '-1M24h', size: '24h' }, '2023-03-31T02:00:00Z')).toEqual([
      '2023-03-01T00:00:00Z',
      '2023-03-02T00:00:00Z',
    ]);
  });

  it('does not truncate for an unknown truncate_to', () => {
    expect(v1({ truncate_to: 'y', size: '1h' }, '2023-03-15T02:30:00Z')).toEqual([
      '2023-03-15T01:30:00Z',
      '2023-03-15T02:30:00Z',
    ]);
  });
});

describe('version 2', () => {
  it('truncates w to Monday of the current week; a Sunday belongs to the week before', () => {
    expect(v2({ truncate_to: 'w', size: '168h' }, '2023-03-12T05:00:00Z')).toEqual([
      '2023-02-27T00:00:00Z',
      '2023-03-06T00:00:00Z',
    ]);
    expect(v2({ truncate_to: 'w', size: '168h' }, '2023-03-13T05:00:00Z')).toEqual([
      '2023-03-06T00:00:00Z',
      '2023-03-13T00:00:00Z',
    ]);
  });

  it('gives an empty window when there is no size and no truncation', () => {
    expect(v2({}, '2023-03-07T02:30:00Z')).toEqual(['2023-03-07T02:30:00Z', '2023-03-07T02:30:00Z']);
  });
});

describe('presets', () => {
  const presets = {
    Yesterday: { description: 'the day before yesterday', window: { size: '1d', shift_by: '-1d' } },
    jakarta_hour: { window: { size: '1h', location: 'Asia/Jakarta' } },
  };

  it('finds a preset whatever its case or leading @, and it wins over the job window fields', () => {
    const input = {
      version: 1,
      window: { preset: '@YESTERDAY', size: '48h', truncate_to: 'h' },
      presets,
    } satisfies WindowInput;
    expect(win(input, '2023-03-07T02:00:00Z')).toEqual(['2023-03-05T00:00:00Z', '2023-03-06T00:00:00Z']);
  });

  it('uses the preset location', () => {
    const w = computeWindow(
      { version: 3, window: { preset: 'jakarta_hour' }, presets },
      new Date('2023-03-07T02:20:00Z'),
    );
    expect(w.location).toBe('Asia/Jakarta');
    expect(shown(w)).toEqual(['2023-03-07T08:00:00+07:00', '2023-03-07T09:00:00+07:00']);
  });

  it('refuses an unknown preset and names the known ones', () => {
    const e = failure({ version: 3, window: { preset: 'hourly' }, presets });
    expect(e.code).toBe('WINDOW_INVALID');
    expect(e.field).toBe('task.window.preset');
    expect(e.message).toContain('known presets: Yesterday, jakarta_hour');
    expect(e.hint).toMatch(/preset_path/);
  });

  it('says the project has no presets when it has none', () => {
    const e = failure({ version: 3, window: { preset: 'daily' }, presets: null });
    expect(e.field).toBe('task.window.preset');
    expect(e.message).toMatch(/defines no presets/);
  });

  it("names the preset's own field when the preset is wrong", () => {
    const e = failure({
      version: 3,
      window: { preset: 'bad' },
      presets: { bad: { window: { size: '1q' } } },
    });
    expect(e.field).toBe('presets.bad.window.size');
    expect(failure({ version: 3, window: { preset: 'bad' }, presets: { bad: 'x' } }).field).toBe(
      'presets.bad.window',
    );
  });
});

describe('incremental window from the cron', () => {
  const inc = (interval: string, at: string) => win({ version: 3, interval }, at);

  it('runs from the previous tick to this tick', () => {
    expect(inc('0 2 * * *', '2023-03-07T02:00:00Z')).toEqual([
      '2023-03-06T02:00:00Z',
      '2023-03-07T02:00:00Z',
    ]);
    expect(inc('0 2 2,11,19,26 * *', '2022-03-19T02:00:00Z')).toEqual([
      '2022-03-11T02:00:00Z',
      '2022-03-19T02:00:00Z',
    ]);
  });

  it('gives a time between ticks the interval that contains it (upstream factory example)', () => {
    expect(inc('0 0 1 * *', '2023-09-01T01:00:00Z')).toEqual([
      '2023-09-01T00:00:00Z',
      '2023-10-01T00:00:00Z',
    ]);
  });

  it.each([
    ['@daily', '2023-03-06T00:00:00Z', '2023-03-07T00:00:00Z'],
    ['@midnight', '2023-03-06T00:00:00Z', '2023-03-07T00:00:00Z'],
    ['@hourly', '2023-03-06T23:00:00Z', '2023-03-07T00:00:00Z'],
    ['@weekly', '2023-02-26T00:00:00Z', '2023-03-05T00:00:00Z'],
    ['@monthly', '2023-02-01T00:00:00Z', '2023-03-01T00:00:00Z'],
    ['@annually', '2022-01-01T00:00:00Z', '2023-01-01T00:00:00Z'],
    ['@YEARLY', '2022-01-01T00:00:00Z', '2023-01-01T00:00:00Z'],
  ])('reads the descriptor %s', (interval, start, end) => {
    expect(inc(interval, end)).toEqual([start, end]);
  });

  it('applies to a version 3 job whose window has only ignored fields', () => {
    expect(
      win({ version: 3, window: { offset: '-1h' }, interval: '@daily' }, '2023-03-07T00:00:00Z'),
    ).toEqual(['2023-03-06T00:00:00Z', '2023-03-07T00:00:00Z']);
  });

  it('refuses a job with neither window nor interval, and an interval without ticks', () => {
    for (const interval of [undefined, '', '@once', '0 0 31 2 *', '* * *']) {
      const e = failure({ version: 3, ...(interval === undefined ? {} : { interval }) });
      expect(e.code).toBe('WINDOW_INVALID');
      expect(e.field).toBe('schedule.interval');
      expect(e.hint).toMatch(/task\.window/);
      expect(e.message).not.toMatch(/Validation error|Invalid explicit/);
    }
  });
});

describe('daylight saving days (days are calendar days in the zone, hours are elapsed time)', () => {
  const hours = (w: ComputedWindow) => (w.end.getTime() - w.start.getTime()) / 3_600_000;
  const day = (location: string, at: string, extra: WindowSpec = {}) =>
    computeWindow({ version: 3, window: { size: '1d', location, ...extra } }, new Date(at));

  it.each([
    // Europe/Berlin: clocks go forward on 2024-03-31, back on 2024-10-27.
    ['Europe/Berlin', '2024-04-01T06:00:00Z', 23, '2024-03-31T00:00:00+01:00', '2024-04-01T00:00:00+02:00'],
    ['Europe/Berlin', '2024-10-28T06:00:00Z', 25, '2024-10-27T00:00:00+02:00', '2024-10-28T00:00:00+01:00'],
    // America/New_York: forward on 2024-03-10, back on 2024-11-03.
    [
      'America/New_York',
      '2024-03-11T12:00:00Z',
      23,
      '2024-03-10T00:00:00-05:00',
      '2024-03-11T00:00:00-04:00',
    ],
    [
      'America/New_York',
      '2024-11-04T12:00:00Z',
      25,
      '2024-11-03T00:00:00-04:00',
      '2024-11-04T00:00:00-05:00',
    ],
  ])('a 1d window in %s ending %s lasts %i hours', (location, at, h, start, end) => {
    const w = day(location, at);
    expect(hours(w)).toBe(h);
    expect(shown(w)).toEqual([start, end]);
  });

  it('a 24h window across the change lasts 24 hours and starts at a different wall-clock hour', () => {
    const w = computeWindow(
      { version: 3, window: { size: '24h', truncate_to: 'd', location: 'Europe/Berlin' } },
      new Date('2024-04-01T06:00:00Z'),
    );
    expect(hours(w)).toBe(24);
    expect(shown(w)).toEqual(['2024-03-30T23:00:00+01:00', '2024-04-01T00:00:00+02:00']);
  });

  it('a week across the change is 7 calendar days', () => {
    const w = computeWindow(
      { version: 3, window: { size: '1w', location: 'America/New_York' } },
      new Date('2024-03-13T12:00:00Z'),
    );
    expect(shown(w)).toEqual(['2024-03-04T00:00:00-05:00', '2024-03-11T00:00:00-04:00']);
    expect(hours(w)).toBe(7 * 24 - 1);
  });

  it('a shift by days keeps the wall-clock time across the change', () => {
    expect(
      shown(day('Europe/Berlin', '2024-03-31T12:00:00Z', { truncate_to: 'h', shift_by: '-1d' })),
    ).toEqual(['2024-03-29T14:00:00+01:00', '2024-03-30T14:00:00+01:00']);
    expect(
      shown(day('Europe/Berlin', '2024-04-01T12:00:00Z', { truncate_to: 'h', shift_by: '-1d' })),
    ).toEqual(['2024-03-30T14:00:00+01:00', '2024-03-31T14:00:00+02:00']);
  });
});

describe('laws', () => {
  // 1970..2100, whole seconds.
  const instant = fc.integer({ min: 0, max: 4_102_444_800 }).map((s) => new Date(s * 1000));
  const unitMs = { h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
  const unit = fc.constantFrom('h', 'd', 'w') as fc.Arbitrary<keyof typeof unitMs>;
  const truncate = fc.constantFrom(undefined, 'h', 'd', 'w', 'M', 'y', 'None');

  it('in UTC, end − start equals the size for h, d and w sizes', () => {
    fc.assert(
      fc.property(
        instant,
        fc.nat({ max: 400 }),
        unit,
        truncate,
        fc.integer({ min: -50, max: 50 }),
        (at, n, u, t, s) => {
          const w = computeWindow(
            { version: 3, window: { size: `${n}${u}`, truncate_to: t, shift_by: `${s}${u}` } },
            at,
          );
          expect(w.end.getTime() - w.start.getTime()).toBe(n * unitMs[u]);
        },
      ),
    );
  });

  it('shift_by moves both ends by the shift (h, d, w in UTC; h in any zone)', () => {
    const zone = fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata');
    fc.assert(
      fc.property(
        instant,
        fc.integer({ min: 1, max: 30 }),
        unit,
        truncate,
        fc.integer({ min: -100, max: 100 }),
        zone,
        (at, n, u, t, s, location) => {
          const shiftUnit = location === 'UTC' ? u : 'h';
          const base = { size: `${n}${u}`, truncate_to: t, location };
          const a = computeWindow({ version: 3, window: base }, at);
          const b = computeWindow({ version: 3, window: { ...base, shift_by: `${s}${shiftUnit}` } }, at);
          expect(b.start.getTime() - a.start.getTime()).toBe(s * unitMs[shiftUnit]);
          expect(b.end.getTime() - a.end.getTime()).toBe(s * unitMs[shiftUnit]);
        },
      ),
    );
  });

  it('an unshifted aligned window never ends after the scheduled time, and starts no later than it ends', () => {
    const zone = fc.constantFrom(
      'UTC',
      'Europe/Berlin',
      'America/New_York',
      'Asia/Jakarta',
      'Australia/Lord_Howe',
    );
    const size = fc.tuple(fc.nat({ max: 40 }), fc.constantFrom('h', 'd', 'w', 'M', 'y'));
    fc.assert(
      fc.property(instant, size, truncate, zone, (at, [n, u], t, location) => {
        const w = computeWindow({ version: 3, window: { size: `${n}${u}`, truncate_to: t, location } }, at);
        expect(w.end.getTime()).toBeLessThanOrEqual(at.getTime());
        expect(w.start.getTime()).toBeLessThanOrEqual(w.end.getTime());
      }),
    );
  });

  it('version 2: end − start equals an hour size, and d truncation lands on midnight UTC', () => {
    fc.assert(
      fc.property(instant, fc.nat({ max: 1000 }), fc.integer({ min: -100, max: 100 }), (at, n, off) => {
        const w = computeWindow(
          { version: 2, window: { size: `${n}h`, offset: `${off}h`, truncate_to: 'd' } },
          at,
        );
        expect(w.end.getTime() - w.start.getTime()).toBe(n * 3_600_000);
        expect((w.end.getTime() - off * 3_600_000) % 86_400_000).toBe(0);
      }),
    );
  });

  it('the incremental window contains the scheduled time and ends at or after it', () => {
    const cron = fc.constantFrom('0 2 * * *', '*/15 * * * *', '0 0 * * 1', '30 6 1,15 * *', '@monthly');
    fc.assert(
      fc.property(instant, cron, (at, interval) => {
        const w = computeWindow({ version: 3, interval }, at);
        expect(w.start.getTime()).toBeLessThan(at.getTime());
        expect(w.end.getTime()).toBeGreaterThanOrEqual(at.getTime());
      }),
      { numRuns: 50 },
    );
  });
});

describe('bad input', () => {
  it.each([
    [{ version: 3, window: { size: '3g' } }, 'task.window.size', /not a whole number followed by/],
    [{ version: 3, window: { size: '+1d' } }, 'task.window.size', /not a whole number/],
    [{ version: 3, window: { size: '-1d' } }, 'task.window.size', /negative/],
    [{ version: 3, window: { size: '1d', shift_by: '2p' } }, 'task.window.shift_by', /not a whole number/],
    [
      { version: 3, window: { size: '1d', truncate_to: 'none' } },
      'task.window.truncate_to',
      /one of h, d, w, M, y/,
    ],
    [{ version: 3, window: { size: '1d', location: 'Mars/Olympus' } }, 'task.window.location', /not an IANA/],
    [{ version: 2, window: { size: '-24h' } }, 'task.window.size', /negative/],
    [{ version: 2, window: { size: '-1M' } }, 'task.window.size', /negative/],
    [{ version: 2, window: { size: '1.5M' } }, 'task.window.size', /month count "1.5"/],
    [{ version: 2, window: { offset: '1d' } }, 'task.window.offset', /not a duration/],
    [{ version: 2, window: { truncate_to: 'y' } }, 'task.window.truncate_to', /one of h, d, w, M/],
    [{ version: 1, window: { size: 'abc' } }, 'task.window.size', /not a duration/],
    [{ version: 1, window: { offset: '1M2x' } }, 'task.window.offset', /not a duration/],
    [{ version: 0 }, 'version', /window version \[0\] is not recognized/],
  ] as [WindowInput, string, RegExp][])('%o is refused at %s', (input, field, message) => {
    const e = failure(input);
    expect(e.code).toBe('WINDOW_INVALID');
    expect(e.category).toBe('invalid');
    expect(e.field).toBe(field);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
    expect(e.message).toMatch(message);
    expect(e.hint).toBeTruthy();
  });

  it('refuses an invalid scheduled time', () => {
    expect(failure({ version: 3, window: { size: '1d' } }, 'not a time').field).toBe('scheduled_at');
  });

  it('reads numbers from YAML as the text they were written as', () => {
    expect(
      v2({ size: 0 as unknown as string, offset: 0 as unknown as string }, '2023-03-07T02:30:00Z'),
    ).toEqual(['2023-03-07T02:30:00Z', '2023-03-07T02:30:00Z']);
  });
});

describe('formatWindowTime', () => {
  it('prints RFC3339 with seconds, Z for UTC and for a zero offset, as Go does', () => {
    const d = new Date('2023-01-15T10:00:00.750Z');
    expect(formatWindowTime(d, 'UTC')).toBe('2023-01-15T10:00:00Z');
    expect(formatWindowTime(d, '')).toBe('2023-01-15T10:00:00Z');
    expect(formatWindowTime(d, 'Europe/London')).toBe('2023-01-15T10:00:00Z');
    expect(formatWindowTime(d, 'Asia/Kolkata')).toBe('2023-01-15T15:30:00+05:30');
    expect(formatWindowTime(d, 'America/New_York')).toBe('2023-01-15T05:00:00-05:00');
  });

  it('refuses an unknown zone with the window error', () => {
    expect(() => formatWindowTime(new Date(0), 'Nowhere/City')).toThrow(WindowError);
  });
});

describe('what a user reads in a window and its errors', () => {
  it('says a scheduled time is not a time and how to write one', () => {
    const e = failure({ version: 3, window: { size: '1d' } }, 'not a time');
    expect(e.message).toBe('scheduled_at: is not a valid time');
    expect(e.hint).toMatch(/RFC3339/);
  });

  it('names the location when it cannot print a time in an unknown zone', () => {
    let error: unknown;
    try {
      formatWindowTime(new Date(0), 'Nowhere/City');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      field: 'location',
      message: 'location: "Nowhere/City" is not an IANA time zone',
    });
  });

  it('computes version 1, 2 and incremental windows in UTC, and a version 3 window without a location too', () => {
    const at = new Date('2023-03-07T02:30:00Z');
    expect(computeWindow({ version: 1, window: {} }, at).location).toBe('UTC');
    expect(computeWindow({ version: 2, window: { size: '1h' } }, at).location).toBe('UTC');
    expect(computeWindow({ version: 3, window: { size: '1d' } }, at).location).toBe('UTC');
    expect(computeWindow({ version: 3, interval: '@daily' }, at).location).toBe('UTC');
  });

  it('keeps the milliseconds of a scheduled time between seconds', () => {
    const w = computeWindow({ version: 2, window: { size: '1h' } }, new Date('2023-03-07T02:30:00.750Z'));
    expect(w.start.toISOString()).toBe('2023-03-07T01:30:00.750Z');
    expect(w.end.toISOString()).toBe('2023-03-07T02:30:00.750Z');
  });

  it('reads a field left empty in YAML (null) as not given', () => {
    expect(v2({ size: null as unknown as string, truncate_to: 'h' }, '2023-03-07T02:30:00Z')).toEqual([
      '2023-03-07T02:00:00Z',
      '2023-03-07T02:00:00Z',
    ]);
  });
});

describe('version 1 and 2 details', () => {
  it('version 1 truncates h to the hour', () => {
    expect(v1({ truncate_to: 'h', size: '2h' }, '2023-03-07T02:30:00Z')).toEqual([
      '2023-03-07T00:00:00Z',
      '2023-03-07T02:00:00Z',
    ]);
  });

  it('version 1 reads month counts of more than one digit, and months with a spaced duration', () => {
    expect(v1({ truncate_to: 'd', size: '12M' }, '2023-03-15T02:00:00Z')).toEqual([
      '2022-03-20T00:00:00Z',
      '2023-03-15T00:00:00Z',
    ]);
    expect(v1({ truncate_to: 'd', size: '1M 24h' }, '2023-03-15T02:00:00Z')).toEqual(
      v1({ truncate_to: 'd', size: '1M24h' }, '2023-03-15T02:00:00Z'),
    );
  });

  it('version 2 reads month counts of more than one digit, and a zero month count leaves the rest unsigned', () => {
    expect(v2({ truncate_to: 'M', size: '12M' }, '2023-03-15T00:00:00Z')).toEqual([
      '2022-03-01T00:00:00Z',
      '2023-03-01T00:00:00Z',
    ]);
    expect(v2({ truncate_to: 'd', offset: '0M24h', size: '24h' }, '2023-03-15T05:00:00Z')).toEqual([
      '2023-03-15T00:00:00Z',
      '2023-03-16T00:00:00Z',
    ]);
  });
});

describe('preset and incremental errors', () => {
  it('lists the known presets in order', () => {
    const presets = { zeta: { window: { size: '1d' } }, alpha: { window: { size: '1d' } } };
    expect(failure({ version: 3, window: { preset: 'nope' }, presets }).message).toBe(
      'task.window.preset: window preset "nope" is not defined; known presets: alpha, zeta',
    );
  });

  it('refuses a preset whose window is not a map, saying what to give', () => {
    for (const window of [[], 'daily', null]) {
      const e = failure({ version: 3, window: { preset: 'bad' }, presets: { bad: { window } } });
      expect(e.message).toBe('presets.bad.window: is missing or not a map');
      expect(e.hint).toMatch(/size, shift_by, truncate_to, location/);
    }
  });

  it('reads an interval with spaces around or between its fields', () => {
    expect(win({ version: 3, interval: ' @daily ' }, '2023-03-07T00:00:00Z')).toEqual([
      '2023-03-06T00:00:00Z',
      '2023-03-07T00:00:00Z',
    ]);
    expect(win({ version: 3, interval: '0  2 * *  *' }, '2023-03-07T02:00:00Z')).toEqual([
      '2023-03-06T02:00:00Z',
      '2023-03-07T02:00:00Z',
    ]);
  });

  it('says why there is no incremental window, in the job’s terms', () => {
    const message = (interval?: string) =>
      failure({ version: 3, ...(interval === undefined ? {} : { interval }) }).message;
    const none = 'schedule.interval: the job has no window and no schedule interval to derive one from';
    expect(message()).toBe(none);
    expect(message('   ')).toBe(none);
    expect(message('@once')).toBe(
      'schedule.interval: "@once" has no previous and next tick to make a window of',
    );
    expect(message('0 0 31 2 *')).toBe(
      'schedule.interval: "0 0 31 2 *" is not a cron expression this server can run',
    );
  });
});
