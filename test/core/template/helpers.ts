import { type RenderOptions, renderString, TemplateError } from '../../../src/core/template/index.js';

/** Renders one template text; the output, or "error CODE: message" for a TemplateError. */
export function render(text: string, data: unknown = {}, options: RenderOptions = {}): string {
  try {
    return renderString(text, data, { name: 't', ...options }).output;
  } catch (e) {
    if (e instanceof TemplateError) return `error ${e.code}: ${e.message}`;
    throw e;
  }
}
