/** Plugin listing, specs, questions and validation: what keeps the client free of plugins. */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { checkConfigs } from '../../core/configs.js';
import { isTaskOnly, type Plugin } from '../../core/plugin.js';
import { DEFAULT_BASE_IMAGE, DEFAULT_REGISTRY } from '../../scheduler/airflow/contract.js';
import { type WrapperImages, wrapperImagesOf } from '../../scheduler/airflow/wrapper-image.js';
import type { Store } from '../../store/store.js';
import { ApiError, problemDetail } from '../errors.js';
import { describeReload, type PluginRegistry } from '../plugin-registry.js';
import { type AnyRoute, defineRoute } from '../route.js';

const nameParams = z.object({ name: z.string().min(1) });

export const PLUGIN_USAGE_LIMIT = { default: 100, max: 1000 };

const summarySchema = {
  name: z.string(),
  description: z.string(),
  version: z.string().describe("the plugin's version as its author labels it"),
  kind: z.enum(['yaml', 'binary']),
  dialect: z.enum(['v1', 'v2', 'v3']),
  mods: z.array(z.string()),
  stage_hint: z
    .enum(['pre', 'post', 'fail'])
    .nullable()
    .describe('legacy hooktype: the default stage as a hook'),
  task_only: z.boolean().describe('implements the dependency-resolver mod: a task, never a hook'),
};

/** Nested questions are typed one level deep (a JSON Schema $ref would not survive the OpenAPI document). */
const questionFields = {
  name: z.string(),
  prompt: z.string(),
  help: z.string().optional(),
  default: z.string().optional(),
  multiselect: z.array(z.string()).optional().describe('the options of a single-choice question'),
  regexp: z.string().optional(),
  validationerror: z.string().optional(),
  minlength: z.number().int().optional(),
  maxlength: z.number().int().optional(),
  required: z.boolean(),
};
const questionSchema = z
  .object({
    ...questionFields,
    subquestions: z.array(
      z
        .object({
          ifvalue: z.string(),
          questions: z.array(
            z.object(questionFields).loose().describe('a question (its own subquestions untyped)'),
          ),
        })
        .loose(),
    ),
  })
  .loose();

const versionSchema = z
  .object({
    image: z.string(),
    tag: z.string(),
    entrypoint: z
      .object({ shell: z.string(), script: z.string(), args: z.array(z.string()).optional() })
      .loose()
      .optional(),
  })
  .loose();

const detailSchema = z
  .object({
    ...summarySchema,
    versions: z.record(z.string(), versionSchema).describe('`default` plus any named versions'),
    questions: z.array(questionSchema),
    configs: z.array(
      z
        .object({
          name: z.string(),
          description: z.string().optional(),
          required: z.boolean(),
          secret: z.boolean(),
          forMods: z.boolean().optional(),
          default: z.string().optional(),
        })
        .loose(),
    ),
    default_config: z.record(z.string(), z.string()),
    default_assets: z.record(z.string(), z.string()),
    destination_urn_template: z.string().nullable(),
    asset_parsers: z.record(z.string(), z.array(z.object({}).loose())).nullable(),
    hints: z
      .object({
        kind: z.enum(['task', 'hook']).optional(),
        stage: z.enum(['pre', 'post', 'fail']).optional(),
        dependsOn: z.array(z.string()),
      })
      .loose(),
    wrapper_image: z.string().nullable().describe("the default version's wrapper image (Airflow pods)"),
    wrapper_images: z.record(z.string(), z.string()).describe('the wrapper image of every version'),
  })
  .loose();

const checkDetail = z
  .object({ path: z.string(), code: z.string(), message: z.string(), hint: z.string().optional() })
  .loose();

const reloadAnswer = z.object({
  plugins: z.number().int().describe('how many plugins are served now'),
  added: z.array(z.string()),
  removed: z.array(z.string()),
  changed: z.array(z.string()).describe('plugins whose served spec differs from before'),
  unchanged: z.number().int(),
  warnings: z.array(z.object({ message: z.string() }).loose()),
});

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

/** The wrapper image of the default version, and of every version (Airflow pods run these). */
function wrapperFields(p: Plugin, images: WrapperImages) {
  const all = wrapperImagesOf(p, images);
  return { wrapper_image: all.default ?? null, wrapper_images: all };
}

