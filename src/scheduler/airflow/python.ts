/**
 * Python source text from TypeScript values, for generated DAG files. Every value a user wrote (a
 * description, a label, a URL, a hook name) reaches the file through `pyLiteral`, so no text can end
 * a string early or inject code; identifiers come from `pyIdent`, never from raw names.
 */

/**
 * A Python literal for a JSON-like value. Strings are double-quoted and pure ASCII: anything outside
 * printable ASCII is an escape, so the file's bytes do not depend on an encoding and a newline or a
 * quote in a description stays inside its string. Object keys are sorted so the output is stable.
 */
export function pyLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return pyStr(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    // Only whole numbers are ever written (seconds, counts); a float would print differently in Python.
    if (!Number.isSafeInteger(value)) throw new TypeError(`not a whole number: ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(pyLiteral).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort(compareCodeUnits)
      .map((k) => `${pyStr(k)}: ${pyLiteral((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(', ')}}`;
  }
  throw new TypeError(`no Python literal for a ${typeof value}`);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/** A double-quoted, ASCII-only Python str literal with exactly the code points of `s`. */
export function pyStr(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const simple = SIMPLE_ESCAPES[ch];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    const code = s.codePointAt(i)!;
    if (code >= 0x20 && code < 0x7f) out += ch;
    else if (code <= 0xff) out += `\\x${hex(code, 2)}`;
    else if (code <= 0xffff)
      out += `\\u${hex(code, 4)}`; // a lone surrogate stays one, as in the JS string
    else {
      out += `\\U${hex(code, 8)}`;
      i++; // the second half of the surrogate pair
    }
  }
  return `${out}"`;
}

/**
 * A name made of `[A-Za-z0-9]` and `_` only, one-to-one: letters and digits stay, `_` doubles and
 * any other code point becomes `_x<hex>_`. Decoding is unambiguous (after a single `_` comes either
 * `_` or `x`), so two different names never share an identifier.
 */
export function encodeName(name: string, keep: RegExp = /[A-Za-z0-9]/): string {
  let out = '';
  for (const ch of name) {
    if (ch === '_') out += '__';
    else if (keep.test(ch)) out += ch;
    else out += `_x${ch.codePointAt(0)!.toString(16)}_`;
  }
  return out;
}

/** A valid Python identifier for `name` under a prefix (which keeps it off keywords and digits). */
export function pyIdent(prefix: string, name: string): string {
  return `${prefix}_${encodeName(name)}`;
}

/** Sort by UTF-16 code units: locale-free, so every machine orders the same way. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}
