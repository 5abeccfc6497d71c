import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plugin } from '../../src/core/plugin.js';
import { loadPluginRegistry } from '../../src/server/plugin-registry.js';
import {
  createValidatedJobs,
  DeployRejected,
  deployNamespace,
  validationFingerprint,
} from '../../src/services/deploy.js';
import { createStore } from '../../src/store/create-store.js';
import type { Json, ProjectRecord, Store } from '../../src/store/store.js';
import { exampleJobs } from '../helpers/server.js';
import { EXAMPLE_PLUGINS } from '../helpers/temp-project.js';

const RULES = ['audit-output >> notify-team,publish', 'check-source >> audit-input'];
let store: Store;
let plugins: ReadonlyMap<string, Plugin>;
let marketing: Record<string, unknown>[];
let finance: Record<string, unknown>[];

beforeAll(async () => {
  store = await createStore({});
  plugins = (await loadPluginRegistry(EXAMPLE_PLUGINS)).plugins;
  marketing = exampleJobs('marketing');
  finance = exampleJobs('finance');
});
afterAll(async () => store.close());

let counter = 0;
/** A fresh project with the example's namespaces, so tests do not see each other's jobs. */
async function project(
  opts: { rules?: string[]; presets?: Record<string, Json> | null } = {},
): Promise<ProjectRecord> {
  const name = `p${++counter}`;
  const p = await store.upsertProject({
    name,
    config: {},
    pluginDependencies: opts.rules ?? RULES,
    windowPresets: opts.presets ?? null,
  });
  for (const ns of ['marketing', 'finance'])
    await store.upsertNamespace({ projectName: name, name: ns, config: {} });
  return p;
}

const job = (name: string) => marketing.find((j) => j.name === name)!;
const names = async (p: ProjectRecord, ns = 'marketing') =>
  (await store.listJobs(p.name, ns)).map((j) => j.name).sort();

async function rejected(f: Promise<unknown>): Promise<DeployRejected> {
  try {
    await f;
  } catch (e) {
    if (e instanceof DeployRejected) return e;
    throw e;
  }
  throw new Error('the deploy was accepted');
}

