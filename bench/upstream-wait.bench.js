// Runs waiting for their upstream jobs. (1) The cost of finding an upstream's scheduled times whose
// window overlaps a run's (upstream-wait.ts upstreamTimes), per call, for three cadences. (2) The
// embedded runner with BENCH_WAIT_RUNS (1,000) manual runs of job b queued while job a, their
// upstream, has no run: the seconds until every one of them carries its note, then the store calls
// per second while they keep waiting, against one query per waiting run per poll (the runner polls
// every second), which is what checking each run on every poll would cost.
// OPTIMUS_DIST points at another build of src/ than ../dist (as in runner.bench.js).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const RUNS = Number(process.env.BENCH_WAIT_RUNS ?? 1000);
const STEADY_MS = 5000;
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

const waitJob = (interval, window) => ({
  window: { version: 3, window, interval, presets: null },
  schedule: { interval, startDate: '2026-01-01', catchUp: false },
});

function perCall(f, minMs = 500) {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    f(n++);
  }
  return ((performance.now() - start) * 1000) / n;
}

async function pure() {
  const { upstreamTimes } = await load('scheduler/upstream-wait.js');
  const day = (i) => new Date(Date.UTC(2026, 2, 1 + (i % 28)));
  const hour = (i) => new Date(Date.UTC(2026, 2, 1, i % 600));
  const hourly = waitJob('0 * * * *', { size: '1h', truncate_to: 'h' });
  const daily = waitJob('0 0 * * *', { size: '1d', truncate_to: 'd' });
  const minutely = waitJob('* * * * *', {});
  return [
    {
      metric: 'upstream times: daily run, hourly upstream (24 times)',
      unit: 'µs/call',
      value: perCall((i) =>
        upstreamTimes(hourly, { start: day(i), end: new Date(day(i).getTime() + 86_400_000) }),
      ),
    },
    {
      metric: 'upstream times: hourly run, daily upstream (1 time)',
      unit: 'µs/call',
      value: perCall((i) =>
        upstreamTimes(daily, { start: hour(i), end: new Date(hour(i).getTime() + 3_600_000) }),
      ),
    },
    {
      metric: 'upstream times: monthly run, upstream every minute (capped at 1,000)',
      unit: 'µs/call',
      value: perCall((i) =>
        upstreamTimes(minutely, {
          start: new Date(Date.UTC(2026, i % 10, 1)),
          end: new Date(Date.UTC(2026, (i % 10) + 1, 1)),
        }),
      ),
    },
  ];
}

async function waiting() {
  const [{ createStore }, { loadPluginRegistry }, { deployNamespace }, { createSecretCipher }, runs, runner] =
    await Promise.all([
      load('store/create-store.js'),
      load('server/plugin-registry.js'),
      load('services/deploy.js'),
      load('services/secret-cipher.js'),
      load('services/runs.js'),
      load('scheduler/runner.js'),
    ]);
  const dir = mkdtempSync(join(tmpdir(), 'optimus-bench-wait-'));
  mkdirSync(join(dir, 'plugins'));
  writeFileSync(join(dir, 'plugins', 'shell.yaml'), SHELL_PLUGIN);
  const store = await createStore({ dataDir: join(dir, 'store') });
  try {
    const plugins = await loadPluginRegistry(join(dir, 'plugins'));
    const p = await store.upsertProject({ name: 'bench', config: {}, pluginDependencies: [] });
    await store.upsertNamespace({ projectName: 'bench', name: 'ns', config: {} });
    const job = (name, extra = {}) => ({
      version: 3,
      name,
      owner: 'bench@acme.example',
      schedule: { start_date: '2026-01-01', interval: '0 * * * *' },
      task: { name: 'shell', config: { SCRIPT: 'true' } },
      ...extra,
    });
    await deployNamespace(
      { store, plugins: plugins.current().plugins },
      { project: p, namespace: 'ns', jobs: [job('a'), job('b', { dependencies: [{ job: 'a' }] })] },
    );
    for (let i = 0; i < RUNS; i++) {
      const at = new Date(Date.UTC(2026, 2, 1, i));
      await runs.triggerRun(store, 'bench', 'b', at, { nodeTimeoutMs: 60_000 });
    }
    // Every store call the runner makes, by method.
    const calls = new Map();
    const counted = new Proxy(store, {
      get(target, key) {
        const v = Reflect.get(target, key);
        if (typeof v !== 'function') return v;
        return (...args) => {
          calls.set(key, (calls.get(key) ?? 0) + 1);
          return v.apply(target, args);
        };
      },
    });
    const r = runner.createRunner({
      store: counted,
      plugins,
      cipher: createSecretCipher('b'.repeat(32)),
      config: {
        type: 'local',
        executor: 'process',
        concurrency: 8,
        nodeTimeoutMs: 60_000,
        docker: { network: 'none' },
      },
      logger: { info: () => undefined, warn: () => undefined, error: (o, m) => console.error(m, o) },
      dataDir: dir,
      // No run of the scheduler's own: only the waiting runs.
      schedulePassMs: Number.MAX_SAFE_INTEGER,
    });
    const began = performance.now();
    await r.start();
    for (;;) {
      const queued = await store.runsWithStatus(['queued'], RUNS);
      if (queued.every((run) => run.note?.startsWith('waiting for upstream ns/a'))) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    const firstPass = (performance.now() - began) / 1000;
    calls.clear();
    await new Promise((res) => setTimeout(res, STEADY_MS));
    const total = [...calls.values()].reduce((a, b) => a + b, 0);
    await r.stop();
    const perSecond = (n) => (n * 1000) / STEADY_MS;
    return [
      { metric: `${RUNS} waiting runs: until each has its note`, unit: 's', value: firstPass },
      { metric: 'store calls per second while they wait', unit: 'calls/s', value: perSecond(total) },
      {
        metric: '… of which newestRunsAt (upstream runs)',
        unit: 'calls/s',
        value: perSecond(calls.get('newestRunsAt') ?? 0),
      },
      {
        metric: '… of which updateRun (run writes)',
        unit: 'calls/s',
        value: perSecond(calls.get('updateRun') ?? 0),
      },
      { metric: 'one query per waiting run per poll, for comparison', unit: 'calls/s', value: RUNS },
    ];
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run() {
  return { name: 'upstream-wait', rows: [...(await pure()), ...(await waiting())] };
}
