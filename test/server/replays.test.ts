/** The replay API in-process, on the example project: create, list, read, cancel, and bad input answered with a 4xx naming the field. */

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { loadPluginRegistry } from '../../src/server/plugin-registry.js';
import { replaySchema, replaySummarySchema } from '../../src/server/routes/replays.js';
import { runSchema } from '../../src/server/routes/runs.js';
import { createSecretCipher } from '../../src/services/secret-cipher.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/store.js';
import { APP_KEY, exampleJobs, registerExample } from '../helpers/server.js';
import { EXAMPLE_PLUGINS } from '../helpers/temp-project.js';

const P = '/api/v1beta1/project/acme-analytics';
const REPLAYS = `${P}/replay`;

let store: Store;
let app: FastifyInstance;
let wakes = 0;

beforeAll(async () => {
  store = await createStore({});
  app = await createApp({
    store,
    plugins: await loadPluginRegistry(EXAMPLE_PLUGINS),
    cipher: createSecretCipher(APP_KEY),
    version: 'test',
    runner: {
      wake() {
        wakes++;
      },
    },
  });
  await registerExample(app);
  for (const ns of ['marketing', 'finance']) {
    const r = await send('POST', `${P}/namespace/${ns}/deploy`, { jobs: exampleJobs(ns) });
    if (r.statusCode !== 200) throw new Error(r.body);
  }
  await send('POST', '/api/v1beta1/project', { project: { name: 'elsewhere', config: {} } });
});
afterAll(async () => {
  await app.close();
  await store.close();
});

const send = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
  app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });

