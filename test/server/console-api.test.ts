/**
 * The routes the web console reads (issue 12): what a token may do (read-only tokens, whoami), the
 * jobs index, a plugin's users, the deploy history, and a job's run graph with edge origins. Every
 * answer is also checked against the route's declared response schema (what the console's client is
 * typed from).
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { loadPluginRegistry } from '../../src/server/plugin-registry.js';
import type { AnyRoute } from '../../src/server/route.js';
import { catalogRoutes } from '../../src/server/routes/catalog.js';
import { jobRoutes } from '../../src/server/routes/jobs.js';
import { pluginRoutes } from '../../src/server/routes/plugins.js';
import { projectRoutes } from '../../src/server/routes/projects.js';
import { whoamiRoutes } from '../../src/server/routes/whoami.js';
import { createSecretCipher } from '../../src/services/secret-cipher.js';
import { loadServerConfig } from '../../src/spec/server-config.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/store.js';
import { APP_KEY, exampleJobs, registerExample } from '../helpers/server.js';
import { EXAMPLE_PLUGINS, tempDir } from '../helpers/temp-project.js';

const FULL = 'full-token-0001';
const READER = 'read-only-token-2';
const SECRETS = 'secret-reader-003';
const P = '/api/v1beta1';

let store: Store;
let secured: FastifyInstance;
let open: FastifyInstance;
let declared: AnyRoute[];

beforeAll(async () => {
  store = await createStore({});
  const plugins = await loadPluginRegistry(EXAMPLE_PLUGINS);
  const common = { store, plugins, cipher: createSecretCipher(APP_KEY), version: 'test' };
  secured = await createApp({ ...common, tokens: [FULL], secretTokens: [SECRETS], readOnlyTokens: [READER] });
  open = await createApp(common);
  await registerExample(open);
  for (const ns of ['marketing', 'finance']) {
    const r = await open.inject({
      method: 'POST',
      url: `${P}/project/acme-analytics/namespace/${ns}/deploy`,
      payload: { jobs: exampleJobs(ns) },
    });
    if (r.statusCode !== 200) throw new Error(r.body);
  }
  declared = [
    ...catalogRoutes(store),
    ...whoamiRoutes({ tokens: [], secretTokens: [], readOnlyTokens: [] }),
    ...pluginRoutes(plugins, undefined, store),
    ...jobRoutes(store, plugins),
    ...projectRoutes(store, plugins),
  ];
});
afterAll(async () => {
  await Promise.all([secured?.close(), open?.close()]);
  await store?.close();
});

/** GET on the open server; a 200 answer must match the route's declared response schema. */
async function get(url: string, app = open, token?: string) {
  const r = await app.inject({
    method: 'GET',
    url,
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
  if (r.statusCode === 200) {
    const path = url.split('?')[0]!;
    const route = declared.find(
      (d) => d.method === 'GET' && new RegExp(`^${d.url.replace(/:[a-z_]+/g, '[^/]+')}$`).test(path),
    );
    expect(route?.response, `response schema of GET ${path}`).toBeDefined();
    const parsed = route!.response!.safeParse(r.json());
    expect(parsed.success ? [] : parsed.error.issues, `answer of GET ${url}`).toEqual([]);
  }
  return r;
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

describe('read-only tokens', () => {
  it('may call GET routes, and are refused anything else with a hint', async () => {
    expect((await get(`${P}/project`, secured, READER)).statusCode).toBe(200);
    expect((await get(`${P}/jobs`, secured, READER)).statusCode).toBe(200);
    for (const [method, url] of [
      ['POST', `${P}/project`],
      ['POST', `${P}/project/acme-analytics/namespace/marketing/deploy`],
      ['DELETE', `${P}/project/acme-analytics/namespace/marketing/job/attribution`],
      ['PUT', `${P}/project/acme-analytics/secret/X`],
      ['POST', `${P}/plugins/reload`],
    ] as const) {
      const r = await secured.inject({ method, url, headers: auth(READER), payload: {} });
      expect(r.statusCode, `${method} ${url}`).toBe(403);
      expect(r.json()).toMatchObject({
        code: 'TOKEN_READ_ONLY',
        message: `this token is read-only: it may call GET routes only, not ${method}`,
        hint: expect.stringContaining('without read_only'),
      });
    }
    expect(
      (await get(`${P}/project/acme-analytics/namespace/marketing/job/attribution`, open)).statusCode,
    ).toBe(200);
  });

  it('leaves full and secret-reading tokens able to write', async () => {
    for (const token of [FULL, SECRETS]) {
      const r = await secured.inject({
        method: 'POST',
        url: `${P}/project/acme-analytics/namespace`,
        headers: auth(token),
        payload: { namespace: { name: 'marketing' } },
      });
      expect(r.statusCode, token).toBe(200);
    }
  });

  it('are read from the server config, and a token cannot be both read_only and read_secrets', () => {
    const load = (tokens: string) =>
      loadServerConfig(join(tempDir({ 's.yaml': `serve:\n  auth:\n    tokens: ${tokens}\n` }), 's.yaml'));
    const { config, problems } = load(
      '[plain-1, {token: look-2, read_only: true}, {token: read-3, read_secrets: true}]',
    );
    expect(problems).toEqual([]);
    expect(config!.serve).toMatchObject({
      tokens: ['plain-1', 'look-2', 'read-3'],
      secretTokens: ['read-3'],
      readOnlyTokens: ['look-2'],
    });
    const both = load('[{token: t, read_only: true, read_secrets: true}]');
    expect(both.config).toBeUndefined();
    expect(both.problems).toMatchObject([
      {
        severity: 'error',
        path: expect.stringMatching(/^serve\.auth\.tokens\[0\]/),
        message: expect.stringContaining('both read_only and read_secrets'),
      },
    ]);
  });
});

describe('GET whoami', () => {
  it('says what each token may do', async () => {
    const who = async (app: FastifyInstance, token?: string) => (await get(`${P}/whoami`, app, token)).json();
    expect(await who(open)).toEqual({
      auth_required: false,
      authenticated: false,
      can_write: true,
      can_read_secrets: false,
    });
    expect(await who(secured)).toEqual({
      auth_required: true,
      authenticated: false,
      can_write: false,
      can_read_secrets: false,
    });
    expect(await who(secured, READER)).toEqual({
      auth_required: true,
      authenticated: true,
      can_write: false,
      can_read_secrets: false,
    });
    expect(await who(secured, FULL)).toEqual({
      auth_required: true,
      authenticated: true,
      can_write: true,
      can_read_secrets: false,
    });
    expect(await who(secured, SECRETS)).toEqual({
      auth_required: true,
      authenticated: true,
      can_write: true,
      can_read_secrets: true,
    });
  });

  it('checks a token that is sent, as any route does', async () => {
    const r = await secured.inject({ method: 'GET', url: `${P}/whoami`, headers: auth('wrong-token') });
    expect(r.statusCode).toBe(403);
    expect(r.json().code).toBe('FORBIDDEN');
    const bad = await secured.inject({
      method: 'GET',
      url: `${P}/whoami`,
      headers: { authorization: 'Basic x' },
    });
    expect(bad.statusCode).toBe(401);
  });
});

describe('GET jobs (the jobs index)', () => {
  it('lists every deployed job across namespaces with task, hooks, schedule, owner and last run', async () => {
    const r = (await get(`${P}/jobs`)).json();
    expect(r.total).toBe(r.jobs.length);
    const keys = r.jobs.map((j: { namespace: string; name: string }) => `${j.namespace}/${j.name}`);
    expect(keys).toEqual([...keys].sort());
    expect(keys).toContain('marketing/campaign-performance');
    const cp = r.jobs.find((j: { name: string }) => j.name === 'campaign-performance');
    expect(cp).toMatchObject({
      project: 'acme-analytics',
      namespace: 'marketing',
      task: 'warehouse-load',
      hooks: ['data-audit', 'data-audit', 'data-audit', 'publish-event', 'slack-notify', 'slack-notify'],
      last_run: null,
    });
    expect(typeof cp.owner).toBe('string');
  });

  it('filters, pages and counts', async () => {
    const all = (await get(`${P}/jobs`)).json();
    const first = (await get(`${P}/jobs?limit=1`)).json();
    const second = (await get(`${P}/jobs?limit=1&offset=1`)).json();
    expect([...first.jobs, ...second.jobs]).toEqual(all.jobs.slice(0, 2));
    expect(first.total).toBe(all.total);
    const audit = (await get(`${P}/jobs?plugin=data-audit&namespace=marketing`)).json();
    expect(audit.jobs.map((j: { name: string }) => j.name)).toEqual(['campaign-performance']);
    expect((await get(`${P}/jobs?q=CAMPAIGN`)).json().total).toBe(1);
    expect((await get(`${P}/jobs?last_status=never&project=acme-analytics`)).json().total).toBe(all.total);
    expect((await get(`${P}/jobs?last_status=failed`)).json()).toEqual({ total: 0, jobs: [] });
  });

  it('refuses bad filters with a 400 naming the field', async () => {
    for (const [query, path] of [
      ['limit=0', 'query.limit'],
      ['limit=1001', 'query.limit'],
      ['limit=abc', 'query.limit'],
      ['offset=-1', 'query.offset'],
      ['last_status=done', 'query.last_status'],
      ['project=..', 'query.project'],
      ['q=%00', 'query.q'],
    ]) {
      const r = await get(`${P}/jobs?${query}`);
      expect(r.statusCode, query).toBe(400);
      expect(
        r.json().details.map((d: { path: string }) => d.path),
        query,
      ).toEqual([path]);
    }
  });
});

describe('GET plugins/:name/usage', () => {
  it('lists the jobs using a plugin as task or hook', async () => {
    const r = (await get(`${P}/plugins/data-audit/usage`)).json();
    expect(r.plugin).toBe('data-audit');
    expect(r.total).toBe(r.jobs.length);
    expect(r.jobs).toContainEqual({
      project: 'acme-analytics',
      namespace: 'marketing',
      job: 'campaign-performance',
      as: 'hook',
      hook: 'audit-input',
    });
    const task = (await get(`${P}/plugins/warehouse-load/usage?limit=1`)).json();
    expect(task.jobs).toEqual([expect.objectContaining({ as: 'task', hook: null })]);
    expect(task.total).toBeGreaterThan(1);
  });

  it('answers no jobs for an installed plugin no job uses, and 404 for one not installed', async () => {
    const empty = await createStore({});
    const app = await createApp({
      store: empty,
      plugins: await loadPluginRegistry(EXAMPLE_PLUGINS),
      cipher: createSecretCipher(APP_KEY),
      version: 'test',
    });
    try {
      expect((await get(`${P}/plugins/python-script/usage`, app)).json()).toEqual({
        plugin: 'python-script',
        total: 0,
        jobs: [],
      });
      const r = await get(`${P}/plugins/nope/usage`);
      expect(r.statusCode).toBe(404);
      expect(r.json().code).toBe('PLUGIN_NOT_FOUND');
    } finally {
      await app.close();
      await empty.close();
    }
  });
});

describe('GET deploys', () => {
  it('lists deploys newest first across namespaces, narrowed when asked', async () => {
    const all = (await get(`${P}/deploys`)).json().deploys;
    expect(all.map((d: { namespace: string }) => d.namespace)).toEqual(['finance', 'marketing']);
    expect(all[0]).toMatchObject({ project: 'acme-analytics', status: 'succeeded', deleted: [] });
    expect((await get(`${P}/deploys?namespace=marketing&limit=1`)).json().deploys).toEqual([all[1]]);
    expect((await get(`${P}/deploys?project=other`)).json().deploys).toEqual([]);
    expect((await get(`${P}/deploys?limit=1001`)).statusCode).toBe(400);
  });
});

describe("GET job: the run graph's edges and dropped rules", () => {
  it('marks each edge with its origin and lists the rules that did not apply', async () => {
    const job = (await get(`${P}/project/acme-analytics/namespace/marketing/job/campaign-performance`)).json()
      .job;
    const g = job.run_graph;
    expect(g.origins_recorded).toBe(true);
    expect(g.nodes[0]).toEqual({ name: 'check-source', type: 'data-audit', stage: 'pre', depends_on: [] });
    const edges = g.edges.map(
      (e: { from: string; to: string; origin: string }) => `${e.from}>${e.to}:${e.origin}`,
    );
    expect(edges).toContain('check-source>audit-input:rule');
    expect(edges).toContain('audit-output>publish:rule');
    expect(edges).toContain('check-source>warehouse-load:default');
    expect(g.edges.length).toBe(
      g.nodes.reduce((n: number, x: { depends_on: string[] }) => n + x.depends_on.length, 0),
    );
    // Every rule edge either applied or is listed with its reason.
    for (const e of g.edges.filter((x: { origin: string }) => x.origin === 'rule'))
      expect([0, 1]).toContain(e.rule);
    const attribution = (await get(`${P}/project/acme-analytics/namespace/marketing/job/attribution`)).json()
      .job;
    for (const d of attribution.run_graph.dropped) expect(d.reason).toMatch(/\S/);
  });

  it('answers a job deployed before edge origins with stage edges and the rest unrecorded', async () => {
    const now = new Date();
    await store.applyDeploy({
      upsert: [
        {
          projectName: 'acme-analytics',
          namespaceName: 'finance',
          name: 'old-graph',
          spec: { version: 1, name: 'old-graph', owner: 'x', task: { name: 'warehouse-load' } },
          assets: {},
          hash: 'old',
          runGraph: [
            { name: 'warehouse-load', type: 'warehouse-load', stage: 'task', depends_on: [] },
            { name: 'a', type: 'data-audit', stage: 'post', depends_on: ['warehouse-load'] },
            { name: 'b', type: 'slack-notify', stage: 'post', depends_on: ['warehouse-load', 'a'] },
          ],
        },
      ],
      delete: [],
      deploy: {
        projectName: 'acme-analytics',
        namespaceName: 'finance',
        status: 'succeeded',
        startedAt: now,
        finishedAt: now,
        added: ['old-graph'],
        modified: [],
        deleted: [],
        unchanged: 0,
        problems: [],
      },
    });
    const g = (await get(`${P}/project/acme-analytics/namespace/finance/job/old-graph`)).json().job.run_graph;
    expect(g.origins_recorded).toBe(false);
    expect(g.edges.map((e: { origin: string }) => e.origin)).toEqual(['default', 'default', 'unrecorded']);
    expect(g.edges[2].detail).toBe('deployed before edge origins were recorded; re-deploy to see them');
    expect(g.dropped).toEqual([]);
  });
});
