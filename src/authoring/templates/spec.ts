/**
 * The spec of a scaffolded plugin, written twice from one model: as plugin.yaml (yaml kind) and as
 * the `spec` object of src/main.ts (binary kind). One model, so both kinds start with the same
 * questions, configs, defaults and entrypoint script, and what the comments explain holds for both.
 *
 * The entrypoint is an inline `/bin/sh` script using only POSIX sh and busybox tools, so the same
 * script runs in the process executor (the server, `optimus plugin run`), in the Dockerfile's busybox
 * image (docker executor) and in Airflow pods.
 */

export interface ScaffoldModel {
  name: string;
  /** The dependency resolver: declarative (yaml) or the SDK's handlers (binary). */
  resolver: boolean;
}

interface QuestionModel {
  name: string;
  prompt: string;
  help?: string;
  regexp?: string;
  validationerror?: string;
  default?: string;
  multiselect?: string[];
  required?: boolean;
}

interface ConfigModel {
  name: string;
  description: string;
  required?: boolean;
  secret?: boolean;
  default?: string;
}

export const PLUGIN_VERSION = '0.1.0';
export const SECRET_CONFIG = 'API_TOKEN';
export const DEFAULT_BATCH_SIZE = '500';

/**
 * The image's repository: the plugin name, lower-cased and with separators Docker accepts (a plugin
 * may be called `My_Plugin..x`; an image path component may not).
 */
export function imageRepository(name: string): string {
  const repo = name
    .toLowerCase()
    .replace(/[._-]{2,}/g, '-')
    .replace(/[._-]+$/, '');
  return repo || 'plugin';
}

export function imageOf(name: string): string {
  return `docker.io/your-org/${imageRepository(name)}`;
}

export function descriptionOf(m: ScaffoldModel): string {
  return m.resolver
    ? 'Runs query.sql for each window and writes the result to PROJECT:DATASET.TABLE'
    : 'Runs query.sql for each window and writes the result to TABLE';
}

/** Where the result goes, as the script prints it. */
const target = (m: ScaffoldModel) => (m.resolver ? '$PROJECT:$DATASET.$TABLE' : '$TABLE');

/** The configs a job must give, in the order the script checks them. */
function requiredConfigs(m: ScaffoldModel): string[] {
  return [...(m.resolver ? ['PROJECT', 'DATASET'] : []), 'TABLE', 'MODE', SECRET_CONFIG];
}

/** The entrypoint: small, real, and safe with the secret (checked, never printed). */
export function entrypointScript(m: ScaffoldModel): string {
  return `set -eu
# Every config of the job is an environment variable: stop, clearly, when one is missing.
for name in ${requiredConfigs(m).join(' ')}; do
  eval "value=\\\${$name:-}"
  if [ -z "$value" ]; then
    echo "config $name is not set: give it under task.config of the job" >&2
    exit 2
  fi
done
# The job's assets, rendered for this run's window, are files in $JOB_DIR/in/.
query="$JOB_DIR/in/query.sql"
if [ ! -f "$query" ]; then
  echo "the job has no query.sql: add it to the job's assets/ folder" >&2
  exit 2
fi
lines=$(awk 'END { print NR }' "$query")
echo "$MODE the result of query.sql into ${target(m)} for the window $DSTART .. $DEND"
echo "in batches of \${BATCH_SIZE:-${DEFAULT_BATCH_SIZE}} rows; query.sql has $lines lines:"
awk '{ print "  | " $0 }' "$query"
# A secret is checked, never printed (logs mask secret values anyway).
echo "${SECRET_CONFIG} is set (not printed)"
echo "nothing was written: replace this script with the plugin's real work"
`;
}

