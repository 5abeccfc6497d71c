/**
 * bq2bq: a BigQuery-to-BigQuery task plugin whose dependency-resolver mod tells Optimus where a job
 * writes (PROJECT:DATASET.TABLE) and which tables its query.sql reads, so upstream jobs are inferred.
 * Built into one executable by build.mjs; see README.md.
 */
import { destinationUrn, requireConfig, servePlugin } from '@optimus-ts/plugin-sdk';
import { extractSources } from '@optimus-ts/plugin-sdk/sql';

const spec = {
  version: 3,
  name: 'bq2bq',
  description: 'Runs query.sql on BigQuery and writes its result to PROJECT:DATASET.TABLE',
  plugin_versions: {
    default: {
      image: 'docker.io/acme/bq2bq',
      tag: '1.0.0',
      // The example's "run" reports what a real transformation would do with its input.
      entrypoint: {
        shell: '/bin/sh',
        script: [
          'set -eu',
          'echo "bq2bq: $LOAD_METHOD into $PROJECT:$DATASET.$TABLE for $DSTART .. $DEND"',
          'echo "query.sql: $(wc -l < "$JOB_DIR/in/query.sql") lines, $(wc -c < "$JOB_DIR/in/query.sql") bytes"',
          'test -n "$BQ_SERVICE_ACCOUNT" || { echo "BQ_SERVICE_ACCOUNT is empty" >&2; exit 2; }',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a JS one
          'echo "authenticated with a ${#BQ_SERVICE_ACCOUNT}-character service account"',
          '',
        ].join('\n'),
      },
    },
  },
  questions: [
    { name: 'PROJECT', prompt: 'BigQuery project of the destination table', required: true },
    { name: 'DATASET', prompt: 'Dataset of the destination table', required: true },
    { name: 'TABLE', prompt: 'Destination table', required: true },
    {
      name: 'LOAD_METHOD',
      prompt: 'Load method',
      default: 'APPEND',
      multiselect: ['APPEND', 'REPLACE', 'MERGE'],
    },
  ],
  configs: [
    { name: 'PROJECT', description: 'BigQuery project of the destination table', required: true },
    { name: 'DATASET', description: 'dataset of the destination table', required: true },
    { name: 'TABLE', description: 'destination table', required: true },
    { name: 'LOAD_METHOD', description: 'APPEND, REPLACE or MERGE' },
    { name: 'BQ_SERVICE_ACCOUNT', description: 'service account key (JSON)', required: true, secret: true },
  ],
  default_assets: {
    'query.sql': '-- the query whose result is written to the destination\nselect 1 as one\n',
  },
  mods: ['dependency_resolver'],
};

function destinationOf(config: Record<string, string>): string {
  const { PROJECT, DATASET, TABLE } = requireConfig({ config }, 'PROJECT', 'DATASET', 'TABLE');
  return destinationUrn('bigquery', `${PROJECT}:${DATASET}.${TABLE}`);
}

servePlugin({
  spec,
  generateDestination: ({ config }) => destinationOf(config),
  generateDependencies: ({ config, assets }) => {
    const query = assets['query.sql'];
    if (query === undefined)
      throw new Error('the job has no query.sql asset: bq2bq reads its sources from it');
    const { sources, warnings } = extractSources(query, {
      destination: destinationOf(config),
      defaultProject: config.PROJECT,
    });
    return { dependencies: sources, warnings };
  },
});