describe('the replay API', { timeout: 60_000 }, () => {
  it('refuses a replay when a window of one of its jobs cannot be computed, naming the job', async () => {
    // Registered without its presets file: campaign-performance's preset window is unknown.
    const r = await send('POST', REPLAYS, {
      job: 'attribution',
      from: '2026-03-01',
      to: '2026-03-02',
      downstream: true,
    });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({
      code: 'WINDOW_INVALID',
      message: expect.stringMatching(
        /^job "campaign-performance": task\.window\.preset: window preset "yesterday"/,
      ),
    });
    const project = (await store.getProject('acme-analytics'))!;
    await store.upsertProject({
      ...project,
      windowPresets: { yesterday: { window: { size: '1d', shift_by: '-1d', truncate_to: 'd' } } },
    });
  });

  it('creates a replay of a job and its downstream jobs, creating the runs that need nothing at once', async () => {
    const before = wakes;
    const r = await send('POST', REPLAYS, {
      job: 'attribution',
      from: '2026-03-01',
      to: '2026-03-02',
      downstream: true,
    });
    expect(r.statusCode, r.body).toBe(201);
    const { replay } = r.json();
    // campaign-performance lists attribution in its dependencies.
    expect(replay.jobs.map((j: { job: string }) => j.job).slice(0, 2)).toEqual([
      'attribution',
      'campaign-performance',
    ]);
    expect(replay).toMatchObject({
      job: 'attribution',
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-02T23:59:59.999Z',
      downstream: true,
      parallel: false,
      status: 'running',
      over: false,
    });
    expect(replay.items[0]).toMatchObject({
      job: 'attribution',
      scheduled_at: '2026-03-01T00:00:00.000Z',
      state: 'queued',
    });
    // campaign-performance's first window (the day before yesterday's data) overlaps no window of
    // attribution in the range: it need not wait. Its second overlaps attribution's first.
    expect(
      replay.items.map((i: { job: string; state: string; after: number[] }) => [i.job, i.state, i.after]),
    ).toEqual([
      ['attribution', 'queued', []],
      ['attribution', 'waiting', [0]],
      ['campaign-performance', 'queued', []],
      ['campaign-performance', 'waiting', [0, 2]],
    ]);
    expect(wakes).toBe(before + 1);

    const run = await send('GET', `${P}/job/attribution/run/${replay.items[0].run_id}`);
    expect(run.json().run).toMatchObject({ trigger: 'replay', status: 'queued' });

    const read = await send('GET', `${REPLAYS}/${replay.id}`);
    expect(read.json().replay).toEqual(replay);
    // The answers are what the OpenAPI document says they are, field for field.
    expect(replaySchema.parse(replay)).toEqual(replay);
    expect(runSchema.parse(run.json().run)).toEqual(run.json().run);
    const list = await send('GET', `${REPLAYS}?job=attribution&limit=5`);
    expect(list.json().replays.map((x: { id: number }) => x.id)).toEqual([replay.id]);
    expect(replaySummarySchema.parse(list.json().replays[0])).toEqual(list.json().replays[0]);

    const refused = await send('POST', REPLAYS, {
      job: 'attribution',
      from: '2026-03-02T00:00:00Z',
      to: '2026-03-09',
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'REPLAY_RUNNING',
      message: expect.stringContaining(`replay ${replay.id} of job "attribution"`),
    });

    const cancelled = await send('POST', `${REPLAYS}/${replay.id}/cancel`);
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().replay).toMatchObject({ status: 'cancelled', over: true });
    expect(replaySchema.safeParse(cancelled.json().replay).success).toBe(true);
    expect(cancelled.json().replay.items[0].state).toBe('cancelled');
    const twice = await send('POST', `${REPLAYS}/${replay.id}/cancel`);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('REPLAY_FINISHED');
  });

  it('answers bad input with a 4xx naming the field', async () => {
    const cases: [string, 'GET' | 'POST', string, unknown, number, string, string][] = [
      [
        'a bad date',
        'POST',
        REPLAYS,
        { job: 'attribution', from: 'yesterday', to: '2026-03-02' },
        400,
        'REQUEST_INVALID',
        'body.from',
      ],
      [
        'no end',
        'POST',
        REPLAYS,
        { job: 'attribution', from: '2026-03-01' },
        400,
        'REQUEST_INVALID',
        'body.to',
      ],
      [
        'a backwards range',
        'POST',
        REPLAYS,
        { job: 'attribution', from: '2026-03-05', to: '2026-03-01' },
        400,
        'REPLAY_RANGE_INVALID',
        'body.to',
      ],
      [
        'a flag that is not a boolean',
        'POST',
        REPLAYS,
        { job: 'attribution', from: '2026-03-01', to: '2026-03-01', parallel: 'yes' },
        400,
        'REQUEST_INVALID',
        'body.parallel',
      ],
      [
        'a job that is not deployed',
        'POST',
        REPLAYS,
        { job: 'nosuch', from: '2026-03-01', to: '2026-03-02' },
        404,
        'JOB_NOT_FOUND',
        'body.job',
      ],
      [
        'a range without a scheduled time',
        'POST',
        REPLAYS,
        { job: 'attribution', from: '2020-01-01', to: '2020-01-02' },
        400,
        'REPLAY_EMPTY',
        'body.to',
      ],
      [
        'a range too large',
        'POST',
        REPLAYS,
        { job: 'attribution', from: '2026-02-01', to: '2099-12-31' },
        400,
        'REPLAY_TOO_LARGE',
        'body.to',
      ],
      ['a bad id', 'GET', `${REPLAYS}/1e3`, undefined, 400, 'REQUEST_INVALID', 'params.id'],
      ['an unknown id', 'GET', `${REPLAYS}/424242`, undefined, 404, 'REPLAY_NOT_FOUND', 'params.id'],
      ['a bad limit', 'GET', `${REPLAYS}?limit=0`, undefined, 400, 'REQUEST_INVALID', 'query.limit'],
    ];
    for (const [what, method, url, body, status, code, path] of cases) {
      const r = await send(method, url, body);
      expect({ what, status: r.statusCode, code: r.json().code }).toEqual({ what, status, code });
      expect(
        r.json().details.map((d: { path: string }) => d.path),
        what,
      ).toContain(path);
    }
  });

  it('keeps replays to their project', async () => {
    const r = await send('POST', REPLAYS, { job: 'ledger-export', from: '2026-03-01', to: '2026-03-31' });
    expect(r.statusCode, r.body).toBe(201);
    const { id } = r.json().replay;
    expect((await send('GET', `/api/v1beta1/project/elsewhere/replay/${id}`)).statusCode).toBe(404);
    expect((await send('POST', `/api/v1beta1/project/elsewhere/replay/${id}/cancel`)).statusCode).toBe(404);
    expect((await send('GET', '/api/v1beta1/project/elsewhere/replay')).json()).toEqual({ replays: [] });
    expect((await send('GET', '/api/v1beta1/project/nosuch/replay')).statusCode).toBe(404);
    await send('POST', `${REPLAYS}/${id}/cancel`);
  });
});
