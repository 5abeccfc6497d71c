/**
 * Which tables a BigQuery SQL script reads, as URNs (`bigquery://project:dataset.table`): the
 * sources a dependency-resolver plugin reports, from which the server infers upstream jobs.
 *
 * node-sql-parser does the parsing, but it is not used bare (facts checked against 5.4.0):
 * `tableList` gives `` `p.d.t` `` as one name, lists CTE names and array paths (`t.items`) as if
 * they were tables, reports `DELETE FROM x` as a table named `FROM`, and cannot read MERGE,
 * DECLARE or scripting blocks at all. So a script is split into statements here (quotes, backticks
 * and comments respected), scripting wrappers are peeled off, MERGE and DECLARE are read by hand,
 * and each remaining statement is parsed on its own: one statement the parser cannot read becomes a
 * warning and the others still count.
 */
import sqlParser from 'node-sql-parser/build/bigquery.js';

export interface ExtractOptions {
  /** Only BigQuery Standard SQL is understood today. */
  dialect?: 'bigquery';
  /** The job's own table (a URN, `p:d.t` or `p.d.t`): never one of its sources. */
  destination?: string;
  /** The project of a `dataset.table` name; without it such a name is a warning, not a source. */
  defaultProject?: string;
}

export interface ExtractResult {
  /** URNs of the tables read, sorted and unique. */
  sources: string[];
  /** What could not be inferred, each naming where, so the author can list it by hand. */
  warnings: string[];
}

const { Parser } = sqlParser;
const parser = new Parser();
const PARSE_OPTIONS = { database: 'BigQuery' };

/** A table that `/* @ignoreupstream *\/` marks is renamed to this before parsing, then dropped. */
const IGNORED = '__optimus_ignoreupstream__';

/** One statement of a script: its code with comments blanked out, and where it starts. */
interface Statement {
  code: string;
  line: number;
  firstLine: string;
}

export function extractSources(sqlText: string, options: ExtractOptions = {}): ExtractResult {
  if (options.dialect !== undefined && options.dialect !== 'bigquery') {
    throw new Error(`SQL dialect "${String(options.dialect)}" is not supported; use "bigquery"`);
  }
  const sources = new Set<string>();
  const warnings: string[] = [];
  const warn = (message: string): void => {
    if (!warnings.includes(message)) warnings.push(message);
  };
  // Tables the script itself creates (temp tables) are read later by bare name: not sources.
  const created = new Set<string>();
  const destination =
    options.destination === undefined ? undefined : normaliseDestination(options.destination);

  const statements = splitStatements(sqlText);
  statements.forEach((statement, index) => {
    const where = `statement ${index + 1} (line ${statement.line})`;
    const unreadable = (): void =>
      warn(
        `${where} could not be parsed: ${statement.firstLine}; tables it reads are not inferred, list them under the job's dependencies`,
      );
    const names: TableName[] = [];
    const ok = readStatement(statement.code, names);
    if (!ok) unreadable();
    for (const name of names) {
      if (name.kind === 'target') {
        if (name.parts.length === 1 && name.parts[0] !== undefined) created.add(name.parts[0].toLowerCase());
        continue;
      }
      const urn = toUrn(name, options.defaultProject, created, where, warn);
      if (urn !== undefined && urn !== destination) sources.add(urn);
    }
  });
  return { sources: [...sources].sort(), warnings };
}

interface TableName {
  kind: 'source' | 'target';
  parts: string[];
  /** CTE names and FROM aliases in scope of the statement that named this table. */
  local: Set<string>;
}

