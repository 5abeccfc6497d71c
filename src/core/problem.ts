/**
 * A problem found in user input. Loaders never throw for bad input: they return every problem at
 * once, each pointing at a file, a position and a dotted path, so one run shows everything to fix.
 */
export type Severity = 'error' | 'warning';

export interface Problem {
  severity: Severity;
  /** Stable machine code, e.g. SPEC_INVALID, HOOK_CYCLE. */
  code: string;
  message: string;
  file?: string;
  line?: number;
  column?: number;
  /** Dotted path of the offending field, e.g. `hooks[1].depends_on`. */
  path?: string;
  /** What the user can do about it. */
  hint?: string;
}

export type PathSegment = string | number;

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export function errorsOf(problems: readonly Problem[]): Problem[] {
  return problems.filter((p) => p.severity === 'error');
}

export function warningsOf(problems: readonly Problem[]): Problem[] {
  return problems.filter((p) => p.severity === 'warning');
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/** `file:line:col` (as much of it as is known). */
export function formatLocation(p: Problem): string {
  if (!p.file) return '';
  if (p.line === undefined) return p.file;
  return `${p.file}:${p.line}:${p.column ?? 1}`;
}

/** Errors first, then by file and position, so output is stable and easy to scan. */
export function sortProblems(problems: Problem[]): Problem[] {
  return problems.sort(
    (a, b) =>
      (a.file ?? '').localeCompare(b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1),
  );
}
