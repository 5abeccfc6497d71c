import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Parser } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { loadPluginRegistry } from '../../src/server/plugin-registry.js';
import { createSecretCipher } from '../../src/services/secret-cipher.js';
import { loadProjectConfig } from '../../src/spec/project-config.js';
import { loadServerConfig } from '../../src/spec/server-config.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/store.js';
import { APP_KEY, exampleJobs } from '../helpers/server.js';
import { EXAMPLE, EXAMPLE_PLUGINS, tempDir } from '../helpers/temp-project.js';

const READER = 'reader-token-0001';
const PLAIN = 'plain-token-0002';
const WH_TOKEN = "wh'sec$ret`x`-value";
const SLACK_TOKEN = 'xoxb-slack-s3cret';
const URL = '/api/v1beta1/project/acme-analytics/job';

let store: Store;
let app: FastifyInstance;
let open: FastifyInstance;
let logs = '';

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

async function runInput(
  job: string,
  body: Record<string, unknown>,
  opts: { token?: string; accept?: string; server?: FastifyInstance } = {},
) {
  return (opts.server ?? app).inject({
    method: 'POST',
    url: `${URL}/${encodeURIComponent(job)}/run_input`,
    headers: {
      ...(opts.token === undefined ? auth(READER) : opts.token ? auth(opts.token) : {}),
      ...(opts.accept ? { accept: opts.accept } : {}),
    },
    payload: body,
  });
}

const task = { scheduled_at: '2026-03-02T03:00:00Z', instance_type: 'task', instance_name: 'warehouse-load' };

beforeAll(async () => {
  store = await createStore({});
  const plugins = await loadPluginRegistry(EXAMPLE_PLUGINS);
  const cipher = createSecretCipher(APP_KEY);
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs += chunk;
      done();
    },
  });
  app = await createApp({
    store,
    plugins,
    cipher,
    tokens: [PLAIN],
    secretTokens: [READER],
    logger: pino({ level: 'trace' }, sink),
    version: 'test',
  });
  open = await createApp({ store, plugins, cipher, version: 'test' });

  const presets = loadProjectConfig(EXAMPLE).config!.presetWindows;
  const call = async (method: 'POST' | 'PUT', url: string, payload: unknown) => {
    const r = await app.inject({ method, url, payload: payload as object, headers: auth(PLAIN) });
    if (r.statusCode >= 300) throw new Error(`${url}: ${r.body}`);
  };
  await call('POST', '/api/v1beta1/project', {
    project: { name: 'acme-analytics', config: { WAREHOUSE: 'acme_dw' }, plugin_dependencies: [], presets },
  });
  await call('POST', '/api/v1beta1/project/acme-analytics/namespace', {
    namespace: { name: 'marketing', config: { TEAM_CHANNEL: '#marketing-data' } },
  });
  for (const [name, value] of [
    ['WH_TOKEN', WH_TOKEN],
    ['SLACK_TOKEN', SLACK_TOKEN],
  ])
    await call('POST', `/api/v1beta1/project/acme-analytics/secret/${name}`, {
      value: Buffer.from(value!).toString('base64'),
    });
  const broken = {
    version: 3,
    name: 'broken-template',
    owner: 'o@acme.example',
    schedule: { start_date: '2026-01-01', interval: '0 3 * * *' },
    task: {
      name: 'python-script',
      config: { ENTRY: 'main.py', WHEN: '{{ .DSTART | Date }}' },
      window: { size: '1d', truncate_to: 'd' },
    },
    assets: { 'main.py': 'print(1)\n{{ if .DSTART }}\nprint(2)\n' },
  };
  const unset = {
    ...broken,
    name: 'unset-secret',
    task: { ...broken.task, config: { ENTRY: 'main.py', KEY: '{{ .secret.NEVER_SET }}' } },
    assets: { 'main.py': 'print(1)' },
  };
  await call('POST', '/api/v1beta1/project/acme-analytics/namespace/marketing/deploy', {
    jobs: [...exampleJobs('marketing'), broken, unset],
  });
});
afterAll(async () => {
  await app.close();
  await open.close();
  await store.close();
});

