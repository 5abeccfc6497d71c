// The web console's jobs index (GET /api/v1beta1/jobs) with 10,000 deployed jobs (a task and three
// hooks each, over 20 namespaces) and a run history for a fifth of them, answered in-process
// (app.inject: no socket, so the figures are the server's work). Filters: none (first page and a
// deep one), a name search, a plugin, a last-run status (which looks up every job's newest run), a
// page of 1000, and a plugin's users. Baseline in the same run: listing one namespace's jobs (500)
// with the existing route. On PGlite in memory and, when a cluster is found (bench/postgres.js), on
// PostgreSQL.
import { pathToFileURL } from 'node:url';
import { createApp } from '../dist/server/app.js';
import { loadPluginRegistry } from '../dist/server/plugin-registry.js';
import { createSecretCipher } from '../dist/services/secret-cipher.js';
import { createStore } from '../dist/store/create-store.js';
import { startPostgres } from './postgres.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const NAMESPACES = 20;
const PLUGINS = ['data-audit', 'publish-event', 'slack-notify'];
const SETTINGS = {
  maxAttempts: 1,
  retryDelayMs: 0,
  exponentialBackoff: false,
  timeoutMs: 60_000,
  dependsOnPast: false,
};

function graph(i) {
  const task = i % 3 ? 'python-script' : 'warehouse-load';
  const hook = (name, type, stage, deps) => ({
    name,
    type,
    stage,
    depends_on: deps,
    edges: deps.map((from) => ({
      from,
      to: name,
      origin: 'default',
      rule: null,
      detail: 'post hooks run after the task succeeds',
    })),
  });
  return [
    hook('audit', PLUGINS[0], 'pre', []),
    { ...hook(task, task, 'task', ['audit']), dropped: [] },
    hook('publish', PLUGINS[1], 'post', [task]),
    hook('notify', PLUGINS[i % 2 ? 2 : 1], 'post', [task, 'publish']),
  ];
}

async function seed(store) {
  const project = 'bench';
  await store.upsertProject({ name: project, config: {}, pluginDependencies: [] });
  for (let n = 0; n < NAMESPACES; n++)
    await store.upsertNamespace({ projectName: project, name: `ns${n}`, config: {} });
  for (let n = 0; n < NAMESPACES; n++) {
    const jobs = [];
    for (let i = n; i < JOBS; i += NAMESPACES)
      jobs.push({
        projectName: project,
        namespaceName: `ns${n}`,
        name: `job-${String(i).padStart(5, '0')}`,
        spec: {
          version: 3,
          name: `job-${i}`,
          owner: `team-${i % 50}@acme.example`,
          schedule: { start_date: '2026-01-01', interval: `${i % 60} * * * *` },
          task: { name: i % 3 ? 'python-script' : 'warehouse-load', config: { N: String(i) } },
          hooks: [{ name: 'audit' }, { name: 'publish' }, { name: 'notify' }],
        },
        assets: {},
        hash: `h${i}`,
        runGraph: graph(i),
      });
    const now = new Date();
    await store.applyDeploy({
      upsert: jobs,
      delete: [],
      deploy: {
        projectName: project,
        namespaceName: `ns${n}`,
        status: 'succeeded',
        startedAt: now,
        finishedAt: now,
        added: jobs.map((j) => j.name),
        modified: [],
        deleted: [],
        unchanged: 0,
        problems: [],
      },
    });
  }
  for (let i = 0; i < JOBS; i += 5)
    for (let k = 0; k < 2; k++) {
      const { run } = await store.createRun({
        projectName: project,
        namespaceName: `ns${i % NAMESPACES}`,
        jobName: `job-${String(i).padStart(5, '0')}`,
        scheduledAt: new Date(Date.UTC(2026, 0, 1 + k)),
        trigger: 'schedule',
        jobHash: `h${i}`,
        settings: SETTINGS,
        nodes: [{ name: 'task', type: 'python-script', stage: 'task', dependsOn: [] }],
      });
      if (k === 1 && i % 10 === 0)
        await store.updateRun(run.id, () => ({
          status: 'failed',
          startedAt: new Date(),
          finishedAt: new Date(),
        }));
    }
}

async function median(app, url) {
  const t = [];
  let body;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = await app.inject({ method: 'GET', url });
    t.push(performance.now() - t0);
    if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body.slice(0, 300)}`);
    body = r.json();
  }
  return { ms: t.sort((a, b) => a - b)[Math.floor(RUNS / 2)], body };
}

async function measure(label, opts) {
  const store = await createStore(opts);
  const plugins = await loadPluginRegistry(new URL('../examples/plugins', import.meta.url).pathname);
  const app = await createApp({
    store,
    plugins,
    cipher: createSecretCipher('k'.repeat(32)),
    version: 'bench',
  });
  try {
    const t0 = performance.now();
    await seed(store);
    const rows = [
      {
        metric: `${label}: seed ${JOBS} jobs + ${(JOBS / 5) * 2} runs`,
        value: performance.now() - t0,
        unit: 'ms',
      },
    ];
    const P = '/api/v1beta1';
    const baseline = await median(app, `${P}/project/bench/namespace/ns0/job`);
    rows.push({
      metric: `${label}: baseline: list one namespace (${baseline.body.jobs.length} jobs)`,
      value: baseline.ms,
      unit: 'ms',
    });
    let first;
    for (const [name, url] of [
      ['jobs index, first page (100)', `${P}/jobs`],
      ['jobs index, page 1000 (limit 1000)', `${P}/jobs?limit=1000`],
      ['jobs index, deep page (offset 9900)', `${P}/jobs?offset=9900`],
      ['jobs index, q=team-7', `${P}/jobs?q=team-7`],
      ['jobs index, plugin=slack-notify', `${P}/jobs?plugin=slack-notify`],
      ['jobs index, last_status=failed', `${P}/jobs?last_status=failed`],
      ['jobs index, last_status=never', `${P}/jobs?last_status=never`],
      ['plugin usage, slack-notify (100)', `${P}/plugins/slack-notify/usage`],
    ]) {
      const m = await median(app, url);
      first ??= m.ms;
      rows.push({ metric: `${label}: ${name} (total ${m.body.total})`, value: m.ms, unit: 'ms' });
    }
    rows.push({ metric: `${label}: first page / baseline`, value: first / baseline.ms, unit: 'x' });
    return rows;
  } finally {
    await app.close();
    await store.close();
  }
}

export async function run() {
  const rows = await measure('pglite (memory)', {});
  const pg = await startPostgres();
  if ('skipped' in pg) console.warn(`PostgreSQL jobs index benchmark skipped: ${pg.skipped}`);
  else
    try {
      rows.push(...(await measure('postgres', { url: pg.url })));
    } finally {
      await pg.stop();
    }
  return { name: 'jobs-index', rows };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  console.table(r.rows);
}
