/**
 * Go's time.Time as the templates need it: an instant (Unix seconds + nanoseconds) in a zone, Go
 * layouts ("2006-01-02T15:04:05Z07:00") for formatting and parsing, and Go durations ("-24h").
 * Calendar arithmetic is done here on the proleptic Gregorian calendar (JS Date mangles years
 * below 100); only the offset of an IANA zone at an instant comes from Intl.
 */

export type Zone =
  | { readonly kind: 'fixed'; readonly name: string; readonly offset: number }
  | { readonly kind: 'iana'; readonly name: string };

export const UTC: Zone = { kind: 'fixed', name: 'UTC', offset: 0 };

const offsetFormats = new Map<string, Intl.DateTimeFormat>();
const abbrFormats = new Map<string, Intl.DateTimeFormat>();

/** A zone by IANA name ("UTC" and "" are UTC), or undefined when the name is unknown. */
export function loadLocation(name: string): Zone | undefined {
  if (name === '' || name === 'UTC') return UTC;
  try {
    const f = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'shortOffset' });
    offsetFormats.set(name, f);
    return { kind: 'iana', name };
  } catch {
    return undefined;
  }
}

function ianaOffset(name: string, sec: number): number {
  let f = offsetFormats.get(name);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'shortOffset' });
    offsetFormats.set(name, f);
  }
  const part = f.formatToParts(new Date(sec * 1000)).find((p) => p.type === 'timeZoneName')!.value;
  const m = /^GMT([+-])(\d{1,2})(?::(\d{2}))?$/.exec(part);
  if (!m) return 0;
  const abs = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60;
  return m[1] === '-' ? -abs : abs;
}

/**
 * The zone abbreviation Go prints for MST. Intl knows the common ones (EST, CET); where it only has
 * "GMT+7", Go's tzdata mostly has a numeric name too, written "+07" (or "+0530").
 */
function ianaAbbr(name: string, sec: number, offset: number): string {
  let abbr = '';
  for (const locale of ['en-US', 'en-GB']) {
    const key = `${locale} ${name}`;
    let f = abbrFormats.get(key);
    if (!f) {
      f = new Intl.DateTimeFormat(locale, { timeZone: name, timeZoneName: 'short' });
      abbrFormats.set(key, f);
    }
    abbr = f.formatToParts(new Date(sec * 1000)).find((p) => p.type === 'timeZoneName')!.value;
    if (!/^(GMT|UTC)/.test(abbr)) return abbr;
  }
  // A bare "GMT" (Europe/London in winter, Africa/Abidjan) is the tzdata name as well; en-GB
  // would have said "WET" for Lisbon, so this is not a zone that has a name of its own.
  if (abbr === 'GMT') return abbr;
  if (offset === 0) return 'UTC';
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const mm = Math.floor(abs / 60) % 60;
  return sign + pad(Math.floor(abs / 3600), 2) + (mm ? pad(mm, 2) : '');
}

export function zoneAt(zone: Zone, sec: number): { offset: number; abbr: string } {
  if (zone.kind === 'fixed') return { offset: zone.offset, abbr: zone.name };
  const offset = ianaOffset(zone.name, sec);
  return { offset, abbr: ianaAbbr(zone.name, sec, offset) };
}

function sameZone(a: Zone, b: Zone): boolean {
  return a.kind === b.kind && a.name === b.name && (a.kind === 'iana' || a.offset === (b as typeof a).offset);
}

export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

function daysIn(month: number, year: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

export interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nsec: number;
  weekday: number;
  yday: number;
  offset: number;
  abbr: string;
}

const NS = 1_000_000_000n;

export class GoTime {
  constructor(
    /** Unix seconds (an integer). */
    readonly sec: number,
    /** 0..999999999 */
    readonly nsec: number,
    readonly zone: Zone,
  ) {}

  static fromMillis(ms: number, zone: Zone = UTC): GoTime {
    const sec = Math.floor(ms / 1000);
    return new GoTime(sec, Math.round((ms - sec * 1000) * 1e6), zone);
  }

