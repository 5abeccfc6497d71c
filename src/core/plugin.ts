/** The normalised plugin model: every dialect (v1, v2, v3) loads into this one shape. */

export type Dialect = 'v1' | 'v2' | 'v3';
export type HookStage = 'pre' | 'post' | 'fail';
export const HOOK_STAGES: readonly HookStage[] = ['pre', 'post', 'fail'];

export const MODS = ['dependency_resolver'] as const;
export type Mod = (typeof MODS)[number];

export interface SubQuestion {
  ifvalue: string;
  questions: Question[];
}

export interface Question {
  name: string;
  prompt: string;
  help?: string;
  default?: string;
  /** Options; rendered as a single-choice select (upstream naming). */
  multiselect?: string[];
  regexp?: string;
  validationerror?: string;
  minlength?: number;
  maxlength?: number;
  required: boolean;
  subquestions: SubQuestion[];
}

export interface ConfigDecl {
  name: string;
  description?: string;
  required: boolean;
  secret: boolean;
  /**
   * v3 `for_mods`: the dependency-resolver mod gets this config rendered even when it reads a
   * secret. Without it a config that reads a secret never reaches a mod.
   */
  forMods?: boolean;
  default?: string;
}

export interface Entrypoint {
  shell: string;
  /** Run as `shell -c script`; empty when `args` is given. */
  script: string;
  /** v3 exec form: the program and its arguments, run directly (no shell, no variable expansion). */
  args?: string[];
}

export interface PluginVersion {
  image: string;
  tag: string;
  /**
   * Absent only in legacy v1 files (before upstream 0.7): the image's own entrypoint is meant, so
   * only a container executor can run the plugin.
   */
  entrypoint?: Entrypoint;
}

export interface AssetParser {
  filepath?: string;
  selector?: string;
  env?: string;
}

export interface PluginHints {
  /** Legacy `plugintype`: what the author meant it for. Never a restriction. */
  kind?: 'task' | 'hook';
  /** Legacy `hooktype`: the default stage when used as a hook. */
  stage?: HookStage;
  /** Legacy `dependson`: hooks this one runs after by default, when present in the job. */
  dependsOn: string[];
}

export interface Plugin {
  name: string;
  description: string;
  dialect: Dialect;
  /** Plugin version as its author labels it (v1 `pluginversion`, else the default tag). */
  version: string;
  /** `default` plus any named versions, each fully resolved (fallbacks applied). */
  versions: Record<string, PluginVersion>;
  questions: Question[];
  configs: ConfigDecl[];
  defaultConfig: Record<string, string>;
  defaultAssets: Record<string, string>;
  destinationUrnTemplate?: string;
  assetParsers?: Record<string, AssetParser[]>;
  mods: Mod[];
  hints: PluginHints;
  /** Where it was loaded from, for messages. */
  source?: string;
}

/** A plugin implementing the dependency-resolver mod decides a job's destination: task only. */
export function isTaskOnly(plugin: Plugin): boolean {
  return plugin.mods.includes('dependency_resolver');
}

export function imageRef(v: PluginVersion): string {
  return v.tag ? `${v.image}:${v.tag}` : v.image;
}

/** Every question including nested subquestions, depth first. */
export function allQuestions(questions: readonly Question[]): Question[] {
  const out: Question[] = [];
  const walk = (qs: readonly Question[]) => {
    for (const q of qs) {
      out.push(q);
      for (const sq of q.subquestions) walk(sq.questions);
    }
  };
  walk(questions);
  return out;
}
