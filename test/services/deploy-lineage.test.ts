import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../src/core/canonical-json.js';
import type { Plugin } from '../../src/core/plugin.js';
import { loadPluginRegistry, type PluginRegistry } from '../../src/server/plugin-registry.js';
import {
  DeployRejected,
  type DeployRequest,
  DeployStale,
  deployManifest,
  deployNamespace,
  planDeploy,
} from '../../src/services/deploy.js';
import type { InferRequest, InferResult, Inferrer } from '../../src/services/lineage-contract.js';
import { createInferrer } from '../../src/services/lineage-infer.js';
import { createSecretCipher } from '../../src/services/secret-cipher.js';
import { createStore } from '../../src/store/create-store.js';
import type { Json, ProjectRecord, Store } from '../../src/store/store.js';
import { APP_KEY, exampleJobs } from '../helpers/server.js';
import { EXAMPLE_PLUGINS } from '../helpers/temp-project.js';

let store: Store;
let registry: PluginRegistry;
let plugins: ReadonlyMap<string, Plugin>;

beforeAll(async () => {
  store = await createStore({});
  registry = await loadPluginRegistry(EXAMPLE_PLUGINS);
  plugins = registry.plugins;
});
afterAll(async () => store.close());

/**
 * An Inferrer that reads a job's lineage from its task config (DEST, READS), so these tests state
 * the lineage they mean. `version` plays the task plugin's fingerprint: bump it to "upgrade" it.
 */
function configInferrer(opts: { fail?: string[]; warn?: string[] } = {}) {
  const state = {
    version: 1,
    /** Names of the jobs of each `infer` call. */
    calls: [] as string[][],
  };
  const inferrer: Inferrer = {
    key: (r: InferRequest) =>
      contentHash({ hash: r.hash, plugin: state.version, p: r.projectConfig, n: r.namespaceConfig }),
    async infer(reqs) {
      state.calls.push(reqs.map((r) => r.spec.name));
      return reqs.map((r): InferResult => {
        const config = r.spec.task.config;
        if (opts.fail?.includes(r.spec.name))
          return {
            ok: false,
            problem: {
              severity: 'error',
              code: 'LINEAGE_FAILED',
              message: `plugin python-script failed for job ${r.namespaceName}/${r.spec.name}: it crashed`,
              path: 'task',
              hint: 'see the server log',
            },
          };
        return {
          ok: true,
          lineage: {
            key: inferrer.key(r),
            destination: config.DEST || null,
            sources: (config.READS ?? '').split(',').filter(Boolean).sort(),
            warnings: opts.warn?.includes(r.spec.name) ? ['statement 2 could not be parsed'] : [],
          },
        };
      });
    },
    close: async () => {},
  };
  return Object.assign(state, { inferrer });
}

let counter = 0;
async function project(windowPresets: Record<string, Json> | null = null): Promise<ProjectRecord> {
  const name = `lp${++counter}`;
  const p = await store.upsertProject({ name, config: {}, pluginDependencies: [], windowPresets });
  for (const ns of ['marketing', 'finance'])
    await store.upsertNamespace({ projectName: name, name: ns, config: {} });
  return p;
}

/** A valid job whose lineage the config inferrer reads from DEST and READS. */
function job(
  name: string,
  lineage: { writes?: string; reads?: string[] } = {},
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    version: 3,
    name,
    owner: 'data@acme.example',
    schedule: { start_date: '2026-01-01', interval: '0 3 * * *' },
    task: {
      name: 'python-script',
      config: { ENTRY: 'main.py', DEST: lineage.writes ?? '', READS: (lineage.reads ?? []).join(',') },
      window: { size: '1d' },
    },
    assets: { 'main.py': `print("${name}")\n` },
    ...extra,
  };
}

const hashOf = (j: Record<string, unknown>) => {
  const { assets, ...spec } = j;
  return contentHash({ spec, assets });
};

async function rejected(f: Promise<unknown>): Promise<DeployRejected> {
  try {
    await f;
  } catch (e) {
    if (e instanceof DeployRejected) return e;
    throw e;
  }
  throw new Error('the deploy was accepted');
}

