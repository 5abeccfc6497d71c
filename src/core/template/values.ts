/**
 * The Go value model the engine works on. Context data is plain JS: strings, booleans, numbers,
 * arrays, plain objects or Maps (Go's map[string]any), Dates and nulls. Go tells ints from floats,
 * JS does not: a JS number that is a safe integer is a Go int, any other number a float64, and a
 * float that happens to be whole (the literal `3.0`) is kept apart as a GoFloat.
 *
 * `undefined` is Go's "no value" (a missing key, an unset variable); `null` is a key that is present
 * with a nil value. They differ only where Go differs: `.A.B` on a present nil is an error, on a
 * missing key it is "no value".
 */
import { GoTime } from './go-time.js';

export class GoFloat {
  constructor(readonly value: number) {}
}

export type GoKind = 'invalid' | 'nil' | 'bool' | 'int' | 'float' | 'string' | 'slice' | 'map' | 'time';

/** Thrown by value helpers and functions; the evaluator adds the position. */
export class ValueError extends Error {}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function kindOf(v: unknown): GoKind {
  switch (typeof v) {
    case 'undefined':
      return 'invalid';
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'number':
      return Number.isSafeInteger(v) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'object':
      if (v === null) return 'nil';
      if (v instanceof GoFloat) return 'float';
      if (v instanceof GoTime) return 'time';
      if (Array.isArray(v)) return 'slice';
      if (v instanceof Map || isPlainObject(v)) return 'map';
  }
  throw new ValueError(`unsupported value of JS type ${describeJs(v)} in the template data`);
}

function describeJs(v: unknown): string {
  if (typeof v !== 'object' || v === null) return typeof v;
  return (v as object).constructor?.name ?? 'object';
}

/** Context data as the engine sees it: JS Dates become Go times (UTC), bigints ints. */
export function fromJs(v: unknown): unknown {
  if (v instanceof Date) return GoTime.fromMillis(v.getTime());
  if (typeof v === 'bigint') {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
      throw new ValueError(`integer ${v} in the template data is too large`);
    return Number(v);
  }
  return v;
}

export function numberOf(v: unknown): number {
  return v instanceof GoFloat ? v.value : (v as number);
}

/** Go's type name, as its error messages and %T print it. */
export function typeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return '<nil>';
    case 'bool':
      return 'bool';
    case 'int':
      return 'int';
    case 'float':
      return 'float64';
    case 'string':
      return 'string';
    case 'slice':
      return '[]interface {}';
    case 'map':
      return 'map[string]interface {}';
    default:
      return 'time.Time';
  }
}

/** Go's truth: false, 0, nil, and empty strings, lists and maps are false; everything else true. */
export function isTrue(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return false;
    case 'bool':
      return v as boolean;
    case 'int':
    case 'float':
      return numberOf(v) !== 0;
    case 'string':
      return (v as string).length > 0;
    case 'slice':
      return (v as unknown[]).length > 0;
    case 'map':
      return mapSize(v as GoMap) > 0;
    default:
      return true;
  }
}

export type GoMap = ReadonlyMap<string, unknown> | Record<string, unknown>;

/** A map element, `undefined` when the key is absent. Only own keys: never a JS prototype member. */
export function mapGet(m: GoMap, key: string): unknown {
  if (m instanceof Map) return m.has(key) ? fromJs(m.get(key)) : undefined;
  return Object.hasOwn(m, key) ? fromJs((m as Record<string, unknown>)[key]) : undefined;
}

export function mapSize(m: GoMap): number {
  return m instanceof Map ? m.size : Object.keys(m).length;
}

/** Keys in Go's order for maps with string keys: by bytes, which for UTF-8 is by code point. */
export function sortedKeys(m: GoMap): string[] {
  const keys = m instanceof Map ? [...m.keys()].filter((k) => typeof k === 'string') : Object.keys(m);
  return keys.sort(compareStrings);
}

/**
 * Go compares strings by UTF-8 bytes, i.e. by code point. JS compares UTF-16 units, which puts
 * astral characters (surrogates) below U+E000..U+FFFF; this corrects that one difference.
 */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys) return xs ? 1 : -1;
      return x - y;
    }
  }
  return a.length - b.length;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Go strings are bytes: len, index, slice and trunc count UTF-8 bytes. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

export function fromUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}