/** Reads one statement's tables into `names`; false when (part of) it could not be read. */
function readStatement(code: string, names: TableName[]): boolean {
  let rest = code.trim();
  let ok = true;
  // Scripting wrappers: what is inside them is an ordinary statement; their conditions may read.
  for (;;) {
    const before = rest;
    rest = rest
      .replace(/^BEGIN\b(?!\s+TRANSACTION\b)\s*/i, '')
      .replace(/^END\s+(IF|LOOP|WHILE|REPEAT|FOR)\b\s*/i, '')
      .replace(/^END\b\s*/i, '')
      .replace(/^(ELSE|LOOP|REPEAT)\b\s*/i, '')
      .replace(/^EXCEPTION\s+WHEN\s+ERROR\s+THEN\b\s*/i, '');
    const condition = /^(?:IF|ELSEIF|WHILE|UNTIL)\b([\s\S]*?)\b(?:THEN|DO|END\s+REPEAT)\b\s*/i.exec(rest);
    if (condition) {
      ok = parseInto(`SELECT ${condition[1] ?? ''}`, names) && ok;
      rest = rest.slice(condition[0].length);
    }
    if (rest === before) break;
  }
  if (rest === '') return ok;
  if (/^(COMMIT|ROLLBACK|BREAK|LEAVE|CONTINUE|ITERATE|RETURN)\b(\s+TRANSACTION)?\s*$/i.test(rest)) return ok;
  if (/^BEGIN\s+TRANSACTION\s*$/i.test(rest)) return ok;
  const declare = /^DECLARE\b[\s\S]*?\bDEFAULT\b([\s\S]*)$/i.exec(rest);
  if (declare) return parseInto(`SELECT ${declare[1] ?? ''}`, names) && ok;
  if (/^DECLARE\b/i.test(rest)) return ok;
  const assert = /^ASSERT\b([\s\S]*?)(?:\bAS\s+(?:'[^']*'|"[^"]*"))?\s*$/i.exec(rest);
  if (assert) return parseInto(`SELECT ${assert[1] ?? ''}`, names) && ok;
  if (/^MERGE\b/i.test(rest)) return readMerge(rest, names) && ok;
  if (
    /^CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+|TEMPORARY\s+)?(?:AGGREGATE\s+|TABLE\s+)?FUNCTION\b/i.test(rest)
  ) {
    // A SQL UDF reads tables only through subqueries in its body; a JavaScript one reads none.
    return readSubqueries(rest, 0, names) && ok;
  }
  if (parseInto(rest, names)) return ok;
  // node-sql-parser 5.4 reads QUALIFY only after a WHERE: the same query with a WHERE TRUE reads
  // the same tables.
  if (/\bQUALIFY\b/i.test(rest)) {
    const withWhere = rest.replace(/\bQUALIFY\b/gi, 'WHERE TRUE QUALIFY');
    const asHaving = rest.replace(/\bQUALIFY\b/gi, 'HAVING');
    if (parseInto(withWhere, names) || parseInto(asHaving, names)) return ok;
  }
  return false;
}

/** Parses every parenthesised subquery (`(SELECT …)`, `(WITH …)`) from `from` on. */
function readSubqueries(code: string, from: number, names: TableName[]): boolean {
  let ok = true;
  for (let i = from; i < code.length; i++) {
    const c = code[i];
    if (c === "'" || c === '"' || c === '`') {
      i = endOfQuoted(code, i) - 1;
      continue;
    }
    if (c !== '(') continue;
    const close = matchingParen(code, i);
    if (close < 0) return false;
    const inner = code.slice(i + 1, close);
    if (/^\s*(SELECT|WITH)\b/i.test(inner)) {
      ok = parseInto(inner, names) && ok;
      i = close;
    }
  }
  return ok;
}

/**
 * MERGE [INTO] target [[AS] alias] USING source ON … : the parser cannot read it, so the target is
 * taken by hand and the source (a table, or a subquery parsed as one) and any subquery in the
 * conditions and clauses are parsed on their own.
 */
function readMerge(code: string, names: TableName[]): boolean {
  const head = /^MERGE\s+(?:INTO\s+)?/i.exec(code);
  if (!head) return false;
  let at = head[0].length;
  const target = readIdentifierPath(code, at);
  if (!target) return false;
  names.push({ kind: 'target', parts: target.parts, local: new Set() });
  at = target.end;
  const using = /\bUSING\b\s*/i.exec(code.slice(at));
  if (!using) return false;
  at += using.index + using[0].length;
  let ok = true;
  if (code[at] === '(') {
    const close = matchingParen(code, at);
    if (close < 0) return false;
    ok = parseInto(code.slice(at + 1, close), names) && ok;
    at = close + 1;
  } else {
    const source = readIdentifierPath(code, at);
    if (!source) return false;
    names.push({ kind: 'source', parts: source.parts, local: new Set() });
    at = source.end;
  }
  // Subqueries in ON / WHEN … AND … / INSERT … VALUES read tables too.
  return readSubqueries(code, at, names) && ok;
}

