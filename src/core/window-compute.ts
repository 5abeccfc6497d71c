/**
 * From a scheduled time to a job's data window (DSTART, DEND), as upstream Optimus computes it:
 * versions 1 and 2 [R:internal/models/window_v1.go, window_v2.go], version 3 and presets
 * [G:internal/lib/window/custom.go, internal/lib/duration], and the incremental window from the cron
 * [G:internal/lib/window/incremental.go]. The maths runs on GoTime so Truncate, AddDate's
 * normalisation (Jan 31 + 1 month = Mar 3) and zones behave as Go's time package does.
 *
 * Where upstream is silent or evidently wrong, this module decides, and says so where it does:
 * - the incremental window of a time that is exactly on a cron tick ends at that tick (upstream
 *   takes the tick before and the tick after it, two intervals wide);
 * - a version 3 window with no field at all is incremental (the facts sheet's "no window" rule), and
 *   one with fields but without a size is zero-length, as upstream's `None` size makes it.
 */
import { CronExpressionParser } from 'cron-parser';
import { DESCRIPTOR_FIELDS } from './cron.js';
import { OptimusError } from './errors.js';
import type { WindowSpec } from './job.js';
import { formatTime, GoTime, loadLocation, parseDuration, UTC, type Zone } from './template/go-time.js';
import { normalisePresetName } from './window.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface ComputedWindow {
  start: Date;
  end: Date;
  /** IANA name, 'UTC' when none */
  location: string;
}

export interface WindowInput {
  /** job version 1 | 2 | 3 */
  version: number;
  /** task.window from src/core/job.ts */
  window?: WindowSpec;
  /** schedule.interval (cron), for the incremental window when there is no window */
  interval?: string;
  /** the project's presets (ProjectRecord.windowPresets) */
  presets?: Record<string, Json> | null;
}

/** A window that cannot be computed; `field` is the path of the value at fault. */
export class WindowError extends OptimusError {
  readonly field: string;
  constructor(field: string, message: string, hint: string) {
    super('WINDOW_INVALID', `${field}: ${message}`, { category: 'invalid', hint });
    this.field = field;
  }
}

const RFC3339 = '2006-01-02T15:04:05Z07:00';
const NS_PER_HOUR = 3_600_000_000_000n;

/** Throws OptimusError (WindowError) with code WINDOW_INVALID naming the field (e.g. task.window.size) and a hint. */
export function computeWindow(input: WindowInput, scheduledAt: Date): ComputedWindow {
  const ms = scheduledAt.getTime();
  if (!Number.isFinite(ms))
    throw new WindowError(
      'scheduled_at',
      'is not a valid time',
      'give an RFC3339 time such as 2023-03-07T02:00:00Z',
    );
  const ref = GoTime.fromMillis(ms, UTC);
  const w = input.window ?? {};
  const preset = text(w.preset);
  if (preset !== '') return presetWindow(preset, input.presets, ref);
  switch (input.version) {
    case 1:
      return utcWindow(windowV1(w, ref));
    case 2:
      return utcWindow(windowV2(w, ref));
    case 3:
      if (V3_FIELDS.some((f) => text(w[f]) !== '')) return customWindow(w, 'task.window', ref);
      return incrementalWindow(input.interval, ms);
    default:
      throw new WindowError(
        'version',
        `window version [${input.version}] is not recognized`,
        'set the job version to 1, 2 or 3 (3 is recommended)',
      );
  }
}

/** RFC3339 of `d` in `location` with seconds: "2023-11-29T10:00:00+07:00"; UTC → "...Z". */
export function formatWindowTime(d: Date, location: string): string {
  return formatTime(GoTime.fromMillis(d.getTime(), zoneOf(location, 'location')), RFC3339);
}