describe('deploying a namespace', () => {
  it('adds every job, sorted, with its spec, assets, hash and run graph', async () => {
    const p = await project();
    const { deploy, warnings } = await deployNamespace(
      { store, plugins },
      { project: p, namespace: 'marketing', jobs: [...marketing].reverse() },
    );
    expect(deploy).toMatchObject({
      status: 'succeeded',
      added: ['attribution', 'campaign-performance'],
      modified: [],
      deleted: [],
      unchanged: 0,
      problems: [],
      projectName: p.name,
      namespaceName: 'marketing',
    });
    const stored = await store.getJob(p.name, 'marketing', 'campaign-performance');
    expect(stored!.assets['query.sql']).toContain('ad_clicks');
    expect((stored!.spec as { owner: string }).owner).toBe(job('campaign-performance').owner);
    expect(stored!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect((stored!.runGraph as { name: string; stage: string; depends_on: string[] }[])[1]).toEqual({
      name: 'audit-input',
      type: 'data-audit',
      stage: 'pre',
      depends_on: ['check-source'],
      edges: [
        {
          from: 'check-source',
          to: 'audit-input',
          origin: 'rule',
          rule: 1,
          detail: 'project rule 1 "check-source >> audit-input": audit-input after check-source',
        },
      ],
    });
    expect(warnings.every((w) => w.severity === 'warning')).toBe(true);
  });

  it('applies a deploy that only deletes jobs', async () => {
    const p = await project();
    await deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs: marketing });
    const { deploy } = await deployNamespace(
      { store, plugins },
      { project: p, namespace: 'marketing', jobs: [job('attribution')] },
    );
    expect(deploy).toMatchObject({
      status: 'succeeded',
      deleted: ['campaign-performance'],
      unchanged: 1,
      added: [],
    });
    expect(await names(p)).toEqual(['attribution']);
    const all = await deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs: [] });
    expect(all.deploy).toMatchObject({ status: 'succeeded', deleted: ['attribution'], unchanged: 0 });
    expect(await names(p)).toEqual([]);
  });

  it('writes nothing on an unchanged re-deploy, and records it as unchanged', async () => {
    const p = await project();
    await deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs: marketing });
    const before = await store.getJob(p.name, 'marketing', 'attribution');
    const { deploy } = await deployNamespace(
      { store, plugins },
      { project: p, namespace: 'marketing', jobs: marketing },
    );
    expect(deploy).toMatchObject({ status: 'unchanged', unchanged: 2, added: [], modified: [], deleted: [] });
    expect((await store.getJob(p.name, 'marketing', 'attribution'))!.updatedAt).toEqual(before!.updatedAt);
    expect((await store.listDeploys(p.name, 'marketing', 1))[0]!.status).toBe('unchanged');
  });

  it('reports added and modified jobs separately, each sorted', async () => {
    const p = await project();
    await deployNamespace(
      { store, plugins },
      { project: p, namespace: 'marketing', jobs: [job('campaign-performance')] },
    );
    const changed = { ...job('campaign-performance'), description: 'changed' };
    const { deploy } = await deployNamespace(
      { store, plugins },
      { project: p, namespace: 'marketing', jobs: [changed, job('attribution')] },
    );
    expect(deploy).toMatchObject({
      added: ['attribution'],
      modified: ['campaign-performance'],
      unchanged: 0,
    });
    expect(
      ((await store.getJob(p.name, 'marketing', 'campaign-performance'))!.spec as { description: string })
        .description,
    ).toBe('changed');
    const two = [
      { ...changed, description: 'a' },
      { ...job('attribution'), description: 'z' },
    ];
    const again = await deployNamespace(
      { store, plugins },
      { project: p, namespace: 'marketing', jobs: two },
    );
    expect(again.deploy.modified).toEqual(['attribution', 'campaign-performance']);
    const added = await deployNamespace(
      { store, plugins },
      { project: p, namespace: 'finance', jobs: [...finance].reverse() },
    );
    expect(added.deploy.added).toEqual([...finance.map((j) => String(j.name))].sort());
  });

  it('rejects a deploy with an invalid job, changing nothing and recording the failure', async () => {
    const p = await project();
    await deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs: marketing });
    const bad = [
      { ...job('attribution'), owner: undefined, description: 'would change' },
      job('campaign-performance'),
    ];
    const err = await rejected(
      deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs: bad }),
    );
    expect(err.code).toBe('DEPLOY_INVALID');
    expect(err.message).toBe('deploy rejected: 1 problem(s) in 1 of 2 job(s); nothing was changed');
    expect(err.problems.filter((x) => x.severity === 'error').map((x) => x.path)).toEqual(['jobs[0].owner']);
    expect(err.hint).toContain('optimus job validate');
    expect(
      ((await store.getJob(p.name, 'marketing', 'attribution'))!.spec as { description?: string })
        .description,
    ).not.toBe('would change');
    const [last] = await store.listDeploys(p.name, 'marketing', 1);
    expect(last).toMatchObject({ id: err.deployId, status: 'failed', added: [], deleted: [] });
    expect((last!.problems as { path: string }[]).map((x) => x.path)).toEqual(['jobs[0].owner']);
  });

  it('counts problems and the jobs they are in', async () => {
    const p = await project();
    const bad = [
      { ...job('attribution'), owner: undefined, schedule: undefined },
      job('campaign-performance'),
      42,
    ];
    const err = await rejected(
      deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs: bad }),
    );
    expect(err.message).toMatch(
      /^deploy rejected: \d+ problem\(s\) in 2 of 3 job\(s\); nothing was changed$/,
    );
    expect(err.problems).toContainEqual(expect.objectContaining({ path: 'jobs[2]', code: 'JOB_INVALID' }));
    expect(await names(p)).toEqual([]);
  });

  it('refuses a job name twice in one deploy, pointing at the first', async () => {
    const p = await project();
    const err = await rejected(
      deployNamespace(
        { store, plugins },
        {
          project: p,
          namespace: 'marketing',
          jobs: [job('attribution'), job('campaign-performance'), job('attribution')],
        },
      ),
    );
    expect(err.problems.filter((x) => x.severity === 'error')).toStrictEqual([
      {
        severity: 'error',
        code: 'JOB_DUPLICATE',
        path: 'jobs[2].name',
        message: 'job "attribution" is also jobs[0] of this deploy',
      },
    ]);
  });

  it('refuses a job name another namespace of the project holds, saying which', async () => {
    const p = await project();
    await deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs: marketing });
    const err = await rejected(
      deployNamespace(
        { store, plugins },
        { project: p, namespace: 'finance', jobs: [...finance, job('attribution')] },
      ),
    );
    expect(err.problems.filter((x) => x.severity === 'error')).toEqual([
      expect.objectContaining({
        code: 'JOB_NAME_TAKEN',
        path: `jobs[${finance.length}].name`,
        message: 'job "attribution" already exists in namespace "marketing" of this project',
        hint: expect.stringContaining('unique per project'),
      }),
    ]);
    expect(await names(p, 'finance')).toEqual([]);
    // The same name in the same namespace is that job, not a clash.
    expect(
      (await deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs: marketing }))
        .deploy.status,
    ).toBe('unchanged');
  });

  it('warns about secrets the namespace cannot see, once per secret and job', async () => {
    const p = await project();
    const missing = (w: { code: string; message: string }[]) =>
      w
        .filter((x) => x.code === 'SECRET_MISSING')
        .map((x) => x.message.replace(/^job "([^"]+)" uses secret (\w+).*/, '$1:$2'));
    const first = await deployNamespace(
      { store, plugins },
      { project: p, namespace: 'marketing', jobs: marketing },
    );
    const all = missing(first.warnings);
    expect(all.length).toBeGreaterThan(0);
    expect(new Set(all).size).toBe(all.length);
    expect(first.warnings.find((w) => w.code === 'SECRET_MISSING')).toMatchObject({
      path: expect.stringMatching(/^jobs\[\d\]$/),
      hint: expect.stringContaining('optimus secret set'),
    });
    const [jobName, secret] = all[0]!.split(':') as [string, string];
    const cipher = { ciphertext: 'x', digest: 'd' };
    await store.insertSecret({ projectName: p.name, name: secret, namespaceName: 'finance', ...cipher });
    const elsewhere = missing(
      (await deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs: marketing }))
        .warnings,
    );
    expect(elsewhere).toContain(`${jobName}:${secret}`);
    await store.deleteSecret(p.name, secret, 'finance');
    await store.insertSecret({ projectName: p.name, name: secret, namespaceName: null, ...cipher });
    const visible = missing(
      (await deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs: marketing }))
        .warnings,
    );
    expect(visible).not.toContain(`${jobName}:${secret}`);
    expect(visible.length).toBe(all.filter((x) => !x.endsWith(`:${secret}`)).length);
  });

  it('checks presets when the project sent them, and not when it did not', async () => {
    const withPreset = (preset: string) => ({
      ...job('campaign-performance'),
      task: { ...(job('campaign-performance').task as object), window: { preset } },
    });
    const open = await project({ presets: null });
    expect(
      (
        await deployNamespace(
          { store, plugins },
          { project: open, namespace: 'marketing', jobs: [withPreset('any')] },
        )
      ).deploy.status,
    ).toBe('succeeded');
    const strict = await project({ presets: { Yesterday: { window: { size: '1d' } } } });
    expect(
      (
        await deployNamespace(
          { store, plugins },
          { project: strict, namespace: 'marketing', jobs: [withPreset('@yesterday')] },
        )
      ).deploy.status,
    ).toBe('succeeded');
    const err = await rejected(
      deployNamespace(
        { store, plugins },
        { project: strict, namespace: 'marketing', jobs: [withPreset('last_week')] },
      ),
    );
    expect(err.problems.filter((x) => x.severity === 'error')).toEqual([
      expect.objectContaining({
        path: 'jobs[0].task.window.preset',
        message: expect.stringContaining('known presets: yesterday'),
      }),
    ]);
    const none = await project({ presets: {} });
    const noneErr = await rejected(
      deployNamespace(
        { store, plugins },
        { project: none, namespace: 'marketing', jobs: [withPreset('yesterday')] },
      ),
    );
    expect(noneErr.problems[0]!.message).toContain('defines no presets');
  });

  it('refuses asset names that leave assets/, without hiding the job’s other problems', async () => {
    const p = await project();
    const bad = { ...job('attribution'), owner: undefined, assets: { '%2e%2e': 'x', 'main.py': 'ok' } };
    const err = await rejected(
      deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs: [bad] }),
    );
    expect(err.problems.map((x) => `${x.code} ${x.path}`)).toEqual(
      expect.arrayContaining([
        'ASSET_NAME_INVALID jobs[0].assets["%2e%2e"]',
        'JOB_FIELD_MISSING jobs[0].owner',
      ]),
    );
    expect(err.problems.find((x) => x.code === 'ASSET_NAME_INVALID')).toMatchObject({
      message: 'asset "%2e%2e": asset paths must not have a "." or ".." segment',
      hint: expect.stringContaining('assets/'),
    });
    const onlyAsset = { ...job('attribution'), assets: { '..': 'x' } };
    const err2 = await rejected(
      deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs: [onlyAsset] }),
    );
    expect(err2.problems.filter((x) => x.severity === 'error').map((x) => x.code)).toEqual([
      'ASSET_NAME_INVALID',
    ]);
    expect(await names(p)).toEqual([]);
  });

  it('deploys jobs without assets, or with none given', async () => {
    const p = await project();
    const { assets: _assets, ...bare } = job('attribution');
    const jobs = [bare, { ...job('campaign-performance'), assets: null }];
    const { deploy } = await deployNamespace(
      { store, plugins },
      { project: p, namespace: 'marketing', jobs },
    );
    expect(deploy.added).toEqual(['attribution', 'campaign-performance']);
    expect((await store.getJob(p.name, 'marketing', 'attribution'))!.assets).toEqual({});
  });

  it('refuses jobs that are not objects', async () => {
    const p = await project();
    const jobs = [null, [], 'job', job('attribution')];
    const err = await rejected(
      deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs }),
    );
    expect(err.problems.filter((x) => x.severity === 'error').map((x) => `${x.code} ${x.path}`)).toEqual([
      'JOB_INVALID jobs[0]',
      'JOB_INVALID jobs[1]',
      'JOB_INVALID jobs[2]',
    ]);
    expect(err.message).toBe('deploy rejected: 3 problem(s) in 3 of 4 job(s); nothing was changed');
  });

  it('keeps the first 1000 problems of a failed deploy in the history', async () => {
    const p = await project();
    const jobs = Array(1001).fill(7);
    const err = await rejected(
      deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs }),
    );
    expect(err.problems).toHaveLength(1001);
    const [last] = await store.listDeploys(p.name, 'marketing', 1);
    expect((last!.problems as unknown[]).length).toBe(1000);
  });
});

