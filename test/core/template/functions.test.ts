// Go's predefined template functions (https://pkg.go.dev/text/template#hdr-Functions) and
// Optimus's functions (optimus-facts §2.3; upstream engine_test.go vectors).
import { describe, expect, it } from 'vitest';
import { render } from './helpers.js';

const ctx = {
  DSTART: '2021-02-10T10:00:00+00:00',
  DEND: '2021-02-11T10:00:00+00:00',
  EXECUTION_TIME: 'empty val',
  l: ['a', 'b', 'c'],
  m: { k: 'v', n: { deep: 1 } },
  s: 'héllo',
  t: new Date(Date.UTC(2023, 2, 5, 10, 30, 15)),
};

describe('and, or, not', () => {
  it('returns the first empty argument or the last one (and), the first non-empty or the last (or)', () => {
    expect(
      render('{{and 1 0 2}}|{{and 1 2 3}}|{{and "" 1}}|{{or 0 "" "x" 2}}|{{or 0 ""}}|{{or .l 1}}', ctx),
    ).toBe('0|3||x||[a b c]');
  });

  it('stops evaluating at the argument that decides (Go 1.18)', () => {
    expect(render('{{and 0 (index .l 99)}}|{{or 1 (index .l 99)}}', ctx)).toBe('0|1');
    expect(render('{{and 1 (index .l 99)}}', ctx)).toContain('index out of range: 99');
  });

  it('takes the pipeline value as the last argument', () => {
    expect(render('{{0 | and 1}}|{{"x" | or ""}}|{{"p" | and}}|{{"" | or 0}}', ctx)).toBe('0|x|p|');
  });

  it('negates truth with not', () => {
    expect(render('{{not 0}} {{not "x"}} {{not .missing}} {{not .l}}', ctx)).toBe('true false true false');
  });
});

describe('comparisons', () => {
  it('eq with several arguments is arg1==arg2 || arg1==arg3 ...', () => {
    expect(render('{{eq 1 2 3 1}} {{eq 1 2 3}} {{eq "a" "a"}} {{eq true true}} {{eq 1.5 1.5}}')).toBe(
      'true false true true true',
    );
    expect(render('{{eq .missing "x"}} {{eq .missing .nope}} {{eq "x" .missing}}')).toBe('false true false');
  });

  it('orders numbers and strings (by bytes) and refuses other kinds', () => {
    expect(
      render('{{lt 1 2}} {{lt 2 1}} {{le 2 2}} {{le 3 2}} {{gt 3 2}} {{gt 2 2}} {{ge 2 2}} {{ge 1 2}}'),
    ).toBe('true false true false true false true false');
    expect(
      render('{{lt "a" "b"}} {{lt "B" "a"}} {{lt "\uffff" "😀"}} {{lt "ab" "a"}} {{ne 1 2}} {{ne "a" "a"}}'),
    ).toBe('true true true false true false');
    expect(render('{{lt 1.5 2.5}} {{gt 1.5 0.5}}')).toBe('true true');
    // By code point, as Go compares UTF-8 bytes: U+10000 (a surrogate pair in JS) sorts after U+E000.
    expect(
      render('{{lt "\\uE000" "\\U00010000"}} {{lt "\\U00010000" "\\uE000"}} {{lt "\\uD7FF" "\\U00010000"}}'),
    ).toBe('true false true');
  });

  it('refuses to compare incompatible types, and values that have no order', () => {
    const msg = (t: string) => render(t, ctx).replace(/^.*error calling \w+: /, '');
    expect(msg('{{eq 1 "1"}}')).toBe('incompatible types for comparison');
    expect(msg('{{eq 1 1.0}}')).toBe('incompatible types for comparison');
    expect(msg('{{lt 1 "b"}}')).toBe('incompatible types for comparison');
    expect(msg('{{lt true false}}')).toBe('invalid type for comparison');
    expect(msg('{{lt .l .l}}')).toBe('invalid type for comparison');
    expect(msg('{{lt .missing 1}}')).toBe('invalid type for comparison');
    expect(msg('{{eq 1}}')).toBe('missing argument for comparison');
    expect(msg('{{eq .l .l}}')).toBe('non-comparable type []interface {}');
    expect(msg('{{eq .m .missing}}')).toBe('false');
    expect(msg('{{ne .l 1}}')).toBe('incompatible types for comparison');
    expect(render('{{eq}}')).toContain('wrong number of args for eq: want at least 1 got 0');
  });

  it('compares times by instant and zone', () => {
    expect(
      render(
        '{{eq (toDate "2006" "2021") (toDate "2006" "2021")}} {{eq (toDate "2006" "2021") (toDate "2006" "2022")}}',
      ),
    ).toBe('true false');
  });
});