const upstreamsOf = async (p: string, ns: string, name: string) =>
  (await store.getJob(p, ns, name))!.upstreams.map(
    (e) => `${e.project}/${e.job} ${e.kind} ${e.via.join(',')}`,
  );

describe('deploying with inference', () => {
  it('infers the example project’s upstreams with the real inferrer and the declarative plugin', async () => {
    // The example's presets file: campaign-performance's window is the preset "yesterday".
    const p = await project({ yesterday: { window: { size: '1d', shift_by: '-1d', truncate_to: 'd' } } });
    const real = createInferrer({ plugins: registry, store, cipher: createSecretCipher(APP_KEY) });
    const batches: number[] = [];
    const counting: Inferrer = {
      ...real,
      key: (r) => real.key(r),
      infer: (reqs, o) => {
        batches.push(reqs.length);
        return real.infer(reqs, o);
      },
    };
    try {
      const deps = { store, plugins, inferrer: counting };
      const finance = exampleJobs('finance');
      await deployNamespace(deps, { project: p, namespace: 'marketing', jobs: exampleJobs('marketing') });
      await deployNamespace(deps, { project: p, namespace: 'finance', jobs: finance });
      expect(batches).toEqual([2, finance.length]);
      const roi = (await store.getJob(p.name, 'finance', 'marketing-roi'))!;
      expect(roi.lineage).toMatchObject({
        destination: 'bigquery://acme-dw:finance.marketing_roi',
        sources: [
          'bigquery://acme-dw:finance.revenue_daily',
          'bigquery://acme-dw:marketing.campaign_performance',
        ],
      });
      expect(roi.upstreams).toEqual([
        {
          project: p.name,
          namespace: 'marketing',
          job: 'campaign-performance',
          kind: 'inferred',
          via: ['bigquery://acme-dw:marketing.campaign_performance'],
        },
        {
          project: p.name,
          namespace: 'finance',
          job: 'revenue-daily',
          kind: 'inferred',
          via: ['bigquery://acme-dw:finance.revenue_daily'],
        },
      ]);
      const again = await deployNamespace(deps, { project: p, namespace: 'finance', jobs: finance });
      expect(again.deploy.status).toBe('unchanged');
      const kept = await deployNamespace(deps, {
        project: p,
        namespace: 'finance',
        jobs: [],
        keep: finance.map((j) => ({ name: String(j.name), hash: hashOf(j) })),
      });
      expect(kept.deploy).toMatchObject({ status: 'unchanged', unchanged: finance.length });
      expect(batches).toHaveLength(2);
    } finally {
      await real.close();
    }
  });

  it('infers only jobs whose content or lineage key changed', async () => {
    const p = await project();
    const f = configInferrer();
    const deps = { store, plugins, inferrer: f.inferrer };
    const jobs = [
      job('raw', { writes: 'bq://p:raw.t' }),
      job('clean', { writes: 'bq://p:clean.t', reads: ['bq://p:raw.t'] }),
      job('report', { reads: ['bq://p:clean.t', 'bq://p:ext.t'] }),
    ];
    const req: DeployRequest = { project: p, namespace: 'marketing', jobs };
    await deployNamespace(deps, req);
    expect(f.calls).toEqual([['raw', 'clean', 'report']]);
    expect((await store.getJob(p.name, 'marketing', 'report'))!.lineage).toMatchObject({
      destination: null,
      sources: ['bq://p:clean.t', 'bq://p:ext.t'],
    });
    expect(await upstreamsOf(p.name, 'marketing', 'report')).toEqual([
      `${p.name}/clean inferred bq://p:clean.t`,
    ]);

    const again = await deployNamespace(deps, req);
    expect(again.deploy.status).toBe('unchanged');
    expect(f.calls).toHaveLength(1);

    const changed = [jobs[0]!, job('clean', { writes: 'bq://p:clean.t', reads: [] }), jobs[2]!];
    const one = await deployNamespace(deps, { ...req, jobs: changed });
    expect(f.calls[1]).toEqual(['clean']);
    expect(one.deploy.modified).toEqual(['clean']);
    expect(await upstreamsOf(p.name, 'marketing', 'clean')).toEqual([]);

    // The plugin was upgraded: every job's lineage key changed, the content did not.
    f.version = 2;
    const relineaged = await deployNamespace(deps, { ...req, jobs: changed });
    expect(f.calls[2]).toEqual(['raw', 'clean', 'report']);
    expect(relineaged.relineaged).toEqual(['clean', 'raw', 'report']);
    expect(relineaged.deploy).toMatchObject({ added: [], modified: [], deleted: [], unchanged: 3 });
  });

  it('resolves upstreams across namespaces and projects, inferred and static', async () => {
    const a = await project();
    const b = await project();
    const f = configInferrer();
    const deps = { store, plugins, inferrer: f.inferrer };
    await deployNamespace(deps, {
      project: a,
      namespace: 'marketing',
      jobs: [job('spend', { writes: 'bq://p:mkt.spend' })],
    });
    await deployNamespace(deps, {
      project: a,
      namespace: 'finance',
      jobs: [job('roi', { reads: ['bq://p:mkt.spend'] }, { dependencies: [{ job: 'spend' }] })],
    });
    await deployNamespace(deps, {
      project: b,
      namespace: 'finance',
      jobs: [
        job('forecast', { reads: ['bq://p:mkt.spend'] }),
        job('audit', {}, { dependencies: [{ job: `${a.name}/roi` }] }),
      ],
    });
    expect(await upstreamsOf(a.name, 'finance', 'roi')).toEqual([
      `${a.name}/spend static dependencies[0],bq://p:mkt.spend`,
    ]);
    expect(await upstreamsOf(b.name, 'finance', 'forecast')).toEqual([
      `${a.name}/spend inferred bq://p:mkt.spend`,
    ]);
    expect(await upstreamsOf(b.name, 'finance', 'audit')).toEqual([`${a.name}/roi static dependencies[0]`]);
  });

  it('refuses a deploy that closes a cycle, naming every job on it, and changes nothing', async () => {
    const p = await project();
    const f = configInferrer();
    const deps = { store, plugins, inferrer: f.inferrer };
    await deployNamespace(deps, {
      project: p,
      namespace: 'marketing',
      jobs: [
        job('a', { writes: 'bq://p:x.a', reads: ['bq://p:x.c'] }),
        job('b', { writes: 'bq://p:x.b', reads: ['bq://p:x.a'] }),
      ],
    });
    const e = await rejected(
      deployNamespace(deps, {
        project: p,
        namespace: 'finance',
        jobs: [job('c', { writes: 'bq://p:x.c', reads: ['bq://p:x.b'] })],
      }),
    );
    expect(e.code).toBe('DEPLOY_CYCLE');
    for (const name of ['a', 'b', 'c']) expect(e.message).toContain(`${p.name}/${name}`);
    expect(e.problems).toEqual([
      expect.objectContaining({ code: 'JOB_CYCLE', path: 'jobs[0]', severity: 'error' }),
    ]);
    expect(await store.getJob(p.name, 'finance', 'c')).toBeUndefined();
    expect(await upstreamsOf(p.name, 'marketing', 'a')).toEqual([]);
    const [last] = await store.listDeploys(p.name, 'finance', 1);
    expect(last).toMatchObject({ id: e.deployId, status: 'failed' });
  });

  it('rejects the deploy when one job’s inference fails, naming the job and plugin', async () => {
    const p = await project();
    const f = configInferrer({ fail: ['broken'] });
    const e = await rejected(
      deployNamespace(
        { store, plugins, inferrer: f.inferrer },
        { project: p, namespace: 'marketing', jobs: [job('fine'), job('broken')] },
      ),
    );
    expect(e.code).toBe('DEPLOY_INVALID');
    expect(e.message).toContain('1 problem(s) in 1 of 2 job(s)');
    expect(e.problems).toEqual([
      expect.objectContaining({
        code: 'LINEAGE_FAILED',
        path: 'jobs[1].task',
        message: expect.stringContaining('plugin python-script failed for job marketing/broken'),
      }),
    ]);
    expect(await store.listJobs(p.name, 'marketing')).toEqual([]);
  });

  it('turns lineage warnings and unresolved dependencies into warnings on the job', async () => {
    const p = await project();
    const f = configInferrer({ warn: ['lossy'] });
    const { warnings, deploy } = await deployNamespace(
      { store, plugins, inferrer: f.inferrer },
      {
        project: p,
        namespace: 'marketing',
        jobs: [job('fine'), job('lossy', {}, { dependencies: [{ job: 'fine' }, { job: 'ghost' }] })],
      },
    );
    expect(deploy.status).toBe('succeeded');
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          code: 'LINEAGE_WARNING',
          path: 'jobs[1]',
          message: 'job "lossy": statement 2 could not be parsed',
        }),
        expect.objectContaining({
          code: 'DEPENDENCY_UNRESOLVED',
          path: 'jobs[1].dependencies[1]',
          message: 'dependencies[1]: job ghost is not deployed; runs will not wait for it',
        }),
      ]),
    );
    expect(warnings.filter((w) => w.code === 'DEPENDENCY_UNRESOLVED')).toHaveLength(1);
  });
});

