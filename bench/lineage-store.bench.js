// Upstream resolution: the pure resolver over 10,000 jobs reading ~3 tables each (against a naive
// scan of every job per source, in the same run), and the store's applyDeploy of those jobs with and
// without resolution (the difference is what resolving costs a deploy), then a re-deploy with 10
// jobs changed. On PGlite in memory and on PostgreSQL when one is available.
import { pathToFileURL } from 'node:url';
import { findCycles, resolveUpstreams, upstreamResolver } from '../dist/core/lineage.js';
import { createStore } from '../dist/store/create-store.js';
import { startPostgres } from './postgres.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const CHANGED = 10;

/** Deterministic pseudo-random numbers, so every run resolves the same graph. */
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Job i writes table t<i> and reads up to 3 tables of earlier jobs (a random DAG) plus one external. */
function lineageOf(project, i, version = 1) {
  const rnd = random(i * 7919 + version);
  const reads = new Set();
  for (let k = 0; k < 3 && i > 0; k++) reads.add(`bq://${project}:d.t${Math.floor(rnd() * i)}`);
  reads.add(`bq://${project}:ext.e${i % 50}`);
  return {
    key: `k${i}-${version}`,
    destination: `bq://${project}:d.t${i}`,
    sources: [...reads].sort(),
    warnings: [],
  };
}

function rowsOf(project, n) {
  return Array.from({ length: n }, (_, i) => {
    const l = lineageOf(project, i);
    return {
      projectName: project,
      namespaceName: `ns${i % 4}`,
      name: `job-${i}`,
      destination: l.destination,
      sources: l.sources,
      staticDependencies: i > 10 && i % 10 === 0 ? [{ job: `job-${i - 7}`, index: 0 }] : [],
      upstreams: [],
    };
  });
}

/** What resolution would cost without the destination index: every source scans every job. */
function naive(rows) {
  const out = new Map();
  for (const r of rows) {
    const ups = [];
    for (const s of r.sources) for (const o of rows) if (o !== r && o.destination === s) ups.push(o.name);
    out.set(r.name, ups);
  }
  return out;
}

function median(f, times = 5) {
  const t = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[Math.floor(times / 2)];
}

async function time(f) {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

function pure() {
  const rows = rowsOf('bench', JOBS);
  const edges = resolveUpstreams(rows).upstreams;
  const count = [...edges.values()].reduce((n, l) => n + l.length, 0);
  const resolve = median(() => resolveUpstreams(rows));
  const cycles = median(() => findCycles(edges));
  const whole = median(() => upstreamResolver()(rows));
  const scan = median(() => naive(rows), 1);
  return [
    { metric: `pure: resolveUpstreams, ${JOBS} jobs, ${count} edges`, value: resolve, unit: 'ms' },
    { metric: `pure: findCycles, ${JOBS} jobs`, value: cycles, unit: 'ms' },
    { metric: 'pure: upstreamResolver (resolve + cycles + changed lists)', value: whole, unit: 'ms' },
    { metric: 'pure: baseline: naive scan per source', value: scan, unit: 'ms' },
    { metric: 'pure: baseline / indexed', value: scan / resolve, unit: 'x' },
  ];
}

async function measure(label, opts) {
  const store = await createStore(opts);
  const rows = [];
  try {
    // Fresh project names for each run against a shared database.
    const tag = `lb${Date.now().toString(36)}`;
    const job = (project, i, version = 1) => ({
      projectName: project,
      namespaceName: 'ns',
      name: `job-${String(i).padStart(5, '0')}`,
      spec: { version: 1, name: `job-${i}`, task: { name: 'bq2bq', config: { V: String(version) } } },
      assets: { 'query.sql': `select * from t${i} -- ${'x'.repeat(900)}` },
      hash: `h${i}-${version}`,
      runGraph: [{ name: 'task', stage: 'task', depends_on: [] }],
      lineage: lineageOf(project, i, version),
    });
    const record = (project) => ({
      projectName: project,
      namespaceName: 'ns',
      status: 'succeeded',
      startedAt: new Date(),
      finishedAt: new Date(),
      added: [],
      modified: [],
      deleted: [],
      unchanged: 0,
      problems: [],
    });
    const deploy = async (project, jobs, resolve) => {
      await store.upsertProject({ name: project, config: {}, pluginDependencies: [] });
      await store.upsertNamespace({ projectName: project, name: 'ns', config: {} });
      return time(() => store.applyDeploy({ upsert: jobs, delete: [], deploy: record(project), resolve }));
    };
    const plainProject = `${tag}-plain`;
    const plain = await deploy(
      plainProject,
      Array.from({ length: JOBS }, (_, i) => job(plainProject, i)),
    );
    // Gone before the resolved deploy, so that one resolves only its own jobs.
    const names = (await store.jobSummaries(plainProject)).map((s) => s.name);
    await store.applyDeploy({ upsert: [], delete: names, deploy: record(plainProject) });
    const project = `${tag}-resolved`;
    let written = 0;
    const counting = (rowsIn) => {
      const changed = upstreamResolver()(rowsIn);
      written = changed.size;
      return changed;
    };
    const resolved = await deploy(
      project,
      Array.from({ length: JOBS }, (_, i) => job(project, i)),
      counting,
    );
    const firstWritten = written;
    const changed = Array.from({ length: CHANGED }, (_, k) => job(project, (k * 997) % JOBS, 2));
    const again = await deploy(project, changed, counting);
    const readRows = await time(() => store.lineageRows());
    rows.push(
      {
        metric: `${label}: applyDeploy ${JOBS} new jobs, no resolution (baseline)`,
        value: plain / 1000,
        unit: 's',
      },
      {
        metric: `${label}: applyDeploy ${JOBS} new jobs + resolution (${firstWritten} lists written)`,
        value: resolved / 1000,
        unit: 's',
        target: '< 10',
      },
      { metric: `${label}: resolution's share (with / without)`, value: resolved / plain, unit: 'x' },
      {
        metric: `${label}: re-deploy ${CHANGED} jobs changed + resolution (${written} lists written)`,
        value: again,
        unit: 'ms',
      },
      { metric: `${label}: lineageRows of every job (${JOBS} and any others)`, value: readRows, unit: 'ms' },
    );
  } finally {
    await store.close();
  }
  return rows;
}

export async function run() {
  const rows = pure();
  rows.push(...(await measure('pglite (memory)', {})));
  const pg = await startPostgres();
  if ('skipped' in pg) {
    console.warn(`PostgreSQL lineage benchmark skipped: ${pg.skipped}`);
  } else {
    try {
      rows.push(...(await measure('postgres', { url: pg.url })));
    } finally {
      await pg.stop();
    }
  }
  return { name: 'lineage-store', rows };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  console.table(r.rows);
}
