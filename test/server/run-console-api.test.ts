/**
 * The runs API the console uses, on a real HTTP server on 127.0.0.1 whose embedded runner really
 * executes the runs: the newest runs across jobs, node attempts, retrying failed nodes, and the
 * live event stream read with fetch as the console reads it.
 */
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { Runner } from '../../src/scheduler/runner.js';
import { createApp } from '../../src/server/app.js';
import { installErrorHandler } from '../../src/server/errors.js';
import { registerRoutes } from '../../src/server/route.js';
import { logLineSchema, runRoutes, runSchema } from '../../src/server/routes/runs.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/store.js';
import { deployJobs, type Kit, openKit, shellJob, startRunner, waitForRun } from '../scheduler/runner-kit.js';

const TOKEN = 'console-runs-token';
const P = '/api/v1beta1/project/p';

let kit: Kit;
let runner: Runner;
let app: FastifyInstance;
let base: string;
/** getRun calls the app made, by run id: how the tests see a stream poll. */
const reads = new Map<number, number>();

beforeAll(async () => {
  kit = await openKit(await createStore({}));
  const mark = join(kit.dir, 'flaky.mark');
  await deployJobs(kit, 'p', [
    // Fails the first time, succeeds from then on.
    shellJob(
      'flaky',
      `if [ -e '${mark}' ]; then echo second; else touch '${mark}'; echo first; echo oops >&2; exit 3; fi`,
      [
        { name: 'after', stage: 'post', script: 'echo published' },
        { name: 'page', stage: 'fail', script: 'echo paged' },
      ],
    ),
    shellJob('slow', 'echo started; sleep 60'),
    shellJob('quick', 'echo quick'),
  ]);
  // The app reads through a store that counts its reads of each run; the runner uses the store.
  const counting = new Proxy(kit.store, {
    get(target, prop, receiver) {
      if (prop === 'getRun')
        return (id: number) => {
          reads.set(id, (reads.get(id) ?? 0) + 1);
          return target.getRun(id);
        };
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Store;
  runner = startRunner(kit);
  await runner.start();
  app = await createApp({
    store: counting,
    plugins: kit.plugins,
    cipher: kit.cipher,
    tokens: [TOKEN],
    version: 'test',
    runner,
    runDefaults: { nodeTimeoutMs: 60_000 },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await runner?.stop();
  await kit?.close();
});

const headers = { authorization: `Bearer ${TOKEN}` };
async function call(method: 'GET' | 'POST', path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { ...headers, 'content-type': 'application/json' } }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { run?: RunJson } };
}

type RunJson = z.infer<typeof runSchema>;
type Node = RunJson['nodes'][number];
const nodeOf = (run: RunJson, name: string): Node => run.nodes.find((n) => n.name === name)!;

async function trigger(job: string): Promise<RunJson> {
  const r = await call('POST', `${P}/job/${job}/run`, {});
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return runSchema.parse(r.body.run);
}

interface Sse {
  event: string;
  id?: string;
  data: unknown;
}

/**
 * Reads a run's event stream until it closes (or `until` says stop, which aborts the request), as
 * the console does: fetch with the Authorization header, the events parsed from the text.
 */
async function follow(
  url: string,
  opts: { lastEventId?: number; until?: (events: Sse[]) => boolean; server?: string } = {},
): Promise<{ events: Sse[]; status: number; type: string | null; closed: boolean }> {
  const controller = new AbortController();
  const res = await fetch(`${opts.server ?? base}${url}`, {
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(opts.lastEventId !== undefined ? { 'last-event-id': String(opts.lastEventId) } : {}),
    },
    signal: controller.signal,
  });
  const events: Sse[] = [];
  if (res.status !== 200 || !res.body) return { events, status: res.status, type: null, closed: true };
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let closed = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      closed = true;
      break;
    }
    text += decoder.decode(value, { stream: true });
    let cut = text.indexOf('\n\n');
    while (cut >= 0) {
      const block = text.slice(0, cut);
      text = text.slice(cut + 2);
      cut = text.indexOf('\n\n');
      const fields = block.split('\n').filter((l) => !l.startsWith(':'));
      if (!fields.length) continue;
      const get = (k: string) => fields.find((f) => f.startsWith(`${k}: `))?.slice(k.length + 2);
      const id = get('id');
      events.push({ event: get('event')!, ...(id ? { id } : {}), data: JSON.parse(get('data')!) });
    }
    if (opts.until?.(events)) {
      controller.abort();
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  return { events, status: res.status, type: res.headers.get('content-type'), closed };
}

const runsOf = (events: Sse[]) =>
  events.filter((e) => e.event === 'run').map((e) => runSchema.parse((e.data as { run: unknown }).run));
const linesOf = (events: Sse[]) =>
  events
    .filter((e) => e.event === 'log')
    .flatMap((e) => (e.data as { lines: unknown[] }).lines.map((l) => logLineSchema.parse(l)));

describe('following a run live', () => {
  let failedRun: RunJson;
  let lastLine = 0;

  it('sends the run, its changes and its log lines as they happen, then end, and closes', async () => {
    const run = await trigger('flaky');
    const { events, type, closed } = await follow(`${P}/job/flaky/run/${run.id}/events`);
    expect(type).toBe('text/event-stream; charset=utf-8');
    expect(closed).toBe(true);
    expect(events[0]!.event).toBe('run');
    expect(events[events.length - 1]).toEqual({ event: 'end', data: {} });
    const views = runsOf(events);
    // The task is seen failing (red in the console) and the run ending failed.
    expect(views.some((v) => nodeOf(v, 'shell').status === 'failed')).toBe(true);
    failedRun = views[views.length - 1]!;
    expect(failedRun).toMatchObject({ status: 'failed', over: true });
    expect(nodeOf(failedRun, 'page').status).toBe('succeeded');
    expect(nodeOf(failedRun, 'after').status).toBe('skipped');
    expect(nodeOf(failedRun, 'shell').attempts).toEqual([
      expect.objectContaining({ attempt: 1, status: 'failed', exit_code: 3, error: 'exited with code 3' }),
    ]);
    const lines = linesOf(events);
    expect(lines.filter((l) => l.node === 'shell' && l.stream !== 'system').map((l) => l.line)).toEqual([
      'first',
      'oops',
    ]);
    expect(lines.some((l) => l.node === 'page' && l.line === 'paged')).toBe(true);
    // Each log event's id is its last line's id: what a reconnecting client sends back.
    const logEvents = events.filter((e) => e.event === 'log');
    for (const e of logEvents) {
      const own = (e.data as { lines: { id: number }[] }).lines;
      expect(Number(e.id)).toBe(own[own.length - 1]!.id);
    }
    lastLine = Number(logEvents[logEvents.length - 1]!.id);
    // The same lines as the logs route, nothing lost or repeated.
    const logs = await call('GET', `${P}/job/flaky/run/${run.id}/logs?limit=10000`);
    expect(lines.map((l) => l.id)).toEqual((logs.body.lines as { id: number }[]).map((l) => l.id));
  }, 60_000);

  it('re-runs the failed nodes once (of two retries at once, one is refused) and resumes after Last-Event-ID', async () => {
    const url = `${P}/job/flaky/run/${failedRun.id}`;
    const [one, two] = await Promise.all([call('POST', `${url}/retry`), call('POST', `${url}/retry`)]);
    const statuses = [one.status, two.status].sort();
    expect(statuses, JSON.stringify([one.body, two.body])).toEqual([200, 409]);
    const refused = one.status === 409 ? one : two;
    expect(refused.body).toMatchObject({ code: 'RUN_NOT_OVER' });
    const retried = runSchema.parse((one.status === 200 ? one : two).body.run);
    expect(retried.status).toBe('running');
    expect(nodeOf(retried, 'page').status).toBe('succeeded');
    expect(['queued', 'running']).toContain(nodeOf(retried, 'shell').status);
    expect(nodeOf(retried, 'after').status).toBe('pending');

    const { events } = await follow(`${url}/events`, { lastEventId: lastLine });
    const lines = linesOf(events);
    expect(lines.every((l) => l.id > lastLine)).toBe(true);
    expect(lines.filter((l) => l.stream !== 'system').map((l) => `${l.node} ${l.attempt} ${l.line}`)).toEqual(
      ['shell 2 second', 'after 1 published'],
    );
    const end = runsOf(events).pop()!;
    expect(end).toMatchObject({ status: 'succeeded', over: true });
    expect(nodeOf(end, 'shell').attempts.map((a) => [a.attempt, a.status, a.exit_code])).toEqual([
      [1, 'failed', 3],
      [2, 'succeeded', 0],
    ]);
    expect(nodeOf(end, 'page').attempts).toHaveLength(1);
  }, 60_000);

  it('refuses a retry of a node that cannot be retried, naming it, and of a run that succeeded', async () => {
    const url = `${P}/job/flaky/run/${failedRun.id}/retry`;
    const unknown = await call('POST', url, { nodes: ['shell', 'nope'] });
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({
      code: 'RUN_NODE_NOT_RETRYABLE',
      details: [{ path: 'body.nodes[0]' }, { path: 'body.nodes[1]' }],
    });
    const succeeded = await call('POST', url, { nodes: ['shell'] });
    expect(succeeded.status).toBe(422);
    expect(succeeded.body).toMatchObject({ details: [{ path: 'body.nodes[0]' }] });
    expect(succeeded.body.message).toContain('succeeded');
    const nothing = await call('POST', url);
    expect(nothing.status).toBe(409);
    expect(nothing.body).toMatchObject({ code: 'RUN_NOTHING_TO_RETRY' });
    const empty = await call('POST', url, { nodes: [] });
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ details: [{ path: 'body.nodes' }] });
  });

  it('stops reading the store once the client goes away', async () => {
    const run = await trigger('slow');
    try {
      const { events } = await follow(`${P}/job/slow/run/${run.id}/events`, {
        until: (e) => linesOf(e).some((l) => l.line === 'started'),
      });
      expect(events[0]!.event).toBe('run');
      // Still polling while connected would keep counting; once it stops, the count stays put.
      await expect
        .poll(
          async () => {
            const before = reads.get(run.id) ?? 0;
            await new Promise((r) => setTimeout(r, 1500));
            return (reads.get(run.id) ?? 0) - before;
          },
          { timeout: 20_000, interval: 0 },
        )
        .toBe(0);
    } finally {
      await call('POST', `${P}/job/slow/run/${run.id}/cancel`);
      await waitForRun(kit.store, run.id);
    }
  }, 60_000);

  it('answers 404 for a node the run lacks and 400 for a bad Last-Event-ID, before any stream', async () => {
    const url = `${P}/job/flaky/run/${failedRun.id}/events`;
    const node = await fetch(`${base}${url}?node=nope`, { headers });
    expect(node.status).toBe(404);
    expect(await node.json()).toMatchObject({ code: 'NODE_NOT_FOUND', details: [{ path: 'query.node' }] });
    const bad = await fetch(`${base}${url}`, { headers: { ...headers, 'last-event-id': '1e3' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ details: [{ path: 'headers.last-event-id' }] });
    const other = await fetch(`${base}${P}/job/slow/run/${failedRun.id}/events`, { headers });
    expect(other.status).toBe(404);
    const anonymous = await fetch(`${base}${url}`);
    expect(anonymous.status).toBe(401);
  });

  it('sends only one node’s lines with ?node=', async () => {
    const { events } = await follow(`${P}/job/flaky/run/${failedRun.id}/events?node=page`);
    const lines = linesOf(events);
    expect(lines.length).toBeGreaterThan(0);
    expect(new Set(lines.map((l) => l.node))).toEqual(new Set(['page']));
    expect(events[events.length - 1]!.event).toBe('end');
  });
});

describe('the newest runs of every job', () => {
  it('lists them newest first, each with its nodes and attempts, filtered and paged', async () => {
    const quick = await trigger('quick');
    await waitForRun(kit.store, quick.id);
    const all = await call('GET', '/api/v1beta1/runs?project=p');
    expect(all.status).toBe(200);
    const runs = (all.body.runs as unknown[]).map((r) => runSchema.parse(r));
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const times = runs.map((r) => r.scheduled_at);
    expect([...times].sort().reverse()).toEqual(times);
    expect(all.body.next).toBeNull();
    expect(nodeOf(runs.find((r) => r.id === quick.id)!, 'shell').attempts).toHaveLength(1);

    const failed = await call('GET', '/api/v1beta1/runs?project=p&job=flaky&status=succeeded');
    expect((failed.body.runs as RunJson[]).map((r) => r.job)).toEqual(['flaky']);

    const pages: number[] = [];
    let query = 'project=p&limit=1';
    for (let i = 0; i < 10; i++) {
      const page = await call('GET', `/api/v1beta1/runs?${query}`);
      pages.push(...(page.body.runs as RunJson[]).map((r) => r.id));
      const next = page.body.next as { before: string; before_id: number } | null;
      if (!next) break;
      query = `project=p&limit=1&before=${encodeURIComponent(next.before)}&before_id=${next.before_id}`;
    }
    expect(pages).toEqual(runs.map((r) => r.id));
  }, 60_000);

  it('refuses bad filters with a 400 naming the field', async () => {
    for (const [query, path] of [
      ['status=done', 'query.status'],
      ['limit=501', 'query.limit'],
      ['before=yesterday', 'query.before'],
      ['before_id=3', 'query.before_id'],
      ['project=%00', 'query.project'],
    ]) {
      const r = await call('GET', `/api/v1beta1/runs?${query}`);
      expect(r.status, query).toBe(400);
      expect((r.body.details as { path: string }[]).map((d) => d.path)).toContain(path);
    }
  });

  it('describes the new routes, with their answers, in the OpenAPI document', async () => {
    const doc = (await call('GET', '/api/openapi.json')).body as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: unknown }> }>>;
    };
    const run = '/api/v1beta1/project/{project}/job/{job}/run/{id}';
    for (const [path, method, status] of [
      ['/api/v1beta1/runs', 'get', '200'],
      [`${run}/retry`, 'post', '200'],
      [`${run}/events`, 'get', '200'],
      [run, 'get', '200'],
      ['/api/v1beta1/project/{project}/job/{job}/run', 'post', '201'],
    ]) {
      expect(doc.paths[path!]?.[method!]?.responses[status!]?.content, `${method} ${path}`).toBeDefined();
    }
  });
});

