/** Human and JSON output. Human output is short; `--json` prints one document on stdout. */
import { relative, resolve } from 'node:path';
import { formatLocation, type Problem } from '../core/problem.js';
import { type Colors, out } from './colors.js';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One problem as a line (and its hint); pass `err` from colors.ts when it goes to stderr. */
export function formatProblem(p: Problem, cwd = process.cwd(), pc: Colors = out): string {
  const loc = formatLocation({ ...p, file: p.file ? relativeTo(p.file, cwd) : undefined } as Problem);
  const sev = p.severity === 'error' ? pc.red('error') : pc.yellow('warning');
  const where = [loc, p.path].filter(Boolean).join(' ');
  let line = `${where ? `${pc.bold(where)} ` : ''}${sev} ${p.message} ${pc.dim(`[${p.code}]`)}`;
  if (p.hint) line += `\n    ${pc.dim(`hint: ${p.hint}`)}`;
  return line;
}

export function relativeTo(file: string, cwd: string): string {
  if (file.startsWith(`${cwd}/`)) return file.slice(cwd.length + 1);
  return file;
}

/** Problems as JSON: paths relative to the working directory, no undefined fields. */
export function problemJson(p: Problem, cwd = process.cwd()): Record<string, unknown> {
  const out: Record<string, unknown> = { severity: p.severity, code: p.code, message: p.message };
  if (p.file) out.file = relativeTo(p.file, cwd);
  if (p.line !== undefined) out.line = p.line;
  if (p.column !== undefined) out.column = p.column;
  if (p.path) out.path = p.path;
  if (p.hint) out.hint = p.hint;
  return out;
}

/** `1 file`, `2 files`; `many` for a word whose plural is not word + s. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/**
 * The flags a `next:` hint must repeat so that, pasted as printed, it acts on the same project and
 * server: `--dir` unless the project is the working directory, `--host` when one was given.
 */
export function nextFlags(opts: Record<string, unknown>, root?: string): string {
  const dir = relative(process.cwd(), resolve(root ?? String(opts.dir ?? '.')));
  const flags: string[] = [];
  if (dir) flags.push(`--dir ${shellWord(dir)}`);
  if (typeof opts.host === 'string') flags.push(`--host ${shellWord(opts.host)}`);
  return flags.length ? ` ${flags.join(' ')}` : '';
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}
