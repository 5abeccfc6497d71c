// Vectors for printf/print/println written down from the fmt package documentation
// (https://pkg.go.dev/fmt): verbs, flags, width and precision, and "Format errors".
import { describe, expect, it } from 'vitest';
import { render } from './helpers.js';

const data = {
  L: ['a', 'b'],
  I: [1, 2],
  M: { b: 2, a: 'x' },
  T: new Date(Date.UTC(2021, 1, 10, 10, 0, 0)),
  F: 2.5,
  nan: Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  ninf: Number.NEGATIVE_INFINITY,
};

/** printf's output, bracketed so that the template's own trimming does not hide padding. */
const printf = (format: string, ...args: string[]) =>
  render(`[{{ printf ${JSON.stringify(format)} ${args.join(' ')} }}]`, data).replace(/^\[|\]$/g, '');

describe('printf verbs', () => {
  it.each([
    // General: %v default format, %T type, %% a percent sign.
    ['%v %v %v %v', ['"s"', '42', 'true', '1.5'], 's 42 true 1.5'],
    ['%v', ['.L'], '[a b]'],
    ['%v', ['.M'], 'map[a:x b:2]'],
    ['%v', ['.T'], '2021-02-10 10:00:00 +0000 UTC'],
    ['%v', ['nil'], '<nil>'],
    [
      '%T|%T|%T|%T|%T|%T|%T',
      ['"s"', '1', '1.5', 'true', '.L', '.M', '.T'],
      'string|int|float64|bool|[]interface {}|map[string]interface {}|time.Time',
    ],
    ['%T', ['nil'], '<nil>'],
    ['100%%', [], '100%'],
    // Boolean: %t.
    ['%t %t', ['true', 'false'], 'true false'],
    // Integer: %b %c %d %o %O %q %x %X %U.
    [
      '%b|%c|%d|%o|%O|%q|%x|%X|%U',
      ['5', '65', '-42', '8', '8', '97', '255', '255', '0x1F600'],
      "101|A|-42|10|0o10|'a'|ff|FF|U+1F600",
    ],
    ['%#x|%#X|%#o|%#b|%#U', ['255', '255', '8', '5', '65'], "0xff|0XFF|010|0b101|U+0041 'A'"],
    ['%c|%q', ['-1', '0x110000'], "\ufffd|'\ufffd'"],
    ['%q|%+q', ["'\\n'", "'é'"], "'\\n'|'\\u00e9'"],
    // Floating point: %e %E %f %F %g %G, default precision 6 for %e and %f, smallest for %g.
    [
      '%e|%E|%f|%F|%g|%G',
      ['1234.5678', '1234.5678', '1234.5678', '1234.5678', '1234.5678', '1e21'],
      '1.234568e+03|1.234568E+03|1234.567800|1234.567800|1234.5678|1E+21',
    ],
    [
      '%v|%v|%v|%v|%v|%v',
      ['1.0', '1e6', '123456.0', '0.0001', '0.00001', '1e20'],
      '1|1e+06|123456|0.0001|1e-05|1e+20',
    ],
    [
      '%.2f|%.0f|%.0f|%.0f|%.1f|%.3f',
      ['3.14159', '0.5', '1.5', '2.5', '0.05', '1.0005'],
      '3.14|0|2|2|0.1|1.000',
    ],
    ['%.2f|%.1f|%.0f', ['0.125', '0.25', '0.6'], '0.12|0.2|1'],
    ['%.3g|%.3g|%.10g|%g|%.0e', ['1.0', '1234567.0', '0.1', '1e-7', '15.0'], '1|1.23e+06|0.1|1e-07|2e+01'],
    [
      '%8.3f|%-8.2f|%08.3f|%+.1f|% .1f|%+08.2f',
      ['3.14159', '2.5', '-3.14159', '1.0', '1.0', '-1.5'],
      '   3.142|2.50    |-003.142|+1.0| 1.0|-0001.50',
    ],
    [
      '%f|%.1f|%e',
      ['1e21', '123456789012345678.0', '0.0'],
      '1000000000000000000000.000000|123456789012345680.0|0.000000e+00',
    ],
    ['%v|%.0f', ['.F', '.F'], '2.5|2'],
    // String: %s %q %x %X, precision truncates, width pads.
    [
      '%s|%q|%x|%X|% x',
      ['"hé"', '"a\\"b\\n"', '"hi"', '"hi"', '"hi"'],
      'hé|"a\\"b\\n"|6869|6869| 68 69'.replace('| 68 69', '|68 69'),
    ],
    ['%5s|%-5s|%.2s|%5.1s|%05s', ['"ab"', '"ab"', '"héllo"', '"xyz"', '"ab"'], '   ab|ab   |hé|    x|000ab'],
    ['%#q|%#q|%+q|%#v', ['"a`b"', '"plain"', '"é\\u0001"', '"s"'], '"a`b"|`plain`|"\\u00e9\\x01"|"s"'],
    ['%q', ['"\\a\\b\\f\\r\\t\\v\\x7f😀"'], '"\\a\\b\\f\\r\\t\\v\\x7f😀"'],
    ['%#x|%# x', ['"ab"', '"ab"'], '0x6162|0x61 0x62'],
    // Width and flags on integers.
    [
      '%5d|%-5d|%05d|%+d|% d|%x|%.3d|%8.3d|%+05d',
      ['42', '42', '-42', '42', '42', '-255', '7', '7', '3'],
      '   42|42   |-0042|+42| 42|-ff|007|     007|+0003',
    ],
    ['[%.0d]|[%5.0d]', ['0', '0'], '[]|[     ]'],
    // Width and precision from arguments.
    ['%*d|%-*d|%.*f|%*d', ['4', '7', '4', '7', '2', '3.14159', '-4', '7'], '   7|7   |3.14|7   '],
    // Lists and maps format element by element with the same verb.
    ['%d|%5d|%s|%q', ['.I', '.I', '.L', '.L'], '[1 2]|[    1     2]|[a b]|["a" "b"]'],
    ['%s', ['.I'], '[%!s(int=1) %!s(int=2)]'],
    // Special floats.
    ['%v|%v|%5.1f|%+v', ['.nan', '.inf', '.ninf', '.nan'], 'NaN|+Inf| -Inf|+NaN'],
  ] as [string, string[], string][])('printf %j', (format, args, want) => {
    expect(printf(format, ...args)).toBe(want);
  });
});

