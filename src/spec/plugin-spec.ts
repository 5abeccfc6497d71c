/** Load a plugin spec in any dialect (v1, v2, v3) and normalise it into the one plugin model. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AssetParser,
  allQuestions,
  type ConfigDecl,
  type Dialect,
  type Entrypoint,
  type HookStage,
  type Mod,
  type Plugin,
  type PluginVersion,
  type Question,
} from '../core/plugin.js';
import { hasErrors, type PathSegment, type Problem } from '../core/problem.js';
import { isSecretReference } from '../core/secret-ref.js';
import { DEPRECATED_PLUGIN_KEYS, pluginV1Schema, pluginV2Schema, pluginV3Schema } from './plugin-schema.js';
import { ioMessage, parseYaml, problemAt, readYamlFile, type YamlSource } from './yaml-source.js';
import { shapeProblems, typeName } from './zod-problems.js';

export interface PluginLoadResult {
  file: string;
  dialect?: Dialect;
  /** Present when the spec has no errors. */
  plugin?: Plugin;
  problems: Problem[];
}

type Raw = Record<string, unknown>;

export function loadPluginSpec(text: string, file: string): PluginLoadResult {
  const src = parseYaml(text, file);
  if (hasErrors(src.problems)) return { file, problems: src.problems };
  return loadPluginValue(src);
}

/** For specs that arrive as data (a binary plugin's handshake), located against a pseudo file. */
export function loadPluginObject(value: unknown, file: string): PluginLoadResult {
  return loadPluginValue({ file, value, problems: [], locate: () => undefined, has: () => false });
}

function loadPluginValue(src: YamlSource): PluginLoadResult {
  const { file } = src;
  const problems = [...src.problems];
  const raw = src.value;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(
      problemAt(
        src,
        [],
        'error',
        'PLUGIN_INVALID',
        `a plugin spec must be a YAML mapping, got ${typeName(raw)}`,
        {
          hint: 'see `optimus plugin schema` for the expected shape',
        },
      ),
    );
    return { file, problems };
  }
  const obj = raw as Raw;
  const dialect = detectDialect(obj);
  if (!dialect) {
    problems.push(
      problemAt(
        src,
        ['version'],
        'error',
        'PLUGIN_DIALECT_UNKNOWN',
        `unsupported plugin spec version ${JSON.stringify(obj.version)}`,
        {
          hint: 'use version: 3 (or 2); omit version only for legacy v1 files with plugintype/pluginversion/image',
        },
      ),
    );
    return { file, problems };
  }
  const schema = dialect === 'v1' ? pluginV1Schema : dialect === 'v2' ? pluginV2Schema : pluginV3Schema;
  problems.push(
    ...shapeProblems(schema, obj, src, {
      unknownKeys: dialect === 'v3' ? 'error' : 'warning',
      codePrefix: 'PLUGIN',
    }),
  );
  if (dialect !== 'v3') {
    for (const key of Object.keys(DEPRECATED_PLUGIN_KEYS)) {
      if (key in obj) {
        problems.push(
          problemAt(src, [key], 'warning', 'PLUGIN_DEPRECATED', DEPRECATED_PLUGIN_KEYS[key]!, { key: true }),
        );
      }
    }
    if (dialect === 'v1' && (obj.entrypoint === undefined || obj.entrypoint === null)) {
      problems.push(
        problemAt(
          src,
          ['image'],
          'warning',
          'PLUGIN_ENTRYPOINT_MISSING',
          "no entrypoint: the image's own entrypoint will be used, so only a container executor can run this plugin (the process executor refuses it)",
          { key: true, hint: 'add entrypoint: {shell: /bin/sh, script: "..."}' },
        ),
      );
    }
    if (typeof obj.entrypoint === 'string') {
      problems.push(
        problemAt(
          src,
          ['entrypoint'],
          'warning',
          'PLUGIN_DEPRECATED',
          'a plain-string entrypoint is deprecated; it is used as the script',
          {
            hint: 'write entrypoint: {shell: /bin/sh, script: "..."}',
          },
        ),
      );
    }
  }
  if (hasErrors(problems)) return { file, dialect, problems };

  const plugin = normalise(obj, dialect);
  plugin.source = file;
  problems.push(...crossChecks(plugin, obj, dialect, src));
  if (hasErrors(problems)) return { file, dialect, problems };
  return { file, dialect, plugin, problems };
}

