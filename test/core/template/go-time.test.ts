// Go's time layouts, parsing and durations, as the template functions Date, date, toDate, dateFrom,
// dateFromStr and date_modify use them. Every vector comes from Go's own documentation of package
// time (https://pkg.go.dev/time: the Layout constants and their comment, Time.Format, Parse,
// ParseInLocation, Date, ParseDuration) or from the vectors of Go's own tests of those functions
// (src/time/format_test.go and time_test.go), named in a comment above each group.
import { describe, expect, it } from 'vitest';
import {
  formatTime,
  GoTime,
  loadLocation,
  parseDuration,
  parseTime,
  TimeParseError,
  UTC,
  type Zone,
} from '../../../src/core/template/go-time.js';
import { renderString } from '../../../src/core/template/index.js';
import { render } from './helpers.js';

// The layout constants, exactly as package time declares them.
const L = {
  Layout: "01/02 03:04:05PM '06 -0700",
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
  Kitchen: '3:04PM',
  Stamp: 'Jan _2 15:04:05',
  StampMilli: 'Jan _2 15:04:05.000',
  StampMicro: 'Jan _2 15:04:05.000000',
  StampNano: 'Jan _2 15:04:05.000000000',
  DateTime: '2006-01-02 15:04:05',
  DateOnly: '2006-01-02',
  TimeOnly: '15:04:05',
} as const;

/** Go's Time.String layout: shows the instant, its offset and its zone name at once. */
const STRING = '2006-01-02 15:04:05.999999999 -0700 MST';

const fixed = (name: string, offset: number): Zone => ({ kind: 'fixed', name, offset });
const zone = (name: string): Zone => {
  const z = loadLocation(name);
  if (!z) throw new Error(`no zone ${name}`);
  return z;
};
const date = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ns = 0, z: Zone = UTC) =>
  GoTime.date(y, mo, d, h, mi, s, ns, z);
/** Go's Parse: no zone in the text means UTC; offsets and names are matched against `local`. */
const parse = (layout: string, value: string, local: Zone = UTC) => parseTime(layout, value, UTC, local);
/** The parse error's message, or "ok: <Time.String>" when the text parses. */
const parseMessage = (layout: string, value: string, local: Zone = UTC) => {
  try {
    return `ok: ${formatTime(parse(layout, value, local), STRING)}`;
  } catch (e) {
    if (e instanceof TimeParseError) return e.message;
    throw e;
  }
};

const BERLIN = zone('Europe/Berlin');
const NEW_YORK = zone('America/New_York');
const KOLKATA = zone('Asia/Kolkata');
const KATHMANDU = zone('Asia/Kathmandu');
// Go's own time tests run with Local set to America/Los_Angeles; their PST/PDT vectors need it.
const LOS_ANGELES = zone('America/Los_Angeles');

describe('the layout constants', () => {
  // Layout doc: "The reference time used in these layouts is ... Mon Jan 2 15:04:05 MST 2006 ...
  // As a Unix time, this is 1136239445", and each layout is "what the reference time would look
  // like formatted your way": formatting the reference time gives every constant back.
  const reference = date(2006, 1, 2, 15, 4, 5, 0, fixed('MST', -7 * 3600));

  it('place the reference time at Unix second 1136239445', () => {
    expect(reference.sec).toBe(1136239445);
    expect(reference.nsec).toBe(0);
  });

  it('format the reference time as themselves (with _2 as a space-padded day)', () => {
    const want: Record<keyof typeof L, string> = {
      Layout: "01/02 03:04:05PM '06 -0700",
      ANSIC: 'Mon Jan  2 15:04:05 2006',
      UnixDate: 'Mon Jan  2 15:04:05 MST 2006',
      RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
      RFC822: '02 Jan 06 15:04 MST',
      RFC822Z: '02 Jan 06 15:04 -0700',
      RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
      RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
      RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
      RFC3339: '2006-01-02T15:04:05-07:00',
      RFC3339Nano: '2006-01-02T15:04:05-07:00',
      Kitchen: '3:04PM',
      Stamp: 'Jan  2 15:04:05',
      StampMilli: 'Jan  2 15:04:05.000',
      StampMicro: 'Jan  2 15:04:05.000000',
      StampNano: 'Jan  2 15:04:05.000000000',
      DateTime: '2006-01-02 15:04:05',
      DateOnly: '2006-01-02',
      TimeOnly: '15:04:05',
    };
    for (const [name, layout] of Object.entries(L))
      expect(formatTime(reference, layout), name).toBe(want[name as keyof typeof L]);
  });

  // format_test.go TestFormat: Unix(0, 1233810057012345600), Thu Feb 4 21:00:57.0123456 PST 2009.
  it("format Go's TestFormat time as Go's tests expect", () => {
    const t = new GoTime(1233810057, 12345600, fixed('PST', -8 * 3600));
    const vectors: [string, string][] = [
      [L.ANSIC, 'Wed Feb  4 21:00:57 2009'],
      [L.UnixDate, 'Wed Feb  4 21:00:57 PST 2009'],
      [L.RubyDate, 'Wed Feb 04 21:00:57 -0800 2009'],
      [L.RFC822, '04 Feb 09 21:00 PST'],
      [L.RFC850, 'Wednesday, 04-Feb-09 21:00:57 PST'],
      [L.RFC1123, 'Wed, 04 Feb 2009 21:00:57 PST'],
      [L.RFC1123Z, 'Wed, 04 Feb 2009 21:00:57 -0800'],
      [L.RFC3339, '2009-02-04T21:00:57-08:00'],
      [L.RFC3339Nano, '2009-02-04T21:00:57.0123456-08:00'],
      [L.Kitchen, '9:00PM'],
      ['3pm', '9pm'],
      ['3PM', '9PM'],
      ['06 01 02', '09 02 04'],
      // "Three-letter months and days must not be followed by lower-case letter."
      ['Hi Janet, the Month is January', 'Hi Janet, the Month is February'],
      [L.Stamp, 'Feb  4 21:00:57'],
      [L.StampMilli, 'Feb  4 21:00:57.012'],
      [L.StampMicro, 'Feb  4 21:00:57.012345'],
      [L.StampNano, 'Feb  4 21:00:57.012345600'],
      ['Jan  2 002 __2 2', 'Feb  4 035  35 4'],
    ];
    for (const [layout, want] of vectors) expect(formatTime(t, layout), layout).toBe(want);
  });

  // format_test.go rfc3339Formats.
  it('format RFC3339 with Z for UTC and the numeric offset otherwise', () => {
    expect(formatTime(date(2008, 9, 17, 20, 4, 26), L.RFC3339)).toBe('2008-09-17T20:04:26Z');
    expect(formatTime(date(1994, 9, 17, 20, 4, 26, 0, fixed('EST', -18000)), L.RFC3339)).toBe(
      '1994-09-17T20:04:26-05:00',
    );
    expect(formatTime(date(2000, 12, 26, 1, 15, 6, 0, fixed('OTO', 15600)), L.RFC3339)).toBe(
      '2000-12-26T01:15:06+04:20',
    );
  });
});

