import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptimusError } from '../../src/core/errors.js';
import { createApp } from '../../src/server/app.js';
import { MAX_JSON_DEPTH } from '../../src/server/json-body.js';
import { loadPluginRegistry } from '../../src/server/plugin-registry.js';
import { createSecretCipher } from '../../src/services/secret-cipher.js';
import type { Store } from '../../src/store/store.js';
import { APP_KEY, exampleJobs, registerExample, type TestServer, testServer } from '../helpers/server.js';
import { EXAMPLE_PLUGINS } from '../helpers/temp-project.js';

let s: TestServer;
beforeAll(async () => {
  s = await testServer();
  await registerExample(s.app);
});
afterAll(async () => s.close());

const P = '/api/v1beta1/project/acme-analytics';
const b64 = (x: string | Buffer) => Buffer.from(x).toString('base64');
const send = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
  s.app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
const sendText = (url: string, text: string) =>
  s.app.inject({ method: 'POST', url, payload: text, headers: { 'content-type': 'application/json' } });
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deploy = (jobs: unknown[], ns = 'marketing') => send('POST', `${P}/namespace/${ns}/deploy`, { jobs });
const attribution = () => exampleJobs('marketing').find((j) => j.name === 'attribution')!;

/** What no answer may carry: a stack trace, or a database's or parser's own words. */
function expectClean(body: string) {
  expect(body).not.toMatch(/\bat .+:\d+:\d+/);
  expect(body).not.toMatch(/byte sequence|UTF8|syntax error|Unexpected token|JSON at position|FST_/);
}

describe('request bodies nested too deep', () => {
  it('refuses a deploy nested thousands of levels deep with a 400 naming the limit', async () => {
    const r = await sendText(`${P}/namespace/marketing/deploy`, `{"jobs":[{"name":${nested(5000)}}]}`);
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'REQUEST_TOO_DEEP' });
    expect(r.json().message).toContain(String(MAX_JSON_DEPTH));
    expectClean(r.body);
    expect((await send('GET', '/ping')).statusCode).toBe(200);
  });

  it('accepts nesting up to the limit and counts brackets inside strings as text', async () => {
    const at = await sendText('/api/v1beta1/project', `{"project":${nested(MAX_JSON_DEPTH - 1)}}`);
    expect(at.json().code).toBe('REQUEST_INVALID');
    const over = await sendText('/api/v1beta1/project', `{"project":${nested(MAX_JSON_DEPTH)}}`);
    expect(over.json().code).toBe('REQUEST_TOO_DEEP');
    const inString = JSON.stringify({ project: { name: 'brackets', config: { Q: '['.repeat(500) } } });
    expect((await sendText('/api/v1beta1/project', inString)).statusCode).toBe(200);
    const escapedQuote = JSON.stringify({
      project: { name: 'quotes', config: { Q: `\\"${'{'.repeat(200)}` } },
    });
    expect((await sendText('/api/v1beta1/project', escapedQuote)).statusCode).toBe(200);
  });

  it('answers malformed JSON in its own words', async () => {
    const r = await sendText('/api/v1beta1/project', '{"project": [1,}');
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({
      code: 'REQUEST_INVALID',
      message: 'the request body is not valid JSON',
    });
    expectClean(r.body);
    const poisoned = await sendText('/api/v1beta1/project', '{"project":{"name":"x","__proto__":{"a":1}}}');
    expect(poisoned.statusCode).toBe(400);
    expectClean(poisoned.body);
  });
});

describe('malformed requests', () => {
  it('answers bad percent-encoding, over-long segments and non-JSON bodies in the API’s own shape', async () => {
    const badUrl = await send('GET', '/api/v1beta1/project/%zz');
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json()).toMatchObject({
      code: 'REQUEST_INVALID',
      message: expect.stringContaining('percent-encoding'),
    });
    const long = await send('GET', `/api/v1beta1/project/${'p'.repeat(1001)}`);
    expect(long.statusCode).toBe(414);
    expect(long.json().code).toBe('REQUEST_INVALID');
    const form = await s.app.inject({
      method: 'POST',
      url: '/api/v1beta1/project',
      payload: 'project=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.statusCode).toBe(415);
    expect(form.json()).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      hint: expect.stringContaining('application/json'),
    });
    const empty = await sendText('/api/v1beta1/project', '');
    expect(empty.statusCode).toBe(400);
    expect(empty.json().message).toContain('empty');
    for (const r of [badUrl, long, form, empty]) expectClean(r.body);
  });
});

