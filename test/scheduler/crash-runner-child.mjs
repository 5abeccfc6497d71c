// Child process of the runner's crash test (runner-crash.test.ts). `first`: deploys a job whose task
// sleeps, triggers a run, starts a runner, prints "running" once the node's process and first line are recorded and
// waits to be killed (SIGKILL). `second`: starts a runner on the same data directory, waits for the
// run to finish and prints it as JSON with its logs.
import { register } from 'node:module';

register('../store/ts-hooks.mjs', import.meta.url);
const { createStore } = await import('../../src/store/create-store.ts');
const { createRunner } = await import('../../src/scheduler/runner.ts');
const { loadPluginRegistry } = await import('../../src/server/plugin-registry.ts');
const { deployNamespace } = await import('../../src/services/deploy.ts');
const { triggerRun } = await import('../../src/services/runs.ts');
const { createSecretCipher } = await import('../../src/services/secret-cipher.ts');

const [dataDir, pluginDir, work, phase] = process.argv.slice(2);
const store = await createStore({ dataDir });
const plugins = await loadPluginRegistry(pluginDir);
const runner = createRunner({
  store,
  plugins,
  cipher: createSecretCipher('r'.repeat(32)),
  config: {
    type: 'local',
    executor: 'process',
    concurrency: 4,
    nodeTimeoutMs: 600_000,
    docker: { network: 'none' },
  },
  dataDir,
  logger: {
    info: () => undefined,
    warn: () => undefined,
    error: (o, m) => process.stderr.write(`${m} ${JSON.stringify(o)}\n`),
  },
  pollMs: 50,
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (phase === 'first') {
  const project = await store.upsertProject({ name: 'p', config: {}, pluginDependencies: [] });
  await store.upsertNamespace({ projectName: 'p', name: 'ns', config: {} });
  const script = `echo $$ >> "${work}/pids"; if [ -e "${work}/second" ]; then echo finished; else echo sleeping; sleep 1000; fi`;
  await deployNamespace(
    { store, plugins: plugins.current().plugins },
    {
      project,
      namespace: 'ns',
      jobs: [
        {
          version: 3,
          name: 'crashy',
          owner: 'team@acme.example',
          schedule: { start_date: '2099-01-01', interval: '0 0 * * *' },
          behavior: { retry: { count: 1 } },
          task: { name: 'shell', config: { SCRIPT: script } },
        },
      ],
    },
  );
  const run = await triggerRun(store, 'p', 'crashy', undefined, { nodeTimeoutMs: 600_000 });
  await runner.start();
  for (;;) {
    const current = await store.getRun(run.id);
    const logs = await store.readLogs(run.id);
    // Output is stored in batches: wait until the node's line is in, so the test can look for it.
    if (current?.nodes[0]?.handle && logs.some((l) => l.line === 'sleeping')) break;
    await sleep(50);
  }
  process.stdout.write(`running ${run.id}\n`);
  await new Promise(() => undefined);
} else {
  await runner.start();
  const [listed] = await store.listRuns('p', 'crashy');
  let run = listed;
  while (!['succeeded', 'failed', 'cancelled'].includes(run.status)) {
    await sleep(50);
    run = await store.getRun(listed.id);
  }
  const logs = await store.readLogs(run.id);
  await runner.stop();
  await store.close();
  process.stdout.write(
    `${JSON.stringify({ run, logs: logs.map((l) => `${l.attempt} ${l.stream} ${l.line}`) })}\n`,
  );
}
