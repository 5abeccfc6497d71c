/**
 * The server with scheduler.type airflow: a deploy compiles the project's DAGs into its storage path
 * (file://), a re-deploy rewrites only what changed, deleting a job removes its DAG, and a storage
 * that cannot be written is a warning in the deploy's answer that the next deploy repairs. A real
 * HTTP server on 127.0.0.1 over an in-memory embedded store, serving the example plugins.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MANIFEST_PATH } from '../../../src/scheduler/airflow/dag-storage.js';
import {
  compileProjectDags,
  createDagPublisher,
  type DagCache,
} from '../../../src/scheduler/airflow/publish.js';
import { createApp } from '../../../src/server/app.js';
import { loadPluginRegistry } from '../../../src/server/plugin-registry.js';
import { createSecretCipher } from '../../../src/services/secret-cipher.js';
import { validateProject } from '../../../src/services/validate-project.js';
import { createStore } from '../../../src/store/create-store.js';
import type { Store } from '../../../src/store/store.js';
import { APP_KEY, exampleJobs } from '../../helpers/server.js';
import { EXAMPLE, EXAMPLE_PLUGINS, tempDir } from '../../helpers/temp-project.js';

const SECRET = 'very-secret-warehouse-token';

let store: Store;
let app: FastifyInstance;
let base: string;
let root: string;
let shared: string;

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json as { warnings?: { code: string; message: string; hint?: string }[] } & Record<string, unknown>;
}

async function register(project: string, config: Record<string, string>) {
  await call('POST', '/api/v1beta1/project', {
    project: {
      name: project,
      config: { warehouse: 'acme_dw', ...config },
      plugin_dependencies: ['audit-output >> notify-team,publish', 'check-source >> audit-input'],
    },
  });
  for (const ns of ['marketing', 'finance'])
    await call('POST', `/api/v1beta1/project/${project}/namespace`, { namespace: { name: ns } });
  await call('POST', `/api/v1beta1/project/${project}/secret/WH_TOKEN`, {
    value: Buffer.from(SECRET).toString('base64'),
  });
}

/** The deploy's warnings about DAGs (the example jobs have warnings of their own). */
const dagWarnings = (answer: { warnings?: { code: string }[] }) =>
  (answer.warnings ?? []).filter((w) => w.code.startsWith('DAG_'));

const deploy = (project: string, ns: string, jobs = exampleJobs(ns)) =>
  call('POST', `/api/v1beta1/project/${project}/namespace/${ns}/deploy`, { jobs });

/** Every file under `dir`, relative, sorted. */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .sort();
}

