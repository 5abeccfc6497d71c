import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Parser } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { loadPluginRegistry } from '../../src/server/plugin-registry.js';
import { podTokenKey } from '../../src/services/pod-token.js';
import { createSecretCipher } from '../../src/services/secret-cipher.js';
import { loadProjectConfig } from '../../src/spec/project-config.js';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/store.js';
import { APP_KEY, exampleJobs } from '../helpers/server.js';
import { EXAMPLE, EXAMPLE_PLUGINS } from '../helpers/temp-project.js';

const SCHEDULER = 'airflow-scheduler-token-0001';
const PLAIN = 'plain-token-0002';
const WH_TOKEN = 'wh-s3cret-value-0001';
const SLACK_TOKEN = 'xoxb-slack-s3cret';
const JOBS = '/api/v1beta1/project/acme-analytics/job';
const HOUR = 3_600_000;

let store: Store;
/** Auth on: PLAIN may call the API, SCHEDULER may also read secrets and mint. */
let secured: FastifyInstance;
/** No serve.auth.tokens, same app key. */
let open: FastifyInstance;
/** No app key given: mints nothing, accepts no pod token. */
let keyless: FastifyInstance;
const base = new Map<FastifyInstance, string>();
let clock = new Date('2026-03-02T03:00:05Z');
let logs = '';
const minted: string[] = [];

const task = { scheduled_at: '2026-03-02T03:00:00Z', instance_type: 'task', instance_name: 'warehouse-load' };
const hook = { scheduled_at: '2026-03-02T03:00:00Z', instance_type: 'hook', instance_name: 'page-oncall' };

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies of every route
type Json = any;

async function call(
  server: FastifyInstance,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; accept?: string } = {},
): Promise<{ status: number; headers: Headers; json: Json; raw: Buffer }> {
  const r = await fetch(base.get(server)! + path, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.accept ? { accept: opts.accept } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const raw = Buffer.from(await r.arrayBuffer());
  const isJson = (r.headers.get('content-type') ?? '').includes('json');
  return {
    status: r.status,
    headers: r.headers,
    json: isJson ? JSON.parse(raw.toString('utf8')) : undefined,
    raw,
  };
}

async function mint(
  job: string,
  body: Record<string, unknown>,
  opts: { token?: string; server?: FastifyInstance } = {},
) {
  const r = await call(opts.server ?? secured, 'POST', `${JOBS}/${job}/pod_token`, {
    token: opts.token ?? SCHEDULER,
    body,
  });
  if (r.status === 200) minted.push(r.json.token);
  return r;
}

async function mintOk(job: string, body: Record<string, unknown>): Promise<string> {
  const r = await mint(job, body);
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r.json.token;
}

const runInput = (
  job: string,
  body: Record<string, unknown>,
  token: string | undefined,
  opts: { server?: FastifyInstance; accept?: string } = {},
) =>
  call(opts.server ?? secured, 'POST', `${JOBS}/${job}/run_input`, {
    body,
    ...(token ? { token } : {}),
    ...(opts.accept ? { accept: opts.accept } : {}),
  });

async function untar(raw: Buffer): Promise<Map<string, string>> {
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
    parser.end(raw);
  });
  return entries;
}

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
  const podTokens = { key: podTokenKey(APP_KEY), now: () => clock };
  const common = { store, plugins, cipher, version: 'test', logger: pino({ level: 'trace' }, sink) };
  secured = await createApp({ ...common, tokens: [PLAIN], secretTokens: [SCHEDULER], podTokens });
  open = await createApp({ ...common, podTokens });
  keyless = await createApp({ ...common, tokens: [PLAIN], secretTokens: [SCHEDULER] });
  for (const server of [secured, open, keyless])
    base.set(server, await server.listen({ host: '127.0.0.1', port: 0 }));

  const presets = loadProjectConfig(EXAMPLE).config!.presetWindows;
  const setup = async (method: string, path: string, body: unknown) => {
    const r = await call(secured, method, path, { token: PLAIN, body });
    if (r.status >= 300) throw new Error(`${path}: ${JSON.stringify(r.json)}`);
  };
  await setup('POST', '/api/v1beta1/project', {
    project: { name: 'acme-analytics', config: { WAREHOUSE: 'acme_dw' }, plugin_dependencies: [], presets },
  });
  await setup('POST', '/api/v1beta1/project/acme-analytics/namespace', {
    namespace: { name: 'marketing', config: { TEAM_CHANNEL: '#marketing-data' } },
  });
  for (const [name, value] of [
    ['WH_TOKEN', WH_TOKEN],
    ['SLACK_TOKEN', SLACK_TOKEN],
  ])
    await setup('POST', `/api/v1beta1/project/acme-analytics/secret/${name}`, {
      value: Buffer.from(value!).toString('base64'),
    });
  await setup('POST', '/api/v1beta1/project/acme-analytics/namespace/marketing/deploy', {
    jobs: exampleJobs('marketing'),
  });
});
afterAll(async () => {
  for (const server of [secured, open, keyless]) await server?.close();
  await store?.close();
});

