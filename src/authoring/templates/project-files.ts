/**
 * The files of a scaffolded plugin project besides its spec: the executor image's Dockerfile, the
 * sample job with its query, the expectations `optimus plugin test` checks, the README with the
 * author loop, and (binary kind) package.json and tsconfig.json.
 *
 * The expectations in tests/sample.yaml are written by the rules the server renders with (see
 * SAMPLE_WINDOW), not by running the renderer: for the untouched scaffold they must hold, and the
 * scaffold's own tests check that they do.
 */
import { descriptionOf, imageOf, PLUGIN_VERSION, type ScaffoldModel, SECRET_CONFIG } from './spec.js';

export type ScaffoldKind = 'yaml' | 'binary';

export interface ProjectModel extends ScaffoldModel {
  kind: ScaffoldKind;
}

/** The sample's task config values (they pass the questions' rules). */
export const SAMPLE_CONFIG = { PROJECT: 'acme-dw', DATASET: 'sales', TABLE: 'orders_daily' };

/**
 * The sample's fixed run: scheduled daily at 02:00 UTC, with a window of `size: 1d, truncate_to: d`
 * in UTC, the time truncated to the day is the end and one day before it the start.
 */
export const SAMPLE_WINDOW = {
  scheduledAt: '2026-03-02T02:00:00Z',
  dstart: '2026-03-01T00:00:00Z',
  dend: '2026-03-02T00:00:00Z',
};

/** Tables the sample query reads: the dependencies the resolver must find (sorted). */
export const SAMPLE_SOURCES = ['bigquery://acme-dw:sales.customers', 'bigquery://acme-dw:sales.orders'];

export const SAMPLE_QUERY = `-- One day of orders with the country of each customer. Before each run Optimus renders the
-- window into the query: DSTART and DEND are its start and end (RFC 3339, here in UTC).
select o.order_id, o.amount, c.country
from \`acme-dw.sales.orders\` as o
join \`acme-dw.sales.customers\` as c using (customer_id)
where o.created_at >= timestamp('{{ .DSTART }}')
  and o.created_at < timestamp('{{ .DEND }}')
`;

/** The job name of the sample: `<plugin>-sample` while that is a valid job name (at most 125 characters). */
export function sampleJobName(name: string): string {
  const job = `${name}-sample`;
  return job.length <= 125 ? job : 'sample';
}

const specFile = (m: ProjectModel) => (m.kind === 'yaml' ? 'plugin.yaml' : 'src/main.ts');

export function dockerfile(m: ProjectModel): string {
  return `# The executor image of the ${m.name} plugin. Optimus runs the entrypoint script of the spec
# (${specFile(m)}) in it as \`/bin/sh -c <script>\`, with the job's configs as environment variables
# and the job's rendered input in /data/in (JOB_DIR=/data), as the server's user.
# busybox has everything the script uses (sh, awk); add what the plugin's real work needs.
#
#   docker build -t ${imageOf(m.name)}:${PLUGIN_VERSION} .
#   docker push ${imageOf(m.name)}:${PLUGIN_VERSION}
#
# The name and tag must be the spec's plugin_versions.default image and tag.
FROM busybox:1.37
WORKDIR /data
`;
}

export function sampleJob(m: ProjectModel, quote: (s: string) => string): string {
  const config = [
    ...(m.resolver ? [`PROJECT: ${SAMPLE_CONFIG.PROJECT}`, `DATASET: ${SAMPLE_CONFIG.DATASET}`] : []),
    `TABLE: ${SAMPLE_CONFIG.TABLE}`,
    'MODE: APPEND',
    `# A secret is always a reference to a secret stored on the server, never its value.`,
    `${SECRET_CONFIG}: "{{ .secret.${SECRET_CONFIG} }}"`,
  ];
  return `# A job that uses the ${m.name} plugin as its task. \`optimus plugin test .\` and \`optimus plugin run .\`
# render it as the server would; copy it (with assets/) into a project's jobs to deploy it.
version: 3
name: ${quote(sampleJobName(m.name))}
owner: you@example.com
description: Sample job of the ${m.name} plugin
schedule: {start_date: "2026-03-01", interval: "0 2 * * *"}   # daily at 02:00 UTC
task:
  name: ${quote(m.name)}
  config:
${config.map((l) => `    ${l}`).join('\n')}
  # Each run covers the day before its scheduled time: the run at ${SAMPLE_WINDOW.scheduledAt} gets
  # DSTART=${SAMPLE_WINDOW.dstart} and DEND=${SAMPLE_WINDOW.dend}.
  window: {size: 1d, truncate_to: d, location: UTC}
`;
}

