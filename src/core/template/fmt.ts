/**
 * Go's fmt for template values: print (Sprint), println (Sprintln), printf (Sprintf), and the
 * default %v text an action prints. Supported verbs: %v %s %q %d %x %X %o %O %b %c %U %e %E %f %F
 * %g %G %t %T %%, flags + - # space 0, width and precision (also from `*`). Wrong verbs and
 * argument counts print Go's in-band errors: %!d(string=x), %!d(MISSING), %!(EXTRA int=1).
 */
import { formatFloat } from './decimal.js';
import type { GoTime } from './go-time.js';
import { type GoMap, kindOf, mapGet, numberOf, sortedKeys, typeName, utf8 } from './values.js';

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  wid?: number;
  prec?: number;
}

const NO_FLAGS: Flags = { plus: false, minus: false, sharp: false, space: false, zero: false };

const runeCount = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

function pad(s: string, f: Flags): string {
  if (f.wid === undefined) return s;
  const n = f.wid - runeCount(s);
  if (n <= 0) return s;
  if (f.minus) return s + ' '.repeat(n);
  return (f.zero ? '0' : ' ').repeat(n) + s;
}

/** Go's unicode.IsPrint, near enough: letters, marks, numbers, punctuation, symbols and ' '. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function quoteRune(cp: number, quote: string, asciiOnly: boolean): string {
  const ch = String.fromCodePoint(cp);
  if (ch === quote || ch === '\\') return `\\${ch}`;
  if (cp < 0x80 ? PRINTABLE.test(ch) : !asciiOnly && PRINTABLE.test(ch)) return ch;
  const esc: Record<number, string> = {
    7: '\\a',
    8: '\\b',
    12: '\\f',
    10: '\\n',
    13: '\\r',
    9: '\\t',
    11: '\\v',
  };
  if (esc[cp]) return esc[cp]!;
  if (cp < 0x20 || cp === 0x7f) return `\\x${hex(cp, 2)}`;
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\\ufffd';
  if (cp < 0x10000) return `\\u${hex(cp, 4)}`;
  return `\\U${hex(cp, 8)}`;
}

/** strconv.Quote (and QuoteToASCII with asciiOnly). */
export function goQuote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) out += quoteRune(ch.codePointAt(0)!, '"', asciiOnly);
  return `${out}"`;
}

function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '`' || cp === 0xfeff || (cp < 0x20 && ch !== '\t') || cp === 0x7f) return false;
  }
  return true;
}

function fmtString(s: string, verb: string, f: Flags): string {
  switch (verb) {
    case 'v':
      if (f.sharp) return pad(goQuote(s), f);
      return pad(truncate(s, f), f);
    case 's':
      return pad(truncate(s, f), f);
    case 'q':
      if (f.sharp && canBackquote(s)) return pad(`\`${s}\``, f);
      return pad(goQuote(truncate(s, f), f.plus), f);
    case 'x':
    case 'X': {
      const bytes = [...utf8(truncate(s, f))];
      const digits = bytes.map((b) => (verb === 'X' ? hex(b, 2).toUpperCase() : hex(b, 2)));
      const prefix = f.sharp ? (verb === 'X' ? '0X' : '0x') : '';
      if (f.space) return pad(digits.map((d) => prefix + d).join(' '), f);
      return pad(prefix + digits.join(''), f);
    }
  }
  return badVerb(s, verb);
}

function truncate(s: string, f: Flags): string {
  if (f.prec === undefined) return s;
  return [...s].slice(0, f.prec).join('');
}

function fmtInteger(n: number, base: number, verb: string, f: Flags): string {
  const negative = n < 0;
  let digits = Math.abs(n).toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  let prec = 0;
  if (f.prec !== undefined) {
    prec = f.prec;
    // Precision 0 and value 0 print nothing but padding.
    if (prec === 0 && n === 0) return pad('', { ...f, zero: false });
  } else if (f.zero && !f.minus && f.wid !== undefined) {
    prec = f.wid;
    if (negative || f.plus || f.space) prec--;
  }
  digits = digits.padStart(prec, '0');
  if (f.sharp) {
    if (base === 2) digits = `0b${digits}`;
    else if (base === 8 && digits[0] !== '0') digits = `0${digits}`;
    else if (base === 16) digits = (verb === 'X' ? '0X' : '0x') + digits;
  }
  if (verb === 'O') digits = `0o${digits}`;
  const sign = negative ? '-' : f.plus ? '+' : f.space ? ' ' : '';
  return pad(sign + digits, { ...f, zero: false });
}

function fmtInt(n: number, verb: string, f: Flags): string {
  switch (verb) {
    case 'v':
    case 'd':
      return fmtInteger(n, 10, verb, f);
    case 'b':
      return fmtInteger(n, 2, verb, f);
    case 'o':
    case 'O':
      return fmtInteger(n, 8, verb, f);
    case 'x':
    case 'X':
      return fmtInteger(n, 16, verb, f);
    case 'c':
      return pad(validRune(n) ? String.fromCodePoint(n) : '\ufffd', f);
    case 'q':
      return pad(`'${quoteRune(validRune(n) ? n : 0xfffd, "'", f.plus)}'`, f);
    case 'U': {
      const u = `U+${Math.abs(n)
        .toString(16)
        .toUpperCase()
        .padStart(f.prec ?? 4, '0')}`;
      return pad(
        f.sharp && validRune(n) && PRINTABLE.test(String.fromCodePoint(n))
          ? `${u} '${String.fromCodePoint(n)}'`
          : u,
        { ...f, zero: false },
      );
    }
  }
  return badVerb(n, verb);
}

const validRune = (n: number) => n >= 0 && n <= 0x10ffff && !(n >= 0xd800 && n <= 0xdfff);

