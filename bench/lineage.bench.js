// Issue 10's deploy figures with inference: 10,000 SQL jobs whose task is the bq2bq example
// resolver (a binary plugin on the SDK, node-sql-parser inside), over a random DAG of table reads,
// deployed through the CLI to a real `optimus serve`: the first (cold) deploy, where every job's
// destination and sources come from the plugin's mod, then an unchanged re-deploy and one with 10
// queries changed (so their upstreams change), each through the CLI. Mod calls per second against
// one process per job are in mod-host.bench.js.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSqlResolver } from '../examples/sql-resolver/build.mjs';
import { cli, median, serve } from './serve-kit.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CHANGED = 10;
const NAMESPACES = ['sales', 'ads', 'finance', 'ops'];

/** A small seeded generator, so every run deploys the same DAG. */
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const table = (i) => `bench.ds${i % 20}.t${i}`;
const jobDir = (project, i) => join(project, NAMESPACES[i % NAMESPACES.length], `job${i}`);

function query(i, reads, round = 0) {
  const from = reads.map(
    (j, k) => `${k ? '  join' : 'from'} \`${table(j)}\` as r${k}${k ? ' using (id)' : ''}`,
  );
  return [
    `-- job ${i}${round ? `, round ${round}` : ''}`,
    'with events as (',
    `  select id, count(*) as n from \`raw.events_${i % 100}\` where day = '{{ .DSTART | Date }}' group by id`,
    ')',
    `select e.id, e.n${reads.map((_, k) => `, r${k}.*`).join('')}`,
    reads.length ? from.join('\n') : 'from events as e',
    reads.length ? 'join events as e using (id)' : '',
    '',
  ].join('\n');
}

/** Job i reads up to three tables of jobs before it (a DAG) and one raw table no job writes. */
export function generate(project, jobs = JOBS) {
  const next = random(42);
  writeFileSync(
    join(project, 'optimus.yaml'),
    `version: 1\nproject: {name: bench}\nnamespaces:\n${NAMESPACES.map((n) => `  - {name: ${n}, job: {path: ${n}}}`).join('\n')}\n`,
  );
  const reads = [];
  for (let i = 0; i < jobs; i++) {
    const count = i === 0 ? 0 : Math.floor(next() * 4);
    const picked = new Set();
    for (let k = 0; k < count; k++) picked.add(Math.floor(next() * i));
    reads.push([...picked].sort((a, b) => a - b));
    const dir = jobDir(project, i);
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(
      join(dir, 'job.yaml'),
      `version: 3
name: job${i}
owner: bench@acme.example
schedule: {start_date: "2026-01-01", interval: "${i % 60} 3 * * *"}
task:
  name: bq2bq
  config:
    PROJECT: bench
    DATASET: ds${i % 20}
    TABLE: t${i}
    BQ_SERVICE_ACCOUNT: "{{ .secret.BQ_SA }}"
  window: {size: 24h}
`,
    );
    writeFileSync(join(dir, 'assets', 'query.sql'), query(i, reads[i]));
  }
  return reads;
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'optimus-bench-lineage-'));
  const project = join(dir, 'project');
  const plugins = join(dir, 'plugins');
  const env = { ...process.env, NO_COLOR: '1', OPTIMUS_CACHE_DIR: join(dir, 'cache') };
  let server;
  try {
    mkdirSync(project);
    await buildSqlResolver(join(plugins, 'bq2bq'));
    const reads = generate(project);
    server = await serve(dir, `plugins: {install_location: ${JSON.stringify(plugins)}}\n`, ['--no-runner']);
    const optimus = (args, input) => cli(server.url, project, env, args, input);
    optimus(['project', 'register']);
    optimus(['secret', 'set', 'BQ_SA'], 'bench-service-account');

    const cold = optimus(['deploy', '--json']);
    const edges = reads.reduce((n, r) => n + r.length, 0);
    // Inference really ran: a job that reads others lists them as inferred upstreams.
    const probe = reads.findIndex((r) => r.length > 1);
    const shown = JSON.parse(optimus(['job', 'inspect', `job${probe}`, '--json']).stdout);
    const inferred = (shown.upstreams ?? []).filter((u) => u.kind === 'inferred').map((u) => u.job);
    const expected = reads[probe].map((j) => `job${j}`);
    if (expected.some((j) => !inferred.includes(j)))
      throw new Error(
        `job${probe}: inferred upstreams ${inferred.join(', ')}, expected ${expected.join(', ')}`,
      );

    const unchanged = median(RUNS, () => optimus(['deploy']));
    const changed = median(RUNS, (round) => {
      for (let k = 0; k < CHANGED; k++) {
        const i = 1 + k * Math.floor(JOBS / CHANGED);
        // One more table read each round: the job's sources and upstreams change.
        const more = [...new Set([...reads[i], (round + k) % i])].sort((a, b) => a - b);
        writeFileSync(join(jobDir(project, i), 'assets', 'query.sql'), query(i, more, round + 1));
      }
      return optimus(['deploy']);
    });
    return {
      name: 'lineage',
      rows: [
        {
          metric: `cold deploy through the CLI, ${JOBS} SQL jobs inferred by the bq2bq mod`,
          value: cold.ms / 1000,
          unit: 's',
          target: '< 15',
        },
        { metric: 'table reads between jobs in the generated DAG', value: edges, unit: 'edges' },
        {
          metric: 'unchanged re-deploy through the CLI',
          value: unchanged.ms / 1000,
          unit: 's',
          target: '< 1',
        },
        {
          metric: `re-deploy with ${CHANGED} queries changed (re-inferred) through the CLI`,
          value: changed.ms / 1000,
          unit: 's',
          target: '< 1',
        },
      ],
    };
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  console.table(r.rows);
}