  /** Go's time.Date: out-of-range fields normalise (month 13 is January of the next year). */
  static date(
    year: number,
    month: number,
    day: number,
    hour: number,
    minute: number,
    second: number,
    nsec: number,
    zone: Zone,
  ): GoTime {
    const m0 = month - 1;
    const y = year + Math.floor(m0 / 12);
    const m = m0 - Math.floor(m0 / 12) * 12 + 1;
    const extraSec = Math.floor(nsec / 1e9);
    const ns = nsec - extraSec * 1e9;
    const days = daysFromCivil(y, m, 1) + day - 1;
    const local = days * 86400 + hour * 3600 + minute * 60 + second + extraSec;
    if (zone.kind === 'fixed') return new GoTime(local - zone.offset, ns, zone);
    // Guess with the offset at the local wall time read as UTC, then correct once: what Go does
    // around a transition, too.
    const guess = zoneAt(zone, local).offset;
    let sec = local - guess;
    const actual = zoneAt(zone, sec).offset;
    if (actual !== guess) sec = local - actual;
    return new GoTime(sec, ns, zone);
  }

  civil(): Civil {
    const { offset, abbr } = zoneAt(this.zone, this.sec);
    const local = this.sec + offset;
    const days = Math.floor(local / 86400);
    const sod = local - days * 86400;
    const { year, month, day } = civilFromDays(days);
    return {
      year,
      month,
      day,
      hour: Math.floor(sod / 3600),
      minute: Math.floor(sod / 60) % 60,
      second: sod % 60,
      nsec: this.nsec,
      weekday: (((days + 4) % 7) + 7) % 7,
      yday: days - daysFromCivil(year, 1, 1) + 1,
      offset,
      abbr,
    };
  }

  in(zone: Zone): GoTime {
    return new GoTime(this.sec, this.nsec, zone);
  }

  /** Add a duration in nanoseconds. */
  add(ns: bigint): GoTime {
    const total = BigInt(this.sec) * NS + BigInt(this.nsec) + ns;
    let sec = total / NS;
    let rem = total % NS;
    if (rem < 0n) {
      rem += NS;
      sec -= 1n;
    }
    return new GoTime(Number(sec), Number(rem), this.zone);
  }

  equalZone(other: Zone): boolean {
    return sameZone(this.zone, other);
  }

  /** Go's Time.String: "2006-01-02 15:04:05.999999999 -0700 MST". */
  toString(): string {
    return formatTime(this, '2006-01-02 15:04:05.999999999 -0700 MST');
  }
}

/** Go's zero time, what a failed toDate returns. */
export const ZERO_TIME = GoTime.date(1, 1, 1, 0, 0, 0, 0, UTC);

const LONG_MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

type Std =
  | 'LongMonth'
  | 'Month'
  | 'NumMonth'
  | 'ZeroMonth'
  | 'LongWeekDay'
  | 'WeekDay'
  | 'Day'
  | 'UnderDay'
  | 'ZeroDay'
  | 'UnderYearDay'
  | 'ZeroYearDay'
  | 'Hour'
  | 'Hour12'
  | 'ZeroHour12'
  | 'Minute'
  | 'ZeroMinute'
  | 'Second'
  | 'ZeroSecond'
  | 'LongYear'
  | 'Year'
  | 'PM'
  | 'pm'
  | 'TZ'
  | 'ISO8601TZ'
  | 'ISO8601SecondsTZ'
  | 'ISO8601ShortTZ'
  | 'ISO8601ColonTZ'
  | 'ISO8601ColonSecondsTZ'
  | 'NumTZ'
  | 'NumSecondsTz'
  | 'NumShortTZ'
  | 'NumColonTZ'
  | 'NumColonSecondsTZ'
  | 'Frac0'
  | 'Frac9';

interface Chunk {
  prefix: string;
  std?: Std;
  /** The layout text of the element, for parse errors. */
  text: string;
  /** Digits of a fractional second element. */
  digits: number;
  /** The separator of a fractional second element ('.' or ','). */
  sep: string;
}

