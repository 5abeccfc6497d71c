/**
 * Shapes of the three plugin dialects. The v3 schema is the source of the committed JSON Schema
 * (`schemas/plugin-v3.schema.json`), so editors check plugin files with the validator's own rules.
 */
import { z } from 'zod';

const scalar = z.union([z.string(), z.number(), z.boolean()], {
  error: 'must be a string, number or boolean',
});
const identifier = z
  .string()
  .min(1)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    'may contain only letters, digits, "_", "-" and "." and must start with a letter or digit',
  );
const configName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment-variable style name ([A-Za-z_][A-Za-z0-9_]*)');

export const entrypointSchema = z.strictObject({
  shell: z.string().min(1).optional().describe('shell that runs the script; default /bin/sh'),
  script: z.string().min(1).describe('command run inside the executor image'),
});

interface QuestionShape {
  name: string;
  prompt?: string;
  help?: string;
  default?: string | number | boolean;
  multiselect?: string[];
  regexp?: string;
  validationerror?: string;
  minlength?: number;
  maxlength?: number;
  required?: boolean;
  subquestions?: { ifvalue: string | number | boolean; questions: QuestionShape[] }[];
}

function questionSchema(opts: { promptRequired: boolean }): z.ZodType<QuestionShape> {
  const q: z.ZodType<QuestionShape> = z.lazy(() =>
    z.strictObject({
      name: configName.describe('config key the answer is stored under'),
      prompt: opts.promptRequired ? z.string().min(1) : z.string().optional(),
      help: z.string().optional(),
      default: scalar.optional(),
      multiselect: z.array(z.string()).min(1).optional().describe('options offered as a single choice'),
      regexp: z.string().optional(),
      validationerror: z.string().optional().describe('message shown when the regexp does not match'),
      minlength: z.int().nonnegative().optional(),
      maxlength: z.int().positive().optional(),
      required: z.boolean().optional(),
      subquestions: z
        .array(z.strictObject({ ifvalue: scalar, questions: z.array(q) }))
        .optional()
        .describe('asked when the answer equals ifvalue'),
    }),
  );
  return q;
}

/** v3 also has the exec form: `args` run directly, without a shell. */
const v3EntrypointFields = z.strictObject({
  shell: z.string().min(1).optional().describe('shell that runs the script; default /bin/sh'),
  script: z.string().min(1).optional().describe('command run inside the executor image, by the shell'),
  args: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe(
      'instead of script: the program and its arguments, run directly (no shell, no variable expansion)',
    ),
});
const v3Entrypoint = v3EntrypointFields.superRefine((e, ctx) => {
  if (e.script === undefined && e.args === undefined)
    ctx.addIssue({ code: 'custom', message: 'needs script (run by the shell) or args (run directly)' });
  if (e.script !== undefined && e.args !== undefined)
    ctx.addIssue({ code: 'custom', path: ['args'], message: 'give script or args, not both' });
  if (e.args !== undefined && e.shell !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['shell'],
      message: 'shell is used only with script; args run without one',
    });
});

const assetParserSchema = z.strictObject({
  filepath: z.string().optional(),
  selector: z.string().optional(),
  env: z.string().optional(),
});

const versionEntry = (full: boolean) =>
  z.strictObject({
    image: full ? z.string().min(1) : z.string().optional(),
    tag: full ? z.union([z.string().min(1), z.number()]) : z.union([z.string(), z.number()]).optional(),
    entrypoint: full ? v3Entrypoint : v3EntrypointFields.partial().optional(),
  });

const pluginVersionsSchema = z
  .object({ default: versionEntry(true) })
  .catchall(versionEntry(false))
  .describe('`default` is required; other keys are selectable versions that override it');

export const pluginV3Schema = z
  .strictObject({
    version: z.literal(3),
    name: identifier,
    description: z.string().optional(),
    plugin_versions: pluginVersionsSchema,
    questions: z.array(questionSchema({ promptRequired: true })).optional(),
    configs: z
      .array(
        z.strictObject({
          name: configName,
          description: z.string().optional(),
          required: z.boolean().optional(),
          secret: z.boolean().optional().describe('must be given as {{ .secret.NAME }} in jobs'),
          for_mods: z
            .boolean()
            .optional()
            .describe(
              'the dependency-resolver mod receives this config rendered even when it reads a secret; others reading secrets are left out',
            ),
          default: scalar.optional(),
        }),
      )
      .optional(),
    default_config: z.record(z.string(), scalar).optional(),
    default_assets: z.record(z.string(), z.string()).optional(),
    default_stage: z.enum(['pre', 'post', 'fail']).optional().describe('stage used when a job does not say'),
    destination_urn_template: z.string().optional().describe('e.g. warehouse://<PROJECT>.<TABLE>'),
    asset_parsers: z.record(z.string(), z.array(assetParserSchema)).optional(),
    mods: z.array(z.enum(['dependency_resolver'])).optional(),
  })
  .describe('Optimus plugin spec, version 3');

const deprecated = z.unknown().optional();

export const pluginV2Schema = z.strictObject({
  version: z.literal(2),
  name: identifier,
  description: z.string().optional(),
  plugin_versions: pluginVersionsSchema,
  default_config: z.record(z.string(), scalar).optional(),
  destination_urn_template: z.string().optional(),
  asset_parsers: z.record(z.string(), z.array(assetParserSchema)).optional(),
  api_version: deprecated,
  apiversion: deprecated,
  dry_run: deprecated,
});

const nameValue = z.strictObject({ name: z.string().min(1), value: scalar.optional() });

export const pluginV1Schema = z.strictObject({
  name: identifier,
  description: z.string().optional(),
  plugintype: z.enum(['task', 'hook']),
  pluginmods: z.array(z.string()).optional(),
  pluginversion: z.union([z.string().min(1), z.number()], { error: 'must be a non-empty version string' }),
  image: z.string().min(1),
  // Releases before 0.7 had no entrypoint: the image's own is meant (warned about, see plugin-spec).
  entrypoint: z
    .union([entrypointSchema, z.string().min(1)], {
      error: 'must be a mapping with shell and script',
    })
    .optional(),
  // Upstream never checks hooktype, and task plugins often carry `hooktype: ""`.
  hooktype: z.enum(['pre', 'post', 'fail', '']).optional(),
  dependson: z.array(z.string()).optional(),
  questions: z.array(questionSchema({ promptRequired: false })).optional(),
  defaultconfig: z.array(nameValue).optional(),
  defaultassets: z.array(nameValue).optional(),
  // Intermediate goto format: v1 keys plus these two.
  destination_urn_template: z.string().optional(),
  asset_parsers: z.record(z.string(), z.array(assetParserSchema)).optional(),
  apiversion: deprecated,
  api_version: deprecated,
  dry_run: deprecated,
  secretpath: deprecated,
});

export const DEPRECATED_PLUGIN_KEYS: Record<string, string> = {
  apiversion: 'api_version is no longer part of the plugin contract and is ignored',
  api_version: 'api_version is no longer part of the plugin contract and is ignored',
  dry_run: 'dry_run is no longer part of the plugin contract and is ignored',
  secretpath: 'secretpath is ignored: secrets reach plugins only through the job spec ({{ .secret.NAME }})',
};