describe('minting a pod token', () => {
  it('gives the scheduler a token for one node and when it expires, kept out of caches', async () => {
    const r = await mint('campaign-performance', task);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(r.json).sort()).toEqual(['expires_at', 'token']);
    expect(r.json.token).toMatch(/^optimus-pod\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(r.json.expires_at).toBe('2026-03-02T04:00:05.000Z');
  });

  it('refuses a caller whose token may not read secrets, or who sends none', async () => {
    const plain = await mint('campaign-performance', task, { token: PLAIN });
    expect(plain.status).toBe(403);
    expect(plain.json).toMatchObject({
      code: 'POD_TOKEN_FORBIDDEN',
      hint: expect.stringContaining('read_secrets'),
    });
    const none = await call(secured, 'POST', `${JOBS}/campaign-performance/pod_token`, { body: task });
    expect(none.status).toBe(401);
  });

  it('refuses on a server with no read_secrets token, and on one without an app key', async () => {
    const noMinter = await mint('campaign-performance', task, { server: open });
    expect(noMinter.status).toBe(409);
    expect(noMinter.json).toMatchObject({
      code: 'POD_TOKEN_NO_MINTER',
      hint: expect.stringContaining('read_secrets: true'),
    });
    const noKey = await mint('campaign-performance', task, { server: keyless });
    expect(noKey.status).toBe(409);
    expect(noKey.json).toMatchObject({
      code: 'POD_TOKENS_UNAVAILABLE',
      hint: expect.stringContaining('app key'),
    });
  });

  it('answers 404 as run input does for a job not deployed or a node it does not have', async () => {
    const job = await mint('ghost', task);
    expect(job.status).toBe(404);
    expect(job.json).toMatchObject({ code: 'JOB_NOT_FOUND' });
    const noHook = await mint('campaign-performance', { ...hook, instance_name: 'nobody' });
    expect(noHook.status).toBe(404);
    expect(noHook.json).toEqual({
      code: 'INSTANCE_NOT_FOUND',
      message: 'job "campaign-performance" has no hook "nobody"',
      hint: 'hooks of this job: audit-input, check-source, audit-output, publish, page-oncall, notify-team',
      details: [{ path: 'instance_name', message: 'job "campaign-performance" has no hook "nobody"' }],
    });
    const notTask = await mint('campaign-performance', { ...task, instance_name: 'page-oncall' });
    expect(notTask.status).toBe(404);
    expect(notTask.json).toMatchObject({
      code: 'INSTANCE_NOT_FOUND',
      message: 'the task of job "campaign-performance" is "warehouse-load", not "page-oncall"',
    });
  });

  it('validates the body with the run input rules, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...task, scheduled_at: '2026-02-30T00:00:00Z' }, 'body.scheduled_at'],
      [{ ...task, scheduled_at: '2026-03-02T03:00:00' }, 'body.scheduled_at'],
      [{ instance_type: 'task', instance_name: 'warehouse-load' }, 'body.scheduled_at'],
      [{ ...task, instance_type: 'post' }, 'body.instance_type'],
      [{ ...task, instance_name: '' }, 'body.instance_name'],
      [{ ...task, instance_name: 'a\u0000b' }, 'body.instance_name'],
    ];
    for (const [body, path] of cases) {
      const r = await mint('campaign-performance', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    expect((await mint(encodeURIComponent('../etc'), task)).status).toBe(400);
  });

  it('is in the OpenAPI document, authenticated', async () => {
    const doc = (await call(secured, 'GET', '/api/openapi.json')).json;
    const op = doc.paths['/api/v1beta1/project/{project}/job/{job}/pod_token'].post;
    expect(op.security).toEqual([{ bearer: [] }]);
    expect(op.requestBody.content['application/json'].schema.required.sort()).toEqual([
      'instance_name',
      'instance_type',
      'scheduled_at',
    ]);
  });
});