const startsWithLower = (s: string) => s.length > 0 && s[0]! >= 'a' && s[0]! <= 'z';
const isDigitAt = (s: string, i: number) => i < s.length && s[i]! >= '0' && s[i]! <= '9';

const TZ_FORMS: [string, Std][] = [
  ['Z070000', 'ISO8601SecondsTZ'],
  ['Z07:00:00', 'ISO8601ColonSecondsTZ'],
  ['Z0700', 'ISO8601TZ'],
  ['Z07:00', 'ISO8601ColonTZ'],
  ['Z07', 'ISO8601ShortTZ'],
  ['-070000', 'NumSecondsTz'],
  ['-07:00:00', 'NumColonSecondsTZ'],
  ['-0700', 'NumTZ'],
  ['-07:00', 'NumColonTZ'],
  ['-07', 'NumShortTZ'],
];

/** The next layout element, as Go's nextStdChunk finds it (same precedence rules). */
function nextChunk(layout: string): { chunk: Chunk; rest: string } | undefined {
  for (let i = 0; i < layout.length; i++) {
    const at = (std: Std, len: number) => ({
      chunk: { prefix: layout.slice(0, i), std, text: layout.slice(i, i + len), digits: 0, sep: '' },
      rest: layout.slice(i + len),
    });
    const s = layout.slice(i);
    switch (layout[i]) {
      case 'J':
        if (s.startsWith('Jan')) {
          if (s.startsWith('January')) return at('LongMonth', 7);
          if (!startsWithLower(s.slice(3))) return at('Month', 3);
        }
        break;
      case 'M':
        if (s.startsWith('Mon')) {
          if (s.startsWith('Monday')) return at('LongWeekDay', 6);
          if (!startsWithLower(s.slice(3))) return at('WeekDay', 3);
        }
        if (s.startsWith('MST')) return at('TZ', 3);
        break;
      case '0':
        if (s.length >= 2 && s[1]! >= '1' && s[1]! <= '6')
          return at(
            (['ZeroMonth', 'ZeroDay', 'ZeroHour12', 'ZeroMinute', 'ZeroSecond', 'Year'] as const)[
              Number(s[1]) - 1
            ]!,
            2,
          );
        if (s.startsWith('002')) return at('ZeroYearDay', 3);
        break;
      case '1':
        if (s.startsWith('15')) return at('Hour', 2);
        return at('NumMonth', 1);
      case '2':
        if (s.startsWith('2006')) return at('LongYear', 4);
        return at('Day', 1);
      case '_':
        if (s.startsWith('_2')) {
          // "_2006" is a literal "_" and then the year.
          if (s.startsWith('_2006')) {
            return {
              chunk: { prefix: layout.slice(0, i + 1), std: 'LongYear', text: '2006', digits: 0, sep: '' },
              rest: layout.slice(i + 5),
            };
          }
          return at('UnderDay', 2);
        }
        if (s.startsWith('__2')) return at('UnderYearDay', 3);
        break;
      case '3':
        return at('Hour12', 1);
      case '4':
        return at('Minute', 1);
      case '5':
        return at('Second', 1);
      case 'P':
        if (s.startsWith('PM')) return at('PM', 2);
        break;
      case 'p':
        if (s.startsWith('pm')) return at('pm', 2);
        break;
      case '-':
      case 'Z':
        for (const [form, std] of TZ_FORMS) if (s.startsWith(form)) return at(std, form.length);
        break;
      case '.':
      case ',':
        if (s[1] === '0' || s[1] === '9') {
          const ch = s[1];
          let j = 1;
          while (j < s.length && s[j] === ch) j++;
          // Only a fractional second when the run of digits ends the number.
          if (!isDigitAt(s, j)) {
            const r = at(ch === '0' ? 'Frac0' : 'Frac9', j);
            r.chunk.digits = j - 1;
            r.chunk.sep = s[0]!;
            return r;
          }
        }
        break;
    }
  }
  return undefined;
}

