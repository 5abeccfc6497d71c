// Child process of the crash test (pglite.test.ts): `setup` deploys version 1 of JOBS jobs and
// exits; `apply` prints "applying", deploys version 2 (and deletes two jobs), prints "committed" and
// waits to be killed.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
const { createStore } = await import('../../src/store/create-store.ts');

const [dataDir, phase, count] = process.argv.slice(2);
const JOBS = Number(count);
const store = await createStore({ dataDir });
const job = (i, v) => ({
  projectName: 'p',
  namespaceName: 'ns',
  name: `j${String(i).padStart(5, '0')}`,
  spec: { v },
  assets: { 'query.sql': `-- v${v} ${'x'.repeat(1024)}` },
  hash: `v${v}`,
  runGraph: [],
});
const deploy = (v) => ({
  projectName: 'p',
  namespaceName: 'ns',
  status: 'succeeded',
  startedAt: new Date(),
  finishedAt: new Date(),
  added: [`v${v}`],
  modified: [],
  deleted: [],
  unchanged: 0,
  problems: [],
});
const jobs = (v, from) => Array.from({ length: JOBS - from }, (_, i) => job(i + from, v));

if (phase === 'setup') {
  await store.upsertProject({ name: 'p', config: {}, pluginDependencies: [] });
  await store.upsertNamespace({ projectName: 'p', name: 'ns', config: {} });
  await store.applyDeploy({ upsert: jobs(1, 0), delete: [], deploy: deploy(1) });
  await store.close();
} else {
  const upsert = jobs(2, 2);
  process.stdout.write('applying\n');
  await store.applyDeploy({ upsert, delete: [job(0).name, job(1).name], deploy: deploy(2) });
  process.stdout.write('committed\n');
  await new Promise(() => undefined);
}
