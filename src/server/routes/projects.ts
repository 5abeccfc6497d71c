/** Projects (with their hook ordering rules) and namespaces: register (idempotent), list, get. */
import { z } from 'zod';
import { parseHookRules } from '../../core/hook-rules.js';
import { hasControlChar } from '../../core/names.js';
import { findRuleCycle, unknownRuleNames } from '../../services/project-rules.js';
import { windowSchema } from '../../spec/job-schema.js';
import type { NamespaceRecord, ProjectRecord, Store } from '../../store/store.js';
import { ApiError } from '../errors.js';
import { namespaceName, projectName } from '../names.js';
import type { PluginRegistry } from '../plugin-registry.js';
import { type AnyRoute, defineRoute } from '../route.js';
import { timestamp } from './schemas.js';

/** The `presets` map of a project's window presets file (`project.preset_path` in optimus.yaml). */
const presets = z
  .record(
    z
      .string()
      .min(1, 'must not be empty')
      .max(100, 'must be at most 100 characters')
      .refine((s) => !hasControlChar(s), 'must not contain control characters'),
    z.strictObject({ description: z.string().max(1000).optional(), window: windowSchema }),
  )
  .refine((m) => Object.keys(m).length <= 1000, 'at most 1000 presets')
  .describe('window presets by name, as in the presets file; absent = presets are not checked');

const config = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

/** Config keys are upper-cased, as upstream does, so templates read `.proj.KEY`. */
const upper = (c: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(c ?? {}).map(([k, v]) => [k.toUpperCase(), v]));

export const projectJson = (p: ProjectRecord) => ({
  name: p.name,
  config: p.config,
  plugin_dependencies: p.pluginDependencies,
  presets: p.windowPresets,
  created_at: p.createdAt.toISOString(),
  updated_at: p.updatedAt.toISOString(),
});

export const namespaceJson = (n: NamespaceRecord) => ({
  name: n.name,
  project: n.projectName,
  config: n.config,
  created_at: n.createdAt.toISOString(),
  updated_at: n.updatedAt.toISOString(),
});