describe('secret values', () => {
  it('refuses a value of a few MB with 413 before parsing it', async () => {
    const r = await send('POST', `${P}/secret/BIG`, { value: b64(Buffer.alloc(3 * 1024 * 1024, 7)) });
    expect(r.statusCode).toBe(413);
    expect(r.json()).toMatchObject({ code: 'REQUEST_TOO_LARGE' });
    expect(r.json().message).toMatch(/larger than this route accepts \(\d+ bytes\)/);
  });

  it('accepts 64 KiB and refuses one byte more, saying what the limit is', async () => {
    const ok = await send('POST', `${P}/secret/AT_LIMIT`, { value: b64(Buffer.alloc(64 * 1024, 1)) });
    expect(ok.statusCode).toBe(201);
    const over = await send('POST', `${P}/secret/OVER_LIMIT`, { value: b64(Buffer.alloc(64 * 1024 + 1, 1)) });
    expect(over.statusCode).toBe(400);
    expect(over.json().details).toEqual([
      { path: 'body.value', message: expect.stringContaining('at most 64 KiB') },
    ]);
  });

  it('accepts padded base64 and refuses anything else', async () => {
    for (const value of ['', 'YQ==', 'YWI=', 'YWJj', 'a+/9']) {
      const r = await send('PUT', `${P}/secret/AT_LIMIT`, { value });
      expect(r.statusCode, value).toBe(200);
    }
    for (const value of ['YQ=', 'Y===', 'YQ==YQ==', 'YW-j', 'YW_j', 'YWJ\u0000', 'YW j', 'Y', '=YWJ']) {
      const r = await send('PUT', `${P}/secret/AT_LIMIT`, { value });
      expect(r.statusCode, value).toBe(400);
      expectClean(r.body);
    }
  });
});

describe('names', () => {
  it('refuses a NUL or control character in any name with a 400 naming the field', async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/v1beta1/project', { project: { name: 'a\u0000b' } }, 'body.project.name'],
      ['POST', `${P}/namespace`, { namespace: { name: 'ns\u0007' } }, 'body.namespace.name'],
      ['GET', '/api/v1beta1/project/a%00b', undefined, 'params.project'],
      ['GET', `${P}/namespace/m%1Bx`, undefined, 'params.namespace'],
      ['GET', `${P}/namespace/marketing/job/j%00`, undefined, 'params.job'],
      ['DELETE', `${P}/namespace/marketing/job/j%7F`, undefined, 'params.job'],
      ['POST', `${P}/secret/A%00B`, { value: 'YQ==' }, 'params.name'],
      ['DELETE', `${P}/secret/TOKEN?namespace_name=x%00`, undefined, 'query.namespace_name'],
      ['POST', `${P}/secret/OK`, { value: 'YQ==', namespace_name: 'm\u0000' }, 'body.namespace_name'],
    ];
    for (const [method, url, payload, path] of cases) {
      const r = await send(method as 'GET', url, payload);
      expect(r.statusCode, url).toBe(400);
      expect(r.json().details.map((d: { path: string }) => d.path)).toContain(path);
      expectClean(r.body);
    }
  });

  it('refuses a NUL anywhere in a deployed job, naming where it is, and changes nothing', async () => {
    const job = { ...attribution(), description: 'nul \u0000 here' };
    const r = await deploy([job]);
    expect(r.statusCode).toBe(400);
    expect(r.json().details).toEqual([
      { path: 'body.jobs[0].description', message: 'contains a NUL character' },
    ]);
    expectClean(r.body);
    const surrogate = await deploy([{ ...attribution(), description: 'half \ud800 emoji' }]);
    expect(surrogate.statusCode).toBe(400);
    expect(surrogate.json().details[0]).toMatchObject({
      path: 'body.jobs[0].description',
      message: expect.stringContaining('surrogate'),
    });
    const emoji = await deploy([{ ...attribution(), description: 'whole 💩 emoji' }]);
    expect(emoji.statusCode).toBe(200);
    const key = await send('POST', '/api/v1beta1/project', {
      project: { name: 'k', config: { 'A\u0000': 'v' } },
    });
    expect(key.statusCode).toBe(400);
    expect(key.json().details[0].path).toBe('body.project.config["A\\\\u0000"]');
  });

  it('limits name lengths: job names to 125 characters as upstream', async () => {
    const long = 'j'.repeat(125);
    const ok = await deploy([{ ...attribution(), name: long }], 'finance');
    expect(ok.statusCode).toBe(200);
    expect((await send('GET', `${P}/namespace/finance/job/${long}`)).statusCode).toBe(200);
    const tooLong = await deploy([{ ...attribution(), name: `${long}j` }], 'finance');
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().details[0].path).toBe('jobs[0].name');
    expect((await send('GET', `${P}/namespace/finance/job/${long}j`)).json().details[0]).toEqual({
      path: 'params.job',
      message: 'must be at most 125 characters',
    });
    expect((await deploy([], 'finance')).json().deploy.deleted).toEqual([long]);
  });

  it('limits project, namespace and secret names to 100 characters', async () => {
    expect(
      (await send('POST', '/api/v1beta1/project', { project: { name: 'p'.repeat(100) } })).statusCode,
    ).toBe(200);
    const project = await send('POST', '/api/v1beta1/project', { project: { name: 'p'.repeat(101) } });
    expect(project.json().details).toEqual([
      { path: 'body.project.name', message: 'must be at most 100 characters' },
    ]);
    const ns = await send('POST', `${P}/namespace`, { namespace: { name: 'n'.repeat(101) } });
    expect(ns.json().details[0].path).toBe('body.namespace.name');
    const secret = await send('POST', `${P}/secret/${'S'.repeat(101)}`, { value: 'YQ==' });
    expect(secret.statusCode).toBe(400);
    expect(secret.json().details[0].path).toBe('params.name');
  });

  it('refuses asset names that could leave assets/, reporting the job’s other problems too', async () => {
    for (const name of [
      '.',
      '..',
      '%2e%2e',
      '%252e%252e',
      'a\\b',
      'sub/../../x',
      'sub/%2e%2e/x',
      '/etc/passwd',
      '%2Fetc',
      'sub//x',
      'sub/',
      'tab\tname',
    ]) {
      const job = {
        ...attribution(),
        owner: undefined,
        assets: { [name]: 'select 1', 'main.py': 'print(1)' },
      };
      const r = await deploy([job]);
      expect(r.statusCode, name).toBe(400);
      const codes = r.json().details.map((d: { code: string; path: string }) => `${d.code} ${d.path}`);
      expect(codes, name).toContain(`ASSET_NAME_INVALID jobs[0].assets[${JSON.stringify(name)}]`);
      expect(codes, name).toContain('JOB_FIELD_MISSING jobs[0].owner');
      expectClean(r.body);
    }
    const fine = await deploy([
      { ...attribution(), assets: { 'query.v2.sql': 'select 1', '..sql': 'x', 'sql/part.sql': 'select 2' } },
    ]);
    expect(fine.statusCode).toBe(200);
    await deploy(exampleJobs('marketing'));
  });
});

