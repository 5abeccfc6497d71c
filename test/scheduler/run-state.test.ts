import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NodeStage } from '../../src/core/run-graph.js';
import {
  type AttemptOutcome,
  finishAttempt,
  INTERRUPTED_ERROR,
  interruptNode,
  MAX_RETRY_DELAY_MS,
  retryDelayMs,
  retryNodes,
  startRun,
} from '../../src/scheduler/run-state.js';
import type { RunChange, RunNodeRecord, RunRecord, RunSettings } from '../../src/store/run-store.js';

const T0 = new Date('2024-03-01T00:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

const SETTINGS: RunSettings = {
  maxAttempts: 1,
  retryDelayMs: 0,
  exponentialBackoff: false,
  timeoutMs: 60_000,
  dependsOnPast: false,
};

type NodeDef = [name: string, stage: NodeStage, dependsOn?: string[]];

/** pre a → pre b → task → post p1 → post p2; fail f after the task. */
const FIVE: NodeDef[] = [
  ['a', 'pre'],
  ['b', 'pre', ['a']],
  ['load', 'task', ['a', 'b']],
  ['p1', 'post', ['load']],
  ['p2', 'post', ['load', 'p1']],
  ['f', 'fail', ['load']],
];

function makeRun(defs: NodeDef[], settings: Partial<RunSettings> = {}, id = 1): RunRecord {
  return {
    id,
    projectName: 'p',
    namespaceName: 'ns',
    jobName: 'j',
    scheduledAt: at(0),
    trigger: 'schedule',
    replayId: null,
    status: 'queued',
    jobHash: 'h',
    settings: { ...SETTINGS, ...settings },
    note: null,
    createdAt: at(0),
    startedAt: null,
    finishedAt: null,
    nodes: defs.map(
      ([name, stage, dependsOn = []]): RunNodeRecord => ({
        runId: id,
        name,
        type: name,
        stage,
        dependsOn,
        status: 'pending',
        attempt: 0,
        attemptsBefore: 0,
        notBefore: null,
        leaseOwner: null,
        leaseExpiresAt: null,
        handle: null,
        cancelRequested: false,
        startedAt: null,
        finishedAt: null,
        exitCode: null,
        error: null,
      }),
    ),
  };
}

/** What RunStore.updateRun does with a change. */
function apply(run: RunRecord, change: RunChange | undefined): RunRecord {
  if (!change) return run;
  const { nodes = [], attempts: _, ...rest } = change;
  const next: RunRecord = { ...run, ...rest, nodes: run.nodes.map((n) => ({ ...n })) };
  for (const c of nodes) Object.assign(next.nodes.find((n) => n.name === c.name)!, c);
  return next;
}

/** What RunStore.claimNodes does to one node. */
function claim(run: RunRecord, name: string, owner = 'me'): RunRecord {
  return {
    ...run,
    nodes: run.nodes.map((n) =>
      n.name === name
        ? {
            ...n,
            status: 'running',
            attempt: n.attempt + 1,
            leaseOwner: owner,
            startedAt: at(1),
            error: null,
          }
        : n,
    ),
  };
}

const statusOf = (run: RunRecord) => Object.fromEntries(run.nodes.map((n) => [n.name, n.status]));
const queued = (run: RunRecord) => run.nodes.filter((n) => n.status === 'queued').map((n) => n.name);
const ok: AttemptOutcome = { kind: 'succeeded', exitCode: 0 };
const fail = (error = 'exited with code 3'): AttemptOutcome => ({ kind: 'failed', exitCode: 3, error });

/** Claims `name`, ends its attempt with `outcome`. */
function step(run: RunRecord, name: string, outcome: AttemptOutcome, now = at(2)): RunRecord {
  const claimed = claim(run, name);
  const node = claimed.nodes.find((n) => n.name === name)!;
  return apply(claimed, finishAttempt(claimed, name, node.attempt, outcome, now, 'me'));
}

describe('starting a run', () => {
  it('queues the nodes with no upstream and leaves the rest pending', () => {
    const run = apply(makeRun(FIVE), startRun(makeRun(FIVE), undefined, at(1)));
    expect(run.status).toBe('running');
    expect(run.startedAt).toEqual(at(1));
    expect(statusOf(run)).toEqual({
      a: 'queued',
      b: 'pending',
      load: 'pending',
      p1: 'pending',
      p2: 'pending',
      f: 'pending',
    });
  });

  it('waits for the previous run when the job depends on its past, saying which run', () => {
    const run = makeRun(FIVE, { dependsOnPast: true }, 2);
    const previous = { ...makeRun(FIVE, {}, 1), status: 'running' as const };
    const waiting = apply(run, startRun(run, previous, at(1)));
    expect(waiting.status).toBe('queued');
    expect(waiting.note).toContain('waiting for run 1');
    expect(waiting.note).toContain('depends_on_past');
    // Nothing to write on the next pass while nothing changed.
    expect(startRun(waiting, previous, at(5))).toBeUndefined();
    const started = apply(waiting, startRun(waiting, { ...previous, status: 'succeeded' }, at(6)));
    expect(started.status).toBe('running');
    expect(started.note).toBeNull();
  });

  it('says a run after a failed one stays queued until that one succeeds', () => {
    const run = makeRun(FIVE, { dependsOnPast: true }, 2);
    const change = startRun(run, { ...makeRun(FIVE, {}, 1), status: 'failed' }, at(1));
    expect(change?.status).toBeUndefined();
    expect(change?.note).toMatch(
      /run 1 .*is failed; this run starts only once it succeeds, or cancel this one/,
    );
  });

  it('starts without waiting when the job does not depend on its past or has no earlier run', () => {
    const run = makeRun(FIVE);
    expect(startRun(run, { ...makeRun(FIVE), status: 'failed' }, at(1))?.status).toBe('running');
    expect(startRun(makeRun(FIVE, { dependsOnPast: true }), undefined, at(1))?.status).toBe('running');
  });

  it('finishes a run without nodes at once', () => {
    expect(startRun(makeRun([]), undefined, at(1))).toMatchObject({ status: 'succeeded', finishedAt: at(1) });
  });
});

describe('a run of a job with pre, post and fail hooks', () => {
  const started = () => apply(makeRun(FIVE), startRun(makeRun(FIVE), undefined, at(1)));

  it('runs pre hooks, the task, then post hooks in order, and skips the fail hook on success', () => {
    let run = started();
    const order: string[][] = [];
    while (queued(run).length > 0) {
      order.push(queued(run));
      for (const name of queued(run)) run = step(run, name, ok);
    }
    expect(order).toEqual([['a'], ['b'], ['load'], ['p1'], ['p2']]);
    expect(run.status).toBe('succeeded');
    expect(statusOf(run).f).toBe('skipped');
    expect(run.finishedAt).toEqual(at(2));
  });

  it('runs the fail hook and skips post hooks when the task fails; the run fails', () => {
    let run = started();
    for (const name of ['a', 'b']) run = step(run, name, ok);
    run = step(run, 'load', fail('exited with code 3'));
    expect(statusOf(run)).toMatchObject({ load: 'failed', p1: 'skipped', p2: 'skipped', f: 'queued' });
    expect(run.status).toBe('running');
    run = step(run, 'f', ok);
    expect(run.status).toBe('failed');
    expect(run.note).toBe('node load failed: exited with code 3');
  });

  it('counts a task that never ran because a pre hook failed as failed for fail hooks', () => {
    let run = step(started(), 'a', fail());
    expect(statusOf(run)).toMatchObject({
      a: 'failed',
      b: 'upstream_failed',
      load: 'upstream_failed',
      p1: 'skipped',
      f: 'queued',
    });
    run = step(run, 'f', ok);
    expect(run.status).toBe('failed');
  });

  it('fails the run when a post hook fails, and the post hooks after it do not run', () => {
    let run = started();
    for (const name of ['a', 'b', 'load']) run = step(run, name, ok);
    run = step(run, 'p1', fail());
    expect(statusOf(run)).toMatchObject({ p1: 'failed', p2: 'upstream_failed', f: 'skipped' });
    expect(run.status).toBe('failed');
  });

  it('runs independent nodes side by side', () => {
    const defs: NodeDef[] = [
      ['a', 'pre'],
      ['b', 'pre'],
      ['load', 'task', ['a', 'b']],
      ['p1', 'post', ['load']],
      ['p2', 'post', ['load']],
    ];
    let run = apply(makeRun(defs), startRun(makeRun(defs), undefined, at(1)));
    expect(queued(run)).toEqual(['a', 'b']);
    run = step(step(run, 'a', ok), 'b', ok);
    run = step(run, 'load', ok);
    expect(queued(run)).toEqual(['p1', 'p2']);
  });

  it('a fail hook waiting for another fail hook runs after it, and not when it failed', () => {
    const defs: NodeDef[] = [
      ['load', 'task'],
      ['f1', 'fail', ['load']],
      ['f2', 'fail', ['load', 'f1']],
    ];
    let run = apply(makeRun(defs), startRun(makeRun(defs), undefined, at(1)));
    run = step(run, 'load', fail());
    expect(queued(run)).toEqual(['f1']);
    const after = step(run, 'f1', ok);
    expect(queued(after)).toEqual(['f2']);
    expect(statusOf(step(run, 'f1', fail())).f2).toBe('upstream_failed');
  });
});

describe('retries', () => {
  it('retries a failed attempt after its delay, doubling it with exponential backoff, then fails', () => {
    const defs: NodeDef[] = [['load', 'task']];
    const settings = { maxAttempts: 3, retryDelayMs: 10_000, exponentialBackoff: true };
    let run = apply(makeRun(defs, settings), startRun(makeRun(defs, settings), undefined, at(0)));
    run = step(run, 'load', fail('boom'), at(100));
    expect(run.nodes[0]).toMatchObject({ status: 'queued', attempt: 1, notBefore: at(110), error: 'boom' });
    run = step(run, 'load', fail('boom'), at(200));
    expect(run.nodes[0]).toMatchObject({ status: 'queued', attempt: 2, notBefore: at(220) });
    run = step(run, 'load', fail('boom'), at(300));
    expect(run.nodes[0]).toMatchObject({ status: 'failed', attempt: 3, error: 'boom' });
    expect(run.status).toBe('failed');
  });

  it('retries at once when there is no delay, and a retry that succeeds finishes the run', () => {
    const defs: NodeDef[] = [['load', 'task']];
    let run = apply(
      makeRun(defs, { maxAttempts: 2 }),
      startRun(makeRun(defs, { maxAttempts: 2 }), undefined, at(0)),
    );
    run = step(run, 'load', fail());
    expect(run.nodes[0]).toMatchObject({ status: 'queued', notBefore: null });
    run = step(run, 'load', ok);
    expect(run.status).toBe('succeeded');
    expect(run.nodes[0]).toMatchObject({ status: 'succeeded', attempt: 2, error: null });
  });

  it('waits the same delay each time without backoff, and never more than a day', () => {
    const s = { ...SETTINGS, retryDelayMs: 5000 };
    expect([1, 2, 3].map((n) => retryDelayMs(s, n))).toEqual([5000, 5000, 5000]);
    expect([1, 2, 3].map((n) => retryDelayMs({ ...s, exponentialBackoff: true }, n))).toEqual([
      5000, 10000, 20000,
    ]);
    expect(retryDelayMs({ ...s, exponentialBackoff: true }, 60)).toBe(MAX_RETRY_DELAY_MS);
  });
});

describe('interruptions and cancels', () => {
  const defs: NodeDef[] = [
    ['load', 'task'],
    ['p', 'post', ['load']],
  ];
  const running = (settings: Partial<RunSettings> = {}) =>
    claim(
      apply(makeRun(defs, settings), startRun(makeRun(defs, settings), undefined, at(0))),
      'load',
      'dead-server',
    );

  it('retries a node whose server stopped while it ran, saying so', () => {
    const run = apply(running({ maxAttempts: 2 }), interruptNode(running({ maxAttempts: 2 }), 'load', at(5)));
    expect(run.nodes[0]).toMatchObject({ status: 'queued', error: INTERRUPTED_ERROR, leaseOwner: null });
  });

  it('queues a node released by a graceful stop again, giving its attempt back', () => {
    const base = running();
    const run = apply(base, finishAttempt(base, 'load', 1, { kind: 'released' }, at(5), 'dead-server'));
    expect(run.nodes[0]).toMatchObject({ status: 'queued', attempt: 0, notBefore: null, leaseOwner: null });
    expect(run.status).toBe('running');
  });

  it('fails an interrupted node with no attempts left', () => {
    const run = apply(running(), interruptNode(running(), 'load', at(5)));
    expect(run.nodes[0]).toMatchObject({ status: 'failed', error: INTERRUPTED_ERROR });
    expect(run.status).toBe('failed');
  });

  it('ignores an interrupt of a node that is not running', () => {
    expect(interruptNode(makeRun(defs), 'load', at(5))).toBeUndefined();
    expect(interruptNode(makeRun(defs), 'nobody', at(5))).toBeUndefined();
  });

  it('ignores the end of an attempt the server no longer holds', () => {
    const run = running();
    expect(finishAttempt(run, 'load', 1, ok, at(5), 'me')).toBeUndefined();
    expect(finishAttempt(run, 'load', 2, ok, at(5), 'dead-server')).toBeUndefined();
    expect(finishAttempt(run, 'load', 1, ok, at(5), 'dead-server')).toBeDefined();
  });

  it('marks a node stopped by a cancel as cancelled, without retrying it', () => {
    const base = running({ maxAttempts: 3 });
    const cancelled: RunRecord = {
      ...base,
      status: 'cancelled',
      nodes: base.nodes.map((n) =>
        n.name === 'load' ? { ...n, cancelRequested: true } : { ...n, status: 'cancelled' },
      ),
    };
    const run = apply(
      cancelled,
      finishAttempt(cancelled, 'load', 1, { kind: 'cancelled', exitCode: null }, at(5)),
    );
    expect(statusOf(run)).toEqual({ load: 'cancelled', p: 'cancelled' });
    expect(run.status).toBe('cancelled');
    // Even when the kill made it look like a failure.
    const asFailure = apply(cancelled, finishAttempt(cancelled, 'load', 1, fail('killed'), at(5)));
    expect(asFailure.nodes[0]!.status).toBe('cancelled');
  });

  it('cancels the run when a running node alone was asked to stop', () => {
    const base = running();
    const asked: RunRecord = {
      ...base,
      nodes: base.nodes.map((n) => ({ ...n, cancelRequested: n.name === 'load' })),
    };
    const run = apply(asked, finishAttempt(asked, 'load', 1, { kind: 'cancelled' }, at(5)));
    expect(statusOf(run)).toEqual({ load: 'cancelled', p: 'cancelled' });
    expect(run.status).toBe('cancelled');
  });
});

describe('laws over any job and any outcomes', () => {
  /** A job of random pre/post/fail hooks over one task, edges only to earlier nodes of allowed stages. */
  const jobs = fc
    .array(
      fc.record({
        stage: fc.constantFrom<NodeStage>('pre', 'post', 'fail'),
        deps: fc.array(fc.nat(), { maxLength: 3 }),
      }),
      {
        maxLength: 6,
      },
    )
    .map((hooks): NodeDef[] => {
      const pre = hooks.filter((h) => h.stage === 'pre');
      const rest = hooks.filter((h) => h.stage !== 'pre');
      const defs: NodeDef[] = [];
      pre.forEach((h, i) => {
        defs.push([`pre${i}`, 'pre', [...new Set(h.deps.filter((d) => d < i).map((d) => `pre${d}`))]]);
      });
      defs.push(['task', 'task', defs.map(([n]) => n)]);
      rest.forEach((h, i) => {
        const earlier = defs.filter(([n, s]) => s === h.stage && n !== 'task');
        const picks = h.deps.filter((d) => d < earlier.length).map((d) => earlier[d]![0]);
        defs.push([`${h.stage}${i}`, h.stage, ['task', ...new Set(picks)]]);
      });
      return defs;
    });

  it('every run ends; post hooks run only after the task succeeded and fail hooks only after it did not', () => {
    fc.assert(
      fc.property(
        jobs,
        fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
        fc.integer({ min: 1, max: 2 }),
        (defs, coin, maxAttempts) => {
          let run = apply(
            makeRun(defs, { maxAttempts }),
            startRun(makeRun(defs, { maxAttempts }), undefined, at(0)),
          );
          const ran: string[] = [];
          let flips = 0;
          for (let guard = 0; queued(run).length > 0; guard++) {
            expect(guard).toBeLessThan(100);
            const name = queued(run)[0]!;
            ran.push(name);
            run = step(run, name, coin[flips++ % coin.length] ? ok : fail());
          }
          expect(['succeeded', 'failed']).toContain(run.status);
          expect(run.nodes.every((n) => !['pending', 'queued', 'running'].includes(n.status))).toBe(true);
          const task = run.nodes.find((n) => n.stage === 'task')!;
          for (const n of run.nodes) {
            if (n.stage === 'post' && ran.includes(n.name)) expect(task.status).toBe('succeeded');
            if (n.stage === 'fail' && ran.includes(n.name))
              expect(['failed', 'upstream_failed']).toContain(task.status);
            // A node ran only once everything it depends on had finished.
            const at = ran.indexOf(n.name);
            if (at >= 0) for (const d of n.dependsOn) expect(ran.lastIndexOf(d)).toBeLessThan(at);
          }
          const anyFailed = run.nodes.some((n) => n.status === 'failed' || n.status === 'upstream_failed');
          expect(run.status).toBe(anyFailed ? 'failed' : 'succeeded');
        },
      ),
    );
  });
});

describe('what a user reads on a run and its nodes', () => {
  it('says exactly which earlier run a depends_on_past run waits for, without telling to cancel while it still runs', () => {
    const run = makeRun(FIVE, { dependsOnPast: true }, 2);
    const previous = { ...makeRun(FIVE, {}, 1), status: 'running' as const };
    expect(startRun(run, previous, at(1))?.note).toBe(
      'waiting for run 1 (scheduled 2024-03-01T00:00:00.000Z) to succeed: the job has depends_on_past and that run is running',
    );
  });

  it('tells to cancel a depends_on_past run whose earlier run was cancelled', () => {
    const run = makeRun(FIVE, { dependsOnPast: true }, 2);
    const previous = { ...makeRun(FIVE, {}, 1), status: 'cancelled' as const };
    expect(startRun(run, previous, at(1))?.note).toBe(
      'waiting for run 1 (scheduled 2024-03-01T00:00:00.000Z) to succeed: the job has depends_on_past and that run is cancelled; this run starts only once it succeeds, or cancel this one',
    );
  });

  it('does not start a run twice: a run already running keeps its start time', () => {
    const running = apply(makeRun(FIVE), startRun(makeRun(FIVE), undefined, at(1)));
    expect(startRun(running, undefined, at(9))).toBeUndefined();
  });

  it('shows why a node failed and with which exit code, and keeps no exit code for an interrupted retry', () => {
    const defs: NodeDef[] = [['load', 'task']];
    let run = apply(
      makeRun(defs, { maxAttempts: 2 }),
      startRun(makeRun(defs, { maxAttempts: 2 }), undefined, at(0)),
    );
    run = step(run, 'load', fail('exited with code 3'));
    expect(run.nodes[0]).toMatchObject({ status: 'queued', exitCode: 3, error: 'exited with code 3' });
    run = claim(run, 'load');
    run = apply(run, interruptNode(run, 'load', at(5)));
    expect(run.nodes[0]).toMatchObject({ status: 'failed', exitCode: null });
    expect(run.nodes[0]!.error).toMatch(/^interrupted: the server stopped/);
    expect(run.note).toMatch(/^node load failed: interrupted: the server stopped/);
  });

  it('says only that a node failed when its failure came without a message', () => {
    const run = step(apply(makeRun(FIVE), startRun(makeRun(FIVE), undefined, at(1))), 'a', fail(''));
    const done = step(run, 'f', ok);
    expect(done.status).toBe('failed');
    expect(done.note).toBe('node a failed');
  });

  it('tells why a node released by a graceful stop is queued again', () => {
    const defs: NodeDef[] = [['load', 'task']];
    const run = claim(apply(makeRun(defs), startRun(makeRun(defs), undefined, at(0))), 'load');
    const after = apply(run, finishAttempt(run, 'load', 1, { kind: 'released' }, at(5)));
    expect(after.nodes[0]!.status).toBe('queued');
    expect(after.nodes[0]!.error).toMatch(/server shut down .* runs again when a server starts/);
  });

  it('caps a retry delay at exactly one day', () => {
    const s = { ...SETTINGS, retryDelayMs: 60_000, exponentialBackoff: true };
    expect(retryDelayMs(s, 20)).toBe(86_400_000);
    expect(MAX_RETRY_DELAY_MS).toBe(86_400_000);
  });

  it('retries at once after any number of attempts when there is no delay, even with backoff', () => {
    const s = { ...SETTINGS, retryDelayMs: 0, exponentialBackoff: true };
    // 2 ** 1100 is Infinity: the delay must still be a number of milliseconds, not NaN.
    expect(retryDelayMs(s, 1100)).toBe(0);
    expect(retryDelayMs({ ...s, retryDelayMs: -5 }, 3)).toBe(0);
  });

  it('stamps the time a node was decided without running, and no end time on a node that is only queued', () => {
    let run = apply(makeRun(FIVE), startRun(makeRun(FIVE), undefined, at(1)));
    expect(run.nodes.find((n) => n.name === 'a')!.finishedAt).toBeNull();
    for (const name of ['a', 'b', 'load']) run = step(run, name, ok, at(2));
    run = step(run, 'p1', ok, at(3));
    expect(run.nodes.find((n) => n.name === 'p2')).toMatchObject({ status: 'queued', finishedAt: null });
    expect(run.nodes.find((n) => n.name === 'f')).toMatchObject({ status: 'skipped', finishedAt: at(2) });
  });
});

describe('ending attempts that no longer count', () => {
  it('ignores a second report of an attempt that already ended', () => {
    const defs: NodeDef[] = [['load', 'task']];
    const run = step(apply(makeRun(defs), startRun(makeRun(defs), undefined, at(0))), 'load', ok);
    expect(run.nodes[0]).toMatchObject({ status: 'succeeded', attempt: 1 });
    expect(finishAttempt(run, 'load', 1, fail(), at(9))).toBeUndefined();
    expect(finishAttempt(run, 'load', 1, fail(), at(9), 'me')).toBeUndefined();
  });

  it('ignores the end of an attempt of a node the run does not have', () => {
    const defs: NodeDef[] = [['load', 'task']];
    const run = apply(makeRun(defs), startRun(makeRun(defs), undefined, at(0)));
    expect(finishAttempt(run, 'ghost', 1, ok, at(9))).toBeUndefined();
  });

  it('interrupts the node it names, not the first of the run', () => {
    let run = apply(
      makeRun(FIVE, { maxAttempts: 2 }),
      startRun(makeRun(FIVE, { maxAttempts: 2 }), undefined, at(1)),
    );
    run = step(run, 'a', ok);
    run = claim(run, 'b', 'dead-server');
    run = apply(run, interruptNode(run, 'b', at(5)));
    expect(run.nodes.find((n) => n.name === 'b')).toMatchObject({
      status: 'queued',
      error: INTERRUPTED_ERROR,
    });
    expect(run.nodes.find((n) => n.name === 'a')!.status).toBe('succeeded');
  });
});

describe('cancels, however the attempt ended', () => {
  const defs: NodeDef[] = [
    ['load', 'task'],
    ['p', 'post', ['load']],
  ];
  const running = (settings: Partial<RunSettings> = { maxAttempts: 3 }) =>
    claim(apply(makeRun(defs, settings), startRun(makeRun(defs, settings), undefined, at(0))), 'load');
  /** The run as a cancel leaves it: ended at `at(3)`, its running node asked to stop. */
  const cancelledRun = (cancelRequested = true): RunRecord => {
    const base = running();
    return {
      ...base,
      status: 'cancelled',
      finishedAt: at(3),
      note: 'cancelled by alice',
      nodes: base.nodes.map((n) =>
        n.name === 'load' ? { ...n, cancelRequested } : { ...n, status: 'cancelled' },
      ),
    };
  };

  it('marks a node the executor stopped as cancelled, with its exit code, without retrying it', () => {
    const base = running();
    const run = apply(base, finishAttempt(base, 'load', 1, { kind: 'cancelled', exitCode: 143 }, at(5)));
    expect(run.nodes[0]).toMatchObject({ status: 'cancelled', exitCode: 143, error: 'cancelled' });
    expect(run.status).toBe('cancelled');
  });

  it('keeps the exit code of a node that was killed by a cancel and looked like a failure', () => {
    const run = cancelledRun();
    const after = apply(
      run,
      finishAttempt(run, 'load', 1, { kind: 'failed', exitCode: 137, error: 'killed' }, at(5)),
    );
    expect(after.nodes[0]).toMatchObject({ status: 'cancelled', exitCode: 137, error: 'cancelled' });
  });

  it('records no exit code for a cancelled node that gave none', () => {
    const run = cancelledRun();
    const after = apply(run, finishAttempt(run, 'load', 1, { kind: 'cancelled' }, at(5)));
    expect(after.nodes[0]).toMatchObject({ status: 'cancelled', exitCode: null });
  });

  it('cancels a node of a cancelled run even when the node itself was not asked to stop', () => {
    const run = cancelledRun(false);
    const failed = apply(run, finishAttempt(run, 'load', 1, fail(), at(5)));
    expect(failed.nodes[0]).toMatchObject({ status: 'cancelled', exitCode: 3 });
    const released = apply(run, finishAttempt(run, 'load', 1, { kind: 'released' }, at(5)));
    expect(released.nodes[0]).toMatchObject({ status: 'cancelled', exitCode: null });
  });

  it('cancels a node asked to stop even when its run still runs and it failed', () => {
    const base = running();
    const asked = { ...base, nodes: base.nodes.map((n) => ({ ...n, cancelRequested: n.name === 'load' })) };
    const after = apply(asked, finishAttempt(asked, 'load', 1, fail(), at(5)));
    expect(after.nodes[0]!.status).toBe('cancelled');
  });

  it('leaves a cancelled run as the cancel ended it when its last node stops later', () => {
    const run = cancelledRun();
    const after = apply(run, finishAttempt(run, 'load', 1, { kind: 'cancelled' }, at(5)));
    expect(after).toMatchObject({ status: 'cancelled', finishedAt: at(3), note: 'cancelled by alice' });
  });
});

describe('graphs beyond what a job compiles to', () => {
  // The store hands run-state whatever nodes a run has; these rules hold for any of them.
  const startedRun = (defs: NodeDef[]) => apply(makeRun(defs), startRun(makeRun(defs), undefined, at(1)));

  it('does not let an upstream the run does not have hold a node back', () => {
    const run = startedRun([['load', 'task', ['gone']]]);
    expect(queued(run)).toEqual(['load']);
  });

  it('settles every node even when they come out of run order', () => {
    let run = startedRun([
      ['load', 'task'],
      ['p2', 'post', ['load', 'p1']],
      ['p1', 'post', ['load']],
    ]);
    run = step(run, 'load', fail());
    expect(statusOf(run)).toEqual({ load: 'failed', p2: 'skipped', p1: 'skipped' });
    expect(run.status).toBe('failed');
  });

  it('runs the hooks of a run without a task on their upstreams alone', () => {
    let run = startedRun([
      ['h1', 'post'],
      ['h2', 'fail', ['h1']],
    ]);
    expect(queued(run)).toEqual(['h1']);
    run = step(run, 'h1', ok);
    expect(queued(run)).toEqual(['h2']);
  });

  it('skips a post hook after a skipped hook rather than calling it failed', () => {
    let run = startedRun([
      ['load', 'task'],
      ['f', 'fail', ['load']],
      ['p', 'post', ['load', 'f']],
    ]);
    run = step(run, 'load', ok);
    expect(statusOf(run)).toEqual({ load: 'succeeded', f: 'skipped', p: 'skipped' });
    expect(run.status).toBe('succeeded');
  });

  it('skips a fail hook after a skipped fail hook rather than calling it failed', () => {
    let run = startedRun([
      ['load', 'task'],
      ['f0', 'fail', ['load']],
      ['f1', 'fail', ['load']],
      ['f2', 'fail', ['load', 'f0', 'f1']],
    ]);
    // As a store would hold it had f1 been decided skipped already.
    run = { ...run, nodes: run.nodes.map((n) => (n.name === 'f1' ? { ...n, status: 'skipped' } : n)) };
    run = step(step(run, 'load', fail()), 'f0', ok);
    expect(statusOf(run)).toEqual({ load: 'failed', f0: 'succeeded', f1: 'skipped', f2: 'skipped' });
  });

  it('fails a run where a node could not run though none failed, saying so', () => {
    let run = startedRun([
      ['load', 'task'],
      ['f', 'fail', ['load']],
      ['late', 'pre', ['f']],
    ]);
    run = step(run, 'load', ok);
    expect(statusOf(run)).toEqual({ load: 'succeeded', f: 'skipped', late: 'upstream_failed' });
    expect(run).toMatchObject({ status: 'failed', note: 'a node could not run' });
  });
});

describe('recording attempts', () => {
  const started = () => apply(makeRun(FIVE, { maxAttempts: 2 }), startRun(makeRun(FIVE), undefined, at(1)));
  const endOf = (run: RunRecord, name: string, outcome: AttemptOutcome) => {
    const claimed = claim(run, name);
    const node = claimed.nodes.find((n) => n.name === name)!;
    return finishAttempt(claimed, name, node.attempt, outcome, at(5), 'me')?.attempts;
  };

  it('records how each attempt ended: succeeded, failed, timed out, cancelled, interrupted', () => {
    const end = { kind: 'ended', node: 'a', attempt: 1, startedAt: at(1), finishedAt: at(5) };
    expect(endOf(started(), 'a', ok)).toEqual([{ ...end, status: 'succeeded', exitCode: 0, error: null }]);
    expect(endOf(started(), 'a', fail())).toEqual([
      { ...end, status: 'failed', exitCode: 3, error: 'exited with code 3' },
    ]);
    expect(
      endOf(started(), 'a', { kind: 'failed', exitCode: null, error: 'timed out after 1s', timedOut: true }),
    ).toEqual([{ ...end, status: 'timed_out', exitCode: null, error: 'timed out after 1s' }]);
    expect(endOf(started(), 'a', { kind: 'cancelled', exitCode: 143 })).toEqual([
      { ...end, status: 'cancelled', exitCode: 143, error: 'cancelled' },
    ]);
    const claimed = claim(started(), 'a');
    expect(interruptNode(claimed, 'a', at(5))?.attempts).toEqual([
      { ...end, status: 'failed', exitCode: null, error: INTERRUPTED_ERROR },
    ]);
  });

  it('gives back an attempt stopped by a shutdown, so its number is used again', () => {
    expect(endOf(started(), 'a', { kind: 'released' })).toEqual([
      { kind: 'released', node: 'a', attempt: 1 },
    ]);
  });
});

describe('retrying a run', () => {
  /** FIVE with the task failed after every retry: b and a succeeded, p1 and p2 skipped, f ran. */
  function failedRun(): RunRecord {
    let run = apply(makeRun(FIVE), startRun(makeRun(FIVE), undefined, at(1)));
    run = step(run, 'a', ok);
    run = step(run, 'b', ok);
    run = step(run, 'load', fail());
    run = step(run, 'f', ok);
    expect(run.status).toBe('failed');
    return run;
  }

  it('sends the chosen nodes and what did not succeed downstream of them back, and runs them again', () => {
    const run = failedRun();
    const again = apply(run, retryNodes(run, ['load'], at(10)));
    expect(again.status).toBe('running');
    expect(again.finishedAt).toBeNull();
    expect(again.note).toBeNull();
    // The fail hook succeeded and keeps its result; the skipped post hooks wait for the task again.
    expect(statusOf(again)).toEqual({
      a: 'succeeded',
      b: 'succeeded',
      load: 'queued',
      p1: 'pending',
      p2: 'pending',
      f: 'succeeded',
    });
    const load = again.nodes.find((n) => n.name === 'load')!;
    expect(load).toMatchObject({
      attempt: 1,
      attemptsBefore: 1,
      error: null,
      exitCode: null,
      startedAt: null,
    });
    // Attempt numbers go on; the job's retries (none here) start again, and the run ends as it goes.
    const done = step(step(step(again, 'load', ok), 'p1', ok), 'p2', ok);
    expect(done.nodes.find((n) => n.name === 'load')!.attempt).toBe(2);
    expect(done.status).toBe('succeeded');
  });

  it('gives a retried node the job’s retries again', () => {
    let run = apply(makeRun(FIVE, { maxAttempts: 2 }), startRun(makeRun(FIVE), undefined, at(1)));
    // The pre hook fails twice; the fail hook reports it.
    run = step(step(step(run, 'a', fail()), 'a', fail()), 'f', ok);
    expect(run.status).toBe('failed');
    run = apply(run, retryNodes(run, ['a'], at(10)));
    run = step(run, 'a', fail());
    // Attempt 3, the first since the retry: one retry is left.
    expect(run.nodes.find((n) => n.name === 'a')).toMatchObject({ status: 'queued', attempt: 3 });
    run = step(run, 'a', fail());
    expect(run.nodes.find((n) => n.name === 'a')).toMatchObject({ status: 'failed', attempt: 4 });
    expect(run.status).toBe('failed');
  });

  it('queues a run that never started again, to wait as a new run does', () => {
    const run = { ...makeRun(FIVE), status: 'cancelled' as const, finishedAt: at(3) };
    for (const n of run.nodes) n.status = 'cancelled';
    const again = apply(run, retryNodes(run, ['a', 'b', 'load', 'p1', 'p2', 'f'], at(10)));
    expect(again.status).toBe('queued');
    expect(new Set(Object.values(statusOf(again)))).toEqual(new Set(['pending']));
  });

  it('ends the run again at once when what it retried cannot run', () => {
    const run = failedRun();
    // p1 is downstream of the failed task, which is not retried: it is skipped again.
    const again = apply(run, retryNodes(run, ['p1'], at(10)));
    expect(again.status).toBe('failed');
    expect(statusOf(again).p1).toBe('skipped');
  });
});
