/**
 * servePlugin over real child processes, driven by the host's own startRpcProcess: the bundled
 * example plugin (bq2bq) and a small plugin built the same way here, whose handlers exercise
 * concurrency, throwing, logging and shutdown.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RpcProcess, startRpcProcess } from '../../src/plugins/protocol/rpc-process.js';
import { buildSqlResolver, bundlePlugin } from '../helpers/sql-resolver.js';
import { tempDir } from '../plugins/helpers.js';

const TINY = `
import { servePlugin } from '@optimus-ts/plugin-sdk';

// Logged while the module loads, before servePlugin runs: must not reach stdout.
console.log('tiny: starting');

let release: () => void = () => {};
const released = new Promise<void>((resolve) => { release = resolve; });

servePlugin({
  spec: {
    version: 3,
    name: 'tiny',
    plugin_versions: { default: { image: 'docker.io/acme/tiny', tag: '0.1.0', entrypoint: { script: 'tiny' } } },
    mods: ['dependency_resolver'],
  },
  generateDestination: async ({ job }) => {
    console.log('tiny: destination of', job.name);
    console.info({ job: job.name });
    process.stdout.write('raw write from a handler\\n');
    if (job.name === 'throw') throw new Error('cannot work out the destination of job "throw"');
    if (job.name === 'throw-string') throw 'a string';
    // Answers only after a later call arrived: deadlocks unless calls run concurrently.
    if (job.name === 'wait') await released;
    if (job.name === 'release') release();
    if (job.name === 'slow') await new Promise((r) => setTimeout(r, 50));
    return \`bigquery://p:d.\${job.name.replace(/-/g, '_')}\`;
  },
  generateDependencies: ({ job, config }) => [\`bigquery://p:d.\${job.name}_in\`, ...Object.values(config)],
});
`;

let dir: string;
let bq2bq: string;
let tiny: string;
const open: RpcProcess[] = [];

beforeAll(async () => {
  dir = tempDir('optimus-sdk-');
  const source = join(dir, 'tiny.ts');
  writeFileSync(source, TINY);
  [bq2bq, tiny] = await Promise.all([buildSqlResolver(dir), bundlePlugin(source, join(dir, 'tiny'))]);
}, 60_000);

afterAll(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

function start(executable: string, logs: string[] = []): RpcProcess {
  const proc = startRpcProcess(executable, {
    label: 'plugin',
    timeoutMs: 10_000,
    onLog: (l) => logs.push(l),
  });
  open.push(proc);
  return proc;
}

const job = (name: string) => ({ project: 'proj', namespace: 'ns', name, labels: {} });
const params = (name: string, config: Record<string, string> = {}, assets: Record<string, string> = {}) => ({
  job: job(name),
  config,
  assets,
});

/** Writes raw lines to a fresh process, closes its stdin, and returns what it wrote and its exit code. */
function raw(
  executable: string,
  lines: string[],
): Promise<{ stdout: string[]; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(executable, [], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ stdout: stdout.split('\n').filter((l) => l !== ''), stderr, code }),
    );
    child.stdin.end(lines.map((l) => `${l}\n`).join(''));
  });
}

const BQ_CONFIG = { PROJECT: 'acme', DATASET: 'mart', TABLE: 'revenue', LOAD_METHOD: 'APPEND' };

