/**
 * The store's cross-project reads (jobIndex, pluginUsage, recentDeploys), run by store.case.ts
 * against every implementation. Each test narrows to projects of its own (the `project` filter, or
 * names with a per-run prefix), so the suite also runs against a shared, non-empty database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInput, Json, Store } from '../../src/store/store.js';

const RUN = `x${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let seq = 0;

const SETTINGS = {
  maxAttempts: 1,
  retryDelayMs: 0,
  exponentialBackoff: false,
  timeoutMs: 60_000,
  dependsOnPast: false,
};

export function jobIndexContract(label: string, open: () => Promise<Store>): void {
  describe(`Store jobs index (${label})`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store?.close();
    });

    async function project(namespaces = ['ns1', 'ns2']): Promise<string> {
      const name = `${RUN}-${++seq}`;
      await store.upsertProject({ name, config: {}, pluginDependencies: [] });
      for (const ns of namespaces) await store.upsertNamespace({ projectName: name, name: ns, config: {} });
      return name;
    }

    const job = (
      projectName: string,
      namespaceName: string,
      name: string,
      opts: { task?: string; hooks?: [string, string][]; owner?: string; interval?: string } = {},
    ): JobInput => {
      const task = opts.task ?? 'bq2bq';
      const hooks = opts.hooks ?? [];
      const graph: Json = [
        { name: task, type: task, stage: 'task', depends_on: [] },
        ...hooks.map(([hook, type]) => ({ name: hook, type, stage: 'post', depends_on: [task] })),
      ];
      return {
        projectName,
        namespaceName,
        name,
        spec: {
          version: 1,
          name,
          owner: opts.owner ?? 'team@example.com',
          ...(opts.interval ? { schedule: { start_date: '2024-01-01', interval: opts.interval } } : {}),
          task: { name: task, config: {} },
          hooks: hooks.map(([hook, type]) => ({ name: hook, type, config: {} })),
        },
        assets: {},
        hash: `${name}-h`,
        runGraph: graph,
      };
    };

    async function deploy(projectName: string, namespaceName: string, jobs: JobInput[]) {
      const now = new Date();
      return store.applyDeploy({
        upsert: jobs,
        delete: [],
        deploy: {
          projectName,
          namespaceName,
          status: 'succeeded',
          startedAt: now,
          finishedAt: now,
          added: jobs.map((j) => j.name),
          modified: [],
          deleted: [],
          unchanged: 0,
          problems: [],
        },
      });
    }

    async function run(projectName: string, jobName: string, at: string, status?: 'failed' | 'succeeded') {
      const { run } = await store.createRun({
        projectName,
        namespaceName: 'ns1',
        jobName,
        scheduledAt: new Date(at),
        trigger: 'schedule',
        jobHash: 'h',
        settings: SETTINGS,
        nodes: [{ name: 'bq2bq', type: 'bq2bq', stage: 'task', dependsOn: [] }],
      });
      if (status)
        await store.updateRun(run.id, () => ({ status, startedAt: new Date(), finishedAt: new Date() }));
      return run.id;
    }

    const names = (r: { jobs: { name: string }[] }) => r.jobs.map((j) => j.name);
    const page = { limit: 100, offset: 0 };

    it('lists every job of a project, sorted by namespace then name in byte order, with its fields', async () => {
      const p = await project();
      await deploy(p, 'ns2', [job(p, 'ns2', 'alpha')]);
      await deploy(p, 'ns1', [
        job(p, 'ns1', 'beta', {
          hooks: [
            ['notify-team', 'slack'],
            ['audit', 'predator'],
          ],
          interval: '0 2 * * *',
        }),
        job(p, 'ns1', 'Zeta'),
        job(p, 'ns1', 'gamma', { owner: 'ops@example.com' }),
      ]);
      const r = await store.jobIndex({ project: p, ...page });
      expect(r.total).toBe(4);
      expect(r.jobs.map((j) => `${j.namespaceName}/${j.name}`)).toEqual([
        'ns1/Zeta',
        'ns1/beta',
        'ns1/gamma',
        'ns2/alpha',
      ]);
      expect(r.jobs[1]).toMatchObject({
        projectName: p,
        task: 'bq2bq',
        hooks: ['slack', 'predator'],
        schedule: '0 2 * * *',
        owner: 'team@example.com',
        lastRun: null,
      });
      expect(r.jobs[1]!.updatedAt).toBeInstanceOf(Date);
      expect(r.jobs[0]).toMatchObject({ hooks: [], schedule: null });
    });

    it('pages through the sorted list, the total counting every page', async () => {
      const p = await project();
      const all = Array.from({ length: 25 }, (_, i) => `job-${String(i).padStart(2, '0')}`);
      await deploy(
        p,
        'ns1',
        all.map((n) => job(p, 'ns1', n)),
      );
      const pages: string[] = [];
      for (let offset = 0; offset < 30; offset += 10) {
        const r = await store.jobIndex({ project: p, limit: 10, offset });
        expect(r.total).toBe(25);
        pages.push(...names(r));
      }
      expect(pages).toEqual(all);
      expect(await store.jobIndex({ project: p, limit: 10, offset: 100 })).toEqual({ total: 25, jobs: [] });
    });

    it('filters by namespace, by a case-insensitive substring of name or owner, and by plugin', async () => {
      const p = await project();
      await deploy(p, 'ns1', [
        job(p, 'ns1', 'Sales_Daily', { owner: 'x@example.com' }),
        job(p, 'ns1', 'inventory', { owner: 'SALES-team@example.com', task: 'mc2mc' }),
        job(p, 'ns1', 'orders', { hooks: [['after', 'mc2mc']] }),
      ]);
      await deploy(p, 'ns2', [job(p, 'ns2', 'sales_weekly')]);
      expect(names(await store.jobIndex({ project: p, q: 'sales', ...page }))).toEqual([
        'Sales_Daily',
        'inventory',
        'sales_weekly',
      ]);
      expect(names(await store.jobIndex({ project: p, q: 'SALES', namespace: 'ns1', ...page }))).toEqual([
        'Sales_Daily',
        'inventory',
      ]);
      // `_` and `%` are characters to find, not wildcards.
      expect(names(await store.jobIndex({ project: p, q: 's_d', ...page }))).toEqual(['Sales_Daily']);
      expect(names(await store.jobIndex({ project: p, q: '%', ...page }))).toEqual([]);
      const mc = await store.jobIndex({ project: p, plugin: 'mc2mc', ...page });
      expect(names(mc)).toEqual(['inventory', 'orders']);
      expect(mc.total).toBe(2);
      expect((await store.jobIndex({ project: p, plugin: 'nope', ...page })).total).toBe(0);
    });

    it("gives each job its newest run by scheduled time, and filters on that run's status", async () => {
      const p = await project(['ns1']);
      await deploy(
        p,
        'ns1',
        ['a', 'b', 'c'].map((n) => job(p, 'ns1', n)),
      );
      await run(p, 'a', '2024-01-01T00:00:00Z', 'succeeded');
      const newest = await run(p, 'a', '2024-01-03T00:00:00Z', 'failed');
      // Created last but scheduled earlier: not the newest.
      await run(p, 'a', '2024-01-02T00:00:00Z', 'succeeded');
      await run(p, 'b', '2024-01-01T00:00:00Z');
      const r = await store.jobIndex({ project: p, ...page });
      expect(r.jobs[0]!.lastRun).toEqual({
        id: newest,
        status: 'failed',
        scheduledAt: new Date('2024-01-03T00:00:00Z'),
      });
      expect(r.jobs[1]!.lastRun).toMatchObject({ status: 'queued' });
      expect(r.jobs[2]!.lastRun).toBeNull();
      const by = async (lastStatus: 'failed' | 'queued' | 'never' | 'succeeded') => {
        const x = await store.jobIndex({ project: p, lastStatus, ...page });
        expect(x.total).toBe(x.jobs.length);
        return names(x);
      };
      expect(await by('failed')).toEqual(['a']);
      expect(await by('queued')).toEqual(['b']);
      expect(await by('never')).toEqual(['c']);
      expect(await by('succeeded')).toEqual([]);
      const filtered = await store.jobIndex({ project: p, lastStatus: 'failed', ...page });
      expect(filtered.jobs[0]!.lastRun).toEqual(r.jobs[0]!.lastRun);
      expect((await store.jobIndex({ project: p, lastStatus: 'never', limit: 1, offset: 1 })).jobs).toEqual(
        [],
      );
    });

    it('answers jobs of every project when not narrowed, and an empty page for an unknown project', async () => {
      const p1 = await project(['ns1']);
      const p2 = await project(['ns1']);
      await deploy(p1, 'ns1', [job(p1, 'ns1', `${RUN}-shared`)]);
      await deploy(p2, 'ns1', [job(p2, 'ns1', `${RUN}-shared`)]);
      const r = await store.jobIndex({ q: `${RUN}-shared`, ...page });
      expect(r.jobs.map((j) => j.projectName)).toEqual([p1, p2]);
      expect(await store.jobIndex({ project: `${RUN}-none`, ...page })).toEqual({ total: 0, jobs: [] });
    });

    it('lists the uses of a plugin as task and as hook, in job then run order', async () => {
      const p = await project(['ns1']);
      const plugin = `${RUN}-plug`;
      await deploy(p, 'ns1', [
        job(p, 'ns1', 'b-job', { task: plugin, hooks: [['again', plugin]] }),
        job(p, 'ns1', 'a-job', {
          hooks: [
            ['first', plugin],
            ['other', 'slack'],
          ],
        }),
        job(p, 'ns1', 'c-job'),
      ]);
      const all = await store.pluginUsage(plugin, 100);
      expect(all).toEqual({
        total: 3,
        uses: [
          { projectName: p, namespaceName: 'ns1', job: 'a-job', as: 'hook', hook: 'first' },
          { projectName: p, namespaceName: 'ns1', job: 'b-job', as: 'task', hook: null },
          { projectName: p, namespaceName: 'ns1', job: 'b-job', as: 'hook', hook: 'again' },
        ],
      });
      expect(await store.pluginUsage(plugin, 1)).toEqual({ total: 3, uses: all.uses.slice(0, 1) });
      expect(await store.pluginUsage(`${RUN}-unused`, 10)).toEqual({ total: 0, uses: [] });
    });

    it('lists recent deploys newest first, across namespaces, narrowed by project and namespace', async () => {
      const p = await project();
      const first = await deploy(p, 'ns1', [job(p, 'ns1', 'a')]);
      const second = await deploy(p, 'ns2', [job(p, 'ns2', 'b')]);
      const third = await deploy(p, 'ns1', [job(p, 'ns1', 'c')]);
      expect((await store.recentDeploys({ project: p, limit: 10 })).map((d) => d.id)).toEqual([
        third.id,
        second.id,
        first.id,
      ]);
      expect(
        (await store.recentDeploys({ project: p, namespace: 'ns1', limit: 10 })).map((d) => d.id),
      ).toEqual([third.id, first.id]);
      expect((await store.recentDeploys({ project: p, limit: 1 })).map((d) => d.namespaceName)).toEqual([
        'ns1',
      ]);
      const any = await store.recentDeploys({ limit: 1 });
      expect(any[0]!.id).toBeGreaterThanOrEqual(third.id);
    });
  });
}
