/**
 * The lexer of Go's text/template, with the default delimiters. Text between actions is emitted
 * already trimmed by the trim markers ("{{- " and " -}}": the marker needs an ASCII space, tab, CR
 * or LF next to it, and trims all of those). Comments are dropped. One pass, linear in the input.
 */

export type TokenType =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'leftParen'
  | 'rightParen'
  | 'pipe'
  | 'declare'
  | 'assign'
  | 'char'
  | 'charConstant'
  | 'number'
  | 'string'
  | 'rawString'
  | 'bool'
  | 'nil'
  | 'dot'
  | 'field'
  | 'variable'
  | 'identifier'
  | 'keyword'
  | 'eof';

export interface Token {
  type: TokenType;
  val: string;
  /** Offset in the input. */
  pos: number;
}

export class LexError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

const KEYWORDS = new Set([
  'block',
  'break',
  'continue',
  'define',
  'else',
  'end',
  'if',
  'range',
  'template',
  'with',
]);

export const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n';

const ALNUM = /^[\p{L}\p{Nd}_]$/u;

export function isAlphaNumeric(c: string | undefined): boolean {
  if (c === undefined) return false;
  const code = c.charCodeAt(0);
  if (code < 0x80) {
    return (
      c === '_' || (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122)
    );
  }
  return ALNUM.test(c);
}

/** "U+0022 '\"'", as Go's %#U prints a rune. */
export function describeRune(c: string): string {
  const cp = c.codePointAt(0)!;
  const u = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(c) ? `${u} '${c}'` : u;
}