describe('len, index, slice', () => {
  it('gives lengths of strings (bytes), lists and maps', () => {
    expect(render('{{len .s}} {{len .l}} {{len .m}} {{len ""}}', ctx)).toBe('6 3 2 0');
    expect(render('{{len 3}}')).toContain('error calling len: len of type int');
    expect(render('{{len .missing}}')).toContain('error calling len: len of nil pointer');
  });

  it('indexes lists, maps, strings (a byte) and nested items: index x 1 2 is x[1][2]', () => {
    expect(
      render(
        '{{index .l 0}} {{index .m "k"}} {{index .m "n" "deep"}} {{index .s 1}} {{index .m "none"}}',
        ctx,
      ),
    ).toBe('a v 1 195 <no value>');
    expect(render('{{index .l}}', ctx)).toBe('[a b c]');
    expect(
      render('{{index .grid 1 0}}', {
        grid: [
          [1, 2],
          [3, 4],
        ],
      }),
    ).toBe('3');
  });

  it('explains bad indexes', () => {
    const msg = (t: string) => render(t, { ...ctx, nil: null }).replace(/^.*error calling index: /, '');
    expect(msg('{{index .l 3}}')).toBe('index out of range: 3');
    expect(msg('{{index .l -1}}')).toBe('index out of range: -1');
    expect(msg('{{index .l "1"}}')).toBe('cannot index slice/array with type string');
    expect(msg('{{index .l nil}}')).toBe('cannot index slice/array with nil');
    expect(msg('{{index .m 1}}')).toBe('value has type int; should be string');
    expect(msg('{{index .m nil}}')).toBe('value is nil; should be of type string');
    expect(msg('{{index 5 1}}')).toBe("can't index item of type int");
    expect(msg('{{index .missing 1}}')).toBe('index of untyped nil');
    expect(msg('{{index .l 0 1}}')).toBe('index out of range: 1');
    expect(msg('{{index .m "k" "x"}}')).toBe('cannot index slice/array with type string');
    expect(msg('{{index (list nil) 0 1}}')).toBe('index of nil pointer');
  });

  it('slices strings (by bytes) and lists: slice x 1 2 is x[1:2]', () => {
    expect(
      render(
        '{{slice "abcdef" 1 3}} {{slice "abc" 1}} {{slice "abc"}} {{slice .l 1}} {{slice .l 0 1 2}}',
        ctx,
      ),
    ).toBe('bc bc abc [b c] [a]');
    const msg = (t: string) => render(t, ctx).replace(/^.*error calling slice: /, '');
    expect(msg('{{slice "abc" 2 1}}')).toBe('invalid slice index: 2 > 1');
    expect(msg('{{slice .l 0 2 1}}')).toBe('invalid slice index: 2 > 1');
    expect(msg('{{slice "abc" 0 4}}')).toBe('index out of range: 4');
    expect(msg('{{slice "abc" 0 1 2}}')).toBe('cannot 3-index slice a string');
    expect(msg('{{slice .l 0 1 2 3}}')).toBe('too many slice indexes: 4');
    expect(msg('{{slice 3 0}}')).toBe("can't slice item of type int");
    expect(msg('{{slice .missing 0}}')).toBe('slice of untyped nil');
  });
});

