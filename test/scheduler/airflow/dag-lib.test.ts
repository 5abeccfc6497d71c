/**
 * __lib.py at work: a compiled DAG's tasks run by python3 against the Airflow stand-in, talking to
 * a real HTTP server on 127.0.0.1 that answers as the Optimus server does.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DagJob, POD_ENV } from '../../../src/scheduler/airflow/contract.js';
import { compileDag } from '../../../src/scheduler/airflow/dag-compiler.js';
import { libPy } from '../../../src/scheduler/airflow/lib-py.js';
import { tempDir } from '../../helpers/temp-project.js';
import { STUB } from './dag-support.js';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
  headers: IncomingMessage['headers'];
}
type Handler = (req: Seen) => { status: number; body: unknown };

let server: Server;
let base: string;
let seen: Seen[] = [];
let handler: Handler = () => ({ status: 404, body: {} });

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const s: Seen = {
        method: req.method!,
        url: req.url!,
        authorization: req.headers.authorization,
        body,
        headers: req.headers,
      };
      seen.push(s);
      const answer = handler(s);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  seen = [];
});

const SCHEDULED = '2026-03-02T03:00:00+00:00';
const AIRFLOW_TOKEN = 'airflow-held-api-token';

function job(host: string): DagJob {
  return {
    project: 'proj',
    namespace: 'ns',
    name: 'orders',
    owner: 'o',
    description: '',
    startDate: '2026-01-01',
    interval: '0 3 * * *',
    dependsOnPast: false,
    catchUp: false,
    retry: { count: 0, delaySeconds: 0, exponentialBackoff: false },
    labels: {},
    nodes: [
      { name: 'load', type: 'load', stage: 'task', dependsOn: [], image: 'reg/load:1-aaaaaaaa' },
      { name: 'notify-team', type: 'notify', stage: 'post', dependsOn: ['load'], image: 'reg/n:1-bbbbbbbb' },
    ],
    upstreams: [{ project: 'proj', namespace: 'ns', job: 'raw events' }],
    http: [
      {
        name: 'feed',
        url: `${host}/feed/ready`,
        headers: { 'X-Team': 'data' },
        params: { day: '2026-03-01' },
      },
    ],
  };
}

/** Write the helper and the DAG, then run one task (execute or poke) in python3. */
async function runTask(
  taskId: string,
  action: 'execute' | 'poke',
  env: Record<string, string> = { AIRFLOW_CONN_OPTIMUS: `http://:${AIRFLOW_TOKEN}@optimus` },
  // biome-ignore lint/suspicious/noExplicitAny: the script's JSON
): Promise<any> {
  const root = tempDir();
  const dags = join(root, 'dags');
  const file = join(dags, 'ns', 'orders.py');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(join(dags, '__lib.py'), libPy());
  writeFileSync(file, compileDag(job(base), { optimusHost: base }));
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AIRFLOW_')));
  const child = spawn('python3', [join(STUB, 'run_task.py'), dags, file, taskId, SCHEDULED, action], {
    env: { ...clean, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  child.stderr.on('data', (c) => {
    err += c;
  });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`run_task.py exited ${code}: ${err}`);
  return JSON.parse(out);
}

describe('the pod operator', () => {
  it('mints a pod token for its node and time with the Airflow connection, and gives it to the pod', async () => {
    handler = () => ({
      status: 200,
      body: { token: 'optimus-pod.payload.sig', expires_at: '2026-03-02T04:00:00Z' },
    });
    const out = await runTask('hook.notify-team', 'execute');
    expect(out.error).toBeUndefined();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.url).toBe('/api/v1beta1/project/proj/job/orders/pod_token');
    expect(seen[0]!.authorization).toBe(`Bearer ${AIRFLOW_TOKEN}`);
    expect(JSON.parse(seen[0]!.body)).toEqual({
      instance_type: 'hook',
      instance_name: 'notify-team',
      scheduled_at: SCHEDULED,
    });
    expect(out.pods).toHaveLength(1);
    const env = Object.fromEntries(
      out.pods[0].env.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    expect(env).toEqual({
      [POD_ENV.host]: base,
      [POD_ENV.project]: 'proj',
      [POD_ENV.job]: 'orders',
      [POD_ENV.instanceType]: 'hook',
      [POD_ENV.instanceName]: 'notify-team',
      [POD_ENV.scheduledAt]: SCHEDULED,
      [POD_ENV.token]: 'optimus-pod.payload.sig',
    });
    expect(JSON.stringify(out.pods)).not.toContain(AIRFLOW_TOKEN);
  });

  it('takes the token from the Airflow variable when there is no connection', async () => {
    handler = () => ({ status: 200, body: { token: 'optimus-pod.x.y', expires_at: '2026-03-02T04:00:00Z' } });
    const out = await runTask('load', 'execute', { AIRFLOW_VAR_OPTIMUS_TOKEN: 'from-variable' });
    expect(out.error).toBeUndefined();
    expect(seen[0]!.authorization).toBe('Bearer from-variable');
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ instance_type: 'task', instance_name: 'load' });
  });

  it('fails the task with the server’s code and message when the server refuses, never quoting the token', async () => {
    handler = () => ({
      status: 403,
      body: {
        code: 'POD_TOKEN_FORBIDDEN',
        message: 'minting a pod token needs a token that may read secrets',
      },
    });
    const out = await runTask('load', 'execute');
    expect(out.error).toContain(
      'HTTP 403 POD_TOKEN_FORBIDDEN: minting a pod token needs a token that may read secrets',
    );
    expect(out.error).not.toContain(AIRFLOW_TOKEN);
    expect(out.pods).toBeUndefined();
    expect(seen).toHaveLength(1); // a refusal is not retried
  });

  it('retries a server error and launches the pod once the server answers', async () => {
    let calls = 0;
    handler = () =>
      ++calls < 3
        ? { status: 503, body: { code: 'UNAVAILABLE', message: 'starting' } }
        : { status: 200, body: { token: 'optimus-pod.a.b', expires_at: 'x' } };
    const out = await runTask('load', 'execute');
    expect(out.error).toBeUndefined();
    expect(seen).toHaveLength(3);
    expect(out.pods).toHaveLength(1);
  });
});

