import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptimusError } from '../../src/core/errors.js';
import {
  cancelDecision,
  cancelRun,
  runIsOver,
  runRecordFor,
  runSettingsFor,
  runView,
  triggerRun,
} from '../../src/services/runs.js';
import { createStore } from '../../src/store/create-store.js';
import type { JobRecord, Json, Store } from '../../src/store/store.js';

const DEFAULTS = { nodeTimeoutMs: 3_600_000 };
const GRAPH = [
  { name: 'check', type: 'data-audit', stage: 'pre', depends_on: [] },
  { name: 'load', type: 'warehouse-load', stage: 'task', depends_on: ['check'] },
  { name: 'publish', type: 'publish-event', stage: 'post', depends_on: ['load'] },
  { name: 'page', type: 'slack-notify', stage: 'fail', depends_on: ['load'] },
];

let store: Store;
beforeAll(async () => {
  store = await createStore({});
  await store.upsertProject({ name: 'acme', config: {}, pluginDependencies: [] });
  await store.upsertNamespace({ projectName: 'acme', name: 'sales', config: {} });
  await deploy('daily', { behavior: { retry: { count: 2, delay: '90s' } } });
  await deploy('other', {});
});
afterAll(async () => store.close());

async function deploy(name: string, spec: Record<string, Json>): Promise<void> {
  const now = new Date();
  await store.applyDeploy({
    upsert: [
      {
        projectName: 'acme',
        namespaceName: 'sales',
        name,
        spec: { name, ...spec },
        assets: {},
        hash: `hash-${name}`,
        runGraph: GRAPH,
      },
    ],
    delete: [],
    deploy: {
      projectName: 'acme',
      namespaceName: 'sales',
      status: 'succeeded',
      startedAt: now,
      finishedAt: now,
      added: [name],
      modified: [],
      deleted: [],
      unchanged: 0,
      problems: [],
    },
  });
}

const jobRecord = (spec: Json, runGraph: Json = GRAPH): JobRecord => ({
  projectName: 'acme',
  namespaceName: 'sales',
  name: 'daily',
  spec,
  assets: {},
  hash: 'h1',
  runGraph,
  lineage: null,
  upstreams: [],
  createdAt: new Date(),
  updatedAt: new Date(),
});

async function failure(p: Promise<unknown>): Promise<OptimusError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OptimusError) return e;
    throw e;
  }
  throw new Error('it succeeded');
}

let clock = Date.parse('2026-03-01T00:00:00Z');
/** A scheduled time no other test uses. */
function nextTime(): Date {
  clock += 3_600_000;
  return new Date(clock);
}

describe('the run a job gets', () => {
  it('has one pending node per run-graph node, in run order, with its upstream nodes', () => {
    const at = new Date('2026-01-31T06:00:00Z');
    const input = runRecordFor(jobRecord({ name: 'daily' }), at, 'schedule', DEFAULTS);
    expect(input).toMatchObject({
      projectName: 'acme',
      namespaceName: 'sales',
      jobName: 'daily',
      scheduledAt: at,
      trigger: 'schedule',
      jobHash: 'h1',
    });
    expect(input.nodes).toEqual([
      { name: 'check', type: 'data-audit', stage: 'pre', dependsOn: [] },
      { name: 'load', type: 'warehouse-load', stage: 'task', dependsOn: ['check'] },
      { name: 'publish', type: 'publish-event', stage: 'post', dependsOn: ['load'] },
      { name: 'page', type: 'slack-notify', stage: 'fail', dependsOn: ['load'] },
    ]);
  });

  it('takes retries, delay, backoff, timeout and depends_on_past from the spec’s behavior', () => {
    expect(
      runSettingsFor(
        {
          behavior: {
            depends_on_past: true,
            timeout: '1h30m',
            retry: { count: 3, delay: '2m30s', exponential_backoff: true },
          },
        },
        DEFAULTS,
      ),
    ).toEqual({
      maxAttempts: 4,
      retryDelayMs: 150_000,
      exponentialBackoff: true,
      timeoutMs: 5_400_000,
      dependsOnPast: true,
      upstreamTimeoutMs: 86_400_000,
    });
    expect(
      runSettingsFor({ behavior: { retry: { delay: '250ms' }, timeout: '45s' } }, DEFAULTS),
    ).toMatchObject({
      maxAttempts: 1,
      retryDelayMs: 250,
      timeoutMs: 45_000,
    });
  });

  it('runs once, without delay, with the server’s timeout when the spec says nothing', () => {
    const plain = {
      maxAttempts: 1,
      retryDelayMs: 0,
      exponentialBackoff: false,
      timeoutMs: 7_000,
      dependsOnPast: false,
      upstreamTimeoutMs: 86_400_000,
    };
    const defaults = { nodeTimeoutMs: 7_000 };
    expect(runSettingsFor({ name: 'x' }, defaults)).toEqual(plain);
    // `behavior:` left empty in YAML arrives as null; a delay of 0 may arrive as a number.
    expect(runSettingsFor({ behavior: null }, defaults)).toEqual(plain);
    expect(runSettingsFor({ behavior: { retry: { count: 0, delay: 0 } } }, defaults)).toEqual(plain);
    // The server's scheduler.upstream_timeout when it has one.
    expect(runSettingsFor({}, { ...defaults, upstreamTimeoutMs: 3_600_000 })).toEqual({
      ...plain,
      upstreamTimeoutMs: 3_600_000,
    });
  });

  it('refuses a job whose stored run graph has no task, saying to deploy it again', () => {
    expect(() => runRecordFor(jobRecord({}, []), new Date(), 'manual', DEFAULTS)).toThrow(
      expect.objectContaining({ code: 'JOB_NOT_RUNNABLE', hint: expect.stringContaining('optimus deploy') }),
    );
  });
});

