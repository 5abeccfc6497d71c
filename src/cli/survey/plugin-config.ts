/**
 * A plugin's own questions (with subquestions), turned into the config a job or hook gets, checked
 * by the server before anything is written.
 */
import { questionProblem } from '../../core/configs.js';
import { OptimusError } from '../../core/errors.js';
import type { Question } from '../../core/plugin.js';
import { isSecretReference, secretReference } from '../../core/secret-ref.js';
import type { ApiClient } from '../api-client.js';
import { type PluginDetail, type ValidationIssue, validateAnswers } from './server-plugins.js';
import type { Survey, SurveyQuestion } from './survey.js';

export interface Placeholder {
  key: string;
  /** What to write there (the config's description), shown in a TODO comment. */
  description: string;
}

export interface PluginConfig {
  /** Defaults, then answers, then secret references; placeholders are empty strings. */
  config: Record<string, string>;
  /** Required configs no answer or default filled: written empty, so validation fails until filled. */
  placeholders: Placeholder[];
  /** Secret configs, written as `{{ .secret.NAME }}` references. */
  secrets: string[];
  warnings: ValidationIssue[];
}

export function surveyQuestion(q: Question): SurveyQuestion {
  return {
    name: q.name,
    message: q.prompt,
    required: q.required,
    ...(q.help ? { help: q.help } : {}),
    ...(q.default !== undefined ? { default: q.default } : {}),
    ...(q.multiselect ? { choices: q.multiselect.map((value) => ({ value })) } : {}),
    check: (v) => questionProblem(q, v),
  };
}

export async function surveyPluginConfig(
  survey: Survey,
  client: ApiClient,
  plugin: PluginDetail,
  role: 'task' | 'hook',
): Promise<PluginConfig> {
  const secrets = plugin.configs.filter((c) => c.secret).map((c) => c.name);
  const secretSet = new Set(secrets);
  const answers: Record<string, string> = {};
  /** Questions asked in the current walk (a changed answer drops its old subquestions). */
  const active = new Map<string, Question>();

  const forget = (q: Question) => {
    delete answers[q.name];
    active.delete(q.name);
    for (const sq of q.subquestions) for (const c of sq.questions) forget(c);
  };
  const askOne = async (q: Question, problem?: string): Promise<void> => {
    // A secret's value never goes into job.yaml: it is written as a reference instead of asked.
    if (secretSet.has(q.name)) return;
    const value = problem
      ? await survey.reask(surveyQuestion(q), problem)
      : await survey.ask(surveyQuestion(q));
    active.set(q.name, q);
    if (value === undefined) delete answers[q.name];
    else answers[q.name] = value;
    for (const sq of q.subquestions) {
      for (const child of sq.questions) {
        if (value !== undefined && sq.ifvalue === value) await askOne(child);
        else forget(child);
      }
    }
  };
  for (const q of plugin.questions) await askOne(q);

  for (;;) {
    const built = buildConfig(plugin, answers);
    // Only complete answer sets are worth a round trip; missing answers are reported by finish().
    survey.finish(role === 'task' ? 'create the job' : 'add the hook');
    // What the server checks: answers, defaults and secret references, but not the placeholders.
    // Those are required configs no question asks for; they are empty on purpose (the user fills
    // them in job.yaml), so the server's CONFIG_MISSING for exactly those keys is expected and
    // ignored, while every other refusal is reported (or re-asked on a terminal).
    const sent = { ...built.config };
    const placeholderKeys = new Set(built.placeholders.map((p) => p.key));
    for (const key of placeholderKeys) delete sent[key];
    const result = await validateAnswers(client, plugin.name, sent, role);
    const errors = result.errors.filter(
      (e) => !(e.code === 'CONFIG_MISSING' && placeholderKeys.has(configKey(e.path) ?? '')),
    );
    if (!errors.length) return { ...built, warnings: result.warnings };
    const reaskable = errors.every((e) => active.has(configKey(e.path) ?? ''));
    if (!survey.interactive || !reaskable) throw serverRefused(plugin.name, errors);
    for (const e of errors) {
      const q = active.get(configKey(e.path)!);
      if (q) await askOne(q, e.message);
    }
  }
}

function configKey(path: string): string | undefined {
  return path.startsWith('config.') ? path.slice('config.'.length) : undefined;
}

function buildConfig(plugin: PluginDetail, answers: Record<string, string>): Omit<PluginConfig, 'warnings'> {
  // Answers first (in question order), then the defaults they do not override.
  const config: Record<string, string> = { ...answers };
  for (const [k, v] of Object.entries(plugin.default_config)) if (!(k in config)) config[k] = v;
  for (const c of plugin.configs)
    if (c.default !== undefined && !(c.name in config)) config[c.name] = c.default;
  const secrets: string[] = [];
  const placeholders: Placeholder[] = [];
  for (const c of plugin.configs) {
    if (c.secret) {
      if (!isSecretReference(config[c.name] ?? '')) config[c.name] = secretReference(c.name);
      secrets.push(c.name);
    } else if (c.required && (config[c.name] ?? '').trim() === '') {
      config[c.name] = '';
      placeholders.push({ key: c.name, description: c.description ?? c.name });
    }
  }
  return { config, placeholders, secrets };
}

function serverRefused(plugin: string, errors: ValidationIssue[]): OptimusError {
  const lines = errors.map((e) => `  - ${configKey(e.path) ?? e.path}: ${e.message}`);
  return new OptimusError(
    'SURVEY_ANSWER_INVALID',
    `the server refused the answers for plugin "${plugin}":\n${lines.join('\n')}`,
    { category: 'invalid', hint: 'fix the answers named above (--set NAME=VALUE or --answers <file>)' },
  );
}