describe('layout elements', () => {
  // Layout doc: 'Year: "2006" "06"  Month: "Jan" "January" "01" "1"  Day of the week: "Mon"
  // "Monday"  Day of the month: "2" "_2" "02"  Day of the year: "__2" "002"  Hour: "15" "3" "03"
  // Minute: "4" "04"  Second: "5" "05"  AM/PM mark: "PM"'.
  it('prints each element of a date with one-digit fields', () => {
    const t = date(2001, 2, 3, 4, 5, 6, 700_000_000);
    const vectors: [string, string][] = [
      ['2006 06', '2001 01'],
      ['Jan January 01 1', 'Feb February 02 2'],
      ['Mon Monday', 'Sat Saturday'],
      ['2 _2 02', '3  3 03'],
      ['__2 002', ' 34 034'],
      ['15 3 03', '04 4 04'],
      // format_test.go TestFormatSingleDigits (issue 12440).
      ['3:4:5', '4:5:6'],
      ['4 04 5 05', '5 05 6 06'],
      ['PM pm', 'AM am'],
    ];
    for (const [layout, want] of vectors) expect(formatTime(t, layout), layout).toBe(want);
  });

  it('prints two-digit fields, day of year up to 366 and the afternoon', () => {
    const t = date(2020, 12, 31, 23, 59, 58);
    expect(formatTime(t, 'Mon Monday Jan January 1 01 2 _2 02 __2 002')).toBe(
      'Thu Thursday Dec December 12 12 31 31 31 366 366',
    );
    expect(formatTime(t, '15 3 03 4 04 5 05 PM pm')).toBe('23 11 11 59 59 58 58 PM pm');
    expect(formatTime(date(2021, 1, 9), '__2|002|_2|2')).toBe('  9|009| 9|9');
  });

  // format_test.go TestNoonIs12PM / TestMidnightIs12AM: "Noon is 12PM, midnight is 12AM."
  it('prints noon as 12PM and midnight as 12AM', () => {
    expect(formatTime(date(0, 1, 1, 12), '3:04PM')).toBe('12:00PM');
    expect(formatTime(date(0, 1, 1, 12), '03:04PM')).toBe('12:00PM');
    expect(formatTime(date(0, 1, 1, 0), '3:04PM')).toBe('12:00AM');
    expect(formatTime(date(0, 1, 1, 0), '03:04pm')).toBe('12:00am');
    expect(formatTime(date(0, 1, 1, 13, 7), '3:04PM 03:04pm')).toBe('1:07PM 01:07pm');
    expect(formatTime(date(0, 1, 1, 12), '3pm')).toBe('12pm');
    expect(formatTime(date(0, 1, 1, 11, 59), '3:04pm')).toBe('11:59am');
  });

  it('prints every weekday and month name', () => {
    const days = [];
    for (let d = 3; d <= 9; d++) days.push(formatTime(date(2021, 1, d), 'Mon/Monday'));
    expect(days.join(' ')).toBe(
      'Sun/Sunday Mon/Monday Tue/Tuesday Wed/Wednesday Thu/Thursday Fri/Friday Sat/Saturday',
    );
    const months = [];
    for (let m = 1; m <= 12; m++) months.push(formatTime(date(2021, m, 1), 'Jan/January/1/01'));
    expect(months.join(' ')).toBe(
      'Jan/January/1/01 Feb/February/2/02 Mar/March/3/03 Apr/April/4/04 May/May/5/05 Jun/June/6/06 ' +
        'Jul/July/7/07 Aug/August/8/08 Sep/September/9/09 Oct/October/10/10 Nov/November/11/11 Dec/December/12/12',
    );
  });

  // Layout doc: "Text in the layout string that is not recognized as part of the reference time is
  // echoed verbatim"; "Jan"/"Mon" followed by a lower-case letter are text (Janet, Month, Monty).
  it('echoes text that is not an element, including words that start like one', () => {
    const t = date(2021, 3, 5);
    expect(formatTime(t, 'Janet Month Monty Jane MSTx PMx pmx')).toBe('Janet Month Monty Jane UTCx AMx amx');
    expect(formatTime(t, 'Jan. Mon: at noon')).toBe('Mar. Fri: at noon');
    expect(formatTime(t, 'day 0, 7, 8 and 9')).toBe('day 0, 7, 8 and 9');
    expect(formatTime(t, 'Jana Janz Mona Monz J Ju JA M Mo')).toBe('Jana Janz Mona Monz J Ju JA M Mo');
    expect(formatTime(t, '07 08 09 00 0')).toBe('07 08 09 00 0');
    expect(formatTime(t, '_x _ P p Px pa Z0 -0 Z -')).toBe('_x _ P p Px pa Z0 -0 Z -');
    expect(formatTime(t, '')).toBe('');
  });

  // format_test.go TestUnderscoreTwoThousand (issue 11334): "_2006 is really a literal _, followed
  // by stdLongYear".
  it('reads _2006 as a literal underscore and the year', () => {
    expect(formatTime(date(2015, 6, 18, 14, 38), '15:04_20060102')).toBe('14:38_20150618');
    const t = parse('15:04_20060102', '14:38_20150618');
    expect(formatTime(t, L.DateTime)).toBe('2015-06-18 14:38:00');
    expect(parseMessage('_2006', '_20x1')).toBe(
      'parsing time "_20x1" as "_2006": cannot parse "20x1" as "2006"',
    );
  });

  // format_test.go nextStdChunkTests: "002" next to other elements is the day of year.
  it('finds the day of year next to other numbers', () => {
    const t = date(2010, 2, 4, 21, 0, 57);
    expect(formatTime(t, '2006-01-02 002 15:04:05')).toBe('2010-02-04 035 21:00:57');
    expect(formatTime(t, '200600201 15:04:05')).toBe('201003502 21:00:57');
    expect(formatTime(t, '200600204')).toBe('201003500');
  });
});

describe('instants', () => {
  // Time.Add doc: "Add returns the time t+d"; nanoseconds carry into and borrow from seconds.
  it('adds and subtracts nanoseconds across second boundaries', () => {
    const t = date(2021, 1, 1);
    expect(formatTime(t.add(-1n), L.RFC3339Nano)).toBe('2020-12-31T23:59:59.999999999Z');
    expect(formatTime(t.add(-1_500_000_000n), L.RFC3339Nano)).toBe('2020-12-31T23:59:58.5Z');
    expect(formatTime(t.add(1_500_000_001n), L.RFC3339Nano)).toBe('2021-01-01T00:00:01.500000001Z');
    expect(formatTime(t.add(-86_400_000_000_000n), L.RFC3339Nano)).toBe('2020-12-31T00:00:00Z');
  });

  it('takes JavaScript milliseconds, fractions included, before and after 1970', () => {
    const t = GoTime.fromMillis(1500.25);
    expect([t.sec, t.nsec]).toEqual([1, 500_250_000]);
    const before = GoTime.fromMillis(-1);
    expect([before.sec, before.nsec]).toEqual([-1, 999_000_000]);
    expect(formatTime(GoTime.fromMillis(Date.UTC(2021, 6, 1, 12), BERLIN), STRING)).toBe(
      '2021-07-01 14:00:00 +0200 CEST',
    );
  });

  it('prints an instant with Time.String', () => {
    expect(String(date(2021, 7, 1, 12, 0, 0, 5, BERLIN))).toBe('2021-07-01 12:00:00.000000005 +0200 CEST');
  });
});

describe('years before 1000, negative years and beyond 9999', () => {
  // format_test.go TestFormatShortYear: "2006" pads to four digits after the sign
  // ("-%04d" for negative years); Date's doc: the proleptic Gregorian calendar, so year 0 exists.
  it('prints 2006 as at least four digits, with a minus sign before them', () => {
    const years: [number, string][] = [
      [-100001, '-100001'],
      [-10000, '-10000'],
      [-9999, '-9999'],
      [-1001, '-1001'],
      [-999, '-0999'],
      [-101, '-0101'],
      [-10, '-0010'],
      [-1, '-0001'],
      [0, '0000'],
      [1, '0001'],
      [9, '0009'],
      [99, '0099'],
      [999, '0999'],
      [1000, '1000'],
      [9999, '9999'],
      [10000, '10000'],
      [100001, '100001'],
    ];
    for (const [y, want] of years)
      expect(formatTime(date(y, 1, 1), '2006.01.02'), String(y)).toBe(`${want}.01.01`);
  });

  // format.go stdYear: the last two digits of the year's absolute value.
  it('prints 06 as the last two digits of the year, without a sign', () => {
    const years: [number, string][] = [
      [-1, '01'],
      [-99, '99'],
      [-100, '00'],
      [-2021, '21'],
      [0, '00'],
      [5, '05'],
      [999, '99'],
      [2009, '09'],
      [12345, '45'],
    ];
    for (const [y, want] of years) expect(formatTime(date(y, 6, 1), '06'), String(y)).toBe(want);
  });

  it('keeps weekdays and leap days right far from 1970', () => {
    // Go's zero time, January 1 of year 1, is a Monday; year 0 is a leap year; year -1 is not.
    expect(formatTime(date(1, 1, 1), 'Monday 2006-01-02 002')).toBe('Monday 0001-01-01 001');
    expect(formatTime(date(0, 1, 1), 'Monday')).toBe('Saturday');
    expect(formatTime(date(0, 12, 31), '002')).toBe('366');
    expect(formatTime(date(-1, 1, 1), 'Monday')).toBe('Friday');
    expect(formatTime(date(-1, 12, 31), '002')).toBe('365');
    expect(formatTime(date(1900, 2, 29), '2006-01-02')).toBe('1900-03-01');
    expect(formatTime(date(2000, 2, 29), '2006-01-02 Mon')).toBe('2000-02-29 Tue');
    expect(formatTime(date(999, 12, 31, 23, 59, 59), STRING)).toBe('0999-12-31 23:59:59 +0000 UTC');
  });

  it('parses a four-digit year below 1000 and year 0', () => {
    expect(formatTime(parse(L.DateOnly, '0999-12-31'), 'Mon 2006-01-02')).toBe('Tue 0999-12-31');
    expect(formatTime(parse(L.RFC3339, '0000-02-29T00:00:00Z'), L.RFC3339)).toBe('0000-02-29T00:00:00Z');
  });
});

describe('fractional seconds', () => {
  // Layout doc: "A comma or decimal point followed by one or more zeros represents a fractional
  // second, printed to the given number of decimal places. A comma or decimal point followed by one
  // or more nines represents a fractional second, printed to the given number of decimal places,
  // with trailing zeros removed." Time.Format example: 1234e5 ns → ".00000" "12340", ".99999999" "1234".
  const t = date(2015, 2, 25, 11, 6, 39, 123_400_000);

  it('prints .000 with exactly that many digits and .999 without trailing zeros', () => {
    expect(formatTime(t, '15:04:05.00000')).toBe('11:06:39.12340');
    expect(formatTime(t, '15:04:05.99999999')).toBe('11:06:39.1234');
    expect(formatTime(t, '15:04:05.0')).toBe('11:06:39.1');
    expect(formatTime(t, '15:04:05.9')).toBe('11:06:39.1');
    expect(formatTime(t, '15:04:05.000000000')).toBe('11:06:39.123400000');
    // More than nine digits print nine: nanoseconds are all there is.
    expect(formatTime(t, '05.000000000000')).toBe('39.123400000');
    expect(formatTime(t, '05.999999999999')).toBe('39.1234');
  });

  it('prints a comma separator as given ("15:04:05,000")', () => {
    expect(formatTime(t, '15:04:05,000')).toBe('11:06:39,123');
    expect(formatTime(t, '15:04:05,999999')).toBe('11:06:39,1234');
  });

  it('drops .999 and its separator when the digits shown are all zero', () => {
    const whole = date(2015, 2, 25, 11, 6, 39);
    expect(formatTime(whole, '15:04:05.999')).toBe('11:06:39');
    expect(formatTime(whole, '15:04:05,999')).toBe('11:06:39');
    expect(formatTime(whole, '15:04:05.000')).toBe('11:06:39.000');
    // 100 ns is below three digits: nothing shows at .999.
    expect(formatTime(date(2015, 2, 25, 11, 6, 39, 100), '05.999|05.000|05.999999999')).toBe(
      '39|39.000|39.0000001',
    );
    expect(formatTime(date(2015, 2, 25, 11, 6, 39, 999_999_999), '05.9|05.999999999')).toBe(
      '39.9|39.999999999',
    );
  });

  // format_test.go parseTests "zero1"/"zero2": "Leading zeros in other places should not be taken
  // as fractional seconds" — a run of 0s or 9s is a fraction only where the number ends.
  it('reads .0 as a fraction only where no digit follows the run', () => {
    const t2 = date(2010, 2, 4, 21, 0, 57, 10_000_000);
    expect(formatTime(t2, '2006.01.02.15.04.05.00')).toBe('2010.02.04.21.00.57.01');
    expect(formatTime(t2, '.01 .02 .0001 ,01')).toBe('.02 .04 .0002 ,02');
    expect(formatTime(t2, 'v1.99x')).toBe('v2.01x');
    expect(formatTime(parse('2006.01.02.15.04.05.00', '2010.02.04.21.00.57.01'), STRING)).toBe(
      '2010-02-04 21:00:57.01 +0000 UTC',
    );
    expect(formatTime(parse('2006.01.02.15.04.05.0', '2010.02.04.21.00.57.0'), STRING)).toBe(
      '2010-02-04 21:00:57 +0000 UTC',
    );
  });
});

