/**
 * YAML text → plain JS values, keeping enough of the document to point every problem at a line and
 * column. Positions are computed only when a problem is reported, so valid files stay cheap.
 */

import { readFileSync } from 'node:fs';
import jsYaml from 'js-yaml';
import {
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type YAMLError,
} from 'yaml';
import { ioMessage } from '../core/io-message.js';
import { formatPath, type PathSegment, type Problem, type Severity } from '../core/problem.js';

export interface YamlSource {
  file: string;
  value: unknown;
  /** Problems from parsing itself (syntax errors, duplicate keys). */
  problems: Problem[];
  /** Position of the node at `path` (or of its key with `key: true`), else of its nearest ancestor. */
  locate(
    path: readonly PathSegment[],
    opts?: { key?: boolean },
  ): { line: number; column: number } | undefined;
  /** Whether `path` exists in this document. */
  has(path: readonly PathSegment[]): boolean;
}

/**
 * Parse with js-yaml (core schema, several times faster) and build the position-keeping document
 * only when something must be located; fall back to the precise parser for any syntax error, so
 * error messages and positions always come from it.
 */
export function parseYaml(text: string, file: string): YamlSource {
  let value: unknown;
  try {
    value = jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA, filename: file });
  } catch {
    return parseYamlPrecise(text, file);
  }
  let precise: YamlSource | undefined;
  const get = () => {
    precise ??= parseYamlPrecise(text, file);
    return precise;
  };
  return {
    file,
    value,
    problems: [],
    locate: (path, opts) => get().locate(path, opts),
    has: (path) => get().has(path),
  };
}

export function parseYamlPrecise(text: string, file: string): YamlSource {
  let lineCounter = new LineCounter();
  let doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const problems: Problem[] = [];
  // Go's YAML parser (upstream Optimus) accepts a quoted string whose continuation lines are not
  // indented past their key; real plugin files rely on that. Retry once with those lines indented.
  const unclosed = doc.errors.find((e) => e.code === 'MISSING_CHAR' && /closing "?quote/i.test(e.message));
  if (unclosed) {
    const repaired = indentQuotedContinuation(text, lineCounter.linePos(unclosed.pos[0]).line);
    if (repaired) {
      const lc = new LineCounter();
      const retry = parseDocument(repaired.text, {
        lineCounter: lc,
        uniqueKeys: true,
        prettyErrors: false,
        strict: true,
      });
      if (retry.errors.length === 0) {
        doc = retry;
        lineCounter = lc;
        problems.push({
          severity: 'warning',
          code: 'YAML_LENIENT',
          message: `quoted string continues on line ${repaired.firstLine} without being indented past its key`,
          file,
          line: repaired.firstLine,
          column: 1,
          hint: 'indent continuation lines of a multi-line quoted string, or use a block scalar (|)',
        });
      }
    }
  }
  const push = (severity: Severity, e: YAMLError) => {
    const pos = lineCounter.linePos(e.pos[0]);
    problems.push({
      severity,
      code: severity === 'error' ? 'YAML_SYNTAX' : 'YAML_WARNING',
      message: firstLine(e.message),
      file,
      line: pos.line,
      column: pos.col,
    });
  };
  // After the first syntax error the parser is guessing, and what follows is mostly noise caused by
  // it: report the first one only, saying how many more there were.
  const [firstError] = doc.errors;
  if (firstError) {
    push('error', firstError);
    const more = doc.errors.length - 1;
    if (more > 0)
      problems[problems.length - 1]!.hint =
        `fix this first: the parser reported ${more} more error${more === 1 ? '' : 's'} that may follow from it`;
  }
  for (const w of doc.warnings) push('warning', w);
  let value: unknown;
  if (doc.errors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      problems.push({
        severity: 'error',
        code: 'YAML_SYNTAX',
        message: (e as Error).message,
        file,
        line: 1,
        column: 1,
      });
    }
  }

  const nodeAt = (
    path: readonly PathSegment[],
  ): { node: Node | undefined; keyNode: Node | undefined; depth: number } => {
    let node: unknown = doc.contents;
    let keyNode: Node | undefined;
    let depth = 0;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((it) => isPair(it) && keyMatches(it.key, seg));
        if (!pair) break;
        keyNode = isNode(pair.key) ? pair.key : undefined;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) break;
        keyNode = undefined;
        node = item;
      } else break;
      depth++;
    }
    return { node: isNode(node) ? node : undefined, keyNode, depth };
  };

  return {
    file,
    value,
    problems,
    locate(path, opts) {
      const { node, keyNode, depth } = nodeAt(path);
      const target = opts?.key && depth === path.length && keyNode ? keyNode : (node ?? keyNode);
      const offset = target?.range?.[0];
      if (offset === undefined) return undefined;
      const pos = lineCounter.linePos(offset);
      return { line: pos.line, column: pos.col };
    },
    has(path) {
      return nodeAt(path).depth === path.length;
    },
  };
}

/** Indent the lines after `line` (1-based) up to the one that closes the quote. */
function indentQuotedContinuation(
  text: string,
  line: number,
): { text: string; firstLine: number } | undefined {
  const lines = text.split('\n');
  const start = lines[line - 1];
  if (start === undefined) return undefined;
  const quote = start.includes('"') ? '"' : "'";
  const indent = /^\s*/.exec(start)![0].length + 2;
  for (let i = line; i < lines.length && i < line + 50; i++) {
    const l = lines[i]!;
    lines[i] = ' '.repeat(indent) + l.trimStart();
    const closes = quote === '"' ? /(^|[^\\])"/.test(l) : l.includes("'");
    if (closes) return { text: lines.join('\n'), firstLine: line + 1 };
  }
  return undefined;
}

function keyMatches(key: unknown, seg: PathSegment): boolean {
  if (isScalar(key)) return String(key.value) === String(seg);
  return String(key) === String(seg);
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

/** Build a problem located in `src` at `path`. */
export function problemAt(
  src: Pick<YamlSource, 'file' | 'locate'>,
  path: readonly PathSegment[],
  severity: Severity,
  code: string,
  message: string,
  opts: { key?: boolean; hint?: string } = {},
): Problem {
  const pos = src.locate(path, { key: opts.key ?? false });
  const p: Problem = { severity, code, message, file: src.file };
  if (pos) {
    p.line = pos.line;
    p.column = pos.column;
  }
  if (path.length) p.path = formatPath(path);
  if (opts.hint) p.hint = opts.hint;
  return p;
}

/**
 * Read and parse a YAML file; when it cannot be read, one problem says why, with `code`, a message
 * starting with `what` and the `hint`.
 */
export function readYamlFile(
  file: string,
  onMissing: { code: string; what: string; hint?: string },
): { src?: YamlSource; problems: Problem[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const p: Problem = {
      severity: 'error',
      code: onMissing.code,
      message: `${onMissing.what}: ${ioMessage(e)}`,
      file,
    };
    if (onMissing.hint) p.hint = onMissing.hint;
    return { problems: [p] };
  }
  const src = parseYaml(text, file);
  return { src, problems: [...src.problems] };
}

export { ioMessage };
