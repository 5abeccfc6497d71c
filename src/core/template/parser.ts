/**
 * A recursive-descent parser for Go's text/template, producing the file's own tree plus the
 * templates it defines. It checks what Go checks at parse time: functions exist, variables are
 * declared before use, break/continue sit inside a range. Nesting (blocks and parentheses) is
 * bounded so that a hostile template gets an error, not a blown JS stack.
 */
import type {
  ArgNode,
  BranchNode,
  CommandNode,
  ListNode,
  Node,
  NumberNode,
  PipeNode,
  Source,
  TemplateNode,
  Tree,
} from './ast.js';
import { LexError, lex, type Token } from './lexer.js';

export const MAX_NESTING = 100;

export class ParseError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

/** strconv.Unquote for "…", `…` and '…' literals; `\x` and octal escapes are UTF-8 bytes. */
export function unquote(literal: string): string {
  const quote = literal[0];
  const body = literal.slice(1, -1);
  if (quote === '`') return body.replaceAll('\r', '');
  if (!body.includes('\\') && !body.includes(quote!)) return body;
  const bytes: number[] = [];
  const pushText = (s: string) => bytes.push(...encoder.encode(s));
  for (let i = 0; i < body.length; ) {
    const c = body[i]!;
    if (c !== '\\') {
      if (c === quote) throw new Error('invalid syntax');
      const cp = String.fromCodePoint(body.codePointAt(i)!);
      pushText(cp);
      i += cp.length;
      continue;
    }
    const e = body[i + 1]!;
    if (e in SIMPLE_ESCAPES) {
      if ((e === "'" && quote === '"') || (e === '"' && quote === "'")) throw new Error('invalid syntax');
      pushText(SIMPLE_ESCAPES[e]!);
      i += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 2, i + 2 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new Error('invalid syntax');
      const v = Number.parseInt(hex, 16);
      if (e === 'x') bytes.push(v);
      else if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new Error('invalid syntax');
      else pushText(String.fromCodePoint(v));
      i += 2 + len;
    } else if (e >= '0' && e <= '7') {
      const oct = body.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct) || Number.parseInt(oct, 8) > 255) throw new Error('invalid syntax');
      bytes.push(Number.parseInt(oct, 8));
      i += 4;
    } else {
      throw new Error('invalid syntax');
    }
  }
  return decoder.decode(new Uint8Array(bytes));
}

function parseNumber(tok: Token): NumberNode {
  const text = tok.val;
  const node: NumberNode = {
    type: 'number',
    pos: tok.pos,
    end: tok.pos + text.length,
    text,
    isInt: false,
    isFloat: false,
    int: 0,
    float: 0,
  };
  const fail = (why = 'illegal number syntax') => new ParseError(`${why}: ${JSON.stringify(text)}`, tok.pos);
  if (tok.type === 'charConstant') {
    let s: string;
    try {
      s = unquote(text);
    } catch {
      throw fail('malformed character constant');
    }
    const cp = s.codePointAt(0);
    if (cp === undefined || String.fromCodePoint(cp) !== s) throw fail('malformed character constant');
    return { ...node, isInt: true, isFloat: true, int: cp, float: cp };
  }
  if (text.endsWith('i')) throw fail('complex numbers are not supported');
  const sign = text[0] === '-' ? -1 : 1;
  const unsigned = text.replace(/^[+-]/, '');
  if (!underscoresOK(unsigned)) throw fail();
  const clean = unsigned.replaceAll('_', '');
  let int: number | undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(clean)) int = Number.parseInt(clean.slice(2), 16);
  else if (/^0[oO]?[0-7]+$/.test(clean)) int = Number.parseInt(clean.replace(/^0[oO]?/, ''), 8);
  else if (/^0[bB][01]+$/.test(clean)) int = Number.parseInt(clean.slice(2), 2);
  else if (/^(0|[1-9]\d*)$/.test(clean)) int = Number(clean);
  if (int !== undefined) {
    if (!Number.isSafeInteger(int)) throw fail('integer too large for this engine (above 2^53)');
    const v = sign * int;
    return { ...node, isInt: true, isFloat: true, int: v, float: v };
  }
  if (!/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(clean)) throw fail();
  const f = sign * Number(clean);
  if (!Number.isFinite(f)) throw fail('number out of range');
  return {
    ...node,
    isFloat: true,
    float: f,
    isInt: Number.isSafeInteger(f),
    int: Number.isSafeInteger(f) ? f : 0,
  };
}

