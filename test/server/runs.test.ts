/** The run API in-process: trigger, list, read, logs and cancel, and every bad input answered with a 4xx. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { loadPluginRegistry } from '../../src/server/plugin-registry.js';
import { createSecretCipher } from '../../src/services/secret-cipher.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/store.js';
import { APP_KEY, exampleJobs, registerExample } from '../helpers/server.js';
import { EXAMPLE_PLUGINS } from '../helpers/temp-project.js';

const P = '/api/v1beta1/project/acme-analytics';
const RUNS = `${P}/job/campaign-performance/run`;
const TOKEN = 'run-api-token';

let store: Store;
let app: FastifyInstance;
let wakes = 0;

beforeAll(async () => {
  store = await createStore({});
  app = await createApp({
    store,
    plugins: await loadPluginRegistry(EXAMPLE_PLUGINS),
    cipher: createSecretCipher(APP_KEY),
    tokens: [TOKEN],
    version: 'test',
    runner: {
      wake() {
        wakes++;
      },
    },
    runDefaults: { nodeTimeoutMs: 120_000 },
  });
  await registerExample(authorised(app));
  for (const ns of ['marketing', 'finance']) {
    const r = await send('POST', `${P}/namespace/${ns}/deploy`, { jobs: exampleJobs(ns) });
    if (r.statusCode !== 200) throw new Error(r.body);
  }
});
afterAll(async () => {
  await app.close();
  await store.close();
});

/** The app with the bearer token on every request (registerExample knows nothing of tokens). */
function authorised(a: FastifyInstance): FastifyInstance {
  return {
    inject: (opts: { headers?: Record<string, string> }) =>
      a.inject({ ...opts, headers: { ...opts.headers, authorization: `Bearer ${TOKEN}` } }),
  } as unknown as FastifyInstance;
}

const get = (url: string) =>
  app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } });
