/**
 * The `plugins` section of optimus.yaml and of the server config: where plugins are installed, the
 * providers they come from and the list to install. The proposal's literal shapes (`- http: {...}`,
 * `- gcs: {...}`, `- plugin: {...}`) load as aliases of the canonical `{type: ...}` / `{name, url}`.
 * Environment variables (`${VAR}`) are kept as written: they are expanded at install time, so a
 * missing variable is reported by the command that needs it.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ioMessage } from '../../core/io-message.js';
import { hasErrors, type PathSegment, type Problem } from '../../core/problem.js';
import { parseYaml, problemAt, type YamlSource } from '../../spec/yaml-source.js';
import { shapeProblems, typeName } from '../../spec/zod-problems.js';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const name = z
  .string()
  .regex(NAME_RE, 'may contain only letters, digits, "_", "-" and "." and must not start with "." or "-"');
const nonEmpty = z.string().min(1);

const httpAuth = z.union([
  z.strictObject({ token: nonEmpty }),
  z.strictObject({ username: nonEmpty, password: z.string() }),
]);

export const httpProviderSchema = z.strictObject({
  name,
  type: z.literal('http'),
  url: nonEmpty,
  headers: z.record(z.string(), z.string()).optional(),
  /** `{token}` sends `Authorization: Bearer`, `{username, password}` basic auth. */
  auth: httpAuth.optional(),
});

export const fileProviderSchema = z.strictObject({ name, type: z.literal('file'), root: nonEmpty });

export const s3ProviderSchema = z.strictObject({
  name,
  type: z.literal('s3'),
  bucket: nonEmpty,
  prefix: z.string().optional(),
  region: z.string().optional(),
  endpoint: z.string().optional(),
  force_path_style: z.boolean().optional(),
  access_key_id: z.string().optional(),
  secret_access_key: z.string().optional(),
  session_token: z.string().optional(),
});

export const gcsProviderSchema = z.strictObject({
  name,
  type: z.literal('gcs'),
  bucket: nonEmpty,
  prefix: z.string().optional(),
  /** Base64 of the service-account JSON, or a path to the JSON file. */
  service_account: z.string().optional(),
  endpoint: z.string().optional(),
});

export const providerSchema = z.discriminatedUnion('type', [
  httpProviderSchema,
  fileProviderSchema,
  s3ProviderSchema,
  gcsProviderSchema,
]);

export const pluginEntrySchema = z.strictObject({
  name,
  url: nonEmpty,
  provider: z.string().optional(),
  sha256: z
    .string()
    .regex(/^(sha256:)?[A-Fa-f0-9]{64}$/, 'must be 64 hex digits (the SHA-256 of the artifact)')
    .optional(),
});

/** Limits on one plugin's download, in seconds (fractions allowed). */
export const downloadSchema = z.strictObject({
  /** No bytes for this long fails an attempt (retried for http). */
  stall_timeout_seconds: z.number().positive().optional(),
  /** The whole download of one plugin, retries included: a server trickling bytes cannot hold an install. */
  deadline_seconds: z.number().positive().optional(),
});

/** Aliases: the proposal's literal shapes. */
const providerAliasSchema = z.union([
  z.strictObject({ http: z.record(z.string(), z.unknown()) }),
  z.strictObject({ file: z.record(z.string(), z.unknown()) }),
  z.strictObject({ s3: z.record(z.string(), z.unknown()) }),
  z.strictObject({ gcs: z.record(z.string(), z.unknown()) }),
]);
const pluginAliasSchema = z.strictObject({ plugin: z.record(z.string(), z.unknown()) });

/** The whole section as users may write it (canonical or alias items). `dependencies` belongs to hook ordering. */
export const pluginsSectionSchema = z.looseObject({
  install_location: nonEmpty.optional(),
  providers: z
    .array(z.union([providerSchema, providerAliasSchema]))
    .nullable()
    .optional(),
  list: z
    .array(z.union([pluginEntrySchema, pluginAliasSchema]))
    .nullable()
    .optional(),
  dependencies: z.array(z.string()).optional(),
  download: downloadSchema.nullable().optional(),
});

export type HttpProviderConfig = z.infer<typeof httpProviderSchema>;
export type FileProviderConfig = z.infer<typeof fileProviderSchema>;
export type S3ProviderConfig = z.infer<typeof s3ProviderSchema>;
export type GcsProviderConfig = z.infer<typeof gcsProviderSchema>;
export type ProviderConfig = (
  | HttpProviderConfig
  | FileProviderConfig
  | S3ProviderConfig
  | GcsProviderConfig
) & {
  /** Where it is written, for messages. */
  at: Location;
};
export type ProviderType = ProviderConfig['type'];

