// The embedded runner: its overhead per node against spawning the same process directly in the same
// run (target under 30 ms), runs per second of a five-node job whose nodes run `true` (the embedded
// PGlite store in a data directory, as `optimus serve` opens it, and PostgreSQL when one is available), and the resident memory of this process while 50
// nodes run at once. BENCH_RUNNER_RUNS sets the number of runs of the throughput figure (1,000).
// OPTIMUS_DIST points at another build of src/ than ../dist (e.g. `tsc -p tsconfig.build.json
// --outDir /tmp/d`), to measure without rebuilding the checkout's dist.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startPostgres } from './postgres.js';

const RUNS = Number(process.env.BENCH_RUNNER_RUNS ?? 1000);
const LATENCY_RUNS = 60;
const DIST = process.env.OPTIMUS_DIST
  ? pathToFileURL(`${process.env.OPTIMUS_DIST.replace(/\/$/, '')}/`)
  : new URL('../dist/', import.meta.url);
const load = (path) => import(new URL(path, DIST).href);

const SHELL_PLUGIN = `version: 3
name: shell
plugin_versions:
  default: {image: docker.io/acme/shell, tag: "1.0.0", entrypoint: {shell: /bin/sh, script: 'eval "$SCRIPT"'}}
configs:
  - {name: SCRIPT, required: true}
`;

const CONFIG = {
  type: 'local',
  executor: 'process',
  concurrency: 8,
  nodeTimeoutMs: 600_000,
  docker: { network: 'none' },
};
const quiet = { info: () => undefined, warn: () => undefined, error: (o, m) => console.error(m, o) };

function job(name, script, hooks) {
  return {
    version: 3,
    name,
    owner: 'bench@acme.example',
    schedule: { start_date: '2099-01-01', interval: '0 0 * * *' },
    task: { name: 'shell', config: { SCRIPT: script } },
    hooks: hooks.map((h) => ({
      name: h.name,
      type: 'shell',
      stage: h.stage,
      config: { SCRIPT: script },
      ...h.extra,
    })),
  };
}

/** pre-1 → pre-2 → task → post-1 → post-2: five nodes one after the other. */
const chain = (name, script) =>
  job(name, script, [
    { name: 'pre-1', stage: 'pre' },
    { name: 'pre-2', stage: 'pre', extra: { depends_on: ['pre-1'] } },
    { name: 'post-1', stage: 'post' },
    { name: 'post-2', stage: 'post', extra: { depends_on: ['post-1'] } },
  ]);

