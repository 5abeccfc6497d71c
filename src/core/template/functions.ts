/**
 * The functions templates can call: Go's predefined ones (and, or, not, len, index, slice, eq, ne,
 * lt, le, gt, ge, print, printf, println, html, js, urlquery) and Optimus's (Date, replace, trunc,
 * date, date_modify, toDate, unixEpoch, list, join, dateFrom, dateFromStr), with Go's signatures so
 * that arguments are checked the way Go checks them. `call` is left out: template data here never
 * holds functions.
 */
import { goQuote, sprint, sprintf, sprintln } from './fmt.js';
import {
  formatTime,
  GoTime,
  parseDuration,
  parseTime,
  TimeParseError,
  UTC,
  ZERO_TIME,
  type Zone,
} from './go-time.js';
import {
  compareStrings,
  fromUtf8,
  type GoMap,
  isTrue as isTrueLike,
  kindOf,
  mapGet,
  mapSize,
  numberOf,
  typeName,
  utf8,
  ValueError,
} from './values.js';

/**
 * A parameter's Go type. 'value' is a reflect.Value parameter (Go's builtins): it takes anything,
 * even no value. 'any' is interface{}: no value arrives as nil.
 */
export type ParamType = 'string' | 'int' | 'time' | 'any' | 'value';

export interface FuncEnv {
  /** Go's time.Local for `date` and `toDate`. */
  location: Zone;
  /** What time.Now() returns. */
  now: GoTime;
  warn(message: string): void;
}

export interface GoFunc {
  params: ParamType[];
  variadic?: ParamType;
  call(args: unknown[], env: FuncEnv): unknown;
}

export const RFC3339 = '2006-01-02T15:04:05Z07:00';
const ISO_DATE = '2006-01-02';

type Basic = 'bool' | 'int' | 'float' | 'string' | undefined;

function basicKind(v: unknown): Basic {
  const k = kindOf(v);
  return k === 'bool' || k === 'int' || k === 'float' || k === 'string' ? k : undefined;
}

const isNil = (v: unknown) => v === undefined || v === null;

function eq(a: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new ValueError('missing argument for comparison');
  const k1 = basicKind(a);
  for (const b of rest) {
    const k2 = basicKind(b);
    let truth: boolean;
    if (k1 !== k2) {
      if (!isNil(a) && !isNil(b)) throw new ValueError('incompatible types for comparison');
      truth = false;
    } else if (k1 !== undefined) {
      truth = k1 === 'float' || k1 === 'int' ? numberOf(a) === numberOf(b) : a === b;
    } else if (isNil(a) || isNil(b)) {
      truth = isNil(a) && isNil(b);
    } else if (a instanceof GoTime && b instanceof GoTime) {
      truth = a.sec === b.sec && a.nsec === b.nsec && a.equalZone(b.zone);
    } else {
      throw new ValueError(`non-comparable type ${typeName(isNil(a) || a instanceof GoTime ? b : a)}`);
    }
    if (truth) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === undefined || k2 === undefined || k1 === 'bool' || k2 === 'bool') {
    if (k1 !== undefined && k2 !== undefined && k1 !== k2)
      throw new ValueError('incompatible types for comparison');
    throw new ValueError('invalid type for comparison');
  }
  if (k1 !== k2) throw new ValueError('incompatible types for comparison');
  if (k1 === 'string') return compareStrings(a as string, b as string) < 0;
  return numberOf(a) < numberOf(b);
}

function indexArg(v: unknown, cap: number): number {
  const k = kindOf(v);
  if (k === 'invalid' || k === 'nil') throw new ValueError('cannot index slice/array with nil');
  if (k !== 'int') throw new ValueError(`cannot index slice/array with type ${typeName(v)}`);
  const x = v as number;
  if (x < 0 || x > cap) throw new ValueError(`index out of range: ${x}`);
  return x;
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  let v = item;
  if (isNil(v)) throw new ValueError('index of untyped nil');
  for (const i of indexes) {
    switch (kindOf(v)) {
      case 'string': {
        const bytes = utf8(v as string);
        const x = indexArg(i, bytes.length - 1);
        v = bytes[x]!;
        break;
      }
      case 'slice': {
        const list = v as unknown[];
        v = list[indexArg(i, list.length - 1)];
        break;
      }
      case 'map':
        if (isNil(i)) throw new ValueError('value is nil; should be of type string');
        if (typeof i !== 'string') throw new ValueError(`value has type ${typeName(i)}; should be string`);
        v = mapGet(v as GoMap, i);
        break;
      case 'invalid':
      case 'nil':
        throw new ValueError('index of nil pointer');
      default:
        throw new ValueError(`can't index item of type ${typeName(v)}`);
    }
  }
  return v;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (isNil(item)) throw new ValueError('slice of untyped nil');
  if (indexes.length > 3) throw new ValueError(`too many slice indexes: ${indexes.length}`);
  const k = kindOf(item);
  if (k !== 'string' && k !== 'slice') throw new ValueError(`can't slice item of type ${typeName(item)}`);
  if (k === 'string' && indexes.length === 3) throw new ValueError('cannot 3-index slice a string');
  const bytes = k === 'string' ? utf8(item as string) : undefined;
  const len = bytes ? bytes.length : (item as unknown[]).length;
  const idx = [0, len, len];
  indexes.forEach((x, n) => {
    idx[n] = indexArg(x, len);
  });
  if (idx[0]! > idx[1]!) throw new ValueError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!)
    throw new ValueError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  return bytes ? fromUtf8(bytes.subarray(idx[0], idx[1])) : (item as unknown[]).slice(idx[0], idx[1]);
}