function detectDialect(obj: Raw): Dialect | undefined {
  if (obj.version === undefined || obj.version === null) return 'v1';
  if (obj.version === 2 || obj.version === '2') return 'v2';
  if (obj.version === 3 || obj.version === '3') return 'v3';
  return undefined;
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

function normalise(obj: Raw, dialect: Dialect): Plugin {
  if (dialect === 'v1') return normaliseV1(obj);
  const versions = normaliseVersions(obj.plugin_versions as Raw);
  const base: Plugin = {
    name: str(obj.name),
    description: str(obj.description),
    dialect,
    version: versions.default!.tag,
    versions,
    questions: [],
    configs: [],
    defaultConfig: stringMap(obj.default_config),
    defaultAssets: {},
    mods: [],
    hints: { dependsOn: [] },
  };
  if (typeof obj.destination_urn_template === 'string')
    base.destinationUrnTemplate = obj.destination_urn_template;
  if (obj.asset_parsers) base.assetParsers = obj.asset_parsers as Record<string, AssetParser[]>;
  if (dialect === 'v3') {
    base.questions = ((obj.questions as Raw[] | undefined) ?? []).map(normaliseQuestion);
    base.configs = ((obj.configs as Raw[] | undefined) ?? []).map((c) => {
      const d: ConfigDecl = { name: str(c.name), required: c.required === true, secret: c.secret === true };
      if (c.description !== undefined) d.description = str(c.description);
      if (c.for_mods === true) d.forMods = true;
      if (c.default !== undefined) d.default = str(c.default);
      return d;
    });
    base.defaultAssets = stringMap(obj.default_assets);
    base.mods = (obj.mods as Mod[] | undefined) ?? [];
    if (obj.default_stage) base.hints.stage = obj.default_stage as HookStage;
  }
  return base;
}

function normaliseV1(obj: Raw): Plugin {
  const { image, tag } = splitImage(str(obj.image));
  const ep = obj.entrypoint;
  const entrypoint: Entrypoint | undefined =
    ep === undefined || ep === null
      ? undefined
      : typeof ep === 'string'
        ? { shell: '/bin/sh', script: ep }
        : { shell: str((ep as Raw).shell) || '/bin/sh', script: joinV1Script(str((ep as Raw).script)) };
  const mods = ((obj.pluginmods as string[] | undefined) ?? []).some(
    (m) => m.replace(/[_-]/g, '').toLowerCase() === 'dependencyresolver',
  )
    ? (['dependency_resolver'] as Mod[])
    : [];
  const p: Plugin = {
    name: str(obj.name),
    description: str(obj.description),
    dialect: 'v1',
    version: str(obj.pluginversion),
    versions: { default: entrypoint ? { image, tag, entrypoint } : { image, tag } },
    questions: ((obj.questions as Raw[] | undefined) ?? []).map(normaliseQuestion),
    configs: [],
    defaultConfig: nameValueMap(obj.defaultconfig),
    defaultAssets: nameValueMap(obj.defaultassets),
    mods,
    hints: {
      kind: obj.plugintype as 'task' | 'hook',
      dependsOn: (obj.dependson as string[] | undefined) ?? [],
    },
  };
  if (obj.hooktype) p.hints.stage = obj.hooktype as HookStage;
  if (typeof obj.destination_urn_template === 'string')
    p.destinationUrnTemplate = obj.destination_urn_template;
  if (obj.asset_parsers) p.assetParsers = obj.asset_parsers as Record<string, AssetParser[]>;
  return p;
}

/** Upstream v1 runs a multi-line script as one line: newlines become "; ". */
function joinV1Script(script: string): string {
  return script
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('; ');
}

function splitImage(ref: string): { image: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash && colon > 0) return { image: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { image: ref, tag: '' };
}

function normaliseVersions(raw: Raw): Record<string, PluginVersion> {
  const def = raw.default as Raw;
  const defEp = def.entrypoint as Raw;
  const defShell = str(defEp.shell) || '/bin/sh';
  const argsOf = (ep: Raw) => (Array.isArray(ep.args) ? ep.args.map(String) : undefined);
  const entrypoint = (shell: string, script: string, args: string[] | undefined): Entrypoint =>
    args ? { shell, script: '', args } : { shell, script };
  const defEntrypoint = entrypoint(defShell, str(defEp.script), argsOf(defEp));
  const out: Record<string, PluginVersion> = {
    default: { image: str(def.image), tag: str(def.tag), entrypoint: defEntrypoint },
  };
  for (const [name, v] of Object.entries(raw)) {
    if (name === 'default') continue;
    const ver = (v ?? {}) as Raw;
    const ep = (ver.entrypoint ?? {}) as Raw;
    // A version's own script or args replaces the default's form; otherwise it inherits it.
    const args = argsOf(ep);
    const script = str(ep.script);
    out[name] = {
      image: str(ver.image) || out.default!.image,
      tag: str(ver.tag) || out.default!.tag,
      entrypoint:
        args || script
          ? entrypoint(str(ep.shell) || defShell, script, args)
          : { ...defEntrypoint, shell: str(ep.shell) || defShell },
    };
  }
  return out;
}

function normaliseQuestion(q: Raw): Question {
  const out: Question = {
    name: str(q.name),
    prompt: str(q.prompt) || str(q.name),
    required: q.required === true,
    subquestions: ((q.subquestions as Raw[] | undefined) ?? []).map((s) => ({
      ifvalue: str(s.ifvalue),
      questions: ((s.questions as Raw[] | undefined) ?? []).map(normaliseQuestion),
    })),
  };
  if (q.help !== undefined) out.help = str(q.help);
  if (q.default !== undefined) out.default = str(q.default);
  if (q.multiselect) out.multiselect = (q.multiselect as unknown[]).map(str);
  if (q.regexp !== undefined) out.regexp = str(q.regexp);
  if (q.validationerror !== undefined) out.validationerror = str(q.validationerror);
  if (typeof q.minlength === 'number') out.minlength = q.minlength;
  if (typeof q.maxlength === 'number') out.maxlength = q.maxlength;
  return out;
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object') for (const [k, val] of Object.entries(v)) out[k] = str(val);
  return out;
}

function nameValueMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of (v as Raw[] | undefined) ?? []) out[str(e.name)] = str(e.value);
  return out;
}