describe('bounds on live streams', () => {
  /** A server with only the run routes, at most one stream, polling fast. */
  async function smallServer(): Promise<{ app: FastifyInstance; url: string }> {
    const small = Fastify();
    installErrorHandler(small);
    registerRoutes(
      small,
      runRoutes({ store: kit.store, defaults: { nodeTimeoutMs: 60_000 }, events: { max: 1, pollMs: 20 } }),
    );
    return { app: small, url: await small.listen({ port: 0, host: '127.0.0.1' }) };
  }

  it('answers 503 with a hint beyond its open streams, and serves again once one closes', async () => {
    const run = await trigger('slow');
    const small = await smallServer();
    try {
      const url = `${P}/job/slow/run/${run.id}/events`;
      const controller = new AbortController();
      const first = await fetch(`${small.url}${url}`, { signal: controller.signal });
      expect(first.status).toBe(200);
      const second = await fetch(`${small.url}${url}`);
      expect(second.status).toBe(503);
      expect(await second.json()).toMatchObject({ code: 'EVENT_STREAMS_BUSY', hint: expect.any(String) });
      controller.abort();
      await expect
        .poll(async () => {
          const r = await fetch(`${small.url}${url}`);
          await r.body?.cancel();
          return r.status;
        })
        .toBe(200);
    } finally {
      await call('POST', `${P}/job/slow/run/${run.id}/cancel`);
      await small.app.close();
      await waitForRun(kit.store, run.id);
    }
  }, 60_000);

  it('does not hold up a server shutting down', async () => {
    const run = await trigger('slow');
    const small = await smallServer();
    try {
      const res = await fetch(`${small.url}${P}/job/slow/run/${run.id}/events`);
      expect(res.status).toBe(200);
      const reading = (async () => {
        const reader = res.body!.getReader();
        for (;;) if ((await reader.read()).done) return 'closed';
      })();
      await small.app.close();
      expect(await reading).toBe('closed');
    } finally {
      await call('POST', `${P}/job/slow/run/${run.id}/cancel`);
      await waitForRun(kit.store, run.id);
    }
  }, 60_000);
});