function fmtFloat(x: number, verb: string, f: Flags): string {
  let v = verb;
  let prec = f.prec ?? -1;
  if (v === 'v') v = 'g';
  else if (!'eEfFgG'.includes(v)) return badVerb(x, verb, true);
  if (f.prec === undefined && 'eEfF'.includes(v)) prec = 6;
  let num: string;
  const negative = x < 0 || Object.is(x, -0);
  if (Number.isNaN(x)) num = 'NaN';
  else if (!Number.isFinite(x)) num = 'Inf';
  else num = formatFloat(Math.abs(x), v === 'F' ? 'f' : v, prec);
  let sign = negative && !Number.isNaN(x) ? '-' : '+';
  if (f.space && sign === '+' && !f.plus) sign = ' ';
  if (!Number.isFinite(x)) {
    // Infinities and NaN are never zero padded; NaN has no sign unless asked for.
    const s = Number.isNaN(x) && !f.space && !f.plus ? num : sign + num;
    return pad(s, { ...f, zero: false });
  }
  if (f.plus || sign !== '+') {
    if (f.zero && !f.minus && f.wid !== undefined && f.wid > num.length + 1)
      return sign + '0'.repeat(f.wid - num.length - 1) + num;
    return pad(sign + num, f);
  }
  return pad(num, f);
}

function badVerb(arg: unknown, verb: string, isFloat = false): string {
  if (arg === undefined || arg === null) return `%!${verb}(<nil>)`;
  const name = isFloat ? 'float64' : typeName(arg);
  return `%!${verb}(${name}=${formatValue(arg, 'v', NO_FLAGS)})`;
}

/** One argument under one verb: fmt's printArg. */
export function formatValue(arg: unknown, verb: string, f: Flags): string {
  if (verb === 'T') return pad(typeName(arg), f);
  switch (kindOf(arg)) {
    case 'invalid':
    case 'nil':
      return verb === 'v' ? pad('<nil>', f) : badVerb(arg, verb);
    case 'bool':
      return verb === 't' || verb === 'v' ? pad(String(arg), f) : badVerb(arg, verb);
    case 'int':
      return fmtInt(Number(arg), verb, f);
    case 'float':
      return fmtFloat(numberOf(arg), verb, f);
    case 'string':
      return fmtString(arg as string, verb, f);
    case 'time':
      // time.Time is a Stringer: the string verbs print its String(); others are errors here.
      return 'vsqxX'.includes(verb) ? fmtString((arg as GoTime).toString(), verb, f) : badVerb(arg, verb);
    case 'slice':
      return `[${(arg as unknown[]).map((e) => formatValue(e, verb, f)).join(' ')}]`;
    default: {
      const m = arg as GoMap;
      const parts = sortedKeys(m).map(
        (k) => `${formatValue(k, verb, f)}:${formatValue(mapGet(m, k), verb, f)}`,
      );
      return `map[${parts.join(' ')}]`;
    }
  }
}

/** fmt.Sprint: operands printed with %v, a space between two operands when neither is a string. */
export function sprint(args: readonly unknown[]): string {
  let out = '';
  let prevString = false;
  args.forEach((a, i) => {
    const isString = typeof a === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += formatValue(a, 'v', NO_FLAGS);
    prevString = isString;
  });
  return out;
}

/** fmt.Sprintln: always a space between operands, and a newline at the end. */
export function sprintln(args: readonly unknown[]): string {
  return `${args.map((a) => formatValue(a, 'v', NO_FLAGS)).join(' ')}\n`;
}

const TOO_LARGE = 1_000_000;

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let argNum = 0;
  let i = 0;
  const n = format.length;
  while (i < n) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const f: Flags = { ...NO_FLAGS };
    for (; i < n; i++) {
      const c = format[i];
      if (c === '#') f.sharp = true;
      else if (c === '0') f.zero = !f.minus;
      else if (c === '+') f.plus = true;
      else if (c === '-') {
        f.minus = true;
        f.zero = false;
      } else if (c === ' ') f.space = true;
      else break;
    }
    let bad = '';
    if (format[i] === '*') {
      i++;
      const w = args[argNum++];
      if (kindOf(w) !== 'int' || Math.abs(w as number) > TOO_LARGE) bad += '%!(BADWIDTH)';
      else {
        f.wid = Math.abs(w as number);
        if ((w as number) < 0) {
          f.minus = true;
          f.zero = false;
        }
      }
    } else {
      const m = /^\d+/.exec(format.slice(i, i + 8));
      if (m) {
        i += m[0].length;
        if (Number(m[0]) > TOO_LARGE) bad += '%!(BADWIDTH)';
        else f.wid = Number(m[0]);
      }
    }
    if (format[i] === '.') {
      i++;
      if (format[i] === '*') {
        i++;
        const p = args[argNum++];
        if (kindOf(p) !== 'int' || Math.abs(p as number) > TOO_LARGE) bad += '%!(BADPREC)';
        else if ((p as number) >= 0) f.prec = p as number;
      } else {
        const m = /^\d*/.exec(format.slice(i, i + 8))!;
        i += m[0].length;
        if (Number(m[0]) > TOO_LARGE) bad += '%!(BADPREC)';
        else f.prec = Number(m[0] || '0');
      }
    }
    out += bad;
    if (i >= n) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatValue(args[argNum++], verb, f);
  }
  if (argNum < args.length) {
    const extra = args
      .slice(argNum)
      .map((a) =>
        a === undefined || a === null ? '<nil>' : `${typeName(a)}=${formatValue(a, 'v', NO_FLAGS)}`,
      );
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}

/** What `{{pipeline}}` prints for a value (fmt.Fprint of it); no value prints "<no value>". */
export function printed(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'string') return v;
  return formatValue(v, 'v', NO_FLAGS);
}
