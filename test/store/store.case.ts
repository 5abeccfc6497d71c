/**
 * The Store contract: one suite, run against every implementation (pglite.test.ts,
 * postgres.test.ts). Each test works in projects of its own, named with a per-run prefix, so the
 * suite also runs against a shared, non-empty database (DATABASE_URL).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptimusError } from '../../src/core/errors.js';
import { jobKey, upstreamResolver } from '../../src/core/lineage.js';
import type {
  JobLineage,
  ResolveUpstreams,
  StaticDependency,
  UpstreamEdge,
} from '../../src/store/lineage-store.js';
import type { DeployInput, JobInput, JobRecord, Json, SecretInput, Store } from '../../src/store/store.js';
import { jobIndexContract } from './job-index.case.js';

const RUN = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let seq = 0;

export function storeContract(label: string, open: () => Promise<Store>): void {
  jobIndexContract(label, open);
  describe(`Store contract (${label})`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store?.close();
    });

    /** A fresh project with namespaces ns1 and ns2. */
    async function project(): Promise<string> {
      const name = `${RUN}-${++seq}`;
      await store.upsertProject({ name, config: {}, pluginDependencies: [] });
      await store.upsertNamespace({ projectName: name, name: 'ns1', config: {} });
      await store.upsertNamespace({ projectName: name, name: 'ns2', config: {} });
      return name;
    }

    const secret = (projectName: string, name: string, namespaceName: string | null, n = 1): SecretInput => ({
      projectName,
      name,
      namespaceName,
      ciphertext: `c2VjcmV0LSR7bn0=${n}`,
      digest: `digest-${n}`,
    });

    const job = (projectName: string, namespaceName: string, name: string, version = 1): JobInput => ({
      projectName,
      namespaceName,
      name,
      spec: {
        version: 1,
        name,
        owner: 'team@example.com',
        task: { name: 'bq2bq', config: { V: String(version) } },
      },
      assets: { 'query.sql': `select ${version} -- ${name}` },
      hash: `${name}-h${version}`,
      runGraph: [{ name: 'bq2bq', stage: 'task', depends_on: [] }],
    });

    const deploy = (
      projectName: string,
      namespaceName: string,
      over: Partial<DeployInput> = {},
    ): DeployInput => ({
      projectName,
      namespaceName,
      status: 'succeeded',
      startedAt: new Date('2026-01-02T03:04:05.678Z'),
      finishedAt: new Date('2026-01-02T03:04:06.789Z'),
      added: [],
      modified: [],
      deleted: [],
      unchanged: 0,
      problems: [],
      ...over,
    });

    /** What a caller can observe of a namespace: jobs (content) and deploys. */
    async function snapshot(p: string) {
      const jobs = await Promise.all(['ns1', 'ns2'].map((ns) => store.listJobs(p, ns)));
      const deploys = await Promise.all(['ns1', 'ns2'].map((ns) => store.listDeploys(p, ns)));
      return { jobs, deploys, summaries: await store.jobSummaries(p) };
    }

    async function rejection(promise: Promise<unknown>): Promise<OptimusError> {
      const e = await promise.then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(OptimusError);
      return e as OptimusError;
    }

    describe('projects and namespaces', () => {
      it('upserts a project idempotently, replacing config and rules and bumping updatedAt', async () => {
        const name = `${RUN}-proj-${++seq}`;
        const first = await store.upsertProject({ name, config: { A: '1' }, pluginDependencies: ['a >> b'] });
        expect(first).toMatchObject({ name, config: { A: '1' }, pluginDependencies: ['a >> b'] });
        expect(first.createdAt).toBeInstanceOf(Date);
        await sleep(15);
        const second = await store.upsertProject({ name, config: { B: '2' }, pluginDependencies: [] });
        expect(second).toMatchObject({ name, config: { B: '2' }, pluginDependencies: [] });
        expect(second.createdAt).toEqual(first.createdAt);
        expect(second.updatedAt.getTime()).toBeGreaterThan(first.updatedAt.getTime());
        expect(await store.getProject(name)).toEqual(second);
        expect((await store.listProjects()).filter((p) => p.name === name)).toHaveLength(1);
      });

      it('keeps a project’s window presets, and none (null) when registration sent none', async () => {
        const name = `${RUN}-proj-${++seq}`;
        const presets = { yesterday: { description: 'd', window: { size: '1d', shift_by: '-1d' } } };
        const first = await store.upsertProject({
          name,
          config: {},
          pluginDependencies: [],
          windowPresets: presets,
        });
        expect(first.windowPresets).toEqual(presets);
        expect((await store.getProject(name))!.windowPresets).toEqual(presets);
        expect(
          (await store.upsertProject({ name, config: {}, pluginDependencies: [], windowPresets: {} }))
            .windowPresets,
        ).toEqual({});
        expect(
          (await store.upsertProject({ name, config: {}, pluginDependencies: [] })).windowPresets,
        ).toBeNull();
      });

      it('returns undefined for a project or namespace that does not exist', async () => {
        const p = await project();
        expect(await store.getProject(`${RUN}-missing`)).toBeUndefined();
        expect(await store.getNamespace(p, 'missing')).toBeUndefined();
        expect(await store.getNamespace(`${RUN}-missing`, 'ns1')).toBeUndefined();
      });

      it('lists projects sorted by name (bytewise, the same on every database)', async () => {
        const base = `${RUN}-sort-${++seq}-`;
        const suffixes = ['b', 'B', 'a_1', 'a-1', 'a', '10', '9', 'é'];
        for (const s of suffixes)
          await store.upsertProject({ name: base + s, config: {}, pluginDependencies: [] });
        const listed = (await store.listProjects()).map((p) => p.name).filter((n) => n.startsWith(base));
        expect(listed).toEqual(suffixes.map((s) => base + s).sort());
        expect(listed.map((n) => n.slice(base.length))).toEqual([
          '10',
          '9',
          'B',
          'a',
          'a-1',
          'a_1',
          'b',
          'é',
        ]);
      });

      it('upserts namespaces idempotently and lists only the project’s, sorted by name', async () => {
        const p = await project();
        const other = await project();
        const first = await store.upsertNamespace({ projectName: p, name: 'alpha', config: { X: '1' } });
        await sleep(15);
        const again = await store.upsertNamespace({ projectName: p, name: 'alpha', config: { X: '2' } });
        expect(again).toMatchObject({ projectName: p, name: 'alpha', config: { X: '2' } });
        expect(again.createdAt).toEqual(first.createdAt);
        expect(again.updatedAt.getTime()).toBeGreaterThan(first.updatedAt.getTime());
        await store.upsertNamespace({ projectName: other, name: 'zeta', config: {} });
        expect((await store.listNamespaces(p)).map((n) => n.name)).toEqual(['alpha', 'ns1', 'ns2']);
        expect(await store.getNamespace(p, 'alpha')).toEqual(again);
      });

      it('refuses a namespace of a project that does not exist, as a conflict', async () => {
        const e = await rejection(
          store.upsertNamespace({ projectName: `${RUN}-nope`, name: 'ns', config: {} }),
        );
        expect(e.category).toBe('conflict');
        expect(e.code).toBe('PROJECT_MISSING');
        expect(await store.listNamespaces(`${RUN}-nope`)).toEqual([]);
      });
    });

    describe('secrets', () => {
      it('inserts, gets, updates and lists secrets sorted by name', async () => {
        const p = await project();
        const created = await store.insertSecret(secret(p, 'ZED', null));
        expect(created).toMatchObject(secret(p, 'ZED', null));
        await store.insertSecret(secret(p, 'ALPHA', 'ns1'));
        expect(await store.getSecret(p, 'ALPHA')).toMatchObject(secret(p, 'ALPHA', 'ns1'));
        await sleep(15);
        const updated = await store.updateSecret(secret(p, 'ZED', null, 2));
        expect(updated).toMatchObject({
          ciphertext: secret(p, 'ZED', null, 2).ciphertext,
          digest: 'digest-2',
        });
        expect(updated!.createdAt).toEqual(created.createdAt);
        expect(updated!.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());
        expect((await store.listSecrets(p)).map((s) => [s.name, s.namespaceName, s.digest])).toEqual([
          ['ALPHA', 'ns1', 'digest-1'],
          ['ZED', null, 'digest-2'],
        ]);
      });

      it('returns undefined when updating or getting a secret that does not exist', async () => {
        const p = await project();
        expect(await store.updateSecret(secret(p, 'NOPE', null))).toBeUndefined();
        expect(await store.getSecret(p, 'NOPE')).toBeUndefined();
        expect(await store.listSecrets(p)).toEqual([]);
      });

      it('keeps secret names unique per project across namespaces, with a conflict error', async () => {
        const p = await project();
        const other = await project();
        await store.insertSecret(secret(p, 'TOKEN', 'ns1'));
        for (const ns of ['ns1', 'ns2', null]) {
          const e = await rejection(store.insertSecret(secret(p, 'TOKEN', ns, 9)));
          expect(e.code).toBe('SECRET_EXISTS');
          expect(e.category).toBe('conflict');
          expect(e.hint).toBeTruthy();
          expect(e.message).toContain('TOKEN');
          expect(e.message).not.toContain(secret(p, 'TOKEN', ns, 9).ciphertext);
        }
        expect(await store.getSecret(p, 'TOKEN')).toMatchObject({ namespaceName: 'ns1', digest: 'digest-1' });
        await expect(store.insertSecret(secret(other, 'TOKEN', 'ns2'))).resolves.toMatchObject({
          projectName: other,
        });
      });

      it('refuses a secret of a namespace that does not exist', async () => {
        const p = await project();
        const e = await rejection(store.insertSecret(secret(p, 'TOKEN', 'ns-missing')));
        expect(e).toMatchObject({ code: 'NAMESPACE_MISSING', category: 'conflict' });
        expect(await store.getSecret(p, 'TOKEN')).toBeUndefined();
      });

      it('shows a namespace its own and the project-level secrets only', async () => {
        const p = await project();
        const other = await project();
        await store.insertSecret(secret(p, 'PROJECT_WIDE', null));
        await store.insertSecret(secret(p, 'MINE', 'ns1'));
        await store.insertSecret(secret(p, 'THEIRS', 'ns2'));
        await store.insertSecret(secret(other, 'ELSEWHERE', null));
        await store.insertSecret(secret(other, 'ELSEWHERE_NS1', 'ns1'));
        expect((await store.secretsVisibleTo(p, 'ns1')).map((s) => s.name)).toEqual(['MINE', 'PROJECT_WIDE']);
        expect((await store.secretsVisibleTo(p, 'ns2')).map((s) => s.name)).toEqual([
          'PROJECT_WIDE',
          'THEIRS',
        ]);
        expect((await store.secretsVisibleTo(p, 'ns3')).map((s) => s.name)).toEqual(['PROJECT_WIDE']);
      });

      it('deletes a secret only in the namespace named, any when none is named', async () => {
        const p = await project();
        await store.insertSecret(secret(p, 'NS1_ONLY', 'ns1'));
        await store.insertSecret(secret(p, 'WIDE', null));
        await store.insertSecret(secret(p, 'ANY', 'ns2'));
        expect(await store.deleteSecret(p, 'NS1_ONLY', 'ns2')).toBe(false);
        expect(await store.deleteSecret(p, 'WIDE', 'ns1')).toBe(false);
        expect(await store.getSecret(p, 'NS1_ONLY')).toBeDefined();
        expect(await store.getSecret(p, 'WIDE')).toBeDefined();
        expect(await store.deleteSecret(p, 'NS1_ONLY', 'ns1')).toBe(true);
        expect(await store.deleteSecret(p, 'ANY', null)).toBe(false);
        expect(await store.deleteSecret(p, 'ANY')).toBe(true);
        expect(await store.deleteSecret(p, 'WIDE', null)).toBe(true);
        expect(await store.deleteSecret(p, 'WIDE')).toBe(false);
        expect(await store.listSecrets(p)).toEqual([]);
      });
    });

    describe('lineage and upstreams', () => {
      /** URNs unique to this run, so a shared database's other jobs never match them. */
      const urn = (p: string, table: string) => `bq://${p}:d.${table}`;
      const lineage = (key: string, destination: string | null, sources: string[] = []): JobLineage => ({
        key,
        destination,
        sources,
        warnings: [],
      });
      const writes = (
        p: string,
        ns: string,
        name: string,
        table: string,
        reads: string[] = [],
      ): JobInput => ({
        ...job(p, ns, name),
        lineage: lineage(
          `k-${name}`,
          urn(p, table),
          reads.map((t) => urn(p, t)),
        ),
      });
      /** The stored upstreams of the project's jobs, by job name. */
      async function upstreamsOf(p: string): Promise<Record<string, UpstreamEdge[]>> {
        const rows = (await store.lineageRows()).filter((r) => r.projectName === p);
        return Object.fromEntries(rows.map((r) => [r.name, r.upstreams]));
      }
      const resolving = (...projects: string[]) =>
        upstreamResolver({
          touched: new Set(
            projects.flatMap((p) => ['a', 'b', 'c', 'd'].flatMap((n) => [jobKey(p, n), jobKey(p, `${n}2`)])),
          ),
        });
      const inferred = (p: string, ns: string, name: string, tables: string[]): UpstreamEdge => ({
        project: p,
        namespace: ns,
        job: name,
        kind: 'inferred',
        via: tables.map((t) => urn(p, t)),
      });

      it('round-trips a job’s lineage and static dependencies, computing these from the spec when absent', async () => {
        const p = await project();
        const declared: StaticDependency[] = [{ project: 'other', job: 'x', index: 0 }];
        const withDeps: JobInput = {
          ...job(p, 'ns1', 'from-spec'),
          spec: {
            name: 'from-spec',
            dependencies: [{ job: 'a' }, { http: { name: 'h', url: 'u' } }, { job: 'q/b' }],
          },
        };
        await store.applyDeploy({
          upsert: [
            { ...writes(p, 'ns1', 'a', 'ta', ['x', 'y']), staticDependencies: declared },
            withDeps,
            { ...job(p, 'ns2', 'plain'), lineage: null },
          ],
          delete: [],
          deploy: deploy(p, 'ns1'),
        });
        expect(await store.getJob(p, 'ns1', 'a')).toMatchObject({
          lineage: {
            key: 'k-a',
            destination: urn(p, 'ta'),
            sources: [urn(p, 'x'), urn(p, 'y')],
            warnings: [],
          },
          upstreams: [],
        });
        expect((await store.getJob(p, 'ns2', 'plain'))!.lineage).toBeNull();
        const rows = (await store.lineageRows()).filter((r) => r.projectName === p);
        rows.sort((x, y) => (x.name < y.name ? -1 : 1));
        expect(rows).toEqual([
          {
            projectName: p,
            namespaceName: 'ns1',
            name: 'a',
            destination: urn(p, 'ta'),
            sources: [urn(p, 'x'), urn(p, 'y')],
            staticDependencies: declared,
            upstreams: [],
          },
          {
            projectName: p,
            namespaceName: 'ns1',
            name: 'from-spec',
            destination: null,
            sources: [],
            staticDependencies: [
              { job: 'a', index: 0 },
              { project: 'q', job: 'b', index: 2 },
            ],
            upstreams: [],
          },
          {
            projectName: p,
            namespaceName: 'ns2',
            name: 'plain',
            destination: null,
            sources: [],
            staticDependencies: [],
            upstreams: [],
          },
        ]);
        const keys = Object.fromEntries((await store.jobSummaries(p)).map((s) => [s.name, s.lineageKey]));
        expect(keys).toEqual({ a: 'k-a', 'from-spec': null, plain: null });
      });

      it('stores the upstreams a deploy resolves, across namespaces, and shows them on the job', async () => {
        const p = await project();
        await store.applyDeploy({
          upsert: [writes(p, 'ns1', 'a', 'ta'), writes(p, 'ns2', 'b', 'tb', ['ta', 'ext'])],
          delete: [],
          deploy: deploy(p, 'ns1'),
          resolve: resolving(p),
        });
        expect(await upstreamsOf(p)).toEqual({ a: [], b: [inferred(p, 'ns1', 'a', ['ta'])] });
        expect((await store.getJob(p, 'ns2', 'b'))!.upstreams).toEqual([inferred(p, 'ns1', 'a', ['ta'])]);
      });

      it('matches a destination written in another project', async () => {
        const p = await project();
        const q = await project();
        await store.applyDeploy({
          upsert: [writes(p, 'ns1', 'a', 'shared')],
          delete: [],
          deploy: deploy(p, 'ns1'),
          resolve: resolving(p),
        });
        await store.applyDeploy({
          upsert: [{ ...job(q, 'ns2', 'c'), lineage: lineage('k', urn(q, 'tc'), [urn(p, 'shared')]) }],
          delete: [],
          deploy: deploy(q, 'ns2'),
          resolve: resolving(q),
        });
        expect(await upstreamsOf(q)).toEqual({ c: [inferred(p, 'ns1', 'a', ['shared'])] });
      });

      it('writes only the lists the resolver returns, leaving every other job’s as stored', async () => {
        const p = await project();
        await store.applyDeploy({
          upsert: [
            writes(p, 'ns1', 'a', 'ta'),
            writes(p, 'ns1', 'b', 'tb', ['ta']),
            writes(p, 'ns1', 'c', 'tc', ['ta']),
          ],
          delete: [],
          deploy: deploy(p, 'ns1'),
          resolve: resolving(p),
        });
        let changed: string[] = [];
        const spy: ResolveUpstreams = (rows) => {
          const out = resolving(p)(rows);
          changed = [...out.keys()].filter((k) => k.startsWith(`${p}/`));
          return out;
        };
        // c now also reads b: only c's list differs.
        await store.applyDeploy({
          upsert: [writes(p, 'ns1', 'c', 'tc', ['ta', 'tb'])],
          delete: [],
          deploy: deploy(p, 'ns1'),
          resolve: spy,
        });
        expect(changed).toEqual([jobKey(p, 'c')]);
        expect((await upstreamsOf(p)).c).toEqual([
          inferred(p, 'ns1', 'a', ['ta']),
          inferred(p, 'ns1', 'b', ['tb']),
        ]);

        // A resolver returning one list: the store writes that one and keeps the others as they were.
        const only: UpstreamEdge[] = [
          { project: p, namespace: 'ns1', job: 'c', kind: 'static', via: ['dependencies[0]'] },
        ];
        await store.applyDeploy({
          upsert: [],
          delete: [],
          deploy: deploy(p, 'ns1'),
          resolve: () => new Map([[jobKey(p, 'a'), only]]),
        });
        expect(await upstreamsOf(p)).toEqual({
          a: only,
          b: [inferred(p, 'ns1', 'a', ['ta'])],
          c: [inferred(p, 'ns1', 'a', ['ta']), inferred(p, 'ns1', 'b', ['tb'])],
        });
      });

      it('changes nothing when the resolver refuses the deploy, and passes its error on', async () => {
        const p = await project();
        await store.applyDeploy({
          upsert: [writes(p, 'ns1', 'a', 'ta'), writes(p, 'ns1', 'b', 'tb', ['ta'])],
          delete: [],
          deploy: deploy(p, 'ns1'),
          resolve: resolving(p),
        });
        const before = { jobs: await snapshot(p), upstreams: await upstreamsOf(p) };
        const e = await rejection(
          store.applyDeploy({
            upsert: [writes(p, 'ns1', 'a', 'ta', ['tb']), writes(p, 'ns1', 'd', 'td')],
            delete: ['b'],
            deploy: deploy(p, 'ns1'),
            resolve: () => {
              throw new OptimusError('JOB_CYCLE', 'refused for the test', { category: 'invalid' });
            },
          }),
        );
        expect(e).toMatchObject({ code: 'JOB_CYCLE', category: 'invalid', message: 'refused for the test' });
        expect({ jobs: await snapshot(p), upstreams: await upstreamsOf(p) }).toEqual(before);
      });

      it('refuses a deploy that closes a cycle, naming its jobs, and keeps the state before it', async () => {
        const p = await project();
        await store.applyDeploy({
          upsert: [writes(p, 'ns1', 'a', 'ta', ['tb'])],
          delete: [],
          deploy: deploy(p, 'ns1'),
          resolve: resolving(p),
        });
        const before = await snapshot(p);
        const e = await rejection(
          store.applyDeploy({
            upsert: [writes(p, 'ns2', 'b', 'tb', ['ta'])],
            delete: [],
            deploy: deploy(p, 'ns2'),
            resolve: resolving(p),
          }),
        );
        expect(e.code).toBe('JOB_CYCLE');
        expect(e.message).toContain(`${p}/a → ${p}/b → ${p}/a`);
        expect(await snapshot(p)).toEqual(before);
      });

      it('refuses one of two concurrent deploys, in different namespaces, that together make a cycle', async () => {
        const p = await project();
        // Bulk in each deploy keeps both transactions open long enough to overlap on PostgreSQL:
        // without the store-wide lock, each would resolve before seeing the other's job.
        const filler = (ns: string) =>
          Array.from({ length: 1500 }, (_, i) => job(p, ns, `${ns}-filler-${String(i).padStart(4, '0')}`));
        const results = await Promise.allSettled([
          store.applyDeploy({
            upsert: [...filler('ns1'), writes(p, 'ns1', 'a', 'ta', ['tb'])],
            delete: [],
            deploy: deploy(p, 'ns1'),
            resolve: resolving(p),
          }),
          store.applyDeploy({
            upsert: [...filler('ns2'), writes(p, 'ns2', 'b', 'tb', ['ta'])],
            delete: [],
            deploy: deploy(p, 'ns2'),
            resolve: resolving(p),
          }),
        ]);
        const refused = results.filter((r) => r.status === 'rejected');
        expect(refused).toHaveLength(1);
        expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'JOB_CYCLE' });
        const stored = Object.entries(await upstreamsOf(p)).filter(([name]) => !name.includes('-filler-'));
        expect(stored).toHaveLength(1);
        expect(stored[0]![1]).toEqual([]);
      });

      it('clears the edges to a job a deploy deletes, and to one deleted on its own', async () => {
        const p = await project();
        const q = await project();
        await store.applyDeploy({
          upsert: [
            writes(p, 'ns1', 'a', 'ta'),
            writes(p, 'ns1', 'b', 'tb'),
            writes(p, 'ns2', 'c', 'tc', ['ta', 'tb']),
          ],
          delete: [],
          deploy: deploy(p, 'ns1'),
          resolve: resolving(p),
        });
        await store.applyDeploy({
          upsert: [
            { ...writes(q, 'ns1', 'd', 'td', []), staticDependencies: [{ project: p, job: 'b', index: 0 }] },
          ],
          delete: [],
          deploy: deploy(q, 'ns1'),
          resolve: resolving(q),
        });
        expect((await upstreamsOf(q)).d).toEqual([
          { project: p, namespace: 'ns1', job: 'b', kind: 'static', via: ['dependencies[0]'] },
        ]);

        await store.applyDeploy({
          upsert: [],
          delete: ['a'],
          deploy: deploy(p, 'ns1'),
          resolve: resolving(p),
        });
        expect((await upstreamsOf(p)).c).toEqual([inferred(p, 'ns1', 'b', ['tb'])]);

        expect(await store.deleteJob(p, 'ns1', 'b')).toBe(true);
        expect(await upstreamsOf(p)).toEqual({ c: [] });
        expect(await upstreamsOf(q)).toEqual({ d: [] });
      });
    });

    describe('jobs and deploys', () => {
      it('applies a deploy: adds, replaces and deletes jobs and records it', async () => {
        const p = await project();
        const first = await store.applyDeploy({
          upsert: [
            job(p, 'ns1', 'b-job'),
            job(p, 'ns1', 'a-job'),
            job(p, 'ns1', 'gone'),
            job(p, 'ns2', 'other'),
          ],
          delete: [],
          deploy: deploy(p, 'ns1', { added: ['a-job', 'b-job', 'gone'] }),
        });
        expect(first).toMatchObject({
          projectName: p,
          namespaceName: 'ns1',
          added: ['a-job', 'b-job', 'gone'],
        });
        const before = await store.getJob(p, 'ns1', 'a-job');
        await sleep(15);
        const second = await store.applyDeploy({
          upsert: [job(p, 'ns1', 'a-job', 2), job(p, 'ns1', 'c-job')],
          delete: ['gone', 'other'],
          deploy: deploy(p, 'ns1', {
            added: ['c-job'],
            modified: ['a-job'],
            deleted: ['gone'],
            unchanged: 1,
          }),
        });
        expect(second.id).toBeGreaterThan(first.id);
        expect((await store.listJobs(p, 'ns1')).map((j) => [j.name, j.hash])).toEqual([
          ['a-job', 'a-job-h2'],
          ['b-job', 'b-job-h1'],
          ['c-job', 'c-job-h1'],
        ]);
        // `delete` names jobs of the deploy's namespace only.
        expect(await store.getJob(p, 'ns2', 'other')).toBeDefined();
        const after = await store.getJob(p, 'ns1', 'a-job');
        expect(after).toMatchObject(job(p, 'ns1', 'a-job', 2));
        expect(after!.createdAt).toEqual(before!.createdAt);
        expect(after!.updatedAt.getTime()).toBeGreaterThan(before!.updatedAt.getTime());
        expect(await store.getJob(p, 'ns1', 'gone')).toBeUndefined();
        expect(await store.getJob(p, 'ns2', 'a-job')).toBeUndefined();
        expect(await store.listDeploys(p, 'ns1')).toEqual([second, first]);
      });

      it('is idempotent: applying the same jobs again leaves the same jobs', async () => {
        const p = await project();
        const jobs = [job(p, 'ns1', 'x'), job(p, 'ns1', 'y')];
        await store.applyDeploy({ upsert: jobs, delete: [], deploy: deploy(p, 'ns1') });
        await store.applyDeploy({ upsert: jobs, delete: [], deploy: deploy(p, 'ns1') });
        const listed = await store.listJobs(p, 'ns1');
        expect(listed).toHaveLength(2);
        expect(listed).toMatchObject(jobs);
      });

      it('changes nothing when a deploy fails part-way (the deploy record violates a constraint)', async () => {
        const p = await project();
        await store.applyDeploy({
          upsert: [job(p, 'ns1', 'keep'), job(p, 'ns1', 'drop')],
          delete: [],
          deploy: deploy(p, 'ns1', { added: ['drop', 'keep'] }),
        });
        const before = await snapshot(p);
        // Jobs are deleted and upserted before the deploy row, which names a namespace that does not exist.
        const e = await rejection(
          store.applyDeploy({
            upsert: [job(p, 'ns1', 'keep', 2), job(p, 'ns1', 'new')],
            delete: ['drop'],
            deploy: deploy(p, 'ns-missing'),
          }),
        );
        expect(e).toMatchObject({ code: 'NAMESPACE_MISSING', category: 'conflict' });
        expect(await snapshot(p)).toEqual(before);
      });

      it('refuses a deploy naming one job twice, as a conflict, and changes nothing', async () => {
        const p = await project();
        await store.applyDeploy({ upsert: [job(p, 'ns1', 'twice')], delete: [], deploy: deploy(p, 'ns1') });
        const before = await snapshot(p);
        const e = await rejection(
          store.applyDeploy({
            upsert: [job(p, 'ns1', 'twice', 2), job(p, 'ns1', 'other'), job(p, 'ns1', 'twice', 3)],
            delete: [],
            deploy: deploy(p, 'ns1'),
          }),
        );
        expect(e).toMatchObject({ code: 'STORE_CONFLICT', category: 'conflict' });
        expect(await snapshot(p)).toEqual(before);
      });

      it('changes nothing when the last chunk of a large deploy fails', async () => {
        const p = await project();
        await store.applyDeploy({ upsert: [job(p, 'ns1', 'j-0000')], delete: [], deploy: deploy(p, 'ns1') });
        const before = await snapshot(p);
        const upsert = Array.from({ length: 2500 }, (_, i) =>
          job(p, 'ns1', `j-${String(i).padStart(4, '0')}`, 2),
        );
        upsert.push(job(p, 'ns-missing', 'last'));
        const e = await rejection(store.applyDeploy({ upsert, delete: [], deploy: deploy(p, 'ns1') }));
        expect(e.code).toBe('NAMESPACE_MISSING');
        expect(await snapshot(p)).toEqual(before);
      });

      it('applies concurrent, overlapping deploys to one namespace one after the other', async () => {
        const p = await project();
        const names = Array.from({ length: 3000 }, (_, i) => `c-${String(i).padStart(4, '0')}`);
        const forward = names.map((n) => job(p, 'ns1', n, 1));
        const backward = names.map((n) => job(p, 'ns1', n, 2)).reverse();
        const [a, b] = await Promise.all([
          store.applyDeploy({ upsert: forward, delete: [], deploy: deploy(p, 'ns1') }),
          store.applyDeploy({ upsert: backward, delete: [], deploy: deploy(p, 'ns1') }),
        ]);
        const last = (await store.listDeploys(p, 'ns1', 1))[0]!.id === a.id ? 1 : 2;
        expect(new Set([a.id, b.id]).size).toBe(2);
        const hashes = new Set((await store.jobSummaries(p)).map((s) => s.hash.replace(/^.*-h/, 'h')));
        expect([...hashes]).toEqual([`h${last}`]);
      });

      it('summarises every job of the project, sorted by name, without specs', async () => {
        const p = await project();
        await store.applyDeploy({
          upsert: [job(p, 'ns2', 'm'), job(p, 'ns1', 'z'), job(p, 'ns1', 'a')],
          delete: [],
          deploy: deploy(p, 'ns1'),
        });
        const summaries = await store.jobSummaries(p);
        expect(summaries.map((s) => Object.keys(s).sort())).toEqual(
          Array(3).fill(['hash', 'lineageKey', 'name', 'namespaceName', 'taskName', 'updatedAt']),
        );
        expect(summaries.map((s) => s.taskName)).toEqual(['bq2bq', 'bq2bq', 'bq2bq']);
        expect(summaries.map(({ namespaceName, name, hash }) => [namespaceName, name, hash])).toEqual([
          ['ns1', 'a', 'a-h1'],
          ['ns2', 'm', 'm-h1'],
          ['ns1', 'z', 'z-h1'],
        ]);
        expect(summaries[0]!.updatedAt).toBeInstanceOf(Date);
        expect(await store.jobSummaries(await project())).toEqual([]);
        const names = async (only: { namespace?: string; names?: string[] }) =>
          (await store.jobSummaries(p, only)).map((s) => s.name);
        expect(await names({ namespace: 'ns1' })).toEqual(['a', 'z']);
        expect(await names({ names: ['z', 'm', 'nobody'] })).toEqual(['m', 'z']);
        expect(await names({ namespace: 'ns1', names: ['m', 'z'] })).toEqual(['z']);
        expect(await names({ names: [] })).toEqual([]);
      });

      it('gets and deletes a job by namespace and name', async () => {
        const p = await project();
        await store.applyDeploy({ upsert: [job(p, 'ns1', 'one')], delete: [], deploy: deploy(p, 'ns1') });
        expect(await store.getJob(p, 'ns2', 'one')).toBeUndefined();
        expect(await store.deleteJob(p, 'ns2', 'one')).toBe(false);
        expect(await store.deleteJob(p, 'ns1', 'one')).toBe(true);
        expect(await store.deleteJob(p, 'ns1', 'one')).toBe(false);
        expect(await store.getJob(p, 'ns1', 'one')).toBeUndefined();
      });

      it('records deploys and lists them newest first, per namespace, with a limit', async () => {
        const p = await project();
        const ids: number[] = [];
        for (const status of ['failed', 'unchanged', 'succeeded', 'unchanged'] as const) {
          const problems: Json =
            status === 'failed' ? [{ code: 'X', message: 'bad', path: 'jobs[0].name' }] : [];
          const d = await store.recordDeploy(deploy(p, 'ns1', { status, problems, unchanged: ids.length }));
          expect(d).toEqual({ ...deploy(p, 'ns1', { status, problems, unchanged: ids.length }), id: d.id });
          ids.push(d.id);
        }
        await store.recordDeploy(deploy(p, 'ns2'));
        const all = await store.listDeploys(p, 'ns1');
        expect(all.map((d) => d.id)).toEqual([...ids].reverse());
        expect(all.map((d) => d.status)).toEqual(['unchanged', 'succeeded', 'unchanged', 'failed']);
        expect((await store.listDeploys(p, 'ns1', 2)).map((d) => d.id)).toEqual([ids[3], ids[2]]);
        expect(await store.listDeploys(p, 'ns3')).toEqual([]);
      });

      it('round-trips JSON: nested values, unicode, escapes and numbers', async () => {
        const p = await project();
        const spec: Json = {
          name: 'ünïcode-job',
          nested: { deep: { deeper: [1, 2.5, -3, 9007199254740991, 1e-7, true, false, null, 'x'] } },
          empty: { object: {}, array: [] },
          text: 'emoji 😀, CJK 数据, RTL עברית, combining é, quotes "\' and \\ backslash {} [] ,',
          lines: 'a\nb\tc\r\n',
          'key with spaces': { ключ: 'значение', '': 'empty key' },
        };
        const assets = {
          'query.sql': "select * from `p.d.t` where name = 'ü' -- {{ .secret.TOKEN }}\n",
          'dir/ファイル.txt': '😀\u2028\u00a0',
        };
        const runGraph: Json = [{ name: 'h"1', stage: 'pre', depends_on: ['a,b', '数据'] }];
        const input: JobInput = {
          projectName: p,
          namespaceName: 'ns1',
          name: 'ünïcode-job',
          spec,
          assets,
          hash: 'h',
          runGraph,
        };
        await store.applyDeploy({
          upsert: [input],
          delete: [],
          deploy: deploy(p, 'ns1', { added: ['ünïcode-job'], problems: { note: 'ok ✓', list: [[]] } }),
        });
        const strip = ({ createdAt, updatedAt, ...rest }: JobRecord) => rest;
        const stored = { ...input, lineage: null, upstreams: [] };
        expect(strip((await store.getJob(p, 'ns1', 'ünïcode-job'))!)).toEqual(stored);
        expect((await store.listJobs(p, 'ns1')).map(strip)).toEqual([stored]);
        const [d] = await store.listDeploys(p, 'ns1');
        expect(d).toMatchObject({ added: ['ünïcode-job'], problems: { note: 'ok ✓', list: [[]] } });
        const proj = await store.upsertProject({
          name: p,
          config: { 'WITH "QUOTES"': 'ü 😀', EMPTY: '' },
          pluginDependencies: ['a >> b,c'],
        });
        expect(await store.getProject(p)).toEqual(proj);
        expect(proj.config).toEqual({ 'WITH "QUOTES"': 'ü 😀', EMPTY: '' });
      });

      it('round-trips a 2,000-job deploy', async () => {
        const p = await project();
        const asset = 'x'.repeat(1000);
        const upsert = Array.from({ length: 2000 }, (_, i): JobInput => {
          const name = `job-${String(i).padStart(4, '0')}`;
          return {
            ...job(p, i % 2 ? 'ns1' : 'ns2', name),
            assets: { 'query.sql': `${asset}${i}`, 'other.sql': `-- ${i}` },
          };
        });
        const names = upsert.map((j) => j.name);
        const d = await store.applyDeploy({ upsert, delete: [], deploy: deploy(p, 'ns1', { added: names }) });
        expect(d.added).toHaveLength(2000);
        const listed = [...(await store.listJobs(p, 'ns1')), ...(await store.listJobs(p, 'ns2'))];
        listed.sort((a, b) => (a.name < b.name ? -1 : 1));
        expect(listed).toHaveLength(2000);
        expect(listed.map(({ createdAt, updatedAt, ...rest }) => rest)).toEqual(
          upsert.map((j) => ({ ...j, lineage: null, upstreams: [] })),
        );
        expect((await store.jobSummaries(p)).map((s) => s.name)).toEqual(names);
      });
    });
  });
}
