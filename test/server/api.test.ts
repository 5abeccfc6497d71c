import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleJobs, registerExample, type TestServer, testServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await testServer();
  await registerExample(s.app);
});
afterAll(async () => s.close());

const get = (url: string) => s.app.inject({ method: 'GET', url });
const send = (method: 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
  s.app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
const P = '/api/v1beta1/project/acme-analytics';

describe('plugins API', () => {
  it('lists the installed plugins with kind, version, mods and stage hint', async () => {
    const r = await get('/api/v1beta1/plugins');
    expect(r.statusCode).toBe(200);
    const plugins = r.json().plugins;
    expect(plugins.map((p: { name: string }) => p.name)).toEqual([
      'data-audit',
      'publish-event',
      'python-script',
      'slack-notify',
      'warehouse-load',
    ]);
    expect(plugins.find((p: { name: string }) => p.name === 'warehouse-load')).toMatchObject({
      kind: 'yaml',
      version: '1.2.0',
      mods: ['dependency_resolver'],
      task_only: true,
    });
    expect(plugins.find((p: { name: string }) => p.name === 'slack-notify')).toMatchObject({
      stage_hint: 'post',
      task_only: false,
    });
  });

  it('serves one plugin’s questions (with subquestions), configs and defaults', async () => {
    const r = await get('/api/v1beta1/plugins/warehouse-load');
    const p = r.json().plugin;
    expect(p.questions.find((q: { name: string }) => q.name === 'LOAD_METHOD').subquestions[0]).toMatchObject(
      { ifvalue: 'REPLACE' },
    );
    expect(p.configs.find((c: { name: string }) => c.name === 'WH_TOKEN')).toMatchObject({
      secret: true,
      required: true,
    });
    expect(p.default_assets['query.sql']).toContain('select 1');
  });

  it('answers 404 with the installed plugins for an unknown one', async () => {
    const r = await get('/api/v1beta1/plugins/nope');
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({
      code: 'PLUGIN_NOT_FOUND',
      hint: expect.stringContaining('warehouse-load'),
    });
  });

  it('validates a config with the same rules as the CLI, never echoing a secret', async () => {
    const bad = await send('POST', '/api/v1beta1/plugins/warehouse-load/validate', {
      config: { PROJECT: 'Bad Name', WH_TOKEN: 'plain-secret-value' },
    });
    expect(bad.statusCode).toBe(200);
    const body = bad.json();
    expect(body.valid).toBe(false);
    expect(body.errors.map((e: { path: string; code: string }) => `${e.code} ${e.path}`)).toEqual([
      'CONFIG_MISSING config.DATASET',
      'CONFIG_MISSING config.TABLE',
      'CONFIG_SECRET_PLAIN config.WH_TOKEN',
      'CONFIG_INVALID config.PROJECT',
    ]);
    expect(bad.body).not.toContain('plain-secret-value');
    const good = await send('POST', '/api/v1beta1/plugins/warehouse-load/validate', {
      answers: {
        PROJECT: 'acme-dw',
        DATASET: 'm',
        TABLE: 't',
        LOAD_METHOD: 'APPEND',
        WH_TOKEN: '{{ .secret.WH_TOKEN }}',
      },
    });
    expect(good.json()).toMatchObject({ valid: true, errors: [] });
    const asHook = await send('POST', '/api/v1beta1/plugins/warehouse-load/validate', {
      role: 'hook',
      config: {},
    });
    expect(asHook.json().errors[0].code).toBe('PLUGIN_TASK_ONLY');
  });

  it('serves the YAML specs as a zip at /plugins', async () => {
    const r = await get('/plugins');
    expect(r.headers['content-type']).toBe('application/zip');
    const files = unzipSync(new Uint8Array(r.rawPayload));
    expect(Object.keys(files).sort()).toContain('optimus-plugin-warehouse-load.yaml');
    expect(new TextDecoder().decode(files['optimus-plugin-slack-notify.yaml'])).toContain(
      'name: slack-notify',
    );
  });
});

describe('projects and namespaces', () => {
  it('registers idempotently, upper-casing config keys', async () => {
    const again = await send('POST', '/api/v1beta1/project', {
      project: {
        name: 'acme-analytics',
        config: { warehouse: 'acme_dw', region: 'eu' },
        plugin_dependencies: ['audit-output >> notify-team,publish', 'check-source >> audit-input'],
      },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json().project.config).toEqual({ WAREHOUSE: 'acme_dw', REGION: 'eu' });
    const list = await get('/api/v1beta1/project');
    expect(list.json().projects.map((p: { name: string }) => p.name)).toEqual(['acme-analytics']);
    const ns = await get(`${P}/namespace`);
    expect(ns.json().namespaces.map((n: { name: string }) => n.name)).toEqual(['finance', 'marketing']);
  });

  it('rejects invalid hook rules with the path of each', async () => {
    const r = await send('POST', '/api/v1beta1/project', {
      project: { name: 'p2', plugin_dependencies: ['a >> b', 'nonsense', 'x >> x'] },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().details.map((d: { path: string }) => d.path)).toEqual([
      'body.project.plugin_dependencies[1]',
      'body.project.plugin_dependencies[2]',
    ]);
    expect((await get('/api/v1beta1/project/p2')).statusCode).toBe(404);
  });

  it('names the failing request field', async () => {
    const r = await send('POST', '/api/v1beta1/project', { project: { name: 'bad name!' } });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'REQUEST_INVALID', details: [{ path: 'body.project.name' }] });
    const missing = await send('POST', `${P}/namespace`, {});
    expect(missing.json().details).toEqual([{ path: 'body.namespace', message: 'is required' }]);
  });

  it('answers 404 for an unknown project or namespace', async () => {
    expect((await get('/api/v1beta1/project/ghost/namespace')).json().code).toBe('PROJECT_NOT_FOUND');
    expect((await get(`${P}/namespace/ghost`)).json().code).toBe('NAMESPACE_NOT_FOUND');
  });
});

describe('secrets', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  it('stores a secret encrypted, lists name, namespace and digest, never the value', async () => {
    const created = await send('POST', `${P}/secret/wh_token`, { value: b64('s3cr3t-wh') });
    expect(created.statusCode).toBe(201);
    expect(created.json().secret).toMatchObject({ name: 'WH_TOKEN', namespace: null });
    await send('POST', `${P}/secret/slack_token`, { value: b64('xoxb-1'), namespace_name: 'marketing' });
    const list = await get(`${P}/secret`);
    expect(
      list.json().secrets.map((x: { name: string; namespace: string | null }) => `${x.name}:${x.namespace}`),
    ).toEqual(['SLACK_TOKEN:marketing', 'WH_TOKEN:null']);
    expect(list.body).not.toContain('s3cr3t');
    expect(list.json().secrets[0].digest).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const row = await s.store.getSecret('acme-analytics', 'WH_TOKEN');
    expect(row!.ciphertext).not.toContain(b64('s3cr3t-wh'));
  });

  it('keeps names unique per project, reserves _OPTIMUS_, and wants base64', async () => {
    expect(
      (await send('POST', `${P}/secret/WH_TOKEN`, { value: b64('x'), namespace_name: 'finance' })).statusCode,
    ).toBe(409);
    expect((await send('POST', `${P}/secret/_optimus_x`, { value: b64('x') })).json().code).toBe(
      'SECRET_NAME_RESERVED',
    );
    const notB64 = await send('POST', `${P}/secret/OTHER`, { value: 'not base64!' });
    expect(notB64.statusCode).toBe(400);
    expect(notB64.body).not.toContain('not base64!');
    expect(
      (await send('POST', `${P}/secret/OTHER`, { value: b64('x'), namespace_name: 'ghost' })).statusCode,
    ).toBe(404);
  });

  it('updates and deletes', async () => {
    const before = (await get(`${P}/secret`))
      .json()
      .secrets.find((x: { name: string }) => x.name === 'WH_TOKEN').digest;
    expect((await send('PUT', `${P}/secret/WH_TOKEN`, { value: b64('rotated') })).statusCode).toBe(200);
    const after = (await get(`${P}/secret`))
      .json()
      .secrets.find((x: { name: string }) => x.name === 'WH_TOKEN').digest;
    expect(after).not.toBe(before);
    expect((await send('PUT', `${P}/secret/NOPE`, { value: b64('x') })).statusCode).toBe(404);
    await send('POST', `${P}/secret/TEMP`, { value: b64('x') });
    expect((await send('DELETE', `${P}/secret/TEMP`)).json()).toEqual({ deleted: 'TEMP' });
    expect((await send('DELETE', `${P}/secret/TEMP`)).statusCode).toBe(404);
  });
});

