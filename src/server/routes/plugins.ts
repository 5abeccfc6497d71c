/** Plugin listing, specs, questions and validation: what keeps the client free of plugins. */
import { z } from 'zod';
import { checkConfigs } from '../../core/configs.js';
import { isTaskOnly, type Plugin } from '../../core/plugin.js';
import { ApiError } from '../errors.js';
import type { PluginRegistry } from '../plugin-registry.js';
import { type AnyRoute, defineRoute } from '../route.js';

const nameParams = z.object({ name: z.string().min(1) });

export function pluginSummary(p: Plugin, kind: string) {
  return {
    name: p.name,
    description: p.description,
    version: p.version,
    kind,
    dialect: p.dialect,
    mods: p.mods,
    stage_hint: p.hints.stage ?? null,
    task_only: isTaskOnly(p),
  };
}

export function pluginDetail(p: Plugin, kind: string) {
  return {
    ...pluginSummary(p, kind),
    versions: p.versions,
    questions: p.questions,
    configs: p.configs,
    default_config: p.defaultConfig,
    default_assets: p.defaultAssets,
    destination_urn_template: p.destinationUrnTemplate ?? null,
    asset_parsers: p.assetParsers ?? null,
    hints: p.hints,
  };
}

export function pluginRoutes(registry: PluginRegistry): AnyRoute[] {
  const find = (name: string) => {
    const found = registry.get(name);
    if (!found) {
      throw new ApiError(
        404,
        'PLUGIN_NOT_FOUND',
        `plugin "${name}" is not installed on this server`,
        [],
        `installed: ${
          registry
            .list()
            .map((s) => s.plugin.name)
            .join(', ') || 'none'
        }`,
      );
    }
    return found;
  };
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/plugins',
      summary: 'List plugins',
      tag: 'plugins',
      response: z.object({
        plugins: z.array(z.object({ name: z.string(), version: z.string(), kind: z.string() }).loose()),
      }),
      handler: async () => ({ plugins: registry.list().map((s) => pluginSummary(s.plugin, s.kind)) }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/plugins/:name',
      summary: 'Get plugin',
      tag: 'plugins',
      params: nameParams,
      handler: async ({ params }) => {
        const s = find(params.name);
        return { plugin: pluginDetail(s.plugin, s.kind) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1beta1/plugins/:name/validate',
      summary: 'Validate plugin config',
      tag: 'plugins',
      params: nameParams,
      body: z.object({
        config: z.record(z.string(), z.string()).optional().describe('config map as written in a job'),
        answers: z.record(z.string(), z.string()).optional().describe('survey answers; merged over config'),
        role: z.enum(['task', 'hook']).optional(),
      }),
      response: z.object({
        valid: z.boolean(),
        errors: z.array(z.object({ path: z.string(), message: z.string() }).loose()),
      }),
      handler: async ({ params, body }) => {
        const s = find(params.name);
        const role = body.role ?? 'task';
        if (role === 'hook' && isTaskOnly(s.plugin)) {
          return {
            valid: false,
            errors: [
              {
                path: 'role',
                code: 'PLUGIN_TASK_ONLY',
                message: `plugin "${s.plugin.name}" implements the dependency-resolver mod, so it can only be a task`,
              },
            ],
            warnings: [],
          };
        }
        const issues = checkConfigs(s.plugin, { ...body.config, ...body.answers }, role);
        const detail = (i: (typeof issues)[number]) => ({
          path: `config.${i.key}`,
          code: i.code,
          message: i.message,
          ...(i.hint ? { hint: i.hint } : {}),
        });
        const errors = issues.filter((i) => i.severity === 'error');
        const warnings = issues.filter((i) => i.severity === 'warning');
        return { valid: errors.length === 0, errors: errors.map(detail), warnings: warnings.map(detail) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/plugins',
      summary: 'Download plugin specs zip',
      tag: 'plugins',
      handler: async ({ reply }) =>
        reply
          .header('content-type', 'application/zip')
          .header('content-disposition', 'attachment; filename="yaml-plugins.zip"')
          .send(Buffer.from(registry.zip())),
    }),
  ];
}