function pad(n: number, width: number, fill = '0'): string {
  const s = String(Math.abs(n));
  const padded = s.length >= width ? s : fill.repeat(width - s.length) + s;
  return n < 0 ? `-${padded}` : padded;
}

function formatOffset(offset: number, std: Std): string {
  const zulu = std.startsWith('ISO8601');
  if (zulu && offset === 0) return 'Z';
  const abs = Math.abs(offset);
  const sign = offset < 0 ? '-' : '+';
  const hh = pad(Math.floor(abs / 3600), 2);
  const mm = pad(Math.floor(abs / 60) % 60, 2);
  const ss = pad(abs % 60, 2);
  const colon = std.includes('Colon') ? ':' : '';
  if (std.endsWith('ShortTZ')) return sign + hh;
  const seconds = std.includes('Seconds') ? colon + ss : '';
  return sign + hh + colon + mm + seconds;
}

export function formatTime(t: GoTime, layout: string): string {
  const c = t.civil();
  let out = '';
  let rest = layout;
  for (let next = nextChunk(rest); next; next = nextChunk(rest)) {
    const { chunk } = next;
    out += chunk.prefix;
    rest = next.rest;
    switch (chunk.std) {
      case 'Year':
        // Go prints the last two digits of |year|: year -1 is "01".
        out += pad(Math.abs(c.year) % 100, 2);
        break;
      case 'LongYear':
        out += pad(c.year, 4);
        break;
      case 'Month':
        out += LONG_MONTHS[c.month - 1]!.slice(0, 3);
        break;
      case 'LongMonth':
        out += LONG_MONTHS[c.month - 1];
        break;
      case 'NumMonth':
        out += c.month;
        break;
      case 'ZeroMonth':
        out += pad(c.month, 2);
        break;
      case 'WeekDay':
        out += LONG_DAYS[c.weekday]!.slice(0, 3);
        break;
      case 'LongWeekDay':
        out += LONG_DAYS[c.weekday];
        break;
      case 'Day':
        out += c.day;
        break;
      case 'UnderDay':
        out += pad(c.day, 2, ' ');
        break;
      case 'ZeroDay':
        out += pad(c.day, 2);
        break;
      case 'UnderYearDay':
        out += pad(c.yday, 3, ' ');
        break;
      case 'ZeroYearDay':
        out += pad(c.yday, 3);
        break;
      case 'Hour':
        out += pad(c.hour, 2);
        break;
      case 'Hour12':
        out += c.hour % 12 || 12;
        break;
      case 'ZeroHour12':
        out += pad(c.hour % 12 || 12, 2);
        break;
      case 'Minute':
        out += c.minute;
        break;
      case 'ZeroMinute':
        out += pad(c.minute, 2);
        break;
      case 'Second':
        out += c.second;
        break;
      case 'ZeroSecond':
        out += pad(c.second, 2);
        break;
      case 'PM':
        out += c.hour >= 12 ? 'PM' : 'AM';
        break;
      case 'pm':
        out += c.hour >= 12 ? 'pm' : 'am';
        break;
      case 'TZ':
        // A zone without a name prints as its offset, -0700 style.
        out += c.abbr !== '' ? c.abbr : formatOffset(c.offset, 'NumTZ');
        break;
      case 'Frac0':
        out += chunk.sep + pad(c.nsec, 9).slice(0, chunk.digits);
        break;
      case 'Frac9': {
        const digits = pad(c.nsec, 9).slice(0, chunk.digits).replace(/0+$/, '');
        if (digits !== '') out += chunk.sep + digits;
        break;
      }
      default:
        out += formatOffset(c.offset, chunk.std!);
    }
  }
  return out + rest;
}

const q = (s: string) => JSON.stringify(s);

export class TimeParseError extends Error {}