describe('deploy', () => {
  const deploy = (ns: string, jobs: unknown[]) => send('POST', `${P}/namespace/${ns}/deploy`, { jobs });

  it('adds the jobs of a namespace and keeps their run graphs', async () => {
    const r = await deploy('marketing', exampleJobs('marketing'));
    expect(r.statusCode).toBe(200);
    expect(r.json().deploy).toMatchObject({
      status: 'succeeded',
      added: ['attribution', 'campaign-performance'],
      modified: [],
      deleted: [],
      unchanged: 0,
    });
    const job = (await get(`${P}/namespace/marketing/job/campaign-performance`)).json().job;
    expect(job.run_graph.nodes.map((n: { name: string }) => n.name)).toEqual([
      'check-source',
      'audit-input',
      'warehouse-load',
      'audit-output',
      'publish',
      'notify-team',
      'page-oncall',
    ]);
    expect(job.assets['query.sql']).toContain('ad_clicks');
    expect(
      (await get(`${P}/namespace/marketing/job`)).json().jobs.map((j: { name: string }) => j.name),
    ).toEqual(['attribution', 'campaign-performance']);
  });

  it('does no work on an unchanged re-deploy, and reports modified and deleted jobs', async () => {
    const jobs = exampleJobs('marketing');
    const same = await deploy('marketing', jobs);
    expect(same.json().deploy).toMatchObject({ status: 'unchanged', unchanged: 2, added: [], modified: [] });
    const changed = jobs.map((j) => (j.name === 'attribution' ? { ...j, description: 'changed' } : j));
    expect((await deploy('marketing', changed)).json().deploy).toMatchObject({
      status: 'succeeded',
      modified: ['attribution'],
      unchanged: 1,
    });
    expect(
      (
        await deploy(
          'marketing',
          changed.filter((j) => j.name !== 'attribution'),
        )
      ).json().deploy,
    ).toMatchObject({ deleted: ['attribution'] });
    await deploy('marketing', jobs);
  });

  it('rejects a deploy with any invalid job, reports every problem, and changes nothing', async () => {
    const jobs = exampleJobs('marketing');
    const broken = jobs.map((j) =>
      j.name === 'campaign-performance'
        ? {
            ...j,
            hooks: [
              ...(j.hooks as object[]),
              { name: 'x', type: 'publish-event', depends_on: ['ghost'], config: { TOPIC: 't' } },
            ],
          }
        : { ...j, owner: undefined, description: 'would change' },
    );
    const r = await deploy('marketing', broken);
    expect(r.statusCode).toBe(400);
    const body = r.json();
    expect(body.code).toBe('DEPLOY_INVALID');
    expect(body.details.map((d: { path: string }) => d.path)).toEqual(
      expect.arrayContaining(['jobs[0].owner', 'jobs[1].hooks[6].depends_on']),
    );
    const attribution = (await get(`${P}/namespace/marketing/job/attribution`)).json().job;
    expect(attribution.spec.description).not.toBe('would change');
    const history = (await get(`${P}/namespace/marketing/deploy`)).json().deploys;
    expect(history[0]).toMatchObject({ status: 'failed', id: body.deploy_id });
  });

  it('validates unchanged jobs again when the project’s hook rules change', async () => {
    const jobs = exampleJobs('marketing');
    expect((await deploy('marketing', jobs)).statusCode).toBe(200);
    const rules = ['audit-output >> notify-team,publish', 'check-source >> audit-input'];
    const withRules = (extra: string[]) =>
      send('POST', '/api/v1beta1/project', {
        project: {
          name: 'acme-analytics',
          config: { warehouse: 'acme_dw' },
          plugin_dependencies: [...rules, ...extra],
        },
      });
    // Not a contradiction between rules (registration refuses those), but a cycle through the task.
    await withRules(['notify-team >> check-source']);
    try {
      const r = await deploy('marketing', jobs);
      expect(r.statusCode).toBe(400);
      expect(r.json().details.map((d: { code: string }) => d.code)).toContain('HOOK_CYCLE');
    } finally {
      await withRules([]);
    }
    expect((await deploy('marketing', jobs)).json().deploy.status).toBe('unchanged');
  });

  it('keeps job names unique across the namespaces of a project', async () => {
    const stolen = exampleJobs('marketing').filter((j) => j.name === 'attribution');
    const r = await deploy('finance', stolen);
    expect(r.statusCode).toBe(400);
    expect(r.json().details).toEqual([
      expect.objectContaining({ code: 'JOB_NAME_TAKEN', path: 'jobs[0].name' }),
    ]);
  });

  it('deletes one job and lists the deploy history, newest first', async () => {
    expect((await send('DELETE', `${P}/namespace/marketing/job/attribution`)).json()).toEqual({
      deleted: 'attribution',
    });
    expect((await get(`${P}/namespace/marketing/job/attribution`)).statusCode).toBe(404);
    const history = (await get(`${P}/namespace/marketing/deploy?limit=3`)).json().deploys;
    expect(history).toHaveLength(3);
    expect(history[0].id).toBeGreaterThan(history[1].id);
  });
});