describe('the keep (manifest) protocol', () => {
  it('keeps unsent jobs whose hash matches, and answers what a manifest must send', async () => {
    const p = await project();
    const f = configInferrer();
    const deps = { store, plugins, inferrer: f.inferrer };
    const jobs = [
      job('one', { writes: 'bq://p:k.one' }),
      job('two', { reads: ['bq://p:k.one'] }),
      job('three'),
    ];
    await deployNamespace(deps, { project: p, namespace: 'marketing', jobs });

    const changedTwo = job('two', { reads: [] });
    const manifest = [
      { name: 'one', hash: hashOf(jobs[0]!) },
      { name: 'two', hash: hashOf(changedTwo) },
      { name: 'four', hash: hashOf(job('four')) },
    ];
    expect(await deployManifest(store, p.name, 'marketing', manifest)).toEqual({
      send: ['four', 'two'],
      unchanged: ['one'],
      deleted: ['three'],
    });

    const { deploy } = await deployNamespace(deps, {
      project: p,
      namespace: 'marketing',
      jobs: [changedTwo],
      keep: [
        { name: 'one', hash: hashOf(jobs[0]!) },
        { name: 'three', hash: hashOf(jobs[2]!) },
      ],
    });
    expect(deploy).toMatchObject({ status: 'succeeded', modified: ['two'], deleted: [], unchanged: 2 });
    expect(f.calls.at(-1)).toEqual(['two']);
    expect((await store.listJobs(p.name, 'marketing')).map((j) => j.name).sort()).toEqual([
      'one',
      'three',
      'two',
    ]);
  });

  it('refuses a stale keep with 409-class DEPLOY_STALE naming the jobs, changing nothing', async () => {
    const p = await project();
    const deps = { store, plugins, inferrer: configInferrer().inferrer };
    await deployNamespace(deps, { project: p, namespace: 'marketing', jobs: [job('one'), job('two')] });
    const before = await store.listDeploys(p.name, 'marketing');
    let stale: unknown;
    try {
      await deployNamespace(deps, {
        project: p,
        namespace: 'marketing',
        jobs: [],
        keep: [
          { name: 'two', hash: hashOf(job('two', { writes: 'bq://p:other' })) },
          { name: 'one', hash: hashOf(job('one')) },
          { name: 'gone', hash: hashOf(job('gone')) },
        ],
      });
    } catch (e) {
      stale = e;
    }
    expect(stale).toBeInstanceOf(DeployStale);
    expect(stale).toMatchObject({ code: 'DEPLOY_STALE', category: 'conflict', names: ['gone', 'two'] });
    expect(await store.listDeploys(p.name, 'marketing')).toEqual(before);
  });

  it('re-infers a kept job whose lineage key changed, from its stored content', async () => {
    const p = await project();
    const f = configInferrer();
    const deps = { store, plugins, inferrer: f.inferrer };
    const one = job('one', { writes: 'bq://p:r.one' });
    await deployNamespace(deps, { project: p, namespace: 'marketing', jobs: [one] });
    f.version = 2;
    const out = await deployNamespace(deps, {
      project: p,
      namespace: 'marketing',
      jobs: [],
      keep: [{ name: 'one', hash: hashOf(one) }],
    });
    expect(f.calls.at(-1)).toEqual(['one']);
    expect(out.relineaged).toEqual(['one']);
    expect(out.deploy).toMatchObject({ unchanged: 1, deleted: [] });
    expect((await store.getJob(p.name, 'marketing', 'one'))!.lineage!.key).toBe(
      f.inferrer.key({
        projectName: p.name,
        namespaceName: 'marketing',
        spec: {} as never,
        assets: {},
        hash: hashOf(one),
        projectConfig: {},
        namespaceConfig: {},
      }),
    );
  });
});

