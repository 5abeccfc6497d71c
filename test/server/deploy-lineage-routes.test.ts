import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../src/core/canonical-json.js';
import { exampleJobs, registerExample, type TestServer, testServer } from '../helpers/server.js';

let s: TestServer;
let finance: Record<string, unknown>[];
let marketing: Record<string, unknown>[];
beforeAll(async () => {
  s = await testServer();
  await registerExample(s.app);
  finance = exampleJobs('finance');
  marketing = exampleJobs('marketing');
});
afterAll(async () => s.close());

const NS = '/api/v1beta1/project/acme-analytics/namespace';
const post = (url: string, payload: unknown) =>
  s.app.inject({ method: 'POST', url, payload: payload as object });
const hashOf = (j: Record<string, unknown>) => {
  const { assets, ...spec } = j;
  return contentHash({ spec, assets });
};
const HASH = 'a'.repeat(64);

describe('deploy, plan and manifest routes refuse bad manifests with a 400 naming the field', () => {
  const cases: [string, unknown, string][] = [
    ['an empty name', [{ name: '', hash: HASH }], 'body.keep[0].name must not be empty'],
    ['a NUL in a name', [{ name: 'a\u0000b', hash: HASH }], 'body.keep[0].name contains a NUL character'],
    [
      'a control character in a name',
      [{ name: 'a\u0007b', hash: HASH }],
      'body.keep[0].name must not contain control',
    ],
    ['a huge name', [{ name: 'x'.repeat(5000), hash: HASH }], 'body.keep[0].name must be at most'],
    ['a hash that is not one', [{ name: 'a', hash: 'nope' }], 'body.keep[0].hash must be a job content hash'],
    [
      'a name listed twice',
      [
        { name: 'a', hash: HASH },
        { name: 'a', hash: HASH },
      ],
      'body.keep[1].name lists job "a" again (first at [0])',
    ],
    ['entries that are not objects', ['a'], 'body.keep[0]'],
  ];
  for (const [what, keep, message] of cases) {
    it(`refuses ${what}`, async () => {
      for (const route of ['deploy', 'deploy/plan']) {
        const r = await post(`${NS}/finance/${route}`, { jobs: [], keep });
        expect(r.statusCode).toBe(400);
        expect(r.json()).toMatchObject({
          code: 'REQUEST_INVALID',
          message: expect.stringContaining(message),
        });
      }
      const m = await post(`${NS}/finance/deploy/manifest`, { jobs: keep });
      expect(m.statusCode).toBe(400);
      expect(m.json().message).toContain(message.replace('body.keep', 'body.jobs'));
    });
  }

  it('refuses a manifest without jobs, and an unknown namespace with 404', async () => {
    expect((await post(`${NS}/finance/deploy/manifest`, {})).json()).toMatchObject({
      code: 'REQUEST_INVALID',
      message: 'invalid request body: body.jobs is required',
    });
    const r = await post(`${NS}/nope/deploy/plan`, { jobs: [] });
    expect(r.statusCode).toBe(404);
  });
});

describe('deploying by manifest over HTTP', () => {
  it('answers what to send, keeps unsent jobs, and answers 409 DEPLOY_STALE for a stale keep', async () => {
    const first = await post(`${NS}/finance/deploy`, { jobs: finance });
    expect(first.statusCode).toBe(200);
    const manifest = finance.map((j) => ({ name: String(j.name), hash: hashOf(j) }));
    const m = await post(`${NS}/finance/deploy/manifest`, {
      jobs: [...manifest.slice(1), { name: 'brand-new', hash: HASH }],
    });
    expect(m.statusCode).toBe(200);
    expect(m.json()).toEqual({
      send: ['brand-new'],
      unchanged: manifest
        .slice(1)
        .map((e) => e.name)
        .sort(),
      deleted: [manifest[0]!.name],
    });

    const kept = await post(`${NS}/finance/deploy`, { jobs: finance.slice(0, 1), keep: manifest.slice(1) });
    expect(kept.statusCode).toBe(200);
    expect(kept.json().deploy).toMatchObject({
      status: 'unchanged',
      unchanged: finance.length,
      deleted: [],
    });
    expect(kept.json().relineaged).toEqual([]);

    const stale = await post(`${NS}/finance/deploy`, {
      jobs: [],
      keep: [{ name: manifest[1]!.name, hash: HASH }],
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({
      code: 'DEPLOY_STALE',
      hint: expect.stringContaining('send these jobs in full'),
      details: [
        {
          path: 'body.keep[0]',
          code: 'JOB_STALE',
          message: `job "${manifest[1]!.name}" is not deployed in this namespace with that hash: send it in full`,
        },
      ],
    });
    expect((await s.app.inject({ method: 'GET', url: `${NS}/finance/job` })).json().jobs).toHaveLength(
      finance.length,
    );
  });

  it('plans a deploy without recording it, and answers invalid input with the deploy’s 400', async () => {
    const history = async () =>
      (await s.app.inject({ method: 'GET', url: `${NS}/marketing/deploy` })).json().deploys.length;
    const before = await history();
    const r = await post(`${NS}/marketing/deploy/plan`, { jobs: marketing });
    expect(r.statusCode).toBe(200);
    expect(r.json().plan).toMatchObject({ added: ['attribution', 'campaign-performance'], deleted: [] });
    const bad = await post(`${NS}/marketing/deploy/plan`, { jobs: [{ name: 'x' }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'DEPLOY_INVALID' });
    expect(bad.json().deploy_id).toBeUndefined();
    expect(await history()).toBe(before);
  });

  it('shows a job’s static upstreams and downstreams, and lists the new routes in OpenAPI', async () => {
    await post(`${NS}/marketing/deploy`, { jobs: marketing });
    const r = await s.app.inject({ method: 'GET', url: `${NS}/marketing/job/attribution` });
    expect(r.json().job).toMatchObject({
      destination: null,
      sources: [],
      lineage_warnings: [],
      upstreams: [],
      downstreams: [
        {
          project: 'acme-analytics',
          namespace: 'marketing',
          job: 'campaign-performance',
          kind: 'static',
          via: ['dependencies[0]'],
        },
      ],
    });
    const doc = (await s.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const plan = doc.paths['/api/v1beta1/project/{project}/namespace/{namespace}/deploy/plan'].post;
    expect(plan.requestBody.content['application/json'].schema.properties.keep.type).toBe('array');
    expect(
      doc.paths['/api/v1beta1/project/{project}/namespace/{namespace}/deploy/manifest'].post,
    ).toBeDefined();
  });
});