describe('triggering a run by hand', () => {
  it('creates a queued manual run of the deployed job with its settings snapshot', async () => {
    const at = nextTime();
    const run = await triggerRun(store, 'acme', 'daily', at, DEFAULTS);
    expect(run).toMatchObject({
      projectName: 'acme',
      namespaceName: 'sales',
      jobName: 'daily',
      trigger: 'manual',
      status: 'queued',
      jobHash: 'hash-daily',
      settings: { maxAttempts: 3, retryDelayMs: 90_000 },
    });
    expect(run.scheduledAt.toISOString()).toBe(at.toISOString());
    expect(run.nodes.map((n) => `${n.name}:${n.status}`)).toEqual([
      'check:pending',
      'load:pending',
      'publish:pending',
      'page:pending',
    ]);
  });

  it('is scheduled now when no time is given', async () => {
    const before = Date.now();
    const run = await triggerRun(store, 'acme', 'other', undefined, DEFAULTS);
    expect(run.scheduledAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(run.scheduledAt.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('refuses a second run at the same time, naming the run that exists and its status', async () => {
    const at = nextTime();
    const first = await triggerRun(store, 'acme', 'daily', at, DEFAULTS);
    const e = await failure(triggerRun(store, 'acme', 'daily', at, DEFAULTS));
    expect(e).toMatchObject({ code: 'RUN_EXISTS', category: 'conflict' });
    expect(e.message).toBe(
      `job "daily" already has a run scheduled at ${at.toISOString()}: run ${first.id} (queued)`,
    );
    expect(e.hint).toContain('--scheduled-at');
    const runs = await store.listRuns('acme', 'daily', { limit: 1000 });
    expect(runs.filter((r) => r.scheduledAt.getTime() === at.getTime()).map((r) => r.id)).toEqual([first.id]);
  });

  it('answers not found for a job that is not deployed', async () => {
    const e = await failure(triggerRun(store, 'acme', 'nope', undefined, DEFAULTS));
    expect(e).toMatchObject({ code: 'JOB_NOT_FOUND', category: 'not_found' });
    expect(e.message).toBe('job "nope" is not deployed in project "acme"');
  });
});

describe('cancelling a run', () => {
  it('cancels a queued run and every node that had not started', async () => {
    const run = await triggerRun(store, 'acme', 'daily', nextTime(), DEFAULTS);
    const cancelled = await cancelRun(store, run.id, 'ci');
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.note).toBe('cancelled by ci');
    expect(cancelled.finishedAt).toBeInstanceOf(Date);
    expect(cancelled.nodes.map((n) => n.status)).toEqual([
      'cancelled',
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
    expect(runIsOver(cancelled)).toBe(true);
    expect((await store.getRun(run.id))?.status).toBe('cancelled');
  });

  it('asks a running node to stop and leaves it to the runner, which then ends it', async () => {
    const run = await triggerRun(store, 'acme', 'daily', nextTime(), DEFAULTS);
    const started = new Date();
    await store.updateRun(run.id, () => ({
      status: 'running',
      startedAt: started,
      nodes: [
        { name: 'check', status: 'succeeded', attempt: 1, startedAt: started, finishedAt: started },
        { name: 'load', status: 'running', attempt: 1, startedAt: started, leaseOwner: 'server-a' },
      ],
    }));
    const cancelled = await cancelRun(store, run.id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.note).toBe('cancelled');
    expect(cancelled.nodes.map((n) => [n.name, n.status, n.cancelRequested])).toEqual([
      ['check', 'succeeded', false],
      ['load', 'running', true],
      ['publish', 'cancelled', false],
      ['page', 'cancelled', false],
    ]);
    // Cancelled, but not over until the runner has stopped the node.
    expect(runIsOver(cancelled)).toBe(false);
    expect(runView(cancelled, []).over).toBe(false);
  });

  it('refuses to cancel a run that is over, saying how it ended', async () => {
    const run = await triggerRun(store, 'acme', 'daily', nextTime(), DEFAULTS);
    const end = new Date('2026-05-01T10:00:00Z');
    await store.updateRun(run.id, () => ({ status: 'succeeded', finishedAt: end }));
    const e = await failure(cancelRun(store, run.id));
    expect(e).toMatchObject({ code: 'RUN_FINISHED', category: 'conflict' });
    expect(e.message).toBe(
      `run ${run.id} of job "daily" has already succeeded (at 2026-05-01T10:00:00.000Z)`,
    );
    expect((await store.getRun(run.id))?.status).toBe('succeeded');

    const again = await triggerRun(store, 'acme', 'daily', nextTime(), DEFAULTS);
    await cancelRun(store, again.id);
    expect((await failure(cancelRun(store, again.id))).message).toContain('has already been cancelled');
  });

  it('answers not found for a run id that does not exist', async () => {
    const e = await failure(cancelRun(store, 987_654_321));
    expect(e).toMatchObject({ code: 'RUN_NOT_FOUND', category: 'not_found' });
  });

  it('decides nothing for a finished run and does not ask a node twice', () => {
    const base = runRecordFor(jobRecord({}), new Date(), 'manual', DEFAULTS);
    const node = (name: string, status: string, cancelRequested = false) => ({
      ...base.nodes.find((n) => n.name === name)!,
      runId: 1,
      status,
      attempt: 1,
      notBefore: null,
      leaseOwner: null,
      leaseExpiresAt: null,
      handle: null,
      cancelRequested,
      startedAt: null,
      finishedAt: null,
      exitCode: null,
      error: null,
    });
    const run = {
      ...base,
      id: 1,
      status: 'running' as const,
      note: null,
      createdAt: new Date(),
      startedAt: new Date(),
      finishedAt: null,
      nodes: [node('check', 'running', true), node('load', 'queued')],
    } as Parameters<typeof cancelDecision>[0];
    const now = new Date('2026-01-01T00:00:00Z');
    expect(cancelDecision(run, 'why', now)).toEqual({
      status: 'cancelled',
      note: 'why',
      finishedAt: now,
      nodes: [{ name: 'load', status: 'cancelled', notBefore: null, finishedAt: now }],
    });
    expect(cancelDecision({ ...run, status: 'failed' }, 'why')).toBeUndefined();
  });
});

describe('the run as the API and CLI show it', () => {
  it('has snake_case fields, ISO times and durations, the running node’s time so far', async () => {
    const run = await triggerRun(store, 'acme', 'daily', new Date('2027-01-01T06:00:00Z'), DEFAULTS);
    const t0 = new Date('2027-01-01T06:00:01Z');
    const updated = await store.updateRun(run.id, () => ({
      status: 'running',
      startedAt: t0,
      nodes: [
        {
          name: 'check',
          status: 'failed',
          attempt: 3,
          startedAt: t0,
          finishedAt: new Date(t0.getTime() + 1_500),
          exitCode: 2,
          error: 'exited with code 2',
        },
        { name: 'load', status: 'running', attempt: 1, startedAt: new Date(t0.getTime() + 2_000) },
      ],
    }));
    const view = runView(updated!, [], new Date(t0.getTime() + 5_000));
    expect(view).toMatchObject({
      id: run.id,
      project: 'acme',
      namespace: 'sales',
      job: 'daily',
      scheduled_at: '2027-01-01T06:00:00.000Z',
      trigger: 'manual',
      status: 'running',
      over: false,
      started_at: '2027-01-01T06:00:01.000Z',
      finished_at: null,
      duration_ms: 5_000,
      settings: {
        max_attempts: 3,
        retry_delay_ms: 90_000,
        exponential_backoff: false,
        timeout_ms: 3_600_000,
      },
    });
    expect(view.nodes[0]).toEqual({
      name: 'check',
      type: 'data-audit',
      stage: 'pre',
      depends_on: [],
      status: 'failed',
      attempt: 3,
      attempts_before: 0,
      not_before: null,
      cancel_requested: false,
      started_at: '2027-01-01T06:00:01.000Z',
      finished_at: '2027-01-01T06:00:02.500Z',
      duration_ms: 1_500,
      exit_code: 2,
      error: 'exited with code 2',
      attempts: [],
    });
    expect(view.nodes[1]).toMatchObject({ status: 'running', duration_ms: 3_000 });
    expect(view.nodes[2]).toMatchObject({ status: 'pending', duration_ms: null, started_at: null });
  });
});
