/**
 * A compiled DAG's tasks against a real Optimus server on 127.0.0.1: the pod operator mints a real
 * pod token that opens its node's run input (with secrets) and nothing else, and the upstream
 * sensor reads the window and the upstream's runs from the server's own routes.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dagPath, libPath, POD_ENV } from '../../../src/scheduler/airflow/contract.js';
import { compileDag, dagJobOf } from '../../../src/scheduler/airflow/dag-compiler.js';
import { libPy } from '../../../src/scheduler/airflow/lib-py.js';
import { createApp } from '../../../src/server/app.js';
import { loadPluginRegistry } from '../../../src/server/plugin-registry.js';
import { podTokenKey } from '../../../src/services/pod-token.js';
import { createSecretCipher } from '../../../src/services/secret-cipher.js';
import { loadProjectConfig } from '../../../src/spec/project-config.js';
import { createStore } from '../../../src/store/create-store.js';
import type { Store } from '../../../src/store/store.js';
import { APP_KEY, exampleJobs } from '../../helpers/server.js';
import { EXAMPLE, EXAMPLE_PLUGINS } from '../../helpers/temp-project.js';
import { projectSources, STUB } from './dag-support.js';

const SCHEDULER = 'airflow-scheduler-token-0001';
const PLAIN = 'plain-token-0002';
const WH_TOKEN = 'wh-s3cret-value-0001';
const SCHEDULED = '2026-03-02T03:00:00+00:00';
const JOBS = '/api/v1beta1/project/acme-analytics/job';

let store: Store;
let app: FastifyInstance;
let base = '';
let dagsDir = '';
let dagFile = '';
let root = '';

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies
type Json = any;

async function call(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const r = await fetch(base + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, json: await r.json() };
}

// biome-ignore lint/suspicious/noExplicitAny: the script's JSON
async function runTask(taskId: string, action: 'execute' | 'poke'): Promise<any> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AIRFLOW_')));
  const child = spawn('python3', [join(STUB, 'run_task.py'), dagsDir, dagFile, taskId, SCHEDULED, action], {
    env: { ...clean, AIRFLOW_CONN_OPTIMUS: `http://:${SCHEDULER}@optimus` },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  child.stderr.on('data', (c) => {
    err += c;
  });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`run_task.py exited ${code}: ${err}`);
  return JSON.parse(out);
}

beforeAll(async () => {
  store = await createStore({});
  app = await createApp({
    store,
    plugins: await loadPluginRegistry(EXAMPLE_PLUGINS),
    cipher: createSecretCipher(APP_KEY),
    version: 'test',
    tokens: [PLAIN],
    secretTokens: [SCHEDULER],
    podTokens: { key: podTokenKey(APP_KEY), now: () => new Date() },
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  const setup = async (path: string, body: unknown) => {
    const r = await call('POST', path, PLAIN, body);
    if (r.status >= 300) throw new Error(`${path}: ${JSON.stringify(r.json)}`);
  };
  await setup('/api/v1beta1/project', {
    project: {
      name: 'acme-analytics',
      config: { WAREHOUSE: 'acme_dw' },
      plugin_dependencies: [],
      presets: loadProjectConfig(EXAMPLE).config!.presetWindows,
    },
  });
  await setup('/api/v1beta1/project/acme-analytics/namespace', { namespace: { name: 'marketing' } });
  await setup('/api/v1beta1/project/acme-analytics/secret/WH_TOKEN', {
    value: Buffer.from(WH_TOKEN).toString('base64'),
  });
  await setup('/api/v1beta1/project/acme-analytics/namespace/marketing/deploy', {
    jobs: exampleJobs('marketing'),
  });

  // Kept for every test of the file (tempDir() is emptied after each test).
  root = mkdtempSync(join(tmpdir(), 'optimus-dag-server-'));
  const source = projectSources(EXAMPLE).find((s) => s.spec.name === 'campaign-performance')!;
  dagsDir = dirname(join(root, libPath()));
  dagFile = join(root, dagPath(source.namespace, source.spec.name));
  mkdirSync(dirname(dagFile), { recursive: true });
  writeFileSync(join(root, libPath()), libPy());
  writeFileSync(dagFile, compileDag(dagJobOf(source), { optimusHost: base }));
}, 60_000);

afterAll(async () => {
  await app?.close();
  await store?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('a DAG against the Optimus server', () => {
  it('launches a pod whose token opens its own node’s run input with secrets, and no other node’s', async () => {
    const out = await runTask('warehouse-load', 'execute');
    expect(out.error).toBeUndefined();
    const env = Object.fromEntries(
      out.pods[0].env.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    const token = env[POD_ENV.token] as string;
    expect(token.startsWith('optimus-pod.')).toBe(true);
    expect(JSON.stringify(out)).not.toContain(SCHEDULER);

    const own = await call('POST', `${JOBS}/campaign-performance/run_input`, token, {
      scheduled_at: env[POD_ENV.scheduledAt],
      instance_type: env[POD_ENV.instanceType],
      instance_name: env[POD_ENV.instanceName],
    });
    expect(own.status).toBe(200);
    expect(own.json.secrets.WH_TOKEN).toBe(WH_TOKEN);
    const other = await call('POST', `${JOBS}/campaign-performance/run_input`, token, {
      scheduled_at: SCHEDULED,
      instance_type: 'hook',
      instance_name: 'page-oncall',
    });
    expect(other.status).toBe(403);
    expect(other.json.code).toBe('POD_TOKEN_SCOPE');

    const dag = readFileSync(dagFile, 'utf8');
    expect(dag).not.toContain(WH_TOKEN);
    expect(dag).not.toContain(SCHEDULER);
  });

  it('waits for the upstream job’s run of the same window until the server records it succeeded', async () => {
    const window = await call('POST', `${JOBS}/campaign-performance/run_input`, SCHEDULER, {
      scheduled_at: SCHEDULED,
      instance_type: 'task',
      instance_name: 'warehouse-load',
    });
    const dend = window.json.envs.DEND as string;
    expect((await runTask('wait.acme-analytics.attribution', 'poke')).result).toBe(false);

    const run = await call('POST', `${JOBS}/attribution/run`, PLAIN, { scheduled_at: dend });
    expect(run.status).toBe(201);
    const queued = await runTask('wait.acme-analytics.attribution', 'poke');
    expect(queued.error).toBeUndefined();
    expect(queued.result).toBe(false);

    await store.updateRun(run.json.run.id, () => ({ status: 'succeeded' }));
    const done = await runTask('wait.acme-analytics.attribution', 'poke');
    expect(done.error).toBeUndefined();
    expect(done.result).toBe(true);
    expect(done.log).toEqual([
      'upstream acme-analytics/attribution: 1 run time(s) in the window, 1 succeeded',
    ]);
  });
});