async function setUp(storeOpts) {
  const [{ createStore }, { loadPluginRegistry }, { deployNamespace }, { createSecretCipher }] =
    await Promise.all([
      load('store/create-store.js'),
      load('server/plugin-registry.js'),
      load('services/deploy.js'),
      load('services/secret-cipher.js'),
    ]);
  const dir = mkdtempSync(join(tmpdir(), 'optimus-bench-runner-'));
  mkdirSync(join(dir, 'plugins'));
  writeFileSync(join(dir, 'plugins', 'shell.yaml'), SHELL_PLUGIN);
  // The embedded store as `optimus serve` opens it (a data directory), unless a URL is given.
  const store = await createStore(storeOpts.url ? storeOpts : { dataDir: join(dir, 'store') });
  const plugins = await loadPluginRegistry(join(dir, 'plugins'));
  const project = `bench-${Date.now().toString(36)}`;
  const p = await store.upsertProject({ name: project, config: {}, pluginDependencies: [] });
  await store.upsertNamespace({ projectName: project, name: 'ns', config: {} });
  const deploy = (jobs) =>
    deployNamespace({ store, plugins: plugins.current().plugins }, { project: p, namespace: 'ns', jobs });
  const cipher = createSecretCipher('b'.repeat(32));
  return {
    store,
    plugins,
    cipher,
    project,
    deploy,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startRunner(env, config = CONFIG) {
  const { createRunner } = await load('scheduler/runner.js');
  const runner = createRunner({
    store: env.store,
    plugins: env.plugins,
    cipher: env.cipher,
    config,
    logger: quiet,
  });
  await runner.start();
  return runner;
}

async function until(check, everyMs = 2) {
  for (;;) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const finished = (run) => ['succeeded', 'failed', 'cancelled'].includes(run.status);

/** Spawns what the runner spawns for a node, directly: the baseline of the overhead figure. */
function spawnDirect() {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', 'eval "$SCRIPT"'], {
      env: { PATH: process.env.PATH, SCRIPT: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
  });
}

async function overhead() {
  const env = await setUp({});
  const { runRecordFor } = await load('services/runs.js');
  try {
    await env.deploy([chain('chain', 'true')]);
    const runner = await startRunner(env);
    const jobRecord = await env.store.findJob(env.project, 'chain');
    let runner5 = 0;
    let direct5 = 0;
    for (let i = 0; i < LATENCY_RUNS; i++) {
      const t0 = performance.now();
      for (let k = 0; k < 5; k++) await spawnDirect();
      direct5 += performance.now() - t0;
      const t1 = performance.now();
      const { run } = await env.store.createRun(
        runRecordFor(jobRecord, new Date(Date.UTC(2000, 0, 1 + i)), 'manual', { nodeTimeoutMs: 60_000 }),
      );
      runner.wake();
      // The runner counts a node once its end is stored: no store query competes with it here.
      await until(() => runner.stats().finished === (i + 1) * 5);
      runner5 += performance.now() - t1;
      if (!finished(await env.store.getRun(run.id))) throw new Error(`run ${run.id} did not finish`);
    }
    await runner.stop();
    const perNode = runner5 / LATENCY_RUNS / 5;
    const spawnOnly = direct5 / LATENCY_RUNS / 5;
    return [
      {
        metric: 'pglite: one node through the runner (chain of 5, concurrency 8)',
        value: perNode,
        unit: 'ms',
      },
      { metric: 'baseline: spawning the same process directly', value: spawnOnly, unit: 'ms' },
      { metric: 'runner overhead per node (target < 30)', value: perNode - spawnOnly, unit: 'ms' },
    ];
  } finally {
    await env.close();
  }
}

async function throughput(label, storeOpts) {
  const env = await setUp(storeOpts);
  const { runRecordFor } = await load('services/runs.js');
  try {
    await env.deploy([chain('five', 'true')]);
    const jobRecord = await env.store.findJob(env.project, 'five');
    const ids = [];
    for (let i = 0; i < RUNS; i++) {
      const at = new Date(Date.UTC(2000, 0, 1) + i * 60_000);
      ids.push(
        (await env.store.createRun(runRecordFor(jobRecord, at, 'manual', { nodeTimeoutMs: 60_000 }))).run.id,
      );
    }
    const t0 = performance.now();
    const runner = await startRunner(env);
    await until(() => runner.stats().finished >= RUNS * 5, 20);
    await until(async () => (await env.store.runsWithStatus(['queued', 'running'], 1)).length === 0, 20);
    const seconds = (performance.now() - t0) / 1000;
    await runner.stop();
    const failedRuns = (await Promise.all(ids.slice(0, 20).map((id) => env.store.getRun(id)))).filter(
      (r) => r.status !== 'succeeded',
    );
    if (failedRuns.length)
      throw new Error(`${failedRuns.length} runs did not succeed: ${failedRuns[0].note}`);
    return [
      {
        metric: `${label}: ${RUNS} runs of a five-node job (nodes run true)`,
        value: RUNS / seconds,
        unit: 'runs/s',
      },
    ];
  } finally {
    await env.close();
  }
}

async function memory() {
  const env = await setUp({});
  const { runRecordFor } = await load('services/runs.js');
  try {
    const gate = join(tmpdir(), `optimus-bench-gate-${process.pid}`);
    // Each node waits for the gate, so all 50 are running at the moment of the measure.
    await env.deploy([job('wait', `while [ ! -e "${gate}" ]; do sleep 0.05; done; echo done`, [])]);
    const jobRecord = await env.store.findJob(env.project, 'wait');
    for (let i = 0; i < 50; i++) {
      await env.store.createRun(
        runRecordFor(jobRecord, new Date(Date.UTC(2000, 0, 1 + i)), 'manual', { nodeTimeoutMs: 60_000 }),
      );
    }
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    const runner = await startRunner(env, { ...CONFIG, concurrency: 50 });
    await until(() => runner.stats().running === 50);
    // Let them all print and settle before measuring.
    await new Promise((r) => setTimeout(r, 500));
    const during = process.memoryUsage().rss;
    writeFileSync(gate, '');
    await until(async () => (await env.store.runsWithStatus(['queued', 'running'], 1)).length === 0);
    await runner.stop();
    rmSync(gate, { force: true });
    return [
      {
        metric: 'server RSS (store + runner) while 50 nodes run at once',
        value: during / 2 ** 20,
        unit: 'MiB',
      },
      {
        metric: 'baseline: the same process before the runner started (store open, job deployed)',
        value: before / 2 ** 20,
        unit: 'MiB',
      },
    ];
  } finally {
    await env.close();
  }
}

export async function run() {
  const rows = [...(await memory()), ...(await overhead()), ...(await throughput('pglite (data dir)', {}))];
  const pg = await startPostgres();
  if ('skipped' in pg) {
    console.warn(`runner benchmark on PostgreSQL skipped: ${pg.skipped}`);
  } else {
    try {
      rows.push(...(await throughput('postgres', { url: pg.url })));
    } finally {
      await pg.stop();
    }
  }
  return { name: 'runner', rows };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  console.table(r.rows);
}
