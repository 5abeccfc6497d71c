/** optimus.yaml: project, namespaces and the plugins section. */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { type HookRule, parseHookRules } from '../core/hook-rules.js';
import { hasErrors, type Problem } from '../core/problem.js';
import { normalisePresetName } from '../core/window.js';
import { type PluginsSection, parsePluginsSection } from '../plugins/install/config.js';
import { windowSchema } from './job-schema.js';
import { problemAt, readYamlFile, type YamlSource } from './yaml-source.js';
import { shapeProblems } from './zod-problems.js';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: 'must be a string, number or boolean',
});
const nsName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'may contain only letters, digits, "_", "-" and "."');

/** The hook-ordering part of the plugins section; installer keys are checked by the installer. */
export const pluginDependenciesSchema = z.array(z.string(), {
  error: 'must be a list of rules such as "a >> b,c"',
});

export const projectConfigSchema = z.strictObject({
  version: z.union([z.number(), z.string()]),
  log: z.object({ level: z.string().optional(), format: z.string().optional() }).optional(),
  host: z.string().optional(),
  project: z.strictObject({
    name: nsName,
    config: z.record(z.string(), scalar).nullable().optional(),
    variables: z.record(z.string(), scalar).nullable().optional(),
    preset_path: z.string().optional(),
  }),
  namespaces: z
    .array(
      z.strictObject({
        name: nsName,
        config: z.record(z.string(), scalar).nullable().optional(),
        variables: z.record(z.string(), scalar).nullable().optional(),
        job: z.strictObject({ path: z.string().min(1) }).optional(),
        datastore: z.unknown().optional(),
        resource: z.unknown().optional(),
      }),
    )
    .nullable()
    .optional(),
  // Installer keys (install_location, providers, list) are checked by parsePluginsSection.
  plugins: z.looseObject({ dependencies: pluginDependenciesSchema.optional() }).nullable().optional(),
  auth: z.unknown().optional(),
});

export interface NamespaceConfig {
  name: string;
  config: Record<string, string>;
  /** Absolute path of the namespace's job root, when it has one. */
  jobPath?: string;
}

export interface ProjectConfig {
  file: string;
  root: string;
  version: string;
  host?: string;
  project: { name: string; config: Record<string, string>; presetPath?: string };
  namespaces: NamespaceConfig[];
  /** Absolute path; default `.plugins` beside the config file. */
  installLocation: string;
  hookRules: HookRule[];
  /** Window preset names (lower-cased), when `project.preset_path` is set. */
  presets?: Set<string>;
  /** The presets file's `presets` map as written, sent to the server at project registration. */
  presetWindows?: Record<string, { description?: string; window: Record<string, unknown> }>;
  /** The `plugins` section: install location, providers and the plugin list. */
  plugins: PluginsSection;
  source: YamlSource;
}

export interface ProjectConfigResult {
  config?: ProjectConfig;
  problems: Problem[];
}

export const PROJECT_CONFIG_FILE = 'optimus.yaml';

export function findProjectConfig(dirOrFile: string): string {
  const p = resolve(dirOrFile);
  try {
    if (statSync(p).isDirectory()) return join(p, PROJECT_CONFIG_FILE);
  } catch {
    // not there: reported by the loader
  }
  return p;
}

export function loadProjectConfig(dirOrFile: string): ProjectConfigResult {
  const file = findProjectConfig(dirOrFile);
  const { src, problems } = readYamlFile(file, {
    code: 'PROJECT_CONFIG_MISSING',
    what: 'cannot read project config',
    hint: 'run from the project root, or pass --dir <project root> (the folder holding optimus.yaml)',
  });
  if (!src || hasErrors(problems)) return { problems };
  problems.push(
    ...shapeProblems(projectConfigSchema, src.value, src, { unknownKeys: 'warning', codePrefix: 'PROJECT' }),
  );
  if (hasErrors(problems)) return { problems };
  const raw = src.value as z.infer<typeof projectConfigSchema>;
  const root = dirname(file);

  const namespaces: NamespaceConfig[] = [];
  const seen = new Set<string>();
  (raw.namespaces ?? []).forEach((ns, i) => {
    if (seen.has(ns.name))
      problems.push(
        problemAt(
          src,
          ['namespaces', i, 'name'],
          'error',
          'NAMESPACE_DUPLICATE',
          `namespace "${ns.name}" is defined twice`,
        ),
      );
    seen.add(ns.name);
    const out: NamespaceConfig = { name: ns.name, config: stringMap(ns.config) };
    if (ns.job?.path) {
      out.jobPath = resolve(root, ns.job.path);
      if (!existsSync(out.jobPath)) {
        problems.push(
          problemAt(
            src,
            ['namespaces', i, 'job', 'path'],
            'error',
            'NAMESPACE_PATH_MISSING',
            `job path "${ns.job.path}" does not exist`,
            { hint: 'create the folder or fix the path (relative to optimus.yaml)' },
          ),
        );
      }
    }
    namespaces.push(out);
  });

  const { rules, errors } = parseHookRules(raw.plugins?.dependencies ?? []);
  for (const e of errors)
    problems.push(
      problemAt(src, ['plugins', 'dependencies', e.index], 'error', 'HOOK_RULE_INVALID', e.message),
    );

  const plugins = parsePluginsSection(raw.plugins, src, ['plugins'], root);
  problems.push(...plugins.problems);
  const config: ProjectConfig = {
    file,
    root,
    version: String(raw.version),
    project: { name: raw.project.name, config: stringMap(raw.project.config) },
    namespaces,
    installLocation: plugins.section.installLocation,
    hookRules: rules,
    plugins: plugins.section,
    source: src,
  };
  if (raw.host) config.host = raw.host;
  if (raw.project.preset_path) {
    config.project.presetPath = resolve(root, raw.project.preset_path);
    const presets = loadPresets(config.project.presetPath, problems);
    if (presets) {
      config.presetWindows = presets;
      config.presets = new Set(Object.keys(presets).map(normalisePresetName));
    }
  }
  return { config, problems };
}

const presetsSchema = z.strictObject({
  presets: z.record(z.string(), z.strictObject({ description: z.string().optional(), window: windowSchema })),
});

function loadPresets(
  file: string,
  problems: Problem[],
): z.infer<typeof presetsSchema>['presets'] | undefined {
  const { src, problems: read } = readYamlFile(file, {
    code: 'PRESETS_MISSING',
    what: 'cannot read window presets',
    hint: 'fix project.preset_path in optimus.yaml',
  });
  problems.push(...read);
  if (!src || hasErrors(read)) return undefined;
  const shape = shapeProblems(presetsSchema, src.value, src, { unknownKeys: 'error', codePrefix: 'PRESETS' });
  problems.push(...shape);
  if (hasErrors(shape)) return undefined;
  return (src.value as z.infer<typeof presetsSchema>).presets;
}

function stringMap(v: Record<string, unknown> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v ?? {}))
    out[k] = val === null || val === undefined ? '' : String(val);
  return out;
}