describe('fetching run input with a pod token', () => {
  it("answers the node's input with its secrets, as JSON and as a tar", async () => {
    const token = await mintOk('campaign-performance', task);
    const r = await runInput('campaign-performance', task, token);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.secrets).toEqual({ WH_TOKEN });
    expect(r.json.secrets_withheld).toEqual([]);
    expect(r.json.envs).toMatchObject({ JOB_NAME: 'campaign-performance', DSTART: '2026-02-28T00:00:00Z' });

    const tar = await runInput('campaign-performance', task, token, { accept: 'application/x-tar' });
    expect(tar.status).toBe(200);
    expect(tar.headers.get('content-type')).toBe('application/x-tar');
    expect(tar.headers.get('x-optimus-secrets-withheld')).toBe('');
    const files = await untar(tar.raw);
    expect(files.get('in/.secret')).toBe(`WH_TOKEN='${WH_TOKEN}'\n`);
  });

  it('accepts the request however it spells the same node and instant', async () => {
    const token = await mintOk('campaign-performance', hook);
    const r = await runInput(
      'campaign-performance',
      {
        scheduled_at: '2026-03-02T05:00:00+02:00',
        instance_type: 'TYPE_HOOK',
        instance_name: 'page__dash__oncall',
      },
      token,
    );
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.secrets).toEqual({ SLACK_TOKEN, TASK__WH_TOKEN: WH_TOKEN });
  });

  it('refuses a request for another project, job, instance type, node or time, saying which', async () => {
    const token = await mintOk('campaign-performance', hook);
    const cases: [string, string, Record<string, unknown>, string][] = [
      ['project', '/api/v1beta1/project/other-project/job/campaign-performance', hook, 'project'],
      ['job', `${JOBS}/attribution`, hook, 'job'],
      ['type', `${JOBS}/campaign-performance`, { ...hook, instance_type: 'task' }, 'instance_type'],
      ['node', `${JOBS}/campaign-performance`, { ...hook, instance_name: 'notify-team' }, 'instance_name'],
      [
        'time',
        `${JOBS}/campaign-performance`,
        { ...hook, scheduled_at: '2026-03-03T03:00:00Z' },
        'scheduled_at',
      ],
    ];
    for (const [what, path, body, field] of cases) {
      const r = await call(secured, 'POST', `${path}/run_input`, { token, body });
      expect(r.status, what).toBe(403);
      expect(r.json.code, what).toBe('POD_TOKEN_SCOPE');
      expect(r.json.message, what).toBe(`the pod token is not for this request: its ${field} differs`);
      expect(r.json.hint, what).toMatch(/job, node and scheduled time it was minted for/);
      expect(r.raw.toString('utf8'), what).not.toContain(token);
      expect(r.raw.toString('utf8'), what).not.toContain(SLACK_TOKEN);
    }
  });

  it('refuses an expired token, and accepts it until then', async () => {
    const token = await mintOk('campaign-performance', task);
    const start = clock;
    try {
      clock = new Date(start.getTime() + HOUR - 1);
      expect((await runInput('campaign-performance', task, token)).status).toBe(200);
      clock = new Date(start.getTime() + HOUR);
      const r = await runInput('campaign-performance', task, token);
      expect(r.status).toBe(403);
      expect(r.json).toMatchObject({
        code: 'POD_TOKEN_EXPIRED',
        message: 'the pod token has expired',
        hint: expect.stringContaining('scheduler.pod_token_ttl'),
      });
    } finally {
      clock = start;
    }
  });

  it('refuses a token whose payload or signature was altered', async () => {
    const token = await mintOk('campaign-performance', task);
    const [, payload, sig] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forged = Buffer.from(
      JSON.stringify({ ...claims, n: 'other', exp: claims.exp + 100 * HOUR }),
    ).toString('base64url');
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    for (const bad of [`optimus-pod.${forged}.${sig}`, `optimus-pod.${payload}.${flip(sig)}`]) {
      const r = await runInput('campaign-performance', task, bad);
      expect(r.status).toBe(403);
      expect(r.json).toMatchObject({ code: 'POD_TOKEN_INVALID', hint: expect.any(String) });
      expect(r.raw.toString('utf8')).not.toContain(sig);
    }
    const garbage = await runInput('campaign-performance', task, 'optimus-pod.%%%');
    expect(garbage.status).toBe(403);
    expect(garbage.json).toMatchObject({ code: 'POD_TOKEN_INVALID', message: 'the pod token is malformed' });
  });

  it('refuses a pod token on a server without the app key that signed it', async () => {
    const token = await mintOk('campaign-performance', task);
    const r = await runInput('campaign-performance', task, token, { server: keyless });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('POD_TOKEN_INVALID');
  });

  it('is refused on every other route, authenticated or not, on either server', async () => {
    const token = await mintOk('campaign-performance', task);
    for (const server of [secured, open]) {
      for (const [method, path, body] of [
        ['GET', JOBS, undefined],
        ['GET', `${JOBS}/campaign-performance`, undefined],
        ['POST', `${JOBS}/campaign-performance/pod_token`, task],
        ['GET', '/api/v1beta1/project/acme-analytics/secret', undefined],
        ['GET', '/api/v1beta1/no-such-route', undefined],
      ] as const) {
        const r = await call(server, method, path, { token, ...(body ? { body } : {}) });
        expect(r.status, `${method} ${path}`).toBe(403);
        expect(r.json.code, `${method} ${path}`).toBe('POD_TOKEN_ROUTE');
      }
      // Public routes ask for no credential, so a pod token changes nothing there.
      expect((await call(server, 'GET', '/ping', { token })).status).toBe(200);
    }
  });

  it('is the only way to secrets on a server without auth tokens', async () => {
    const token = await mintOk('campaign-performance', task);
    const withToken = await runInput('campaign-performance', task, token, { server: open });
    expect(withToken.status, JSON.stringify(withToken.json)).toBe(200);
    expect(withToken.json.secrets).toEqual({ WH_TOKEN });
    const without = await runInput('campaign-performance', task, undefined, { server: open });
    expect(without.status).toBe(200);
    expect(without.json).toMatchObject({ secrets: {}, secrets_withheld: ['WH_TOKEN'] });
    const wrongNode = await runInput('campaign-performance', hook, token, { server: open });
    expect(wrongNode.status).toBe(403);
    expect(wrongNode.json.code).toBe('POD_TOKEN_SCOPE');
  });

  it('never writes a pod token, its signature or a secret to the server log', async () => {
    const token = await mintOk('campaign-performance', task);
    await runInput('campaign-performance', task, token);
    await runInput('campaign-performance', hook, token);
    await runInput('campaign-performance', task, `${token.slice(0, -2)}xx`);
    await call(secured, 'GET', JOBS, { token });
    expect(logs).toContain('/pod_token');
    expect(logs).toContain('/run_input');
    expect(minted.length).toBeGreaterThan(5);
    for (const t of minted) {
      expect(logs).not.toContain(t);
      expect(logs).not.toContain(t.slice(-43));
      expect(logs).not.toContain(t.split('.')[1]);
    }
    expect(logs).not.toContain(WH_TOKEN);
    expect(logs).not.toContain(SLACK_TOKEN);
    expect(logs).not.toContain(SCHEDULER);
  });
});