describe('run input over HTTP', () => {
  it("answers a task's envs, files and secrets to a token that may read secrets", async () => {
    const r = await runInput('campaign-performance', task);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const body = r.json();
    expect(Object.keys(body).sort()).toEqual(['envs', 'files', 'secrets', 'secrets_withheld', 'warnings']);
    expect(body.envs).toMatchObject({
      // The example's preset "yesterday": one day, truncated to days, shifted back a day.
      DSTART: '2026-02-28T00:00:00Z',
      DEND: '2026-03-01T00:00:00Z',
      TABLE: 'campaign_performance',
      JOB_NAME: 'campaign-performance',
      NAMESPACE: 'marketing',
      GLOBAL__TEAM_CHANNEL: '#marketing-data',
      GLOBAL__WAREHOUSE: 'acme_dw',
      JOB_DESTINATION: 'bigquery://acme-dw:marketing.campaign_performance',
    });
    expect(body.secrets).toEqual({ WH_TOKEN });
    expect(body.secrets_withheld).toEqual([]);
    expect(body.files['query.sql']).toBeDefined();
  });

  it('withholds secrets from a token without read_secrets, and on a server without tokens', async () => {
    for (const [server, token] of [
      [app, PLAIN],
      [open, ''],
    ] as const) {
      const r = await runInput('campaign-performance', task, { server, token });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toMatchObject({ secrets: {}, secrets_withheld: ['WH_TOKEN'] });
      expect(r.body).not.toContain(WH_TOKEN);
    }
  });

  it('never holds a secret value in a preview, even for a token that may read secrets', async () => {
    const answers: string[] = [];
    for (const [server, token] of [
      [app, READER],
      [app, PLAIN],
      [open, ''],
    ] as const) {
      const r = await runInput('campaign-performance', { ...task, preview: true }, { server, token });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.body).not.toContain(WH_TOKEN);
      expect(r.json()).toMatchObject({ secrets: {}, secrets_withheld: ['WH_TOKEN'] });
      answers.push(r.body);
    }
    // The same answer whatever the token may read.
    expect(new Set(answers).size).toBe(1);
    // The tar of a preview withholds them too.
    const tar = await runInput(
      'campaign-performance',
      { ...task, preview: true },
      { accept: 'application/x-tar' },
    );
    expect(tar.statusCode).toBe(200);
    expect(tar.rawPayload.includes(Buffer.from(WH_TOKEN))).toBe(false);
    expect(tar.headers['x-optimus-secrets-withheld']).toBe('WH_TOKEN');
    // preview: false is the ordinary answer.
    const full = await runInput('campaign-performance', { ...task, preview: false });
    expect(full.json().secrets).toEqual({ WH_TOKEN });
  });

  it('refuses a preview that is not true or false, naming the field', async () => {
    const r = await runInput('campaign-performance', { ...task, preview: 'yes' });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'REQUEST_INVALID', details: [{ path: 'body.preview' }] });
  });

  it('still refuses a request without a token on a server that has tokens', async () => {
    expect((await runInput('campaign-performance', task, { token: '' })).statusCode).toBe(401);
  });

  it("gives a hook the task's config as TASK__*, with upstream's names for type and hook", async () => {
    const r = await runInput('campaign-performance', {
      scheduled_at: '2026-03-02T03:00:00+00:00',
      instance_type: 'TYPE_HOOK',
      instance_name: 'page__dash__oncall',
    });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body.envs).toMatchObject({ CHANNEL: '@marketing-oncall', TASK__TABLE: 'campaign_performance' });
    expect(body.secrets).toEqual({ SLACK_TOKEN, TASK__WH_TOKEN: WH_TOKEN });
  });

  it('answers a tar of in/ when asked for application/x-tar', async () => {
    const r = await runInput('campaign-performance', task, { accept: 'application/x-tar' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/x-tar');
    const entries = new Map<string, string>();
    const parser = new Parser({
      strict: true,
      onReadEntry: (e) => {
        let text = '';
        e.on('data', (d: Buffer) => {
          text += d.toString('utf8');
        });
        e.on('end', () => entries.set(e.path, text));
      },
    });
    await new Promise<void>((done, fail) => {
      parser.on('end', done);
      parser.on('error', fail);
      parser.end(r.rawPayload);
    });
    expect([...entries.keys()]).toEqual(['in/', 'in/query.sql', 'in/.env', 'in/.secret']);
    expect(entries.get('in/.secret')).toBe(`WH_TOKEN='${WH_TOKEN.replaceAll("'", "'\\''")}'\n`);
    expect(entries.get('in/.env')).toContain("DSTART='2026-02-28T00:00:00Z'\n");
    const withheld = await runInput('campaign-performance', task, {
      accept: 'application/x-tar',
      token: PLAIN,
    });
    expect(withheld.headers['x-optimus-secrets-withheld']).toBe('WH_TOKEN');
    expect(withheld.rawPayload.toString('latin1')).not.toContain(WH_TOKEN);
  });

  it('is in the OpenAPI document, authenticated', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const op = doc.paths['/api/v1beta1/project/{project}/job/{job}/run_input'].post;
    expect(op.security).toEqual([{ bearer: [] }]);
    expect(op.requestBody.content['application/json'].schema.required).toEqual([
      'scheduled_at',
      'instance_type',
      'instance_name',
    ]);
  });
});