describe('html, js, urlquery', () => {
  it('escapes the textual representation of the arguments', () => {
    expect(render(`{{html "<a href='x'>&\\"</a>"}}`)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;');
    expect(render('{{html 1 2}}')).toBe('1 2');
    expect(render(`{{js "it's <b>\\\\ & =\\u0001"}}`)).toBe(
      "it\\'s \\u003Cb\\u003E\\\\ \\u0026 \\u003D\\u0001",
    );
    expect(render('{{urlquery "a b&c=d/é~"}}')).toBe('a+b%26c%3Dd%2F%C3%A9~');
  });
});

describe('Optimus functions', () => {
  it('renders the upstream engine test vectors', () => {
    const vectors: [string, string][] = [
      [
        'event_timestamp > "{{.DSTART}}" AND event_timestamp <= "{{.DEND}}"',
        'event_timestamp > "2021-02-10T10:00:00+00:00" AND event_timestamp <= "2021-02-11T10:00:00+00:00"',
      ],
      ['event_timestamp > "{{.EXECUTION_TIME}}"', 'event_timestamp > "empty val"'],
      [
        'event_timestamp > .DSTART AND event_timestamp <= .DEND',
        'event_timestamp > .DSTART AND event_timestamp <= .DEND',
      ],
      [
        'event_timestamp > {{ .DSTART|Date }} AND event_timestamp <= {{.DEND}}',
        'event_timestamp > 2021-02-10 AND event_timestamp <= 2021-02-11T10:00:00+00:00',
      ],
      [
        'event_timestamp > {{ .DSTART | Date }} AND event_timestamp <= {{ Date .DEND }}',
        'event_timestamp > 2021-02-10 AND event_timestamp <= 2021-02-11',
      ],
      ['{{ .DSTART | Date | toDate "2006-01-02" | date "Jan 2, 2006" }}', 'Feb 10, 2021'],
      ['{{ .DSTART | Date | toDate "2006-01-02" | date_modify "-24h" | date "2006-01-02" }}', '2021-02-09'],
      ['event_timestamp > "{{ .DSTART | dateFromStr "-2" "" }}"', 'event_timestamp > "2021-02-08"'],
      [
        '"{{ .DSTART | Date | toDate "2006-01-02" | dateFrom "-2" "+1" | date "2006-01-02" }}"',
        '"2021-03-08"',
      ],
    ];
    for (const [t, want] of vectors) expect(render(t, ctx), t).toBe(want);
  });

  it('formats an RFC3339 time as its date in its own offset (Date)', () => {
    expect(render('{{ .DSTART | Date }}', { DSTART: '2023-03-05T00:00:00Z' })).toBe('2023-03-05');
    expect(render('{{ Date "2023-03-05T23:30:00-05:00" }}')).toBe('2023-03-05');
    expect(render('{{ Date "2023-03-05T23:30:00.123456Z" }}')).toBe('2023-03-05');
  });

  // Go reports column 31 (0-based) for <Date>; columns here are 1-based, as everywhere in this project.
  it("fails Date on text that is not RFC3339, with Go's parse error", () => {
    expect(render('event_timestamp > "{{.DSTART | Date }}"', { DSTART: '' })).toBe(
      'error TEMPLATE_EXEC: template t:1:32: at <Date>: error calling Date: parsing time "" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "2006"',
    );
    expect(render('{{ Date "2023-02-30T00:00:00Z" }}')).toContain(
      'parsing time "2023-02-30T00:00:00Z": day out of range',
    );
    expect(render('{{ Date "2023-13-01T00:00:00Z" }}')).toContain('month out of range');
    expect(render('{{ Date "2023-01-01T24:00:00Z" }}')).toContain('hour out of range');
    expect(render('{{ Date "2023-01-01T00:00:00Zjunk" }}')).toContain('extra text: "junk"');
    expect(render('{{ Date "2023-01-01 00:00:00Z" }}')).toContain('cannot parse " 00:00:00Z" as "T"');
  });

  it('replaces every occurrence (replace old new s) and truncates to n bytes (trunc n s)', () => {
    expect(render('{{ replace "-" "_" "a-b-c" }}|{{ "x.y" | replace "." "" }}')).toBe('a_b_c|xy');
    expect(
      render(
        '{{ trunc 3 "abcdef" }}|{{ trunc 10 "abc" }}|{{ trunc -1 "abc" }}|{{ trunc 0 "abc" }}|{{ trunc 3 "abc" }}',
      ),
    ).toBe('abc|abc|abc||abc');
  });

  it('makes lists and joins them, also from any value', () => {
    expect(
      render(
        '{{ list "a" "b" | join "," }}|{{ join "-" .l }}|{{ join "," (list 1 nil "x" 2.5) }}|{{ join "," "solo" }}|{{ join "," .missing }}|{{ join "," 7 }}',
        ctx,
      ),
    ).toBe('a,b|a-b-c|1,x,2.5|solo||7');
    expect(render('{{ list }}|{{ len (list 1 2) }}')).toBe('[]|2');
  });

  it('formats times in the render location (date) and parses in it (toDate)', () => {
    const t = '{{ toDate "2006-01-02 15:04" "2023-03-05 10:30" | date "2006-01-02T15:04:05Z07:00 MST" }}';
    expect(render(t)).toBe('2023-03-05T10:30:00Z UTC');
    expect(render(t, {}, { location: 'Asia/Jakarta' })).toBe(
      '2023-03-05T10:30:00+07:00 WIB'.replace(
        'WIB',
        render('{{ date "MST" 0 }}', {}, { location: 'Asia/Jakarta' }),
      ),
    );
    expect(
      render('{{ .DSTART | toDate "2006-01-02T15:04:05Z07:00" | date "15:04 -0700" }}', ctx, {
        location: 'Europe/Berlin',
      }),
    ).toBe('11:00 +0100');
    expect(render('{{ date "2006-01-02 15:04 MST" 0 }}', {}, { location: 'America/New_York' })).toBe(
      '1969-12-31 19:00 EST',
    );
    expect(render('{{ date "2006-01-02 15:04 MST" .t }}', ctx, { location: 'Europe/Berlin' })).toBe(
      '2023-03-05 11:30 CET',
    );
  });

  it('warns and formats the current time when date gets no time, as upstream does', () => {
    const now = new Date(Date.UTC(2030, 0, 2, 3, 4, 5));
    expect(render('{{ date "2006-01-02" .DSTART }}', ctx, { now })).toBe('2030-01-02');
  });

  it('shifts a time by a Go duration (date_modify), leaving it unchanged for a bad duration', () => {
    const base = '{{ toDate "2006-01-02 15:04:05" "2023-03-05 10:00:00" | date_modify';
    const cases: [string, string][] = [
      ['"-24h"', '2023-03-04 10:00:00'],
      ['"1h30m"', '2023-03-05 11:30:00'],
      ['"+90s"', '2023-03-05 10:01:30'],
      ['"1.5h"', '2023-03-05 11:30:00'],
      ['"-0"', '2023-03-05 10:00:00'],
      ['"1500ms"', '2023-03-05 10:00:01'],
      ['"2us"', '2023-03-05 10:00:00'],
      ['"3µs"', '2023-03-05 10:00:00'],
      ['"100ns"', '2023-03-05 10:00:00'],
      ['"-.5h"', '2023-03-05 09:30:00'],
      ['"24"', '2023-03-05 10:00:00'],
      ['"1d"', '2023-03-05 10:00:00'],
      ['""', '2023-03-05 10:00:00'],
      ['"h"', '2023-03-05 10:00:00'],
      ['"-"', '2023-03-05 10:00:00'],
    ];
    for (const [d, want] of cases)
      expect(render(`${base} ${d} | date "2006-01-02 15:04:05" }}`), d).toBe(want);
    expect(render(`${base} "1s" | date "05.000000000" }}`)).toBe('01.000000000');
    expect(render(`${base} "-1ns" | date "05.000000000" }}`)).toBe('59.999999999');
  });

  it('returns the zero time for text toDate cannot parse, as upstream does', () => {
    expect(render('{{ toDate "2006-01-02" "not a date" }}')).toBe('0001-01-01 00:00:00 +0000 UTC');
    expect(render('{{ toDate "2006-01-02" "x" | unixEpoch }}')).toBe('-62135596800');
  });

  it('gives Unix seconds (unixEpoch)', () => {
    expect(render('{{ .DSTART | toDate "2006-01-02T15:04:05Z07:00" | unixEpoch }}', ctx)).toBe('1612951200');
    expect(render('{{ toDate "2006-01-02T15:04:05Z07:00" "1969-12-31T23:59:59Z" | unixEpoch }}')).toBe('-1');
  });

  it('sets or shifts day and month (dateFrom, dateFromStr), normalising overflow like time.Date', () => {
    const d = (day: string, month: string) =>
      render(`{{ dateFromStr "${day}" "${month}" "2021-01-31T10:00:00Z" }}`);
    expect(d('', '')).toBe('2021-01-31');
    expect(d('1', '')).toBe('2021-01-01');
    expect(d('+1', '')).toBe('2021-02-01');
    expect(d('-31', '')).toBe('2020-12-31');
    expect(d('', '+1')).toBe('2021-03-03');
    expect(d('', '-1')).toBe('2020-12-31');
    expect(d('15', '6')).toBe('2021-06-15');
    expect(d('', '13')).toBe('2022-01-31');
    expect(d('x', '')).toContain('error calling dateFromStr: strconv.Atoi: parsing "x": invalid syntax');
    expect(d('', '+y')).toContain('strconv.Atoi: parsing "y": invalid syntax');
    expect(d('1.5', '')).toContain('strconv.Atoi: parsing "1.5": invalid syntax');
    expect(render('{{ dateFromStr "1" "1" "bad" }}')).toContain(
      'error calling dateFromStr: parsing time "bad"',
    );
    expect(render('{{ .t | dateFrom "1" "" | date "2006-01-02 15:04:05" }}', ctx)).toBe(
      '2023-03-01 10:30:15',
    );
    expect(
      render('{{ .t | dateFrom "+1" "" | date "2006-01-02 15:04" }}', ctx, { location: 'Europe/Berlin' }),
    ).toBe('2023-03-06 11:30');
  });

  it('calls time methods as fields', () => {
    expect(
      render(
        '{{ .t.Year }} {{ .t.YearDay }} {{ .t.Day }} {{ .t.Hour }} {{ .t.Minute }} {{ .t.Second }} {{ .t.Unix }}',
        ctx,
      ),
    ).toBe('2023 64 5 10 30 15 1678012215');
    expect(render('{{ .t.Format "Mon Jan _2 2006" }} {{ (.t.Format "06") }} {{ .t.UTC.Year }}', ctx)).toBe(
      'Sun Mar  5 2023 23 2023',
    );
    expect(render('{{ .t.Nope }}', ctx)).toContain("can't evaluate field Nope in type time.Time");
    expect(render('{{ .t.Format }}', ctx)).toContain('wrong number of args for Format: want 1 got 0');
  });
});