/** YAML may give `size: 0` as a number; upstream reads every window field as a string. */
function text(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

function toDate(t: GoTime): Date {
  return new Date(t.sec * 1000 + Math.floor(t.nsec / 1e6));
}

function utcWindow([start, end]: [GoTime, GoTime]): ComputedWindow {
  return { start: toDate(start), end: toDate(end), location: 'UTC' };
}

function zoneOf(location: string, field: string): Zone {
  const zone = loadLocation(location);
  if (!zone)
    throw new WindowError(
      field,
      `"${location}" is not an IANA time zone`,
      'use a name such as UTC, Asia/Jakarta or Europe/Berlin',
    );
  return zone;
}

/** Go's Time.AddDate: add to the civil fields in the time's own zone, then normalise. */
function addDate(t: GoTime, years: number, months: number, days: number): GoTime {
  const c = t.civil();
  return GoTime.date(
    c.year + years,
    c.month + months,
    c.day + days,
    c.hour,
    c.minute,
    c.second,
    c.nsec,
    t.zone,
  );
}

/**
 * Go's Time.Truncate for a whole number of seconds: it works on the instant (time since year 1,
 * a whole number of days before the Unix epoch), never on the zone's wall clock.
 */
function truncate(t: GoTime, seconds: number): GoTime {
  return new GoTime(Math.floor(t.sec / seconds) * seconds, 0, t.zone);
}

const HOUR = 3600;
const DAY = 86_400;

// ---------------------------------------------------------------- version 1

const V1_MONTHS = /([+-])?([0-9]+)(M)/g;
const NS_PER_V1_MONTH = 720n * NS_PER_HOUR;

/**
 * v1 durations: a Go duration, or `nM` read as n × 30 days plus whatever Go duration follows. Like
 * upstream, only the first `nM` counts (with its sign) while every `nM` is removed from the rest.
 */
function v1Duration(value: string, field: string): bigint {
  const matches = [...value.matchAll(V1_MONTHS)];
  const first = matches[0];
  if (first) {
    let ns = BigInt(first[2]!) * NS_PER_V1_MONTH;
    if (first[1] === '-') ns = -ns;
    const rest = value.replace(V1_MONTHS, '').trim();
    const extra = rest === '' ? 0n : parseDuration(rest);
    if (extra !== undefined) return ns + extra;
  }
  const ns = parseDuration(value);
  if (ns === undefined)
    throw new WindowError(
      field,
      `"${value}" is not a duration`,
      'write a Go duration such as 24h or -2h30m, or months such as 1M or 2M24h',
    );
  return ns;
}

function windowV1(w: WindowSpec, today: GoTime): [GoTime, GoTime] {
  const size = text(w.size) === '' ? 24n * NS_PER_HOUR : v1Duration(text(w.size), 'task.window.size');
  const offset = text(w.offset) === '' ? 0n : v1Duration(text(w.offset), 'task.window.offset');
  const truncateTo = text(w.truncate_to);
  if (truncateTo === 'M') {
    // Months are not all 30 days long: upstream aligns to calendar months, counting the offset and
    // size in whole 30-day "months" (Go's integer division truncates towards zero, as bigint's does).
    const c = today.civil();
    let end = GoTime.date(c.year, c.month, 1, 0, 0, 0, 0, UTC);
    end = addDate(end, 0, Number(offset / NS_PER_V1_MONTH), 0);
    end = addDate(end, 0, 1, -1); // the last day of that month
    end = truncate(end, DAY);
    const e = end.civil();
    let start = GoTime.date(e.year, e.month, 1, 0, 0, 0, 0, UTC);
    const sizeMonths = size / NS_PER_V1_MONTH - 1n;
    // Stryker disable next-line EqualityOperator: adding zero months changes nothing
    if (sizeMonths > 0n) start = addDate(start, 0, -Number(sizeMonths), 0);
    return [start, end];
  }
  let floating = today;
  if (truncateTo === 'h') floating = truncate(floating, HOUR);
  else if (truncateTo === 'd') floating = truncate(floating, DAY);
  else if (truncateTo === 'w') {
    // Forward to the next Sunday 00:00; a Sunday moves a whole week.
    const weekday = floating.civil().weekday;
    floating = truncate(floating.add(BigInt(7 - weekday) * 24n * NS_PER_HOUR), DAY);
  }
  // Any other truncate_to leaves the time as it is, as upstream does.
  const end = floating.add(offset);
  return [end.add(-size), end];
}

// ---------------------------------------------------------------- version 2

/** Upstream's split of `1M24h` into months and the rest; a negative month count signs the rest too. */
function v2Parts(value: string, field: string): { months: number; rest: bigint } {
  let months = 0;
  let rest = value;
  if (value.includes('M')) {
    const i = value.indexOf('M');
    const count = value.slice(0, i);
    // strconv.Atoi: an optional sign and decimal digits only.
    if (!/^[+-]?\d+$/.test(count))
      throw new WindowError(
        field,
        `"${value}" has a month count "${count}" that is not a whole number`,
        V2_HINT,
      );
    months = Number(count);
    rest = value.slice(i + 1);
    if (rest === '') rest = '0';
    else if (months < 0) rest = `-${rest}`;
  }
  const ns = parseDuration(rest);
  if (ns === undefined) throw new WindowError(field, `"${value}" is not a duration`, V2_HINT);
  return { months, rest: ns };
}

const V2_HINT = 'write a Go duration such as 24h or -2h30m, months such as 1M, or both such as 1M24h';

function windowV2(w: WindowSpec, scheduled: GoTime): [GoTime, GoTime] {
  const truncateTo = text(w.truncate_to);
  if (!['', 'h', 'd', 'w', 'M'].includes(truncateTo))
    throw new WindowError(
      'task.window.truncate_to',
      `"${truncateTo}" is not one of h, d, w, M`,
      'use h, d, w or M, or leave truncate_to out',
    );
  const offset = text(w.offset) === '' ? undefined : v2Parts(text(w.offset), 'task.window.offset');
  const sizeText = text(w.size);
  const size = sizeText === '' ? undefined : v2Parts(sizeText, 'task.window.size');
  if (size && (size.months < 0 || sizeText.startsWith('-')))
    throw new WindowError(
      'task.window.size',
      `"${sizeText}" is negative`,
      'give a positive size; move the window with offset',
    );

  let end = scheduled;
  if (truncateTo === 'h') end = truncate(end, HOUR);
  else if (truncateTo === 'd') end = truncate(end, DAY);
  else if (truncateTo === 'w') {
    // Monday 00:00 of the current week; a Sunday belongs to the week that began six days earlier.
    const weekday = scheduled.civil().weekday || 7;
    end = truncate(end, DAY).add(-BigInt(weekday - 1) * 24n * NS_PER_HOUR);
  } else if (truncateTo === 'M') {
    const c = scheduled.civil();
    end = GoTime.date(c.year, c.month, 1, 0, 0, 0, 0, UTC);
  }
  if (offset) end = addDate(end.add(offset.rest), 0, offset.months, 0);
  const start = size ? addDate(end.add(-size.rest), 0, -size.months, 0) : end;
  return [start, end];
}

// ---------------------------------------------------------------- version 3 and presets

type Unit = 'None' | 'h' | 'd' | 'w' | 'M' | 'y';
interface V3Duration {
  count: number;
  unit: Unit;
}

const V3_FIELDS = ['size', 'shift_by', 'truncate_to', 'location'] as const;
const V3_DURATION = /^(?:|None|-?\d+[hdwMy])$/;
const V3_UNITS: readonly string[] = ['None', 'h', 'd', 'w', 'M', 'y'];

function v3Duration(value: string, field: string): V3Duration {
  if (!V3_DURATION.test(value))
    throw new WindowError(
      field,
      `"${value}" is not a whole number followed by one of h, d, w, M, y`,
      'write it like 1d, -2h, 1w, 1M or 1y',
    );
  if (value === '' || value === 'None') return { count: 0, unit: 'None' };
  return { count: Number(value.slice(0, -1)), unit: value.slice(-1) as Unit };
}

/** Hours are elapsed time; days, weeks, months and years are calendar steps in the window's zone. */
function addV3(t: GoTime, count: number, unit: Unit): GoTime {
  switch (unit) {
    // Stryker disable next-line ConditionalExpression: a None duration always has count 0, so falling through to 'h' adds nothing
    case 'None':
      return t;
    case 'h':
      return t.add(BigInt(count) * NS_PER_HOUR);
    case 'd':
      return addDate(t, 0, 0, count);
    case 'w':
      return addDate(t, 0, 0, count * 7);
    case 'M':
      return addDate(t, 0, count, 0);
    case 'y':
      return addDate(t, count, 0, 0);
  }
}

function align(t: GoTime, unit: Unit): GoTime {
  if (unit === 'None') return t;
  const c = t.civil();
  let { month, day } = c;
  let hour = 0;
  if (unit === 'h') hour = c.hour;
  else if (unit === 'w')
    day -= (c.weekday || 7) - 1; // weeks start on Monday
  else if (unit === 'M') day = 1;
  else if (unit === 'y') {
    month = 1;
    day = 1;
  }
  return GoTime.date(c.year, month, day, hour, 0, 0, 0, t.zone);
}

interface CustomFields {
  size?: unknown;
  shift_by?: unknown;
  truncate_to?: unknown;
  location?: unknown;
}

function customWindow(w: CustomFields, at: string, ref: GoTime): ComputedWindow {
  const size = v3Duration(text(w.size), `${at}.size`);
  if (size.count < 0)
    throw new WindowError(
      `${at}.size`,
      `"${text(w.size)}" is negative`,
      'give a positive size; move the window with shift_by',
    );
  const shift = v3Duration(text(w.shift_by), `${at}.shift_by`);
  const location = text(w.location) || 'UTC';
  const zone = zoneOf(location, `${at}.location`);
  const truncateTo = text(w.truncate_to);
  if (truncateTo !== '' && !V3_UNITS.includes(truncateTo))
    throw new WindowError(
      `${at}.truncate_to`,
      `"${truncateTo}" is not one of h, d, w, M, y, None`,
      'use h, d, w, M, y or None, or leave truncate_to out to align to the unit of size',
    );
  const unit = (truncateTo || size.unit) as Unit;
  const aligned = align(ref.in(zone), unit);
  // Upstream computes the start from the aligned time, then shifts both ends: with calendar units
  // this is not the same as "end minus size" (a month back from Mar 29 and from Apr 1 differ).
  const end = addV3(aligned, shift.count, shift.unit);
  const start = addV3(addV3(aligned, -size.count, size.unit), shift.count, shift.unit);
  return { start: toDate(start), end: toDate(end), location };
}

function presetWindow(
  name: string,
  presets: Record<string, Json> | null | undefined,
  ref: GoTime,
): ComputedWindow {
  const wanted = normalisePresetName(name);
  const entry = Object.entries(presets ?? {}).find(([key]) => normalisePresetName(key) === wanted);
  if (!entry) {
    const known = Object.keys(presets ?? {}).sort();
    throw new WindowError(
      'task.window.preset',
      known.length
        ? `window preset "${name}" is not defined; known presets: ${known.join(', ')}`
        : `window preset "${name}" is used but the project defines no presets`,
      'define it in the file named by project.preset_path and register the project again, or fix the name',
    );
  }
  const [key, value] = entry;
  const window = isObject(value) ? value.window : undefined;
  if (!isObject(window))
    throw new WindowError(
      `presets.${key}.window`,
      'is missing or not a map',
      'give the preset a window: {size, shift_by, truncate_to, location}',
    );
  return customWindow(window, `presets.${key}.window`, ref);
}

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------- incremental

/**
 * Previous tick → this tick. "This tick" is the first tick at or after the scheduled time, so a run
 * scheduled on a tick covers the interval that ends there, and a time between ticks gets the
 * interval that contains it (upstream's result there too).
 */
function incrementalWindow(interval: string | undefined, ms: number): ComputedWindow {
  const raw = (interval ?? '').trim();
  const hint =
    'give the job a task.window (for example size: 1d) or a schedule.interval such as "0 2 * * *" or @daily';
  if (raw === '')
    throw new WindowError(
      'schedule.interval',
      'the job has no window and no schedule interval to derive one from',
      hint,
    );
  const expr = DESCRIPTOR_FIELDS[raw.toLowerCase()] ?? raw;
  if (expr.startsWith('@') || expr.split(/\s+/).length !== 5)
    throw new WindowError(
      'schedule.interval',
      `"${raw}" has no previous and next tick to make a window of`,
      hint,
    );
  try {
    const end = CronExpressionParser.parse(expr, { currentDate: new Date(ms - 1), tz: 'UTC' })
      .next()
      .toDate();
    const start = CronExpressionParser.parse(expr, { currentDate: end, tz: 'UTC' }).prev().toDate();
    return { start, end, location: 'UTC' };
  } catch {
    // The parser's own message names its internals; say what is wrong in the job's terms.
    throw new WindowError('schedule.interval', `"${raw}" is not a cron expression this server can run`, hint);
  }
}