beforeEach(async () => {
  root = tempDir();
  shared = tempDir();
  store = await createStore({});
  const plugins = await loadPluginRegistry(EXAMPLE_PLUGINS);
  const dags = createDagPublisher({
    store,
    plugins: () => plugins.plugins,
    scheduler: { storagePath: pathToFileURL(shared).href, registry: 'registry.acme.example/optimus' },
    providers: [],
    optimusHost: () => 'http://optimus.acme.example',
  });
  app = await createApp({ store, plugins, cipher: createSecretCipher(APP_KEY), version: 'test', dags });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

afterEach(async () => {
  await app.close();
  await store.close();
});

describe('compile on deploy (scheduler.type airflow)', () => {
  it("writes one DAG per job and the helper module under the project's STORAGE_PATH", async () => {
    await register('acme', { STORAGE_PATH: pathToFileURL(root).href });
    const answer = await deploy('acme', 'marketing');
    expect(dagWarnings(answer)).toEqual([]);
    expect(files(root)).toEqual([
      MANIFEST_PATH,
      'dags/__lib.py',
      'dags/marketing/attribution.py',
      'dags/marketing/campaign-performance.py',
    ]);
    const dag = readFileSync(join(root, 'dags/marketing/campaign-performance.py'), 'utf8');
    expect(dag).toContain('"campaign-performance"');
    expect(dag).toContain('http://optimus.acme.example');
    expect(dag).toContain('registry.acme.example/optimus/');
    for (const f of files(root)) expect(readFileSync(join(root, f), 'utf8')).not.toContain(SECRET);
  });

  it('rewrites only the DAG of the job that changed', async () => {
    await register('acme', { STORAGE_PATH: pathToFileURL(root).href });
    await deploy('acme', 'marketing');
    const path = (j: string) => join(root, 'dags/marketing', `${j}.py`);
    const before = {
      a: statSync(path('attribution')).mtimeMs,
      c: readFileSync(path('campaign-performance'), 'utf8'),
    };
    // Same content again: nothing to write.
    await deploy('acme', 'marketing');
    const changed = exampleJobs('marketing').map((j) =>
      j.name === 'campaign-performance'
        ? { ...j, description: 'spend per campaign, now with a new description' }
        : j,
    );
    await deploy('acme', 'marketing', changed);
    expect(readFileSync(path('campaign-performance'), 'utf8')).not.toBe(before.c);
    expect(readFileSync(path('campaign-performance'), 'utf8')).toContain('now with a new description');
    expect(statSync(path('attribution')).mtimeMs).toBe(before.a);
  });

  it('removes the DAG of a deleted job and leaves files it did not write', async () => {
    await register('acme', { STORAGE_PATH: pathToFileURL(root).href });
    await deploy('acme', 'marketing');
    writeFileSync(join(root, 'dags/marketing/hand-made.py'), '# someone else\n');
    const answer = await call('DELETE', '/api/v1beta1/project/acme/namespace/marketing/job/attribution');
    expect(answer).toEqual({ deleted: 'attribution' });
    expect(files(join(root, 'dags/marketing'))).toEqual(['campaign-performance.py', 'hand-made.py']);
    // A deploy without a job deletes its DAG too.
    await deploy(
      'acme',
      'marketing',
      exampleJobs('marketing').filter((j) => j.name !== 'campaign-performance' && j.name !== 'attribution'),
    );
    expect(files(join(root, 'dags/marketing'))).toEqual(['hand-made.py']);
  });

  it("uses the server's storage_path, one folder per project, when the project names none", async () => {
    await register('acme', {});
    await deploy('acme', 'finance');
    expect(files(join(shared, 'acme'))).toEqual([
      MANIFEST_PATH,
      'dags/__lib.py',
      'dags/finance/ledger-export.py',
      'dags/finance/marketing-roi.py',
      'dags/finance/revenue-daily.py',
    ]);
  });

  it('answers a failed write with a warning, keeps the deploy, and the next deploy repairs it', async () => {
    await register('acme', { STORAGE_PATH: pathToFileURL(root).href });
    // A file where the dags folder should be: nothing can be written under it.
    writeFileSync(join(root, 'dags'), 'in the way');
    const answer = await deploy('acme', 'marketing');
    expect((answer.deploy as { status: string }).status).toBe('succeeded');
    expect(dagWarnings(answer)).toEqual([
      expect.objectContaining({
        code: 'DAG_PUBLISH_FAILED',
        message: expect.stringContaining('DAGs not (fully) published'),
        hint: expect.stringContaining('the deploy itself succeeded'),
      }),
    ]);
    const jobs = (await call('GET', '/api/v1beta1/project/acme/namespace/marketing/job')).jobs as unknown[];
    expect(jobs).toHaveLength(2);

    rmSync(join(root, 'dags'));
    const again = await deploy('acme', 'marketing');
    expect(dagWarnings(again)).toEqual([]);
    expect(files(join(root, 'dags/marketing'))).toEqual(['attribution.py', 'campaign-performance.py']);
  });

  it("compiles again another project's DAGs whose upstream sensors the change adds or removes", async () => {
    const other = tempDir();
    await register('acme', { STORAGE_PATH: pathToFileURL(root).href });
    await register('other', { STORAGE_PATH: pathToFileURL(other).href });
    await deploy('acme', 'marketing');
    const jobs = exampleJobs('finance').map((j) =>
      j.name === 'revenue-daily' ? { ...j, dependencies: [{ job: 'acme/attribution' }] } : j,
    );
    await deploy('other', 'finance', jobs);
    const dag = () => readFileSync(join(other, 'dags/finance/revenue-daily.py'), 'utf8');
    expect(dag()).toContain('"attribution"');
    // The upstream goes away in project acme: project other's DAG loses its sensor.
    await call('DELETE', '/api/v1beta1/project/acme/namespace/marketing/job/attribution');
    expect(dag()).not.toContain('"attribution"');
  });

  it('refuses a storage path it cannot use, as a warning naming the setting', async () => {
    await register('acme', { STORAGE_PATH: 'ftp://dags.acme.example/x' });
    const answer = await deploy('acme', 'marketing');
    expect(dagWarnings(answer)).toEqual([
      expect.objectContaining({
        code: 'DAG_STORAGE_INVALID',
        message: expect.stringContaining('project config STORAGE_PATH'),
      }),
    ]);
  });
});

describe('compiling with a cache', () => {
  const report = validateProject({ dir: EXAMPLE, pluginsDir: EXAMPLE_PLUGINS });
  const images = { baseImage: 'optimus-ts/base:1', registry: 'r.example/optimus' };
  const inputs = (description?: string) =>
    report.jobs.map((j) => ({
      namespace: j.namespace,
      name: j.name,
      key: `${j.name === 'revenue-daily' && description ? description : 'v1'}`,
      load: () => ({
        project: 'acme',
        namespace: j.namespace,
        spec: j.name === 'revenue-daily' && description ? { ...j.spec!, description } : j.spec!,
        nodes: j.nodes,
        plugins: report.plugins.plugins,
        images,
        upstreams: [],
      }),
    }));
  const context = { plugins: report.plugins.plugins, images: 'same' };

  it('compiles again only the job whose key changed, with the same bytes as a full compile', () => {
    const cache: DagCache = { entries: new Map() };
    expect(compileProjectDags(inputs(), { optimusHost: 'http://o', cache, context }).compiled).toBe(5);
    const again = compileProjectDags(inputs('new words'), { optimusHost: 'http://o', cache, context });
    expect(again.compiled).toBe(1);
    const full = compileProjectDags(inputs('new words'), { optimusHost: 'http://o' });
    expect(again.files).toEqual(full.files);
  });

  it('compiles everything again when the plugins, images or host change', () => {
    const cache: DagCache = { entries: new Map() };
    compileProjectDags(inputs(), { optimusHost: 'http://o', cache, context });
    expect(compileProjectDags(inputs(), { optimusHost: 'http://other', cache, context }).compiled).toBe(5);
    const reloaded = { plugins: new Map(report.plugins.plugins), images: 'same' };
    expect(
      compileProjectDags(inputs(), { optimusHost: 'http://other', cache, context: reloaded }).compiled,
    ).toBe(5);
  });

  it('keeps the previous DAG of a job whose plugin is no longer served', () => {
    const noAudit = new Map([...report.plugins.plugins].filter(([n]) => n !== 'data-audit'));
    const out = compileProjectDags(
      inputs().map((i) => ({ ...i, load: () => ({ ...i.load(), plugins: noAudit }) })),
      { optimusHost: 'http://o' },
    );
    expect(out.failures.map((f) => [f.job, f.code])).toContainEqual([
      'campaign-performance',
      'PLUGIN_UNKNOWN',
    ]);
    expect(out.keep.has('dags/marketing/campaign-performance.py')).toBe(true);
    expect(out.files.has('dags/marketing/campaign-performance.py')).toBe(false);
  });
});
