/** Projects (with their hook ordering rules) and namespaces: register (idempotent), list, get. */
import { z } from 'zod';
import { parseHookRules } from '../../core/hook-rules.js';
import type { NamespaceRecord, ProjectRecord, Store } from '../../store/store.js';
import { ApiError } from '../errors.js';
import { type AnyRoute, defineRoute } from '../route.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const name = z
  .string()
  .regex(NAME, 'may contain only letters, digits, "_", "-" and "." and must start with a letter or digit');
const config = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

/** Config keys are upper-cased, as upstream does, so templates read `.proj.KEY`. */
const upper = (c: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(c ?? {}).map(([k, v]) => [k.toUpperCase(), v]));

export const projectJson = (p: ProjectRecord) => ({
  name: p.name,
  config: p.config,
  plugin_dependencies: p.pluginDependencies,
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

export function projectRoutes(store: Store): AnyRoute[] {
  const projectParams = z.object({ project: z.string().min(1) });
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1beta1/project',
      summary: 'Register project',
      tag: 'projects',
      body: z.object({
        project: z.object({
          name,
          config: config.optional(),
          plugin_dependencies: z
            .array(z.string())
            .optional()
            .describe('hook ordering rules such as "a >> b,c"'),
        }),
      }),
      handler: async ({ body }) => {
        const rules = body.project.plugin_dependencies ?? [];
        const { errors } = parseHookRules(rules);
        if (errors.length) {
          throw new ApiError(
            400,
            'HOOK_RULE_INVALID',
            `${errors.length} invalid hook ordering rule(s)`,
            errors.map((e) => ({ path: `body.project.plugin_dependencies[${e.index}]`, message: e.message })),
          );
        }
        const p = await store.upsertProject({
          name: body.project.name,
          config: upper(body.project.config),
          pluginDependencies: rules,
        });
        return { project: projectJson(p) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/project',
      summary: 'List projects',
      tag: 'projects',
      handler: async () => ({ projects: (await store.listProjects()).map(projectJson) }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/project/:project',
      summary: 'Get project',
      tag: 'projects',
      params: projectParams,
      handler: async ({ params }) => ({ project: projectJson(await requireProject(store, params.project)) }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1beta1/project/:project/namespace',
      summary: 'Register namespace',
      tag: 'namespaces',
      params: projectParams,
      body: z.object({ namespace: z.object({ name, config: config.optional() }) }),
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
      params: z.object({ project: z.string().min(1), namespace: z.string().min(1) }),
      handler: async ({ params }) => ({
        namespace: namespaceJson(await requireNamespace(store, params.project, params.namespace)),
      }),
    }),
  ];
}