/** Underscores only between digits, or right after a base prefix (0x_1), as Go allows. */
function underscoresOK(s: string): boolean {
  const body = /^0[xXoObB]_/.test(s) ? s.slice(3) : s;
  return !/(^_|_$|__|[^0-9a-fA-F]_|_[^0-9a-fA-F])/.test(body);
}

function describe(tok: Token): string {
  switch (tok.type) {
    case 'eof':
      return 'EOF';
    case 'keyword':
      return `<${tok.val}>`;
    case 'space':
      return 'space';
    default:
      return JSON.stringify(tok.val);
  }
}

export interface ParsedFile {
  /** The file's own template. */
  tree: Tree;
  /** Templates it defines with {{define}} or {{block}}, in order. */
  defined: Tree[];
}

export function parseFile(source: Source, hasFunction: (name: string) => boolean): ParsedFile {
  let tokens: Token[];
  try {
    tokens = lex(source.text);
  } catch (e) {
    if (e instanceof LexError) throw new ParseError(e.message, e.pos);
    throw e;
  }
  let i = 0;
  let vars: string[] = ['$'];
  let rangeDepth = 0;
  let nesting = 0;
  const open: Token[] = [];
  const defined: Tree[] = [];

  const peek = () => tokens[i]!;
  const next = () => tokens[i++]!;
  const backup = () => {
    i--;
  };
  const nextNonSpace = () => {
    let t = next();
    while (t.type === 'space') t = next();
    return t;
  };
  const peekNonSpace = () => {
    const t = nextNonSpace();
    backup();
    return t;
  };
  const error = (msg: string, pos: number): never => {
    throw new ParseError(msg, pos);
  };
  const unexpected = (tok: Token, context: string): never =>
    error(`unexpected ${describe(tok)} in ${context}`, tok.pos);
  const expect = (type: Token['type'], context: string) => {
    const t = nextNonSpace();
    if (t.type !== type) unexpected(t, context);
    return t;
  };
  const deeper = (pos: number) => {
    if (++nesting > MAX_NESTING)
      error(`nesting too deep: more than ${MAX_NESTING} levels of blocks or parentheses`, pos);
  };

  type End = { kind: 'end' | 'else'; tok: Token; elseIf?: Token };

  function itemList(): [ListNode, End] {
    const list: ListNode = { type: 'list', pos: peekNonSpace().pos, nodes: [] };
    while (peekNonSpace().type !== 'eof') {
      const n = textOrAction();
      if ('kind' in n) return [list, n];
      list.nodes.push(n);
    }
    const unclosed = open[open.length - 1];
    if (unclosed) error(`unexpected EOF: {{${unclosed.val}}} has no {{end}}`, unclosed.pos);
    return error('unexpected EOF', peek().pos);
  }

  function textOrAction(): Node | End {
    const tok = nextNonSpace();
    if (tok.type === 'text') return { type: 'text', pos: tok.pos, text: tok.val };
    if (tok.type === 'leftDelim') return action();
    return unexpected(tok, 'input');
  }

  function action(): Node | End {
    const tok = nextNonSpace();
    if (tok.type === 'keyword') {
      switch (tok.val) {
        case 'block':
          return blockControl(tok);
        case 'break':
        case 'continue': {
          if (rangeDepth === 0) error(`{{${tok.val}}} outside {{range}}`, tok.pos);
          const t = nextNonSpace();
          if (t.type !== 'rightDelim') unexpected(t, `{{${tok.val}}}`);
          return { type: tok.val, pos: tok.pos };
        }
        case 'else': {
          const p = peekNonSpace();
          if (p.type === 'keyword' && (p.val === 'if' || p.val === 'with')) {
            nextNonSpace();
            return { kind: 'else', tok, elseIf: p };
          }
          expect('rightDelim', 'else');
          return { kind: 'else', tok };
        }
        case 'end':
          expect('rightDelim', 'end');
          return { kind: 'end', tok };
        case 'if':
        case 'with':
        case 'range':
          return control(tok);
        case 'template':
          return templateControl(tok);
        case 'define':
          return error(
            '{{define}} is only allowed at the top level of a file, outside other actions',
            tok.pos,
          );
      }
    }
    backup();
    const pipe = pipeline('command', 'rightDelim');
    return { type: 'action', pos: pipe.pos, pipe };
  }

  function control(tok: Token): BranchNode {
    const context = tok.val as BranchNode['type'];
    const savedVars = vars.length;
    deeper(tok.pos);
    open.push(tok);
    const pipe = pipeline(context, 'rightDelim');
    if (context === 'range') rangeDepth++;
    const [list, end] = itemList();
    if (context === 'range') rangeDepth--;
    let elseList: ListNode | undefined;
    if (end.kind === 'else') {
      if (end.elseIf) {
        // "{{else if x}}" is "{{else}}{{if x}}…{{end}}{{end}}" whose inner {{end}} is the outer one.
        if (end.elseIf.val !== context) unexpected(end.elseIf, `{{else}} of {{${context}}}`);
        open.pop();
        elseList = { type: 'list', pos: end.elseIf.pos, nodes: [control(end.elseIf)] };
        open.push(tok);
      } else {
        const [l, e] = itemList();
        if (e.kind !== 'end') error(`expected {{end}}; found {{else}}`, e.tok.pos);
        elseList = l;
      }
    }
    open.pop();
    nesting--;
    vars = vars.slice(0, savedVars);
    return { type: context, pos: tok.pos, pipe, list, elseList };
  }

  function templateName(context: string): string {
    const t = nextNonSpace();
    if (t.type !== 'string' && t.type !== 'rawString') unexpected(t, context);
    return unquote(t.val);
  }

  function templateControl(tok: Token): TemplateNode {
    const name = templateName('template clause');
    let pipe: PipeNode | undefined;
    if (nextNonSpace().type !== 'rightDelim') {
      backup();
      pipe = pipeline('template clause', 'rightDelim');
    }
    return { type: 'template', pos: tok.pos, end: tokens[i - 1]!.pos + 2, name, pipe };
  }

  function blockControl(tok: Token): TemplateNode {
    const name = templateName('block clause');
    const pipe = pipeline('block clause', 'rightDelim');
    const end = tokens[i - 1]!.pos + 2;
    defined.push(subTree(name, tok, 'block', 'block clause'));
    return { type: 'template', pos: tok.pos, end, name, pipe };
  }

  /** The body of a define or block: its own variables, not inside any range. */
  function subTree(name: string, tok: Token, kind: 'define' | 'block', context: string): Tree {
    const saved = { vars, rangeDepth, open: open.length };
    vars = ['$'];
    rangeDepth = 0;
    deeper(tok.pos);
    open.push({ ...tok, val: kind === 'define' ? `define "${name}"` : `block "${name}"` });
    const [root, end] = itemList();
    if (end.kind !== 'end') unexpected(end.tok, context);
    open.length = saved.open;
    nesting--;
    vars = saved.vars;
    rangeDepth = saved.rangeDepth;
    return { name, root, source, pos: tok.pos, kind };
  }

  function pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const first = peekNonSpace();
    const pipe: PipeNode = {
      type: 'pipe',
      pos: first.pos,
      end: first.pos,
      isAssign: false,
      decl: [],
      cmds: [],
    };
    const declPos: number[] = [];
    for (;;) {
      const v = peekNonSpace();
      if (v.type !== 'variable') break;
      const at = i;
      nextNonSpace();
      const following = nextNonSpace();
      if (following.type === 'declare' || following.type === 'assign') {
        pipe.isAssign = following.type === 'assign';
        pipe.decl.push(v.val);
        declPos.push(v.pos);
        break;
      }
      if (following.type === 'char' && following.val === ',') {
        pipe.decl.push(v.val);
        declPos.push(v.pos);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = peekNonSpace();
          if (p.type === 'variable') continue;
          error('range can only initialize variables', p.pos);
        }
        error(`too many declarations in ${context}`, following.pos);
      }
      i = at;
      break;
    }
    pipe.decl.forEach((name, n) => {
      if (!pipe.isAssign) vars.push(name);
      else if (!vars.includes(name)) error(`undefined variable ${JSON.stringify(name)}`, declPos[n]!);
    });
    for (;;) {
      const tok = nextNonSpace();
      if (tok.type === end) {
        pipe.end = tok.pos;
        if (pipe.cmds.length === 0) error(`missing value for ${context}`, tok.pos);
        pipe.cmds.forEach((c, n) => {
          const t = c.args[0]!.type;
          if (n > 0 && (t === 'bool' || t === 'dot' || t === 'nil' || t === 'number' || t === 'string'))
            error(`non executable command in pipeline stage ${n + 1}`, c.pos);
        });
        return pipe;
      }
      switch (tok.type) {
        case 'bool':
        case 'charConstant':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          backup();
          pipe.cmds.push(command());
          break;
        default:
          unexpected(tok, context);
      }
    }
  }

  function command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: peekNonSpace().pos, args: [] };
    for (;;) {
      peekNonSpace();
      const op = operand();
      if (op) cmd.args.push(op);
      const tok = next();
      if (tok.type === 'space') continue;
      if (tok.type === 'rightDelim' || tok.type === 'rightParen') backup();
      else if (tok.type !== 'pipe') unexpected(tok, 'operand');
      else if (['rightDelim', 'rightParen'].includes(peekNonSpace().type))
        error('missing command after |', peekNonSpace().pos);
      break;
    }
    if (cmd.args.length === 0) error('empty command', cmd.pos);
    return cmd;
  }

  function operand(): ArgNode | undefined {
    const node = term();
    if (!node || peek().type !== 'field') return node;
    const fields: string[] = [];
    let end = node.pos;
    while (peek().type === 'field') {
      const f = next();
      fields.push(f.val.slice(1));
      end = f.pos + f.val.length;
    }
    switch (node.type) {
      case 'field':
      case 'variable':
        return { ...node, ident: [...node.ident, ...fields], end };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        return error(
          `unexpected . after term ${JSON.stringify(source.text.slice(node.pos, node.end))}`,
          node.pos,
        );
      default:
        return { type: 'chain', pos: node.pos, end, node, fields };
    }
  }

  function term(): ArgNode | undefined {
    const tok = nextNonSpace();
    const end = tok.pos + tok.val.length;
    switch (tok.type) {
      case 'identifier':
        if (!hasFunction(tok.val)) error(`function ${JSON.stringify(tok.val)} not defined`, tok.pos);
        return { type: 'identifier', pos: tok.pos, end, name: tok.val };
      case 'dot':
        return { type: 'dot', pos: tok.pos, end, value: undefined };
      case 'nil':
        return { type: 'nil', pos: tok.pos, end, value: undefined };
      case 'variable':
        if (!vars.includes(tok.val)) error(`undefined variable ${JSON.stringify(tok.val)}`, tok.pos);
        return { type: 'variable', pos: tok.pos, end, ident: [tok.val] };
      case 'field':
        return { type: 'field', pos: tok.pos, end, ident: [tok.val.slice(1)] };
      case 'bool':
        return { type: 'bool', pos: tok.pos, end, value: tok.val === 'true' };
      case 'charConstant':
      case 'number':
        return parseNumber(tok);
      case 'leftParen': {
        deeper(tok.pos);
        const pipe = pipeline('parenthesized pipeline', 'rightParen');
        nesting--;
        return { ...pipe, pos: tok.pos, end: pipe.end + 1 };
      }
      case 'string':
      case 'rawString': {
        let value: string;
        try {
          value = unquote(tok.val);
        } catch {
          return error(`invalid string literal ${tok.val}`, tok.pos);
        }
        return { type: 'string', pos: tok.pos, end, value };
      }
    }
    backup();
    return undefined;
  }

  // The file's own text; {{define}}s at top level become separate templates.
  const root: ListNode = { type: 'list', pos: 0, nodes: [] };
  while (peek().type !== 'eof') {
    if (peek().type === 'leftDelim') {
      const at = i;
      next();
      const kw = nextNonSpace();
      if (kw.type === 'keyword' && kw.val === 'define') {
        const name = templateName('define clause');
        expect('rightDelim', 'define clause');
        defined.push(subTree(name, kw, 'define', 'define clause'));
        continue;
      }
      i = at;
    }
    const n = textOrAction();
    if ('kind' in n) error(`unexpected {{${n.kind}}}`, n.tok.pos);
    else root.nodes.push(n);
  }
  return { tree: { name: source.file, root, source, pos: 0, kind: 'file' }, defined };
}

/** Go's parse.IsEmptyTree: only whitespace text (a file holding only {{define}}s, say). */
export function isEmptyTree(list: ListNode): boolean {
  return list.nodes.every((n) => n.type === 'text' && n.text.trim() === '');
}