function badElem(value: string, layout: string, valueElem: string, layoutElem: string): TimeParseError {
  return new TimeParseError(
    `parsing time ${q(value)} as ${q(layout)}: cannot parse ${q(valueElem)} as ${q(layoutElem)}`,
  );
}

function getnum(s: string, fixed: boolean): [number, string] | undefined {
  if (!isDigitAt(s, 0)) return undefined;
  if (!isDigitAt(s, 1)) return fixed ? undefined : [Number(s[0]), s.slice(1)];
  return [Number(s.slice(0, 2)), s.slice(2)];
}

function getnum3(s: string, fixed: boolean): [number, string] | undefined {
  let n = 0;
  let i = 0;
  for (; i < 3 && isDigitAt(s, i); i++) n = n * 10 + Number(s[i]);
  if (i === 0 || (fixed && i !== 3)) return undefined;
  return [n, s.slice(i)];
}

function lookupName(names: string[], s: string, len?: number): [number, string] | undefined {
  for (let i = 0; i < names.length; i++) {
    const name = len ? names[i]!.slice(0, len) : names[i]!;
    if (s.length >= name.length && s.slice(0, name.length).toLowerCase() === name.toLowerCase())
      return [i, s.slice(name.length)];
  }
  return undefined;
}

/**
 * Go's skip: a space in the layout matches any run of spaces, at least one. On a mismatch it
 * returns how far it got too, because Go's error message quotes the value from there.
 */
function skip(value: string, prefix: string): { rest: string; ok: boolean } {
  let v = value;
  let p = prefix;
  while (p.length > 0) {
    if (p[0] === ' ') {
      if (v.length > 0 && v[0] !== ' ') return { rest: v, ok: false };
      p = p.replace(/^ +/, '');
      v = v.replace(/^ +/, '');
      continue;
    }
    if (v.length === 0 || v[0] !== p[0]) return { rest: v, ok: false };
    p = p.slice(1);
    v = v.slice(1);
  }
  return { rest: v, ok: true };
}

/** Go's parseSignedOffset: the length of "+3" or "-04" (hours up to 23) at the start, or 0. */
function signedOffsetLength(value: string): number {
  const m = /^[+-](\d+)/.exec(value);
  return m && Number(m[1]) <= 23 ? m[0].length : 0;
}

/**
 * Go's parseTimeZone: the length of the zone abbreviation at the start of value, or 0. Three
 * upper-case letters; four or five ending in T (and WITA); ChST and MeST; GMT with an optional hour
 * offset; a bare "+03" as tzdata writes zones that have no letters.
 */
function zoneNameLength(value: string): number {
  if (value.length < 3) return 0;
  if (value.startsWith('ChST') || value.startsWith('MeST')) return 4;
  if (value.startsWith('GMT')) return 3 + signedOffsetLength(value.slice(3));
  if (value[0] === '+' || value[0] === '-') return signedOffsetLength(value);
  let upper = 0;
  while (upper < 6 && upper < value.length && value[upper]! >= 'A' && value[upper]! <= 'Z') upper++;
  if (upper === 3) return 3;
  if (upper === 4 && (value[3] === 'T' || value.startsWith('WITA'))) return 4;
  if (upper === 5 && value[4] === 'T') return 5;
  return 0;
}

function parseFrac(digits: string): number {
  return Number(`${digits}000000000`.slice(0, 9));
}

/**
 * Go's time.Parse / ParseInLocation: `defaultZone` is used when the text has no zone; an offset
 * that matches `local` at that instant is read as `local` (as Go does with time.Local).
 */