describe('planning a deploy', () => {
  it('reports field changes, deletions and upstream changes, and writes nothing', async () => {
    const p = await project();
    const f = configInferrer();
    const deps = { store, plugins, inferrer: f.inferrer };
    await deployNamespace(deps, {
      project: p,
      namespace: 'marketing',
      jobs: [job('src', { writes: 'bq://p:pl.src' }), job('old')],
    });
    await deployNamespace(deps, {
      project: p,
      namespace: 'finance',
      jobs: [job('reader', { reads: ['bq://p:pl.src'] })],
    });
    const deploys = await store.listDeploys(p.name, 'marketing');
    const stored = await store.listJobs(p.name, 'marketing');

    const changed = job('src', { writes: 'bq://p:pl.moved' });
    (changed.assets as Record<string, string>)['extra.sql'] = 'select 1';
    const { plan, warnings } = await planDeploy(deps, {
      project: p,
      namespace: 'marketing',
      jobs: [changed, job('new', { reads: ['bq://p:pl.moved'] })],
    });
    expect(warnings).toEqual([]);
    expect(plan).toMatchObject({ added: ['new'], deleted: ['old'], unchanged: 0 });
    expect(plan.modified).toEqual([
      {
        name: 'src',
        changes: [
          { path: 'task.config.DEST', before: 'bq://p:pl.src', after: 'bq://p:pl.moved' },
          { path: 'assets.extra.sql', change: 'added' },
        ],
      },
    ]);
    expect(plan.upstreams).toEqual([
      {
        project: p.name,
        job: 'new',
        added: [
          { project: p.name, namespace: 'marketing', job: 'src', kind: 'inferred', via: ['bq://p:pl.moved'] },
        ],
        removed: [],
        changed: [],
      },
      {
        project: p.name,
        job: 'reader',
        added: [],
        removed: [
          { project: p.name, namespace: 'marketing', job: 'src', kind: 'inferred', via: ['bq://p:pl.src'] },
        ],
        changed: [],
      },
    ]);
    expect(plan.cycles).toBeUndefined();
    expect(await store.listDeploys(p.name, 'marketing')).toEqual(deploys);
    expect(await store.listJobs(p.name, 'marketing')).toEqual(stored);
  });

  it('reports the cycles a deploy would be refused for', async () => {
    const p = await project();
    const deps = { store, plugins, inferrer: configInferrer().inferrer };
    await deployNamespace(deps, {
      project: p,
      namespace: 'marketing',
      jobs: [job('a', { writes: 'bq://p:c.a', reads: ['bq://p:c.b'] })],
    });
    const { plan } = await planDeploy(deps, {
      project: p,
      namespace: 'finance',
      jobs: [job('b', { writes: 'bq://p:c.b', reads: ['bq://p:c.a'] })],
    });
    expect(plan.cycles).toEqual([[`${p.name}/a`, `${p.name}/b`, `${p.name}/a`]]);
    expect(await store.listJobs(p.name, 'finance')).toEqual([]);
  });

  it('answers invalid input with the deploy’s problems and records no deploy', async () => {
    const p = await project();
    const e = await rejected(
      planDeploy(
        { store, plugins, inferrer: configInferrer().inferrer },
        { project: p, namespace: 'marketing', jobs: [{ name: 'x', task: { name: 'nope' } }] },
      ),
    );
    expect(e.code).toBe('DEPLOY_INVALID');
    expect(e.deployId).toBeUndefined();
    expect(await store.listDeploys(p.name, 'marketing')).toEqual([]);
  });
});
