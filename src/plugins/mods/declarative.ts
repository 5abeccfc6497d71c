/**
 * Inference for plugins without a binary (v2/v3 `destination_urn_template` and `asset_parsers`), as
 * goto Optimus does it: the destination is the template with each `<KEY>` read from the job's
 * rendered task config; the sources are the tables the SQL of the rendered assets reads, found by
 * the parsers:
 *
 *   filepath  the asset with that base name (`./query.sql` = `query.sql`)
 *   selector  a YAML path (JSONPath) into a .yaml/.yml asset (the `filepath` one when given); a
 *             selected value without spaces that names an asset stands for that asset's content
 *   env       a config value; when it is a path under `/data/in/`, the assets under that prefix
 *
 * SQL goes to the SDK's `extractSources`, the same extraction the SDK's resolver plugins use.
 * A job for which nothing can be inferred is not an error: what could not be read is a warning.
 */
import { basename, posix } from 'node:path';
import { JSONPath } from 'jsonpath-plus';
import { parse as parseYaml } from 'yaml';
import { OptimusError } from '../../core/errors.js';
import type { AssetParser, Plugin } from '../../core/plugin.js';
import { renderString, TemplateError } from '../../core/template/index.js';

export interface DeclarativeInput {
  plugin: Pick<Plugin, 'name' | 'destinationUrnTemplate' | 'assetParsers'>;
  /** The job's task config, rendered. */
  config: Record<string, string>;
  /** The job's assets, rendered. */
  assets: Record<string, string>;
}

export interface DeclarativeResult {
  destination: string | null;
  sources: string[];
  warnings: string[];
}

/** A declarative inference failure, with the job field it is about (`task.config.TABLE`, `task`). */
export class DeclarativeError extends OptimusError {
  readonly field: string;
  constructor(code: string, message: string, field: string, hint: string) {
    super(code, message, { hint });
    this.name = 'DeclarativeError';
    this.field = field;
  }
}

/** Whether a plugin infers anything without a binary. */
export function isDeclarative(plugin: Pick<Plugin, 'destinationUrnTemplate' | 'assetParsers'>): boolean {
  return Boolean(plugin.destinationUrnTemplate) || Object.keys(plugin.assetParsers ?? {}).length > 0;
}

const DATA_IN = '/data/in/';
const KEY = /<([A-Za-z_][A-Za-z0-9_]*)>/g;

/** The destination a `destination_urn_template` gives for a rendered config (null without a template). */
export function renderDestination(
  plugin: Pick<Plugin, 'name' | 'destinationUrnTemplate'>,
  config: Record<string, string>,
): string | null {
  const template = plugin.destinationUrnTemplate;
  if (!template) return null;
  const where = `destination_urn_template ${JSON.stringify(template)} of plugin ${plugin.name}`;
  const rest = template.replace(KEY, '');
  if (/[<>]/.test(rest))
    throw new DeclarativeError(
      'DESTINATION_TEMPLATE_INVALID',
      `the ${where} is malformed: every <KEY> must be a config name closed by ">"`,
      'task',
      'fix the plugin spec (e.g. bigquery://<PROJECT>:<DATASET>.<TABLE>) and reinstall it',
    );
  for (const [, key] of template.matchAll(KEY))
    if (!config[key!]?.trim())
      throw new DeclarativeError(
        'DESTINATION_CONFIG_MISSING',
        `the ${where} reads config ${key}, which the job does not set`,
        `task.config.${key}`,
        `set ${key} under task.config of the job`,
      );
  try {
    return renderString(template.replace(KEY, '{{ .$1 }}'), config, { name: where }).output;
  } catch (e) {
    if (e instanceof TemplateError)
      throw new DeclarativeError(
        'DESTINATION_TEMPLATE_INVALID',
        `the ${where} cannot be rendered: ${e.message}`,
        'task',
        'fix the plugin spec and reinstall it',
      );
    throw e;
  }
}