function crossChecks(plugin: Plugin, obj: Raw, dialect: Dialect, src: YamlSource): Problem[] {
  const problems: Problem[] = [];
  const qKey = dialect === 'v1' ? 'questions' : 'questions';
  // Question names must be unique (answers are stored under them), regexps must compile.
  const seen = new Map<string, string>();
  const walk = (qs: Raw[] | undefined, path: PathSegment[]) => {
    (qs ?? []).forEach((q, i) => {
      const p = [...path, i];
      const name = str(q.name);
      if (seen.has(name)) {
        problems.push(
          problemAt(
            src,
            [...p, 'name'],
            'error',
            'PLUGIN_DUPLICATE_QUESTION',
            `question "${name}" is already asked at ${seen.get(name)}`,
          ),
        );
      } else seen.set(name, formatPathLocal(p));
      if (typeof q.regexp === 'string') {
        try {
          new RegExp(q.regexp);
        } catch (e) {
          problems.push(
            problemAt(
              src,
              [...p, 'regexp'],
              'error',
              'PLUGIN_INVALID',
              `regexp does not compile: ${(e as Error).message}`,
            ),
          );
        }
      }
      if (typeof q.minlength === 'number' && typeof q.maxlength === 'number' && q.minlength > q.maxlength) {
        problems.push(
          problemAt(
            src,
            [...p, 'minlength'],
            'error',
            'PLUGIN_INVALID',
            `minlength ${q.minlength} is greater than maxlength ${q.maxlength}`,
          ),
        );
      }
      if (
        Array.isArray(q.multiselect) &&
        q.default !== undefined &&
        !q.multiselect.map(str).includes(str(q.default))
      ) {
        problems.push(
          problemAt(
            src,
            [...p, 'default'],
            'error',
            'PLUGIN_INVALID',
            `default "${str(q.default)}" is not one of the options`,
          ),
        );
      }
      ((q.subquestions as Raw[] | undefined) ?? []).forEach((s, j) => {
        if (Array.isArray(q.multiselect) && !q.multiselect.map(str).includes(str(s.ifvalue))) {
          problems.push(
            problemAt(
              src,
              [...p, 'subquestions', j, 'ifvalue'],
              'warning',
              'PLUGIN_UNREACHABLE_QUESTION',
              `ifvalue "${str(s.ifvalue)}" is not one of the options, so these questions are never asked`,
            ),
          );
        }
        walk(s.questions as Raw[] | undefined, [...p, 'subquestions', j, 'questions']);
      });
    });
  };
  walk(obj[qKey] as Raw[] | undefined, [qKey]);

  const configNames = new Set<string>();
  plugin.configs.forEach((c, i) => {
    if (configNames.has(c.name)) {
      problems.push(
        problemAt(
          src,
          ['configs', i, 'name'],
          'error',
          'PLUGIN_DUPLICATE_CONFIG',
          `config "${c.name}" is declared twice`,
        ),
      );
    }
    configNames.add(c.name);
    if (c.secret && c.default !== undefined && !isSecretReference(c.default)) {
      problems.push(
        problemAt(
          src,
          ['configs', i, 'default'],
          'error',
          'PLUGIN_SECRET_DEFAULT',
          `secret config "${c.name}" has a plain default value`,
          {
            hint: `use a reference such as "{{ .secret.${c.name} }}" or remove the default`,
          },
        ),
      );
    }
  });
  for (const [key, value] of Object.entries(plugin.defaultConfig)) {
    const decl = plugin.configs.find((c) => c.name === key);
    if (decl?.secret && !isSecretReference(value)) {
      problems.push(
        problemAt(
          src,
          ['default_config', key],
          'error',
          'PLUGIN_SECRET_DEFAULT',
          `secret config "${key}" has a plain default value`,
          {
            hint: `use "{{ .secret.${key} }}"`,
          },
        ),
      );
    }
  }
  if (plugin.destinationUrnTemplate !== undefined) {
    const err = checkUrnTemplate(plugin.destinationUrnTemplate);
    if (err) problems.push(problemAt(src, ['destination_urn_template'], 'error', 'PLUGIN_INVALID', err));
  }
  if (dialect === 'v3') {
    const questionNames = new Set(allQuestions(plugin.questions).map((q) => q.name));
    plugin.configs.forEach((c, i) => {
      if (c.required && questionNames.has(c.name)) {
        const q = allQuestions(plugin.questions).find((x) => x.name === c.name)!;
        if (!q.required && q.default === undefined) {
          problems.push(
            problemAt(
              src,
              ['configs', i, 'required'],
              'warning',
              'PLUGIN_QUESTION_OPTIONAL',
              `config "${c.name}" is required but its question is optional`,
              {
                hint: 'mark the question required too, so job create asks for it',
              },
            ),
          );
        }
      }
    });
  }
  return problems;
}