describe('zone offsets', () => {
  // Layout doc: '"-0700" ±hhmm, "-07:00" ±hh:mm, "-07" ±hh, "-070000" ±hhmmss, "-07:00:00"
  // ±hh:mm:ss. Replacing the sign in the format with a Z triggers the ISO 8601 behavior of printing
  // Z instead of an offset for the UTC zone.'
  const forms = [
    '-0700',
    '-07:00',
    '-07',
    '-070000',
    '-07:00:00',
    'Z0700',
    'Z07:00',
    'Z07',
    'Z070000',
    'Z07:00:00',
  ];
  const printed = (z: Zone) => forms.map((f) => formatTime(date(2021, 1, 15, 12, 0, 0, 0, z), f)).join(' ');

  it('prints every numeric form, and Z for UTC only in the Z forms', () => {
    expect(printed(UTC)).toBe('+0000 +00:00 +00 +000000 +00:00:00 Z Z Z Z Z');
    expect(printed(fixed('', 0))).toBe('+0000 +00:00 +00 +000000 +00:00:00 Z Z Z Z Z');
    expect(printed(KATHMANDU)).toBe('+0545 +05:45 +05 +054500 +05:45:00 +0545 +05:45 +05 +054500 +05:45:00');
    expect(printed(KOLKATA)).toBe('+0530 +05:30 +05 +053000 +05:30:00 +0530 +05:30 +05 +053000 +05:30:00');
    expect(printed(NEW_YORK)).toBe('-0500 -05:00 -05 -050000 -05:00:00 -0500 -05:00 -05 -050000 -05:00:00');
  });

  // format_test.go secondsTimeZoneOffsetTests: LMT offsets with seconds (New York until 1883 was
  // -4:56:02), formatted and parsed.
  it('prints and parses offsets with seconds', () => {
    const vectors: [string, string, number][] = [
      ['2006-01-02T15:04:05-070000', '1871-01-01T05:33:02-003408', -(34 * 60 + 8)],
      ['2006-01-02T15:04:05-07:00:00', '1871-01-01T05:33:02-00:34:08', -(34 * 60 + 8)],
      ['2006-01-02T15:04:05-070000', '1871-01-01T05:33:02+003408', 34 * 60 + 8],
      ['2006-01-02T15:04:05-07:00:00', '1871-01-01T05:33:02+00:34:08', 34 * 60 + 8],
      ['2006-01-02T15:04:05Z070000', '1871-01-01T05:33:02-003408', -(34 * 60 + 8)],
      ['2006-01-02T15:04:05Z07:00:00', '1871-01-01T05:33:02+00:34:08', 34 * 60 + 8],
      ['2006-01-02T15:04:05-07', '1871-01-01T05:33:02+01', 3600],
      ['2006-01-02T15:04:05-07', '1871-01-01T05:33:02-02', -7200],
      ['2006-01-02T15:04:05Z07', '1871-01-01T05:33:02-02', -7200],
    ];
    for (const [layout, value, offset] of vectors) {
      expect(formatTime(date(1871, 1, 1, 5, 33, 2, 0, fixed('LMT', offset)), layout), value).toBe(value);
      const t = parse(layout, value);
      expect(t.civil().offset, value).toBe(offset);
      expect(formatTime(t, L.DateTime), value).toBe('1871-01-01 05:33:02');
    }
  });

  // format_test.go TestMinutesInTimeZone and rubyTests.
  it('parses offsets with minutes, and +0000 and -0000', () => {
    expect(parse(L.RubyDate, 'Mon Jan 02 15:04:05 +0123 2006').civil().offset).toBe(4980);
    expect(parse(L.RubyDate, 'Thu Feb 04 21:00:57 +1130 2010').civil().offset).toBe(41400);
    expect(formatTime(parse(L.RubyDate, 'Thu Feb 04 21:00:57 -0000 2010'), STRING)).toBe(
      '2010-02-04 21:00:57 +0000 UTC',
    );
    expect(parse(L.RubyDate, 'Thu Feb 04 21:00:57 +0000 2010').sec).toBe(1265317257);
  });

  // format_test.go TestMissingZone: "a time without a Zone still produces a (numeric) time zone
  // when formatted with MST".
  it('prints MST as the numeric offset for a zone that has no name', () => {
    const t = parse(L.RubyDate, 'Thu Feb 02 16:10:03 -0500 2006');
    expect(formatTime(t, L.UnixDate)).toBe('Thu Feb  2 16:10:03 -0500 2006');
    expect(formatTime(parse(L.RFC3339, '2021-01-01T00:00:00+05:45'), 'MST')).toBe('+0545');
  });

  // format.go parse: "The range test use > rather than >=, as some people do write offsets of 24
  // hours or 60 minutes or 60 seconds."
  it('accepts offsets up to 24 hours and 60 minutes, and refuses larger ones', () => {
    expect(parse(L.RFC3339, '2021-01-01T00:00:00+24:00').civil().offset).toBe(86400);
    expect(parse(L.RFC3339, '2021-01-01T00:00:00+00:60').civil().offset).toBe(3600);
    expect(parse('-07:00:00', '+00:00:60').civil().offset).toBe(60);
    expect(parseMessage(L.RFC3339, '2021-01-01T00:00:00+25:00')).toBe(
      'parsing time "2021-01-01T00:00:00+25:00": time zone offset hour out of range',
    );
    expect(parseMessage(L.RFC3339, '2021-01-01T00:00:00-00:61')).toBe(
      'parsing time "2021-01-01T00:00:00-00:61": time zone offset minute out of range',
    );
    expect(parseMessage('-070000', '+000061')).toBe(
      'parsing time "+000061": time zone offset second out of range',
    );
  });

  it('refuses offsets of the wrong shape, naming the element', () => {
    const vectors: [string, string, string][] = [
      ['-0700', '0100', '"0100" as "-0700"'],
      ['-0700', '+01', '"+01" as "-0700"'],
      ['-07:00', '+0100', '"+0100" as "-07:00"'],
      ['-07:00', '+01:0', '"+01:0" as "-07:00"'],
      ['-07', '+1', '"+1" as "-07"'],
      ['-07', '*01', '"*01" as "-07"'],
      ['-070000', '+01000', '"+01000" as "-070000"'],
      ['-07:00:00', '+01:00:0x', '"+01:00:0x" as "-07:00:00"'],
      ['-07:00:00', '+01-00:00', '"+01-00:00" as "-07:00:00"'],
      ['Z07:00', 'z', '"z" as "Z07:00"'],
      ['Z0700', '+1:00', '"+1:00" as "Z0700"'],
      ['-0700', 'x+0100', '"x+0100" as "-0700"'],
      ['-07:00', 'x+01:00', '"x+01:00" as "-07:00"'],
      ['-07', 'x+01', '"x+01" as "-07"'],
      ['-070000', 'x+010000', '"x+010000" as "-070000"'],
      ['-07:00:00', 'x+01:00:00', '"x+01:00:00" as "-07:00:00"'],
    ];
    for (const [layout, value, elem] of vectors)
      expect(parseMessage(layout, value), value).toBe(
        `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${elem}`,
      );
  });

  it('reads Z as UTC in the Z forms only', () => {
    for (const layout of ['Z0700', 'Z07:00', 'Z07', 'Z070000', 'Z07:00:00'])
      expect(formatTime(parse(`15:04 ${layout}`, '10:00 Z'), STRING), layout).toBe(
        '0000-01-01 10:00:00 +0000 UTC',
      );
    expect(parseMessage('15:04 -07:00', '10:00 Z')).toBe(
      'parsing time "10:00 Z" as "15:04 -07:00": cannot parse "Z" as "-07:00"',
    );
  });
});