const projectSchema = z
  .object({
    name: z.string(),
    config: z.record(z.string(), z.string()),
    plugin_dependencies: z.array(z.string()).describe('hook ordering rules such as "a >> b,c"'),
    presets: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe('window presets by name; null: none sent, presets are not checked'),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .loose();

const namespaceSchema = z
  .object({
    name: z.string(),
    project: z.string(),
    config: z.record(z.string(), z.string()),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .loose();

export async function requireProject(store: Store, name: string): Promise<ProjectRecord> {
  const p = await store.getProject(name);
  if (!p)
    throw new ApiError(
      404,
      'PROJECT_NOT_FOUND',
      `project "${name}" is not registered`,
      [],
      'register it with `optimus project register` (POST /api/v1beta1/project)',
    );
  return p;
}

export async function requireNamespace(
  store: Store,
  project: string,
  name: string,
): Promise<NamespaceRecord> {
  await requireProject(store, project);
  const n = await store.getNamespace(project, name);
  if (!n)
    throw new ApiError(
      404,
      'NAMESPACE_NOT_FOUND',
      `namespace "${name}" is not registered in project "${project}"`,
      [],
      'register it with `optimus namespace register`',
    );
  return n;
}

/** Names of the hooks of every job deployed in the project (from the stored run graphs). */
async function deployedHookNames(store: Store, project: string): Promise<Set<string>> {
  const names = new Set<string>();
  for (const ns of await store.listNamespaces(project)) {
    for (const job of await store.listJobs(project, ns.name)) {
      if (!Array.isArray(job.runGraph)) continue;
      for (const node of job.runGraph) {
        const name = (node as { name?: unknown } | null)?.name;
        if (typeof name === 'string') names.add(name);
      }
    }
  }
  return names;
}

export function projectRoutes(store: Store, registry: PluginRegistry): AnyRoute[] {
  const projectParams = z.object({ project: projectName });
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1beta1/project',
      summary: 'Register project',
      tag: 'projects',
      body: z.object({
        project: z.object({
          name: projectName,
          config: config.optional(),
          plugin_dependencies: z
            .array(z.string())
            .optional()
            .describe('hook ordering rules such as "a >> b,c"'),
          presets: presets.optional(),
        }),
      }),
      response: z.object({
        project: projectSchema,
        warnings: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() }).loose()),
      }),
      handler: async ({ body }) => {
        const rules = body.project.plugin_dependencies ?? [];
        const rulePath = (i: number) => `body.project.plugin_dependencies[${i}]`;
        const parsed = parseHookRules(rules);
        if (parsed.errors.length) {
          throw new ApiError(
            400,
            'HOOK_RULE_INVALID',
            `${parsed.errors.length} invalid hook ordering rule(s)`,
            parsed.errors.map((e) => ({ path: rulePath(e.index), message: e.message })),
          );
        }
        const cycle = findRuleCycle(parsed.rules);
        if (cycle) {
          const loop = cycle.cycle.join(' → ');
          throw new ApiError(
            400,
            'HOOK_RULE_CYCLE',
            `hook ordering rules contradict each other: ${loop}`,
            cycle.rules.map((i) => ({
              path: rulePath(i),
              message: `"${rules[i]}" is part of the cycle ${loop}`,
            })),
            'remove or reverse one of these rules; a job can still order its own hooks with depends_on',
          );
        }
        const p = await store.upsertProject({
          name: body.project.name,
          config: upper(body.project.config),
          pluginDependencies: rules,
          windowPresets: body.project.presets ?? null,
        });
        let unknown = unknownRuleNames(parsed.rules, new Set(registry.plugins.keys()));
        if (unknown.length) {
          // Rules usually name hooks by their own names: those of deployed jobs are known too.
          const hooks = await deployedHookNames(store, p.name);
          unknown = unknown.filter((w) => !hooks.has(w.name));
        }
        const warnings = unknown.map((w) => ({
          path: rulePath(w.index),
          code: 'HOOK_RULE_UNKNOWN_NAME',
          message: w.message,
        }));
        return { project: projectJson(p), warnings };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/project',
      summary: 'List projects',
      tag: 'projects',
      response: z.object({ projects: z.array(projectSchema) }),
      handler: async () => ({ projects: (await store.listProjects()).map(projectJson) }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/project/:project',
      summary: 'Get project',
      tag: 'projects',
      params: projectParams,
      response: z.object({ project: projectSchema }),
      handler: async ({ params }) => ({ project: projectJson(await requireProject(store, params.project)) }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1beta1/project/:project/namespace',
      summary: 'Register namespace',
      tag: 'namespaces',
      params: projectParams,
      body: z.object({ namespace: z.object({ name: namespaceName, config: config.optional() }) }),
      response: z.object({ namespace: namespaceSchema }),
      handler: async ({ params, body }) => {
        await requireProject(store, params.project);
        const n = await store.upsertNamespace({
          projectName: params.project,
          name: body.namespace.name,
          config: upper(body.namespace.config),
        });
        return { namespace: namespaceJson(n) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/project/:project/namespace',
      summary: 'List namespaces',
      tag: 'namespaces',
      params: projectParams,
      response: z.object({ namespaces: z.array(namespaceSchema) }),
      handler: async ({ params }) => {
        await requireProject(store, params.project);
        return { namespaces: (await store.listNamespaces(params.project)).map(namespaceJson) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/project/:project/namespace/:namespace',
      summary: 'Get namespace',
      tag: 'namespaces',
      params: z.object({ project: projectName, namespace: namespaceName }),
      response: z.object({ namespace: namespaceSchema }),
      handler: async ({ params }) => ({
        namespace: namespaceJson(await requireNamespace(store, params.project, params.namespace)),
      }),
    }),
  ];
}