export function parseTime(layout: string, value: string, defaultZone: Zone, local: Zone): GoTime {
  let rest = layout;
  let v = value;
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let pmSet = false;
  let amSet = false;
  let utc = false;
  let zoneOffset: number | undefined;
  let zoneName = '';
  const range = (what: string) => new TimeParseError(`parsing time ${q(value)}: ${what} out of range`);
  for (let next = nextChunk(rest); ; next = nextChunk(rest)) {
    const prefix = next ? next.chunk.prefix : rest;
    const skipped = skip(v, prefix);
    if (!skipped.ok) return failWith(badElem(value, layout, skipped.rest, prefix));
    v = skipped.rest;
    if (!next) break;
    const { chunk } = next;
    rest = next.rest;
    const hold = v;
    const bad = () => badElem(value, layout, hold, chunk.text);
    let r: [number, string] | undefined;
    switch (chunk.std) {
      case 'Year': {
        if (v.length < 2 || !isDigitAt(v, 0) || !isDigitAt(v, 1)) throw bad();
        const y = Number(v.slice(0, 2));
        year = y >= 69 ? y + 1900 : y + 2000;
        v = v.slice(2);
        break;
      }
      case 'LongYear':
        if (v.length < 4 || !/^\d{4}/.test(v)) throw bad();
        year = Number(v.slice(0, 4));
        v = v.slice(4);
        break;
      case 'Month':
      case 'LongMonth':
        r = lookupName(LONG_MONTHS, v, chunk.std === 'Month' ? 3 : undefined);
        if (!r) throw bad();
        month = r[0] + 1;
        v = r[1];
        break;
      case 'NumMonth':
      case 'ZeroMonth':
        r = getnum(v, chunk.std === 'ZeroMonth');
        if (!r) throw bad();
        if (r[0] <= 0 || r[0] > 12) throw range('month');
        [month, v] = r;
        break;
      case 'WeekDay':
      case 'LongWeekDay':
        r = lookupName(LONG_DAYS, v, chunk.std === 'WeekDay' ? 3 : undefined);
        if (!r) throw bad();
        v = r[1];
        break;
      case 'Day':
      case 'UnderDay':
      case 'ZeroDay':
        if (chunk.std === 'UnderDay' && v[0] === ' ') v = v.slice(1);
        r = getnum(v, chunk.std === 'ZeroDay');
        if (!r) throw bad();
        // The day is checked against its month once both are known.
        [day, v] = r;
        break;
      case 'UnderYearDay':
      case 'ZeroYearDay':
        if (chunk.std === 'UnderYearDay') v = v.replace(/^ {1,2}/, '');
        r = getnum3(v, chunk.std === 'ZeroYearDay');
        if (!r) throw bad();
        [yday, v] = r;
        break;
      case 'Hour':
        r = getnum(v, false);
        if (!r) throw bad();
        if (r[0] > 23) throw range('hour');
        [hour, v] = r;
        break;
      case 'Hour12':
      case 'ZeroHour12':
        r = getnum(v, chunk.std === 'ZeroHour12');
        if (!r) throw bad();
        if (r[0] > 12) throw range('hour');
        [hour, v] = r;
        break;
      case 'Minute':
      case 'ZeroMinute':
        r = getnum(v, chunk.std === 'ZeroMinute');
        if (!r) throw bad();
        if (r[0] > 59) throw range('minute');
        [min, v] = r;
        break;
      case 'Second':
      case 'ZeroSecond': {
        r = getnum(v, chunk.std === 'ZeroSecond');
        if (!r) throw bad();
        if (r[0] > 59) throw range('second');
        [sec, v] = r;
        // A fractional second in the value that the layout does not mention is accepted.
        const following = nextChunk(rest);
        const fracNext = following?.chunk.prefix === '' && following.chunk.std?.startsWith('Frac');
        const m = /^[.,](\d+)/.exec(v);
        if (m && !fracNext) {
          nsec = parseFrac(m[1]!);
          v = v.slice(m[0].length);
        }
        break;
      }
      case 'PM':
      case 'pm': {
        const p = v.slice(0, 2);
        const [pm, am] = chunk.std === 'PM' ? ['PM', 'AM'] : ['pm', 'am'];
        if (p === pm) pmSet = true;
        else if (p === am) amSet = true;
        else throw bad();
        v = v.slice(2);
        break;
      }
      case 'TZ': {
        if (v.startsWith('UTC')) {
          utc = true;
          v = v.slice(3);
          break;
        }
        const n = zoneNameLength(v);
        if (n === 0) throw bad();
        zoneName = v.slice(0, n);
        v = v.slice(n);
        break;
      }
      case 'Frac0': {
        const m = new RegExp(`^[.,]\\d{${chunk.digits}}`).exec(v);
        if (!m) throw bad();
        nsec = parseFrac(m[0].slice(1));
        v = v.slice(m[0].length);
        break;
      }
      case 'Frac9': {
        const m = /^[.,](\d+)/.exec(v);
        if (m) {
          nsec = parseFrac(m[1]!);
          v = v.slice(m[0].length);
        }
        break;
      }
      default: {
        const std = chunk.std!;
        if (std.startsWith('ISO8601') && v[0] === 'Z') {
          utc = true;
          v = v.slice(1);
          break;
        }
        const colon = std.includes('Colon');
        const seconds = std.includes('Seconds');
        const short = std.endsWith('ShortTZ');
        const re = short
          ? /^([+-])(\d\d)/
          : colon
            ? seconds
              ? /^([+-])(\d\d):(\d\d):(\d\d)/
              : /^([+-])(\d\d):(\d\d)/
            : seconds
              ? /^([+-])(\d\d)(\d\d)(\d\d)/
              : /^([+-])(\d\d)(\d\d)/;
        const m = re.exec(v);
        if (!m) throw bad();
        const [hh, mm, ss] = [Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0)];
        // Go allows 24 hours and 60 minutes or seconds (some write them) and names the last field
        // that is over.
        const over = ss > 60 ? 'second' : mm > 60 ? 'minute' : hh > 24 ? 'hour' : '';
        if (over !== '') throw range(`time zone offset ${over}`);
        const abs = hh * 3600 + mm * 60 + ss;
        zoneOffset = m[1] === '-' ? -abs : abs;
        v = v.slice(m[0].length);
      }
    }
  }
  if (v.length > 0) throw new TimeParseError(`parsing time ${q(value)}: extra text: ${q(v)}`);
  if (pmSet && hour < 12) hour += 12;
  else if (amSet && hour === 12) hour = 0;
  if (yday >= 0) {
    if (yday < 1 || yday > (isLeap(year) ? 366 : 365)) throw range('day-of-year');
    const d = civilFromDays(daysFromCivil(year, 1, 1) + yday - 1);
    const mismatch = (what: string) =>
      new TimeParseError(`parsing time ${q(value)}: day-of-year does not match ${what}`);
    if (month >= 0 && month !== d.month) throw mismatch('month');
    if (day >= 0 && day !== d.day) throw mismatch('day');
    month = d.month;
    day = d.day;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > daysIn(month, year)) throw range('day');
  if (utc) return GoTime.date(year, month, day, hour, min, sec, nsec, UTC);
  if (zoneOffset !== undefined) {
    // A layout with both -0700 and MST keeps the name: "+0100 CET" formats back as CET.
    const t = GoTime.date(year, month, day, hour, min, sec, nsec, {
      kind: 'fixed',
      name: zoneName,
      offset: zoneOffset,
    });
    const atLocal = zoneAt(local, t.sec);
    if (atLocal.offset === zoneOffset && (zoneName === '' || atLocal.abbr === zoneName)) return t.in(local);
    return t;
  }
  if (zoneName !== '') {
    const t = GoTime.date(year, month, day, hour, min, sec, nsec, UTC);
    const known = offsetOfName(local, zoneName, t.sec);
    if (known !== undefined) return t.add(BigInt(-known) * NS).in(local);
    // An unknown zone name: Go records it with offset 0, or the GMT offset it spells, and keeps the
    // instant read as UTC: "05:00:57 GMT-8" is 21:00:57 of the day before at -0800.
    const gmt = /^GMT([+-]\d+)$/.exec(zoneName);
    const offset = gmt ? Number(gmt[1]) * 3600 : 0;
    return t.in({ kind: 'fixed', name: zoneName, offset });
  }
  return GoTime.date(year, month, day, hour, min, sec, nsec, defaultZone);
}