describe('bad input', () => {
  it('refuses a bad scheduled_at, instance type or name with 400 naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...task, scheduled_at: '2026-02-30T00:00:00Z' }, 'body.scheduled_at'],
      [{ ...task, scheduled_at: 'yesterday' }, 'body.scheduled_at'],
      [{ ...task, scheduled_at: '2026-03-02T03:00:00' }, 'body.scheduled_at'],
      [{ ...task, scheduled_at: 1767236400 }, 'body.scheduled_at'],
      [{ instance_type: 'task', instance_name: 'warehouse-load' }, 'body.scheduled_at'],
      [{ ...task, instance_type: 'post' }, 'body.instance_type'],
      [{ ...task, instance_name: '' }, 'body.instance_name'],
      [{ ...task, instance_name: 'a\0b' }, 'body.instance_name'],
      [{ ...task, instance_name: 'x'.repeat(10_000) }, 'body.instance_name'],
    ];
    for (const [body, path] of cases) {
      const r = await runInput('campaign-performance', body);
      expect(r.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.json().details.map((d: { path: string }) => d.path)).toContain(path);
    }
    const huge = await runInput('campaign-performance', { ...task, instance_name: 'x'.repeat(1 << 20) });
    expect(huge.statusCode).toBe(413);
    const badJob = await runInput('../etc', task);
    expect(badJob.statusCode).toBe(400);
  });

  it('answers 404 for a job that is not deployed and for a hook the job does not have', async () => {
    const job = await runInput('ghost', task);
    expect(job.statusCode).toBe(404);
    expect(job.json()).toMatchObject({ code: 'JOB_NOT_FOUND' });
    const hook = await runInput('campaign-performance', {
      ...task,
      instance_type: 'hook',
      instance_name: 'nobody',
    });
    expect(hook.statusCode).toBe(404);
    expect(hook.json()).toEqual({
      code: 'INSTANCE_NOT_FOUND',
      message: 'job "campaign-performance" has no hook "nobody"',
      hint: 'hooks of this job: audit-input, check-source, audit-output, publish, page-oncall, notify-team',
      details: [{ path: 'instance_name', message: 'job "campaign-performance" has no hook "nobody"' }],
    });
  });

  it('answers 422 naming asset and line for a template error', async () => {
    const r = await runInput('broken-template', { ...task, instance_name: 'python-script' });
    expect(r.statusCode).toBe(422);
    expect(r.json()).toMatchObject({
      code: 'TEMPLATE_PARSE',
      message: expect.stringMatching(/^template main\.py:2:\d+: /),
      details: [{ path: 'assets.main.py' }],
      hint: expect.any(String),
    });
  });

  it('answers 422 for a secret that is not set, naming key and secret', async () => {
    const r = await runInput('unset-secret', { ...task, instance_name: 'python-script' });
    expect(r.statusCode).toBe(422);
    expect(r.json()).toMatchObject({
      code: 'SECRET_MISSING',
      message: expect.stringContaining('task.config.KEY uses secret NEVER_SET'),
      details: [{ path: 'task.config.KEY' }],
      hint: 'set it with `optimus secret set NEVER_SET`',
    });
  });

  it('never writes a secret value to the server log', () => {
    expect(logs).toContain('run_input');
    expect(logs).not.toContain(WH_TOKEN);
    expect(logs).not.toContain(SLACK_TOKEN);
    expect(logs).not.toContain('sec$ret');
  });
});

describe('serve.auth.tokens', () => {
  const load = (tokens: string) => {
    const dir = tempDir({ 'server.yaml': `serve:\n  auth:\n    tokens: ${tokens}\n` });
    return loadServerConfig(join(dir, 'server.yaml'));
  };

  it('takes plain tokens and tokens that may read secrets, each accepted', () => {
    const { config, problems } = load(
      '[plain-1, {token: reader-2, read_secrets: true}, {token: other-3, read_secrets: false}, {token: other-4}]',
    );
    expect(problems).toEqual([]);
    expect(config!.serve.tokens).toEqual(['plain-1', 'reader-2', 'other-3', 'other-4']);
    expect(config!.serve.secretTokens).toEqual(['reader-2']);
  });

  it('warns about a misspelt key, and that token then reads no secrets', () => {
    const { config, problems } = load('[{token: a, read_secret: true}]');
    expect(problems).toMatchObject([{ severity: 'warning', path: 'serve.auth.tokens[0].read_secret' }]);
    expect(config!.serve).toMatchObject({ tokens: ['a'], secretTokens: [] });
  });

  it('refuses an entry that is neither, naming it', () => {
    for (const bad of [
      '[{read_secrets: true}]',
      '[{token: ""}]',
      '[7]',
      '[{token: a, read_secrets: "yes"}]',
    ]) {
      const { config, problems } = load(bad);
      expect(config, bad).toBeUndefined();
      expect(problems.map((p) => p.path)).toEqual([expect.stringMatching(/^serve\.auth\.tokens\[0\]/)]);
    }
  });
});
