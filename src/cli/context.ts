/** What project commands share: the project config, the server client and the project's name. */
import { OptimusError } from '../core/errors.js';
import { errorsOf } from '../core/problem.js';
import { loadProjectConfig, type ProjectConfig } from '../spec/project-config.js';
import { type ApiClient, createApiClient } from './api-client.js';
import { err } from './colors.js';
import { formatProblem } from './output.js';

export const DEFAULT_HOST = 'http://127.0.0.1:9100';

/** Load optimus.yaml from `--dir` (default cwd); every problem is printed and fails the command. */
export function projectConfig(opts: Record<string, unknown>): ProjectConfig {
  const { config, problems } = loadProjectConfig(String(opts.dir ?? '.'));
  if (!config) {
    for (const p of errorsOf(problems)) process.stderr.write(`${formatProblem(p, process.cwd(), err)}\n`);
    // No optimus.yaml where the user pointed is bad usage (exit 2); one that is there but wrong is a
    // problem found in the project (exit 1), as `job validate` reports it.
    const missing = problems.some((p) => p.code === 'PROJECT_CONFIG_MISSING');
    throw new OptimusError(problems[0]?.code ?? 'PROJECT_CONFIG_INVALID', 'optimus.yaml cannot be used', {
      category: missing ? 'usage' : 'invalid',
      hint: problems[0]?.hint ?? 'fix the problems above',
    });
  }
  return config;
}

/** The server client: `--host`, else optimus.yaml's `host` (when given), else the local default. */
export function serverClient(opts: Record<string, unknown>, config?: ProjectConfig): ApiClient {
  const host = (opts.host as string | undefined) ?? config?.host ?? process.env.OPTIMUS_HOST ?? DEFAULT_HOST;
  return createApiClient({ host, token: process.env.OPTIMUS_TOKEN });
}

/** optimus.yaml when there is one (for its host); commands that work without a project use this. */
export function projectConfigIfAny(opts: Record<string, unknown>): ProjectConfig | undefined {
  return loadProjectConfig(String(opts.dir ?? '.')).config;
}

/** Register the project of optimus.yaml (its config and hook rules) and the given namespaces. */
export async function registerProject(
  client: ApiClient,
  config: ProjectConfig,
  namespaces: string[] = [],
): Promise<{ project: unknown; namespaces: unknown[]; warnings: { path?: string; message: string }[] }> {
  const { project, warnings = [] } = await client.post<{
    project: unknown;
    warnings?: { path?: string; message: string }[];
  }>('/api/v1beta1/project', {
    project: {
      name: config.project.name,
      config: config.project.config,
      plugin_dependencies: config.hookRules.map((r) => r.text),
      // Always sent (empty without a presets file) so the server checks the presets jobs name.
      presets: config.presetWindows ?? {},
    },
  });
  const out: unknown[] = [];
  for (const name of namespaces) {
    const ns = config.namespaces.find((n) => n.name === name);
    const r = await client.post<{ namespace: unknown }>(
      `/api/v1beta1/project/${encodeURIComponent(config.project.name)}/namespace`,
      {
        namespace: { name, config: ns?.config ?? {} },
      },
    );
    out.push(r.namespace);
  }
  return { project, namespaces: out, warnings };
}
