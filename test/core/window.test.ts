import { describe, expect, it } from 'vitest';
import type { WindowSpec } from '../../src/core/job.js';
import { checkWindow, isTimeZone, normalisePresetName } from '../../src/core/window.js';

const presets = new Set(['daily', 'weekly']);
const check = (version: number, w: WindowSpec | undefined, p: ReadonlySet<string> | null = null) =>
  checkWindow(version, w, p);
const shown = (version: number, w: WindowSpec, p: ReadonlySet<string> | null = null) =>
  check(version, w, p).map((i) => `${i.severity} ${i.field ?? '-'}: ${i.message}`);

describe('window presets', () => {
  it('finds a preset whatever its case, spacing or leading @', () => {
    expect(normalisePresetName('  @Daily ')).toBe('daily');
    expect(normalisePresetName('WEEKLY')).toBe('weekly');
    expect(normalisePresetName('a@b')).toBe('a@b');
    expect(check(3, { preset: '@Daily' }, presets)).toEqual([]);
  });

  it('names the known presets, sorted, when a job uses an unknown one', () => {
    expect(shown(3, { preset: 'hourly' }, new Set(['weekly', 'daily']))).toEqual([
      'error preset: window preset "hourly" is not defined; known presets: daily, weekly',
    ]);
    expect(shown(3, { preset: 'hourly' }, new Set())).toEqual([
      'error preset: window preset "hourly" is not defined; known presets: none',
    ]);
  });

  it('says where presets come from when the project defines none', () => {
    expect(checkWindow(3, { preset: 'daily' }, undefined)).toEqual([
      {
        field: 'preset',
        severity: 'error',
        message: 'window preset "daily" is used but the project defines no presets (project.preset_path)',
      },
    ]);
  });

  it('skips the preset check when the presets are not known here', () => {
    expect(check(3, { preset: 'anything' }, null)).toEqual([]);
  });

  it('checks presets in version 1 and 2 windows too', () => {
    expect(shown(2, { preset: 'x' }, presets)).toEqual([
      'error preset: window preset "x" is not defined; known presets: daily, weekly',
    ]);
  });
});

describe('version 1 and 2 windows', () => {
  it('has nothing to say about a job without a window', () => {
    expect(check(1, undefined)).toEqual([]);
    expect(check(3, undefined)).toEqual([]);
  });

  it.each([
    '24h',
    '1M',
    '1M24h',
    '-2h30m',
    '+1h',
    '1.5h',
    '.5h',
    '2.h',
    '100ms',
    '3us',
    '3µs',
    '3μs',
    '10ns',
    '45s',
    '90m',
    '0',
    '-0',
    '+0',
    '',
  ])('accepts the duration %j as size and offset', (d) => {
    expect(check(1, { size: d, offset: d })).toEqual([]);
    expect(check(2, { size: d.replace(/^-/, ''), offset: d })).toEqual([]);
  });

  it.each(['1d', '24', 'h', 'M', '-', '+', '1h ', ' 1h', 'x1h', '1hx', '1M-1h', '1Mh', '--1h', '1w', '00'])(
    'refuses %j as a duration, naming the field',
    (d) => {
      expect(shown(1, { size: d })).toEqual([
        `error size: window size "${d}" is not a duration such as 24h, 1M or -2h30m`,
      ]);
      expect(shown(2, { offset: d })).toEqual([
        `error offset: window offset "${d}" is not a duration such as 24h, 1M or -2h30m`,
      ]);
    },
  );

  it('refuses a negative size in version 2 only', () => {
    expect(shown(2, { size: '-24h' })).toEqual(['error size: window size must not be negative']);
    expect(check(1, { size: '-24h' })).toEqual([]);
    expect(check(2, { offset: '-24h' })).toEqual([]);
  });

  it.each(['', 'h', 'd', 'w', 'M'])('accepts truncate_to %j', (t) => {
    expect(check(1, { truncate_to: t })).toEqual([]);
    expect(check(2, { truncate_to: t })).toEqual([]);
  });

  it('refuses another truncate_to in version 2 and warns in version 1, which ignores it', () => {
    expect(shown(2, { truncate_to: 'y' })).toEqual([
      'error truncate_to: window truncate_to "y" must be one of h, d, w, M',
    ]);
    expect(shown(1, { truncate_to: 'm' })).toEqual([
      'warning truncate_to: window truncate_to "m" must be one of h, d, w, M (version 1 does not truncate other values)',
    ]);
  });

  it('warns that shift_by and location are ignored before version 3', () => {
    expect(shown(1, { size: '24h', shift_by: '1d', location: 'UTC' })).toEqual([
      'warning shift_by: window shift_by is a version 3 field and is ignored in version 1',
      'warning location: window location is a version 3 field and is ignored in version 1',
    ]);
    expect(shown(2, { location: '' })).toEqual([
      'warning location: window location is a version 3 field and is ignored in version 2',
    ]);
  });

  it('reports every problem of a window at once', () => {
    expect(shown(2, { size: '-1d', offset: 'soon', truncate_to: 'x', shift_by: '1d' })).toEqual([
      'error size: window size "-1d" is not a duration such as 24h, 1M or -2h30m',
      'error offset: window offset "soon" is not a duration such as 24h, 1M or -2h30m',
      'error size: window size must not be negative',
      'error truncate_to: window truncate_to "x" must be one of h, d, w, M',
      'warning shift_by: window shift_by is a version 3 field and is ignored in version 2',
    ]);
  });
});