/** Parses one statement with node-sql-parser and records its tables; false when it cannot. */
function parseInto(code: string, names: TableName[]): boolean {
  let parsed: { tableList: string[]; ast: unknown };
  try {
    parsed = parser.parse(code, PARSE_OPTIONS) as unknown as { tableList: string[]; ast: unknown };
  } catch {
    return false;
  }
  const local = new Set<string>();
  collectLocalNames(parsed.ast, local);
  for (const entry of parsed.tableList) {
    // Each entry is `type::db::table`; db is `null` or a dotted prefix, table may itself be dotted.
    const [type = '', db = 'null', table = ''] = entry.split('::');
    const kind = type.toLowerCase() === 'select' ? 'source' : 'target';
    // DELETE FROM x is reported as a table named FROM (x is the target anyway: never a source).
    if (kind === 'target' && type.toLowerCase() === 'delete') continue;
    const parts = [...(db === 'null' ? [] : splitName(db)), ...splitName(table)];
    names.push({ kind, parts, local });
  }
  return true;
}

/** CTE names and FROM aliases anywhere in an AST: a one- or two-part name starting with one is not a table. */
function collectLocalNames(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectLocalNames(item, into);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  if (Array.isArray(record.with)) {
    for (const cte of record.with as Array<{ name?: { value?: unknown } | string }>) {
      const name = typeof cte.name === 'string' ? cte.name : cte.name?.value;
      if (typeof name === 'string') into.add(name.toLowerCase());
    }
  }
  if (Array.isArray(record.from)) {
    for (const item of record.from as Array<Record<string, unknown>>) {
      if (item && typeof item.as === 'string') into.add(item.as.toLowerCase());
    }
  }
  for (const value of Object.values(record)) collectLocalNames(value, into);
}

function splitName(name: string): string[] {
  // A domain-scoped project (`example.com:proj`) has a dot of its own.
  const scoped = /^([^`]+:[^.]+)\.(.+)$/.exec(name);
  if (scoped?.[1] !== undefined && scoped[2] !== undefined) return [scoped[1], ...splitName(scoped[2])];
  return name
    .split('.')
    .map((part) => part.replace(/^`|`$/g, '').trim())
    .filter((part) => part !== '');
}

function toUrn(
  name: TableName,
  defaultProject: string | undefined,
  created: Set<string>,
  where: string,
  warn: (message: string) => void,
): string | undefined {
  const parts = name.parts.map((part, i) => (i === name.parts.length - 1 ? stripDecorator(part) : part));
  const first = parts[0]?.toLowerCase() ?? '';
  if (parts.length === 0 || first === IGNORED.toLowerCase()) return undefined;
  if (parts.some((part) => part.toUpperCase() === 'INFORMATION_SCHEMA')) return undefined;
  if (parts.length === 1) {
    if (name.local.has(first) || created.has(first)) return undefined;
    warn(
      `${where}: table \`${parts[0]}\` names no dataset; it is not inferred, list it under the job's dependencies`,
    );
    return undefined;
  }
  // `alias.items` is an array inside a table already listed, `cte.x` never a table.
  if (parts.length === 2 && name.local.has(first)) return undefined;
  if (parts.length === 2) {
    if (defaultProject === undefined || defaultProject === '') {
      warn(
        `${where}: table \`${parts.join('.')}\` names no project and no default project is set; it is not inferred, list it under the job's dependencies`,
      );
      return undefined;
    }
    return `bigquery://${defaultProject}:${parts[0]}.${parts[1]}`;
  }
  if (parts.length === 3) return `bigquery://${parts[0]}:${parts[1]}.${parts[2]}`;
  warn(`${where}: \`${parts.join('.')}\` is not a project.dataset.table name; it is not inferred`);
  return undefined;
}

/** `t$20200101` (a partition decorator) reads table `t`. */
function stripDecorator(table: string): string {
  const at = table.indexOf('$');
  return at > 0 ? table.slice(0, at) : table;
}