/** The sample query as the server renders it for SAMPLE_WINDOW: templates applied, white space trimmed. */
export function renderedSampleQuery(): string {
  return SAMPLE_QUERY.replace('{{ .DSTART }}', SAMPLE_WINDOW.dstart)
    .replace('{{ .DEND }}', SAMPLE_WINDOW.dend)
    .trim();
}

export function sampleTests(m: ProjectModel): string {
  const query = renderedSampleQuery()
    .split('\n')
    .map((l) => `          ${l}`)
    .join('\n');
  const lineage = m.resolver
    ? `
      # What the dependency resolver infers on deploy: where the job writes, and the tables
      # query.sql reads (sorted), which make the jobs writing them its upstreams.
      destination: bigquery://${SAMPLE_CONFIG.PROJECT}:${SAMPLE_CONFIG.DATASET}.${SAMPLE_CONFIG.TABLE}
      dependencies:
${SAMPLE_SOURCES.map((s) => `        - ${s}`).join('\n')}`
    : '';
  return `# Expectations \`optimus plugin test .\` checks. Each case renders the sample job (sample/job.yaml,
# or given.job) as the server would, with the changes under \`given\`, and compares only what is
# listed under \`expect\`.
#   given:  job, config (merged over the job's task config), assets (merged over its assets),
#           scheduled_at (default: the job's schedule.start_date at 00:00 UTC), secrets (values for
#           {{ .secret.X }}; default "<secret X>"), globals (project config, GLOBAL__*)
#   expect: files (rendered assets, exact), envs (exact; secrets count as envs), destination and
#           dependencies (what the dependency resolver infers)
cases:
  - name: renders the window into query.sql
    given:
      scheduled_at: "${SAMPLE_WINDOW.scheduledAt}"
    expect:
      # Rendered files are trimmed of leading and trailing white space, as upstream does: hence |-.
      files:
        query.sql: |-
${query}
      envs:
        DSTART: "${SAMPLE_WINDOW.dstart}"
        DEND: "${SAMPLE_WINDOW.dend}"
        TABLE: ${SAMPLE_CONFIG.TABLE}
        MODE: APPEND
        BATCH_SIZE: "500"${lineage}

  - name: a changed config and the secret reach the entrypoint
    given:
      scheduled_at: "${SAMPLE_WINDOW.scheduledAt}"
      config: {MODE: REPLACE}
      secrets: {${SECRET_CONFIG}: test-token}
    expect:
      envs:
        MODE: REPLACE
        ${SECRET_CONFIG}: test-token
`;
}

export function gitignore(m: ProjectModel): string {
  return m.kind === 'binary' ? 'dist/\nnode_modules/\n' : 'dist/\n';
}

