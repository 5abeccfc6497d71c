/**
 * Optimus templates: the subset of Go's text/template that job configs and assets use, with
 * Optimus's functions. Pure: no I/O, no clock unless `date` is misused (see RenderOptions.now).
 *
 *   renderAssets(files, context)   a job's asset files; `.gtpl` files are partials
 *   renderString(text, context)    one config value
 *
 * As upstream: every output is whitespace-trimmed (strings.TrimSpace) and a missing key prints
 * "<no value>" (missingkey=default) with a warning. Unlike upstream, all partials are parsed before
 * any file is rendered, so {{template "x.gtpl" .}} and partials' {{define}}s work from any file
 * whatever the order, and partials are never rendered as outputs.
 */
import type { Source, Tree } from './ast.js';
import { createLocator, TemplateError } from './errors.js';
import { ExecFailure, execute, type Shared } from './exec.js';
import { hasFunction } from './functions.js';
import { GoTime, loadLocation } from './go-time.js';
import { isEmptyTree, ParseError, parseFile } from './parser.js';

export { TemplateError, type TemplateErrorCode, type TemplatePosition } from './errors.js';

export interface RenderOptions {
  /**
   * The IANA zone that stands for Go's time.Local: `date` formats in it and `toDate` parses in it.
   * Default "UTC" (upstream uses the server's local zone).
   */
  location?: string;
  /** What `date` formats when given something that is not a time (upstream: time.Now()). Default: now. */
  now?: Date;
  /** Bound on the bytes one call produces, over all its outputs. Default 16 MiB. */
  maxOutputBytes?: number;
  /** Bound on nested {{template}} calls. Default 1000 (Go: 100000). */
  maxTemplateDepth?: number;
  /** Bound on evaluation steps, against templates that loop or recurse for a very long time. Default 10 million. */
  maxSteps?: number;
}

export interface TemplateWarning {
  /** TEMPLATE_NO_VALUE: "<no value>" was printed. TEMPLATE_FUNCTION: a function fell back to upstream's lenient behaviour. */
  code: 'TEMPLATE_NO_VALUE' | 'TEMPLATE_FUNCTION';
  template: string;
  line: number;
  column: number;
  message: string;
}

export interface RenderedAssets {
  /** Rendered outputs by file name; partials are not among them. */
  files: Record<string, string>;
  warnings: TemplateWarning[];
}

export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_TEMPLATE_DEPTH = 1000;
export const DEFAULT_MAX_STEPS = 10_000_000;

/** Asset files that are partials: parsed for their templates, never rendered as outputs. */
export function isPartial(name: string): boolean {
  return name.endsWith('.gtpl');
}

const GO_SPACE =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** strings.TrimSpace: Unicode white space (which, unlike JS trim, includes U+0085 and not U+FEFF). */
export function goTrimSpace(s: string): string {
  return s.replace(GO_SPACE, '');
}

function position(source: Source, pos: number) {
  return { template: source.file, ...createLocator(source.text)(pos) };
}

function parse(source: Source) {
  try {
    return parseFile(source, hasFunction);
  } catch (e) {
    if (e instanceof ParseError)
      throw new TemplateError('TEMPLATE_PARSE', e.message, position(source, e.pos));
    if (e instanceof RangeError)
      throw new TemplateError('TEMPLATE_LIMIT', 'template too deeply nested to parse', position(source, 0));
    throw e;
  }
}

function createShared(trees: Map<string, Tree>, options: RenderOptions): Shared {
  const locationName = options.location ?? 'UTC';
  const location = loadLocation(locationName);
  if (!location)
    throw new TemplateError('TEMPLATE_OPTION', `unknown time zone ${JSON.stringify(locationName)}`);
  const now = GoTime.fromMillis((options.now ?? new Date()).getTime(), location);
  return {
    trees,
    env: { location, now },
    limits: {
      maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
      maxTemplateDepth: options.maxTemplateDepth ?? DEFAULT_MAX_TEMPLATE_DEPTH,
      maxSteps: options.maxSteps ?? DEFAULT_MAX_STEPS,
    },
    steps: 0,
    outputBytes: 0,
    warnings: [],
  };
}