describe('what a deploy changes', () => {
  it('sees a change to an asset alone as a modified job', async () => {
    const p = await project();
    await deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs: marketing });
    const edited = marketing.map((j) =>
      j.name === 'attribution' ? { ...j, assets: { 'main.py': 'print("edited")\n' } } : j,
    );
    const { deploy } = await deployNamespace(
      { store, plugins },
      { project: p, namespace: 'marketing', jobs: edited },
    );
    expect(deploy).toMatchObject({ status: 'succeeded', modified: ['attribution'], unchanged: 1 });
    expect((await store.getJob(p.name, 'marketing', 'attribution'))!.assets).toEqual({
      'main.py': 'print("edited")\n',
    });
  });

  it('leaves the jobs of other namespaces alone, and does not list them as deleted', async () => {
    const p = await project();
    await deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs: marketing });
    const { deploy } = await deployNamespace(
      { store, plugins },
      { project: p, namespace: 'finance', jobs: finance },
    );
    expect(deploy.deleted).toEqual([]);
    expect(deploy.added).toHaveLength(finance.length);
    const again = await deployNamespace(
      { store, plugins },
      { project: p, namespace: 'finance', jobs: finance },
    );
    expect(again.deploy).toMatchObject({ status: 'unchanged', deleted: [] });
    expect(await names(p)).toEqual(['attribution', 'campaign-performance']);
  });

  it('still checks the other assets of a job with a refused asset name', async () => {
    const p = await project();
    const bad = { ...job('attribution'), assets: { '..': 'x', 'main.py': 42 } };
    const err = await rejected(
      deployNamespace({ store, plugins }, { project: p, namespace: 'marketing', jobs: [bad] }),
    );
    expect(err.problems.filter((x) => x.severity === 'error').map((x) => `${x.code} ${x.path}`)).toEqual([
      'ASSET_NAME_INVALID jobs[0].assets[".."]',
      'JOB_INVALID jobs[0].assets["main.py"]',
    ]);
  });
});