describe('edges', () => {
  it('answers unknown routes and malformed JSON with the error shape, never a stack', async () => {
    const r = await get('/api/v1beta1/nothing');
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
    const bad = await s.app.inject({
      method: 'POST',
      url: '/api/v1beta1/project',
      payload: '{"project":',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('REQUEST_INVALID');
    expect(bad.body).not.toMatch(/at .*\.js:\d+/);
  });

  it('publishes an OpenAPI document generated from the routes', async () => {
    const doc = (await get('/api/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1beta1/plugins/{name}/validate',
        '/api/v1beta1/project/{project}/namespace/{namespace}/deploy',
        '/api/v1beta1/project/{project}/secret/{name}',
      ]),
    );
    const deploy = doc.paths['/api/v1beta1/project/{project}/namespace/{namespace}/deploy'].post;
    expect(deploy.requestBody.content['application/json'].schema.properties.jobs.type).toBe('array');
    expect(deploy.parameters.map((p: { name: string }) => p.name)).toEqual(['project', 'namespace']);
  });
});

describe('auth', () => {
  it('requires a valid bearer token when tokens are configured; ping stays public', async () => {
    const t = await testServer({ tokens: ['tok-1'] });
    try {
      expect((await t.app.inject({ method: 'GET', url: '/api/v1beta1/plugins' })).statusCode).toBe(401);
      expect(
        (
          await t.app.inject({
            method: 'GET',
            url: '/api/v1beta1/plugins',
            headers: { authorization: 'Bearer nope' },
          })
        ).statusCode,
      ).toBe(403);
      expect(
        (
          await t.app.inject({
            method: 'GET',
            url: '/api/v1beta1/plugins',
            headers: { authorization: 'Bearer tok-1' },
          })
        ).statusCode,
      ).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: '/ping' })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});