function formatPathLocal(p: PathSegment[]): string {
  return p
    .map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`))
    .join('')
    .replace(/^\./, '');
}

/** `<NAME>` placeholders must be closed and hold a config name. */
export function checkUrnTemplate(t: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(t))
    return `destination_urn_template "${t}" must start with a scheme such as bigquery://`;
  let i = 0;
  while (i < t.length) {
    const open = t.indexOf('<', i);
    const close = t.indexOf('>', i);
    if (open < 0) {
      if (close >= 0)
        return `destination_urn_template has a ">" without a matching "<" at character ${close + 1}`;
      return undefined;
    }
    if (close >= 0 && close < open)
      return `destination_urn_template has a ">" without a matching "<" at character ${close + 1}`;
    const end = t.indexOf('>', open);
    const nextOpen = t.indexOf('<', open + 1);
    if (end < 0 || (nextOpen >= 0 && nextOpen < end))
      return `destination_urn_template has an unclosed "<" at character ${open + 1}`;
    const name = t.slice(open + 1, end);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      return `destination_urn_template placeholder "<${name}>" is not a config name`;
    i = end + 1;
  }
  return undefined;
}

export function loadPluginFile(path: string): PluginLoadResult {
  const { src, problems } = readYamlFile(path, { code: 'FILE_UNREADABLE', what: 'cannot read plugin spec' });
  if (!src || hasErrors(problems)) return { file: path, problems };
  return loadPluginValue(src);
}

export { ioMessage } from './yaml-source.js';

export const isPluginSpecFile = (name: string): boolean => /\.ya?ml$/i.test(name);

export interface PluginSet {
  plugins: Map<string, Plugin>;
  results: PluginLoadResult[];
  problems: Problem[];
}

/** Load every spec in the given files and directories (not recursive); a name used twice is an error. */
export function loadPluginSet(paths: readonly string[]): PluginSet {
  const results: PluginLoadResult[] = [];
  const problems: Problem[] = [];
  for (const path of paths) {
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch (e) {
      problems.push({
        severity: 'error',
        code: 'FILE_UNREADABLE',
        message: ioMessage(e),
        file: path,
        hint: 'check the path, or pass --plugins <dir>',
      });
      continue;
    }
    if (!isDir) {
      results.push(loadPluginFile(path));
      continue;
    }
    for (const name of readdirSync(path).sort()) {
      if (isPluginSpecFile(name)) results.push(loadPluginFile(join(path, name)));
    }
  }
  const plugins = new Map<string, Plugin>();
  for (const r of results) {
    problems.push(...r.problems);
    if (!r.plugin) continue;
    const prev = plugins.get(r.plugin.name);
    if (prev) {
      problems.push({
        severity: 'error',
        code: 'PLUGIN_NAME_COLLISION',
        message: `plugin "${r.plugin.name}" is also defined in ${prev.source}`,
        file: r.file,
        hint: 'plugin names must be unique; rename one of them',
      });
      continue;
    }
    plugins.set(r.plugin.name, r.plugin);
  }
  return { plugins, results, problems };
}