export function pluginRoutes(
  registry: PluginRegistry,
  images: WrapperImages = { baseImage: DEFAULT_BASE_IMAGE, registry: DEFAULT_REGISTRY },
  /** Absent: no usage route (the plugin routes alone need no store). */
  store?: Store,
): AnyRoute[] {
  const find = (name: string) => {
    // One read of the served set: a reload in between cannot mix two sets in one answer.
    const set = registry.current();
    const found = set.get(name);
    if (!found) {
      throw new ApiError(
        404,
        'PLUGIN_NOT_FOUND',
        `plugin "${name}" is not installed on this server`,
        [],
        `installed: ${
          set
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
      response: z.object({ plugins: z.array(z.object(summarySchema).loose()) }),
      handler: async () => ({ plugins: registry.list().map((s) => pluginSummary(s.plugin, s.kind)) }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1beta1/plugins/:name',
      summary: 'Get plugin',
      tag: 'plugins',
      params: nameParams,
      response: z.object({ plugin: detailSchema }),
      handler: async ({ params }) => {
        const s = find(params.name);
        return { plugin: { ...pluginDetail(s.plugin, s.kind), ...wrapperFields(s.plugin, images) } };
      },
    }),
    ...(store
      ? [
          defineRoute({
            method: 'GET',
            url: '/api/v1beta1/plugins/:name/usage',
            summary: 'Jobs using a plugin',
            tag: 'plugins',
            params: nameParams,
            query: z.object({
              limit: z.coerce
                .number()
                .int('must be a whole number')
                .min(1, 'must be at least 1')
                .max(PLUGIN_USAGE_LIMIT.max, `must be at most ${PLUGIN_USAGE_LIMIT.max}`)
                .optional()
                .describe(`at most this many (default ${PLUGIN_USAGE_LIMIT.default})`),
            }),
            response: z.object({
              plugin: z.string(),
              total: z.number().int().describe('uses in all, on every page'),
              jobs: z.array(
                z
                  .object({
                    project: z.string(),
                    namespace: z.string(),
                    job: z.string(),
                    as: z.enum(['task', 'hook']),
                    hook: z.string().nullable().describe('the hook name, when used as a hook'),
                  })
                  .loose()
                  .describe('one use: a job using it as task and as a hook is listed twice'),
              ),
            }),
            handler: async ({ params, query }) => {
              const name = find(params.name).plugin.name;
              const { total, uses } = await store.pluginUsage(
                name,
                query.limit ?? PLUGIN_USAGE_LIMIT.default,
              );
              return {
                plugin: name,
                total,
                jobs: uses.map((u) => ({
                  project: u.projectName,
                  namespace: u.namespaceName,
                  job: u.job,
                  as: u.as,
                  hook: u.hook,
                })),
              };
            },
          }),
        ]
      : []),
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
        errors: z.array(checkDetail),
        warnings: z.array(checkDetail),
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
      method: 'POST',
      url: '/api/v1beta1/plugins/reload',
      summary: 'Reload plugins',
      tag: 'plugins',
      response: reloadAnswer,
      handler: async ({ request }) => {
        const outcome = await registry.reload();
        if (!outcome.ok) {
          request.log.warn({ problems: outcome.problems }, describeReload(outcome));
          throw new ApiError(
            409,
            'PLUGIN_RELOAD_REFUSED',
            `the plugin set did not load cleanly (${outcome.problems.length} problem(s)): still serving the previous ${outcome.served} plugin(s)`,
            outcome.problems.map(problemDetail),
            'fix the listed plugins in the install location, then reload again',
          );
        }
        request.log.info(
          { added: outcome.added, removed: outcome.removed, changed: outcome.changed },
          describeReload(outcome),
        );
        return {
          plugins: outcome.served,
          added: outcome.added,
          removed: outcome.removed,
          changed: outcome.changed,
          unchanged: outcome.unchanged,
          warnings: outcome.problems.map(problemDetail),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/plugins',
      summary: 'Download plugin specs zip',
      tag: 'plugins',
      handler: async ({ request, reply }) => {
        // The ETag is the specs' fingerprint: a client holding a copy asks with If-None-Match and
        // gets a bodiless 304 until the served set changes, so checking for changes costs nothing.
        const zip = registry.zip();
        const etag = zipEtag(zip);
        reply.header('etag', etag);
        if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
        return reply
          .header('content-type', 'application/zip')
          .header('content-disposition', 'attachment; filename="yaml-plugins.zip"')
          .send(Buffer.from(zip));
      },
    }),
  ];
}

const etags = new WeakMap<Uint8Array, string>();
function zipEtag(zip: Uint8Array): string {
  let tag = etags.get(zip);
  if (!tag) {
    tag = `"${createHash('sha256').update(zip).digest('hex').slice(0, 32)}"`;
    etags.set(zip, tag);
  }
  return tag;
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === '*' || v === etag;
  });
}
