/**
 * The RunStore contract: one suite, run against every store (pglite.test.ts, postgres.test.ts).
 * With `openPeer`, a second store on the same database plays a second server.
 *
 * Claims are global (any project), so the runs these tests make ready are scheduled in 1900 and
 * later, ahead of any real run in a shared database: a claim of N nodes takes these tests' nodes
 * first. Every test leaves no claimable node behind (its runs end cancelled or finished).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptimusError } from '../../src/core/errors.js';
import { retryRun } from '../../src/services/runs.js';
import type {
  LogLineInput,
  NodeChange,
  RunInputRecord,
  RunNodeRecord,
  RunRecord,
  RunSettings,
} from '../../src/store/run-store.js';
import type { DeployInput, JobInput, Store } from '../../src/store/store.js';

const RUN = `r${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let seq = 0;
/** Scheduled times of these tests' runs: one hour apart from 1900-01-01, never reused. */
let hour = 0;
const early = () => new Date(Date.UTC(1900, 0, 1) + ++hour * 3_600_000);

const SETTINGS: RunSettings = {
  maxAttempts: 3,
  retryDelayMs: 1500,
  exponentialBackoff: true,
  timeoutMs: 60_000,
  dependsOnPast: false,
};

/** pre hook → task → post hook, and a fail hook after the task. */
const GRAPH: RunInputRecord['nodes'] = [
  { name: 'pre-check', type: 'predator', stage: 'pre', dependsOn: [] },
  { name: 'bq2bq', type: 'bq2bq', stage: 'task', dependsOn: ['pre-check'] },
  { name: 'transporter', type: 'transporter', stage: 'post', dependsOn: ['bq2bq'] },
  { name: 'alert', type: 'alert', stage: 'fail', dependsOn: ['bq2bq'] },
];