const HALF_YEAR = 182 * 86400;

/**
 * Go's Location.lookupName: the offset of a zone abbreviation in a location, the one in effect at
 * that time first, else one the location uses at another time (PDT read in February is -0700). Intl
 * has no list of a location's zones, so half a year either side stands for "another time": that
 * covers both sides of a daylight saving rule.
 */
function offsetOfName(zone: Zone, name: string, sec: number): number | undefined {
  for (const at of [sec, sec - HALF_YEAR, sec + HALF_YEAR]) {
    const z = zoneAt(zone, at);
    if (z.abbr === name) return z.offset;
  }
  return undefined;
}

function failWith(e: Error): never {
  throw e;
}

// A Map, not an object: "1constructor" must be an unknown unit, not Object.prototype's.
const UNITS = new Map<string, bigint>([
  ['ns', 1n],
  ['us', 1000n],
  ['µs', 1000n], // U+00B5 micro sign
  ['μs', 1000n], // U+03BC Greek mu
  ['ms', 1_000_000n],
  ['s', NS],
  ['m', 60n * NS],
  ['h', 3600n * NS],
]);

/** 1<<63: Go accumulates durations unsigned and checks against it. */
const MAX_ABS = 1n << 63n;

/**
 * Go's leadingInt: the value stops growing once past 1<<63 (a long run of digits costs nothing) and
 * then fails the unit check below, as Go's overflow error does.
 */