export function packageJson(m: ProjectModel): string {
  const pkg = {
    name: m.name,
    version: PLUGIN_VERSION,
    description: descriptionOf(m),
    private: true,
    type: 'module',
    scripts: {
      build: 'optimus plugin build .',
      test: 'optimus plugin test .',
      pack: 'optimus plugin pack .',
    },
    devDependencies: { '@optimus-ts/plugin-sdk': '0.1.0' },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** For editors only: `optimus plugin build` bundles with esbuild and reads no tsconfig option that matters. */
export function tsconfigJson(): string {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    },
    include: ['src'],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function readme(m: ProjectModel): string {
  const binary = m.kind === 'binary';
  const image = `${imageOf(m.name)}:${PLUGIN_VERSION}`;
  // What `optimus plugin pack` makes (authoring/pack.ts): the spec itself, or the executable in a tarball.
  const artifact = `${m.name}-${PLUGIN_VERSION}.${binary ? 'tar.gz' : 'yaml'}`;
  const files = binary
    ? `| \`src/main.ts\` | the spec (image, entrypoint script, questions, configs, defaults), served over the plugin protocol by \`@optimus-ts/plugin-sdk\`${m.resolver ? ', and the dependency resolver: where a job writes and what it reads' : ''} |
| \`package.json\`, \`tsconfig.json\` | npm scripts (\`npm test\`, …); \`optimus plugin build\` needs no \`npm install\`: it takes the SDK from optimus when the folder has none. The SDK is not on the npm registry yet, so for its types in an editor map \`@optimus-ts/plugin-sdk\` to an optimus checkout's \`packages/plugin-sdk\` in \`tsconfig.json\` |`
    : `| \`plugin.yaml\` | the spec: image, entrypoint script, questions, configs, defaults${m.resolver ? ', and the dependency resolver (destination template, SQL parsers)' : ''} |`;
  const build = binary
    ? `
# Bundle src/main.ts and the SDK into one executable, dist/${m.name} (test, run and pack build
# it too; --no-build skips that).
optimus plugin build .
`
    : '';
  const resolverNote = m.resolver
    ? `
With the dependency resolver, \`plugin test\` also checks where the sample job writes and which
tables it reads (\`destination\` and \`dependencies\` in tests/sample.yaml), as a deploy infers them.
`
    : '';
  return `# ${m.name}

${descriptionOf(m)}. An Optimus ${binary ? 'binary' : 'YAML'} plugin, made with \`optimus plugin init\`.

| file | what it is |
| --- | --- |
${files}
| \`Dockerfile\` | the executor image the entrypoint script runs in |
| \`sample/job.yaml\`, \`sample/assets/query.sql\` | a job using the plugin: what the commands below render and run |
| \`tests/sample.yaml\` | expectations \`optimus plugin test\` checks (rendered files, variables${m.resolver ? ', lineage' : ''}) |

## The author loop

\`\`\`sh
# Check everything: the spec${binary ? ' (built and asked over the protocol)' : ''}, the sample job against it, and the
# expectations in tests/*.yaml.
optimus plugin test .

# Render the sample job as the server would, and run the entrypoint here (the process executor).
# Any value does for the secret locally; the script never prints it. --render-only shows the
# input (variables and files) without running anything.
optimus plugin run . --secret ${SECRET_CONFIG}=test-token

# The same in the executor image (build it first, see below).
optimus plugin run . --executor docker --secret ${SECRET_CONFIG}=test-token
${build}\`\`\`

Change the spec, the entrypoint script, \`sample/\` and \`tests/sample.yaml\` together:
\`plugin test\` fails when they disagree.
${resolverNote}
## The image

\`\`\`sh
docker build -t ${image} .
docker push ${image}
\`\`\`

Replace \`your-org\` with your registry's namespace, here and in the spec. The image name and tag
must be the spec's \`plugin_versions.default\` image and tag: bump both for a new release.

## Publish

\`\`\`sh
optimus plugin pack . --url https://plugins.example.com/${m.name}/
\`\`\`

\`pack\` writes the artifact, \`dist/${artifact}\`, and \`dist/index.yaml\` (the listing an http
provider serves), and prints the plugin's entry for \`plugins.list\`: its url under \`--url\` and its
sha256. Upload both files there, paste the entry under \`plugins.list\` of a project's
\`optimus.yaml\` (or the server config), then install it:

\`\`\`sh
optimus plugin install
\`\`\`

Jobs then use it as \`task: {name: ${m.name}, config: {...}}\`; the secret is set once per project or
namespace with \`optimus secret set ${SECRET_CONFIG}\`.
`;
}