export interface Location {
  file: string;
  path: PathSegment[];
  line?: number;
  column?: number;
}

export interface PluginEntry {
  name: string;
  url: string;
  provider?: string;
  /** Lower-case hex, without a `sha256:` prefix. */
  sha256?: string;
  at: Location;
}

export interface PluginsSection {
  /** The config file it came from. */
  file: string;
  /** Directory of the config file: relative paths and the lock file live here. */
  configDir: string;
  /** Absolute. */
  installLocation: string;
  providers: ProviderConfig[];
  list: PluginEntry[];
  /** Set keys only; the installer's defaults apply to the rest (optional: older state files lack it). */
  download?: { stallTimeoutMs?: number; deadlineMs?: number };
}

export { LOCK_FILE_NAME } from './lock-name.js';

const PROVIDER_TYPES = ['http', 'file', 's3', 'gcs'] as const;
const ALLOWED_SECTION_KEYS = new Set(['install_location', 'providers', 'list', 'dependencies', 'download']);

type Src = Pick<YamlSource, 'file' | 'locate'>;

/**
 * Validate and normalise a `plugins` section found at `basePath` in `src`. Returns every problem at
 * once; the section holds only the valid items.
 */
export function parsePluginsSection(
  raw: unknown,
  src: Src,
  basePath: PathSegment[],
  configDir: string,
): { section: PluginsSection; problems: Problem[] } {
  const problems: Problem[] = [];
  const section: PluginsSection = {
    file: src.file,
    configDir,
    installLocation: resolve(configDir, '.plugins'),
    providers: [],
    list: [],
  };
  if (raw === undefined || raw === null) return { section, problems };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(
      problemAt(src, basePath, 'error', 'PLUGINS_INVALID', `must be a mapping, got ${typeName(raw)}`),
    );
    return { section, problems };
  }
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!ALLOWED_SECTION_KEYS.has(key)) {
      problems.push(
        problemAt(src, [...basePath, key], 'warning', 'PLUGINS_UNKNOWN_KEY', `unknown key "${key}"`, {
          key: true,
          hint: 'the plugins section holds install_location, providers, list, download and dependencies',
        }),
      );
    }
  }
  const loc = obj.install_location;
  if (loc !== undefined) {
    if (typeof loc !== 'string' || loc === '') {
      problems.push(
        problemAt(
          src,
          [...basePath, 'install_location'],
          'error',
          'PLUGINS_INVALID',
          'must be a non-empty path',
        ),
      );
    } else {
      section.installLocation = isAbsolute(loc) ? loc : resolve(configDir, loc);
    }
  }

  if (obj.download !== undefined && obj.download !== null) {
    const found = shapeProblems(downloadSchema, obj.download, src, {
      unknownKeys: 'error',
      codePrefix: 'PLUGINS',
      basePath: [...basePath, 'download'],
    });
    problems.push(...found);
    if (!hasErrors(found)) {
      const d = downloadSchema.parse(obj.download);
      section.download = {};
      if (d.stall_timeout_seconds !== undefined)
        section.download.stallTimeoutMs = d.stall_timeout_seconds * 1000;
      if (d.deadline_seconds !== undefined) section.download.deadlineMs = d.deadline_seconds * 1000;
    }
  }

  const providerNames = new Set<string>();
  for (const { value, path } of items(obj.providers, [...basePath, 'providers'], src, problems)) {
    const aliased = alias(value, PROVIDER_TYPES);
    const itemPath = aliased ? [...path, aliased.key] : path;
    let item = aliased ? { ...aliased.value, type: aliased.key } : value;
    if (aliased?.key === 'gcs') item = gcsLocationAlias(item as Record<string, unknown>);
    const found = shapeProblems(providerSchema, item, src, {
      unknownKeys: 'error',
      codePrefix: 'PLUGINS',
      basePath: itemPath,
    });
    problems.push(...found);
    if (hasErrors(found)) continue;
    const p = providerSchema.parse(item);
    if (providerNames.has(p.name)) {
      problems.push(
        problemAt(
          src,
          [...itemPath, 'name'],
          'error',
          'PLUGINS_PROVIDER_DUPLICATE',
          `provider "${p.name}" is defined twice`,
        ),
      );
      continue;
    }
    providerNames.add(p.name);
    if (p.type === 'file' && !isAbsolute(p.root)) p.root = resolve(configDir, p.root);
    section.providers.push({ ...p, at: at(src, itemPath) });
  }

  const pluginNames = new Set<string>();
  for (const { value, path } of items(obj.list, [...basePath, 'list'], src, problems)) {
    const aliased = alias(value, ['plugin'] as const);
    const itemPath = aliased ? [...path, 'plugin'] : path;
    const item = aliased ? aliased.value : value;
    const found = shapeProblems(pluginEntrySchema, item, src, {
      unknownKeys: 'error',
      codePrefix: 'PLUGINS',
      basePath: itemPath,
    });
    problems.push(...found);
    if (hasErrors(found)) continue;
    const e = pluginEntrySchema.parse(item);
    if (pluginNames.has(e.name)) {
      problems.push(
        problemAt(
          src,
          [...itemPath, 'name'],
          'error',
          'PLUGINS_DUPLICATE',
          `plugin "${e.name}" is listed twice`,
        ),
      );
      continue;
    }
    if (e.provider !== undefined && !providerNames.has(e.provider)) {
      problems.push(
        problemAt(
          src,
          [...itemPath, 'provider'],
          'error',
          'PLUGINS_PROVIDER_UNKNOWN',
          `unknown provider "${e.provider}"`,
          {
            hint: providerNames.size
              ? `defined providers: ${[...providerNames].join(', ')}`
              : 'define it under plugins.providers',
          },
        ),
      );
      continue;
    }
    pluginNames.add(e.name);
    const entry: PluginEntry = { name: e.name, url: e.url, at: at(src, itemPath) };
    if (e.provider !== undefined) entry.provider = e.provider;
    if (e.sha256 !== undefined) entry.sha256 = e.sha256.replace(/^sha256:/, '').toLowerCase();
    section.list.push(entry);
  }
  return { section, problems };
}