describe('locations (LoadLocation)', () => {
  it('knows UTC by name and refuses names that are no zone', () => {
    expect(loadLocation('UTC')).toBe(UTC);
    expect(loadLocation('')).toBe(UTC);
    expect(loadLocation('Mars/Olympus_Mons')).toBeUndefined();
    expect(loadLocation('Europe/Berlin')).toEqual({ kind: 'iana', name: 'Europe/Berlin' });
  });

  it('prints summer and winter time with their offsets and abbreviations', () => {
    const winter = Date.UTC(2021, 0, 15, 12) / 1000;
    const summer = Date.UTC(2021, 6, 15, 12) / 1000;
    const at = (sec: number, z: Zone) => formatTime(new GoTime(sec, 0, z), '2006-01-02 15:04 -07:00 MST');
    expect(at(winter, BERLIN)).toBe('2021-01-15 13:00 +01:00 CET');
    expect(at(summer, BERLIN)).toBe('2021-07-15 14:00 +02:00 CEST');
    expect(at(winter, NEW_YORK)).toBe('2021-01-15 07:00 -05:00 EST');
    expect(at(summer, NEW_YORK)).toBe('2021-07-15 08:00 -04:00 EDT');
    expect(at(winter, KOLKATA).slice(0, 23)).toBe('2021-01-15 17:30 +05:30');
    // tzdata names Kathmandu's zone by its offset, and Go prints that name.
    expect(at(summer, KATHMANDU)).toBe('2021-07-15 17:45 +05:45 +0545');
    expect(at(winter, zone('Europe/London'))).toBe('2021-01-15 12:00 +00:00 GMT');
    expect(at(summer, zone('Europe/London'))).toBe('2021-07-15 13:00 +01:00 BST');
    expect(at(winter, zone('America/Sao_Paulo'))).toBe('2021-01-15 09:00 -03:00 -03');
    expect(at(winter, zone('Etc/UTC'))).toBe('2021-01-15 12:00 +00:00 UTC');
    // Offsets of two digits of hours, either side.
    expect(at(winter, zone('Australia/Sydney'))).toBe('2021-01-15 23:00 +11:00 +11');
    expect(at(summer, zone('Pacific/Honolulu'))).toBe('2021-07-15 02:00 -10:00 HST');
    // A zone value made without loadLocation works as well.
    expect(at(winter, { kind: 'iana', name: 'Asia/Tokyo' })).toBe('2021-01-15 21:00 +09:00 +09');
  });

  it('changes offset at the instant of a daylight saving transition', () => {
    // Berlin springs forward at 01:00 UTC on 2021-03-28; New York falls back at 06:00 UTC on 2021-11-07.
    const show = (iso: string, z: Zone) => formatTime(new GoTime(Date.parse(iso) / 1000, 0, z), STRING);
    expect(show('2021-03-28T00:59:59Z', BERLIN)).toBe('2021-03-28 01:59:59 +0100 CET');
    expect(show('2021-03-28T01:00:00Z', BERLIN)).toBe('2021-03-28 03:00:00 +0200 CEST');
    expect(show('2021-10-31T00:59:59Z', BERLIN)).toBe('2021-10-31 02:59:59 +0200 CEST');
    expect(show('2021-10-31T01:00:00Z', BERLIN)).toBe('2021-10-31 02:00:00 +0100 CET');
    expect(show('2021-03-14T06:59:59Z', NEW_YORK)).toBe('2021-03-14 01:59:59 -0500 EST');
    expect(show('2021-03-14T07:00:00Z', NEW_YORK)).toBe('2021-03-14 03:00:00 -0400 EDT');
    expect(show('2021-11-07T05:59:59Z', NEW_YORK)).toBe('2021-11-07 01:59:59 -0400 EDT');
    expect(show('2021-11-07T06:00:00Z', NEW_YORK)).toBe('2021-11-07 01:00:00 -0500 EST');
  });

  // Date doc: "In such cases, the choice of time zone, and therefore the time, is not guaranteed";
  // these pin what time.Date's algorithm does (offset at the wall time read as UTC, corrected once).
  it('resolves wall times in a gap or an overlap as time.Date does', () => {
    expect(formatTime(date(2021, 3, 28, 2, 30, 0, 0, BERLIN), STRING)).toBe('2021-03-28 03:30:00 +0200 CEST');
    expect(formatTime(date(2021, 10, 31, 2, 30, 0, 0, BERLIN), STRING)).toBe('2021-10-31 02:30:00 +0100 CET');
    expect(formatTime(date(2021, 3, 14, 2, 30, 0, 0, NEW_YORK), STRING)).toBe(
      '2021-03-14 01:30:00 -0500 EST',
    );
    expect(formatTime(date(2021, 11, 7, 1, 30, 0, 0, NEW_YORK), STRING)).toBe(
      '2021-11-07 01:30:00 -0400 EDT',
    );
    expect(formatTime(date(2021, 6, 1, 0, 0, 0, 0, KATHMANDU), STRING)).toBe(
      '2021-06-01 00:00:00 +0545 +0545',
    );
    expect(date(2021, 6, 1, 0, 0, 0, 0, KOLKATA).sec).toBe(Date.UTC(2021, 4, 31, 18, 30) / 1000);
  });

  // Date doc: "The month, day, hour, min, sec, and nsec values may be outside their usual ranges
  // and will be normalized during the conversion. For example, October 32 converts to November 1."
  it('normalises out-of-range fields in Date', () => {
    expect(formatTime(date(2021, 10, 32), L.DateOnly)).toBe('2021-11-01');
    expect(formatTime(date(2021, 13, 1), L.DateOnly)).toBe('2022-01-01');
    expect(formatTime(date(2021, 0, 1), L.DateOnly)).toBe('2020-12-01');
    expect(formatTime(date(2021, -11, 1), L.DateOnly)).toBe('2020-01-01');
    expect(formatTime(date(2021, 1, 0), L.DateOnly)).toBe('2020-12-31');
    expect(formatTime(date(2021, 1, 1, 24, 60, 60, 1_500_000_000), L.DateTime + '.999')).toBe(
      '2021-01-02 01:01:01.5',
    );
    expect(formatTime(date(2021, 1, 1, 0, 0, 0, -1), L.RFC3339Nano)).toBe('2020-12-31T23:59:59.999999999Z');
  });

  it('moves an instant to another location without changing it', () => {
    const t = date(2021, 7, 1, 12, 0, 0, 0, BERLIN);
    expect(formatTime(t.in(NEW_YORK), STRING)).toBe('2021-07-01 06:00:00 -0400 EDT');
    expect(t.in(NEW_YORK).sec).toBe(t.sec);
    expect(t.equalZone(BERLIN)).toBe(true);
    expect(t.equalZone(NEW_YORK)).toBe(false);
    expect(date(2021, 1, 1, 0, 0, 0, 0, fixed('A', 3600)).equalZone(fixed('A', 7200))).toBe(false);
    expect(date(2021, 1, 1, 0, 0, 0, 0, fixed('A', 3600)).equalZone(fixed('A', 3600))).toBe(true);
    expect(date(2021, 1, 1, 0, 0, 0, 0, fixed('UTC', 0)).equalZone(zone('Etc/UTC'))).toBe(false);
    expect(date(2021, 1, 1, 0, 0, 0, 0, zone('Asia/Tokyo')).equalZone(fixed('Asia/Tokyo', 32400))).toBe(
      false,
    );
  });
});