function length(item: unknown): number {
  switch (kindOf(item)) {
    case 'string':
      return utf8(item as string).length;
    case 'slice':
      return (item as unknown[]).length;
    case 'map':
      return mapSize(item as GoMap);
    case 'invalid':
    case 'nil':
      throw new ValueError('len of nil pointer');
    default:
      throw new ValueError(`len of type ${typeName(item)}`);
  }
}

/** Go's evalArgs for html/js/urlquery: a single string as is, otherwise fmt.Sprint. */
const argsText = (args: unknown[]) =>
  args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args);

const HTML: Record<string, string> = {
  '"': '&#34;',
  "'": '&#39;',
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '\0': '\uFFFD',
};

function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\\' || ch === "'" || ch === '"') out += `\\${ch}`;
    else if (ch === '<') out += '\\u003C';
    else if (ch === '>') out += '\\u003E';
    else if (ch === '&') out += '\\u0026';
    else if (ch === '=') out += '\\u003D';
    else if (cp < 0x20) out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

function queryEscape(s: string): string {
  let out = '';
  for (const b of utf8(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function parseRFC3339(s: string, env: FuncEnv): GoTime {
  try {
    return parseTime(RFC3339, s, env.location, env.location);
  } catch (e) {
    if (e instanceof TimeParseError) throw new ValueError(e.message);
    throw e;
  }
}

/** Optimus's dateFrom argument: "" keeps the value, "+n"/"-n" shift it, "n" sets it. */
function valueOnOp(s: string, current: number): number {
  if (s === '') return current;
  const sign = s[0] === '+' || s[0] === '-' ? s[0] : '';
  const digits = sign ? s.slice(1) : s;
  if (!/^[+-]?\d+$/.test(digits))
    throw new ValueError(`strconv.Atoi: parsing ${goQuote(digits)}: invalid syntax`);
  const n = Number(digits);
  return sign === '+' ? current + n : sign === '-' ? current - n : n;
}

function dateFrom(day: string, month: string, t: GoTime): GoTime {
  const c = t.civil();
  const d = valueOnOp(day, c.day);
  const m = valueOnOp(month, c.month);
  return GoTime.date(c.year, m, d, c.hour, c.minute, c.second, c.nsec, t.zone);
}

/** Go's strslice in Optimus's join: lists are joined element-wise (nils skipped), anything else is one element. */
function stringsOf(v: unknown): string[] {
  if (isNil(v)) return [];
  if (Array.isArray(v))
    return v.filter((e) => !isNil(e)).map((e) => (typeof e === 'string' ? e : sprint([e])));
  return [typeof v === 'string' ? v : sprint([v])];
}

const fn = (params: ParamType[], call: GoFunc['call'], variadic?: ParamType): GoFunc =>
  variadic ? { params, call, variadic } : { params, call };

export const BUILTINS: Readonly<Record<string, GoFunc>> = {
  // and/or are evaluated by the executor (they short-circuit); these bodies serve the pipeline case.
  and: fn(['value'], (a) => a.find((v) => !isTrueLike(v)) ?? a[a.length - 1], 'value'),
  or: fn(['value'], (a) => a.find((v) => isTrueLike(v)) ?? a[a.length - 1], 'value'),
  not: fn(['value'], ([v]) => !isTrueLike(v)),
  len: fn(['value'], ([v]) => length(v)),
  index: fn(['value'], ([item, ...rest]) => index(item, ...rest), 'value'),
  slice: fn(['value'], ([item, ...rest]) => slice(item, ...rest), 'value'),
  eq: fn(['value'], ([a, ...rest]) => eq(a, ...rest), 'value'),
  ne: fn(['value', 'value'], ([a, b]) => !eq(a, b)),
  lt: fn(['value', 'value'], ([a, b]) => lt(a, b)),
  le: fn(['value', 'value'], ([a, b]) => lt(a, b) || eq(a, b)),
  gt: fn(['value', 'value'], ([a, b]) => !(lt(a, b) || eq(a, b))),
  ge: fn(['value', 'value'], ([a, b]) => !lt(a, b)),
  print: fn([], (a) => sprint(a), 'any'),
  printf: fn(['string'], ([f, ...rest]) => sprintf(f as string, rest), 'any'),
  println: fn([], (a) => sprintln(a), 'any'),
  html: fn([], (a) => argsText(a).replace(/["'&<>\0]/g, (c) => HTML[c]!), 'any'),
  js: fn([], (a) => jsEscape(argsText(a)), 'any'),
  urlquery: fn([], (a) => queryEscape(argsText(a)), 'any'),
};

export const OPTIMUS_FUNCTIONS: Readonly<Record<string, GoFunc>> = {
  Date: fn(['string'], ([s], env) => formatTime(parseRFC3339(s as string, env), ISO_DATE)),
  replace: fn(['string', 'string', 'string'], ([old, repl, s]) =>
    (s as string).replaceAll(old as string, repl as string),
  ),
  trunc: fn(['int', 'string'], ([c, s]) => {
    const bytes = utf8(s as string);
    return (c as number) >= 0 && bytes.length > (c as number) ? fromUtf8(bytes.subarray(0, c as number)) : s;
  }),
  date: fn(['string', 'any'], ([layout, t], env) => {
    let time: GoTime;
    if (t instanceof GoTime) time = t;
    else if (kindOf(t) === 'int') time = new GoTime(t as number, 0, env.location);
    else {
      // Upstream formats the current time for anything else, silently; say so.
      env.warn(
        `date was given a ${typeName(t)}, not a time: it formats the current time, as upstream does (use toDate first)`,
      );
      time = env.now;
    }
    return formatTime(time.in(env.location), layout as string);
  }),
  date_modify: fn(['string', 'time'], ([d, t], env) => {
    const ns = parseDuration(d as string);
    if (ns === undefined) {
      env.warn(
        `date_modify: ${goQuote(d as string)} is not a duration such as -24h or 1h30m; the time is unchanged`,
      );
      return t;
    }
    return (t as GoTime).add(ns);
  }),
  toDate: fn(['string', 'string'], ([layout, s], env) => {
    try {
      return parseTime(layout as string, s as string, env.location, env.location);
    } catch (e) {
      if (!(e instanceof TimeParseError)) throw e;
      env.warn(`toDate: ${e.message}; it returns the zero time, as upstream does`);
      return ZERO_TIME;
    }
  }),
  unixEpoch: fn(['time'], ([t]) => String((t as GoTime).sec)),
  list: fn([], (a) => a, 'any'),
  join: fn(['string', 'any'], ([sep, v]) => stringsOf(v).join(sep as string)),
  dateFrom: fn(['string', 'string', 'time'], ([day, month, t]) =>
    dateFrom(day as string, month as string, t as GoTime),
  ),
  dateFromStr: fn(['string', 'string', 'string'], ([day, month, s], env) =>
    formatTime(dateFrom(day as string, month as string, parseRFC3339(s as string, env)), ISO_DATE),
  ),
};

export const FUNCTIONS: Readonly<Record<string, GoFunc>> = { ...BUILTINS, ...OPTIMUS_FUNCTIONS };

export function hasFunction(name: string): boolean {
  return Object.hasOwn(FUNCTIONS, name);
}

/** Methods of time.Time that templates can call as fields: {{ (toDate "2006-01-02" .X).Year }}. */
export function timeMethod(t: GoTime, name: string): GoFunc | undefined {
  switch (name) {
    case 'Format':
      return fn(['string'], ([layout]) => formatTime(t, layout as string));
    case 'Unix':
      return fn([], () => t.sec);
    case 'UTC':
      return fn([], () => t.in(UTC));
    case 'Year':
      return fn([], () => t.civil().year);
    case 'YearDay':
      return fn([], () => t.civil().yday);
    case 'Day':
      return fn([], () => t.civil().day);
    case 'Hour':
      return fn([], () => t.civil().hour);
    case 'Minute':
      return fn([], () => t.civil().minute);
    case 'Second':
      return fn([], () => t.civil().second);
  }
  return undefined;
}
