import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProjectConfig } from '../../src/spec/project-config.js';
import { loadServerConfig } from '../../src/spec/server-config.js';
import { type ServeProcess, startServe } from '../helpers/serve-process.js';
import { exampleJobs } from '../helpers/server.js';
import { EXAMPLE, EXAMPLE_PLUGINS, tempDir } from '../helpers/temp-project.js';

const SCHEDULER = 'airflow-scheduler-token-0001';
const PLAIN = 'plain-token-0002';
const WH_TOKEN = 'wh-s3cret-value-0001';
const JOBS = '/api/v1beta1/project/acme-analytics/job';
const task = { scheduled_at: '2026-03-02T03:00:00Z', instance_type: 'task', instance_name: 'warehouse-load' };

let root = '';
let server: ServeProcess;

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies of every route
async function call(method: string, path: string, token: string | undefined, body?: unknown): Promise<any> {
  const r = await fetch(server.url + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, json: await r.json() };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'optimus-pod-token-'));
  server = await startServe(
    join(root, 'data'),
    ['--no-runner'],
    { OPTIMUS_LOG_LEVEL: 'info' },
    [
      'serve:',
      '  host: 127.0.0.1',
      '  auth:',
      `    tokens: [${PLAIN}, {token: ${SCHEDULER}, read_secrets: true}]`,
      `plugins: {install_location: ${JSON.stringify(EXAMPLE_PLUGINS)}}`,
      'scheduler: {pod_token_ttl: 90s}',
      '',
    ].join('\n'),
  );
  const setup = async (path: string, body: unknown) => {
    const r = await call('POST', path, PLAIN, body);
    if (r.status >= 300) throw new Error(`${path}: ${JSON.stringify(r.json)}`);
  };
  await setup('/api/v1beta1/project', {
    project: {
      name: 'acme-analytics',
      config: { WAREHOUSE: 'acme_dw' },
      plugin_dependencies: [],
      presets: loadProjectConfig(EXAMPLE).config!.presetWindows,
    },
  });
  await setup('/api/v1beta1/project/acme-analytics/namespace', { namespace: { name: 'marketing' } });
  await setup('/api/v1beta1/project/acme-analytics/secret/WH_TOKEN', {
    value: Buffer.from(WH_TOKEN).toString('base64'),
  });
  const jobs = exampleJobs('marketing').filter((j) => j.name === 'campaign-performance');
  await setup('/api/v1beta1/project/acme-analytics/namespace/marketing/deploy', { jobs });
}, 60_000);
afterAll(async () => {
  if (server) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  rmSync(root, { recursive: true, force: true });
});

describe('optimus serve with pod tokens', () => {
  it('mints with its app key for scheduler.pod_token_ttl and serves secrets to that token only', async () => {
    const before = Date.now();
    const minted = await call('POST', `${JOBS}/campaign-performance/pod_token`, SCHEDULER, task);
    const after = Date.now();
    expect(minted.status, JSON.stringify(minted.json)).toBe(200);
    const expires = Date.parse(minted.json.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 90_000);
    expect(expires).toBeLessThanOrEqual(after + 90_000);

    const input = await call('POST', `${JOBS}/campaign-performance/run_input`, minted.json.token, task);
    expect(input.status, JSON.stringify(input.json)).toBe(200);
    expect(input.json.secrets).toEqual({ WH_TOKEN });
    const plain = await call('POST', `${JOBS}/campaign-performance/run_input`, PLAIN, task);
    expect(plain.json.secrets_withheld).toEqual(['WH_TOKEN']);
    const other = await call('GET', JOBS, minted.json.token);
    expect(other).toMatchObject({ status: 403, json: { code: 'POD_TOKEN_ROUTE' } });
    const tooLate = await call('POST', `${JOBS}/campaign-performance/run_input`, minted.json.token, {
      ...task,
      scheduled_at: '2026-03-02T04:00:00Z',
    });
    expect(tooLate).toMatchObject({ status: 403, json: { code: 'POD_TOKEN_SCOPE' } });

    // The log records the requests, never the token nor the secret.
    const log = server.stdout();
    expect(log).toContain('/pod_token');
    expect(log).toContain('/run_input');
    expect(log).not.toContain(minted.json.token);
    expect(log).not.toContain(minted.json.token.split('.')[2]);
    expect(log).not.toContain(WH_TOKEN);
    expect(server.stderr()).not.toContain(minted.json.token);
  });
});

describe('scheduler.pod_token_ttl', () => {
  const load = (ttl: string) => {
    const dir = tempDir();
    const file = join(dir, 'server.yaml');
    writeFileSync(file, `scheduler: {type: airflow, pod_token_ttl: ${JSON.stringify(ttl)}}\n`);
    return loadServerConfig(file);
  };

  it('reads a duration, and leaves the 1h default to the server when absent', () => {
    expect(load('15m').config?.scheduler.podTokenTtlMs).toBe(15 * 60_000);
    expect(load('1h30m').config?.scheduler.podTokenTtlMs).toBe(90 * 60_000);
  });

  it('refuses what is not a duration, shorter than a second or longer than a week', () => {
    for (const [ttl, message] of [
      ['soon', 'a duration such as 30m or 1h'],
      ['0s', 'a duration of at least 1s, such as 30m or 1h'],
      ['500ms', 'a duration of at least 1s, such as 30m or 1h'],
      ['169h', 'at most 168h: a pod token is meant to be short-lived'],
    ]) {
      const r = load(ttl!);
      expect(r.config, ttl).toBeUndefined();
      expect(
        r.problems.map((p) => [p.path, p.message]),
        ttl,
      ).toContainEqual(['scheduler.pod_token_ttl', message]);
    }
  });
});