function run(shared: Shared, tree: Tree, data: unknown): string {
  try {
    return goTrimSpace(execute(shared, tree, data));
  } catch (e) {
    if (e instanceof ExecFailure) {
      const where = e.tree.name === e.tree.source.file ? '' : `executing ${JSON.stringify(e.tree.name)} `;
      const detail = `${where}at <${e.context}>: ${e.message}`;
      throw new TemplateError(
        e.limit ? 'TEMPLATE_LIMIT' : 'TEMPLATE_EXEC',
        detail,
        position(e.tree.source, e.pos),
      );
    }
    // The JS stack ran out before a bound did (deep nesting inside deep recursion).
    if (e instanceof RangeError)
      throw new TemplateError(
        'TEMPLATE_LIMIT',
        'template nesting and recursion too deep to evaluate',
        position(tree.source, 0),
      );
    throw e;
  }
}

function warningsOf(shared: Shared): TemplateWarning[] {
  const seen = new Set<string>();
  const out: TemplateWarning[] = [];
  for (const w of shared.warnings) {
    const key = `${w.tree.source.file}\0${w.pos}\0${w.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ code: w.code, message: w.message, ...position(w.tree.source, w.pos) });
  }
  return out;
}

/**
 * Adds a template to the set. Two non-empty definitions of one name are an error (Go would let
 * the one parsed last win, which with files would depend on their order), except that a {{define}}
 * replaces a {{block}}'s default body, the purpose of blocks.
 */
function addTree(trees: Map<string, Tree>, tree: Tree): void {
  const old = trees.get(tree.name);
  if (
    !old ||
    (isEmptyTree(old.root) && !isEmptyTree(tree.root)) ||
    (old.kind === 'block' && tree.kind === 'define')
  ) {
    trees.set(tree.name, tree);
    return;
  }
  if (isEmptyTree(tree.root) || (tree.kind === 'block' && old.kind === 'define')) return;
  const first = position(old.source, old.pos);
  throw new TemplateError(
    'TEMPLATE_PARSE',
    `template ${JSON.stringify(tree.name)} is defined twice: also at ${first.template}:${first.line}:${first.column}`,
    position(tree.source, tree.pos),
  );
}

/** Renders a job's asset files with one context: partials first into the shared set, then every other file. */
export function renderAssets(
  assets: Readonly<Record<string, string>>,
  context: unknown,
  options: RenderOptions = {},
): RenderedAssets {
  const names = Object.keys(assets).sort();
  const ordered = [...names.filter(isPartial), ...names.filter((n) => !isPartial(n))];
  const trees = new Map<string, Tree>();
  const roots: Tree[] = [];
  for (const file of ordered) {
    const parsed = parse({ file, text: assets[file]! });
    addTree(trees, parsed.tree);
    for (const t of parsed.defined) addTree(trees, t);
    if (!isPartial(file)) roots.push(parsed.tree);
  }
  const shared = createShared(trees, options);
  const files: Record<string, string> = {};
  for (const tree of roots) files[tree.name] = run(shared, tree, context);
  return { files, warnings: warningsOf(shared) };
}

/** Renders one config value. `name` is what errors and warnings call it (e.g. "task.config.TABLE"). */
export function renderString(
  text: string,
  context: unknown,
  options: RenderOptions & { name?: string } = {},
): { output: string; warnings: TemplateWarning[] } {
  const parsed = parse({ file: options.name ?? 'config', text });
  const trees = new Map<string, Tree>();
  addTree(trees, parsed.tree);
  for (const t of parsed.defined) addTree(trees, t);
  const shared = createShared(trees, options);
  return { output: run(shared, parsed.tree, context), warnings: warningsOf(shared) };
}