export function lex(input: string): Token[] {
  const tokens: Token[] = [];
  const n = input.length;
  let pos = 0;
  let trimLeading = false;

  const rightDelimAt = (p: number): { trim: boolean; len: number } | undefined => {
    if (isSpace(input[p]) && input[p + 1] === '-' && input.startsWith('}}', p + 2))
      return { trim: true, len: 4 };
    if (input.startsWith('}}', p)) return { trim: false, len: 2 };
    return undefined;
  };
  const codePointAt = (p: number) => String.fromCodePoint(input.codePointAt(p) ?? 0);
  // Helpers for the token being scanned, from `start` to `pos`; defined once, not per token.
  let start = 0;
  const emit = (type: TokenType) => tokens.push({ type, val: input.slice(start, pos), pos: start });
  const atTerminator = () => {
    const r = input[pos];
    if (r === undefined || isSpace(r) || '.,|:()'.includes(r)) return true;
    return input.startsWith('}}', pos);
  };
  const scanWord = () => {
    while (pos < n) {
      const code = input.charCodeAt(pos);
      if (code < 0x80) {
        if (!isAlphaNumeric(input[pos])) break;
        pos++;
        continue;
      }
      const ch = codePointAt(pos);
      if (!isAlphaNumeric(ch)) break;
      pos += ch.length;
    }
  };
  const requireTerminator = () => {
    if (!atTerminator()) throw new LexError(`bad character ${describeRune(codePointAt(pos))}`, pos);
  };

  while (pos <= n) {
    // Text up to the next action.
    if (trimLeading) {
      while (pos < n && isSpace(input[pos])) pos++;
      trimLeading = false;
    }
    const open = input.indexOf('{{', pos);
    const textEnd = open < 0 ? n : open;
    const trimTrailing = open >= 0 && input[open + 2] === '-' && isSpace(input[open + 3]);
    let end = textEnd;
    if (trimTrailing) while (end > pos && isSpace(input[end - 1])) end--;
    if (end > pos) tokens.push({ type: 'text', val: input.slice(pos, end), pos });
    if (open < 0) break;
    pos = open + 2 + (trimTrailing ? 2 : 0);

    if (input.startsWith('/*', pos)) {
      const close = input.indexOf('*/', pos + 2);
      if (close < 0) throw new LexError('unclosed comment', open);
      pos = close + 2;
      const delim = rightDelimAt(pos);
      if (!delim) throw new LexError('comment ends before closing delimiter', pos);
      pos += delim.len;
      trimLeading = delim.trim;
      continue;
    }

    tokens.push({ type: 'leftDelim', val: '{{', pos: open });
    let parenDepth = 0;
    for (;;) {
      const delim = rightDelimAt(pos);
      if (delim) {
        if (parenDepth > 0) throw new LexError('unclosed left paren', pos);
        tokens.push({ type: 'rightDelim', val: '}}', pos });
        pos += delim.len;
        trimLeading = delim.trim;
        break;
      }
      if (pos >= n) throw new LexError('unclosed action', open);
      start = pos;
      const c = input[pos]!;
      if (isSpace(c)) {
        while (pos < n && isSpace(input[pos])) pos++;
        // A space just before "-}}" belongs to the trim marker.
        if (rightDelimAt(pos - 1)?.trim) {
          pos--;
          if (pos === start) continue;
        }
        emit('space');
      } else if (c === '=') {
        pos++;
        emit('assign');
      } else if (c === ':') {
        if (input[pos + 1] !== '=') throw new LexError('expected :=', pos);
        pos += 2;
        emit('declare');
      } else if (c === '|') {
        pos++;
        emit('pipe');
      } else if (c === '"') {
        pos++;
        for (;;) {
          const ch = input[pos];
          if (ch === '\\' && input[pos + 1] !== undefined && input[pos + 1] !== '\n') pos += 2;
          else if (ch === undefined || ch === '\n' || ch === '\\')
            throw new LexError('unterminated quoted string', start);
          else if (ch === '"') break;
          else pos++;
        }
        pos++;
        emit('string');
      } else if (c === '`') {
        const close = input.indexOf('`', pos + 1);
        if (close < 0) throw new LexError('unterminated raw quoted string', start);
        pos = close + 1;
        emit('rawString');
      } else if (c === "'") {
        pos++;
        for (;;) {
          const ch = input[pos];
          if (ch === '\\' && input[pos + 1] !== undefined && input[pos + 1] !== '\n') pos += 2;
          else if (ch === undefined || ch === '\n' || ch === '\\')
            throw new LexError('unterminated character constant', start);
          else if (ch === "'") break;
          else pos++;
        }
        pos++;
        emit('charConstant');
      } else if (c === '$') {
        pos++;
        scanWord();
        requireTerminator();
        emit('variable');
      } else if (c === '.' && !(input[pos + 1]! >= '0' && input[pos + 1]! <= '9')) {
        pos++;
        scanWord();
        requireTerminator();
        emit(pos - start === 1 ? 'dot' : 'field');
      } else if (c === '.' || c === '+' || c === '-' || (c >= '0' && c <= '9')) {
        scanNumber();
        emit('number');
      } else if (isAlphaNumeric(codePointAt(pos))) {
        scanWord();
        requireTerminator();
        const word = input.slice(start, pos);
        emit(
          KEYWORDS.has(word)
            ? 'keyword'
            : word === 'true' || word === 'false'
              ? 'bool'
              : word === 'nil'
                ? 'nil'
                : 'identifier',
        );
      } else if (c === '(') {
        pos++;
        parenDepth++;
        emit('leftParen');
      } else if (c === ')') {
        pos++;
        parenDepth--;
        if (parenDepth < 0) throw new LexError('unexpected right paren', start);
        emit('rightParen');
      } else if (c.charCodeAt(0) < 0x7f && c.charCodeAt(0) >= 0x20) {
        pos++;
        emit('char');
      } else {
        throw new LexError(`unrecognized character in action: ${describeRune(codePointAt(pos))}`, pos);
      }
    }
  }
  tokens.push({ type: 'eof', val: '', pos: n });
  return tokens;

  function scanNumber(): void {
    const start = pos;
    const accept = (chars: string) => {
      if (pos < n && chars.includes(input[pos]!)) {
        pos++;
        return true;
      }
      return false;
    };
    const acceptRun = (chars: string) => {
      while (pos < n && chars.includes(input[pos]!)) pos++;
    };
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    accept('i');
    if (isAlphaNumeric(input[pos])) {
      pos++;
      throw new LexError(`bad number syntax: ${JSON.stringify(input.slice(start, pos))}`, start);
    }
  }
}