describe('hook rules at project registration', () => {
  const register = (rules: string[]) =>
    send('POST', '/api/v1beta1/project', { project: { name: 'rules', plugin_dependencies: rules } });

  it('refuses rules that contradict each other, naming the cycle and the rules in it', async () => {
    const two = await register(['a >> b', 'b >> a']);
    expect(two.statusCode).toBe(400);
    expect(two.json()).toMatchObject({
      code: 'HOOK_RULE_CYCLE',
      message: expect.stringContaining('a → b → a'),
    });
    const three = await register(['x >> y', 'a >> b', 'b >> c,z', 'c >> a']);
    expect(three.json().code).toBe('HOOK_RULE_CYCLE');
    expect(three.json().message).toContain('a → b → c → a');
    expect(three.json().details.map((d: { path: string }) => d.path)).toEqual([
      'body.project.plugin_dependencies[1]',
      'body.project.plugin_dependencies[2]',
      'body.project.plugin_dependencies[3]',
    ]);
    const chained = await register(['a >> b >> c', 'c >> a']);
    expect(chained.json().code).toBe('HOOK_RULE_CYCLE');
    expect((await send('GET', '/api/v1beta1/project/rules')).statusCode).toBe(404);
  });

  it('accepts rules that only share hooks, without a cycle', async () => {
    const r = await register(['a >> b,c', 'b >> c', 'a >> c', 'd >> c']);
    expect(r.statusCode).toBe(200);
  });

  it('warns about names that are neither plugins of the server nor hooks of deployed jobs', async () => {
    const r = await register(['slack-notify >> ghost-plugin', 'data-audit >> publish-event']);
    expect(r.statusCode).toBe(200);
    expect(r.json().warnings).toEqual([
      {
        path: 'body.project.plugin_dependencies[0]',
        code: 'HOOK_RULE_UNKNOWN_NAME',
        message: expect.stringContaining('"ghost-plugin", which is not a plugin on this server'),
      },
    ]);
    const example = await send('POST', '/api/v1beta1/project', {
      project: {
        name: 'acme-analytics',
        plugin_dependencies: ['audit-output >> notify-team', 'nobody >> publish'],
      },
    });
    // audit-output, notify-team and publish are hooks of the deployed example jobs.
    expect(example.json().warnings.map((w: { message: string }) => w.message)).toEqual([
      expect.stringContaining('"nobody"'),
    ]);
    await registerExample(s.app);
  });
});