describe('version 3 windows', () => {
  it('accepts a complete window', () => {
    expect(
      check(3, { size: '1d', shift_by: '-2h', truncate_to: 'd', location: 'Asia/Jakarta' }, presets),
    ).toEqual([]);
  });

  it('needs a size or a preset', () => {
    expect(check(3, {})).toEqual([
      { severity: 'error', message: 'a version 3 window needs a size or a preset' },
    ]);
    expect(check(3, { truncate_to: 'd' })).toHaveLength(1);
    expect(check(3, { preset: 'daily' }, presets)).toEqual([]);
    expect(check(3, { size: '1d' })).toEqual([]);
  });

  it.each(['1h', '24h', '1d', '2w', '1M', '1y', '-1d', '365d'])('accepts %j as shift_by', (d) => {
    expect(check(3, { size: '1d', shift_by: d })).toEqual([]);
  });

  it.each(['', 'None'])('treats %j as no value', (d) => {
    expect(check(3, { size: d, shift_by: d })).toEqual([]);
  });

  it.each(['1', 'd', '1.5d', '1m', '1s', '+1d', '1d2h', ' 1d', '1d ', '1D', 'x1d', '1dx'])(
    'refuses %j as a size or shift_by, naming the field',
    (d) => {
      expect(shown(3, { size: d, shift_by: d })).toEqual([
        `error size: window size "${d}" must be a whole number and a unit of h, d, w, M or y (e.g. 1d, -2h)`,
        `error shift_by: window shift_by "${d}" must be a whole number and a unit of h, d, w, M or y (e.g. 1d, -2h)`,
      ]);
    },
  );

  it('refuses a negative size but not a negative shift', () => {
    expect(shown(3, { size: '-1d', shift_by: '-1d' })).toEqual([
      'error size: window size must not be negative',
    ]);
  });

  it.each(['h', 'd', 'w', 'M', 'y', 'None', ''])('accepts truncate_to %j', (t) => {
    expect(check(3, { size: '1d', truncate_to: t })).toEqual([]);
  });

  it('refuses another truncate_to', () => {
    expect(shown(3, { size: '1d', truncate_to: 'minute' })).toEqual([
      'error truncate_to: window truncate_to "minute" must be one of h, d, w, M, y, None',
    ]);
  });

  it('refuses a location that is not an IANA time zone, and accepts an empty one', () => {
    expect(shown(3, { size: '1d', location: 'Mars/Olympus' })).toEqual([
      'error location: window location "Mars/Olympus" is not an IANA time zone such as UTC or Asia/Jakarta',
    ]);
    expect(check(3, { size: '1d', location: '' })).toEqual([]);
    expect(check(3, { size: '1d', location: 'UTC' })).toEqual([]);
  });

  it('warns that offset is replaced by shift_by', () => {
    expect(shown(3, { size: '1d', offset: '1h' })).toEqual([
      'warning offset: window offset is replaced by shift_by in version 3 and is ignored',
    ]);
  });
});

describe('time zones', () => {
  it('knows IANA names and refuses others, the same way when asked twice', () => {
    for (let i = 0; i < 2; i++) {
      expect(isTimeZone('Europe/Berlin')).toBe(true);
      expect(isTimeZone('UTC')).toBe(true);
      expect(isTimeZone('Nowhere/Land')).toBe(false);
      expect(isTimeZone('')).toBe(false);
    }
  });
});