/** Read a YAML file (optimus.yaml or a server config) and parse its `plugins` section. */
export function loadPluginsConfig(
  configPath: string,
  /** The file's content when the caller already read it (it is not read again). */
  content?: string,
): { section?: PluginsSection; problems: Problem[] } {
  const file = resolve(configPath);
  let text: string;
  try {
    text = content ?? readFileSync(file, 'utf8');
  } catch (e) {
    return {
      problems: [
        {
          severity: 'error',
          code: 'PLUGINS_CONFIG_MISSING',
          message: `cannot read config: ${ioMessage(e)}`,
          file,
          hint: 'run from the project root or pass -c <optimus.yaml or server config>',
        },
      ],
    };
  }
  const src = parseYaml(text, file);
  if (hasErrors(src.problems)) return { problems: src.problems };
  const root = src.value;
  const rawSection =
    root !== null && typeof root === 'object' && !Array.isArray(root)
      ? (root as Record<string, unknown>).plugins
      : undefined;
  const { section, problems } = parsePluginsSection(rawSection, src, ['plugins'], dirname(file));
  return { section, problems: [...src.problems, ...problems] };
}

function items(
  value: unknown,
  path: PathSegment[],
  src: Src,
  problems: Problem[],
): { value: unknown; path: PathSegment[] }[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.push(problemAt(src, path, 'error', 'PLUGINS_INVALID', `must be a list, got ${typeName(value)}`));
    return [];
  }
  return value.map((v, i) => ({ value: v, path: [...path, i] }));
}

/** `{http: {...}}` → key http and the inner mapping, when the item is exactly one such key. */
function alias<K extends string>(
  value: unknown,
  keys: readonly K[],
): { key: K; value: Record<string, unknown> } | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const entries = Object.entries(value);
  if (entries.length !== 1) return undefined;
  const [k, v] = entries[0]!;
  if (!keys.includes(k as K) || v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  return { key: k as K, value: v as Record<string, unknown> };
}

/** The proposal's gcs alias names its bucket `location` (`gs://bucket/prefix` or a bare bucket). */
function gcsLocationAlias(item: Record<string, unknown>): Record<string, unknown> {
  if (typeof item.location !== 'string' || item.bucket !== undefined) return item;
  const { location, ...rest } = item;
  const m = /^(?:gs|gcs):\/\/([^/]+)\/?(.*)$/.exec(location as string);
  const bucket = m ? m[1]! : (location as string);
  const prefix = m?.[2];
  return prefix ? { ...rest, bucket, prefix } : { ...rest, bucket };
}

function at(src: Src, path: PathSegment[]): Location {
  const pos = src.locate(path);
  const l: Location = { file: src.file, path };
  if (pos) {
    l.line = pos.line;
    l.column = pos.column;
  }
  return l;
}