describe('window presets sent at registration', () => {
  const presets = { yesterday: { description: 'previous day', window: { size: '1d', shift_by: '-1d' } } };
  const withPreset = (preset: string) => {
    const job = exampleJobs('marketing').find((j) => j.name === 'campaign-performance')!;
    const task = job.task as Record<string, unknown>;
    return { ...job, task: { ...task, window: { preset } } };
  };
  const register = (body: Record<string, unknown>) =>
    send('POST', '/api/v1beta1/project', {
      project: {
        name: 'acme-analytics',
        plugin_dependencies: ['audit-output >> notify-team,publish', 'check-source >> audit-input'],
        ...body,
      },
    });

  it('refuses a job naming a preset the project does not define', async () => {
    const r = await register({ presets });
    expect(r.json().project.presets).toEqual(presets);
    expect((await deploy([withPreset('yesterday'), attribution()])).statusCode).toBe(200);
    const bad = await deploy([withPreset('last_week'), attribution()]);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details.filter((d: { severity: string }) => d.severity === 'error')).toEqual([
      expect.objectContaining({
        code: 'WINDOW_INVALID',
        path: 'jobs[0].task.window.preset',
        message: expect.stringContaining('known presets: yesterday'),
      }),
    ]);
  });

  it('re-validates deployed jobs when the presets change, and refuses every preset when none are defined', async () => {
    await register({ presets });
    expect((await deploy([withPreset('yesterday'), attribution()])).statusCode).toBe(200);
    await register({ presets: {} });
    const r = await deploy([withPreset('yesterday'), attribution()]);
    expect(r.statusCode).toBe(400);
    expect(r.json().details[0].message).toContain('defines no presets');
  });

  it('does not check presets for a client that sends none', async () => {
    await register({});
    expect((await deploy([withPreset('anything'), attribution()])).statusCode).toBe(200);
    await registerExample(s.app);
    await deploy(exampleJobs('marketing'));
  });

  it('refuses a presets map that is not presets', async () => {
    const r = await register({ presets: { p: { window: { size: '1d', colour: 'red' } } } });
    expect(r.statusCode).toBe(400);
    expect(r.json().details[0].path).toMatch(/^body\.project\.presets\.p\.window/);
  });
});

describe('tokens in the query string', () => {
  it('is refused, with or without auth configured', async () => {
    const r = await send('GET', '/api/v1beta1/project?token=abc');
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({
      code: 'TOKEN_IN_QUERY',
      hint: expect.stringContaining('Authorization'),
    });
    expect(r.body).not.toContain('abc');
  });

  it('is never written to the request log in clear', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const app = await createApp({
      store: s.store,
      plugins: await loadPluginRegistry(EXAMPLE_PLUGINS),
      cipher: createSecretCipher(APP_KEY),
      tokens: ['tok-1'],
      logger: pino({ level: 'info' }, sink),
      version: 'test',
    });
    try {
      const r = await app.inject({
        method: 'GET',
        url: '/api/v1beta1/project?access_token=s3cr3t-in-url&x=1',
      });
      expect(r.statusCode).toBe(400);
      const log = lines.join('');
      expect(log).toContain('/api/v1beta1/project?access_token=[redacted]&x=[redacted]');
      expect(log).not.toContain('s3cr3t-in-url');
    } finally {
      await app.close();
    }
  });
});

describe('store failures', () => {
  /** The example store, with one method failing as a driver would. */
  function failing(error: unknown): Store {
    return new Proxy(s.store, {
      get(target, key, receiver) {
        if (key === 'listProjects') return async () => Promise.reject(error);
        if (key === 'close') return async () => {};
        return Reflect.get(target, key, receiver);
      },
    });
  }

  it('answers a generic 500 without the database’s text, and logs the text instead', async () => {
    const errors = [
      Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' }),
      new OptimusError('STORE_QUERY_FAILED', 'store query failed: relation "projects" does not exist', {
        category: 'internal',
      }),
    ];
    for (const error of errors) {
      const t = await testServer({ store: failing(error) });
      try {
        const r = await t.app.inject({ method: 'GET', url: '/api/v1beta1/project' });
        expect(r.statusCode).toBe(500);
        expect(r.json()).toMatchObject({ message: 'internal server error', details: [] });
        expect(r.body).not.toMatch(/byte sequence|relation|projects"/);
      } finally {
        await t.close();
      }
    }
  });

  it('answers 503 when the store is unreachable, without its address', async () => {
    const down = new OptimusError(
      'STORE_UNREACHABLE',
      'cannot reach PostgreSQL at postgres://u:***@db-host:5432/x',
      {
        category: 'io',
      },
    );
    const t = await testServer({ store: failing(down) });
    try {
      const r = await t.app.inject({ method: 'GET', url: '/api/v1beta1/project' });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toMatchObject({ code: 'STORE_UNREACHABLE', hint: 'try again later' });
      expect(r.body).not.toContain('db-host');
    } finally {
      await t.close();
    }
  });
});
