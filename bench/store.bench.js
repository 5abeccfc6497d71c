// The store's applyDeploy: 10,000 new jobs (a 1 KiB asset; a task and two hooks in the spec), a
// re-apply with one job changed, and a full replace, on PGlite (in memory and in a data directory)
// and on PostgreSQL when one is available (DATABASE_URL, else a throwaway cluster). Baseline in the
// same run: single-job deploys, i.e. what row-by-row writes cost per job.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createStore } from '../dist/store/create-store.js';
import { startPostgres } from './postgres.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const SINGLE = 300;
const ASSET = `select *\nfrom source_table\n-- ${'x'.repeat(1000)}\n`.slice(0, 1024);

function job(i, version = 1) {
  const name = `job-${String(i).padStart(5, '0')}`;
  const hook = (h, stage) => ({
    name: `h${h}`,
    type: `plugin-${(i + h) % 20}`,
    stage,
    config: { TABLE: `t${i}_${h}` },
  });
  return {
    projectName: 'bench',
    namespaceName: 'ns',
    name,
    spec: {
      version: 1,
      name,
      owner: 'bench@example.com',
      schedule: { start_date: '2026-01-01', interval: `0 ${i % 24} * * *` },
      task: {
        name: `plugin-${i % 20}`,
        config: { TABLE: `table_${i}`, TOKEN: '{{ .secret.TOKEN }}', V: String(version) },
      },
      hooks: [hook(1, 'pre'), hook(2, 'post')],
    },
    assets: { 'query.sql': ASSET },
    hash: `${name}-v${version}`,
    runGraph: [
      { name: 'h1', stage: 'pre', depends_on: [] },
      { name: 'task', stage: 'task', depends_on: ['h1'] },
      { name: 'h2', stage: 'post', depends_on: ['task'] },
    ],
  };
}

const record = (jobs) => ({
  projectName: 'bench',
  namespaceName: 'ns',
  status: 'succeeded',
  startedAt: new Date(),
  finishedAt: new Date(),
  added: jobs.map((j) => j.name),
  modified: [],
  deleted: [],
  unchanged: 0,
  problems: [],
});

async function time(f) {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

async function measure(label, opts) {
  const rows = [];
  let store;
  const open = await time(async () => {
    store = await createStore(opts);
  });
  rows.push({ metric: `${label}: open + migrate`, value: open, unit: 'ms' });
  try {
    await store.upsertProject({ name: 'bench', config: {}, pluginDependencies: [] });
    await store.upsertNamespace({ projectName: 'bench', name: 'ns', config: {} });
    // Fresh names for each run against a shared database.
    await store.applyDeploy({
      upsert: [],
      delete: (await store.jobSummaries('bench')).map((s) => s.name),
      deploy: record([]),
    });

    const jobs = Array.from({ length: JOBS }, (_, i) => job(i));
    const add = await time(() => store.applyDeploy({ upsert: jobs, delete: [], deploy: record(jobs) }));
    const summaries = await time(() => store.jobSummaries('bench'));
    const changed = [job(JOBS >> 1, 2)];
    const one = await time(() => store.applyDeploy({ upsert: changed, delete: [], deploy: record(changed) }));
    const all = jobs.map((_, i) => job(i, 3));
    const replace = await time(() => store.applyDeploy({ upsert: all, delete: [], deploy: record(all) }));
    if ((await store.jobSummaries('bench')).length !== JOBS) throw new Error('unexpected job count');
    const singles = Array.from({ length: SINGLE }, (_, i) => job(JOBS + i));
    const single = await time(async () => {
      for (const j of singles) await store.applyDeploy({ upsert: [j], delete: [], deploy: record([j]) });
    });
    const perJob = add / JOBS;
    const perSingle = single / SINGLE;
    rows.push(
      { metric: `${label}: applyDeploy ${JOBS} new jobs`, value: add / 1000, unit: 's', target: '< 10' },
      {
        metric: `${label}: jobSummaries of ${JOBS} jobs (a deploy's diff input)`,
        value: summaries,
        unit: 'ms',
      },
      { metric: `${label}: re-apply, 1 job changed`, value: one, unit: 'ms' },
      { metric: `${label}: re-apply, all ${JOBS} jobs changed`, value: replace / 1000, unit: 's' },
      { metric: `${label}: bulk, per job`, value: perJob, unit: 'ms' },
      { metric: `${label}: baseline: single-job deploys, per job`, value: perSingle, unit: 'ms' },
      { metric: `${label}: baseline / bulk per job`, value: perSingle / perJob, unit: 'x' },
    );
  } finally {
    await store.close();
  }
  return rows;
}

export async function run() {
  const rows = [];
  rows.push(...(await measure('pglite (memory)', {})));
  const dataDir = mkdtempSync(join(tmpdir(), 'optimus-bench-store-'));
  try {
    rows.push(...(await measure('pglite (data dir)', { dataDir })));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  const pg = await startPostgres();
  if ('skipped' in pg) {
    console.warn(`PostgreSQL store benchmark skipped: ${pg.skipped}`);
  } else {
    try {
      rows.push(...(await measure('postgres', { url: pg.url })));
    } finally {
      await pg.stop();
    }
  }
  return { name: 'store', rows };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  console.table(r.rows);
}