describe('the bundled bq2bq example plugin', () => {
  it('hands its v3 spec in the handshake', async () => {
    const res = await start(bq2bq).call<{ protocol: number; spec: Record<string, unknown> }>('handshake', {
      protocol: 1,
      host: 'optimus',
    });
    expect(res.protocol).toBe(1);
    expect(res.spec).toMatchObject({
      version: 3,
      name: 'bq2bq',
      plugin_versions: { default: { image: 'docker.io/acme/bq2bq', tag: '1.0.0' } },
      default_assets: { 'query.sql': expect.any(String) },
      mods: ['dependency_resolver'],
    });
    expect((res.spec.configs as { name: string; secret?: boolean }[]).find((c) => c.secret)?.name).toBe(
      'BQ_SERVICE_ACCOUNT',
    );
  });

  it('answers its destination from PROJECT, DATASET and TABLE', async () => {
    const res = await start(bq2bq).call('generate_destination', params('revenue', BQ_CONFIG));
    expect(res).toEqual({ destination: 'bigquery://acme:mart.revenue' });
  });

  it('answers the tables query.sql reads, without its destination, with the warnings of what it could not read', async () => {
    const query = [
      'INSERT INTO `acme.mart.revenue`',
      'WITH o AS (SELECT * FROM sales.orders)',
      'SELECT * FROM o JOIN `other-proj.crm.customers` USING (id) JOIN `acme.mart.revenue` USING (id);',
      'MERGE `acme.mart.revenue` T USING `acme.sales.refunds` S ON T.id = S.id WHEN MATCHED THEN DELETE;',
      'SELECT * FROM `acme.x.y` TABLESAMPLE SYSTEM (5 PERCENT)',
    ].join('\n');
    const res = await start(bq2bq).call(
      'generate_dependencies',
      params('revenue', BQ_CONFIG, { 'query.sql': query }),
    );
    expect(res).toEqual({
      dependencies: [
        'bigquery://acme:sales.orders',
        'bigquery://acme:sales.refunds',
        'bigquery://other-proj:crm.customers',
      ],
      warnings: [
        "statement 3 (line 5) could not be parsed: SELECT * FROM `acme.x.y` TABLESAMPLE SYSTEM (5 PERCENT); tables it reads are not inferred, list them under the job's dependencies",
      ],
    });
  });

  it('fails a job whose required configs are missing, naming them, and serves the next job', async () => {
    const proc = start(bq2bq);
    await expect(proc.call('generate_destination', params('j', { PROJECT: 'acme' }))).rejects.toThrow(
      "plugin: missing configs DATASET, TABLE: set them in the job's task config (code -32001)",
    );
    await expect(proc.call('generate_dependencies', params('j', BQ_CONFIG))).rejects.toThrow(
      'the job has no query.sql asset',
    );
    expect(await proc.call('generate_destination', params('j', BQ_CONFIG))).toEqual({
      destination: 'bigquery://acme:mart.revenue',
    });
  });

  it('runs from a folder with no node_modules, as the installer will place it', async () => {
    const { stdout, code } = await raw(bq2bq, [
      '{"jsonrpc":"2.0","id":1,"method":"handshake","params":{"protocol":1}}',
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout[0]!)).toMatchObject({ id: 1, result: { protocol: 1, spec: { name: 'bq2bq' } } });
  });
});