function questions(m: ScaffoldModel): QuestionModel[] {
  const resolver: QuestionModel[] = [
    {
      name: 'PROJECT',
      prompt: 'Warehouse project of the table the job writes',
      help: 'a BigQuery project id, e.g. acme-dw',
      regexp: '^[a-z][a-z0-9-]{4,28}[a-z0-9]$',
      validationerror: '6 to 30 lower-case letters, digits and -, starting with a letter',
      required: true,
    },
    {
      name: 'DATASET',
      prompt: 'Dataset of that table',
      regexp: '^[A-Za-z0-9_]+$',
      validationerror: 'letters, digits and _ only',
      required: true,
    },
  ];
  return [
    ...(m.resolver ? resolver : []),
    {
      name: 'TABLE',
      prompt: 'Table the result is written to',
      help: 'lower-case letters, digits and _, e.g. orders_daily',
      regexp: '^[a-z][a-z0-9_]*$',
      validationerror: 'lower-case letters, digits and _, starting with a letter',
      required: true,
    },
    {
      name: 'MODE',
      prompt: 'How the result is written',
      default: 'APPEND',
      multiselect: ['APPEND', 'REPLACE'],
    },
  ];
}

function configs(m: ScaffoldModel): ConfigModel[] {
  return [
    ...(m.resolver
      ? [
          { name: 'PROJECT', description: 'warehouse project of the table the job writes', required: true },
          { name: 'DATASET', description: 'dataset of that table', required: true },
        ]
      : []),
    { name: 'TABLE', description: 'table the result is written to', required: true },
    { name: 'MODE', description: 'APPEND or REPLACE', default: 'APPEND' },
    { name: SECRET_CONFIG, description: 'credential of the warehouse', required: true, secret: true },
  ];
}

export const DEFAULT_QUERY = '-- the query to run for each window\nselect 1 as one\n';

// ---------------------------------------------------------------------------------------------
// plugin.yaml

const YAML_WORDS = /^(?:true|false|yes|no|on|off|null|~|y|n)$/i;

/**
 * A YAML scalar: plain when that reads back as the same string, else single-quoted. Inside a flow
 * mapping (`flow`) a comma would end the scalar.
 */
function y(s: string, flow = false): string {
  const plain =
    /^[A-Za-z][A-Za-z0-9 _.,()/-]*$/.test(s) &&
    !(flow && s.includes(',')) &&
    !YAML_WORDS.test(s) &&
    !s.endsWith(' ') &&
    !/ #|: /.test(s);
  return plain ? s : `'${s.replaceAll("'", "''")}'`;
}

function yamlQuestion(q: QuestionModel): string {
  const lines = [`  - name: ${q.name}`, `    prompt: ${y(q.prompt)}`];
  if (q.help) lines.push(`    help: ${y(q.help)}`);
  if (q.regexp) lines.push(`    regexp: ${y(q.regexp)}`);
  if (q.validationerror) lines.push(`    validationerror: ${y(q.validationerror)}`);
  if (q.default !== undefined) lines.push(`    default: ${y(q.default)}`);
  if (q.multiselect) lines.push(`    multiselect: [${q.multiselect.map((o) => y(o, true)).join(', ')}]`);
  if (q.required) lines.push('    required: true');
  return lines.join('\n');
}

function yamlConfig(c: ConfigModel): string {
  const fields = [`name: ${c.name}`, `description: ${y(c.description, true)}`];
  if (c.required) fields.push('required: true');
  if (c.secret) fields.push('secret: true');
  if (c.default !== undefined) fields.push(`default: ${y(c.default, true)}`);
  return `  - {${fields.join(', ')}}`;
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');
}