export function runStoreContract(
  label: string,
  open: () => Promise<Store>,
  openPeer?: () => Promise<Store>,
): void {
  describe(`RunStore contract (${label})`, () => {
    let store: Store;
    let peer: Store | undefined;
    beforeAll(async () => {
      store = await open();
      peer = await openPeer?.();
    });
    afterAll(async () => {
      await Promise.all([store?.close(), peer?.close()]);
    });

    const project = () => `${RUN}-${++seq}`;

    const input = (over: Partial<RunInputRecord> = {}): RunInputRecord => ({
      projectName: `${RUN}-runs`,
      namespaceName: 'ns1',
      jobName: `job-${++seq}`,
      scheduledAt: early(),
      trigger: 'schedule',
      jobHash: 'hash-1',
      settings: SETTINGS,
      nodes: GRAPH,
      ...over,
    });

    /** A run in status running whose `queued` nodes are queued (the others stay pending). */
    async function ready(over: Partial<RunInputRecord> = {}, queued = ['pre-check']): Promise<RunRecord> {
      const { run } = await store.createRun(input(over));
      const started = await store.updateRun(run.id, () => ({
        status: 'running',
        startedAt: new Date(),
        nodes: queued.map((name) => ({ name, status: 'queued' as const })),
      }));
      return started!;
    }

    /** Ends the runs so that no later test can claim their nodes. */
    async function finish(...runs: { id: number }[]): Promise<void> {
      for (const r of runs) {
        await store.updateRun(r.id, (run) => ({
          status: 'cancelled',
          finishedAt: new Date(),
          nodes: run.nodes
            .filter((n) => n.status === 'pending' || n.status === 'queued' || n.status === 'running')
            .map((n) => ({ name: n.name, status: 'cancelled' as const })),
        }));
      }
    }

    const node = (run: RunRecord | undefined, name: string): RunNodeRecord => {
      const found = run?.nodes.find((n) => n.name === name);
      expect(found, `node ${name}`).toBeDefined();
      return found!;
    };
    const key = (n: { runId: number; name: string }) => `${n.runId}/${n.name}`;

    async function rejection(promise: Promise<unknown>): Promise<unknown> {
      return promise.then(
        () => {
          throw new Error('expected a rejection');
        },
        (err: unknown) => err,
      );
    }

    describe('creating and reading runs', () => {
      it('creates a queued run whose nodes are pending, in run-graph order, and reads it back', async () => {
        const given = input({ trigger: 'manual' });
        const { run, created } = await store.createRun(given);
        expect(created).toBe(true);
        expect(run).toMatchObject({
          projectName: given.projectName,
          namespaceName: 'ns1',
          jobName: given.jobName,
          scheduledAt: given.scheduledAt,
          trigger: 'manual',
          status: 'queued',
          jobHash: 'hash-1',
          settings: SETTINGS,
          note: null,
          startedAt: null,
          finishedAt: null,
        });
        expect(typeof run.id).toBe('number');
        expect(run.createdAt).toBeInstanceOf(Date);
        expect(run.nodes).toEqual(
          GRAPH.map((n) => ({
            ...n,
            runId: run.id,
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
          })),
        );
        expect(await store.getRun(run.id)).toEqual(run);
      });

      it('creates a run once per job and scheduled time, returning the existing one after', async () => {
        const given = input();
        const first = await store.createRun(given);
        const again = await store.createRun({ ...given, jobHash: 'hash-2', trigger: 'manual', nodes: [] });
        expect(again.created).toBe(false);
        expect(again.run).toEqual(first.run);
        const later = await store.createRun({ ...given, scheduledAt: early() });
        expect(later.created).toBe(true);
        expect(later.run.id).not.toBe(first.run.id);
        const otherJob = await store.createRun({ ...given, jobName: `${given.jobName}-b` });
        expect(otherJob.created).toBe(true);
      });

      it('creates one run when many callers create the same run at once', async () => {
        const given = input();
        const results = await Promise.all(Array.from({ length: 8 }, () => store.createRun(given)));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
        expect(results.every((r) => r.run.nodes.length === GRAPH.length)).toBe(true);
      });

      it('refuses a run naming one node twice, as a conflict, and keeps no half-made run', async () => {
        const given = input({ nodes: [GRAPH[0]!, GRAPH[0]!] });
        const e = await rejection(store.createRun(given));
        expect(e).toBeInstanceOf(OptimusError);
        expect(e).toMatchObject({ code: 'STORE_CONFLICT', category: 'conflict' });
        expect(await store.listRuns(given.projectName, given.jobName)).toEqual([]);
      });

      it('returns undefined for a run that does not exist', async () => {
        expect(await store.getRun(2 ** 40)).toBeUndefined();
        expect(await store.updateRun(2 ** 40, () => ({ status: 'failed' }))).toBeUndefined();
      });

      it('lists a job’s runs newest first, with a limit and a `before` cursor', async () => {
        const projectName = project();
        const times = ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z'].map(
          (t) => new Date(t),
        );
        for (const scheduledAt of times)
          await store.createRun(input({ projectName, jobName: 'a', scheduledAt }));
        await store.createRun(input({ projectName, jobName: 'b', scheduledAt: times[0]! }));
        const at = (runs: RunRecord[]) => runs.map((r) => r.scheduledAt.toISOString().slice(0, 10));
        expect(at(await store.listRuns(projectName, 'a'))).toEqual([
          '2026-01-03',
          '2026-01-02',
          '2026-01-01',
        ]);
        expect(at(await store.listRuns(projectName, 'a', { limit: 2 }))).toEqual([
          '2026-01-03',
          '2026-01-02',
        ]);
        expect(at(await store.listRuns(projectName, 'a', { limit: 2, before: times[1]! }))).toEqual([
          '2026-01-01',
        ]);
        expect((await store.listRuns(projectName, 'a'))[0]!.nodes.map((n) => n.name)).toEqual(
          GRAPH.map((n) => n.name),
        );
        expect(await store.listRuns(projectName, 'missing')).toEqual([]);
      });

      it('finds the previous run and the latest scheduled time per trigger', async () => {
        const projectName = project();
        const t = (d: number) => new Date(Date.UTC(2026, 2, d));
        await store.createRun(input({ projectName, jobName: 'j', scheduledAt: t(1) }));
        await store.createRun(input({ projectName, jobName: 'j', scheduledAt: t(3) }));
        await store.createRun(input({ projectName, jobName: 'j', scheduledAt: t(5), trigger: 'manual' }));
        await store.createRun(input({ projectName, jobName: 'other', scheduledAt: t(4) }));
        expect((await store.previousRun(projectName, 'j', t(5)))?.scheduledAt).toEqual(t(3));
        expect((await store.previousRun(projectName, 'j', t(3)))?.scheduledAt).toEqual(t(1));
        expect((await store.previousRun(projectName, 'j', t(2)))?.scheduledAt).toEqual(t(1));
        expect(await store.previousRun(projectName, 'j', t(1))).toBeUndefined();
        expect(await store.latestScheduledAt(projectName, 'j', 'schedule')).toEqual(t(3));
        expect(await store.latestScheduledAt(projectName, 'j', 'manual')).toEqual(t(5));
        expect(await store.latestScheduledAt(projectName, 'none', 'schedule')).toBeUndefined();
      });

      it('finds the run of a job at each of the given scheduled times that has one', async () => {
        const projectName = project();
        const t = (d: number) => new Date(Date.UTC(2026, 2, d));
        const { run: one } = await store.createRun(input({ projectName, jobName: 'up', scheduledAt: t(1) }));
        const { run: three } = await store.createRun(
          input({ projectName, jobName: 'up', scheduledAt: t(3), trigger: 'manual' }),
        );
        await store.createRun(input({ projectName, jobName: 'up', scheduledAt: t(4) }));
        await store.createRun(input({ projectName, jobName: 'other', scheduledAt: t(2) }));
        await store.updateRun(one.id, () => ({ status: 'succeeded', finishedAt: new Date() }));
        expect(await store.newestRunsAt(projectName, 'up', [t(3), t(2), t(1)])).toEqual([
          { id: one.id, scheduledAt: t(1), trigger: 'schedule', status: 'succeeded' },
          { id: three.id, scheduledAt: t(3), trigger: 'manual', status: 'queued' },
        ]);
        expect(await store.newestRunsAt(projectName, 'up', [])).toEqual([]);
        expect(await store.newestRunsAt(projectName, 'none', [t(1)])).toEqual([]);
      });

      it('lists runs in the given statuses, oldest scheduled first, up to the limit', async () => {
        const a = await ready();
        const b = await ready();
        const { run: c } = await store.createRun(input());
        const mine = new Set([a.id, b.id, c.id]);
        const running = (await store.runsWithStatus(['running'], 1000)).filter((r) => mine.has(r.id));
        expect(running.map((r) => r.id)).toEqual([a.id, b.id]);
        expect(running[0]!.nodes).toHaveLength(GRAPH.length);
        const both = (await store.runsWithStatus(['queued', 'running'], 100_000)).filter((r) =>
          mine.has(r.id),
        );
        expect(both.map((r) => r.id)).toEqual([a.id, b.id, c.id]);
        // These tests' runs are the oldest: a limit keeps the first of them.
        expect((await store.runsWithStatus(['running'], 1)).map((r) => r.id)).toEqual([a.id]);
        expect(await store.runsWithStatus([], 10)).toEqual([]);
        await finish(a, b, c);
      });
    });

    describe('updating a run', () => {
      it('applies only the fields a change names and returns the run as it is afterwards', async () => {
        const { run } = await store.createRun(input());
        const startedAt = new Date('2026-05-01T10:00:00.123Z');
        const notBefore = new Date('2026-05-01T10:05:00.000Z');
        const after = await store.updateRun(run.id, (seen) => {
          expect(seen).toEqual(run);
          return {
            status: 'running',
            startedAt,
            note: 'started',
            nodes: [
              { name: 'pre-check', status: 'queued', notBefore },
              { name: 'bq2bq', handle: { kind: 'process', host: 'h', pid: 42 }, exitCode: 3, error: 'bad' },
            ],
          };
        });
        expect(after).toMatchObject({ status: 'running', startedAt, note: 'started', finishedAt: null });
        expect(node(after, 'pre-check')).toMatchObject({ status: 'queued', notBefore, attempt: 0 });
        expect(node(after, 'bq2bq')).toMatchObject({
          status: 'pending',
          handle: { kind: 'process', host: 'h', pid: 42 },
          exitCode: 3,
          error: 'bad',
        });
        expect(node(after, 'transporter')).toEqual(node(run, 'transporter'));
        expect(await store.getRun(run.id)).toEqual(after);

        const cleared = await store.updateRun(run.id, () => ({
          note: null,
          nodes: [{ name: 'bq2bq', handle: null, exitCode: null, error: null }],
        }));
        expect(cleared).toMatchObject({ status: 'running', note: null, startedAt });
        expect(node(cleared, 'bq2bq')).toMatchObject({ handle: null, exitCode: null, error: null });
        await finish(run);
      });

      it('changes nothing when the decision is no change', async () => {
        const { run } = await store.createRun(input());
        expect(await store.updateRun(run.id, () => undefined)).toEqual(run);
        expect(await store.updateRun(run.id, () => ({ nodes: [{ name: 'bq2bq' }] }))).toEqual(run);
        expect(await store.getRun(run.id)).toEqual(run);
      });

      it('passes on the error a decision throws, unchanged, and writes nothing', async () => {
        const { run } = await store.createRun(input());
        const thrown = new Error('decided to give up');
        expect(
          await rejection(
            store.updateRun(run.id, () => {
              throw thrown;
            }),
          ),
        ).toBe(thrown);
        expect(await store.getRun(run.id)).toEqual(run);
      });

      it('rolls the whole change back when one node of it does not exist', async () => {
        const { run } = await store.createRun(input());
        const e = await rejection(
          store.updateRun(run.id, () => ({
            status: 'running',
            nodes: [
              { name: 'pre-check', status: 'queued' },
              { name: 'no-such-node', status: 'queued' },
            ],
          })),
        );
        expect(e).toBeInstanceOf(OptimusError);
        expect(e).toMatchObject({
          code: 'RUN_NODE_UNKNOWN',
          message: expect.stringContaining('no-such-node'),
        });
        expect(await store.getRun(run.id)).toEqual(run);
      });

      it('loses no update when many callers change one run at once (each reads what the last wrote)', async () => {
        const { run } = await store.createRun(input());
        const stores = peer ? [store, peer] : [store];
        const bump = (i: number) =>
          stores[i % stores.length]!.updateRun(run.id, (seen) => {
            const attempt = node(seen, 'bq2bq').attempt + 1;
            return { note: `bump ${attempt}`, nodes: [{ name: 'bq2bq', attempt }] };
          });
        await Promise.all(Array.from({ length: 24 }, (_, i) => bump(i)));
        const after = await store.getRun(run.id);
        expect(node(after, 'bq2bq').attempt).toBe(24);
        expect(after!.note).toBe('bump 24');
      });
    });

    describe('claiming nodes', () => {
      it('claims queued nodes of running runs, oldest run first, under a lease from the database clock', async () => {
        const first = await ready({}, ['transporter', 'pre-check']);
        const second = await ready({}, ['pre-check']);
        // Queued but not claimable: a later retry, a cancel asked for, a run not started.
        const later = await ready({}, []);
        await store.updateRun(later.id, () => ({
          nodes: [
            { name: 'pre-check', status: 'queued', notBefore: new Date(Date.now() + 3_600_000) },
            { name: 'bq2bq', status: 'queued', cancelRequested: true },
          ],
        }));
        const { run: notStarted } = await store.createRun(input());
        await store.updateRun(notStarted.id, () => ({ nodes: [{ name: 'pre-check', status: 'queued' }] }));
        // A retry whose delay is over, with what its last attempt left behind.
        const retry = await ready({}, []);
        await store.updateRun(retry.id, () => ({
          nodes: [
            {
              name: 'pre-check',
              status: 'queued',
              attempt: 1,
              notBefore: new Date(Date.now() - 60_000),
              handle: { kind: 'process', pid: 1 },
              exitCode: 1,
              error: 'exited with code 1',
              finishedAt: new Date(),
            },
          ],
        }));

        const claimed = await store.claimNodes('server-a', 4, 30_000);
        expect(claimed.map(key)).toEqual([
          `${first.id}/pre-check`,
          `${first.id}/transporter`,
          `${second.id}/pre-check`,
          `${retry.id}/pre-check`,
        ]);
        for (const n of claimed) {
          expect(n).toMatchObject({
            status: 'running',
            leaseOwner: 'server-a',
            handle: null,
            exitCode: null,
          });
          expect(n.error).toBeNull();
          expect(n.finishedAt).toBeNull();
          expect(n.startedAt).toBeInstanceOf(Date);
          // Both come from one now(): the lease is exactly leaseMs long, whatever this machine's clock says.
          expect(n.leaseExpiresAt!.getTime() - n.startedAt!.getTime()).toBe(30_000);
        }
        expect(claimed.map((n) => n.attempt)).toEqual([1, 1, 1, 2]);
        expect(node(await store.getRun(first.id), 'pre-check')).toEqual(claimed[0]);

        const again = await store.claimNodes('server-b', 100, 30_000);
        const mine = new Set([first, second, later, notStarted, retry].map((r) => r.id));
        expect(again.filter((n) => mine.has(n.runId))).toEqual([]);
        await finish(first, second, later, notStarted, retry);
      });

      it('claims no more than the limit, and nothing with a limit of 0', async () => {
        const run = await ready({}, ['pre-check', 'bq2bq', 'transporter']);
        expect(await store.claimNodes('server-a', 0, 1000)).toEqual([]);
        expect((await store.claimNodes('server-a', 2, 1000)).map(key)).toEqual([
          `${run.id}/pre-check`,
          `${run.id}/bq2bq`,
        ]);
        expect((await store.claimNodes('server-a', 1, 1000)).map(key)).toEqual([`${run.id}/transporter`]);
        await finish(run);
      });

      it('gives each node to exactly one of many claimers at once', async () => {
        const runs: RunRecord[] = [];
        for (let i = 0; i < 12; i++)
          runs.push(
            await ready(
              {},
              GRAPH.map((n) => n.name),
            ),
          );
        const mine = new Set(runs.map((r) => r.id));
        const expected = runs.flatMap((r) => r.nodes.map(key)).sort();
        const stores = peer ? [store, peer] : [store];
        const claims: string[] = [];
        const claimer = async (s: Store, owner: string) => {
          for (;;) {
            const got = await s.claimNodes(owner, 3, 60_000);
            if (got.length === 0) return;
            for (const n of got) if (mine.has(n.runId)) claims.push(`${key(n)}@${owner}`);
          }
        };
        await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            claimer(stores[i % stores.length]!, `server-${i % stores.length}-${i}`),
          ),
        );
        const claimedNodes = claims.map((c) => c.split('@')[0]!).sort();
        expect(claimedNodes).toEqual(expected);
        // What the store says agrees with what each claimer was told.
        for (const r of runs) {
          for (const n of (await store.getRun(r.id))!.nodes) {
            expect(claims).toContain(`${key(n)}@${n.leaseOwner}`);
            expect(n.attempt).toBe(1);
          }
        }
        if (peer) {
          const owners = new Set(claims.map((c) => c.split('@')[1]!.split('-')[1]));
          expect(owners.size, 'both servers claimed work').toBe(2);
        }
        await finish(...runs);
      });
    });

    describe('leases', () => {
      it('renews the leases an owner holds and reports the nodes whose run asked them to stop', async () => {
        const run = await ready({}, ['pre-check', 'bq2bq', 'transporter']);
        const [a1, a2] = await store.claimNodes('owner-a', 2, 1000);
        const [b1] = await store.claimNodes('owner-b', 1, 1000);
        await store.updateRun(run.id, () => ({ nodes: [{ name: a2!.name, cancelRequested: true }] }));

        expect(await store.renewLeases('owner-a', 3_600_000)).toEqual([{ runId: run.id, name: a2!.name }]);
        const after = await store.getRun(run.id);
        for (const n of [a1!, a2!]) {
          expect(node(after, n.name).leaseExpiresAt!.getTime()).toBeGreaterThan(
            n.leaseExpiresAt!.getTime() + 3_000_000,
          );
        }
        expect(node(after, b1!.name).leaseExpiresAt).toEqual(b1!.leaseExpiresAt);
        expect(await store.renewLeases('owner-nobody', 1000)).toEqual([]);
        await finish(run);
      });

      it('renews leases while the same nodes change, without a deadlock (nodes are locked in one order)', async () => {
        const run = await ready(
          {},
          GRAPH.map((n) => n.name),
        );
        await store.claimNodes('owner-busy', GRAPH.length, 60_000);
        const stores = peer ? [store, peer] : [store];
        // Changes listed in the reverse of run-graph order, with leases expiring in that order too:
        // the rows' physical order and an index on the expiry both come to differ from the order
        // in which a run update locks the nodes.
        const reversed = (i: number): NodeChange[] =>
          GRAPH.map((n, k) => ({
            name: n.name,
            error: `round ${i}`,
            leaseExpiresAt: new Date(Date.now() + 600_000 - k * 1000),
          })).reverse();
        // A deadlock needs an unlucky interleaving: 400 rounds were enough for a renewal that
        // locked nodes in the order it found them to deadlock on PostgreSQL.
        await Promise.all(
          Array.from({ length: 400 }, (_, i) =>
            i % 2
              ? stores[i % stores.length]!.renewLeases('owner-busy', 60_000)
              : stores[i % stores.length]!.updateRun(run.id, () => ({ nodes: reversed(i) })),
          ),
        );
        const after = await store.getRun(run.id);
        expect(after!.nodes.every((n) => n.status === 'running' && n.leaseOwner === 'owner-busy')).toBe(true);
        await finish(run);
      });

      it('finds nodes whose lease expired, every node an owner holds, and every running node', async () => {
        const run = await ready({}, ['pre-check', 'bq2bq', 'transporter']);
        const [dead] = await store.claimNodes('owner-dead', 1, 60_000);
        const [alive, alsoAlive] = await store.claimNodes('owner-alive', 2, 3_600_000);
        await store.updateRun(run.id, () => ({
          nodes: [{ name: dead!.name, leaseExpiresAt: new Date(Date.now() - 3_600_000) }],
        }));
        const ofRun = (nodes: RunNodeRecord[]) => nodes.filter((n) => n.runId === run.id).map((n) => n.name);
        expect(ofRun(await store.orphanedNodes())).toEqual([dead!.name]);
        expect(ofRun(await store.orphanedNodes({ owner: 'owner-alive' }))).toEqual([
          alive!.name,
          alsoAlive!.name,
        ]);
        expect(ofRun(await store.orphanedNodes({ owner: 'owner-dead' }))).toEqual([dead!.name]);
        expect(ofRun(await store.runningNodes())).toEqual([dead!.name, alive!.name, alsoAlive!.name]);
        await finish(run);
        expect(ofRun(await store.runningNodes())).toEqual([]);
        expect(ofRun(await store.orphanedNodes())).toEqual([]);
      });
    });

    describe('cancelling the runs of deleted jobs', () => {
      it('cancels queued and running runs: waiting nodes end, running nodes are asked to stop', async () => {
        const projectName = project();
        const running = await ready({ projectName, jobName: 'doomed' }, ['pre-check', 'bq2bq']);
        const [claimed] = await store.claimNodes('owner-c', 1, 60_000);
        expect(claimed).toMatchObject({ runId: running.id, name: 'pre-check' });
        const { run: queued } = await store.createRun(input({ projectName, jobName: 'doomed' }));
        const { run: done } = await store.createRun(input({ projectName, jobName: 'doomed' }));
        await store.updateRun(done.id, () => ({ status: 'succeeded', note: 'fine' }));
        const { run: kept } = await store.createRun(input({ projectName, jobName: 'kept' }));

        const ids = await store.cancelRunsOfJobs(projectName, ['doomed', 'never-ran'], 'job deleted');
        expect(ids).toEqual([running.id, queued.id]);
        const after = await store.getRun(running.id);
        expect(after).toMatchObject({ status: 'cancelled', note: 'job deleted' });
        expect(after!.finishedAt).toBeInstanceOf(Date);
        expect(after!.nodes.map((n) => [n.name, n.status, n.cancelRequested])).toEqual([
          ['pre-check', 'running', true],
          ['bq2bq', 'cancelled', false],
          ['transporter', 'cancelled', false],
          ['alert', 'cancelled', false],
        ]);
        expect((await store.getRun(queued.id))!.status).toBe('cancelled');
        expect(await store.getRun(done.id)).toMatchObject({ status: 'succeeded', note: 'fine' });
        expect(await store.getRun(kept.id)).toEqual(kept);
        expect(await store.renewLeases('owner-c', 60_000)).toEqual([
          { runId: running.id, name: 'pre-check' },
        ]);
        expect(await store.cancelRunsOfJobs(projectName, ['doomed'], 'again')).toEqual([]);
        expect(await store.cancelRunsOfJobs(projectName, [], 'nothing')).toEqual([]);
        await finish(running);
      });

      describe('with jobs deployed', () => {
        const deploy = (projectName: string, over: Partial<DeployInput> = {}): DeployInput => ({
          projectName,
          namespaceName: 'ns1',
          status: 'succeeded',
          startedAt: new Date(),
          finishedAt: new Date(),
          added: [],
          modified: [],
          deleted: [],
          unchanged: 0,
          problems: [],
          ...over,
        });
        const job = (projectName: string, name: string, namespaceName = 'ns1'): JobInput => ({
          projectName,
          namespaceName,
          name,
          spec: { version: 1, name },
          assets: {},
          hash: `${name}-h`,
          runGraph: [],
        });
        async function deployed(names: string[]): Promise<string> {
          const projectName = project();
          await store.upsertProject({ name: projectName, config: {}, pluginDependencies: [] });
          await store.upsertNamespace({ projectName, name: 'ns1', config: {} });
          await store.upsertNamespace({ projectName, name: 'ns2', config: {} });
          await store.applyDeploy({
            upsert: names.map((n) => job(projectName, n)),
            delete: [],
            deploy: deploy(projectName),
          });
          return projectName;
        }

        it('finds a job by name whatever its namespace', async () => {
          const projectName = await deployed(['a']);
          await store.applyDeploy({
            upsert: [job(projectName, 'b', 'ns2')],
            delete: [],
            deploy: deploy(projectName, { namespaceName: 'ns2' }),
          });
          expect(await store.findJob(projectName, 'b')).toMatchObject({ namespaceName: 'ns2', name: 'b' });
          expect(await store.findJob(projectName, 'a')).toEqual(await store.getJob(projectName, 'ns1', 'a'));
          expect(await store.findJob(projectName, 'c')).toBeUndefined();
        });

        it('cancels the runs of the jobs a deploy deletes, naming the deploy, and keeps their history', async () => {
          const projectName = await deployed(['gone', 'stays', 'back']);
          const run = (jobName: string) =>
            store.createRun(input({ projectName, jobName })).then((r) => r.run);
          const [gone, stays, back] = [await run('gone'), await run('stays'), await run('back')];
          const d = await store.applyDeploy({
            upsert: [job(projectName, 'back')],
            delete: ['gone', 'back', 'not-there'],
            deploy: deploy(projectName, { deleted: ['gone'] }),
          });
          expect(await store.getRun(gone.id)).toMatchObject({
            status: 'cancelled',
            note: expect.stringContaining(`deploy ${d.id}`),
          });
          expect((await store.getRun(gone.id))!.nodes.every((n) => n.status === 'cancelled')).toBe(true);
          expect(await store.getRun(stays.id)).toEqual(stays);
          // Deleted and deployed again by the same deploy: the job still exists, its runs go on.
          expect(await store.getRun(back.id)).toEqual(back);
          expect((await store.listRuns(projectName, 'gone')).map((r) => r.id)).toEqual([gone.id]);
        });

        it('cancels nothing when the deploy that deletes the job fails', async () => {
          const projectName = await deployed(['gone']);
          const { run } = await store.createRun(input({ projectName, jobName: 'gone' }));
          const e = await rejection(
            store.applyDeploy({
              upsert: [],
              delete: ['gone'],
              deploy: deploy(projectName, { namespaceName: 'nope' }),
            }),
          );
          expect(e).toMatchObject({ code: 'NAMESPACE_MISSING' });
          expect(await store.getRun(run.id)).toEqual(run);
          expect(await store.findJob(projectName, 'gone')).toBeDefined();
        });

        it('cancels the runs of a job deleted on its own', async () => {
          const projectName = await deployed(['solo']);
          const { run } = await store.createRun(input({ projectName, jobName: 'solo' }));
          expect(await store.deleteJob(projectName, 'ns2', 'solo')).toBe(false);
          expect(await store.getRun(run.id)).toEqual(run);
          expect(await store.deleteJob(projectName, 'ns1', 'solo')).toBe(true);
          expect(await store.getRun(run.id)).toMatchObject({
            status: 'cancelled',
            note: expect.stringContaining('deleted'),
          });
        });
      });
    });

    describe('logs', () => {
      const line = (runId: number, i: number, over: Partial<LogLineInput> = {}): LogLineInput => ({
        runId,
        node: i % 2 ? 'bq2bq' : 'pre-check',
        attempt: 1,
        stream: i % 3 === 0 ? 'stderr' : 'stdout',
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)),
        line: `line ${i}`,
        ...over,
      });

      it('reads lines back in the order given, by node, after a cursor, up to a limit', async () => {
        const { run } = await store.createRun(input());
        const { run: other } = await store.createRun(input());
        const lines = Array.from({ length: 10 }, (_, i) => line(run.id, i));
        await store.appendLogs(lines.slice(0, 4));
        await store.appendLogs([line(other.id, 99)]);
        await store.appendLogs(lines.slice(4));
        await store.appendLogs([]);

        const all = await store.readLogs(run.id);
        expect(all.map(({ id, ...rest }) => rest)).toEqual(lines);
        const ids = all.map((l) => l.id);
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
        expect(new Set(ids).size).toBe(10);

        expect((await store.readLogs(run.id, { node: 'bq2bq' })).map((l) => l.line)).toEqual([
          'line 1',
          'line 3',
          'line 5',
          'line 7',
          'line 9',
        ]);
        const page1 = await store.readLogs(run.id, { limit: 3 });
        const page2 = await store.readLogs(run.id, { limit: 3, afterId: page1.at(-1)!.id });
        expect([...page1, ...page2].map((l) => l.line)).toEqual(lines.slice(0, 6).map((l) => l.line));
        expect(await store.readLogs(run.id, { afterId: ids.at(-1)! })).toEqual([]);
        expect((await store.readLogs(other.id)).map((l) => l.line)).toEqual(['line 99']);
        expect(await store.readLogs(2 ** 40)).toEqual([]);
      });

      it('keeps any text a process prints, with a NUL byte shown as U+FFFD', async () => {
        const { run } = await store.createRun(input());
        const texts = [
          '',
          '  indented\ttab',
          'émoji 😀 数据 עברית',
          'quotes \' " \\ {}',
          'nul\0here',
          'x'.repeat(100_000),
        ];
        await store.appendLogs(texts.map((t, i) => line(run.id, i, { line: t, stream: 'system' })));
        const back = (await store.readLogs(run.id)).map((l) => l.line);
        expect(back).toEqual(texts.map((t) => t.replace('\0', '\uFFFD')));
      });

      it('stores 10,000 lines from one call, reading 1,000 by default and at most 10,000 at once', async () => {
        const { run } = await store.createRun(input());
        const lines = Array.from({ length: 12_000 }, (_, i) =>
          line(run.id, i, { line: `line ${i} ${'·'.repeat(80)}` }),
        );
        await store.appendLogs(lines.slice(0, 10_000));
        await store.appendLogs(lines.slice(10_000));
        expect(await store.readLogs(run.id)).toHaveLength(1000);
        const most = await store.readLogs(run.id, { limit: 50_000 });
        expect(most).toHaveLength(10_000);
        const rest = await store.readLogs(run.id, { limit: 50_000, afterId: most.at(-1)!.id });
        expect([...most, ...rest].map((l) => l.line)).toEqual(lines.map((l) => l.line));
      });
    });

    describe('attempts', () => {
      it('records an attempt when a claim starts it and its end with the transition that ends it', async () => {
        const run = await ready({}, ['pre-check']);
        const [claimed] = await store.claimNodes('attempts-server', 1, 60_000);
        expect(claimed).toMatchObject({ runId: run.id, name: 'pre-check', attempt: 1 });
        expect(await store.attemptsOf([run.id])).toEqual([
          {
            runId: run.id,
            node: 'pre-check',
            attempt: 1,
            status: 'running',
            startedAt: claimed!.startedAt,
            finishedAt: null,
            exitCode: null,
            error: null,
          },
        ]);
        const end = new Date(claimed!.startedAt!.getTime() + 1500);
        await store.updateRun(run.id, () => ({
          nodes: [{ name: 'pre-check', status: 'queued', leaseOwner: null }],
          attempts: [
            {
              kind: 'ended',
              node: 'pre-check',
              attempt: 1,
              status: 'timed_out',
              startedAt: claimed!.startedAt!,
              finishedAt: end,
              exitCode: null,
              error: 'timed out after 1s',
            },
          ],
        }));
        const [second] = await store.claimNodes('attempts-server', 1, 60_000);
        expect(second).toMatchObject({ runId: run.id, name: 'pre-check', attempt: 2 });
        // Given back on a shutdown: the attempt is no attempt, its number is used again.
        await store.updateRun(run.id, () => ({
          nodes: [{ name: 'pre-check', status: 'queued', attempt: 1, leaseOwner: null }],
          attempts: [{ kind: 'released', node: 'pre-check', attempt: 2 }],
        }));
        expect((await store.attemptsOf([run.id])).map((a) => [a.attempt, a.status, a.finishedAt])).toEqual([
          [1, 'timed_out', end],
        ]);
        await finish(run);
      });

      it('records the end of an attempt whose start it never saw', async () => {
        const { run } = await store.createRun(input());
        const started = new Date('2026-01-01T00:00:00Z');
        await store.updateRun(run.id, () => ({
          attempts: [
            {
              kind: 'ended',
              node: 'bq2bq',
              attempt: 3,
              status: 'failed',
              startedAt: started,
              finishedAt: new Date('2026-01-01T00:01:00Z'),
              exitCode: 2,
              error: 'exited with code 2',
            },
          ],
        }));
        expect(await store.attemptsOf([run.id, run.id + 1_000_000])).toMatchObject([
          { runId: run.id, node: 'bq2bq', attempt: 3, status: 'failed', startedAt: started, exitCode: 2 },
        ]);
        expect(await store.attemptsOf([])).toEqual([]);
        await finish(run);
      });

      it('keeps a node’s attempts_before', async () => {
        const { run } = await store.createRun(input());
        const after = await store.updateRun(run.id, () => ({
          nodes: [{ name: 'bq2bq', attemptsBefore: 4 }],
        }));
        expect(node(after, 'bq2bq').attemptsBefore).toBe(4);
        expect(node(await store.getRun(run.id), 'bq2bq').attemptsBefore).toBe(4);
        await finish(run);
      });
    });

    describe('the newest runs of every job', () => {
      it('lists newest scheduled first, then highest id, filtered, and pages without losing ties', async () => {
        const projectName = project();
        const at = early();
        const made: RunRecord[] = [];
        for (const [jobName, namespaceName, when] of [
          ['a', 'n1', at],
          ['b', 'n1', at],
          ['c', 'n2', at],
          ['a', 'n1', new Date(at.getTime() - 60_000)],
        ] as const) {
          made.push(
            (await store.createRun(input({ projectName, jobName, namespaceName, scheduledAt: when }))).run,
          );
        }
        const ids = (runs: RunRecord[]) => runs.map((r) => r.id);
        const [a1, b1, c1, a0] = made as [RunRecord, RunRecord, RunRecord, RunRecord];
        const all = await store.recentRuns({ project: projectName, limit: 10 });
        expect(ids(all)).toEqual([c1.id, b1.id, a1.id, a0.id]);
        expect(all[0]!.nodes.map((n) => n.name)).toEqual(GRAPH.map((n) => n.name));
        const first = await store.recentRuns({ project: projectName, limit: 2 });
        const rest = await store.recentRuns({
          project: projectName,
          limit: 2,
          before: { scheduledAt: first[1]!.scheduledAt, id: first[1]!.id },
        });
        expect([...ids(first), ...ids(rest)]).toEqual(ids(all));
        expect(
          ids(await store.recentRuns({ project: projectName, limit: 10, before: { scheduledAt: at } })),
        ).toEqual([a0.id]);
        expect(ids(await store.recentRuns({ project: projectName, job: 'a', limit: 10 }))).toEqual([
          a1.id,
          a0.id,
        ]);
        expect(ids(await store.recentRuns({ project: projectName, namespace: 'n2', limit: 10 }))).toEqual([
          c1.id,
        ]);
        await store.updateRun(b1.id, () => ({ status: 'failed', finishedAt: new Date() }));
        expect(ids(await store.recentRuns({ project: projectName, status: 'failed', limit: 10 }))).toEqual([
          b1.id,
        ]);
        expect(await store.recentRuns({ project: `${projectName}-none`, limit: 10 })).toEqual([]);
        await finish(a1, c1, a0);
      });
    });

    if (openPeer)
      describe('two servers on one database', () => {
        it('create one run when both create the same run at once', async () => {
          const given = input();
          const results = await Promise.all(
            Array.from({ length: 10 }, (_, i) => (i % 2 ? peer! : store).createRun(given)),
          );
          expect(results.filter((r) => r.created)).toHaveLength(1);
          expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
        });

        it('retry one run once when both retry it at once: the other is told it is not over', async () => {
          const { run } = await store.createRun(input());
          await store.updateRun(run.id, (r) => ({
            status: 'failed',
            startedAt: new Date(),
            finishedAt: new Date(),
            nodes: r.nodes.map((n) => ({
              name: n.name,
              status: n.stage === 'pre' ? 'failed' : 'upstream_failed',
            })),
          }));
          const results = await Promise.allSettled(
            Array.from({ length: 6 }, (_, i) => retryRun(i % 2 ? peer! : store, run.id)),
          );
          expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
          for (const r of results.filter((r) => r.status === 'rejected'))
            expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'RUN_NOT_OVER' });
          await finish(run);
        });

        it('see each other’s leases and cancel requests', async () => {
          const run = await ready({}, ['pre-check']);
          const [claimed] = await peer!.claimNodes('peer-server', 1, 60_000);
          expect(claimed).toMatchObject({ runId: run.id, name: 'pre-check', leaseOwner: 'peer-server' });
          expect(await store.claimNodes('this-server', 1, 60_000)).not.toContainEqual(
            expect.objectContaining({ runId: run.id }),
          );
          const change: NodeChange = { name: 'pre-check', cancelRequested: true };
          await store.updateRun(run.id, () => ({ nodes: [change] }));
          expect(await peer!.renewLeases('peer-server', 60_000)).toEqual([
            { runId: run.id, name: 'pre-check' },
          ]);
          await finish(run);
        });
      });
  });
}