describe('servePlugin', () => {
  it('answers a batch of 500 calls, in one line, each with its own result', async () => {
    const proc = start(tiny);
    const calls = Array.from({ length: 500 }, (_, i) => ({
      method: i % 2 ? 'generate_dependencies' : 'generate_destination',
      params: params(`job${i}`),
    }));
    const results = await proc.batch(calls);
    expect(results).toHaveLength(500);
    results.forEach((r, i) => {
      expect(r).toEqual(
        i % 2 ? { dependencies: [`bigquery://p:d.job${i}_in`] } : { destination: `bigquery://p:d.job${i}` },
      );
    });
    expect(proc.failure()).toBeUndefined();

    const batch = JSON.stringify(calls.map((c, i) => ({ jsonrpc: '2.0', id: i + 1, ...c })));
    const { stdout } = await raw(tiny, [batch]);
    expect(stdout).toHaveLength(1);
    const answers = JSON.parse(stdout[0]!) as { id: number }[];
    expect(answers.map((a) => a.id).sort((a, b) => a - b)).toEqual(calls.map((_, i) => i + 1));
  });

  it('runs calls concurrently: a call waiting for a later one is answered once that one arrives', async () => {
    const proc = start(tiny);
    const waiting = proc.call('generate_destination', params('wait'));
    const releasing = proc.call('generate_destination', params('release'));
    expect(await Promise.all([waiting, releasing])).toEqual([
      { destination: 'bigquery://p:d.wait' },
      { destination: 'bigquery://p:d.release' },
    ]);
  });

  it('answers a throwing handler with its message (no stack) and goes on serving', async () => {
    const proc = start(tiny);
    const thrown = await proc.call('generate_destination', params('throw')).catch((e: Error) => e);
    expect((thrown as Error).message).toBe(
      'plugin: cannot work out the destination of job "throw" (code -32001)',
    );
    const nonError = await proc.call('generate_destination', params('throw-string')).catch((e: Error) => e);
    expect((nonError as Error).message).toBe(
      'plugin: generate_destination failed: the plugin threw "a string", not an Error (code -32603)',
    );
    expect(await proc.call('generate_destination', params('after'))).toEqual({
      destination: 'bigquery://p:d.after',
    });
    expect(proc.failure()).toBeUndefined();
  });

  it('answers a method it does not implement, or an unknown one, with -32601', async () => {
    const proc = start(tiny);
    await expect(proc.call('compile_assets', params('j'))).rejects.toThrow(
      'unknown method "compile_assets": this plugin does not implement it (code -32601)',
    );
    await expect(proc.call('no_such_method', {})).rejects.toThrow(
      'unknown method "no_such_method" (code -32601)',
    );
  });

  it('refuses a protocol it does not speak with -32000', async () => {
    await expect(start(tiny).call('handshake', { protocol: 2 })).rejects.toThrow(
      'unsupported protocol 2: this plugin speaks protocol 1 (code -32000)',
    );
  });

  it('answers params of the wrong shape with -32602 naming the field', async () => {
    const proc = start(tiny);
    await expect(proc.call('generate_destination', { ...params('j'), config: { N: 1 } })).rejects.toThrow(
      'invalid params: "config" must map names to strings (code -32602)',
    );
    await expect(
      proc.call('generate_dependencies', { ...params('j'), assets: ['query.sql'] }),
    ).rejects.toThrow('invalid params: "assets" must map names to strings (code -32602)');
    await expect(proc.call('generate_destination', { config: {} })).rejects.toThrow(
      'invalid params: "job" must be an object (code -32602)',
    );
    await expect(proc.call('generate_destination', 'nope')).rejects.toThrow(
      'invalid params: "params" must be an object (code -32602)',
    );
  });

  it('keeps stdout for responses: console output and direct writes go to stderr', async () => {
    const logs: string[] = [];
    const proc = start(tiny, logs);
    await proc.call('handshake', { protocol: 1 });
    expect(await proc.call('generate_destination', params('noisy'))).toEqual({
      destination: 'bigquery://p:d.noisy',
    });
    await proc.close();
    expect(proc.failure()?.message).toMatch(/exited \(code 0\)/);
    expect(logs).toEqual(
      expect.arrayContaining([
        'tiny: starting',
        'tiny: destination of noisy',
        "{ job: 'noisy' }",
        'raw write from a handler',
      ]),
    );
  });

  it('answers bad JSON and requests that are not objects without stopping, and notifications not at all', async () => {
    const { stdout, code } = await raw(tiny, [
      '{not json',
      '42',
      '[]',
      '[1, {"jsonrpc":"2.0","id":"b","method":"generate_destination","params":{"job":{"name":"in-batch"}}}]',
      '{"jsonrpc":"2.0","method":"generate_destination","params":{"job":{"name":"notified"}}}',
      '[{"jsonrpc":"2.0","method":"generate_destination","params":{"job":{"name":"notified-in-batch"}}}]',
      '{"jsonrpc":"1.0","id":3,"method":"handshake"}',
      '{"jsonrpc":"2.0","id":4,"method":"handshake","params":{"protocol":1}}',
    ]);
    expect(code).toBe(0);
    const answers = stdout.map((l) => JSON.parse(l));
    expect(answers).toHaveLength(6);
    expect(answers).toEqual(
      expect.arrayContaining([
        { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error: the line is not JSON' } },
        {
          jsonrpc: '2.0',
          id: null,
          error: { code: -32600, message: 'invalid request: a request is a JSON object' },
        },
        { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'invalid request: an empty batch' } },
        [
          {
            jsonrpc: '2.0',
            id: null,
            error: { code: -32600, message: 'invalid request: a request is a JSON object' },
          },
          { jsonrpc: '2.0', id: 'b', result: { destination: 'bigquery://p:d.in_batch' } },
        ],
        {
          jsonrpc: '2.0',
          id: 3,
          error: { code: -32600, message: 'invalid request: needs "jsonrpc": "2.0" and a "method" string' },
        },
        expect.objectContaining({ id: 4, result: expect.objectContaining({ protocol: 1 }) }),
      ]),
    );
  });

  it('finishes calls in flight when stdin closes, then exits 0', async () => {
    const { stdout, code } = await raw(tiny, [
      '{"jsonrpc":"2.0","id":1,"method":"generate_destination","params":{"job":{"name":"slow"}}}',
      '[{"jsonrpc":"2.0","id":2,"method":"generate_destination","params":{"job":{"name":"slow"}}},{"jsonrpc":"2.0","id":3,"method":"generate_dependencies","params":{"job":{"name":"x"}}}]',
    ]);
    expect(code).toBe(0);
    expect(stdout.map((l) => JSON.parse(l))).toEqual(
      expect.arrayContaining([
        { jsonrpc: '2.0', id: 1, result: { destination: 'bigquery://p:d.slow' } },
        expect.arrayContaining([
          { jsonrpc: '2.0', id: 2, result: { destination: 'bigquery://p:d.slow' } },
          { jsonrpc: '2.0', id: 3, result: { dependencies: ['bigquery://p:d.x_in'] } },
        ]),
      ]),
    );
    expect(stdout).toHaveLength(2);
  });
});
