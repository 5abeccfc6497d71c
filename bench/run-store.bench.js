// The run store's hot paths on PGlite (in memory and in a data directory) and PostgreSQL (when one
// is available): creating runs of a five-node job, one node's life (claim → finish, each a
// transaction), and appending log lines: 10,000 in one call against the same lines appended one
// call per line in the same run (the ratio is what the bulk insert buys).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createStore } from '../dist/store/create-store.js';
import { startPostgres } from './postgres.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 300);
const LINES = 10_000;
const SINGLE_LINES = 500;
const SETTINGS = {
  maxAttempts: 1,
  retryDelayMs: 0,
  exponentialBackoff: false,
  timeoutMs: 60_000,
  dependsOnPast: false,
};
const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'].map((name, i, all) => ({
  name,
  type: 'shell',
  stage: i === 2 ? 'task' : i < 2 ? 'pre' : 'post',
  dependsOn: i ? [all[i - 1]] : [],
}));

async function time(f) {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

async function measure(label, opts) {
  const store = await createStore(opts);
  const rows = [];
  // Fresh names per run, so a shared database (DATABASE_URL) holds no earlier bench's runs.
  const project = `bench-${Date.now().toString(36)}`;
  const base = Date.UTC(1800, 0, 1);
  try {
    const runs = [];
    const create = await time(async () => {
      for (let i = 0; i < RUNS; i++) {
        const { run } = await store.createRun({
          projectName: project,
          namespaceName: 'ns',
          jobName: 'five-nodes',
          scheduledAt: new Date(base + i * 60_000),
          trigger: 'schedule',
          jobHash: 'h',
          settings: SETTINGS,
          nodes: NODES,
        });
        runs.push(run);
      }
    });
    // One node each: queue it, claim it, finish it (what the runner does per node at least).
    const cycle = await time(async () => {
      for (const run of runs) {
        await store.updateRun(run.id, () => ({
          status: 'running',
          nodes: [{ name: 'n1', status: 'queued' }],
        }));
        const [claimed] = await store.claimNodes('bench', 1, 60_000);
        if (claimed?.runId !== run.id) throw new Error('claimed another node than expected');
        await store.updateRun(run.id, () => ({
          status: 'succeeded',
          nodes: [{ name: 'n1', status: 'succeeded', exitCode: 0, finishedAt: new Date(), leaseOwner: null }],
        }));
      }
    });
    const line = (i) => ({
      runId: runs[0].id,
      node: 'n1',
      attempt: 1,
      stream: 'stdout',
      at: new Date(),
      line: `${i} ${'x'.repeat(100)}`,
    });
    const lines = Array.from({ length: LINES }, (_, i) => line(i));
    const bulk = await time(() => store.appendLogs(lines));
    const single = await time(async () => {
      for (let i = 0; i < SINGLE_LINES; i++) await store.appendLogs([line(i)]);
    });
    const read = await time(() => store.readLogs(runs[0].id, { limit: LINES }));
    rows.push(
      { metric: `${label}: createRun (5 nodes)`, value: RUNS / (create / 1000), unit: 'runs/s' },
      { metric: `${label}: queue + claim + finish one node`, value: cycle / RUNS, unit: 'ms' },
      { metric: `${label}: appendLogs ${LINES} lines in one call`, value: bulk, unit: 'ms' },
      { metric: `${label}: readLogs ${LINES} lines`, value: read, unit: 'ms' },
      {
        metric: `${label}: baseline one call per line / bulk, per line`,
        value: single / SINGLE_LINES / (bulk / LINES),
        unit: 'x',
      },
    );
  } finally {
    await store.cancelRunsOfJobs(project, ['five-nodes'], 'bench over');
    await store.close();
  }
  return rows;
}

export async function run() {
  const rows = [];
  rows.push(...(await measure('pglite (memory)', {})));
  const dataDir = mkdtempSync(join(tmpdir(), 'optimus-bench-runs-'));
  try {
    rows.push(...(await measure('pglite (data dir)', { dataDir })));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  const pg = await startPostgres();
  if ('skipped' in pg) {
    console.warn(`PostgreSQL run store benchmark skipped: ${pg.skipped}`);
  } else {
    try {
      rows.push(...(await measure('postgres', { url: pg.url })));
    } finally {
      await pg.stop();
    }
  }
  return { name: 'run-store', rows };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  console.table(r.rows);
}