export async function inferDeclarative(input: DeclarativeInput): Promise<DeclarativeResult> {
  const destination = renderDestination(input.plugin, input.config);
  const warnings: string[] = [];
  const texts: { where: string; sql: string }[] = [];
  for (const [dialect, parsers] of Object.entries(input.plugin.assetParsers ?? {})) {
    if (dialect !== 'bq') {
      warnings.push(
        `asset_parsers.${dialect}: only the bq (BigQuery) dialect is understood; its sources are not inferred`,
      );
      continue;
    }
    for (const [i, p] of parsers.entries())
      texts.push(...sqlOf(p, `asset_parsers.bq[${i}]`, input, warnings));
  }
  const sources = new Set<string>();
  if (texts.length) {
    // node-sql-parser is large: loaded only when a job has SQL to read.
    const { extractSources } = await import('@optimus-ts/plugin-sdk/sql');
    for (const { where, sql } of texts) {
      const r = extractSources(sql, { dialect: 'bigquery', ...(destination ? { destination } : {}) });
      for (const s of r.sources) sources.add(s);
      for (const w of r.warnings) warnings.push(`${where}: ${w}`);
    }
  }
  if (destination) sources.delete(destination);
  return { destination, sources: [...sources].sort(), warnings };
}

/** The SQL texts one parser entry selects, each with where it came from. */
function sqlOf(
  p: AssetParser,
  where: string,
  input: DeclarativeInput,
  warnings: string[],
): { where: string; sql: string }[] {
  const { assets, config } = input;
  const names = Object.keys(assets).sort();
  const byBase = (path: string) => {
    const base = basename(posix.normalize(path));
    return names.filter((n) => n === posix.normalize(path) || basename(n) === base);
  };
  if (p.env !== undefined) {
    const value = config[p.env];
    if (value === undefined) {
      warnings.push(`${where}.env: the job has no config ${p.env}`);
      return [];
    }
    if (!value.startsWith(DATA_IN)) return [{ where: `task.config.${p.env}`, sql: value }];
    const prefix = value.slice(DATA_IN.length);
    const under = names.filter((n) => n.startsWith(prefix));
    if (!under.length) warnings.push(`${where}.env: config ${p.env} names ${value}, and no asset is there`);
    return under.map((n) => ({ where: `assets.${n}`, sql: assets[n]! }));
  }
  let files = p.filepath !== undefined ? byBase(p.filepath) : [];
  if (p.filepath !== undefined && !files.length) {
    warnings.push(`${where}.filepath: the job has no asset ${basename(p.filepath)}`);
    return [];
  }
  if (p.selector === undefined) return files.map((n) => ({ where: `assets.${n}`, sql: assets[n]! }));
  if (p.filepath === undefined) files = names.filter((n) => /\.ya?ml$/i.test(n));
  const out: { where: string; sql: string }[] = [];
  for (const file of files) {
    let doc: unknown;
    try {
      doc = parseYaml(assets[file]!);
    } catch (e) {
      warnings.push(`${where}.selector: assets.${file} is not YAML (${(e as Error).message.split('\n')[0]})`);
      continue;
    }
    let selected: unknown[];
    try {
      selected = JSONPath({ path: p.selector, json: doc as object, wrap: true, eval: false }) as unknown[];
    } catch (e) {
      warnings.push(
        `${where}.selector: ${JSON.stringify(p.selector)} is not a YAML path: ${(e as Error).message}`,
      );
      return out;
    }
    for (const value of selected.flatMap(leaves)) {
      const named = !/\s/.test(value) ? byBase(value).filter((n) => n !== file) : [];
      if (named.length) for (const n of named) out.push({ where: `assets.${n}`, sql: assets[n]! });
      else out.push({ where: `assets.${file} ${p.selector}`, sql: value });
    }
  }
  return out;
}

/** Every string in a selected YAML value (a list of queries counts as each of them). */
function leaves(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(leaves);
  if (v && typeof v === 'object') return Object.values(v).flatMap(leaves);
  return [];
}