function normaliseDestination(destination: string): string {
  if (destination.includes('://')) return destination;
  if (destination.includes(':')) return `bigquery://${destination}`;
  const parts = splitName(destination);
  return parts.length === 3 ? `bigquery://${parts[0]}:${parts[1]}.${parts[2]}` : destination;
}

/** A dotted identifier (`` `p.d.t` ``, `` `p`.`d`.`t` ``, `p.d.t`) at `at`, skipping whitespace. */
function readIdentifierPath(code: string, at: number): { parts: string[]; end: number } | undefined {
  const match = /^\s*((?:`[^`]*`|[A-Za-z0-9_\-$*:]+)(?:\s*\.\s*(?:`[^`]*`|[A-Za-z0-9_\-$*:]+))*)/.exec(
    code.slice(at),
  );
  if (!match?.[1]) return undefined;
  const text = match[1];
  if (/^(USING|AS|ON)$/i.test(text)) return undefined;
  const segments = text.match(/`[^`]*`|[A-Za-z0-9_\-$*:]+/g) ?? [];
  const parts = segments.flatMap((segment) =>
    segment.startsWith('`') ? splitName(segment.slice(1, -1)) : [segment],
  );
  return { parts, end: at + match[0].length };
}

/** Index of the `)` closing the `(` at `open`, skipping strings and backticks; -1 when unbalanced. */
function matchingParen(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    const c = code[i];
    if (c === "'" || c === '"' || c === '`') {
      i = endOfQuoted(code, i) - 1;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Index just after the string or quoted identifier starting at `start` (triple quotes included). */
function endOfQuoted(text: string, start: number): number {
  const quote = text[start] ?? '';
  const triple = quote !== '`' && text.startsWith(quote.repeat(3), start);
  const close = triple ? quote.repeat(3) : quote;
  let i = start + close.length;
  while (i < text.length) {
    if (text[i] === '\\') {
      i += 2;
      continue;
    }
    if (text.startsWith(close, i)) return i + close.length;
    i++;
  }
  return text.length;
}

/**
 * Splits a script at top-level `;`, blanking comments (so neither a comment's `from x` nor its `;`
 * counts) and renaming each table marked `/* @ignoreupstream *\/`. Newlines are kept so that line
 * numbers stay true.
 */
function splitStatements(text: string): Statement[] {
  const statements: Statement[] = [];
  let code = '';
  let startLine = 0;
  let line = 1;
  let ignoreNext = false;
  const flush = (): void => {
    if (code.trim() !== '') {
      const firstLine = (code.trimStart().split('\n')[0] ?? '').trim();
      statements.push({
        code,
        line: startLine,
        firstLine: firstLine.length > 80 ? `${firstLine.slice(0, 77)}...` : firstLine,
      });
    }
    code = '';
    startLine = 0;
  };
  const emit = (chunk: string): void => {
    if (startLine === 0 && chunk.trim() !== '')
      startLine = line + (chunk.match(/^\s*/)?.[0].split('\n').length ?? 1) - 1;
    code += chunk;
    line += chunk.split('\n').length - 1;
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if ((c === '-' && text[i + 1] === '-') || c === '#') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
      emit(' ');
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      const comment = text.slice(i, stop);
      if (/^\/\*\s*@ignoreupstream\s*\*\/$/i.test(comment)) ignoreNext = true;
      emit(` ${'\n'.repeat(comment.split('\n').length - 1)}`);
      i = stop;
      continue;
    }
    if (ignoreNext && !/\s/.test(c)) {
      ignoreNext = false;
      const path = readIdentifierPath(text, i);
      if (path && path.parts.length > 0) {
        const original = text.slice(i, path.end);
        emit(`\`${IGNORED}\`${'\n'.repeat(original.split('\n').length - 1)}`);
        i = path.end;
        continue;
      }
    }
    if (c === "'" || c === '"' || c === '`') {
      const end = endOfQuoted(text, i);
      emit(text.slice(i, end));
      i = end;
      continue;
    }
    if (c === ';') {
      flush();
      i++;
      continue;
    }
    emit(c);
    i++;
  }
  flush();
  return statements;
}
