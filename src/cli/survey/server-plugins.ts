/** What the survey needs from the server: the plugin list, one plugin's questions, and validation. */
import type { HookStage, Question } from '../../core/plugin.js';
import { type ApiClient, seg } from '../api-client.js';

export interface PluginSummary {
  name: string;
  description: string;
  version: string;
  kind: string;
  mods: string[];
  stage_hint: HookStage | null;
  task_only: boolean;
}

export interface PluginDetail extends PluginSummary {
  questions: Question[];
  configs: { name: string; description?: string; required: boolean; secret: boolean; default?: string }[];
  default_config: Record<string, string>;
  default_assets: Record<string, string>;
}

export interface ValidationIssue {
  path: string;
  code?: string;
  message: string;
  hint?: string;
}

export interface ValidationResult {
  valid: boolean;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
}

export async function listPlugins(client: ApiClient): Promise<PluginSummary[]> {
  const { plugins } = await client.get<{ plugins: PluginSummary[] }>('/api/v1beta1/plugins');
  return [...plugins].sort((a, b) => a.name.localeCompare(b.name));
}

export async function getPlugin(client: ApiClient, name: string): Promise<PluginDetail> {
  return (await client.get<{ plugin: PluginDetail }>(`/api/v1beta1/plugins/${seg(name)}`)).plugin;
}

export async function validateAnswers(
  client: ApiClient,
  name: string,
  answers: Record<string, string>,
  role: 'task' | 'hook',
): Promise<ValidationResult> {
  const r = await client.post<Partial<ValidationResult>>(`/api/v1beta1/plugins/${seg(name)}/validate`, {
    answers,
    role,
  });
  return { valid: r.valid ?? false, errors: r.errors ?? [], warnings: r.warnings ?? [] };
}