describe('content already validated', () => {
  it('is not validated again under the same plugins and rules, yet still warns about secrets', async () => {
    const p = await project();
    const validated = createValidatedJobs();
    const first = await deployNamespace(
      { store, plugins, validated },
      { project: p, namespace: 'marketing', jobs: marketing },
    );
    // Same content in a fresh project: served from the cache, with the same run graphs and warnings.
    const q = await project();
    const second = await deployNamespace(
      { store, plugins, validated },
      { project: q, namespace: 'marketing', jobs: marketing },
    );
    expect(second.deploy.added).toEqual(first.deploy.added);
    expect(second.warnings.map((w) => w.message)).toEqual(first.warnings.map((w) => w.message));
    const a = await store.getJob(p.name, 'marketing', 'campaign-performance');
    const b = await store.getJob(q.name, 'marketing', 'campaign-performance');
    expect(b!.runGraph).toEqual(a!.runGraph);
    expect(b!.hash).toBe(a!.hash);
  });

  it('is validated again when a plugin disappears or the rules change', async () => {
    const validated = createValidatedJobs();
    const p = await project();
    await deployNamespace(
      { store, plugins, validated },
      { project: p, namespace: 'marketing', jobs: marketing },
    );
    const fewer = new Map(plugins);
    fewer.delete('warehouse-load');
    const q = await project();
    const err = await rejected(
      deployNamespace(
        { store, plugins: fewer, validated },
        { project: q, namespace: 'marketing', jobs: marketing },
      ),
    );
    expect(err.problems.map((x) => x.code)).toContain('PLUGIN_UNKNOWN');
    const cyclic = await project({ rules: [...RULES, 'notify-team >> check-source'] });
    const err2 = await rejected(
      deployNamespace(
        { store, plugins, validated },
        { project: cyclic, namespace: 'marketing', jobs: marketing },
      ),
    );
    expect(err2.problems.map((x) => x.code)).toContain('HOOK_CYCLE');
  });

  it('never caches an invalid job', async () => {
    const validated = createValidatedJobs();
    const p = await project();
    // Loads as a spec (so it has a run graph) but its hook depends on a hook it does not have.
    const cp = job('campaign-performance');
    const hooks = [...(cp.hooks as Record<string, unknown>[])];
    hooks[0] = { ...hooks[0], depends_on: ['ghost'] };
    const bad = [{ ...cp, hooks }];
    await rejected(
      deployNamespace({ store, plugins, validated }, { project: p, namespace: 'marketing', jobs: bad }),
    );
    await rejected(
      deployNamespace({ store, plugins, validated }, { project: p, namespace: 'marketing', jobs: bad }),
    );
  });

  it('keeps at most the given number of entries, dropping the oldest first', () => {
    const v = createValidatedJobs(2);
    v.set('f', 'a', 1);
    v.set('f', 'b', 2);
    v.set('f', 'a', 11);
    v.set('f', 'c', 3);
    expect([v.get('f', 'a'), v.get('f', 'b'), v.get('f', 'c')]).toEqual([11, undefined, 3]);
    expect(v.get('g', 'a')).toBeUndefined();
  });

  it('has a fingerprint that follows plugin specs, rules and presets, not plugin order or files', () => {
    const base = validationFingerprint(plugins, RULES);
    expect(validationFingerprint(new Map([...plugins].reverse()), RULES)).toBe(base);
    const moved = new Map(
      [...plugins].map(([k, v]) => [k, { ...v, source: `/elsewhere/${k}.yaml` } as Plugin]),
    );
    expect(validationFingerprint(moved, RULES)).toBe(base);
    expect(validationFingerprint(plugins, [...RULES, 'a >> b'])).not.toBe(base);
    expect(validationFingerprint(plugins, RULES, {})).not.toBe(base);
    expect(validationFingerprint(plugins, RULES, { y: {} })).not.toBe(
      validationFingerprint(plugins, RULES, {}),
    );
    const changed = new Map(plugins);
    changed.set('slack-notify', { ...plugins.get('slack-notify')!, description: 'other' });
    expect(validationFingerprint(changed, RULES)).not.toBe(base);
  });
});