/** plugin.yaml, with comments that explain each part. `quotedName` is the name as a YAML scalar. */
export function pluginYaml(m: ScaffoldModel, quotedName: string): string {
  const resolver = m.resolver
    ? `
# The dependency resolver, declarative (no code): on deploy the server works out where each job
# writes and what it reads, so jobs reading this job's table run after it without being told.
# The destination is this template with each <CONFIG> taken from the job's task config.
destination_urn_template: bigquery://<PROJECT>:<DATASET>.<TABLE>
# The sources are the tables the rendered query.sql reads (BigQuery SQL; the destination itself
# is left out). Write tables as \`project.dataset.table\`.
asset_parsers:
  bq: [{filepath: query.sql}]
`
    : '';
  return `# The spec of the ${m.name} plugin (v3). \`optimus plugin test .\` checks it; \`optimus plugin schema\`
# prints the JSON Schema editors can check it with; docs/plugin-spec.md has every rule.
version: 3
name: ${quotedName}
description: ${y(descriptionOf(m))}

# What runs: the executor image (built from ./Dockerfile; push it under this name and tag) and the
# entrypoint, run as \`/bin/sh -c <script>\`. The script gets every config of the job as an
# environment variable, plus DSTART and DEND (the run's window), JOB_NAME, JOB_DESTINATION and
# GLOBAL__* (project config); the job's assets, rendered, are files in $JOB_DIR/in/.
# The same script runs in the process executor (\`optimus plugin run\`, the server) and in the image.
plugin_versions:
  default:
    image: ${imageOf(m.name)}
    tag: ${PLUGIN_VERSION}
    entrypoint:
      shell: /bin/sh
      script: |
${indent(entrypointScript(m), '        ')}
# \`optimus job create\` asks these when a job is created; each answer becomes the job's config of
# the same name. \`optimus job validate\` (and the server, on deploy) checks every job's config
# against the same rules: regexp (with validationerror as the message), options, required.
questions:
${questions(m).map(yamlQuestion).join('\n')}

# What a job gives this plugin under task.config. required: a job without it does not validate.
# secret: true: the job must write it as "{{ .secret.${SECRET_CONFIG} }}", a reference to a secret
# stored on the server (\`optimus secret set ${SECRET_CONFIG}\`), never the value; the value reaches
# the script as a variable at run time only, and is masked in logs.
configs:
${configs(m).map(yamlConfig).join('\n')}

# Config every job gets unless it sets its own.
default_config:
  BATCH_SIZE: "${DEFAULT_BATCH_SIZE}"

# Files \`optimus job create\` writes into a new job's assets/ folder, for the author to edit.
# Assets are templates: {{ .DSTART }} and {{ .DEND }} become the run's window.
default_assets:
  query.sql: |
${indent(DEFAULT_QUERY, '    ')}${resolver}`;
}

// ---------------------------------------------------------------------------------------------
// src/main.ts

/** A TypeScript string literal, single-quoted. */
function ts(s: string): string {
  return `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n')}'`;
}

function present(fields: [string, string | undefined][]): string[] {
  return fields.filter((f): f is [string, string] => f[1] !== undefined).map(([k, v]) => `${k}: ${v}`);
}

const tsOptional = (s: string | undefined) => (s === undefined ? undefined : ts(s));

function tsQuestion(q: QuestionModel): string {
  const fields = present([
    ['name', ts(q.name)],
    ['prompt', ts(q.prompt)],
    ['help', tsOptional(q.help)],
    ['regexp', tsOptional(q.regexp)],
    ['validationerror', tsOptional(q.validationerror)],
    ['default', tsOptional(q.default)],
    ['multiselect', q.multiselect ? `[${q.multiselect.map(ts).join(', ')}]` : undefined],
    ['required', q.required ? 'true' : undefined],
  ]);
  return `    {\n${fields.map((f) => `      ${f},`).join('\n')}\n    },`;
}

function tsConfig(c: ConfigModel): string {
  const fields = present([
    ['name', ts(c.name)],
    ['description', ts(c.description)],
    ['required', c.required ? 'true' : undefined],
    ['secret', c.secret ? 'true' : undefined],
    ['default', tsOptional(c.default)],
  ]);
  return `    { ${fields.join(', ')} },`;
}

