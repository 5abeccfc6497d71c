// Issue 11's DAG figures: a generated project of 10,000 jobs (one task and three hooks each, as in
// validate.bench.js) compiled into Airflow DAG files and synced into an empty folder, then compiled
// again after one job changed, which must rewrite exactly that job's file. Both go through
// compileProjectDags + syncDags, the code `optimus scheduler compile` and the server's compile on
// deploy run (with the server's compile cache: a job whose stored content, run graph and upstreams
// are unchanged is not compiled again); validation (timed in validate.bench.js) is done once beforehand and not counted. The
// baseline is writing the same files with plain writeFileSync, in the same run.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDagStorage, syncDags } from '../dist/scheduler/airflow/dag-storage.js';
import { compileProjectDags } from '../dist/scheduler/airflow/publish.js';
import { validateProject } from '../dist/services/validate-project.js';
import { generate } from './validate.bench.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const HOST = 'http://optimus.bench.example';
const IMAGES = { baseImage: 'optimus-ts/base:1', registry: 'registry.bench.example/optimus' };

function sourcesOf(report, project) {
  return report.jobs.map((j) => ({
    project,
    namespace: j.namespace,
    spec: j.spec,
    nodes: j.nodes,
    plugins: report.plugins.plugins,
    images: IMAGES,
    upstreams: [],
  }));
}

/**
 * Keyed as the server keys a stored job: its content hash (kept with the job, so not timed), run
 * graph and upstreams.
 */
const keyOf = (s) => createHash('sha256').update(JSON.stringify(s.spec)).digest('hex');
const inputsOf = (sources, keys) =>
  sources.map((s, i) => ({
    namespace: s.namespace,
    name: s.spec.name,
    key: `${keys[i]} ${JSON.stringify(s.nodes)} ${JSON.stringify(s.upstreams)}`,
    load: () => s,
  }));

async function compileAndSync(storage, sources, keys, cache, plugins) {
  const t0 = performance.now();
  const compiled = compileProjectDags(inputsOf(sources, keys), {
    optimusHost: HOST,
    cache,
    context: { plugins, images: `${IMAGES.baseImage} ${IMAGES.registry}` },
  });
  const t1 = performance.now();
  const report = await syncDags(storage, compiled.files, { keep: compiled.keep, hashes: compiled.hashes });
  const t2 = performance.now();
  if (compiled.failures.length) throw new Error(`compile failures: ${JSON.stringify(compiled.failures[0])}`);
  return { total: t2 - t0, compile: t1 - t0, report, files: compiled.files, compiled: compiled.compiled };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'optimus-bench-dags-'));
  try {
    const project = join(dir, 'project');
    mkdirSync(project);
    // validate.bench.js reads BENCH_JOBS too, so both agree on the count.
    generate(project);
    const report = validateProject({ dir: project });
    const invalid = report.jobs.filter((j) => !j.spec || j.problems.some((p) => p.severity === 'error'));
    if (report.jobs.length !== JOBS || invalid.length)
      throw new Error(`project invalid: ${invalid.length} jobs`);
    const sources = sourcesOf(report, 'bench');
    const keys = sources.map(keyOf);

    const cold = [];
    const one = [];
    const plain = [];
    let bytes = 0;
    for (let r = 0; r < RUNS; r++) {
      const out = join(dir, `out${r}`);
      const storage = await openDagStorage(pathToFileURL(out).href, { field: '--out' });
      // The server's per-project cache, empty at first: every job is compiled.
      const cache = { entries: new Map() };
      const first = await compileAndSync(storage, sources, keys, cache, report.plugins.plugins);
      if (first.report.written.length !== JOBS + 1)
        throw new Error(`cold compile wrote ${first.report.written.length} files, expected ${JOBS + 1}`);
      cold.push(first);
      bytes = [...first.files.values()].reduce((n, t) => n + Buffer.byteLength(t), 0);

      // One job changes (its description); everything is compiled again, one file is rewritten.
      const k = (r * 7919) % JOBS;
      const changed = sources.map((s, i) =>
        i === k ? { ...s, spec: { ...s.spec, description: `changed in round ${r}` } } : s,
      );
      const target = join(out, 'dags', changed[k].namespace, `${changed[k].spec.name}.py`);
      const other = join(
        out,
        'dags',
        changed[(k + 1) % JOBS].namespace,
        `${changed[(k + 1) % JOBS].spec.name}.py`,
      );
      const otherBefore = statSync(other).mtimeMs;
      const changedKeys = keys.map((key, i) => (i === k ? keyOf(changed[k]) : key));
      const second = await compileAndSync(storage, changed, changedKeys, cache, report.plugins.plugins);
      if (second.compiled !== 1) throw new Error(`re-compile compiled ${second.compiled} jobs, expected 1`);
      if (second.report.written.length !== 1 || second.report.written[0] !== target.slice(out.length + 1))
        throw new Error(
          `re-compile wrote ${JSON.stringify(second.report.written.slice(0, 5))}, expected only ${target}`,
        );
      if (!readFileSync(target, 'utf8').includes(`changed in round ${r}`))
        throw new Error('changed DAG not rewritten');
      if (statSync(other).mtimeMs !== otherBefore) throw new Error('an unchanged DAG was rewritten');
      one.push(second);

      // Baseline: the same bytes written once each, no hashing, no temp files, no compile.
      const base = join(dir, `plain${r}`);
      const t0 = performance.now();
      for (const [path, text] of first.files) {
        const full = join(base, path);
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, text);
      }
      plain.push(performance.now() - t0);
      rmSync(out, { recursive: true, force: true });
      rmSync(base, { recursive: true, force: true });
    }
    const coldTotal = median(cold.map((c) => c.total));
    const oneTotal = median(one.map((c) => c.total));
    const plainTotal = median(plain);
    return {
      name: 'dag-compile',
      rows: [
        {
          metric: `compile + sync ${JOBS} DAGs (4 nodes each) into an empty folder`,
          value: coldTotal / 1000,
          unit: 's',
          target: '< 5',
        },
        { metric: '  of which compile', value: median(cold.map((c) => c.compile)) / 1000, unit: 's' },
        {
          metric: `re-compile ${JOBS} after one job changed (1 file rewritten)`,
          value: oneTotal / 1000,
          unit: 's',
          target: '< 0.5',
        },
        { metric: '  of which compile', value: median(one.map((c) => c.compile)) / 1000, unit: 's' },
        { metric: 'baseline: writeFileSync of the same files', value: plainTotal / 1000, unit: 's' },
        { metric: 'cold compile + sync / baseline', value: coldTotal / plainTotal, unit: 'x' },
        { metric: 'DAG bytes written (cold)', value: bytes / 1024 / 1024, unit: 'MiB' },
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  console.table(r.rows);
}
