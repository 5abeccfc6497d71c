// Child process of run-store-crash.test.ts: creates runs of a three-node job one after another in
// the embedded store in `dataDir`, starts each and claims its first node, printing
// "claimed <run id>" once each is committed, until it is killed.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
const { createStore } = await import('../../src/store/create-store.ts');

const [dataDir] = process.argv.slice(2);
const store = await createStore({ dataDir });
const settings = {
  maxAttempts: 1,
  retryDelayMs: 0,
  exponentialBackoff: false,
  timeoutMs: 60_000,
  dependsOnPast: false,
};
const nodes = [
  { name: 'pre', type: 'p', stage: 'pre', dependsOn: [] },
  { name: 'task', type: 't', stage: 'task', dependsOn: ['pre'] },
  { name: 'post', type: 'q', stage: 'post', dependsOn: ['task'] },
];
for (let i = 0; ; i++) {
  const { run } = await store.createRun({
    projectName: 'p',
    namespaceName: 'ns',
    jobName: 'j',
    scheduledAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000),
    trigger: 'schedule',
    jobHash: 'h',
    settings,
    nodes,
  });
  await store.updateRun(run.id, () => ({ status: 'running', nodes: [{ name: 'pre', status: 'queued' }] }));
  const [claimed] = await store.claimNodes('crashing-server', 1, 600_000);
  await store.appendLogs(
    Array.from({ length: 200 }, (_, k) => ({
      runId: claimed.runId,
      node: claimed.name,
      attempt: claimed.attempt,
      stream: 'stdout',
      at: new Date(),
      line: `run ${run.id} line ${k}`,
    })),
  );
  process.stdout.write(`claimed ${run.id}\n`);
}
