/**
 * The ReplayStore contract: one suite, run against every store (pglite.test.ts, postgres.test.ts).
 * With `openPeer`, a second store on the same database plays a second server.
 *
 * Runs these tests create are scheduled in 1800 (before any real run or the run-store suite's) and
 * are cancelled at the end of each test, and every replay ends cancelled, so a runner sharing the
 * database finds nothing of theirs to start or advance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayInput, ReplayItem } from '../../src/store/replay-store.js';
import type { RunInputRecord } from '../../src/store/run-store.js';
import type { Store } from '../../src/store/store.js';

const RUN = `rp${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let seq = 0;
const day = (d: number) => new Date(Date.UTC(1800, 0, d));

const item = (job: string, d: number, after: number[] = []): ReplayItem => ({
  project: '',
  namespace: 'ns',
  job,
  scheduledAt: day(d + 1),
  windowStart: day(d),
  windowEnd: day(d + 1),
  after,
});

function replayInput(
  project: string,
  job: string,
  from: number,
  to: number,
  items: ReplayItem[],
): ReplayInput {
  return {
    projectName: project,
    namespaceName: 'ns',
    jobName: job,
    from: day(from),
    to: day(to),
    downstream: items.some((i) => i.job !== job),
    parallel: false,
    jobs: [...new Set(items.map((i) => i.job))].map((j) => ({ project, namespace: 'ns', job: j })),
    items: items.map((i) => ({ ...i, project })),
  };
}

const runOf = (project: string, i: ReplayItem): RunInputRecord => ({
  projectName: project,
  namespaceName: i.namespace,
  jobName: i.job,
  scheduledAt: i.scheduledAt,
  trigger: 'replay',
  jobHash: 'h',
  settings: {
    maxAttempts: 1,
    retryDelayMs: 0,
    exponentialBackoff: false,
    timeoutMs: 60_000,
    dependsOnPast: false,
  },
  nodes: [{ name: 'task', type: 'bq2bq', stage: 'task', dependsOn: [] }],
});

export function replayStoreContract(
  label: string,
  open: () => Promise<Store>,
  openPeer?: () => Promise<Store>,
): void {
  describe(`ReplayStore contract (${label})`, () => {
    let store: Store;
    let peer: Store | undefined;
    /** Replays and jobs to end after each test's assertions. */
    const cleanups: (() => Promise<unknown>)[] = [];
    beforeAll(async () => {
      store = await open();
      peer = await openPeer?.();
    });
    afterAll(async () => {
      for (const c of cleanups) await c();
      await Promise.all([store?.close(), peer?.close()]);
    });
    const project = () => {
      const p = `${RUN}-${++seq}`;
      cleanups.push(async () => {
        await store.cancelRunsOfJobs(p, ['a', 'b'], 'test over');
        for (const r of await store.listReplays(p, { limit: 100 })) {
          await store.updateReplay(r.id, (x) =>
            x.status === 'running' ? { status: 'cancelled' } : undefined,
          );
        }
      });
      return p;
    };

    it('stores a replay with its plan and reads it back, newest first in listings', async () => {
      const p = project();
      const items = [item('a', 1), item('a', 2, [0]), item('b', 1, [0])];
      const first = await store.createReplay(replayInput(p, 'a', 1, 3, items));
      expect(first.created).toBe(true);
      if (!first.created) return;
      expect(first.replay).toMatchObject({
        projectName: p,
        jobName: 'a',
        status: 'running',
        note: null,
        finishedAt: null,
      });
      const read = await store.getReplay(first.replay.id);
      expect(read).toEqual(first.replay);
      expect(read!.items.map((i) => [i.job, i.scheduledAt, i.windowStart, i.after, i.run])).toEqual([
        ['a', day(2), day(1), [], null],
        ['a', day(3), day(2), [0], null],
        ['b', day(2), day(1), [0], null],
      ]);
      expect(read!.jobs.map((j) => j.job)).toEqual(['a', 'b']);

      const second = await store.createReplay(replayInput(p, 'b', 1, 3, [item('b', 1)]));
      expect(second.created).toBe(true);
      const listed = await store.listReplays(p);
      expect(listed.map((r) => [r.jobName, r.itemCount, r.runCounts])).toEqual([
        ['b', 1, {}],
        ['a', 3, {}],
      ]);
      expect((await store.listReplays(p, { job: 'a' })).map((r) => r.jobName)).toEqual(['a']);
      expect(await store.listReplays(p, { limit: 1 })).toHaveLength(1);
      expect(await store.getReplay(999_999_999)).toBeUndefined();
    });

    it('refuses a replay of the same job over an overlapping range while one runs, returning it', async () => {
      const p = project();
      const first = await store.createReplay(replayInput(p, 'a', 10, 12, [item('a', 10)]));
      if (!first.created) throw new Error('not created');
      for (const [from, to] of [
        [12, 14],
        [8, 10],
        [11, 11],
        [1, 30],
      ] as const) {
        const again = await store.createReplay(replayInput(p, 'a', from, to, [item('a', from)]));
        expect(again, `${from}-${to}`).toMatchObject({ created: false, running: { id: first.replay.id } });
      }
      expect((await store.createReplay(replayInput(p, 'a', 13, 14, [item('a', 13)]))).created).toBe(true);
      expect((await store.createReplay(replayInput(p, 'b', 10, 12, [item('b', 10)]))).created).toBe(true);

      await store.updateReplay(first.replay.id, () => ({ status: 'cancelled', finishedAt: new Date() }));
      expect((await store.createReplay(replayInput(p, 'a', 10, 12, [item('a', 10)]))).created).toBe(true);
    });

    it('creates each replay run once, beside the scheduled run of the same time', async () => {
      const p = project();
      const items = [item('a', 20), item('a', 21, [0])];
      const created = await store.createReplay(replayInput(p, 'a', 20, 22, items));
      if (!created.created) throw new Error('not created');
      const id = created.replay.id;
      const scheduled = await store.createRun({ ...runOf(p, items[0]!), trigger: 'schedule' });
      expect(scheduled.created).toBe(true);
      expect(scheduled.run.replayId).toBeNull();

      const after = await store.updateReplay(id, (r) => {
        expect(r.items.map((i) => i.run)).toEqual([null, null]);
        return { createRuns: [runOf(p, items[0]!)], note: 'advanced' };
      });
      const run = after!.items[0]!.run!;
      expect(after!.note).toBe('advanced');
      expect(run.status).toBe('queued');
      expect(run.id).not.toBe(scheduled.run.id);
      expect(await store.getRun(run.id)).toMatchObject({ trigger: 'replay', replayId: id, jobName: 'a' });

      // A second server deciding the same thing creates nothing more.
      const again = await (peer ?? store).updateReplay(id, () => ({ createRuns: [runOf(p, items[0]!)] }));
      expect(again!.items[0]!.run!.id).toBe(run.id);
      const runs = await store.listRuns(p, 'a');
      expect(runs.map((r) => [r.trigger, r.replayId]).sort()).toEqual([
        ['replay', id],
        ['schedule', null],
      ]);
      // Scheduled runs are still one per job and time.
      expect((await store.createRun({ ...runOf(p, items[0]!), trigger: 'schedule' })).created).toBe(false);
      expect((await store.listReplays(p))[0]!.runCounts).toEqual({ queued: 1 });
    });

    it('lists running replays as work, and an update of a missing replay changes nothing', async () => {
      const p = project();
      const created = await store.createReplay(replayInput(p, 'a', 30, 31, [item('a', 30)]));
      if (!created.created) throw new Error('not created');
      expect(await store.activeReplays()).toContain(created.replay.id);
      const ended = await store.updateReplay(created.replay.id, () => ({
        status: 'succeeded',
        finishedAt: new Date(),
        note: null,
      }));
      expect(ended).toMatchObject({ status: 'succeeded', finishedAt: expect.any(Date) });
      expect(await store.activeReplays()).not.toContain(created.replay.id);
      expect(await store.updateReplay(999_999_999, () => ({ status: 'failed' }))).toBeUndefined();
      await expect(
        store.updateReplay(created.replay.id, () => {
          throw new Error('decided badly');
        }),
      ).rejects.toThrow('decided badly');
    });

    it('lets only one of two replays of one job over one range be created at once', async () => {
      const p = project();
      const other = peer ?? store;
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, k) =>
          (k % 2 ? other : store).createReplay(replayInput(p, 'a', 40, 42, [item('a', 40)])),
        ),
      );
      const made = results.filter((r) => r.created);
      expect(made).toHaveLength(1);
      const id = made[0]!.created ? made[0]!.replay.id : 0;
      for (const r of results) if (!r.created) expect(r.running.id).toBe(id);
    });
  });
}
