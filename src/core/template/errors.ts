/**
 * Template errors. Every failure names the asset (template file) and the position in it, and
 * carries a stable code: TEMPLATE_PARSE (the text is not a valid template), TEMPLATE_EXEC (the
 * template is valid but failed on this data), TEMPLATE_LIMIT (a safety bound was hit).
 */
import { OptimusError } from '../errors.js';

export type TemplateErrorCode = 'TEMPLATE_PARSE' | 'TEMPLATE_EXEC' | 'TEMPLATE_LIMIT' | 'TEMPLATE_OPTION';

const HINTS: Record<TemplateErrorCode, string> = {
  TEMPLATE_PARSE: 'fix the template syntax at the position shown (Go text/template syntax)',
  TEMPLATE_EXEC: 'check the value or function used at the position shown, and the job context it reads',
  TEMPLATE_LIMIT: 'templates are bounded in recursion, nesting, work and output size; simplify the template',
  TEMPLATE_OPTION: 'pass a valid render option',
};

export interface TemplatePosition {
  /** The asset (file) name, or the name given to a single config value. */
  template: string;
  line: number;
  /** 1-based, counted in characters. */
  column: number;
}

export class TemplateError extends OptimusError {
  readonly template: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(code: TemplateErrorCode, detail: string, at?: TemplatePosition) {
    const where = at ? `${at.template}:${at.line}:${at.column}: ` : '';
    super(code, `template ${where}${detail}`, { category: 'invalid', hint: HINTS[code] });
    this.name = 'TemplateError';
    this.template = at?.template;
    this.line = at?.line;
    this.column = at?.column;
  }
}

/** Line and column (1-based) of a character offset, with a line index built once per text. */
export function createLocator(text: string): (offset: number) => { line: number; column: number } {
  let starts: number[] | undefined;
  return (offset) => {
    if (!starts) {
      starts = [0];
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    }
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  };
}