describe('Parse', () => {
  // format_test.go parseTests: each value is Thu Feb 4 21:00:57 2010 (PST when it has a zone),
  // with as many fractional digits of .012345678 as it gives. Go's tests run with Local set to
  // America/Los_Angeles, which is where PST and PDT get their offsets.
  const vectors: [string, string, boolean, number][] = [
    [L.ANSIC, 'Thu Feb  4 21:00:57 2010', false, 0],
    [L.UnixDate, 'Thu Feb  4 21:00:57 PST 2010', true, 0],
    [L.RubyDate, 'Thu Feb 04 21:00:57 -0800 2010', true, 0],
    [L.RFC850, 'Thursday, 04-Feb-10 21:00:57 PST', true, 0],
    [L.RFC1123, 'Thu, 04 Feb 2010 21:00:57 PST', true, 0],
    [L.RFC1123, 'Thu, 04 Feb 2010 22:00:57 PDT', true, 0],
    [L.RFC1123Z, 'Thu, 04 Feb 2010 21:00:57 -0800', true, 0],
    [L.RFC3339, '2010-02-04T21:00:57-08:00', true, 0],
    ['2006-01-02 15:04:05-07', '2010-02-04 21:00:57-08', true, 0],
    // "Optional fractional seconds."
    [L.ANSIC, 'Thu Feb  4 21:00:57.0 2010', false, 1],
    [L.UnixDate, 'Thu Feb  4 21:00:57.01 PST 2010', true, 2],
    [L.RubyDate, 'Thu Feb 04 21:00:57.012 -0800 2010', true, 3],
    [L.RFC850, 'Thursday, 04-Feb-10 21:00:57.0123 PST', true, 4],
    [L.RFC1123, 'Thu, 04 Feb 2010 21:00:57.01234 PST', true, 5],
    [L.RFC1123Z, 'Thu, 04 Feb 2010 21:00:57.01234 -0800', true, 5],
    [L.RFC3339, '2010-02-04T21:00:57.012345678-08:00', true, 9],
    ['2006-01-02 15:04:05', '2010-02-04 21:00:57.0', false, 0],
    // "Amount of white space should not matter." "Case should not matter."
    [L.ANSIC, 'Thu Feb 4 21:00:57 2010', false, 0],
    [L.ANSIC, 'Thu      Feb     4     21:00:57     2010', false, 0],
    [L.ANSIC, 'THU FEB 4 21:00:57 2010', false, 0],
    [L.ANSIC, 'thu feb 4 21:00:57 2010', false, 0],
    // "Fractional seconds." with dot and comma separators.
    ['Mon Jan _2 15:04:05.000 2006', 'Thu Feb  4 21:00:57.012 2010', false, 3],
    ['Mon Jan _2 15:04:05.000000 2006', 'Thu Feb  4 21:00:57.012345 2010', false, 6],
    ['Mon Jan _2 15:04:05.000000000 2006', 'Thu Feb  4 21:00:57.012345678 2010', false, 9],
    ['Mon Jan _2 15:04:05,000 2006', 'Thu Feb  4 21:00:57.012 2010', false, 3],
    ['Mon Jan _2 15:04:05,000000 2006', 'Thu Feb  4 21:00:57.012345 2010', false, 6],
    ['Mon Jan _2 15:04:05,000000000 2006', 'Thu Feb  4 21:00:57.012345678 2010', false, 9],
    // "Month and day names only match when not followed by a lower-case letter."
    [
      'Hi Janet, the Month is January: Jan _2 15:04:05 2006',
      'Hi Janet, the Month is February: Feb  4 21:00:57 2010',
      false,
      0,
    ],
    // "Accept any number of fractional second digits (including none) for .999..."
    ['2006-01-02 15:04:05.9999 -0700 MST', '2010-02-04 21:00:57 -0800 PST', true, 0],
    ['2006-01-02 15:04:05.999999999 -0700 MST', '2010-02-04 21:00:57 -0800 PST', true, 0],
    ['2006-01-02 15:04:05.9999 -0700 MST', '2010-02-04 21:00:57.0123 -0800 PST', true, 4],
    ['2006-01-02 15:04:05.999999999 -0700 MST', '2010-02-04 21:00:57.0123 -0800 PST', true, 4],
    ['2006-01-02 15:04:05.9999 -0700 MST', '2010-02-04 21:00:57.012345678 -0800 PST', true, 9],
    ['2006-01-02 15:04:05,9999 -0700 MST', '2010-02-04 21:00:57 -0800 PST', true, 0],
    ['2006-01-02 15:04:05,999999999 -0700 MST', '2010-02-04 21:00:57.0123 -0800 PST', true, 4],
    ['2006-01-02 15:04:05,9999 -0700 MST', '2010-02-04 21:00:57.012345678 -0800 PST', true, 9],
    // Day of year.
    ['2006-01-02 002 15:04:05', '2010-02-04 035 21:00:57', false, 0],
    ['2006-01 002 15:04:05', '2010-02 035 21:00:57', false, 0],
    ['2006-002 15:04:05', '2010-035 21:00:57', false, 0],
    ['200600201 15:04:05', '201003502 21:00:57', false, 0],
    ['200600204 15:04:05', '201003504 21:00:57', false, 0],
  ];

  it("reads Go's TestParse values as Thu Feb 4 21:00:57 2010", () => {
    for (const [layout, value, hasTZ, digits] of vectors) {
      const t = parse(layout, value, LOS_ANGELES);
      const shown = '012345678'.slice(0, digits).replace(/0+$/, '');
      const frac = shown === '' ? '' : `.${shown}`;
      const want = `2010-02-04 21:00:57${frac} ${hasTZ ? '-0800 PST' : '+0000 UTC'}`;
      expect(formatTime(t, STRING), value).toBe(want);
      expect(formatTime(t, 'Mon'), value).toBe('Thu');
    }
  });

  // parseTests, issue 4502: without a year in the layout the year is 0.
  it('reads stamps without a year as year 0', () => {
    const stamps: [string, string, string][] = [
      [L.StampNano, 'Feb  4 21:00:57.012345678', '.012345678'],
      ['Jan _2 15:04:05.999', 'Feb  4 21:00:57.012300000', '.0123'],
      ['Jan _2 15:04:05.999', 'Feb  4 21:00:57.012345678', '.012345678'],
      ['Jan _2 15:04:05.999999999', 'Feb  4 21:00:57.0123', '.0123'],
    ];
    for (const [layout, value, frac] of stamps)
      expect(formatTime(parse(layout, value), STRING), value).toBe(`0000-02-04 21:00:57${frac} +0000 UTC`);
  });

  // Parse doc: "Elements omitted from the layout are assumed to be zero or, when zero is
  // impossible, one, so parsing "3:04pm" returns the time corresponding to Jan 1, year 0, 15:04:00
  // UTC". And "Fractional seconds are truncated to nanosecond precision."
  it('assumes zero or one for missing elements and truncates to nanoseconds', () => {
    expect(formatTime(parse('3:04pm', '3:04pm'), STRING)).toBe('0000-01-01 15:04:00 +0000 UTC');
    expect(formatTime(parse(L.Kitchen, '12:00PM'), L.TimeOnly)).toBe('12:00:00');
    expect(formatTime(parse('03:04PM', '12:00AM'), L.TimeOnly)).toBe('00:00:00');
    expect(formatTime(parse('3:04PM', '11:59PM'), L.TimeOnly)).toBe('23:59:00');
    expect(formatTime(parse('3pm', '0pm'), L.TimeOnly)).toBe('12:00:00');
    expect(formatTime(parse('2006', '2021'), STRING)).toBe('2021-01-01 00:00:00 +0000 UTC');
    expect(formatTime(parse('Jan', 'dec'), STRING)).toBe('0000-12-01 00:00:00 +0000 UTC');
    expect(formatTime(parse('January 2', 'MARCH 9'), STRING)).toBe('0000-03-09 00:00:00 +0000 UTC');
    expect(formatTime(parse(L.TimeOnly, '10:00:00.1234567891'), STRING)).toBe(
      '0000-01-01 10:00:00.123456789 +0000 UTC',
    );
    expect(formatTime(parse(L.TimeOnly, '10:00:00,5'), STRING)).toBe('0000-01-01 10:00:00.5 +0000 UTC');
  });

  // Parse doc: "For layouts specifying the two-digit year 06, a value NN >= 69 will be treated as
  // 19NN and a value NN < 69 will be treated as 20NN."
  it('reads two-digit years 69..99 as 19NN and 00..68 as 20NN', () => {
    const year = (v: string) => formatTime(parse('06', v), '2006');
    expect([year('68'), year('69'), year('00'), year('99'), year('09')]).toEqual([
      '2068',
      '1969',
      '2000',
      '1999',
      '2009',
    ]);
  });

  // Parse doc: "The day of the week is checked for syntax but it is otherwise ignored."
  it('checks the weekday for syntax only', () => {
    expect(formatTime(parse(L.ANSIC, 'Sun Feb  4 21:00:57 2010'), 'Mon 2006-01-02')).toBe('Thu 2010-02-04');
    expect(formatTime(parse(L.RFC850, 'Sunday, 04-Feb-10 21:00:57 UTC'), 'Monday')).toBe('Thursday');
    expect(parseMessage(L.ANSIC, 'Xyz Feb  4 21:00:57 2010')).toBe(
      'parsing time "Xyz Feb  4 21:00:57 2010" as "Mon Jan _2 15:04:05 2006": cannot parse "Xyz Feb  4 21:00:57 2010" as "Mon"',
    );
    expect(parseMessage('Monday', 'Mon')).toBe(
      'parsing time "Mon" as "Monday": cannot parse "Mon" as "Monday"',
    );
  });

  // Layout doc: "_2" and "__2" are space-padded: parsing takes the spaces or digits in their place.
  it('reads space-padded days and days of the year', () => {
    expect(formatTime(parse('Jan _2', 'Feb  4'), L.DateOnly)).toBe('0000-02-04');
    expect(formatTime(parse('Jan _2', 'Feb 14'), L.DateOnly)).toBe('0000-02-14');
    expect(formatTime(parse('2006 __2', '2021   4'), L.DateOnly)).toBe('2021-01-04');
    expect(formatTime(parse('2006 __2', '2021  40'), L.DateOnly)).toBe('2021-02-09');
    expect(formatTime(parse('2006 __2', '2021 365'), L.DateOnly)).toBe('2021-12-31');
    expect(formatTime(parse('2006 002', '2021 032'), L.DateOnly)).toBe('2021-02-01');
    expect(formatTime(parse('2006-2-1', '2021-4-3'), L.DateOnly)).toBe('2021-03-04');
    expect(parseMessage('2006 002', '2021 32')).toBe(
      'parsing time "2021 32" as "2006 002": cannot parse "32" as "002"',
    );
    expect(parseMessage('2006 __2', '2021 x')).toBe(
      'parsing time "2021 x" as "2006 __2": cannot parse "x" as "__2"',
    );
    // The padding belongs to _2 and __2 themselves, also where no space precedes them in the layout.
    expect(formatTime(parse('01/_2', '02/ 4'), L.DateOnly)).toBe('0000-02-04');
    expect(parseMessage('01/2', '02/ 4')).toBe('parsing time "02/ 4" as "01/2": cannot parse " 4" as "2"');
    expect(parseMessage('01/02', '02/ 4')).toBe('parsing time "02/ 4" as "01/02": cannot parse " 4" as "02"');
    expect(formatTime(parse('2006/__2', '2021/  4'), L.DateOnly)).toBe('2021-01-04');
    expect(formatTime(parse('2006/__2', '2021/ 40'), L.DateOnly)).toBe('2021-02-09');
    expect(parseMessage('2006/002', '2021/ 004')).toBe(
      'parsing time "2021/ 004" as "2006/002": cannot parse " 004" as "002"',
    );
    // Layout doc: a space in the layout stands for any run of spaces in the value.
    expect(formatTime(parse('2006  01', '2021 02'), L.DateOnly)).toBe('2021-02-01');
    expect(formatTime(parse('2006 01', '2021    02'), L.DateOnly)).toBe('2021-02-01');
  });

  // format_test.go TestParseYday (issue 37387): every day of 2020 by its day-of-year number, and
  // the leap day's neighbours; day 366 exists only in a leap year.
  it('reads every day of the year by its number', () => {
    for (let i = 1; i <= 366; i++) {
      const d = `2020-${String(i).padStart(3, '0')}`;
      expect(formatTime(parse('2006-002', d), '2006-002'), d).toBe(d);
    }
    expect(formatTime(parse('2006-002', '2020-060'), L.DateOnly)).toBe('2020-02-29');
    expect(formatTime(parse('2006-002', '2020-061'), L.DateOnly)).toBe('2020-03-01');
    expect(formatTime(parse('2006-002', '2021-060'), L.DateOnly)).toBe('2021-03-01');
    expect(formatTime(parse('2006-01-02 002', '2020-12-31 366'), L.DateOnly)).toBe('2020-12-31');
    expect(parseMessage('2006-002', '2021-366')).toBe('parsing time "2021-366": day-of-year out of range');
    expect(parseMessage('2006-002', '2020-367')).toBe('parsing time "2020-367": day-of-year out of range');
    expect(parseMessage('2006-002', '2020-000')).toBe('parsing time "2020-000": day-of-year out of range');
  });

  // format_test.go TestParseInLocation and the Parse/ParseInLocation docs: "In the absence of a
  // time zone indicator, Parse returns a time in UTC" / "ParseInLocation interprets the time as in
  // the given location".
  it('reads a time without a zone in UTC, or in the given location', () => {
    expect(formatTime(parse(L.DateTime, '2021-07-01 10:00:00', BERLIN), STRING)).toBe(
      '2021-07-01 10:00:00 +0000 UTC',
    );
    const inBerlin = parseTime(L.DateTime, '2021-07-01 10:00:00', BERLIN, BERLIN);
    expect(formatTime(inBerlin, STRING)).toBe('2021-07-01 10:00:00 +0200 CEST');
    expect(inBerlin.sec).toBe(Date.UTC(2021, 6, 1, 8) / 1000);
    const inKolkata = parseTime(L.DateTime, '2021-07-01 10:00:00', KOLKATA, KOLKATA);
    expect(inKolkata.sec).toBe(Date.UTC(2021, 6, 1, 4, 30) / 1000);
    const inKathmandu = parseTime(L.DateTime, '2021-07-01 10:00:00', KATHMANDU, KATHMANDU);
    expect(formatTime(inKathmandu, L.RFC3339)).toBe('2021-07-01T10:00:00+05:45');
  });

  // Parse doc: "When parsing a time with a zone offset like -0700, if the offset corresponds to a
  // time zone used by the current location (Local), then Parse uses that location and zone in the
  // returned time. Otherwise it records the time as being in a fabricated location with time fixed
  // at the given zone offset."
  it('uses the location for an offset that it has at that time, and a fixed zone otherwise', () => {
    const layout = '2006-01-02 15:04 -0700';
    expect(formatTime(parse(layout, '2021-01-15 12:00 +0100', BERLIN), STRING)).toBe(
      '2021-01-15 12:00:00 +0100 CET',
    );
    expect(formatTime(parse(layout, '2021-07-15 12:00 +0200', BERLIN), STRING)).toBe(
      '2021-07-15 12:00:00 +0200 CEST',
    );
    expect(formatTime(parse(layout, '2021-01-15 12:00 +0200', BERLIN), STRING)).toBe(
      '2021-01-15 12:00:00 +0200 +0200',
    );
    expect(formatTime(parse(layout, '2021-07-15 12:00 -0400', NEW_YORK), STRING)).toBe(
      '2021-07-15 12:00:00 -0400 EDT',
    );
    const t = parse(layout, '2021-01-15 12:00 +0100', BERLIN);
    expect(t.equalZone(BERLIN)).toBe(true);
    expect(t.sec).toBe(Date.UTC(2021, 0, 15, 11) / 1000);
    expect(parse(layout, '2021-01-15 12:00 +0000').equalZone(UTC)).toBe(true);
  });

  // format.go parse: with both an offset and a name the name must match too, and a fabricated zone
  // keeps the name; this is how Time.String's own layout reads back.
  it('keeps the zone name given next to an offset', () => {
    expect(formatTime(parse(STRING, '2021-01-15 12:00:00 +0100 CET'), STRING)).toBe(
      '2021-01-15 12:00:00 +0100 CET',
    );
    expect(parse(STRING, '2021-01-15 12:00:00 +0100 CET').sec).toBe(Date.UTC(2021, 0, 15, 11) / 1000);
    expect(parse(STRING, '2021-01-15 12:00:00 +0100 CET', BERLIN).equalZone(BERLIN)).toBe(true);
    const other = parse(STRING, '2021-01-15 12:00:00 +0100 XYZ', BERLIN);
    expect(other.equalZone(BERLIN)).toBe(false);
    expect(formatTime(other, 'MST -0700')).toBe('XYZ +0100');
  });

  // Parse doc: "When parsing a time with a zone abbreviation like MST, if the zone abbreviation has
  // a defined offset in the current location, then that offset is used. The zone abbreviation "UTC"
  // is recognized as UTC regardless of location. If the zone abbreviation is unknown, Parse records
  // the time as being in a fabricated location with the given zone abbreviation and a zero offset."
  it('reads zone abbreviations against the location, UTC always, and unknown ones at offset zero', () => {
    const layout = '2006-01-02 15:04 MST';
    const cet = parse(layout, '2021-01-15 12:00 CET', BERLIN);
    expect(cet.sec).toBe(Date.UTC(2021, 0, 15, 11) / 1000);
    expect(formatTime(cet, STRING)).toBe('2021-01-15 12:00:00 +0100 CET');
    expect(formatTime(parse(layout, '2021-07-15 12:00 CEST', BERLIN), STRING)).toBe(
      '2021-07-15 12:00:00 +0200 CEST',
    );
    // A name the location uses at another time of year still gives that offset (Go's own PDT vector).
    const cestInWinter = parse(layout, '2021-01-15 12:00 CEST', BERLIN);
    expect(cestInWinter.sec).toBe(Date.UTC(2021, 0, 15, 10) / 1000);
    expect(formatTime(cestInWinter, STRING)).toBe('2021-01-15 11:00:00 +0100 CET');
    expect(parse(layout, '2021-07-15 12:00 EST', NEW_YORK).sec).toBe(Date.UTC(2021, 6, 15, 17) / 1000);
    const utc = parse(layout, '2021-07-15 12:00 UTC', BERLIN);
    expect(formatTime(utc, STRING)).toBe('2021-07-15 12:00:00 +0000 UTC');
    expect(utc.equalZone(UTC)).toBe(true);
    const pst = parse(layout, '2021-07-15 12:00 PST', BERLIN);
    expect(formatTime(pst, STRING)).toBe('2021-07-15 12:00:00 +0000 PST');
    expect(pst.sec).toBe(Date.UTC(2021, 6, 15, 12) / 1000);
  });

  // format_test.go parseTimeZoneTests: what counts as a zone abbreviation (three upper-case
  // letters; four or five ending in T; WITA, ChST, MeST; GMT with an hour offset up to 23; "+03").
  it('recognises zone abbreviations as Go does', () => {
    const zoneOf = (value: string) => {
      try {
        return formatTime(parse('MST', value), '-0700 MST');
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(zoneOf('GMT')).toBe('+0000 GMT');
    expect(zoneOf('GMT+12')).toBe('+1200 GMT+12');
    expect(zoneOf('GMT+00')).toBe('+0000 GMT+00');
    expect(zoneOf('GMT+3')).toBe('+0300 GMT+3');
    expect(zoneOf('GMT-5')).toBe('-0500 GMT-5');
    expect(zoneOf('GMT+')).toBe('parsing time "GMT+": extra text: "+"');
    expect(zoneOf('GMT+a')).toBe('parsing time "GMT+a": extra text: "+a"');
    expect(zoneOf('GMT+3a')).toBe('parsing time "GMT+3a": extra text: "a"');
    expect(zoneOf('GMT-51')).toBe('parsing time "GMT-51": extra text: "-51"');
    expect(zoneOf('ChST')).toBe('+0000 ChST');
    expect(zoneOf('MeST')).toBe('+0000 MeST');
    expect(zoneOf('MSDx')).toBe('parsing time "MSDx": extra text: "x"');
    expect(zoneOf('ESAST')).toBe('+0000 ESAST');
    expect(zoneOf('WITA')).toBe('+0000 WITA');
    expect(zoneOf('AEST')).toBe('+0000 AEST');
    expect(zoneOf('+03')).toBe('+0000 +03');
    expect(zoneOf('-11')).toBe('+0000 -11');
    expect(zoneOf('+23')).toBe('+0000 +23');
    expect(zoneOf('GMTx+3')).toBe('parsing time "GMTx+3": extra text: "x+3"');
    expect(zoneOf('ChST1')).toBe('parsing time "ChST1": extra text: "1"');
    expect(zoneOf('MeST+')).toBe('parsing time "MeST+": extra text: "+"');
    expect(zoneOf('WITA1')).toBe('parsing time "WITA1": extra text: "1"');
    const refused = (value: string) =>
      `parsing time ${JSON.stringify(value)} as "MST": cannot parse ${JSON.stringify(value)} as "MST"`;
    for (const value of [
      'gmt',
      'MSDY',
      'ESASTT',
      'ESATY',
      'ABCDEF',
      '+24',
      '-24',
      'AB',
      'Ab',
      '+x',
      '+1',
      'E1T',
    ])
      expect(zoneOf(value), value).toBe(refused(value));
  });

  // format_test.go parseTests "GMT-8": "Fri Feb  5 05:00:57 GMT-8 2010" is the same Thu Feb 4
  // 21:00:57 at -0800 as the other vectors: the GMT offset labels the instant read as UTC.
  it('reads GMT-8 as Go does', () => {
    const t = parse(L.UnixDate, 'Fri Feb  5 05:00:57 GMT-8 2010', LOS_ANGELES);
    expect(formatTime(t, STRING)).toBe('2010-02-04 21:00:57 -0800 GMT-8');
  });
});

describe('Parse errors', () => {
  // format_test.go parseErrorTests and TestStd0xParseError: Go's ParseError text,
  // `parsing time "<value>" as "<layout>": cannot parse "<rest of value>" as "<element>"`, or
  // `parsing time "<value>": <field> out of range`, or `...: extra text: "<rest>"`.
  const vectors: [string, string, string][] = [
    [L.ANSIC, 'Feb  4 21:00:60 2010', 'cannot parse "Feb  4 21:00:60 2010" as "Mon"'],
    [L.ANSIC, 'Thu Feb  4 21:00:57 @2010', 'cannot parse "@2010" as "2006"'],
    [L.ANSIC, 'Thu Feb  4 21:00:60 2010', ': second out of range'],
    [L.ANSIC, 'Thu Feb  4 21:61:57 2010', ': minute out of range'],
    [L.ANSIC, 'Thu Feb  4 24:00:60 2010', ': hour out of range'],
    ['Mon Jan _2 15:04:05.000 2006', 'Thu Feb  4 23:00:59x01 2010', 'cannot parse "x01 2010" as ".000"'],
    ['Mon Jan _2 15:04:05.000 2006', 'Thu Feb  4 23:00:59.xxx 2010', 'cannot parse ".xxx 2010" as ".000"'],
    // "issue 4502. StampNano requires exactly 9 digits of precision."
    [L.StampNano, 'Dec  7 11:22:01.000000', 'cannot parse ".000000" as ".000000000"'],
    [L.StampNano, 'Dec  7 11:22:01.0000000000', ': extra text: "0"'],
    // "issue 4493. Helpful errors."
    [L.RFC3339, '2006-01-02T15:04:05Z07:00', ': extra text: "07:00"'],
    [L.RFC3339, '2006-01-02T15:04_abc', 'cannot parse "_abc" as ":"'],
    [L.RFC3339, '2006-01-02T15:04:05_abc', 'cannot parse "_abc" as "Z07:00"'],
    [L.RFC3339, '2006-01-02T15:04:05Z_abc', ': extra text: "_abc"'],
    // "invalid second followed by optional fractional seconds"
    [L.RFC3339, '2010-02-04T21:00:67.012345678-08:00', ': second out of range'],
    // issue 54569
    [L.RFC3339, '0000-01-01T00:00:.0+00:00', 'cannot parse ".0+00:00" as "05"'],
    // "issue 21113"
    ['_2 Jan 06 15:04 MST', '4 --- 00 00:00 GMT', 'cannot parse "--- 00 00:00 GMT" as "Jan"'],
    ['_2 January 06 15:04 MST', '4 --- 00 00:00 GMT', 'cannot parse "--- 00 00:00 GMT" as "January"'],
    // "invalid or mismatched day-of-year"
    ['Jan _2 002 2006', 'Feb  4 034 2006', ': day-of-year does not match day'],
    ['Jan _2 002 2006', 'Feb  4 004 2006', ': day-of-year does not match month'],
    // issue 45391
    ['"2006-01-02T15:04:05Z07:00"', '0', 'cannot parse "0" as "\\""'],
    [L.RFC3339, '"', 'cannot parse "\\"" as "2006"'],
    // TestStd0xParseError (issues 29918, 29916)
    ['01 MST', '0 MST', 'cannot parse "0 MST" as "01"'],
    ['01 MST', '1 MST', 'cannot parse "1 MST" as "01"'],
    [L.RFC850, 'Thursday, 04-Feb-1 21:00:57 PST', 'cannot parse "1 21:00:57 PST" as "06"'],
    // TestParseMonthOutOfRange
    ['01-02', '00-01', ': month out of range'],
    ['01-02', '13-01', ': month out of range'],
    ['1-02', '0-01', ': month out of range'],
    // A multi-character separator quotes the value from where it stopped matching, as Go's skip does.
    [L.RFC850, 'Thursday,04-Feb-10 21:00:57 PST', 'cannot parse "04-Feb-10 21:00:57 PST" as ", "'],
    [L.RFC3339, '2021-01-01', 'cannot parse "" as "T"'],
    // A space in the layout also matches the end of the value; the hour is what is missing then.
    ['2006-01-02 15:04', '2021-01-01', 'cannot parse "" as "15"'],
  ];

  it("gives Go's ParseError text", () => {
    for (const [layout, value, tail] of vectors) {
      const msg = parseMessage(layout, value);
      const want = tail.startsWith(':')
        ? `parsing time ${JSON.stringify(value)}${tail}`
        : `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: ${tail}`;
      expect(msg, `${layout} | ${value}`).toBe(want);
    }
  });

  // format_test.go dayOutOfRangeTests, all parsed with ANSIC.
  it('checks the day against its month and leap years', () => {
    const days: [string, boolean][] = [
      ['Thu Jan 99 21:00:57 2010', false],
      ['Thu Jan 31 21:00:57 2010', true],
      ['Thu Jan 32 21:00:57 2010', false],
      ['Thu Feb 28 21:00:57 2012', true],
      ['Thu Feb 29 21:00:57 2012', true],
      ['Thu Feb 29 21:00:57 2010', false],
      ['Thu Mar 31 21:00:57 2010', true],
      ['Thu Mar 32 21:00:57 2010', false],
      ['Thu Apr 30 21:00:57 2010', true],
      ['Thu Apr 31 21:00:57 2010', false],
      ['Thu May 31 21:00:57 2010', true],
      ['Thu May 32 21:00:57 2010', false],
      ['Thu Jun 30 21:00:57 2010', true],
      ['Thu Jun 31 21:00:57 2010', false],
      ['Thu Jul 31 21:00:57 2010', true],
      ['Thu Jul 32 21:00:57 2010', false],
      ['Thu Aug 31 21:00:57 2010', true],
      ['Thu Aug 32 21:00:57 2010', false],
      ['Thu Sep 30 21:00:57 2010', true],
      ['Thu Sep 31 21:00:57 2010', false],
      ['Thu Oct 31 21:00:57 2010', true],
      ['Thu Oct 32 21:00:57 2010', false],
      ['Thu Nov 30 21:00:57 2010', true],
      ['Thu Nov 31 21:00:57 2010', false],
      ['Thu Dec 31 21:00:57 2010', true],
      ['Thu Dec 32 21:00:57 2010', false],
      ['Thu Dec 00 21:00:57 2010', false],
    ];
    for (const [value, ok] of days) {
      const msg = parseMessage(L.ANSIC, value);
      if (ok) expect(msg, value).toMatch(/^ok: 20(10|12)-\d\d-\d\d 21:00:57 \+0000 UTC$/);
      else expect(msg, value).toBe(`parsing time "${value}": day out of range`);
    }
    expect(parseMessage(L.DateOnly, '2000-02-29')).toBe('ok: 2000-02-29 00:00:00 +0000 UTC');
    expect(parseMessage(L.DateOnly, '1900-02-29')).toBe('parsing time "1900-02-29": day out of range');
  });

  it('names the field that is out of range in 12-hour and numeric layouts', () => {
    expect(parseMessage('3:04PM', '13:00PM')).toBe('parsing time "13:00PM": hour out of range');
    expect(parseMessage('03:04PM', '13:00PM')).toBe('parsing time "13:00PM": hour out of range');
    expect(parseMessage('15:04', '24:00')).toBe('parsing time "24:00": hour out of range');
    expect(parseMessage('15:04', '23:60')).toBe('parsing time "23:60": minute out of range');
    expect(parseMessage('15:4', '23:60')).toBe('parsing time "23:60": minute out of range');
    expect(parseMessage('15:04:5', '23:59:60')).toBe('parsing time "23:59:60": second out of range');
    expect(parseMessage('15:04:05', '23:59:59')).toBe('ok: 0000-01-01 23:59:59 +0000 UTC');
    expect(parseMessage('3:04PM', '12:00XM')).toBe(
      'parsing time "12:00XM" as "3:04PM": cannot parse "XM" as "PM"',
    );
    expect(parseMessage('3:04PM', '12:00pm')).toBe(
      'parsing time "12:00pm" as "3:04PM": cannot parse "pm" as "PM"',
    );
    expect(parseMessage('3:04pm', '12:00AM')).toBe(
      'parsing time "12:00AM" as "3:04pm": cannot parse "AM" as "pm"',
    );
    expect(parseMessage('3:04PM', '12:00P')).toBe(
      'parsing time "12:00P" as "3:04PM": cannot parse "P" as "PM"',
    );
    expect(parseMessage('15:4:5', '1:2:3')).toBe('ok: 0000-01-01 01:02:03 +0000 UTC');
    expect(parseMessage('15:04:05', '1:2:3')).toBe(
      'parsing time "1:2:3" as "15:04:05": cannot parse "2:3" as "04"',
    );
    expect(parseMessage('15:04:05', '10:00:5')).toBe(
      'parsing time "10:00:5" as "15:04:05": cannot parse "5" as "05"',
    );
    expect(parseMessage('15:04:5', '10:00:5')).toBe('ok: 0000-01-01 10:00:05 +0000 UTC');
    expect(parseMessage('3PM', '3AM')).toBe('ok: 0000-01-01 03:00:00 +0000 UTC');
    expect(parseMessage('3pm', '12am')).toBe('ok: 0000-01-01 00:00:00 +0000 UTC');
    expect(parseMessage('3pm', '1pm')).toBe('ok: 0000-01-01 13:00:00 +0000 UTC');
    expect(parseMessage('3PM 2006', '3PM 2021')).toBe('ok: 2021-01-01 15:00:00 +0000 UTC');
    // A fractional second counts only right after the seconds.
    expect(parseMessage('05 Jan', '01 Feb.5')).toBe('parsing time "01 Feb.5": extra text: ".5"');
    expect(parseMessage('05.999 Jan', '01 Feb.5')).toBe('parsing time "01 Feb.5": extra text: ".5"');
    expect(parseMessage('2 002 2006', '0 001 2021')).toBe(
      'parsing time "0 001 2021": day-of-year does not match day',
    );
    expect(parseMessage('15:04:05', '10:00:')).toBe(
      'parsing time "10:00:" as "15:04:05": cannot parse "" as "05"',
    );
    expect(parseMessage('15:04', '10:0')).toBe('parsing time "10:0" as "15:04": cannot parse "0" as "04"');
    expect(parseMessage('15:4', 'x:0')).toBe('parsing time "x:0" as "15:4": cannot parse "x:0" as "15"');
    expect(parseMessage('3:04', 'x:00')).toBe('parsing time "x:00" as "3:04": cannot parse "x:00" as "3"');
    expect(parseMessage('03:04', '3:00')).toBe('parsing time "3:00" as "03:04": cannot parse "3:00" as "03"');
    expect(parseMessage('2006', '21')).toBe('parsing time "21" as "2006": cannot parse "21" as "2006"');
    expect(parseMessage('2006', '2o21')).toBe('parsing time "2o21" as "2006": cannot parse "2o21" as "2006"');
    expect(parseMessage('06', '2')).toBe('parsing time "2" as "06": cannot parse "2" as "06"');
    expect(parseMessage('06', 'x1')).toBe('parsing time "x1" as "06": cannot parse "x1" as "06"');
    expect(parseMessage('Jan', 'Foo')).toBe('parsing time "Foo" as "Jan": cannot parse "Foo" as "Jan"');
    expect(parseMessage('January', 'Janua')).toBe(
      'parsing time "Janua" as "January": cannot parse "Janua" as "January"',
    );
    expect(parseMessage('1', 'x')).toBe('parsing time "x" as "1": cannot parse "x" as "1"');
    expect(parseMessage('2', 'x')).toBe('parsing time "x" as "2": cannot parse "x" as "2"');
    expect(parseMessage('02', '1')).toBe('parsing time "1" as "02": cannot parse "1" as "02"');
    expect(parseMessage('_2', '')).toBe('parsing time "" as "_2": cannot parse "" as "_2"');
    expect(parseMessage('15:04:05.000', '10:00:00.12')).toBe(
      'parsing time "10:00:00.12" as "15:04:05.000": cannot parse ".12" as ".000"',
    );
    expect(parseMessage('15:04:05,000', '10:00:00.125')).toBe('ok: 0000-01-01 10:00:00.125 +0000 UTC');
    expect(parseMessage('15:04:05.999', '10:00:00')).toBe('ok: 0000-01-01 10:00:00 +0000 UTC');
    expect(parseMessage('15:04:05.999', '10:00:00.')).toBe('parsing time "10:00:00.": extra text: "."');
    expect(parseMessage('MST', 'UTCx')).toBe('parsing time "UTCx": extra text: "x"');
  });
});

describe('ParseDuration', () => {
  // ParseDuration doc: "A duration string is a possibly signed sequence of decimal numbers, each
  // with optional fraction and a unit suffix, such as "300ms", "-1.5h" or "2h45m". Valid time units
  // are "ns", "us" (or "µs"), "ms", "s", "m", "h"." Vectors: time_test.go parseDurationTests.
  const S = 1_000_000_000n;
  const valid: [string, bigint][] = [
    ['0', 0n],
    ['5s', 5n * S],
    ['30s', 30n * S],
    ['1478s', 1478n * S],
    ['-5s', -5n * S],
    ['+5s', 5n * S],
    ['-0', 0n],
    ['+0', 0n],
    ['5.0s', 5n * S],
    ['5.6s', 5n * S + 600_000_000n],
    ['5.s', 5n * S],
    ['.5s', 500_000_000n],
    ['1.0s', S],
    ['1.00s', S],
    ['1.004s', S + 4_000_000n],
    ['1.0040s', S + 4_000_000n],
    ['100.00100s', 100n * S + 1_000_000n],
    ['10ns', 10n],
    ['11us', 11_000n],
    ['12µs', 12_000n],
    ['12μs', 12_000n],
    ['13ms', 13_000_000n],
    ['14s', 14n * S],
    ['15m', 900n * S],
    ['16h', 57_600n * S],
    ['3h30m', 12_600n * S],
    ['10.5s4m', 250n * S + 500_000_000n],
    ['-2m3.4s', -(123n * S + 400_000_000n)],
    ['1h2m3s4ms5us6ns', 3723n * S + 4_005_006n],
    ['39h9m14.425s', 140_954n * S + 425_000_000n],
    ['52763797000ns', 52_763_797_000n],
    ['0.3333333333333333333h', 1200n * S],
    ['9007199254740993ns', 9_007_199_254_740_993n],
    ['9223372036854775807ns', 9_223_372_036_854_775_807n],
    ['9223372036854775.807us', 9_223_372_036_854_775_807n],
    ['9223372036s854ms775us807ns', 9_223_372_036_854_775_807n],
    ['-9223372036854775808ns', -9_223_372_036_854_775_808n],
    ['-9223372036854775.808us', -9_223_372_036_854_775_808n],
    ['-9223372036s854ms775us808ns', -9_223_372_036_854_775_808n],
    ['0.100000000000000000000h', 360n * S],
    ['0.830103483285477580700h', 2988n * S + 372_539_827n],
    // The brief's forms: several units with a nine-digit fraction, a negative fraction of an hour.
    ['1h15m30.918273645s', 4530n * S + 918_273_645n],
    ['-1.5h', -5400n * S],
    ['.5m', 30n * S],
    ['1µs', 1000n],
    ['1.h', 3600n * S],
    ['1h.5m', 3630n * S],
    // Go's leadingFraction "does not return an error on overflow, it just stops accumulating
    // precision": only the first 19 digits count, then float64 as Go computes it.
    ['0.4911501336727777786149h', 1_768_140_481_221n],
    ['0.813421838761111008448h', 2_928_318_619_539n],
    [`1.${'1'.repeat(100_000)}s`, 1_111_111_111n],
  ];

  it('reads every documented form to the nanosecond', () => {
    for (const [text, ns] of valid) expect(parseDuration(text), text).toBe(ns);
  });

  // parseDurationTests' error cases: no number, no unit, an unknown unit, and overflow past int64.
  it('refuses text that is no duration, and durations past ±2^63 ns', () => {
    const invalid = [
      '',
      '3',
      '-',
      's',
      '.',
      '-.',
      '.s',
      '+.s',
      '1d',
      '\u0085\u0085',
      '\u00ffff',
      'hello \u00ffff world',
      '9223372036854775808ns',
      '9223372036854775.808us',
      '9223372036854ms775us808ns',
      '-9223372036854775809ns',
      '-9223372036854775808ns1ns',
      '9223372036854775807ns1ns',
      `${'9'.repeat(100_000)}s`,
      '99999999999999999999ns',
      '3000000h',
      '1h 2m',
      '1H',
      '1s2',
      '1.2.3s',
      '00',
      // Object.prototype's names are no units.
      '1constructor',
      '1toString',
      '1__proto__',
    ];
    for (const text of invalid) expect(parseDuration(text), JSON.stringify(text)).toBeUndefined();
  });
});

describe('through the template functions', () => {
  // Optimus's toDate/date/date_modify are Go's time.ParseInLocation, Time.Format and
  // Time.Add(ParseDuration(d)) in the render location.
  it('formats any layout constant with date, in the render location', () => {
    const t =
      '{{ toDate "2006-01-02T15:04:05Z07:00" "2021-03-28T00:30:00Z" | date "Mon Jan _2 15:04:05 MST 2006" }}';
    expect(render(t)).toBe('Sun Mar 28 00:30:00 UTC 2021');
    expect(render(t, {}, { location: 'Europe/Berlin' })).toBe('Sun Mar 28 01:30:00 CET 2021');
    expect(render(t, {}, { location: 'America/New_York' })).toBe('Sat Mar 27 20:30:00 EDT 2021');
    expect(render(t, {}, { location: 'Asia/Kathmandu' })).toBe('Sun Mar 28 06:15:00 +0545 2021');
  });

  it('parses a layout without a zone in the render location (toDate)', () => {
    const t = '{{ toDate "2006-01-02 15:04" "2021-07-01 10:00" | unixEpoch }}';
    expect(render(t)).toBe(String(Date.UTC(2021, 6, 1, 10) / 1000));
    expect(render(t, {}, { location: 'Asia/Kolkata' })).toBe(String(Date.UTC(2021, 6, 1, 4, 30) / 1000));
    expect(render(t, {}, { location: 'America/New_York' })).toBe(String(Date.UTC(2021, 6, 1, 14) / 1000));
  });

  it('shifts by fractional, negative and mixed-unit durations, and leaves overflow unchanged', () => {
    const shift = (d: string) =>
      render(
        `{{ toDate "2006-01-02 15:04:05" "2021-01-01 00:00:00" | date_modify "${d}" | date "2006-01-02 15:04:05.999999999" }}`,
      );
    expect(shift('1h15m30.918273645s')).toBe('2021-01-01 01:15:30.918273645');
    expect(shift('-1.5h')).toBe('2020-12-31 22:30:00');
    expect(shift('.5m')).toBe('2021-01-01 00:00:30');
    expect(shift('1µs')).toBe('2021-01-01 00:00:00.000001');
    expect(shift('9223372036854775808ns')).toBe('2021-01-01 00:00:00');
    expect(shift('1constructor')).toBe('2021-01-01 00:00:00');
  });

  it("warns with Go's parse error and returns the zero time when toDate cannot parse", () => {
    const { output, warnings } = renderString('{{ toDate "2006-002" "2021-366" }}', {}, { name: 't' });
    expect(output).toBe('0001-01-01 00:00:00 +0000 UTC');
    expect(warnings.map((w) => w.message).join('\n')).toContain(
      'toDate: parsing time "2021-366": day-of-year out of range; it returns the zero time',
    );
  });
});