const send = (method: 'POST', url: string, payload?: unknown) =>
  app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${TOKEN}` },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

let hour = 0;
/** A scheduled time no other test uses. */
function nextTime(): string {
  hour++;
  return new Date(Date.UTC(2026, 0, 1, hour)).toISOString();
}

async function trigger(job = 'campaign-performance'): Promise<{ id: number; scheduled_at: string }> {
  const r = await send('POST', `${P}/job/${job}/run`, { scheduled_at: nextTime() });
  expect(r.statusCode, r.body).toBe(201);
  return r.json().run;
}

/** A 400 naming `path` among its details, in our words (never zod's or the database's). */
function expectBadRequest(r: { statusCode: number; json(): unknown; body: string }, path: string) {
  expect(r.statusCode, r.body).toBe(400);
  const body = r.json() as { code: string; details: { path: string }[] };
  expect(body.code).toBe('REQUEST_INVALID');
  expect(body.details.map((d) => d.path)).toContain(path);
  expect(r.body).not.toMatch(/invalid_type|ZodError|syntax error|\n\s+at .+:\d+:\d+/);
}

describe('triggering a run', () => {
  it('creates a queued manual run with the job’s run graph, wakes the runner and answers 201', async () => {
    const before = wakes;
    const at = '2026-02-01T06:00:00.000Z';
    const r = await send('POST', RUNS, { scheduled_at: '2026-02-01T07:00:00+01:00' });
    expect(r.statusCode, r.body).toBe(201);
    const run = r.json().run;
    expect(run).toMatchObject({
      project: 'acme-analytics',
      namespace: 'marketing',
      job: 'campaign-performance',
      scheduled_at: at,
      trigger: 'manual',
      status: 'queued',
      over: false,
      // From marketing/jobs/this.yaml; the timeout from the server's defaults.
      settings: { timeout_ms: 120_000, max_attempts: 3, retry_delay_ms: 300_000, exponential_backoff: true },
    });
    expect(run.nodes.map((n: { name: string; stage: string }) => `${n.stage} ${n.name}`)).toEqual([
      'pre check-source',
      'pre audit-input',
      'task warehouse-load',
      'post audit-output',
      'post publish',
      'post notify-team',
      'fail page-oncall',
    ]);
    expect(run.nodes.every((n: { status: string }) => n.status === 'pending')).toBe(true);
    expect(wakes).toBe(before + 1);
  });

  it('schedules the run now when the body is empty or absent', async () => {
    const before = Date.now();
    const empty = await send('POST', `${P}/job/revenue-daily/run`, {});
    expect(empty.statusCode, empty.body).toBe(201);
    expect(Date.parse(empty.json().run.scheduled_at)).toBeGreaterThanOrEqual(before);
    const none = await send('POST', `${P}/job/ledger-export/run`);
    expect(none.statusCode, none.body).toBe(201);
  });

  it('answers 409 naming the existing run when one is scheduled at that time', async () => {
    const at = nextTime();
    const first = await send('POST', RUNS, { scheduled_at: at });
    const again = await send('POST', RUNS, { scheduled_at: at });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({
      code: 'RUN_EXISTS',
      message: `job "campaign-performance" already has a run scheduled at ${at}: run ${first.json().run.id} (queued)`,
      hint: expect.stringContaining('optimus job runs campaign-performance'),
    });
  });

  it('answers 404 for a job that is not deployed and for an unknown project', async () => {
    const job = await send('POST', `${P}/job/nope/run`, {});
    expect(job.statusCode).toBe(404);
    expect(job.json()).toMatchObject({
      code: 'JOB_NOT_FOUND',
      hint: expect.stringContaining('optimus deploy'),
    });
    const project = await send('POST', '/api/v1beta1/project/nobody/job/x/run', {});
    expect(project.statusCode).toBe(404);
    expect(project.json().code).toBe('PROJECT_NOT_FOUND');
  });

  it('refuses a scheduled time that is not a date-time with a zone', async () => {
    for (const bad of ['tomorrow', '2026-01-01', '2026-01-01T06:00:00', 42, '2026-13-01T00:00:00Z']) {
      expectBadRequest(await send('POST', RUNS, { scheduled_at: bad }), 'body.scheduled_at');
    }
  });

  it('refuses names that could never have been deployed: NUL, control characters, too long', async () => {
    expectBadRequest(await send('POST', `${P}/job/a%00b/run`, {}), 'params.job');
    expectBadRequest(await get(`${P}/job/${'j'.repeat(126)}/run`), 'params.job');
    expectBadRequest(await get(`/api/v1beta1/project/a%0Ab/job/x/run`), 'params.project');
    expectBadRequest(await get(`${RUNS}/1/logs?node=a%00b`), 'query.node');
    expectBadRequest(await get(`${RUNS}/1/logs?node=${'n'.repeat(256)}`), 'query.node');
  });

  it('asks for a token like every other route', async () => {
    const r = await app.inject({ method: 'POST', url: RUNS, payload: {} });
    expect(r.statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: RUNS })).statusCode).toBe(401);
  });
});

describe('listing and reading runs', () => {
  it('lists the job’s runs newest scheduled first, 20 unless a limit says', async () => {
    for (let i = 0; i < 21; i++) await trigger('attribution');
    const all = await get(`${P}/job/attribution/run`);
    expect(all.statusCode).toBe(200);
    const runs = all.json().runs as { scheduled_at: string; job: string }[];
    expect(runs).toHaveLength(20);
    expect(runs.every((r) => r.job === 'attribution')).toBe(true);
    const times = runs.map((r) => r.scheduled_at);
    expect(times).toEqual([...times].sort().reverse());
    const two = await get(`${P}/job/attribution/run?limit=2`);
    expect(two.json().runs.map((r: { scheduled_at: string }) => r.scheduled_at)).toEqual(times.slice(0, 2));
    const older = await get(`${P}/job/attribution/run?limit=2&before=${encodeURIComponent(times[1]!)}`);
    expect(older.json().runs.map((r: { scheduled_at: string }) => r.scheduled_at)).toEqual(times.slice(2, 4));
  });

  it('refuses a limit that is not a whole number from 1 to 1000, naming the field', async () => {
    for (const bad of ['0', '1001', 'abc', '2.5', '-3', '']) {
      expectBadRequest(await get(`${RUNS}?limit=${bad}`), 'query.limit');
    }
    expect((await get(`${RUNS}?limit=1000`)).statusCode).toBe(200);
  });

  it('answers 404 for runs of a job that was never deployed and has none', async () => {
    const r = await get(`${P}/job/never-here/run`);
    expect(r.statusCode).toBe(404);
    expect(r.json().code).toBe('JOB_NOT_FOUND');
  });

  it('reads one run by id, and only under its own job', async () => {
    const run = await trigger();
    const r = await get(`${RUNS}/${run.id}`);
    expect(r.statusCode).toBe(200);
    expect(r.json().run).toMatchObject({ id: run.id, job: 'campaign-performance', status: 'queued' });
    const other = await get(`${P}/job/attribution/run/${run.id}`);
    expect(other.statusCode).toBe(404);
    expect(other.json()).toMatchObject({
      code: 'RUN_NOT_FOUND',
      message: `job "attribution" has no run ${run.id}`,
    });
    expect((await get(`/api/v1beta1/project/other/job/campaign-performance/run/${run.id}`)).statusCode).toBe(
      404,
    );
    expect((await get(`${RUNS}/987654321`)).statusCode).toBe(404);
  });

  it('refuses run ids that are not positive whole numbers', async () => {
    for (const bad of ['abc', '0', '-1', '1e3', '0x10', '1.5', '99999999999999999999', '9007199254740993']) {
      expectBadRequest(await get(`${RUNS}/${bad}`), 'params.id');
      expectBadRequest(await send('POST', `${RUNS}/${bad}/cancel`), 'params.id');
      expectBadRequest(await get(`${RUNS}/${bad}/logs`), 'params.id');
    }
  });
});

describe('logs', () => {
  async function runWithLogs(lines: number) {
    const run = await trigger();
    const at = new Date('2026-02-01T06:00:01Z');
    await store.appendLogs(
      Array.from({ length: lines }, (_, i) => ({
        runId: run.id,
        node: i % 2 ? 'warehouse-load' : 'check-source',
        attempt: 1,
        stream: i % 3 === 0 ? ('stderr' as const) : ('stdout' as const),
        at,
        line: `line ${i}`,
      })),
    );
    return run;
  }

  it('pages through a run’s lines oldest first with after and limit, following next_after', async () => {
    const run = await runWithLogs(5);
    const first = await get(`${RUNS}/${run.id}/logs?limit=3`);
    expect(first.statusCode).toBe(200);
    const page = first.json();
    expect(page.lines.map((l: { line: string }) => l.line)).toEqual(['line 0', 'line 1', 'line 2']);
    expect(page.lines[0]).toEqual({
      id: expect.any(Number),
      node: 'check-source',
      attempt: 1,
      stream: 'stderr',
      at: '2026-02-01T06:00:01.000Z',
      line: 'line 0',
    });
    expect(page.next_after).toBe(page.lines[2].id);
    expect(page.finished).toBe(false);
    const rest = (await get(`${RUNS}/${run.id}/logs?after=${page.next_after}`)).json();
    expect(rest.lines.map((l: { line: string }) => l.line)).toEqual(['line 3', 'line 4']);
    const none = (await get(`${RUNS}/${run.id}/logs?after=${rest.next_after}`)).json();
    expect(none).toMatchObject({ lines: [], next_after: rest.next_after, finished: false });
  });

  it('filters by node, and answers 404 listing the nodes for one the run does not have', async () => {
    const run = await runWithLogs(4);
    const load = (await get(`${RUNS}/${run.id}/logs?node=warehouse-load`)).json();
    expect(load.lines.map((l: { line: string }) => l.line)).toEqual(['line 1', 'line 3']);
    const missing = await get(`${RUNS}/${run.id}/logs?node=nobody`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({
      code: 'NODE_NOT_FOUND',
      hint: 'its nodes: check-source, audit-input, warehouse-load, audit-output, publish, notify-team, page-oncall',
    });
  });

  it('says finished once the run is over and its last lines were read', async () => {
    const run = await runWithLogs(3);
    await send('POST', `${RUNS}/${run.id}/cancel`);
    const partial = (await get(`${RUNS}/${run.id}/logs?limit=3`)).json();
    // A full page may have more behind it.
    expect(partial.finished).toBe(false);
    const all = (await get(`${RUNS}/${run.id}/logs`)).json();
    expect(all).toMatchObject({ finished: true, run_status: 'cancelled' });
  });

  it('refuses a bad cursor or limit, naming the field', async () => {
    for (const bad of ['-1', 'x', '1.5', '1e2'])
      expectBadRequest(await get(`${RUNS}/1/logs?after=${bad}`), 'query.after');
    for (const bad of ['0', '10001', 'x'])
      expectBadRequest(await get(`${RUNS}/1/logs?limit=${bad}`), 'query.limit');
  });
});

describe('cancelling a run', () => {
  it('cancels a queued run and its nodes', async () => {
    const run = await trigger();
    const r = await send('POST', `${RUNS}/${run.id}/cancel`);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().run).toMatchObject({
      id: run.id,
      status: 'cancelled',
      over: true,
      note: 'cancelled by a request to the API',
    });
    expect(r.json().run.nodes.every((n: { status: string }) => n.status === 'cancelled')).toBe(true);
    expect((await get(`${RUNS}/${run.id}`)).json().run.status).toBe('cancelled');
  });

  it('answers 409 for a run that is already over, and 404 for a run of another job', async () => {
    const run = await trigger();
    await store.updateRun(run.id, () => ({ status: 'failed', finishedAt: new Date('2026-02-02T00:00:00Z') }));
    const r = await send('POST', `${RUNS}/${run.id}/cancel`);
    expect(r.statusCode).toBe(409);
    expect(r.json()).toMatchObject({
      code: 'RUN_FINISHED',
      message: `run ${run.id} of job "campaign-performance" has already failed (at 2026-02-02T00:00:00.000Z)`,
      hint: 'only a queued or running run can be cancelled',
    });
    const other = await trigger('attribution');
    const wrong = await send('POST', `${RUNS}/${other.id}/cancel`);
    expect(wrong.statusCode).toBe(404);
    expect((await get(`${P}/job/attribution/run/${other.id}`)).json().run.status).toBe('queued');
  });
});

describe('the OpenAPI document', () => {
  it('describes every run route, authorised, with an optional trigger body', async () => {
    const doc = (await get('/api/openapi.json')).json();
    const base = '/api/v1beta1/project/{project}/job/{job}/run';
    expect(Object.keys(doc.paths[base])).toEqual(['post', 'get']);
    expect(doc.paths[base].post.requestBody.required).toBe(false);
    expect(doc.paths[base].post.responses['201']).toBeDefined();
    expect(doc.paths[`${base}/{id}`].get.security).toEqual([{ bearer: [] }]);
    expect(doc.paths[`${base}/{id}/logs`].get.parameters.map((p: { name: string }) => p.name)).toEqual([
      'project',
      'job',
      'id',
      'node',
      'after',
      'limit',
    ]);
    expect(doc.paths[`${base}/{id}/cancel`].post.security).toEqual([{ bearer: [] }]);
  });
});