describe('the upstream sensor', () => {
  const window = { DSTART: '2026-03-01T00:00:00Z', DEND: '2026-03-02T00:00:00Z' };
  const answer =
    (runs: { id: number; scheduled_at: string; status: string }[]): Handler =>
    (req) =>
      req.url.endsWith('/run_input')
        ? { status: 200, body: { envs: window, files: {}, secrets: {}, secrets_withheld: [], warnings: [] } }
        : { status: 200, body: { runs } };

  it('passes when the newest upstream run in the window succeeded', async () => {
    handler = answer([
      { id: 7, scheduled_at: '2026-03-02T00:00:00.000Z', status: 'succeeded' },
      { id: 5, scheduled_at: '2026-03-02T00:00:00.000Z', status: 'failed' },
      { id: 3, scheduled_at: '2026-03-01T00:00:00.000Z', status: 'failed' }, // the window before
    ]);
    const out = await runTask('wait.proj.raw_x20_events', 'poke');
    expect(out.error).toBeUndefined();
    expect(out.result).toBe(true);
    expect(seen.map((s) => `${s.method} ${s.url.split('?')[0]}`)).toEqual([
      'POST /api/v1beta1/project/proj/job/orders/run_input',
      'GET /api/v1beta1/project/proj/job/raw%20events/run',
    ]);
    expect(JSON.parse(seen[0]!.body)).toEqual({
      instance_type: 'task',
      instance_name: 'load',
      scheduled_at: SCHEDULED,
    });
    expect(new URL(seen[1]!.url, base).searchParams.get('before')).toBe('2026-03-02T00:00:01Z');
    expect(seen.every((s) => s.authorization === `Bearer ${AIRFLOW_TOKEN}`)).toBe(true);
  });

  it('keeps waiting while the window’s upstream run failed or has not run yet', async () => {
    handler = answer([{ id: 9, scheduled_at: '2026-03-02T00:00:00Z', status: 'failed' }]);
    expect((await runTask('wait.proj.raw_x20_events', 'poke')).result).toBe(false);
    handler = answer([]);
    const out = await runTask('wait.proj.raw_x20_events', 'poke');
    expect(out.result).toBe(false);
    expect(out.log.join('\n')).toContain('upstream proj/raw events: 0 run time(s) in the window');
  });
});

describe('the http sensor', () => {
  it('passes on a 2xx answer to a GET with the dependency’s params and headers, and waits otherwise', async () => {
    handler = () => ({ status: 200, body: {} });
    const ok = await runTask('http.feed', 'poke');
    expect(ok.result).toBe(true);
    expect(seen[0]!.url).toBe('/feed/ready?day=2026-03-01');
    expect(seen[0]!.headers['x-team']).toBe('data');
    expect(seen[0]!.authorization).toBeUndefined(); // the Optimus token is for the Optimus server only
    handler = () => ({ status: 503, body: {} });
    expect((await runTask('http.feed', 'poke')).result).toBe(false);
  });
});
