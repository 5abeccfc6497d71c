/**
 * Mandatory configs: after defaults and inheritance every config a plugin marks `required` must be
 * present, a `secret` config must be a `{{ .secret.NAME }}` reference, and configs that answer a
 * question follow the question's rules. Secret values are never echoed.
 */
import type { Plugin, Question } from './plugin.js';
import { isSecretReference, isTemplated, secretReference } from './secret-ref.js';

export interface ConfigIssue {
  severity: 'error' | 'warning';
  code: string;
  message: string;
  /** The config key; absent key = problem with the config map as a whole. */
  key: string;
  /** Whether the key is present in the config as written (for locating). */
  present: boolean;
  hint?: string;
}

/** Defaults a plugin contributes: `default_config`, then each declared config's `default`. */
export function pluginDefaults(plugin: Plugin): Record<string, string> {
  const out: Record<string, string> = { ...plugin.defaultConfig };
  for (const c of plugin.configs) if (c.default !== undefined && !(c.name in out)) out[c.name] = c.default;
  return out;
}

export function effectiveConfig(plugin: Plugin, written: Record<string, string>): Record<string, string> {
  return { ...pluginDefaults(plugin), ...written };
}

export function checkConfigs(
  plugin: Plugin,
  written: Record<string, string>,
  role: 'task' | 'hook',
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const eff = effectiveConfig(plugin, written);
  const secret = new Set(plugin.configs.filter((c) => c.secret).map((c) => c.name));
  const reportedMissing = new Set<string>();
  const empty = (v: string | undefined) => v === undefined || v.trim() === '';

  for (const decl of plugin.configs) {
    const v = eff[decl.name];
    if (decl.required && empty(v)) {
      reportedMissing.add(decl.name);
      issues.push({
        severity: 'error',
        code: 'CONFIG_MISSING',
        message: `${role} plugin "${plugin.name}" requires config ${decl.name}${decl.description ? ` (${decl.description})` : ''}`,
        key: decl.name,
        present: decl.name in written,
        hint: decl.secret
          ? `add ${decl.name}: "${secretReference(decl.name)}" and store the value with \`optimus secret set ${decl.name}\``
          : `add ${decl.name}: <value> under config`,
      });
      continue;
    }
    if (decl.secret && !empty(v) && !isSecretReference(v!)) {
      issues.push({
        severity: 'error',
        code: 'CONFIG_SECRET_PLAIN',
        message: `config ${decl.name} is a secret and must be a reference like ${secretReference(decl.name)}; the value given was not printed`,
        key: decl.name,
        present: decl.name in written,
        hint: `store the value with \`optimus secret set ${decl.name}\` and write ${decl.name}: "${secretReference(decl.name)}"`,
      });
    }
  }

  const walk = (questions: readonly Question[]) => {
    for (const q of questions) {
      const v = eff[q.name];
      if (empty(v)) {
        if (q.required && !reportedMissing.has(q.name)) {
          reportedMissing.add(q.name);
          issues.push({
            severity: 'error',
            code: 'CONFIG_MISSING',
            message: `${role} plugin "${plugin.name}" requires config ${q.name} (${q.prompt})`,
            key: q.name,
            present: q.name in written,
            hint: `add ${q.name}: <value> under config`,
          });
        }
        continue;
      }
      const value = v!;
      // A templated value is only known at run time.
      if (!isTemplated(value)) {
        const shown = secret.has(q.name)
          ? 'the value'
          : `"${value.length > 60 ? `${value.slice(0, 57)}...` : value}"`;
        const problem = questionProblem(q, value, shown);
        if (problem)
          issues.push({
            severity: 'error',
            code: 'CONFIG_INVALID',
            message: `config ${q.name}: ${problem}`,
            key: q.name,
            present: q.name in written,
          });
      }
      for (const sq of q.subquestions) if (sq.ifvalue === value) walk(sq.questions);
    }
  };
  walk(plugin.questions);
  return issues;
}

/** The rule a non-empty answer breaks, if any (shared by job validation and the survey). */
export function questionProblem(q: Question, value: string, shown = `"${value}"`): string | undefined {
  if (q.multiselect && !q.multiselect.includes(value))
    return `${shown} is not one of: ${q.multiselect.join(', ')}`;
  if (q.regexp) {
    let re: RegExp | undefined;
    try {
      re = new RegExp(q.regexp);
    } catch {
      // A pattern that does not compile is reported on the plugin spec; no answer can break it.
    }
    if (re && !re.test(value))
      return q.validationerror ? `${shown}: ${q.validationerror}` : `${shown} does not match ${q.regexp}`;
  }
  if (value.length < (q.minlength ?? 0)) return `${shown} is shorter than ${q.minlength} characters`;
  if (value.length > (q.maxlength ?? Number.POSITIVE_INFINITY))
    return `${shown} is longer than ${q.maxlength} characters`;
  return undefined;
}