describe('printf format errors', () => {
  it('prints a wrong verb with the type and value: %!d(string=x)', () => {
    expect(printf('%d', '"x"')).toBe('%!d(string=x)');
    expect(printf('%s|%t|%d', '1', '1', 'true')).toBe('%!s(int=1)|%!t(int=1)|%!d(bool=true)');
    expect(printf('%d|%x', '1.5', '2.0')).toBe('%!d(float64=1.5)|%!x(float64=2)');
    expect(printf('%d', 'nil')).toBe('%!d(<nil>)');
    expect(printf('%d', '.T')).toBe('%!d(time.Time=2021-02-10 10:00:00 +0000 UTC)');
    expect(printf('%z', '"s"')).toBe('%!z(string=s)');
    expect(printf('%!', '1')).toBe('%!!(int=1)');
  });

  it('marks missing and extra arguments', () => {
    expect(printf('%d %d', '1')).toBe('1 %!d(MISSING)');
    expect(printf('%d', '1', '"a"', 'nil')).toBe('1%!(EXTRA string=a, <nil>)');
    expect(printf('x')).toBe('x');
  });

  it('marks a bad width or precision and a missing verb', () => {
    expect(printf('%*d', '"w"', '1')).toBe('%!(BADWIDTH)1');
    expect(printf('%.*d', '"p"', '1')).toBe('%!(BADPREC)1');
    expect(printf('%9999999d', '1')).toBe('%!(BADWIDTH)1');
    expect(printf('%.9999999d', '1')).toBe('%!(BADPREC)1');
    expect(printf('%.*d', '-1', '5')).toBe('5');
    expect(printf('abc%')).toBe('abc%!(NOVERB)');
    expect(printf('%-')).toBe('%!(NOVERB)');
  });
});

describe('print and println', () => {
  it('adds a space between operands when neither is a string (fmt.Sprint)', () => {
    expect(render('{{ print 1 2 "a" 3 "b" "c" 4 5 }}')).toBe('1 2a3bc4 5');
    expect(render('{{ print .L .I }}', { L: ['x'], I: [1] })).toBe('[x] [1]');
    expect(render('{{ print }}')).toBe('');
    expect(render('{{ print nil 1 }}')).toBe('<nil> 1');
  });

  it('always separates operands with spaces and ends with a newline (fmt.Sprintln)', () => {
    expect(render('[{{ println "a" "b" 1 }}]')).toBe('[a b 1\n]');
  });

  it('prints what {{pipeline}} prints: the value with %v', () => {
    expect(render('{{ 1.5 }} {{ 2.0 }} {{ true }} {{ .L }}', { L: [1, 'a', null, [2]] })).toBe(
      '1.5 2 true [1 a <nil> [2]]',
    );
  });
});