function leadingInt(s: string): [bigint, string] {
  let x = 0n;
  let i = 0;
  for (; isDigitAt(s, i); i++) if (x <= MAX_ABS) x = x * 10n + BigInt(s.charCodeAt(i) - 48);
  return [x, s.slice(i)];
}

/**
 * Go's leadingFraction: digits beyond int64 precision are read and dropped, not an error, and the
 * value and scale stop where they were (Go then computes in float64 from those).
 */
function leadingFraction(s: string): { f: bigint; scale: number; rest: string } {
  let f = 0n;
  let scale = 1;
  let i = 0;
  for (; isDigitAt(s, i); i++) {
    const y = f * 10n + BigInt(s.charCodeAt(i) - 48);
    if (y > MAX_ABS) break;
    f = y;
    scale *= 10;
  }
  while (isDigitAt(s, i)) i++;
  return { f, scale, rest: s.slice(i) };
}

/** Go's time.ParseDuration, in nanoseconds; undefined when the text is not a duration or overflows. */
export function parseDuration(s: string): bigint | undefined {
  let rest = s;
  let neg = false;
  if (rest[0] === '-' || rest[0] === '+') {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') return undefined;
  let total = 0n;
  while (rest !== '') {
    if (rest[0] !== '.' && !isDigitAt(rest, 0)) return undefined;
    const [int, afterInt] = leadingInt(rest);
    const pre = afterInt.length !== rest.length;
    rest = afterInt;
    let frac = { f: 0n, scale: 1, rest };
    let post = false;
    if (rest[0] === '.') {
      frac = leadingFraction(rest.slice(1));
      post = frac.rest.length !== rest.length - 1;
    }
    if (!pre && !post) return undefined;
    rest = frac.rest;
    let i = 0;
    while (i < rest.length && rest[i] !== '.' && !isDigitAt(rest, i)) i++;
    const unit = UNITS.get(rest.slice(0, i));
    if (unit === undefined) return undefined;
    rest = rest.slice(i);
    if (int > MAX_ABS / unit) return undefined;
    let v = int * unit;
    // Go computes the fraction in float64 and truncates; the same IEEE operations give the same
    // nanosecond ("0.3333333333333333333h" is 20m exactly, not 19m59.999999999s).
    if (frac.f > 0n) v += BigInt(Math.trunc(Number(frac.f) * (Number(unit) / frac.scale)));
    total += v;
    if (total > MAX_ABS) return undefined;
  }
  if (neg) return -total;
  return total < MAX_ABS ? total : undefined;
}