/** One line of the script as the literal that needs no escapes, where there is one. */
function tsLine(line: string): string {
  if (!line.includes("'")) return ts(line);
  if (!line.includes('"')) return `"${line.replaceAll('\\', '\\\\')}"`;
  if (!/[`\\]|\$\{/.test(line)) return `\`${line}\``;
  return ts(line);
}

/** The spec object's entrypoint script, one string per line (easier to read and edit than one literal). */
function tsScript(m: ScaffoldModel): string {
  const lines = entrypointScript(m).split('\n');
  return `[\n${lines.map((l) => `          ${tsLine(l)},`).join('\n')}\n        ].join('\\n')`;
}

/** src/main.ts of the binary kind: the spec, and with the resolver its two handlers. */
export function mainTs(m: ScaffoldModel): string {
  const imports = m.resolver
    ? "import { destinationUrn, requireConfig, servePlugin } from '@optimus-ts/plugin-sdk';\nimport { extractSources } from '@optimus-ts/plugin-sdk/sql';"
    : "import { servePlugin } from '@optimus-ts/plugin-sdk';";
  const about = m.resolver
    ? ` * Optimus starts dist/${m.name} and asks it for this spec (the handshake); on deploy it also asks
 * generateDestination and generateDependencies below where each job writes and what it reads, so
 * jobs reading this job's table run after it without being told.`
    : ` * Optimus starts dist/${m.name} and asks it for this spec (the handshake). To also tell where a job
 * writes and what it reads, see \`optimus plugin init --mod dependency-resolver\`.`;
  const serve = m.resolver
    ? `/** Where a job writes: its PROJECT:DATASET.TABLE as a BigQuery URN. */
function destinationOf(config: Record<string, string>): string {
  const { PROJECT, DATASET, TABLE } = requireConfig({ config }, 'PROJECT', 'DATASET', 'TABLE');
  return destinationUrn('bigquery', \`\${PROJECT}:\${DATASET}.\${TABLE}\`);
}

// Both handlers get the job's task config and assets rendered (configs reading secrets are left
// out). Throwing fails that job's deploy with your message, shown to the job's owner as is.
servePlugin({
  spec,
  generateDestination: ({ config }) => destinationOf(config),
  generateDependencies: ({ config, assets }) => {
    const query = assets['query.sql'];
    if (query === undefined)
      throw new Error(${ts(`the job has no query.sql asset: ${m.name} reads its sources from it`)});
    // The tables query.sql reads, as bigquery:// URNs, without the destination; \`dataset.table\`
    // is read in the job's PROJECT.
    const { sources, warnings } = extractSources(query, {
      destination: destinationOf(config),
      defaultProject: config.PROJECT,
    });
    return { dependencies: sources, warnings };
  },
});
`
    : 'servePlugin({ spec });\n';
  const mods = m.resolver
    ? `
  // This plugin answers generate_destination and generate_dependencies (below).
  mods: ['dependency_resolver'],`
    : '';
  return `/**
 * The ${m.name} plugin: its spec, served over the Optimus plugin protocol by the SDK.
 * \`optimus plugin build .\` bundles this file and the SDK into one executable, dist/${m.name}.
${about}
 * The task itself is the entrypoint script below, run in the executor image (./Dockerfile).
 */
${imports}

// The same shape as a v3 plugin.yaml (docs/plugin-spec.md has every rule).
const spec = {
  version: 3,
  name: ${ts(m.name)},
  description: ${ts(descriptionOf(m))},
  // What runs: the executor image (built from ./Dockerfile; push it under this name and tag) and
  // the entrypoint, run as \`/bin/sh -c <script>\`. The script gets every config of the job as an
  // environment variable, plus DSTART and DEND (the run's window), JOB_NAME, JOB_DESTINATION and
  // GLOBAL__* (project config); the job's assets, rendered, are files in $JOB_DIR/in/.
  plugin_versions: {
    default: {
      image: ${ts(imageOf(m.name))},
      tag: ${ts(PLUGIN_VERSION)},
      entrypoint: {
        shell: '/bin/sh',
        script: ${tsScript(m)},
      },
    },
  },
  // \`optimus job create\` asks these when a job is created; each answer becomes the job's config of
  // the same name. \`optimus job validate\` (and the server, on deploy) checks every job's config
  // against the same rules: regexp (with validationerror as the message), options, required.
  questions: [
${questions(m).map(tsQuestion).join('\n')}
  ],
  // What a job gives this plugin under task.config. required: a job without it does not validate.
  // secret: true: the job must write it as "{{ .secret.${SECRET_CONFIG} }}", a reference to a secret
  // stored on the server (\`optimus secret set ${SECRET_CONFIG}\`), never the value; the value reaches
  // the script as a variable at run time only, and is masked in logs.
  configs: [
${configs(m).map(tsConfig).join('\n')}
  ],
  // Config every job gets unless it sets its own.
  default_config: { BATCH_SIZE: ${ts(DEFAULT_BATCH_SIZE)} },
  // Files \`optimus job create\` writes into a new job's assets/ folder, for the author to edit.
  // Assets are templates: {{ .DSTART }} and {{ .DEND }} become the run's window.
  default_assets: { 'query.sql': ${ts(DEFAULT_QUERY)} },${mods}
};

${serve}`;
}
